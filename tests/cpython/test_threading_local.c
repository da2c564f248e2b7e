/* tests/cpython/test_threading_local.c: CPython's
 * Lib/test/test_threading_local.py translated to weft_local. Python runs
 * BaseLocalTest on _thread._local and _threading_local.local; weft has one
 * weft_local. An attribute is the local's one pointer; "weakref dead" is
 * "the destructor ran". Skipped cases: SKIPPED.md.
 */
#include <pthread.h>

#include "cpy.h"

static _Atomic int freed;

static void count_free(void *v)
{
    free(v);
    atomic_fetch_add(&freed, 1);
}

static int set_weak(void *arg)
{
    return weft_local_set(arg, malloc(16));
}

static void local_refs(int n)
{
    weft_local l;
    cr_assert_eq(weft_local_init(&l, count_free), 0);
    atomic_store(&freed, 0);
    for (int i = 0; i < n; i++) {
        weft_thread *t = cpy_start(set_weak, &l);
        cpy_join(t);
    }
    /* Python accepts n - 1 (it keeps the last stopped thread's dict); weft's
     * destructor runs before join returns, so all n are gone. */
    cr_assert_eq(atomic_load(&freed), n);
    weft_local_deinit(&l);
}

/* test_local_refs */
Test(threading_local, local_refs)
{
    local_refs(20);
    local_refs(50);
    local_refs(100);
}

struct derived {
    weft_local l;
    _Atomic int bad;
};

static struct derived dv;

static int derived_f(void *arg)
{
    long i = (long)arg;
    weft_local_set(&dv.l, (void *)(i + 1));
    cpy_sleep(0.001);
    if ((long)weft_local_get(&dv.l) != i + 1)
        atomic_fetch_add(&dv.bad, 1);
    return 0;
}

/* test_derived */
Test(threading_local, derived)
{
    cr_assert_eq(weft_local_init(&dv.l, NULL), 0);
    weft_thread *t[10];
    for (long i = 0; i < 10; i++)
        t[i] = cpy_start(derived_f, (void *)i);
    for (int i = 0; i < 10; i++)
        cpy_join(t[i]);
    cr_assert_eq(atomic_load(&dv.bad), 0);
    weft_local_deinit(&dv.l);
}

struct one_class {
    weft_local obj;
    weft_event e1, e2;
    _Atomic int seen; /* 1: f2 saw no value (passed); 2: it saw one */
};

static int f1(void *arg)
{
    struct one_class *c = arg;
    weft_local_set(&c->obj, (void *)"foo");
    weft_event_set(&c->e1);
    weft_event_wait(&c->e2, WEFT_FOREVER);
    return 0;
}

static int f2(void *arg)
{
    struct one_class *c = arg;
    atomic_store(&c->seen, weft_local_get(&c->obj) == NULL ? 1 : 2);
    return 0;
}

/* test_threading_local (_test_one_class) */
Test(threading_local, threading_local)
{
    static struct one_class c;
    cr_assert_eq(weft_local_init(&c.obj, NULL), 0);
    weft_event_init(&c.e1);
    weft_event_init(&c.e2);
    weft_thread *t1 = cpy_start(f1, &c);
    cr_assert_eq(weft_event_wait(&c.e1, SHORT_TIMEOUT), 0);
    weft_thread *t2 = cpy_start(f2, &c);
    cpy_join(t2);
    weft_event_set(&c.e2);
    cpy_join(t1);
    cr_assert_eq(atomic_load(&c.seen), 1, "Incorrectly got a value set by another thread");
    weft_local_deinit(&c.obj);
}

static void *foreign_thread(void *arg)
{
    weft_event_wait(arg, WEFT_FOREVER);
    return NULL;
}

/* test_threading_local_clear_race: locals made and dropped while a thread
 * that weft did not start (a "C thread") lives. */
Test(threading_local, threading_local_clear_race)
{
    weft_event stop = WEFT_EVENT_INIT;
    pthread_t pt;
    cr_assert_eq(pthread_create(&pt, NULL, foreign_thread, &stop), 0);
    for (int i = 0; i < 1000; i++) {
        weft_local l;
        cr_assert_eq(weft_local_init(&l, count_free), 0);
        weft_local_deinit(&l);
    }
    weft_event_set(&stop);
    cr_assert_eq(pthread_join(pt, NULL), 0);
}
