/* thread/local.c: weft_local, Python's threading.local, on pthread keys.
 *
 * Design note. Each weft_local owns one pthread key whose destructor is the
 * user's, so threads weft did not start get their values destroyed by pthread
 * at exit. A weft thread must do better: Python's join() returns only after
 * the thread's locals are gone, but pthread runs key destructors after the
 * start routine returns, too late for a join that waits on an event set by
 * that routine. So weft keeps every live weft_local on a list (ordered by a
 * sequence number given at init) and a finishing weft thread walks it,
 * clearing and destroying its own non-NULL values before it signals join.
 * Invariants: the list holds exactly the initialised, not yet deinitialised
 * locals, in increasing seq; list and keys change only under locals_lock, so a
 * walker never reads a deleted key. Destructors run outside the lock (they may
 * use or deinit locals); the walker resumes after the last seq it handled, so a
 * concurrent init/deinit cannot make it skip or repeat a live local.
 */
#include <limits.h>
#include <pthread.h>

#include "thread/local.h"
#include "weft/sync.h"
#include "weft/thread.h"

static weft_lock locals_lock = WEFT_LOCK_INIT; /* guards the list, next_seq, key create/delete */
static weft_local *locals_head, *locals_tail;
static uint64_t next_seq;

int weft_local_init(weft_local *l, void (*dtor)(void *))
{
    if (l == NULL)
        return EINVAL;
    int err = pthread_key_create(&l->key, dtor);
    if (err != 0)
        return err;
    l->dtor = dtor;
    weft_lock_acquire(&locals_lock, WEFT_FOREVER);
    l->seq = ++next_seq;
    l->next = NULL;
    l->prev = locals_tail;
    if (locals_tail != NULL)
        locals_tail->next = l;
    else
        locals_head = l;
    locals_tail = l;
    weft_lock_release(&locals_lock);
    return 0;
}

void weft_local_deinit(weft_local *l)
{
    if (l == NULL)
        return;
    weft_lock_acquire(&locals_lock, WEFT_FOREVER);
    if (l->prev != NULL)
        l->prev->next = l->next;
    else
        locals_head = l->next;
    if (l->next != NULL)
        l->next->prev = l->prev;
    else
        locals_tail = l->prev;
    pthread_key_delete(l->key);
    weft_lock_release(&locals_lock);
}

void *weft_local_get(const weft_local *l)
{
    if (l == NULL)
        return NULL;
    return pthread_getspecific(l->key);
}

int weft_local_set(weft_local *l, void *value)
{
    if (l == NULL)
        return EINVAL;
    return pthread_setspecific(l->key, value);
}

void weft__local_run_dtors(void)
{
    for (int pass = 0; pass < PTHREAD_DESTRUCTOR_ITERATIONS; pass++) {
        bool ran = false;
        uint64_t after = 0;
        for (;;) {
            void (*dtor)(void *) = NULL;
            void *value = NULL;
            weft_lock_acquire(&locals_lock, WEFT_FOREVER);
            for (weft_local *l = locals_head; l != NULL; l = l->next) {
                if (l->seq <= after)
                    continue;
                after = l->seq;
                if (l->dtor == NULL)
                    continue;
                value = pthread_getspecific(l->key);
                if (value != NULL) {
                    /* Cannot fail: the slot exists, it holds a value. */
                    pthread_setspecific(l->key, NULL);
                    dtor = l->dtor;
                    break;
                }
            }
            weft_lock_release(&locals_lock);
            if (dtor == NULL)
                break;
            dtor(value);
            ran = true;
        }
        if (!ran)
            return;
    }
}

void weft__local_fork_prepare(void)
{
    weft_lock_acquire(&locals_lock, WEFT_FOREVER);
}

void weft__local_fork_parent(void)
{
    weft_lock_release(&locals_lock);
}

void weft__local_fork_child(void)
{
    /* The forking thread holds the lock (prepare); nobody else exists. */
    weft_lock_init(&locals_lock);
}
