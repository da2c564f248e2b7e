/* pool/cq.c: weft_cq, a completion queue read by an event loop through an
 * eventfd, and weft_future_notify, which posts a future to it once done.
 *
 * Design note.
 * Structure. Producers (the threads that complete futures) push entries on a
 * lock-free LIFO stack, `head` (Treiber's push: CAS head from old to node,
 * node->next = old). The one consumer takes the whole stack with one
 * exchange(head, NULL), reverses it into its private `batch` (oldest first)
 * and hands entries out from there. Push-by-CAS against take-all-by-exchange
 * has no ABA problem: nobody pops single nodes by CAS, so a node is never
 * re-pushed while a CAS still holds a stale `next`.
 *
 * States of `head`. IDLE (a sentinel, never a real node): the consumer's
 * last pop returned EAGAIN, so the loop may be asleep in epoll. NULL: the
 * consumer is busy: it took a stack and has not yet been told EAGAIN, so by
 * the contract (cq.h: pop until EAGAIN) it will pop again. Otherwise: a
 * stack, whose bottom node's next is NULL (a push onto IDLE links NULL).
 * Only the consumer stores IDLE or NULL; producers only push.
 *
 * Signalling. A producer whose CAS replaced IDLE writes the eventfd once,
 * after the CAS; pushes onto NULL (consumer busy) or onto a non-empty stack
 * write nothing. So there is at most one write per loop wake-up (plus a
 * rare W2), not one per exchange: completions that arrive while the loop is
 * still popping are picked up by its next pop without a syscall. (The
 * first version wrote on every push onto an empty stack, so also after
 * each exchange the loop made while still popping.)
 *
 * The consumer's pop, finding its private `batch` empty, exchanges head with
 * NULL (an IDLE it finds counts as empty: a pop while idle). Non-empty: it
 * reverses that stack into `batch` and stays busy. Empty: it goes idle: R,
 * reset the fd (one non-blocking read); then C, CAS head from NULL to IDLE.
 * C succeeds: EAGAIN. C fails (a push onto NULL came after the exchange):
 * it takes the stack with a second exchange, writes the fd once more (W2,
 * see below), and returns that stack's oldest entry, still busy.
 *
 * Why no completion is stranded behind an unreadable fd (the loop never
 * sleeps in epoll while completions wait). Take any entry E, and C, the
 * last successful CAS to IDLE before E's push in head's modification order
 * (or the queue's creation, which stores IDLE with the fd reset), with R,
 * the reset before it. C read NULL: everything pushed before C was taken
 * by an earlier exchange. Two cases.
 * (a) No exchange between C and E's push. Then E's push and every push
 * since C stack up on P, the first push after C, which read the IDLE that
 * C stored (only the consumer stores IDLE or NULL), so P writes the fd
 * after its CAS. C is a release RMW and P's successful CAS an acquire one
 * that reads C's value: C synchronizes-with P, so R (sequenced before C)
 * happens-before P's write. The write lands after the reset, and the
 * eventfd counter stays nonzero until the next reset, which comes from a
 * pop after an exchange, and that exchange takes P's stack with E on it.
 * (b) An exchange X between C and E's push. After X the consumer is busy
 * (no successful C until after E's push, by the choice of C), so it pops
 * again; its next successful C reads NULL and comes after E's push, so an
 * exchange in between took E: E is handed out before the next EAGAIN.
 * The argument needs of the eventfd only that a write and a read are
 * ordered by happens-before like the code around them (they are syscalls
 * on one kernel counter under its lock), and of head its modification
 * order and the one release/acquire pair C -> P.
 *
 * The fd is readable while the consumer is busy (or the write that makes it
 * so is on its way): the busy period began by taking a stack whose bottom
 * was pushed onto IDLE, whose write is not reset before the next R; and
 * after an R that does not end the busy period, W2 rewrites it. So a
 * level-triggered loop may also stop popping early (a budget per wake-up)
 * and is woken again at once; only edge-triggered use needs pop until
 * EAGAIN, as any edge-triggered fd does. W2 costs a syscall only when a
 * push falls between the exchange and C.
 *
 * Spurious readability: P's write may land after the consumer already took
 * P's node and went idle; the loop then wakes, pops (exchange finds IDLE:
 * empty), resets the fd and goes idle again, one read for nothing.
 *
 * Hooking into futures. notify links a node into the future's completion
 * hooks (future_impl.h); the hook's fire runs under the future's list lock
 * in the completing thread and pushes the node. Because destroy must be able
 * to detach nodes whose future never completes, nodes notified on a pending
 * future are also kept on `armed`, a list under `armed_lock` (taken by
 * notify, by pop for such nodes, and by nothing that fires: fire runs under
 * the future's list lock, and list_lock is a leaf). destroy removes every
 * armed node's hook (hook_remove waits out a fire in progress), after which
 * `fired` (written under the future's list lock, read after taking it) says
 * whether the node is on the stack or will never be.
 *
 * Lifetime of the queue against posts in flight. A post touches the queue
 * after its CAS only when it is a transition (the write, the counter); by
 * then the consumer may have popped its node, so destroy cannot rely on
 * the hooks alone. A push that may be a transition (it saw IDLE) counts
 * itself in `posting` before its CAS and uncounts after its last use of the
 * queue; destroy, after removing the hooks, waits for `posting` to be 0. A
 * push onto NULL or a non-empty stack never touches the queue after its CAS,
 * so the busy path costs the CAS alone.
 *
 * References: notify retains f for the queue; pop hands that reference to
 * the caller or releases it; destroy releases what is left.
 */
#include "weft/cq.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal/atomics.h"
#include "pool/future_impl.h"

typedef struct cq_node {
    weft__future_hook hook;
    struct cq_node *next;          /* the stack / the consumer's batch */
    struct cq_node *aprev, *anext; /* `armed`, under armed_lock */
    weft_cq *cq;
    weft_future *f; /* the queue's reference */
    void *tag;
    bool armed; /* on `armed` (set before the node is shared) */
    bool fired; /* pushed by fire; under f's list lock (design note) */
} cq_node;

/* Cache-line placement: `head` and the producers' counter share the line the
 * producers write; the consumer's fields sit on their own line. */
struct weft_cq {
    WEFT_CACHE_ALIGNED _Atomic(cq_node *) head;
    _Atomic uint64_t signals;
    _Atomic uint32_t posting; /* posts that may still touch cq (post) */
    WEFT_CACHE_ALIGNED cq_node *batch; /* consumer-private, oldest first */
    _Atomic uint64_t popped;           /* consumer-written */
    _Atomic uint64_t resets;           /* consumer-written */
    int fd;
    pthread_mutex_t armed_lock;
    cq_node armed; /* sentinel of the armed list */
};

/* One eventfd write, counted. */
static void signal_fd(weft_cq *cq)
{
    uint64_t one = 1;
    while (write(cq->fd, &one, sizeof one) < 0) {
        if (errno == EINTR)
            continue;
        /* EAGAIN: the counter is at its maximum, so the fd is readable. */
        if (errno == EAGAIN)
            break;
        weft__die("write(eventfd)", errno);
    }
    atomic_fetch_add_explicit(&cq->signals, 1, memory_order_relaxed);
}

/* The consumer's "idle" mark in head (design note); never dereferenced. */
static cq_node idle_mark;
#define IDLE (&idle_mark)

static void post(weft_cq *cq, cq_node *n)
{
    bool guarded = false;
    cq_node *old = atomic_load_explicit(&cq->head, memory_order_relaxed);
    for (;;) {
        n->next = old == IDLE ? NULL : old;
        if (old == IDLE && !guarded) {
            /* This push may be a transition, which touches cq after the CAS
             * (the write): hold destroy off until then (design note). */
            atomic_fetch_add_explicit(&cq->posting, 1, memory_order_relaxed);
            guarded = true;
        }
        /* release: publishes the node (f, tag, next) to the consumer's
         * acquire exchange in pop, and the posting increment above to
         * destroy, whose pop took this node. acquire: when old is IDLE,
         * pairs with the consumer's release CAS to IDLE in go_idle, so its
         * reset of the fd happens-before our write below (design note). */
        if (atomic_compare_exchange_weak_explicit(&cq->head, &old, n, memory_order_acq_rel,
                                                  memory_order_relaxed))
            break;
    }
    /* From here n may be popped and freed: only cq is used. */
    if (old == IDLE) {
        /* Idle to non-empty: the one write of this wake-up. */
        signal_fd(cq);
    }
    /* release: our last use of cq happens-before destroy's acquire load
     * that sees the count drop. */
    if (guarded)
        atomic_fetch_sub_explicit(&cq->posting, 1, memory_order_release);
}

static void fire(weft__future_hook *h, weft_future *f)
{
    (void)f;
    cq_node *n = (cq_node *)((char *)h - offsetof(cq_node, hook));
    n->fired = true;
    post(n->cq, n);
}

int weft_cq_create(weft_cq **out)
{
    if (out == NULL)
        return EINVAL;
    size_t size = (sizeof(weft_cq) + WEFT_CACHELINE - 1) / WEFT_CACHELINE * WEFT_CACHELINE;
    weft_cq *cq = aligned_alloc(WEFT_CACHELINE, size);
    if (cq == NULL)
        return ENOMEM;
    cq->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (cq->fd < 0) {
        int rc = errno;
        free(cq);
        return rc == ENOMEM || rc == EMFILE || rc == ENFILE ? rc : ENOMEM;
    }
    atomic_init(&cq->head, IDLE); /* idle, with the fd reset (design note) */
    atomic_init(&cq->signals, 0);
    atomic_init(&cq->posting, 0);
    atomic_init(&cq->popped, 0);
    atomic_init(&cq->resets, 0);
    cq->batch = NULL;
    pthread_mutex_init(&cq->armed_lock, NULL);
    cq->armed.anext = cq->armed.aprev = &cq->armed;
    *out = cq;
    return 0;
}

int weft_cq_fd(const weft_cq *cq)
{
    return cq != NULL ? cq->fd : -1;
}

static void armed_unlink_locked(cq_node *n)
{
    n->aprev->anext = n->anext;
    n->anext->aprev = n->aprev;
    n->anext = n->aprev = NULL;
}

int weft_future_notify(weft_future *f, weft_cq *cq, void *tag)
{
    if (f == NULL || cq == NULL)
        return EINVAL;
    cq_node *n = malloc(sizeof *n);
    if (n == NULL)
        return ENOMEM;
    n->hook.fire = fire;
    n->cq = cq;
    n->f = weft_future_retain(f);
    n->tag = tag;
    n->fired = false;
    n->anext = n->aprev = NULL;
    n->armed = !weft_future_done(f);
    if (!n->armed) {
        post(cq, n);
        return 0;
    }
    pthread_mutex_lock(&cq->armed_lock);
    n->anext = cq->armed.anext;
    n->aprev = &cq->armed;
    n->anext->aprev = n;
    cq->armed.anext = n;
    pthread_mutex_unlock(&cq->armed_lock);
    if (!weft__future_hook_add(f, &n->hook)) {
        /* Done meanwhile: not linked, fire will never run; post it here. It
         * stays on `armed` until popped, like any armed node. */
        n->fired = true;
        post(cq, n);
    }
    /* From here n may already be popped and freed: do not touch it. */
    return 0;
}

static cq_node *reverse(cq_node *s)
{
    cq_node *out = NULL;
    while (s != NULL) {
        cq_node *next = s->next;
        s->next = out;
        out = s;
        s = next;
    }
    return out;
}

/* The consumer's single-writer counters (no read-modify-write). */
static void bump(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

/* The consumer found nothing: reset the fd, then mark head IDLE. Returns
 * NULL (idle now) or the stack of pushes that came in between (still busy,
 * the fd written again so that it stays readable while busy). */
static cq_node *go_idle(weft_cq *cq)
{
    uint64_t v;
    while (read(cq->fd, &v, sizeof v) < 0 && errno == EINTR)
        ;
    bump(&cq->resets);
    cq_node *expected = NULL;
    /* release: orders the reset above before the write of the producer
     * whose acquire CAS in post reads this IDLE (design note, C -> P). */
    if (atomic_compare_exchange_strong_explicit(&cq->head, &expected, IDLE, memory_order_release,
                                                memory_order_relaxed))
        return NULL;
    /* acquire: pairs with the release CAS in post, for every node taken. */
    cq_node *s = atomic_exchange_explicit(&cq->head, NULL, memory_order_acquire);
    signal_fd(cq); /* W2 (design note) */
    return s;
}

int weft_cq_pop(weft_cq *cq, weft_future **f, void **tag)
{
    if (cq == NULL)
        return EINVAL;
    if (cq->batch == NULL) {
        /* acquire: pairs with the release CAS in post, for every node taken. */
        cq_node *s = atomic_exchange_explicit(&cq->head, NULL, memory_order_acquire);
        if (s == IDLE || s == NULL) {
            s = go_idle(cq);
            if (s == NULL)
                return EAGAIN;
        }
        cq->batch = reverse(s);
    }
    cq_node *n = cq->batch;
    cq->batch = n->next;
    if (n->armed) {
        pthread_mutex_lock(&cq->armed_lock);
        armed_unlink_locked(n);
        pthread_mutex_unlock(&cq->armed_lock);
    }
    if (f != NULL)
        *f = n->f;
    else
        weft_future_release(n->f);
    if (tag != NULL)
        *tag = n->tag;
    free(n);
    bump(&cq->popped);
    return 0;
}

int weft_cq_stats(const weft_cq *cq, weft_cq_counters *out)
{
    if (cq == NULL || out == NULL)
        return EINVAL;
    out->popped = atomic_load_explicit(&cq->popped, memory_order_relaxed);
    out->signals = atomic_load_explicit(&cq->signals, memory_order_relaxed);
    out->resets = atomic_load_explicit(&cq->resets, memory_order_relaxed);
    return 0;
}

static void free_list(cq_node *s)
{
    while (s != NULL) {
        cq_node *next = s->next;
        weft_future_release(s->f);
        free(s);
        s = next;
    }
}

void weft_cq_destroy(weft_cq *cq)
{
    if (cq == NULL)
        return;
    /* No notify or pop runs now (the contract), so `armed` is stable. After
     * each hook_remove that node's fire has run or never will. */
    for (cq_node *n = cq->armed.anext; n != &cq->armed; n = n->anext)
        weft__future_hook_remove(n->f, &n->hook);
    for (cq_node *n = cq->armed.anext, *next; n != &cq->armed; n = next) {
        next = n->anext;
        if (!n->fired) {
            weft_future_release(n->f);
            free(n);
        }
    }
    /* A post whose node was popped may still be writing the fd. acquire:
     * pairs with the release decrement at the end of post. */
    while (atomic_load_explicit(&cq->posting, memory_order_acquire) != 0)
        sched_yield();
    /* acquire: pairs with the release CAS in post (the last fires). */
    cq_node *s = atomic_exchange_explicit(&cq->head, NULL, memory_order_acquire);
    free_list(s == IDLE ? NULL : s);
    free_list(cq->batch);
    close(cq->fd);
    pthread_mutex_destroy(&cq->armed_lock);
    free(cq);
}
