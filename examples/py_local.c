/* Thread-local data: each thread sees only its own value. */
#include <stdio.h>
#include <weft.h>

static weft_local mydata;

static int show(void *arg)
{
    weft_local_set(&mydata, arg); /* mydata.x = arg */
    const char *mine = weft_local_get(&mydata);
    return mine == arg ? 0 : 1;
}

int main(void)
{
    weft_local_init(&mydata, NULL);
    weft_local_set(&mydata, "main's value");
    const char *values[2] = {"first thread's value", "second thread's value"};
    for (int i = 0; i < 2; i++) {
        weft_thread *t;
        if (weft_thread_create(&t, show, (void *)values[i], NULL) != 0 || weft_thread_start(t) != 0)
            return 1;
        weft_thread_join(t, WEFT_FOREVER);
        printf("thread %d saw its own value: %s\n", i + 1, weft_thread_exit_code(t) == 0 ? "yes" : "no");
        weft_thread_destroy(t);
    }
    printf("main still sees: %s\n", (const char *)weft_local_get(&mydata));
    weft_local_deinit(&mydata);
    return 0;
}
