/* tests/sync/test_null.c: the one NULL contract (include/weft/common.h), for
 * every function of the sync, queue and ring modules and weft_group_init:
 * a NULL object makes an int function return EINVAL, a bool query false, a
 * size query 0, and a void function do nothing. Issue 10 item 4 listed the
 * fifteen that crashed; each has a test here, the rest are checked too.
 */
#include <errno.h>
#include <math.h>

#include "sync_util.h"

#include "weft/pool.h"
#include "weft/queue.h"

TestSuite(null, .timeout = 60);

static bool always(void *ctx)
{
    (void)ctx;
    return true;
}

Test(null, lock)
{
    cr_assert_eq(weft_lock_acquire(NULL, WEFT_FOREVER), EINVAL); /* crashed */
    cr_assert_eq(weft_lock_acquire(NULL, 0), EINVAL);
    cr_assert_eq(weft_lock_acquire(NULL, NAN), EINVAL);
    cr_assert_eq(weft_lock_release(NULL), EINVAL);
    cr_assert_not(weft_lock_locked(NULL));
    weft_lock_init(NULL);
}

Test(null, rlock)
{
    weft_rlock_init(NULL);
    cr_assert_eq(weft_rlock_acquire(NULL, WEFT_FOREVER), EINVAL);
    cr_assert_eq(weft_rlock_release(NULL), EINVAL);
    cr_assert_not(weft_rlock_is_owned(NULL));
    cr_assert_not(weft_rlock_locked(NULL));
}

Test(null, cond)
{
    weft_cond c;
    weft_lock l = WEFT_LOCK_INIT;
    cr_assert_eq(weft_cond_init(NULL, &l), EINVAL);
    cr_assert_eq(weft_cond_init(&c, NULL), EINVAL);
    cr_assert_eq(weft_cond_init_rlock(NULL, NULL), EINVAL);
    cr_assert_eq(weft_cond_wait(NULL, 0.01), EINVAL); /* crashed */
    cr_assert_eq(weft_cond_wait(NULL, WEFT_FOREVER), EINVAL);
    cr_assert_eq(weft_cond_wait_for(NULL, always, NULL, 0.01), EINVAL);
    cr_assert_eq(weft_cond_notify(NULL, 1), EINVAL);
    cr_assert_eq(weft_cond_notify(NULL, 0), EINVAL);
    cr_assert_eq(weft_cond_notify_all(NULL), EINVAL);
}

Test(null, sem)
{
    cr_assert_eq(weft_sem_init(NULL, 1), EINVAL);
    cr_assert_eq(weft_sem_init_bounded(NULL, 1), EINVAL);
    cr_assert_eq(weft_sem_acquire(NULL, WEFT_FOREVER), EINVAL); /* crashed */
    cr_assert_eq(weft_sem_acquire(NULL, 0), EINVAL);
    cr_assert_eq(weft_sem_release(NULL, 1), EINVAL);
    cr_assert_eq(weft_sem_value(NULL), 0);
}

Test(null, event)
{
    weft_event_init(NULL);
    weft_event_set(NULL); /* crashed */
    weft_event_clear(NULL);
    cr_assert_not(weft_event_is_set(NULL));
    cr_assert_eq(weft_event_wait(NULL, 0.01), EINVAL);
    cr_assert_eq(weft_event_wait(NULL, WEFT_FOREVER), EINVAL);
}

Test(null, barrier)
{
    size_t index = 7;
    cr_assert_eq(weft_barrier_init(NULL, 2, NULL, NULL, WEFT_FOREVER), EINVAL);
    cr_assert_eq(weft_barrier_wait(NULL, WEFT_FOREVER, &index), EINVAL); /* crashed */
    cr_assert_eq(index, 7, "nothing written on failure");
    cr_assert_eq(weft_barrier_n_waiting(NULL), 0); /* crashed */
    cr_assert_eq(weft_barrier_parties(NULL), 0);
    cr_assert_not(weft_barrier_broken(NULL));
    weft_barrier_abort(NULL);
    weft_barrier_reset(NULL);
}

Test(null, ring)
{
    void *v = &v;
    cr_assert_eq(weft_ring_create(NULL, 4), EINVAL);
    cr_assert_eq(weft_ring_try_push(NULL, v), EINVAL); /* crashed */
    cr_assert_eq(weft_ring_try_pop(NULL, &v), EINVAL); /* crashed */
    cr_assert_eq(v, (void *)&v, "nothing written on failure");
    cr_assert_eq(weft_ring_size(NULL), 0);             /* crashed */
    cr_assert_eq(weft_ring_capacity(NULL), 0);         /* crashed */
    weft_ring_destroy(NULL);
}

Test(null, queue)
{
    void *v = &v;
    cr_assert_eq(weft_queue_create(NULL, NULL), EINVAL);
    cr_assert_eq(weft_queue_put(NULL, v, 0), EINVAL);
    cr_assert_eq(weft_queue_get(NULL, &v, 0), EINVAL);
    cr_assert_eq(weft_queue_qsize(NULL), 0);   /* crashed */
    cr_assert_not(weft_queue_empty(NULL));     /* crashed */
    cr_assert_not(weft_queue_full(NULL));      /* crashed */
    cr_assert_not(weft_queue_is_shutdown(NULL)); /* crashed */
    cr_assert_eq(weft_queue_unfinished_tasks(NULL), 0);
    cr_assert_eq(weft_queue_task_done(NULL), EINVAL);
    cr_assert_eq(weft_queue_join(NULL, 0), EINVAL);
    weft_queue_shutdown(NULL, true);
    weft_queue_destroy(NULL);
}

Test(null, group_init)
{
    weft_group_init(NULL, NULL); /* crashed */
}
