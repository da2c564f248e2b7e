/* joblib's Parallel(n_jobs=4)(delayed(f)(i) for i in range(n)). */
#include <stdio.h>
#include <weft.h>

#define N 1000

static long out[N];

static void body(void *ctx, size_t lo, size_t hi)
{
    (void)ctx;
    for (size_t i = lo; i < hi; i++)
        out[i] = (long)(i * i); /* f(i) */
}

int main(void)
{
    weft_pool_options o = WEFT_POOL_OPTIONS_INIT;
    o.max_workers = 4;
    weft_pool *pool;
    if (weft_pool_create(&pool, &o) != 0)
        return 1;
    weft_parallel_for(pool, 0, N, 0, body, NULL);
    long sum = 0;
    for (size_t i = 0; i < N; i++)
        sum += out[i];
    printf("results[:5] = %ld %ld %ld %ld %ld\n", out[0], out[1], out[2], out[3], out[4]);
    printf("sum = %ld\n", sum);
    weft_pool_destroy(pool);
    return 0;
}
