/* sched/worker.c: the work-stealing scheduler's worker loop, its set-up and
 * shutdown, and its ops table (steal.h lists the scheduler's other files).
 *
 * Design note.
 * Queues. Each worker owns a Chase-Lev deque (deque.c; Chase & Lev, SPAA'05;
 * Le et al., PPoPP'13): it pushes and pops at the bottom (LIFO), idle workers
 * steal from the top (FIFO, the oldest and usually biggest work), and a
 * frame stack for weft_spawn (frames.c). Work from outside the pool enters
 * through the injector (injector.c). A worker takes, in order: from the
 * injector once INJECTOR_EVERY tasks ran since it last looked (so outside
 * work never starves behind a deque that refills itself, as Go's scheduler
 * checks its global queue every 61 ticks; tasks run by helping inside a
 * loop-level task count too), its own deque, then what search.c finds (the
 * injector, a steal sweep over all other workers starting at a random
 * victim), else it parks (idle.c). Task records come from the worker's free
 * list (records.h): the spawn/run path makes no allocation and no system
 * call.
 *
 * Fairness to outside work, the bound. A task in the injector is taken
 *  (a) at once by a worker that is idle or searching (idle.c's wake-up
 *      argument: a submit never leaves every worker asleep), and otherwise
 *  (b) by the first worker to return to its loop after INJECTOR_EVERY tasks
 *      of any kind, helped ones included, since its last look: at the end
 *      of the loop-level task during which the 61st task ran, or at once
 *      when it steals (find_work looks at the injector first).
 * So with every worker busy, an outside task waits at most until some
 * worker ends a loop-level task that ran 61 tasks (before the count covered
 * helped tasks, until it had ended 61 loop-level tasks: a whole fork-join
 * per loop-level task, 0.41 s during fib(36) on 2 workers). A worker never
 * takes it earlier, inside a helping wait: the waiting task may hold a lock
 * that the outside task needs (the helping rule, rayon#592). Hence a
 * fork-join whose loop-level tasks are all long (fib: one root and one
 * stolen half per worker) would delay outside work until one of them ends;
 * the spare thread (spare.c) lifts that within the rule: while every worker
 * is lent to a fork-join, it runs outside work from about one watch period
 * (1 ms) after it was queued. steal_spawn arms it.
 *
 * QSBR (liburcu, for the deque's retired buffers): workers register, stay
 * offline except inside the worker loop, report a quiescent state after
 * every task the loop runs and after every 64th helped task (no buffer
 * pointer survives a deque call, so any point between tasks will do; grace
 * periods only need to end, not to end soon), and go offline whenever they
 * sleep in the kernel (idle.c's before-block hook), so a task blocked in any
 * weft primitive does not stall reclamation. Quiescent states are reported
 * only while online (reporting one offline would silently put the thread
 * back online).
 */
#include <sched.h>
#include <stdlib.h>

#include <urcu/urcu-qsbr.h>

#include "sched/steal.h"
#include "thread/fork.h"

_Thread_local weft__worker *weft__tls_worker __attribute__((tls_model("initial-exec")));

enum {
    INJECTOR_EVERY = 61, /* Go's schedtick check of the global run queue */
    DEQUE_INITIAL = 256,
};

static_assert(INJECTOR_EVERY > 1, "the injector is checked every INJECTOR_EVERY tasks");

void weft__sched_quiescent(weft__worker *w)
{
    if (w->online)
        urcu_qsbr_quiescent_state();
}

/* ---- init / deinit / fork -------------------------------------------------- */

static int steal_init(weft__sched *s)
{
    size_t ready = 0;
    int rc = 0;
    for (; ready < s->nworkers; ready++) {
        weft__worker *w = &s->workers[ready];
        if ((rc = weft__deque_init(&w->dq, DEQUE_INITIAL)) != 0)
            break;
        if ((rc = weft__frames_init(&w->fr, w)) != 0) {
            weft__deque_deinit(&w->dq);
            break;
        }
    }
    if (rc == 0)
        rc = weft__injector_init(&s->inj);
    if (rc != 0) {
        for (size_t i = 0; i < ready; i++) {
            weft__deque_deinit(&s->workers[i].dq);
            weft__frames_deinit(&s->workers[i].fr);
        }
        return rc;
    }
    weft__ec_init(&s->idle);
    atomic_init(&s->spare_th.word, WEFT__SPARE_OFF);
    atomic_init(&s->nsearching, 0);
    atomic_init(&s->nidle, 0);
    return 0;
}

static void steal_deinit(weft__sched *s)
{
    weft__task *t;
    while ((t = weft__injector_pop(&s->inj)) != NULL)
        free(t);
    weft__injector_deinit(&s->inj);
    for (size_t i = 0; i < s->nworkers; i++) {
        weft__worker *w = &s->workers[i];
        while ((t = weft__deque_pop(&w->dq)) != NULL)
            free(t);
        weft__deque_deinit(&w->dq);
        weft__frames_deinit(&w->fr);
    }
}

/* After fork (inherited.c's design note): the injector's ring always, its
 * overflow list when its lock is free, every deque by owner pops. */
static void steal_abandon(weft__sched *s)
{
    void *item;
    while (weft__ring_pop(&s->inj.ring, &item) == 0)
        weft__task_abandon(item);
    if (!weft_lock_locked(&s->inj.lock)) {
        weft__task *t = s->inj.head;
        while (t != NULL) {
            weft__task *next = t->next;
            weft__task_abandon(t);
            t = next;
        }
    }
    weft__injector_deinit(&s->inj);
    for (size_t i = 0; i < s->nworkers; i++) {
        weft__worker *w = &s->workers[i];
        while ((item = weft__deque_pop(&w->dq)) != NULL)
            weft__task_abandon(item);
        weft__deque_deinit(&w->dq);
    }
}

/* ---- spawning from outside ------------------------------------------------- */

/* weft__sched_spawn from a thread that is not one of s's workers. */
static int steal_spawn(weft__sched *s, weft__task *t)
{
    /* A task on the spare thread spawning (not submitting): at once, there
     * (spare.c: what the spare's tasks may do). */
    if (WEFT_UNLIKELY(weft__tls_spare == s) && !(t->tag & WEFT__TASK_CANCELLABLE))
        return weft__spare_spawn_inline(s, t);
    int rc = weft__injector_push(&s->inj, t);
    if (rc != 0)
        return rc;
    weft__sched_count_outside_spawn(s);
    weft__sched_wake_fenced(s);
    weft__spare_poke(s);
    return 0;
}

/* ---- the worker loop ------------------------------------------------------- */

static weft__task *next_task(weft__worker *w)
{
    /* Every task counts, helped ones too: a loop-level task that ran a whole
     * fork-join by helping is followed by the check at once. */
    if (WEFT_UNLIKELY(++w->tick + (w->helped - w->helped_seen) >= INJECTOR_EVERY)) {
        w->tick = 0;
        w->helped_seen = w->helped;
        weft__task *t = weft__steal_injector_take(w);
        if (t != NULL)
            return t;
    }
    weft__task *t = weft__deque_pop(&w->dq);
    if (t != NULL) {
        w->depth--;
        return t;
    }
    return weft__steal_find_work(w);
}

static void steal_enter(weft__worker *w)
{
    weft__tls_worker = w;
    weft__tls_frames = &w->fr;
    weft__rcu_register(&w->rcu);
    urcu_qsbr_thread_offline();
}

static void steal_run(weft__worker *w)
{
    urcu_qsbr_thread_online();
    w->online = true;
    weft__task *t;
    bool several = w->s->nworkers > 1;
    while ((t = next_task(w)) != NULL) {
        /* Sleepers: the task's first weft_spawn shares and wakes one
         * (frames.c, "Asking for work"). A relaxed hint: a sleeper that
         * parks just after is asked for again before the next task. */
        if (several && weft__ec_has_waiters(&w->s->idle))
            weft__frames_share_next(&w->fr);
        if (t == WEFT__FRAME_TAKEN)
            weft__frames_run_stolen(w, &w->took);
        else
            weft__sched_run_task(w, t, false);
        urcu_qsbr_quiescent_state();
    }
    urcu_qsbr_thread_offline();
    w->online = false;
}

static void steal_leave(weft__worker *w)
{
    weft__rcu_unregister(&w->rcu);
    weft__tls_worker = NULL;
    weft__tls_frames = NULL;
}

/* The helping step of a general wait (help.c). */
static bool steal_help_one(weft__worker *w)
{
    weft__task *t = weft__sched_help_pop(w);
    if (t == NULL)
        return false;
    weft__sched_run_helped(w, t);
    return true;
}

/* ---- close / settle -------------------------------------------------------- */

static void steal_close(weft__sched *s, bool cancel)
{
    weft__injector_close(&s->inj);
    weft__task *drop = NULL;
    if (cancel) {
        weft__task *keep = NULL, *t;
        while ((t = weft__injector_pop(&s->inj)) != NULL) {
            weft__task **to = (t->tag & WEFT__TASK_CANCELLABLE) ? &drop : &keep;
            t->next = *to;
            *to = t;
        }
        while (keep != NULL) {
            t = keep;
            keep = t->next;
            weft__injector_push_forced(&s->inj, t);
        }
    }
    /* seq_cst: publishes the closing (and the drain's re-queued tasks) to
     * weft__steal_park's acquire load; ordered before the fence in
     * ec_notify below. */
    atomic_store_explicit(&s->closed, true, memory_order_seq_cst);
    weft__ec_notify(&s->idle, INT32_MAX);
    /* Last: the dropped futures' callbacks may wait for the workers to
     * finish (shutdown(wait) from a callback), which needs `closed`. */
    weft__sched_drop(s, drop);
}

/* Relaxed loads: a stale read only makes weft__sched_settle wait a little
 * longer or shorter, within its deadline. */
static bool steal_settled(weft__sched *s)
{
    bool settled = !weft__injector_maybe_nonempty(&s->inj) ||
                   (atomic_load_explicit(&s->nidle, memory_order_relaxed) == 0 &&
                    atomic_load_explicit(&s->nsearching, memory_order_relaxed) == 0);
    if (!settled)
        weft__ec_notify(&s->idle, INT32_MAX);
    return settled;
}

const weft__sched_ops weft__steal_ops = {
    .name = "stealing",
    .init = steal_init,
    .deinit = steal_deinit,
    .abandon = steal_abandon,
    .enter = steal_enter,
    .run = steal_run,
    .leave = steal_leave,
    .spawn = steal_spawn,
    .close = steal_close,
    .settled = steal_settled,
    .help_one = steal_help_one,
    .spare_start = weft__spare_start,
    .spare_stop = weft__spare_stop,
};
