/* queue/queue.c: weft_queue, Python's queue.Queue / LifoQueue / PriorityQueue:
 * the neutral file. It checks arguments, picks the backend at create
 * (weft_queue_options.backend: queue_lockfree.c or queue_mutex.c) and calls
 * through the backend's ops table (queue_impl.h); everything else is the
 * backend's. The one branch on which backend it is happens here, once, at
 * create.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_impl.h"

int weft_queue_create(weft_queue **out, const weft_queue_options *o)
{
    static const weft_queue_options defaults = WEFT_QUEUE_OPTIONS_INIT;
    if (o == NULL)
        o = &defaults;
    if (out == NULL)
        return EINVAL;
    switch (o->kind) {
    case WEFT_QUEUE_FIFO:
    case WEFT_QUEUE_LIFO:
        break;
    case WEFT_QUEUE_PRIORITY:
        if (o->cmp == NULL)
            return EINVAL;
        break;
    default:
        return EINVAL;
    }
    const weft__queue_backend *backend;
    if (o->backend == WEFT_QUEUE_LOCKFREE)
        backend = &weft__queue_lockfree;
    else if (o->backend == WEFT_QUEUE_MUTEX)
        backend = &weft__queue_mutex;
    else
        return EINVAL;

    weft_queue *q = aligned_alloc(WEFT_CACHELINE, sizeof(*q));
    if (q == NULL)
        return ENOMEM;
    memset(q, 0, sizeof(*q));
    q->backend = backend;
    q->kind = o->kind;
    q->maxsize = o->maxsize;
    q->drop = o->drop;
    atomic_init(&q->shut, false);
    int rc = backend->init(q, o);
    if (rc != 0) {
        free(q);
        return rc;
    }
    *out = q;
    return 0;
}

void weft_queue_destroy(weft_queue *q)
{
    if (q == NULL)
        return;
    q->backend->deinit(q);
    free(q);
}

int weft_queue_put(weft_queue *q, void *item, double timeout)
{
    if (q == NULL || timeout != timeout)
        return EINVAL;
    return q->backend->put(q, item, timeout);
}

int weft_queue_get(weft_queue *q, void **item, double timeout)
{
    if (q == NULL || timeout != timeout)
        return EINVAL;
    return q->backend->get(q, item, timeout);
}

size_t weft_queue_qsize(const weft_queue *q)
{
    return q != NULL ? q->backend->qsize(q) : 0;
}

bool weft_queue_empty(const weft_queue *q)
{
    return q != NULL && q->backend->qsize(q) == 0;
}

bool weft_queue_full(const weft_queue *q)
{
    return q != NULL && q->maxsize > 0 && q->backend->qsize(q) >= q->maxsize;
}

bool weft_queue_is_shutdown(const weft_queue *q)
{
    return q != NULL && atomic_load_explicit(&((weft_queue *)q)->shut, memory_order_relaxed);
}

size_t weft_queue_unfinished_tasks(const weft_queue *q)
{
    return q != NULL ? q->backend->unfinished_tasks(q) : 0;
}

int weft_queue_task_done(weft_queue *q)
{
    if (q == NULL)
        return EINVAL;
    return q->backend->task_done(q);
}

int weft_queue_join(weft_queue *q, double timeout)
{
    if (q == NULL || timeout != timeout)
        return EINVAL;
    return q->backend->join(q, timeout);
}

void weft_queue_shutdown(weft_queue *q, bool immediate)
{
    if (q != NULL)
        q->backend->shutdown(q, immediate);
}
