/* sched/records.c: the shared halves of task records (records.h). */
#include "sched/records.h"

#include <stdlib.h>

#include "sched/giveback.h"

weft__task *weft__task_alloc_shared(weft__sched *s)
{
    void *item;
    if (weft__ring_pop(&s->spare, &item) == 0)
        return item;
    return aligned_alloc(WEFT_CACHELINE, WEFT_CACHELINE);
}

void weft__task_free_shared(weft__sched *s, weft__task *t)
{
    if (weft__ring_push(&s->spare, t) != 0) {
        free(t);
        weft__giveback_count_free();
    }
}

void weft__task_spare_drain(weft__sched *s)
{
    /* At most a ring's worth: workers may push while we pop. */
    void *item;
    for (uint64_t n = 0; n < s->spare.cap && weft__ring_pop(&s->spare, &item) == 0; n++)
        free(item);
}

/* Any worker's free list will do, of this pool or another, of either
 * scheduler: records are interchangeable (task.h). */
weft__task *weft__task_alloc(weft__sched *s)
{
    weft__worker *w = weft__tls_self;
    return w != NULL ? weft__worker_task_alloc(w) : weft__task_alloc_shared(s);
}

void weft__task_free(weft__sched *s, weft__task *t)
{
    weft__worker *w = weft__tls_self;
    if (w != NULL)
        weft__worker_task_free(w, t);
    else
        weft__task_free_shared(s, t);
}

void weft__task_free_list_drain(weft__worker *w)
{
    while (w->free_list != NULL) {
        weft__task *t = w->free_list;
        w->free_list = t->next;
        free(t);
    }
    w->nfree = 0;
}
