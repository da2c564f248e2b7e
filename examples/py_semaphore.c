/* A Semaphore lets at most two of six workers in at once. */
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <weft.h>

static weft_sem slots;
static _Atomic int inside, most;

static int worker(void *arg)
{
    (void)arg;
    weft_sem_acquire(&slots, WEFT_FOREVER); /* with sem: */
    int now = atomic_fetch_add(&inside, 1) + 1;
    int m = atomic_load(&most);
    while (now > m && !atomic_compare_exchange_weak(&most, &m, now))
        ;
    struct timespec ts = {0, 20000000};
    nanosleep(&ts, NULL);
    atomic_fetch_sub(&inside, 1);
    weft_sem_release(&slots, 1);
    return 0;
}

int main(void)
{
    weft_sem_init(&slots, 2);
    weft_thread *t[6];
    for (int i = 0; i < 6; i++)
        if (weft_thread_create(&t[i], worker, NULL, NULL) != 0 || weft_thread_start(t[i]) != 0)
            return 1;
    for (int i = 0; i < 6; i++) {
        weft_thread_join(t[i], WEFT_FOREVER);
        weft_thread_destroy(t[i]);
    }
    printf("6 workers done, never more than 2 inside: %s\n", atomic_load(&most) <= 2 ? "yes" : "no");
    return 0;
}
