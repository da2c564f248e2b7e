/* ThreadPoolExecutor: submit, map, and as_completed with a failing task. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <weft.h>

static int square(void *arg, void **result)
{
    intptr_t x = (intptr_t)arg;
    *result = (void *)(x * x);
    return 0;
}

static int checked_inverse(void *arg, void **result)
{
    intptr_t x = (intptr_t)arg;
    if (x == 0)
        return EDOM; /* raise ZeroDivisionError */
    *result = (void *)(1000 / x);
    return 0;
}

int main(void)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 4;
    weft_pool *pool;
    if (weft_pool_create(&pool, &o) != 0)
        return 1;

    weft_future *f;
    void *r;
    weft_pool_submit(pool, square, (void *)7, &f);
    weft_future_result(f, WEFT_FOREVER, &r);
    printf("submit: 7 squared = %ld\n", (long)(intptr_t)r);
    weft_future_release(f);

    void *args[5] = {(void *)1, (void *)2, (void *)3, (void *)4, (void *)5}, *res[5];
    weft_pool_map(pool, square, args, 5, res, 1, WEFT_FOREVER);
    printf("map:");
    for (int i = 0; i < 5; i++)
        printf(" %ld", (long)(intptr_t)res[i]);
    printf("\n");

    intptr_t inputs[4] = {4, 0, 10, 5};
    weft_future *fs[4];
    for (int i = 0; i < 4; i++)
        weft_pool_submit(pool, checked_inverse, (void *)inputs[i], &fs[i]);
    weft_as_completed *it;
    weft_as_completed_begin(&it, fs, 4, WEFT_FOREVER);
    long ok_sum = 0;
    int failed = 0;
    while (weft_as_completed_next(it, &f) == 0) {
        int rc = weft_future_result(f, 0, &r);
        if (rc == 0)
            ok_sum += (long)(intptr_t)r;
        else
            failed++; /* except ZeroDivisionError */
    }
    weft_as_completed_end(it);
    printf("as_completed: %d failed (%s), sum of the others = %ld\n", failed, strerror(EDOM), ok_sum);
    for (int i = 0; i < 4; i++)
        weft_future_release(fs[i]);
    weft_pool_destroy(pool); /* the with-block's end: shutdown(wait=True) */
    return 0;
}
