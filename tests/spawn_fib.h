/* tests/spawn_fib.h: fib with weft_spawn / weft_sync in Lace's shape (fork
 * fib(n-1), call fib(n-2), join), the fork-join that the pool tests, the
 * stress programs and tools/outside_probe.c run. Header-only. */
#ifndef WEFT_TESTS_SPAWN_FIB_H
#define WEFT_TESTS_SPAWN_FIB_H

#include "weft.h"

typedef struct spawn_fib_arg {
    int n;
    long result;
} spawn_fib_arg;

/* arg: a spawn_fib_arg; writes fib(n) into result. */
static inline void spawn_fib(void *arg)
{
    spawn_fib_arg *a = arg;
    if (a->n < 2) {
        a->result = a->n;
        return;
    }
    spawn_fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
    weft_spawn(spawn_fib, &x);
    spawn_fib(&y);
    weft_sync();
    a->result = x.result + y.result;
}

#endif /* WEFT_TESTS_SPAWN_FIB_H */
