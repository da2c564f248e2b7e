/* Four threads increment a shared counter under a Lock. */
#include <stdio.h>
#include <weft.h>

static weft_lock lock = WEFT_LOCK_INIT;
static long counter;

static int increment(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100000; i++) {
        weft_lock_acquire(&lock, WEFT_FOREVER); /* with lock: */
        counter++;
        weft_lock_release(&lock);
    }
    return 0;
}

int main(void)
{
    weft_thread *t[4];
    for (int i = 0; i < 4; i++)
        if (weft_thread_create(&t[i], increment, NULL, NULL) != 0 || weft_thread_start(t[i]) != 0)
            return 1;
    for (int i = 0; i < 4; i++) {
        weft_thread_join(t[i], WEFT_FOREVER);
        weft_thread_destroy(t[i]);
    }
    printf("counter = %ld\n", counter);
    return 0;
}
