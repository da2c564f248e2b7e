// bench/peer_tbb.cc: the oneTBB contenders, behind C calls that the C cases
// use. Only what must be C++ lives here: each function is the TBB twin of the
// weft code of one case (named after it), written the way TBB's own examples
// write it (task_group for fork-join, parallel_for with a blocked_range).
//
// Thread count: a task_arena of T slots, with global_control raising TBB's
// process-wide limit to T (by default it stops at the number of CPUs). The
// calling thread takes one slot when it enters the arena with execute(), as
// in TBB programs; weft's caller instead waits outside its pool.
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/mutex.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <atomic>
#include <memory>
#include <new>

#include "bench.h"
#include "peer_tbb.h"

namespace
{

struct Tbb {
    explicit Tbb(int threads)
        : limit(tbb::global_control::max_allowed_parallelism, (size_t)threads), arena(threads)
    {
        arena.initialize();
    }
    tbb::global_control limit;
    tbb::task_arena arena;
};

Tbb *as_tbb(void *t)
{
    return static_cast<Tbb *>(t);
}

uint64_t fib2(int n)
{
    if (n < 2)
        return (uint64_t)n;
    uint64_t a = 0, b = 0;
    tbb::task_group g;
    g.run([&] { a = fib2(n - 1); });
    g.run([&] { b = fib2(n - 2); });
    g.wait();
    return a + b;
}

uint64_t fib1(int n)
{
    if (n < 2)
        return (uint64_t)n;
    uint64_t a = 0;
    tbb::task_group g;
    g.run([&] { a = fib1(n - 1); });
    uint64_t b = fib1(n - 2);
    g.wait();
    return a + b;
}

uint64_t skynet(uint64_t num, uint64_t size, uint64_t div)
{
    if (size == 1)
        return num;
    uint64_t part[WB_SKYNET_MAX_DIV];
    tbb::task_group g;
    for (uint64_t i = 0; i < div; i++)
        g.run([&part, i, num, size, div] { part[i] = skynet(num + i * (size / div), size / div, div); });
    g.wait();
    uint64_t sum = 0;
    for (uint64_t i = 0; i < div; i++)
        sum += part[i];
    return sum;
}

uint64_t nqueens(int n, int row, uint32_t cols, uint32_t d1, uint32_t d2)
{
    if (row == n)
        return 1;
    uint64_t found[32] = {0};
    uint32_t free_ = ~(cols | d1 | d2) & ((1u << n) - 1);
    tbb::task_group g;
    while (free_ != 0) {
        uint32_t bit = free_ & -free_;
        free_ &= free_ - 1;
        int k = __builtin_ctz(bit);
        g.run([&found, k, n, row, cols, d1, d2, bit] {
            found[k] = nqueens(n, row + 1, cols | bit, (d1 | bit) << 1, (d2 | bit) >> 1);
        });
    }
    g.wait();
    uint64_t sum = 0;
    for (int k = 0; k < n; k++)
        sum += found[k];
    return sum;
}

uint64_t tree(uint64_t count)
{
    if (count == 0)
        return 0;
    uint64_t left = (count - 1) / 2, right = count - 1 - left;
    uint64_t a = 0, b = 0;
    tbb::task_group g;
    g.run([&] { a = tree(left); });
    g.run([&] { b = tree(right); });
    g.wait();
    return a + b + 1;
}

} // namespace

extern "C" {

void *wb_tbb_mutex_create(void)
{
    return new tbb::mutex();
}

void wb_tbb_mutex_destroy(void *m)
{
    delete static_cast<tbb::mutex *>(m);
}

void wb_tbb_mutex_lock(void *m)
{
    static_cast<tbb::mutex *>(m)->lock();
}

void wb_tbb_mutex_unlock(void *m)
{
    static_cast<tbb::mutex *>(m)->unlock();
}

void *wb_tbb_create(int threads)
{
    try {
        return new Tbb(threads);
    } catch (...) {
        return nullptr;
    }
}

void wb_tbb_destroy(void *t)
{
    delete as_tbb(t);
}

void wb_tbb_enqueue(void *t, void (*fn)(void *), void *arg)
{
    as_tbb(t)->arena.enqueue([fn, arg] { fn(arg); });
}

uint64_t wb_tbb_fib(void *t, int n, int spawns)
{
    uint64_t r = 0;
    as_tbb(t)->arena.execute([&] { r = spawns == 1 ? fib1(n) : fib2(n); });
    return r;
}

uint64_t wb_tbb_skynet(void *t, uint64_t size, uint64_t div)
{
    uint64_t r = 0;
    as_tbb(t)->arena.execute([&] { r = skynet(0, size, div); });
    return r;
}

uint64_t wb_tbb_nqueens(void *t, int n)
{
    uint64_t r = 0;
    as_tbb(t)->arena.execute([&] { r = nqueens(n, 0, 0, 0, 0); });
    return r;
}

uint64_t wb_tbb_tree(void *t, uint64_t nodes)
{
    uint64_t r = 0;
    as_tbb(t)->arena.execute([&] { r = tree(nodes); });
    return r;
}

void wb_tbb_parallel_for(void *t, size_t begin, size_t end, size_t grain,
                         void (*body)(void *ctx, size_t lo, size_t hi), void *ctx)
{
    as_tbb(t)->arena.execute([&] {
        tbb::parallel_for(tbb::blocked_range<size_t>(begin, end, grain),
                          [&](const tbb::blocked_range<size_t> &r) { body(ctx, r.begin(), r.end()); });
    });
}

void wb_tbb_parallel_for_chunked(void *t, size_t begin, size_t end, size_t chunk,
                                 void (*body)(void *ctx, size_t lo, size_t hi), void *ctx)
{
    as_tbb(t)->arena.execute([&] {
        tbb::parallel_for(
            tbb::blocked_range<size_t>(begin, end, chunk),
            [&](const tbb::blocked_range<size_t> &r) { body(ctx, r.begin(), r.end()); },
            tbb::simple_partitioner());
    });
}

static_assert(sizeof(tbb::task_group) <= WB_TBB_GROUP_BYTES, "wb_tbb_group too small");
static_assert(alignof(tbb::task_group) <= alignof(max_align_t), "wb_tbb_group under-aligned");

void wb_tbb_group_init(wb_tbb_group *g)
{
    new (g->opaque) tbb::task_group();
}

void wb_tbb_group_run(wb_tbb_group *g, void (*fn)(void *), void *arg)
{
    std::launder(reinterpret_cast<tbb::task_group *>(g->opaque))->run([fn, arg] { fn(arg); });
}

void wb_tbb_group_wait(wb_tbb_group *g)
{
    auto *tg = std::launder(reinterpret_cast<tbb::task_group *>(g->opaque));
    tg->wait();
    tg->~task_group();
}

void wb_tbb_execute(void *t, void (*fn)(void *), void *arg)
{
    as_tbb(t)->arena.execute([fn, arg] { fn(arg); });
}

} // extern "C"
