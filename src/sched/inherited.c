/* sched/inherited.c: deinit for a scheduler inherited across fork(), whose
 * workers do not exist in this process (thread/fork.c gives the semantics).
 *
 * Design note. weft__sched_deinit assumes every worker left; here none will,
 * and a vanished worker may have held a lock or been half way through a
 * queue operation at the instant of the fork. The child is the only party
 * left, so every owner-only operation is now the child's to make, but any
 * lock may be held forever, and condition variables may count waiters that
 * will never return (glibc's pthread_cond_destroy waits for them). So:
 *   - records still queued are taken out of the structures whose state a
 *     single thread can always read: the injector ring (a slot a vanished
 *     thread claimed but never published reads as empty and ends the drain),
 *     the overflow list and the mutex FIFO when their lock is free, each
 *     worker's deque (owner pops), the free lists and the spare ring (the
 *     queues are the scheduler's own, so each scheduler's table has an
 *     abandon that hands them to weft__task_abandon: worker.c, mutexq.c;
 *     the free lists and the spare ring are neutral, here);
 *   - a queued submission is dropped as by shutdown(cancel_futures): exec
 *     with ECANCELED cancels its future (waking any waiter in the child and
 *     running its callbacks in the calling thread) and releases the pool's
 *     reference; other records are freed;
 *   - locks, condition variables and whatever a held lock guards are left as
 *     they are (not destroyed, not freed): a few bytes leak, nothing blocks.
 * A record a vanished worker was running, or had half-pushed, is lost with
 * that worker (its future stays running, as in Python).
 */
#include "sched/sched.h"

#include <stdlib.h>

void weft__task_abandon(weft__task *t)
{
    if (t->tag & WEFT__TASK_CANCELLABLE) {
        weft__task copy = *t;
        free(t);
        (void)copy.exec(&copy, ECANCELED);
    } else {
        free(t);
    }
}

void weft__sched_abandon(weft__sched *s)
{
    s->ops->abandon(s);
    void *item;
    for (size_t i = 0; i < s->nworkers; i++) {
        weft__worker *w = &s->workers[i];
        while (w->free_list != NULL) {
            weft__task *t = w->free_list;
            w->free_list = t->next;
            free(t);
        }
    }
    while (weft__ring_pop(&s->spare, &item) == 0)
        free(item);
    weft__ring_deinit(&s->spare);
    free(s->workers);
}
