/* sched/records.h: where task records come from and go back to, for both
 * schedulers (records.c; the record itself is task.h). Internal.
 *
 * A worker keeps up to WEFT__FREE_LIST_MAX free records in a private list
 * (owner only, plain loads and stores); beyond that, and for threads that
 * are not workers, records go through the pool's spare ring (MPMC) and, when
 * that is empty or full, malloc and free. Records are interchangeable
 * (task.h), so any record may go to any list. The spawn/run path of a worker
 * therefore makes no allocation and no system call. Records free()d are
 * counted, and their memory is handed back to the system after a large
 * drain (sched/giveback.c). */
#ifndef WEFT_SCHED_RECORDS_H
#define WEFT_SCHED_RECORDS_H

#include "sched/sched.h"

/* Free task records kept per worker before they go to the shared spare ring. */
#define WEFT__FREE_LIST_MAX 256

/* Any thread. alloc returns NULL on ENOMEM. free takes any record. */
weft__task *weft__task_alloc(weft__sched *s);
void weft__task_free(weft__sched *s, weft__task *t);
/* The shared halves, once a worker's free list is empty (alloc) or full (free). */
weft__task *weft__task_alloc_shared(weft__sched *s);
void weft__task_free_shared(weft__sched *s, weft__task *t);
/* Any thread: frees what s's spare ring holds, at most its capacity (a
 * give-back, sched/giveback.c: those records would pin scattered pages). */
void weft__task_spare_drain(weft__sched *s);
/* Frees w's free list (deinit). */
void weft__task_free_list_drain(weft__worker *w);

/* Calling thread = w's thread. Inline: the fork-join paths take and give
 * back one record per task. */
static inline weft__task *weft__worker_task_alloc(weft__worker *w)
{
    weft__task *t = w->free_list;
    if (WEFT_LIKELY(t != NULL)) {
        w->free_list = t->next;
        w->nfree--;
        return t;
    }
    return weft__task_alloc_shared(w->s);
}

static inline void weft__worker_task_free(weft__worker *w, weft__task *t)
{
    if (WEFT_LIKELY(w->nfree < WEFT__FREE_LIST_MAX)) {
        t->next = w->free_list;
        w->free_list = t;
        w->nfree++;
        return;
    }
    weft__task_free_shared(w->s, t);
}

#endif /* WEFT_SCHED_RECORDS_H */
