/* demo.c: the two classic threading-tutorial examples, in C with weft.
 *
 * 1. Five threads each add 100000 to a shared counter under a Lock: the total
 *    is exactly 500000 (without the lock, increments would be lost).
 * 2. Two producers put numbered jobs into a Queue(maxsize=5) and three
 *    consumers take them until they meet a sentinel; task_done/join tells the
 *    main thread when every job has been processed.
 * 3. A ThreadPoolExecutor maps a function over inputs, results in input order.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <weft.h>

#define CHECK(call)                                                                                          \
    do {                                                                                                     \
        int rc_ = (call);                                                                                    \
        if (rc_ != 0) {                                                                                      \
            fprintf(stderr, "%s: %s\n", #call, strerror(rc_));                                               \
            exit(1);                                                                                         \
        }                                                                                                    \
    } while (0)

/* ---- 1. counter with a Lock ---------------------------------------------- */

static weft_lock counter_lock = WEFT_LOCK_INIT;
static long counter;

static int add_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        weft_lock_acquire(&counter_lock, WEFT_FOREVER);
        counter++;
        weft_lock_release(&counter_lock);
    }
    return 0;
}

static void counter_demo(void)
{
    weft_thread *t[5];
    for (int i = 0; i < 5; i++) {
        CHECK(weft_thread_create(&t[i], add_many, NULL, NULL));
        CHECK(weft_thread_start(t[i]));
    }
    for (int i = 0; i < 5; i++) {
        CHECK(weft_thread_join(t[i], WEFT_FOREVER));
        weft_thread_destroy(t[i]);
    }
    printf("counter: 5 threads x 100000 increments = %ld\n", counter);
}

/* ---- 2. producers and consumers through a bounded queue ------------------ */

#define PRODUCERS 2
#define CONSUMERS 3
#define JOBS_EACH 10

static weft_queue *jobs;
static char sentinel; /* its address ends a consumer, like Python's None */
static weft_lock print_lock = WEFT_LOCK_INIT;
static long total;

static int producer(void *arg)
{
    intptr_t id = (intptr_t)arg;
    for (intptr_t i = 1; i <= JOBS_EACH; i++)
        CHECK(weft_queue_put(jobs, (void *)(id * 100 + i), WEFT_FOREVER));
    return 0;
}

static int consumer(void *arg)
{
    (void)arg;
    int done = 0;
    for (;;) {
        void *item;
        CHECK(weft_queue_get(jobs, &item, WEFT_FOREVER));
        if (item == &sentinel) {
            weft_queue_task_done(jobs);
            break;
        }
        weft_lock_acquire(&print_lock, WEFT_FOREVER);
        total += (intptr_t)item;
        weft_lock_release(&print_lock);
        done++;
        weft_queue_task_done(jobs);
    }
    weft_lock_acquire(&print_lock, WEFT_FOREVER);
    printf("  %s processed %d jobs\n", weft_thread_name(weft_current_thread()), done);
    weft_lock_release(&print_lock);
    return 0;
}

static void queue_demo(void)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.maxsize = 5;
    CHECK(weft_queue_create(&jobs, &o));
    weft_thread *p[PRODUCERS], *c[CONSUMERS];
    for (int i = 0; i < CONSUMERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "consumer-%d", i + 1);
        weft_thread_attr a = WEFT_THREAD_ATTR_INIT;
        a.name = name;
        CHECK(weft_thread_create(&c[i], consumer, NULL, &a));
        CHECK(weft_thread_start(c[i]));
    }
    for (intptr_t i = 0; i < PRODUCERS; i++) {
        CHECK(weft_thread_create(&p[i], producer, (void *)(i + 1), NULL));
        CHECK(weft_thread_start(p[i]));
    }
    for (int i = 0; i < PRODUCERS; i++) {
        CHECK(weft_thread_join(p[i], WEFT_FOREVER));
        weft_thread_destroy(p[i]);
    }
    CHECK(weft_queue_join(jobs, WEFT_FOREVER)); /* every job processed */
    for (int i = 0; i < CONSUMERS; i++)
        CHECK(weft_queue_put(jobs, &sentinel, WEFT_FOREVER));
    for (int i = 0; i < CONSUMERS; i++) {
        CHECK(weft_thread_join(c[i], WEFT_FOREVER));
        weft_thread_destroy(c[i]);
    }
    weft_queue_destroy(jobs);
    /* jobs are 101..110 and 201..210 */
    printf("queue: %d jobs through Queue(maxsize=5), sum of job numbers = %ld (expected %d)\n",
           PRODUCERS * JOBS_EACH, total, (101 + 110) * 5 + (201 + 210) * 5);
}

/* ---- 3. executor map ------------------------------------------------------ */

static int square(void *arg, void **result)
{
    intptr_t x = (intptr_t)arg;
    *result = (void *)(x * x);
    return 0;
}

static void pool_demo(void)
{
    weft_pool *pool;
    CHECK(weft_pool_create(&pool, NULL));
    void *args[8], *results[8];
    for (intptr_t i = 0; i < 8; i++)
        args[i] = (void *)i;
    CHECK(weft_pool_map(pool, square, args, 8, results, 2, WEFT_FOREVER));
    printf("pool: map(square, range(8)) =");
    for (int i = 0; i < 8; i++)
        printf(" %" PRIdPTR, (intptr_t)results[i]);
    printf("\n");
    weft_pool_destroy(pool);
}

int main(void)
{
    counter_demo();
    queue_demo();
    pool_demo();
    return 0;
}
