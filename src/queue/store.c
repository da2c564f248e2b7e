/* queue/store.c: the sequential containers behind the locked queues.
 *
 * Design note. One growable array of pointers, used three ways:
 *   FIFO      a circular buffer: items at v[(head + i) % cap], i < n;
 *   LIFO      a stack: items at v[0 .. n-1], the top at n - 1;
 *   PRIORITY  a binary min-heap under cmp (Williams 1964; as Python's heapq):
 *             cmp(v[(i - 1) / 2], v[i]) <= 0 for every i > 0.
 * The array doubles when full (amortised O(1) push). Callers hold the queue's
 * lock; nothing here is concurrent.
 */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue_impl.h"

#define STORE_MIN_CAP 16

static_assert(STORE_MIN_CAP > 0 && (STORE_MIN_CAP & (STORE_MIN_CAP - 1)) == 0,
              "the initial capacity is a power of two");

void weft__store_init(weft__store *s, weft_queue_kind kind, int (*cmp)(const void *, const void *))
{
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    s->cmp = cmp;
}

void weft__store_deinit(weft__store *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = s->head = 0;
}

/* Doubles the array, unwrapping a FIFO's circular order into 0 .. n-1. */
static int store_grow(weft__store *s)
{
    size_t cap = s->cap == 0 ? STORE_MIN_CAP : s->cap * 2;
    if (cap < s->cap || cap > SIZE_MAX / sizeof(void *))
        return ENOMEM;
    void **v = malloc(cap * sizeof(void *));
    if (v == NULL)
        return ENOMEM;
    for (size_t i = 0; i < s->n; i++)
        v[i] = s->kind == WEFT_QUEUE_FIFO ? s->v[(s->head + i) % s->cap] : s->v[i];
    free(s->v);
    s->v = v;
    s->cap = cap;
    s->head = 0;
    return 0;
}

static void heap_sift_up(weft__store *s, size_t i)
{
    void *x = s->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (s->cmp(s->v[parent], x) <= 0)
            break;
        s->v[i] = s->v[parent];
        i = parent;
    }
    s->v[i] = x;
}

static void heap_sift_down(weft__store *s, size_t i)
{
    void *x = s->v[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= s->n)
            break;
        if (child + 1 < s->n && s->cmp(s->v[child + 1], s->v[child]) < 0)
            child++;
        if (s->cmp(x, s->v[child]) <= 0)
            break;
        s->v[i] = s->v[child];
        i = child;
    }
    s->v[i] = x;
}

int weft__store_push(weft__store *s, void *item)
{
    if (s->n == s->cap) {
        int rc = store_grow(s);
        if (rc != 0)
            return rc;
    }
    switch (s->kind) {
    case WEFT_QUEUE_FIFO:
        s->v[(s->head + s->n) % s->cap] = item;
        s->n++;
        break;
    case WEFT_QUEUE_LIFO:
        s->v[s->n++] = item;
        break;
    case WEFT_QUEUE_PRIORITY:
        s->v[s->n++] = item;
        heap_sift_up(s, s->n - 1);
        break;
    }
    return 0;
}

void *weft__store_pop(weft__store *s)
{
    void *item;
    switch (s->kind) {
    case WEFT_QUEUE_FIFO:
        item = s->v[s->head];
        s->head = (s->head + 1) % s->cap;
        s->n--;
        return item;
    case WEFT_QUEUE_LIFO:
        return s->v[--s->n];
    case WEFT_QUEUE_PRIORITY:
        item = s->v[0];
        s->n--;
        if (s->n > 0) {
            s->v[0] = s->v[s->n];
            heap_sift_down(s, 0);
        }
        return item;
    }
    weft__die("weft__store_pop: unknown queue kind", EINVAL);
}
