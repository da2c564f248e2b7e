/* tests/thread/atexit_helper.c: a program that returns from main while a
 * weft thread still runs, for test_thread.c's exit-time join tests.
 *
 * Usage: atexit_helper daemon|nondaemon
 * The thread sleeps 0.3 s (nondaemon) or 30 s (daemon), then writes "x" to
 * stdout. With a non-daemon thread the exit-time join must let the write
 * happen; with a daemon thread the process must exit without it. The handle
 * is destroyed (the thread detached) before main returns, so the sanitizers
 * see no leak and the join must not depend on the handle.
 */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "weft/thread.h"

static int late_write(void *arg)
{
    const struct timespec *nap = arg;
    nanosleep(nap, NULL);
    return write(STDOUT_FILENO, "x", 1) == 1 ? 0 : EIO;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    bool daemon = strcmp(argv[1], "daemon") == 0;
    static struct timespec nap;
    nap.tv_sec = daemon ? 30 : 0;
    nap.tv_nsec = daemon ? 0 : 300000000L;
    weft_thread_attr attr = WEFT_THREAD_ATTR_INIT;
    attr.daemon = daemon;
    weft_thread *t;
    if (weft_thread_create(&t, late_write, &nap, &attr) != 0 || weft_thread_start(t) != 0)
        return 3;
    /* Detached: the exit-time join must still cover it. */
    weft_thread_destroy(t);
    return 0;
}
