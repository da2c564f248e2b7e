/* tests/diag/test_lockdep.c: the lock-order checker and the deadlock report.
 *
 * The tutorial deadlock: two threads take two locks in opposite orders. Run
 * one after the other, they never deadlock, and lockdep must still report
 * the inversion; run at once, they deadlock, and the watchdog must report the
 * cycle (this binary runs with WEFT_LOCKDEP_TIMEOUT=0.5, see meson.build).
 * The thread bodies are global functions so that call sites resolve by name
 * even without libdw (the executable exports its symbols).
 */
#include <stdatomic.h>

#include "diag_util.h"

static weft_lock lock_a = WEFT_LOCK_INIT;
static weft_lock lock_b = WEFT_LOCK_INIT;

int take_a_then_b(void *arg)
{
    (void)arg;
    weft_lock_acquire(&lock_a, WEFT_FOREVER);
    weft_lock_acquire(&lock_b, WEFT_FOREVER);
    weft_lock_release(&lock_b);
    weft_lock_release(&lock_a);
    return 0;
}

int take_b_then_a(void *arg)
{
    (void)arg;
    weft_lock_acquire(&lock_b, WEFT_FOREVER);
    weft_lock_acquire(&lock_a, WEFT_FOREVER);
    weft_lock_release(&lock_a);
    weft_lock_release(&lock_b);
    return 0;
}

static void run_one(int (*fn)(void *), const char *name)
{
    weft_thread *t = start_thread(fn, NULL, name, false);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_thread_destroy(t);
}

static void name_locks(void)
{
    cr_assert_eq(weft_lock_set_name(&lock_a, "accounts"), 0);
    cr_assert_eq(weft_lock_set_name(&lock_b, "audit-log"), 0);
}

Test(lockdep, inversion_reported_without_deadlock)
{
    weft_lockdep_enable();
    cr_assert(weft_lockdep_enabled());
    name_locks();
    capture_begin();
    run_one(take_a_then_b, "transfer");
    run_one(take_b_then_a, "auditor");
    char *s = capture_text();
    capture_end();
    cr_assert_eq(count_of(s, "weft: lock order inversion"), 1, "%s", s);
    cr_assert(strncmp(s, "weft: lock order inversion", 26) == 0, "%s", s);
    /* Both threads, both locks (address and name), all four call sites. */
    cr_assert(strstr(s, "\"transfer\"") != NULL, "%s", s);
    cr_assert(strstr(s, "\"auditor\"") != NULL, "%s", s);
    char addr[64];
    snprintf(addr, sizeof addr, "lock %p \"accounts\"", (void *)&lock_a);
    cr_assert(strstr(s, addr) != NULL, "%s in %s", addr, s);
    snprintf(addr, sizeof addr, "lock %p \"audit-log\"", (void *)&lock_b);
    cr_assert(strstr(s, addr) != NULL, "%s in %s", addr, s);
    cr_assert_eq(count_of(s, "take_a_then_b+0x"), 2, "%s", s);
    cr_assert_eq(count_of(s, "take_b_then_a+0x"), 2, "%s", s);
    /* The current thread's order first, then the earlier one. */
    cr_assert(strstr(s, "auditor") < strstr(s, "earlier, thread \"transfer\""), "%s", s);
    free(s);
}

Test(lockdep, reported_once)
{
    weft_lockdep_enable();
    capture_begin();
    for (int i = 0; i < 3; i++) {
        run_one(take_a_then_b, "t1");
        run_one(take_b_then_a, "t2");
    }
    char *s = capture_text();
    capture_end();
    cr_assert_eq(count_of(s, "weft: lock order inversion"), 1, "%s", s);
    free(s);
}

Test(lockdep, off_by_default)
{
    cr_assert(!weft_lockdep_enabled());
    capture_begin();
    run_one(take_a_then_b, "t1");
    run_one(take_b_then_a, "t2");
    char *s = capture_text();
    capture_end();
    cr_assert(strstr(s, "weft:") == NULL, "%s", s);
    free(s);
}

Test(lockdep, consistent_order_is_quiet)
{
    weft_lockdep_enable();
    capture_begin();
    run_one(take_a_then_b, "t1");
    run_one(take_a_then_b, "t2");
    /* A non-blocking acquire cannot deadlock: no edge for it. */
    weft_lock_acquire(&lock_b, WEFT_FOREVER);
    cr_assert_eq(weft_lock_acquire(&lock_a, 0), 0);
    weft_lock_release(&lock_a);
    weft_lock_release(&lock_b);
    char *s = capture_text();
    capture_end();
    cr_assert(strstr(s, "weft:") == NULL, "%s", s);
    free(s);
}

/* A chain: A -> B, B -> C, then C -> A closes a cycle of three. */
static weft_lock lock_c = WEFT_LOCK_INIT;

static void take2(weft_lock *x, weft_lock *y)
{
    weft_lock_acquire(x, WEFT_FOREVER);
    weft_lock_acquire(y, WEFT_FOREVER);
    weft_lock_release(y);
    weft_lock_release(x);
}

Test(lockdep, transitive_inversion)
{
    weft_lockdep_enable();
    capture_begin();
    take2(&lock_a, &lock_b);
    take2(&lock_b, &lock_c);
    take2(&lock_c, &lock_a);
    char *s = capture_text();
    capture_end();
    cr_assert_eq(count_of(s, "weft: lock order inversion"), 1, "%s", s);
    cr_assert_eq(count_of(s, "  earlier, thread"), 2, "%s", s);
    free(s);
}

static weft_rlock rl = WEFT_RLOCK_INIT;

int take_rlock_then_a(void *arg)
{
    (void)arg;
    weft_rlock_acquire(&rl, WEFT_FOREVER);
    weft_rlock_acquire(&rl, WEFT_FOREVER); /* recursion is not an acquisition */
    weft_lock_acquire(&lock_a, WEFT_FOREVER);
    weft_lock_release(&lock_a);
    weft_rlock_release(&rl);
    weft_rlock_release(&rl);
    return 0;
}

int take_a_then_rlock(void *arg)
{
    (void)arg;
    weft_lock_acquire(&lock_a, WEFT_FOREVER);
    weft_rlock_acquire(&rl, WEFT_FOREVER);
    weft_rlock_release(&rl);
    weft_lock_release(&lock_a);
    return 0;
}

Test(lockdep, rlock)
{
    weft_lockdep_enable();
    cr_assert_eq(weft_diag_set_name(&rl, "registry"), 0);
    capture_begin();
    run_one(take_rlock_then_a, "r1");
    run_one(take_a_then_rlock, "r2");
    char *s = capture_text();
    capture_end();
    cr_assert_eq(count_of(s, "weft: lock order inversion"), 1, "%s", s);
    cr_assert(strstr(s, "rlock ") != NULL && strstr(s, "\"registry\"") != NULL, "%s", s);
    cr_assert(strstr(s, "take_rlock_then_a+0x") != NULL, "%s", s);
    free(s);
}

/* The lock under a Condition: a wait re-acquires it while the caller holds
 * lock_b, which orders b before a; then a thread takes a then b. */
static weft_cond cv;
static atomic_int cv_ready;

int wait_holding_b(void *arg)
{
    (void)arg;
    weft_lock_acquire(&lock_b, WEFT_FOREVER);
    weft_lock_acquire(&lock_a, WEFT_FOREVER);
    weft_lock_release(&lock_b); /* out of order: b was taken first */
    weft_lock_acquire(&lock_b, 0);
    atomic_store(&cv_ready, 1);
    while (atomic_load(&cv_ready) != 2)
        weft_cond_wait(&cv, 0.01);
    weft_lock_release(&lock_a);
    weft_lock_release(&lock_b);
    return 0;
}

Test(lockdep, cond_wait_reacquires)
{
    weft_lockdep_enable();
    cr_assert_eq(weft_cond_init(&cv, &lock_a), 0);
    capture_begin();
    weft_thread *t = start_thread(wait_holding_b, NULL, "waiter", false);
    while (atomic_load(&cv_ready) != 1)
        nap_ms(1);
    atomic_store(&cv_ready, 2);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_thread_destroy(t);
    char *s = capture_text();
    cr_assert(strstr(s, "weft:") == NULL, "%s", s); /* b (trylock) then a: no order yet... */
    free(s);
    run_one(take_a_then_b, "taker");
    s = capture_text();
    capture_end();
    /* ... but the wait re-acquired a while holding b: b -> a, against a -> b. */
    cr_assert_eq(count_of(s, "weft: lock order inversion"), 1, "%s", s);
    cr_assert(strstr(s, "wait_holding_b+0x") != NULL, "%s", s);
    free(s);
}

/* weft_lock is not owned: a lock taken by one thread and released by
 * another (a binary semaphore) must not stay "held" by the first. */
static weft_event handed;

int release_a(void *arg)
{
    (void)arg;
    weft_event_wait(&handed, WEFT_FOREVER);
    weft_lock_release(&lock_a);
    return 0;
}

Test(lockdep, released_by_another_thread)
{
    weft_lockdep_enable();
    capture_begin();
    weft_thread *t = start_thread(release_a, NULL, "releaser", false);
    weft_lock_acquire(&lock_a, WEFT_FOREVER);
    weft_event_set(&handed);
    cr_assert_eq(weft_thread_join(t, WEFT_FOREVER), 0);
    weft_thread_destroy(t);
    /* Had a stayed on our stack, this would record a -> b, then b -> a. */
    take2(&lock_b, &lock_a);
    char *s = capture_text();
    capture_end();
    cr_assert(strstr(s, "weft:") == NULL, "%s", s);
    free(s);
}

Test(lockdep, forget)
{
    weft_lockdep_enable();
    cr_assert_eq(weft_lockdep_forget(NULL), EINVAL);
    capture_begin();
    take2(&lock_a, &lock_b);
    cr_assert_eq(weft_lockdep_forget(&lock_a), 0);
    take2(&lock_b, &lock_a);
    char *s = capture_text();
    capture_end();
    cr_assert(strstr(s, "weft:") == NULL, "%s", s);
    free(s);
}

/* ---- the real deadlock ---------------------------------------------------- */

static weft_event a_taken, b_taken;

int deadlock_ab(void *arg)
{
    (void)arg;
    weft_lock_acquire(&lock_a, WEFT_FOREVER);
    weft_event_set(&a_taken);
    weft_event_wait(&b_taken, WEFT_FOREVER);
    weft_lock_acquire(&lock_b, WEFT_FOREVER); /* never returns */
    return 0;
}

int deadlock_ba(void *arg)
{
    (void)arg;
    weft_lock_acquire(&lock_b, WEFT_FOREVER);
    weft_event_set(&b_taken);
    weft_event_wait(&a_taken, WEFT_FOREVER);
    weft_lock_acquire(&lock_a, WEFT_FOREVER); /* never returns */
    return 0;
}

Test(lockdep, deadlock_reported_by_watchdog)
{
    weft_lockdep_enable();
    name_locks();
    capture_begin();
    /* Daemons: the test process exits with them still deadlocked. */
    start_thread(deadlock_ab, NULL, "left", true);
    start_thread(deadlock_ba, NULL, "right", true);
    char *s = capture_wait_for("weft: deadlock:");
    cr_assert(s != NULL, "no deadlock report");
    free(s);
    nap_ms(50); /* the rest of the block */
    s = capture_text();
    capture_end();
    /* The inversion came first, before the threads blocked for good. */
    cr_assert(strstr(s, "weft: lock order inversion") != NULL, "%s", s);
    cr_assert(strstr(s, "weft: lock order inversion") < strstr(s, "weft: deadlock:"), "%s", s);
    const char *d = strstr(s, "weft: deadlock:");
    cr_assert(strstr(d, "2 threads wait for each other") != NULL, "%s", d);
    cr_assert(strstr(d, "thread \"left\"") != NULL && strstr(d, "thread \"right\"") != NULL, "%s", d);
    char want[96];
    snprintf(want, sizeof want, "wants lock %p \"audit-log\"", (void *)&lock_b);
    cr_assert(strstr(d, want) != NULL, "%s in %s", want, d);
    snprintf(want, sizeof want, "holds lock %p \"accounts\"", (void *)&lock_a);
    cr_assert(strstr(d, want) != NULL, "%s in %s", want, d);
    cr_assert(strstr(d, "blocked in weft_lock_acquire for") != NULL, "%s", d);
    cr_assert(strstr(d, "deadlock_ab+0x") != NULL && strstr(d, "deadlock_ba+0x") != NULL, "%s", d);
    free(s);
    /* And the dump names the holders (lockdep on). */
    capture_begin();
    cr_assert_eq(weft_dump(stderr), 0);
    s = capture_text();
    capture_end();
    cr_assert(strstr(s, "held by \"left\"") != NULL && strstr(s, "held by \"right\"") != NULL, "%s", s);
    free(s);
}

int self_deadlock(void *arg)
{
    (void)arg;
    weft_lock_acquire(&lock_c, WEFT_FOREVER);
    weft_lock_acquire(&lock_c, WEFT_FOREVER); /* a Lock is not re-entrant */
    return 0;
}

Test(lockdep, self_deadlock)
{
    weft_lockdep_enable();
    capture_begin();
    start_thread(self_deadlock, NULL, "selfish", true);
    char *s = capture_wait_for("weft: deadlock:");
    cr_assert(s != NULL, "no deadlock report");
    nap_ms(50);
    free(s);
    s = capture_text();
    capture_end();
    cr_assert(strstr(s, "1 thread waits for a lock it holds itself") != NULL, "%s", s);
    free(s);
}
