/* pool/as_completed.c: weft_as_completed_* and weft_wait, without polling.
 *
 * Design note. Python's as_completed installs a waiter object in every
 * future and sleeps on its event; we do the same with intrusive completion
 * hooks (future_impl.h) and an eventcount.
 *
 * An iterator over m distinct futures owns m entries. Entry i holds the hook
 * linked into future i and a reference to it. The entries' `slot` fields form
 * a separate array, the completion log: a future that completes (or was done
 * at begin) claims the next log index with a fetch_add on `tail` and stores
 * itself there; the consumer reads the log in index order from `head`.
 * Invariants:
 *   - each distinct future is pushed at most once (its hook fires at most once,
 *     and begin pushes only futures whose hook_add refused them), so
 *     tail <= m and each log slot is written at most once;
 *   - slot[k] != NULL once the k-th push is published; head <= tail;
 *   - yielded = head, so after m yields next returns ENOENT.
 * A push stores the slot (release) and then notifies the eventcount; the
 * consumer prepares, re-checks slot[head], and waits: the eventcount's
 * store/fence/load protocol guarantees it cannot sleep through a push. Two
 * pushes may publish out of index order; the consumer then briefly waits for
 * the earlier one, whose pusher is running its hook under the future's list
 * lock and does not block.
 *
 * Lifetime (the delicate part): hooks fire in the completing thread while it
 * holds that future's list lock, and weft__future_hook_remove takes the same
 * lock. end() removes every hook before freeing, so by the time free() runs,
 * every fire has either finished or been prevented: nothing can touch the
 * iterator afterwards. The iterator's own future references keep each future
 * (and its lock) alive until its hook is removed.
 *
 * weft_wait is an as_completed iteration that stops as soon as return_when
 * holds, exactly like Python's waiters.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal/atomics.h"
#include "pool/future_impl.h"
#include "sched/help.h"
#include "sync/eventcount.h"

typedef struct entry {
    weft__future_hook hook; /* first: fire() converts the hook back */
    weft_as_completed *it;
    weft_future *f;
    _Atomic(weft_future *) slot; /* completion log, index = completion rank */
} entry;

static_assert(offsetof(entry, hook) == 0, "fire() casts the hook to its entry");

/* Cache placement: tail and ec are written by completing threads, head only by
 * the consumer; they are all touched once per completion, so splitting them
 * would buy little for the extra lines. */
struct weft_as_completed {
    weft__eventcount ec;
    _Atomic size_t tail; /* next free log index (completers) */
    size_t head;         /* next log index to yield (consumer only) */
    size_t m;            /* distinct futures */
    weft__deadline deadline;
    entry e[];
};

static void push(weft_as_completed *it, weft_future *f)
{
    /* The index is only a ticket; the slot store below publishes. */
    size_t k = atomic_fetch_add_explicit(&it->tail, 1, memory_order_relaxed);
    assert(k < it->m);
    /* release: pairs with the consumer's acquire load of the slot in next(),
     * carrying this thread's final-state CAS on f with it, so a yielded future
     * always reads as done. */
    atomic_store_explicit(&it->e[k].slot, f, memory_order_release);
    weft__ec_notify(&it->ec, 1);
}

static void fire(weft__future_hook *h, weft_future *f)
{
    entry *e = (entry *)h;
    push(e->it, f);
}

typedef struct key {
    uintptr_t f;
    size_t i;
} key;

static int key_cmp(const void *a, const void *b)
{
    const key *x = a, *y = b;
    if (x->f != y->f)
        return x->f < y->f ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Sets keep[i] for the first occurrence of each distinct future of fs.
 * 0 or ENOMEM. */
static int mark_first(weft_future *const *fs, size_t n, bool *keep)
{
    if (n == 0)
        return 0;
    if (n > SIZE_MAX / sizeof(key))
        return ENOMEM;
    key *k = malloc(n * sizeof *k);
    if (k == NULL)
        return ENOMEM;
    for (size_t i = 0; i < n; i++) {
        k[i].f = (uintptr_t)fs[i];
        k[i].i = i;
    }
    qsort(k, n, sizeof *k, key_cmp);
    for (size_t j = 0; j < n; j++)
        keep[k[j].i] = j == 0 || k[j].f != k[j - 1].f;
    free(k);
    return 0;
}

int weft_as_completed_begin(weft_as_completed **itp, weft_future *const *fs, size_t n, double timeout)
{
    weft__deadline d;
    if (itp == NULL || (fs == NULL && n > 0) || weft__deadline_init(&d, timeout) != 0)
        return EINVAL;
    for (size_t i = 0; i < n; i++)
        if (fs[i] == NULL)
            return EINVAL;
    if (n > (SIZE_MAX - sizeof(weft_as_completed)) / (sizeof(entry) + 1))
        return ENOMEM;
    weft_as_completed *it = malloc(sizeof *it + n * sizeof(entry));
    bool *keep = malloc(n + 1);
    if (it == NULL || keep == NULL || mark_first(fs, n, keep) != 0) {
        free(it);
        free(keep);
        return ENOMEM;
    }
    weft__ec_init(&it->ec);
    atomic_init(&it->tail, 0);
    it->head = 0;
    it->deadline = d;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        entry *e = &it->e[m++];
        e->it = it;
        e->f = weft_future_retain(fs[i]);
        e->hook.fire = fire;
        atomic_init(&e->slot, NULL);
    }
    free(keep);
    /* Every slot must be initialised before the first hook can push. */
    it->m = m;
    for (size_t i = 0; i < m; i++) {
        entry *e = &it->e[i];
        if (!weft__future_hook_add(e->f, &e->hook))
            push(it, e->f);
    }
    *itp = it;
    return 0;
}

static bool head_ready(void *ctx)
{
    weft_as_completed *it = ctx;
    /* acquire: pairs with the release store in push(). */
    return atomic_load_explicit(&it->e[it->head].slot, memory_order_acquire) != NULL;
}

int weft_as_completed_next(weft_as_completed *it, weft_future **out)
{
    if (it == NULL || out == NULL)
        return EINVAL;
    if (it->head == it->m)
        return ENOENT;
    _Atomic(weft_future *) *slot = &it->e[it->head].slot;
    for (;;) {
        /* acquire: pairs with the release store in push(). */
        weft_future *f = atomic_load_explicit(slot, memory_order_acquire);
        if (f != NULL) {
            it->head++;
            *out = f;
            return 0;
        }
        if (weft__deadline_passed(&it->deadline))
            return ETIMEDOUT;
        if (weft__sched_in_worker()) {
            /* 0 means the slot is ready; ETIMEDOUT is re-checked above. */
            (void)weft__sched_help_until(head_ready, it, &it->deadline);
            continue;
        }
        uint32_t key = weft__ec_prepare(&it->ec);
        if (head_ready(it)) {
            weft__ec_cancel(&it->ec);
            continue;
        }
        (void)weft__ec_wait(&it->ec, key, &it->deadline); /* either way, loop re-checks */
    }
}

void weft_as_completed_end(weft_as_completed *it)
{
    if (it == NULL)
        return;
    for (size_t i = 0; i < it->m; i++) {
        entry *e = &it->e[i];
        weft__future_hook_remove(e->f, &e->hook);
        weft_future_release(e->f);
    }
    free(it);
}

/* Whether a yielded (hence done) future ends a FIRST_EXCEPTION wait. */
static bool raised(weft_future *f)
{
    return !weft_future_cancelled(f) && weft_future_exception(f, 0) != 0;
}

int weft_wait(weft_future *const *fs, size_t n, double timeout, weft_return_when return_when, size_t *ndone)
{
    if (return_when != WEFT_FIRST_COMPLETED && return_when != WEFT_FIRST_EXCEPTION &&
        return_when != WEFT_ALL_COMPLETED)
        return EINVAL;
    weft_as_completed *it;
    int rc = weft_as_completed_begin(&it, fs, n, timeout);
    if (rc != 0)
        return rc;
    weft_future *f;
    while ((rc = weft_as_completed_next(it, &f)) == 0) {
        if (return_when == WEFT_FIRST_COMPLETED || (return_when == WEFT_FIRST_EXCEPTION && raised(f)))
            break;
    }
    if (rc == ENOENT)
        rc = 0; /* all done: every return_when holds */
    if (ndone != NULL) {
        size_t k = 0;
        for (size_t i = 0; i < it->m; i++)
            k += weft_future_done(it->e[i].f);
        *ndone = k;
    }
    weft_as_completed_end(it);
    return rc;
}
