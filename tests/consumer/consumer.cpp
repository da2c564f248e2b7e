// A strict C++ consumer of weft: the same checks as consumer.c, written as a
// C++ program would use the C API (RAII guards, std::vector), plus a
// comparison of every public struct's layout with what the C compiler made of
// it (layout.h, layout_c.c). Exits 0 when every check holds.
#include <poll.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include <weft.h>

#include "layout.h"

#include "initialisers.inc"

namespace
{

const int ntasks = 64;
unsigned long counter; // guarded by init_lock

// A scoped weft_lock, as a C++ program would wrap it.
class lock_guard
{
  public:
    explicit lock_guard(weft_lock &l) : l_(l), rc_(weft_lock_acquire(&l, WEFT_FOREVER))
    {
    }
    ~lock_guard()
    {
        if (rc_ == 0)
            weft_lock_release(&l_);
    }
    lock_guard(const lock_guard &) = delete;
    lock_guard &operator=(const lock_guard &) = delete;
    bool ok() const
    {
        return rc_ == 0;
    }

  private:
    weft_lock &l_;
    int rc_;
};

int square(void *arg, void **result)
{
    std::uintptr_t v = reinterpret_cast<std::uintptr_t>(arg);
    {
        lock_guard g(init_lock);
        if (!g.ok())
            return EIO;
        counter++;
    }
    *result = reinterpret_cast<void *>(v * v);
    return v == ntasks ? EDOM : 0; // one task fails on purpose
}

int set_event(void *arg, void **)
{
    weft_event_set(static_cast<weft_event *>(arg));
    return 0;
}

bool check(bool c, const char *what, int line)
{
    if (!c)
        std::fprintf(stderr, "consumer (C++): check failed: %s (line %d)\n", what, line);
    return c;
}
#define CHECK(c)                                                                                             \
    do {                                                                                                     \
        if (!check((c), #c, __LINE__))                                                                       \
            return 1;                                                                                        \
    } while (0)

int check_layout()
{
#define CONSUMER_ENTRY(e) (e),
    const std::vector<std::size_t> cxx = {CONSUMER_LAYOUT(CONSUMER_ENTRY)};
    CHECK(cxx.size() == consumer_layout_c_n);
    for (std::size_t i = 0; i < cxx.size(); i++)
        if (cxx[i] != consumer_layout_c[i]) {
            std::fprintf(stderr, "consumer (C++): layout entry %zu is %zu in C++, %zu in C\n", i, cxx[i],
                         consumer_layout_c[i]);
            return 1;
        }
    return 0;
}

int check_cq(weft_pool *pool)
{
    weft_cq *cq;
    CHECK(weft_cq_create(&cq) == 0);
    for (std::uintptr_t i = 1; i <= 8; i++) {
        weft_future *f;
        CHECK(weft_pool_submit(pool, square, reinterpret_cast<void *>(i), &f) == 0);
        CHECK(weft_future_notify(f, cq, reinterpret_cast<void *>(i)) == 0);
        weft_future_release(f);
    }
    for (std::size_t popped = 0; popped < 8;) {
        pollfd pfd = {weft_cq_fd(cq), POLLIN, 0};
        CHECK(poll(&pfd, 1, 10000) == 1);
        weft_future *f;
        void *tag;
        while (weft_cq_pop(cq, &f, &tag) == 0) {
            void *r = nullptr;
            CHECK(weft_future_result(f, 0, &r) == 0);
            std::uintptr_t t = reinterpret_cast<std::uintptr_t>(tag);
            CHECK(reinterpret_cast<std::uintptr_t>(r) == t * t);
            weft_future_release(f);
            popped++;
        }
    }
    weft_cq_destroy(cq);
    return 0;
}

} // namespace

int main()
{
    CHECK(check_layout() == 0);
    CHECK(initialisers_sane());
    CHECK(std::strcmp(weft_version(), WEFT_VERSION_STRING) == 0);

    weft_pool_options opts = WEFT_POOL_OPTIONS_INIT;
    opts.max_workers = 2;
    opts.thread_name_prefix = "consumer";
    weft_pool *pool;
    CHECK(weft_pool_create(&pool, &opts) == 0);

    std::vector<weft_future *> fs(ntasks);
    for (int i = 0; i < ntasks; i++)
        CHECK(weft_pool_submit(pool, square, reinterpret_cast<void *>(std::uintptr_t(i + 1)), &fs[i]) == 0);
    std::size_t ndone = 0;
    CHECK(weft_wait(fs.data(), fs.size(), WEFT_FOREVER, WEFT_ALL_COMPLETED, &ndone) == 0 &&
          ndone == fs.size());
    std::uintptr_t sum = 0;
    for (int i = 0; i < ntasks; i++) {
        void *r = nullptr;
        int rc = weft_future_result(fs[i], WEFT_FOREVER, &r);
        std::uintptr_t v = std::uintptr_t(i + 1);
        if (i + 1 == ntasks)
            CHECK(rc == EDOM && weft_future_exception(fs[i], 0) == EDOM);
        else
            CHECK(rc == 0 && reinterpret_cast<std::uintptr_t>(r) == v * v);
        sum += reinterpret_cast<std::uintptr_t>(r);
        weft_future_release(fs[i]);
    }
    CHECK(counter == ntasks && sum == std::uintptr_t(ntasks - 1) * ntasks * (2 * ntasks - 1) / 6);

    CHECK(weft_rlock_acquire(&init_rlock, WEFT_FOREVER) == 0 && weft_rlock_acquire(&init_rlock, 0) == 0);
    CHECK(weft_rlock_release(&init_rlock) == 0 && weft_rlock_release(&init_rlock) == 0);
    CHECK(weft_rlock_release(&init_rlock) == EPERM);

    weft_event ev = WEFT_EVENT_INIT;
    weft_future *ev_f;
    CHECK(weft_pool_submit(pool, set_event, &ev, &ev_f) == 0);
    CHECK(weft_event_wait(&ev, WEFT_FOREVER) == 0);
    CHECK(weft_future_result(ev_f, WEFT_FOREVER, nullptr) == 0);
    weft_future_release(ev_f);

    CHECK(check_cq(pool) == 0);
    weft_pool_destroy(pool);
    std::printf("consumer (C++): ok, completion queue included, layout matches C\n");
    return 0;
}
