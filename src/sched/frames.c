/* sched/frames.c: weft_spawn / weft_sync on the per-worker split frame stack
 * (frames.h).
 *
 * Design note.
 * State. slot[0 .. head) are the worker's frames, oldest first; ts packs
 * (tail, split, gen). Frames in [tail, split) are shared: a thief may take
 * the one at tail. Frames in [split, head) are private. Frames below tail
 * were taken by thieves (or are being joined). osplit is the owner's copy of
 * split: only the owner changes split, always with a CAS on ts that also
 * bumps gen; thieves change only tail, by CAS tail -> tail + 1.
 *
 * Invariants.
 *  F1. tail <= split <= head (head may drop below split only inside sync,
 *      which fixes ts before returning) and split == osplit.
 *  F2. The frame at index i < tail was claimed by exactly one thief CAS.
 *  F3. The owner writes a frame only at index head (spawn), which is >=
 *      split, so never a frame that a thief may claim or is reading.
 *  F4. A frame claimed by a thief is not reused by the owner before the
 *      owner read DONE in its state (acquire), and the thief touches the
 *      frame no more once it wrote DONE.
 *
 * Why it is correct (C11, not only x86).
 *  Spawn writes fn, arg and state with plain (relaxed) stores above split:
 *  no thief reads them (F3) until a later share publishes them.
 *  Share (the owner answering a request, or about to sleep) moves split up
 *  with a CAS on ts, release: a thief's acquire load (or acquire CAS) of ts
 *  that reads this value or any later one reads from its release sequence
 *  (every later write of ts is an RMW), so it sees the frames' fields.
 *  Steal: load ts (acquire); if tail < split, CAS (tail, split, gen) ->
 *  (tail + 1, split, gen). Success means that no owner update and no other
 *  steal intervened (one word, one modification order), so the frame at
 *  tail was shared and is now this thief's alone (F2).
 *  Sync of frame i = head - 1:
 *   - i >= osplit: private. No thief can claim it (claims need i < split),
 *     so the owner pops it with plain stores and calls fn directly: the fast
 *     path has no RMW and no fence. Chase-Lev's pop needs a fence because its
 *     owner and its thieves race for the same end through different words;
 *     here the private part is off-limits to thieves by construction, and
 *     the race moves to the split CAS below, paid only for shared frames.
 *   - i < osplit: the frame was shared. The owner CASes split down to i
 *     (keeping tail): if the CAS succeeds with tail <= i, the frame is back
 *     in the private part and runs directly; if tail > i a thief claimed it
 *     (F2): the owner joins it (below). Owner CAS and thief CAS on the one
 *     word decide who has frame i: no fence-based argument is needed.
 *  Join of a stolen frame: wait until its state reads DONE (acquire; pairs
 *  with the thief's release exchange after fn returned, so fn's effects are
 *  visible to the joiner). While waiting the joiner works: leapfrogging.
 *
 * Leapfrogging and the helping rule. A waiting task may run only work that
 * it spawned, directly or through tasks it helped run (pool.h: rayon#592,
 * oneTBB#324). The joiner of a stolen frame F therefore steals only from
 * F's thief V, and there only frames at index >= base, V's head when it
 * took F: while F runs on V, V's frames at or above base were all pushed by
 * F or its descendants. The check that F is still running and the steal
 * must not be separated by F's end and V's reuse of those indices: the
 * joiner loads V's ts (acquire), then F's state (acquire); if that reads not
 * DONE, the ts value it holds was written before V's DONE store (had it
 * been written after, in V's program order or by an RMW in the release
 * sequence of such a write, the acquire load would have made DONE visible),
 * so its CAS from that value succeeds only if ts did not change since, that
 * is, only if the frames [tail, split) are still the ones F's descendants
 * pushed. gen makes "did not change" exact: every owner update bumps it, so
 * a ts that went away and came back differs in gen (32 bits: a joiner would
 * have to stall across 2^32 updates of one worker between two loads).
 * When there is nothing to take it sleeps on F's state word (WAITERS bit,
 * futex) and the thief wakes it when F is done. The thief V itself runs F
 * like any task.
 *
 * Asking for work. A thief that finds the shared part empty while the
 * owner's head (a relaxed hint) says there are private frames asks for
 * them (Lace's movesplit): it stores limit = slot, the bound that every
 * spawn compares top with anyway, so asking costs the fast path nothing; a
 * worker about to park asks every worker with private frames. The owner's
 * next spawn then takes its slow path, CASes limit back and shares half of
 * its private frames, the oldest (biggest) ones, and issues the fenced
 * wake-up (idle.c): sharing is the only point at which the owner pays a
 * fence. Nobody asks while every other worker sleeps, and a spawn wakes
 * nobody, so a fork-join begun then would run on one worker for good: the
 * worker loop therefore asks on its own behalf (weft__frames_share_next)
 * before each loop-level task while the pool has sleepers; that task's
 * first spawn then shares and wakes one, which steals, and as the last
 * searcher to find work wakes the next (search.c): the ramp-up.
 * (pool/spawn_wakes_a_sleeping_worker_for_the_spawned_half ran its halves
 * on one worker before.) Before a worker sleeps in the kernel (the
 * before-block hook) it shares every private frame, so a task that spawns and then blocks in a
 * weft primitive never strands its children (the rule of spawn_block.pml).
 *
 * Every task ends synced: a task (or a stolen frame) that returns with
 * frames of its own still on the stack has them joined by the runner
 * (weft__frames_sync_to_base), as Cilk's implicit sync does.
 */
#include "sched/steal.h"

#include <stdlib.h>

#include "weft/pool.h"

_Thread_local weft__frames *weft__tls_frames __attribute__((tls_model("initial-exec")));

int weft__frames_init(weft__frames *f, weft__worker *owner)
{
    f->slot = aligned_alloc(WEFT_CACHELINE, WEFT__FRAMES_CAP * sizeof(weft__frame));
    if (f->slot == NULL)
        return ENOMEM;
    atomic_init(&f->ts, 0);
    atomic_init(&f->top, f->slot);
    f->end = f->slot + WEFT__FRAMES_CAP;
    atomic_init(&f->limit, f->end);
    f->osplit = 0;
    f->base = 0;
    f->overflow = 0;
    f->obase = 0;
    f->owner = owner;
    weft__frames_refloor(f);
    for (uint32_t i = 0; i < WEFT__FRAMES_CAP; i++)
        atomic_init(&f->slot[i].state, WEFT__FRAME_QUEUED);
    return 0;
}

void weft__frames_deinit(weft__frames *f)
{
    free(f->slot);
    f->slot = NULL;
}

/* Owner: moves split up to share private frames (all, or the older half),
 * then the fenced wake-up. */
static void share(weft__frames *f, bool all)
{
    uint32_t h = weft__frames_head(f);
    if (h <= f->osplit)
        return;
    uint32_t split = all ? h : f->osplit + (h - f->osplit + 1) / 2;
    uint64_t ts = atomic_load_explicit(&f->ts, memory_order_relaxed);
    /* release: the frames' fields (spawn's plain stores) before the new
     * split; pairs with the acquire load of ts in weft__frames_steal. A
     * failure means a thief moved tail: retry with its value. */
    while (!atomic_compare_exchange_weak_explicit(&f->ts, &ts, WEFT__TS(WEFT__TS_TAIL(ts), split, WEFT__TS_GEN(ts) + 1),
                                                  memory_order_release, memory_order_relaxed))
        ;
    f->osplit = split;
    weft__frames_refloor(f);
    weft__sched_wake_fenced(f->owner->s);
}

bool weft__frames_share_all(weft__worker *w)
{
    weft__frames *f = &w->fr;
    if (weft__frames_head(f) > f->osplit)
        share(f, true);
    uint64_t ts = atomic_load_explicit(&f->ts, memory_order_relaxed);
    return WEFT__TS_TAIL(ts) < WEFT__TS_SPLIT(ts);
}

bool weft__frames_visible(const weft__frames *f)
{
    uint64_t ts = atomic_load_explicit(&f->ts, memory_order_relaxed);
    return WEFT__TS_TAIL(ts) < WEFT__TS_SPLIT(ts);
}

void weft__frames_request(weft__frames *f)
{
    uint64_t ts = atomic_load_explicit(&f->ts, memory_order_relaxed);
    if (weft__frames_head(f) > WEFT__TS_SPLIT(ts) && atomic_load_explicit(&f->limit, memory_order_relaxed) != f->slot)
        atomic_store_explicit(&f->limit, f->slot, memory_order_relaxed);
}

bool weft__frames_steal(weft__worker *thief, weft__worker *victim, uint32_t min_tail, _Atomic uint32_t *stop,
                        uint32_t stop_val, weft__stolen *out)
{
    weft__frames *f = &victim->fr;
    /* acquire: pairs with the release CAS in share (the frames' fields). */
    uint64_t ts = atomic_load_explicit(&f->ts, memory_order_acquire);
    for (;;) {
        uint32_t t = WEFT__TS_TAIL(ts), s = WEFT__TS_SPLIT(ts);
        if (t >= s) {
            if (stop == NULL)
                weft__frames_request(f);
            return false;
        }
        if (t < min_tail)
            return false;
        /* acquire: pairs with the thief's release exchange of DONE; see the
         * leapfrogging argument: a ts read before this load and a state
         * that is not DONE mean the frames at [t, s) are still the stolen
         * frame's descendants. */
        if (stop != NULL && atomic_load_explicit(stop, memory_order_acquire) != stop_val)
            return false;
        /* acquire (success and failure): the frame's fields, published by
         * share's release CAS heading this release sequence. */
        if (atomic_compare_exchange_weak_explicit(&f->ts, &ts, WEFT__TS(t + 1, s, WEFT__TS_GEN(ts)),
                                                  memory_order_acquire, memory_order_acquire)) {
            weft__frame *fr = &f->slot[t];
            out->fn = fr->fn;
            out->arg = fr->arg;
            out->frame = fr;
            atomic_store_explicit(&fr->thief, thief->index, memory_order_relaxed);
            atomic_store_explicit(&fr->base, weft__frames_head(&thief->fr), memory_order_relaxed);
            /* Only we write state now (the owner waits for DONE, F4). */
            uint32_t gen = atomic_load_explicit(&fr->state, memory_order_relaxed) & ~WEFT__FRAME_FLAGS;
            /* release: thief and base before STOLEN; pairs with the
             * joiners' acquire loads of state in join_stolen / leapfrog. */
            atomic_store_explicit(&fr->state, (gen + WEFT__FRAME_GEN) | WEFT__FRAME_STOLEN, memory_order_release);
            return true;
        }
    }
}

void weft__frames_run_stolen(weft__worker *w, const weft__stolen *st)
{
    weft__frames *f = &w->fr;
    uint64_t saved = weft__frames_enter(f);
    uint64_t saved_mark = w->mark;
    w->mark = w->depth;
    weft__worker_lend(w, 1); /* a stolen frame is fork-join work (spare.c) */
    st->fn(st->arg);
    weft__worker_lend(w, -1);
    w->mark = saved_mark;
    weft__frames_leave(f, saved);
    weft__stat_inc(&w->stats.run);
    /* release: fn's effects before DONE; pairs with the joiner's acquire
     * load of state. After this the frame is the owner's again (F4). */
    uint32_t gen = atomic_load_explicit(&st->frame->state, memory_order_relaxed) & ~WEFT__FRAME_FLAGS;
    uint32_t old = atomic_exchange_explicit(&st->frame->state, gen | WEFT__FRAME_DONE, memory_order_release);
    if (old & WEFT__FRAME_WAITERS)
        weft__futex_wake(&st->frame->state, INT32_MAX);
}

enum { JOIN_SPINS = 128, LEAP_DEPTH = 8 };

/* Leapfrogging, transitively: steals a frame that descends from the stolen
 * frame whose state read sv (STOLEN, its generation) and whose thief and
 * base are v and base: first from v above base, else from the thieves of
 * the frames that v's part of that subtree lost to others (v may itself be
 * blocked, its work stolen on), recursively. Each level is validated as a
 * seqlock: a frame's state, then its thief and base, then its state again;
 * the same STOLEN value means that the thief and base belong to this steal
 * of it, and a frame that is still stolen descends from the frame above it
 * (a frame's subtree finishes before the frame does). The steal itself
 * checks, right before its CAS, that the innermost frame is still in that
 * state (frames_steal's stop argument; the argument of the design note). */
static bool leapfrog(weft__worker *w, weft__worker *v, uint32_t base, _Atomic uint32_t *sw, uint32_t sv, int depth,
                     weft__stolen *got)
{
    if (weft__frames_steal(w, v, base, sw, sv, got))
        return true;
    if (depth == 0)
        return false;
    uint32_t tail = WEFT__TS_TAIL(atomic_load_explicit(&v->fr.ts, memory_order_relaxed));
    for (uint32_t i = base; i < tail && i < WEFT__FRAMES_CAP; i++) {
        weft__frame *y = &v->fr.slot[i];
        /* acquire: pairs with the thief's release store of STOLEN (its
         * thief and base fields). */
        uint32_t ys = atomic_load_explicit(&y->state, memory_order_acquire);
        if ((ys & WEFT__FRAME_FLAGS & ~WEFT__FRAME_WAITERS) != WEFT__FRAME_STOLEN)
            continue;
        uint32_t t = atomic_load_explicit(&y->thief, memory_order_relaxed);
        uint32_t yb = atomic_load_explicit(&y->base, memory_order_relaxed);
        /* acquire fence: the two loads above before the re-reads below (the
         * seqlock reader's order). */
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&y->state, memory_order_relaxed) != ys ||
            atomic_load_explicit(sw, memory_order_relaxed) != sv)
            continue; /* y changed hands, or our frame moved on: not ours */
        if (t >= w->s->nworkers || &w->s->workers[t] == w)
            continue;
        if (leapfrog(w, &w->s->workers[t], yb, &y->state, ys, depth - 1, got))
            return true;
    }
    return false;
}

/* Joins the stolen frame fr: leapfrogs on its thief until DONE. */
static void join_stolen(weft__worker *w, weft__frame *fr)
{
    unsigned spins = 0;
    for (;;) {
        /* acquire: pairs with the thief's release store of STOLEN (thief,
         * base) and its release exchange of DONE (fn's effects). */
        uint32_t st = atomic_load_explicit(&fr->state, memory_order_acquire);
        if (st & WEFT__FRAME_DONE)
            return;
        if ((st & WEFT__FRAME_FLAGS) == WEFT__FRAME_QUEUED) { /* claimed, not yet published */
            weft__cpu_relax();
            continue;
        }
        weft__worker *v = &w->s->workers[atomic_load_explicit(&fr->thief, memory_order_relaxed)];
        uint32_t base = atomic_load_explicit(&fr->base, memory_order_relaxed);
        weft__stolen got;
        if (leapfrog(w, v, base, &fr->state, st, LEAP_DEPTH, &got)) {
            weft__stat_inc(&w->stats.steals);
            weft__frames_run_stolen(w, &got);
            spins = 0;
            continue;
        }
        if (spins < JOIN_SPINS) {
            spins++;
            if (spins == JOIN_SPINS / 2)
                weft__frames_request(&v->fr); /* ask the thief to share */
            weft__cpu_relax();
            continue;
        }
        if (!(st & WEFT__FRAME_WAITERS) &&
            !atomic_compare_exchange_weak_explicit(&fr->state, &st, st | WEFT__FRAME_WAITERS,
                                                   memory_order_relaxed, memory_order_relaxed))
            continue;
        /* Sleeps while the state is exactly this STOLEN|WAITERS: the thief's
         * exchange to DONE changes the word, so its wake is not lost. A
         * bounded sleep: work may appear deeper in the subtree (on thieves
         * of thieves), which no wake-up announces; re-searching every
         * millisecond keeps a pool whose other workers all block from
         * stalling. */
        weft__deadline d;
        (void)weft__deadline_init(&d, 1e-3);
        (void)weft__futex_wait(&fr->state, st | WEFT__FRAME_WAITERS, &d);
        spins = JOIN_SPINS / 2;
    }
}

/* Owner: sync of frame i = head - 1 when i < osplit (it was shared). */
static void sync_shared(weft__frames *f, uint32_t i)
{
    uint64_t ts = atomic_load_explicit(&f->ts, memory_order_relaxed);
    while (WEFT__TS_TAIL(ts) <= i) {
        /* relaxed suffices: the CAS only has to be ordered against the
         * thieves' CASes on the same word (one modification order); the
         * frame's fields are our own writes. */
        if (atomic_compare_exchange_weak_explicit(&f->ts, &ts, WEFT__TS(WEFT__TS_TAIL(ts), i, WEFT__TS_GEN(ts) + 1),
                                                  memory_order_relaxed, memory_order_relaxed)) {
            f->osplit = i;
            weft__frames_refloor(f);
            weft__frame *fr = &f->slot[i];
            atomic_store_explicit(&f->top, fr, memory_order_relaxed);
            fr->fn(fr->arg);
            return;
        }
    }
    /* tail > i: a thief claimed frame i (F2). Frames above i were joined
     * before, so split == i + 1 == tail: the shared part is empty and no
     * thief CAS can succeed until we publish a new ts. */
    weft__frame *fr = &f->slot[i];
    weft__worker_lend(f->owner, 1); /* the spare thread's rule (spare.c) */
    join_stolen(f->owner, fr);
    weft__worker_lend(f->owner, -1);
    atomic_store_explicit(&fr->state, atomic_load_explicit(&fr->state, memory_order_relaxed) & ~WEFT__FRAME_FLAGS,
                          memory_order_relaxed); /* QUEUED, same generation */
    atomic_store_explicit(&f->top, fr, memory_order_relaxed);
    f->osplit = i;
    weft__frames_refloor(f);
    /* release: nothing new to publish (the shared part is empty); it keeps
     * every owner update of ts a release that heads a release sequence. */
    atomic_store_explicit(&f->ts, WEFT__TS(i, i, WEFT__TS_GEN(ts) + 1), memory_order_release);
}

/* weft_sync's slow path: the frame is not a private one of the running task
 * (or the stack overflowed). */
static __attribute__((noinline)) void sync_slow(weft__frames *f, weft__frame *top)
{
    if (f->overflow > f->obase) {
        if (--f->overflow == 0)
            weft__frames_refloor(f);
        return;
    }
    uint32_t h = (uint32_t)(top - f->slot);
    if (h <= f->base)
        return; /* nothing of this task's to join */
    sync_shared(f, h - 1);
}

void weft__frames_sync_to_base(weft__frames *f)
{
    while (f->overflow > f->obase || weft__frames_head(f) > f->base)
        weft_sync();
}

void weft__frames_join_slow(weft__frames *f, uint64_t mark)
{
    uint32_t base = f->base, obase = f->obase;
    f->base = (uint32_t)mark;
    f->obase = (uint32_t)(mark >> 32);
    weft__frames_refloor(f);
    weft__frames_sync_to_base(f);
    f->base = base;
    f->obase = obase;
    weft__frames_refloor(f);
}

/* ---- the public calls (weft/pool.h) ---------------------------------------- */

/* weft_spawn's slow path: asked to share, or the stack is full. */
static __attribute__((noinline)) void spawn_slow(weft__frames *f, void (*fn)(void *arg), void *arg)
{
    weft__frame *asked = f->slot;
    /* A request (limit == slot) is answered once: the CAS puts end back
     * unless another request came meanwhile, which the next spawn answers.
     * Relaxed: the request carries no data; share publishes with ts. */
    bool share_now = atomic_compare_exchange_strong_explicit(&f->limit, &asked, f->end, memory_order_relaxed,
                                                             memory_order_relaxed);
    weft__frame *top = atomic_load_explicit(&f->top, memory_order_relaxed);
    if (top == f->end) {
        f->overflow++;
        f->floor = f->end;
        fn(arg);
        return;
    }
    top->fn = fn;
    top->arg = arg;
    atomic_store_explicit(&f->top, top + 1, memory_order_relaxed);
    if (share_now)
        share(f, false);
}

void weft_spawn(void (*fn)(void *arg), void *arg)
{
    weft__frames *f = weft__tls_frames;
    if (WEFT_UNLIKELY(f == NULL)) {
        fn(arg);
        return;
    }
    weft__frame *top = atomic_load_explicit(&f->top, memory_order_relaxed);
    if (WEFT_UNLIKELY(top >= atomic_load_explicit(&f->limit, memory_order_relaxed))) {
        spawn_slow(f, fn, arg);
        return;
    }
    top->fn = fn;
    top->arg = arg;
    atomic_store_explicit(&f->top, top + 1, memory_order_relaxed);
}

void weft_sync(void)
{
    weft__frames *f = weft__tls_frames;
    if (WEFT_UNLIKELY(f == NULL))
        return;
    weft__frame *top = atomic_load_explicit(&f->top, memory_order_relaxed);
    if (WEFT_LIKELY(top > f->floor)) {
        top--;
        atomic_store_explicit(&f->top, top, memory_order_relaxed);
        top->fn(top->arg);
        return;
    }
    sync_slow(f, top);
}
