/* sched/frames.h: the per-worker frame stack under weft_spawn / weft_sync,
 * a split deque of inline task frames. Internal.
 *
 * A frame is (fn, arg) plus the word a thief uses to hand it back. The
 * owner spawns by writing the next frame and bumping its private head: a few
 * plain stores. The stack is split in two at `split`: frames below it are
 * shared (thieves take the oldest, at `tail`), frames at or above it are
 * private and only the owner touches them, so the join of a private frame is
 * a plain pop and a direct call: no allocation, no atomic read-modify-write,
 * no fence. Thieves that find the shared part empty ask the owner to share
 * more; the owner answers at its next spawn. This is the split
 * deque of Lace (van Dijk and van de Pol, "Lace: non-blocking split deque for
 * work-stealing", Euro-Par 2014 workshops), with Wool's leapfrogging
 * (Faxen): a joiner whose frame was stolen steals back from the thief.
 *
 * Concurrency matrix:
 *
 *                      | spawn | sync | share | steal | visible
 *   -------------------+-------+------+-------+-------+--------
 *   spawn/sync (owner) |  no   |  no  |  no   |  ok   |   ok
 *   share (owner)      |  no   |  no  |  no   |  ok   |   ok
 *   steal (any worker) |  ok   |  ok  |  ok   |  ok   |   ok
 *   visible (any)      |  ok   |  ok  |  ok   |  ok   |   ok
 *
 * The design note, the C11 argument and the helping rule: frames.c.
 */
#ifndef WEFT_SCHED_FRAMES_H
#define WEFT_SCHED_FRAMES_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal/atomics.h"

/* Frames per worker. A spawn that finds the stack full runs fn at once (it
 * stays correct, only unshared). */
#define WEFT__FRAMES_CAP 1024u

/* Frame states (state word): the low 3 bits are the state, the rest a
 * generation that every steal of the frame bumps, so that "this frame is
 * still stolen by the same thief" is one comparison (leapfrogging, frames.c).
 * The owner writes QUEUED when it got a stolen frame back; a thief writes
 * STOLEN (with thief and base first) and DONE when fn returned; WAITERS is
 * or-ed in by a joiner that sleeps on the word (a futex). */
#define WEFT__FRAME_QUEUED  0u
#define WEFT__FRAME_STOLEN  1u
#define WEFT__FRAME_DONE    2u
#define WEFT__FRAME_WAITERS 4u
#define WEFT__FRAME_FLAGS   7u
#define WEFT__FRAME_GEN     8u

typedef struct weft__frame {
    void (*fn)(void *arg);
    void *arg;
    _Atomic uint32_t state;
    /* Written (relaxed) by the thief before its release store of STOLEN:
     * its worker index, and its own frame head when it took this frame (the
     * frames it pushes while running fn sit at or above base: leapfrogging
     * takes only those). Atomic because leapfrogging joiners read them while
     * a later thief of a reused frame may write them (they validate with the
     * generation in state, a seqlock). */
    _Atomic uint32_t thief, base;
    uint32_t pad_;
} weft__frame;

static_assert(sizeof(weft__frame) == 32, "frames are 32 bytes: two per cache line");

/* ts packs tail (bits 0-15), split (16-31) and a generation (32-63) bumped by
 * every owner update, so that a thief's CAS from a stale value fails even if
 * tail and split came back to the same numbers (ABA), see frames.c. */
#define WEFT__TS_TAIL(ts)  ((uint32_t)((ts)&0xffffu))
#define WEFT__TS_SPLIT(ts) ((uint32_t)(((ts) >> 16) & 0xffffu))
#define WEFT__TS_GEN(ts)   ((uint32_t)((ts) >> 32))
#define WEFT__TS(tail, split, gen) ((uint64_t)(tail) | ((uint64_t)(split) << 16) | ((uint64_t)(gen) << 32))

static_assert(WEFT__FRAMES_CAP <= 0xffffu, "tail and split fit 16 bits");

/* Cache-line placement: ts is written by thieves (and by the owner on its
 * slow paths) on a line of its own; top is written by the owner on every
 * spawn and read by thieves only as a hint; limit is written by thieves
 * only when they ask for work; the rest is owner-only. */
typedef struct weft__frames {
    WEFT_CACHE_ALIGNED _Atomic uint64_t ts;
    /* Owner: the next free frame (head = top - slot), written with relaxed
     * stores (plain moves); thieves read it only as a hint of private work. */
    WEFT_CACHE_ALIGNED _Atomic(weft__frame *) top;
    /* A spawn at or above limit takes the slow path. limit is end, or slot
     * once a thief asked the owner to share more (the request: one relaxed
     * store; Lace's movesplit flag folded into the bound that spawn checks
     * anyway, so asking costs the fast path nothing). */
    _Atomic(weft__frame *) limit;
    /* Owner-only. A sync whose frame is at or above floor is private and the
     * running task's own: floor = slot + max(osplit, base), or end while
     * overflow > 0 (so that sync takes its slow path, which counts those). */
    weft__frame *floor;
    weft__frame *end;  /* slot + WEFT__FRAMES_CAP */
    weft__frame *slot; /* WEFT__FRAMES_CAP frames */
    uint32_t osplit;    /* owner's copy of split (only the owner changes split) */
    uint32_t base;      /* head when the running task began: its frames lie above */
    uint32_t overflow;  /* spawns run at once because the stack was full */
    uint32_t obase;     /* overflow when the running task began */
    struct weft__worker *owner;
} weft__frames;

/* The calling thread's frame stack when it is a worker of a stealing pool,
 * else NULL (initial-exec TLS, as weft__tls_worker). */
extern _Thread_local weft__frames *weft__tls_frames __attribute__((tls_model("initial-exec")));

static inline uint32_t weft__frames_head(const weft__frames *f)
{
    return (uint32_t)(atomic_load_explicit(&f->top, memory_order_relaxed) - f->slot);
}

/* Owner: recomputes floor after osplit, base or overflow changed. */
static inline void weft__frames_refloor(weft__frames *f)
{
    uint32_t b = f->base > f->osplit ? f->base : f->osplit;
    f->floor = f->overflow != 0 ? f->end : f->slot + b;
}

/* Owner: answer a request of its own at the next spawn (share it and issue
 * the fenced wake-up), as if a thief had asked: the worker loop does this
 * before a loop-level task while workers sleep, since nothing else would
 * wake one for the task's weft_spawns (frames.c, "Asking for work"). */
static inline void weft__frames_share_next(weft__frames *f)
{
    if (atomic_load_explicit(&f->limit, memory_order_relaxed) != f->slot)
        atomic_store_explicit(&f->limit, f->slot, memory_order_relaxed);
}

struct weft__worker;
int weft__frames_init(weft__frames *f, struct weft__worker *owner);
void weft__frames_deinit(weft__frames *f);

/* Joins the running task's frames left unjoined (frames.c). */
void weft__frames_sync_to_base(weft__frames *f);

/* Around every task a worker runs (loop, helped, stolen frame): enter makes
 * the frames above the current head the task's own and returns the outer
 * task's view; leave joins what the task left unjoined (the implicit sync)
 * and restores the outer view. Owner only. */
static inline uint64_t weft__frames_enter(weft__frames *f)
{
    uint64_t saved = (uint64_t)f->base | (uint64_t)f->obase << 32;
    weft__frame *top = atomic_load_explicit(&f->top, memory_order_relaxed);
    f->base = (uint32_t)(top - f->slot);
    f->obase = f->overflow;
    if (f->overflow == 0)
        f->floor = top; /* osplit <= head: max(osplit, base) is head */
    return saved;
}

static inline void weft__frames_leave(weft__frames *f, uint64_t saved)
{
    if (WEFT_UNLIKELY(weft__frames_head(f) != f->base || f->overflow != f->obase))
        weft__frames_sync_to_base(f);
    f->base = (uint32_t)saved;
    f->obase = (uint32_t)(saved >> 32);
    weft__frames_refloor(f);
}

/* Around a user function run as (part of) a task, before the task's
 * completion is published (future, group count, loop piece, map item):
 *     uint64_t m = weft__frames_mark();  fn(...);  weft__frames_join_to(m);
 * joins the weft_spawn frames fn left unjoined, so that "the task finished"
 * implies "its spawns finished" (the implicit sync). A TLS load and a
 * compare each when there is nothing to join. Any thread. */
void weft__frames_join_slow(weft__frames *f, uint64_t mark);

static inline uint64_t weft__frames_mark(void)
{
    weft__frames *f = weft__tls_frames;
    return f == NULL ? 0 : (uint64_t)weft__frames_head(f) | (uint64_t)f->overflow << 32;
}

static inline void weft__frames_join_to(uint64_t mark)
{
    weft__frames *f = weft__tls_frames;
    if (f != NULL && WEFT_UNLIKELY(((uint64_t)weft__frames_head(f) | (uint64_t)f->overflow << 32) != mark))
        weft__frames_join_slow(f, mark);
}

#endif /* WEFT_SCHED_FRAMES_H */
