/* Threads with arguments, join, and the target's return value. */
#include <stdio.h>
#include <weft.h>

struct job {
    int n;
    long square;
};

static int worker(void *arg)
{
    struct job *j = arg;
    j->square = (long)j->n * j->n;
    return 0;
}

int main(void)
{
    struct job jobs[3] = {{1, 0}, {2, 0}, {3, 0}};
    weft_thread *t[3];
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "worker-%d", i + 1);
        weft_thread_attr attr = {name, false, 0};
        if (weft_thread_create(&t[i], worker, &jobs[i], &attr) != 0 || weft_thread_start(t[i]) != 0)
            return 1;
    }
    for (int i = 0; i < 3; i++) {
        weft_thread_join(t[i], WEFT_FOREVER);
        printf("%s: %d squared is %ld\n", weft_thread_name(t[i]), jobs[i].n, jobs[i].square);
        weft_thread_destroy(t[i]);
    }
    return 0;
}
