/* tests/stress/diag/stress_lockdep.c: lockdep, the thread records and the
 * dump from many threads at once, for ThreadSanitizer.
 *
 *     stress_lockdep threads seconds [--yield] [--seed N]
 *
 * Every worker takes random subsets of NLOCKS locks (and an RLock) in one
 * global order, with random timeouts, releases them in random order (holes in
 * the held stacks), waits on a Condition now and then (its re-acquire is
 * tracked, so it happens only with no later lock held), and worker 0 dumps to /dev/null and renames objects while the
 * others run. The order is consistent, so lockdep must report nothing: any
 * "weft:" line on stderr is a failure (stderr goes to a temporary file and is
 * echoed at the end). Under TSan this checks that the records, the held
 * stacks, the seqlocks and the graph are race-free.
 */
#include <unistd.h>

#include "../sync/stress_util.h"
#include "weft/diag.h"

#define NLOCKS 6

static weft_lock locks[NLOCKS];
static weft_rlock rl;
static weft_cond cv;

static void *worker(void *arg)
{
    stress_worker *w = arg;
    FILE *devnull = w->id == 0 ? fopen("/dev/null", "w") : NULL;
    while (stress_running()) {
        bool held[NLOCKS] = {false};
        bool rheld = false;
        if (stress_one_in(&w->rng, 3))
            rheld = weft_rlock_acquire(&rl, stress_timeout(&w->rng)) == 0;
        for (int i = 0; i < NLOCKS; i++) {
            if (stress_one_in(&w->rng, 2))
                continue;
            held[i] = weft_lock_acquire(&locks[i], stress_timeout(&w->rng)) == 0;
            stress_maybe_yield(&w->rng);
        }
        bool only0 = held[0];
        for (int i = 1; i < NLOCKS; i++)
            only0 = only0 && !held[i];
        /* Not while holding a later lock: the re-acquire of locks[0] would
         * then be a real inversion (and lockdep would rightly say so). */
        if (only0 && stress_one_in(&w->rng, 8))
            weft_cond_wait(&cv, 1e-4);
        if (held[0] && stress_one_in(&w->rng, 4))
            weft_cond_notify(&cv, 1);
        for (int k = 0; k < NLOCKS; k++) {
            int i = (int)(stress_rand(&w->rng) % NLOCKS);
            if (held[i]) {
                weft_lock_release(&locks[i]);
                held[i] = false;
            }
        }
        for (int i = NLOCKS - 1; i >= 0; i--)
            if (held[i])
                weft_lock_release(&locks[i]);
        if (rheld)
            weft_rlock_release(&rl);
        if (devnull != NULL && stress_one_in(&w->rng, 16)) {
            weft_dump(devnull);
            weft_diag_set_name(&locks[stress_rand(&w->rng) % NLOCKS], stress_one_in(&w->rng, 2) ? "a" : "b");
        }
        w->ops++;
    }
    if (devnull != NULL)
        fclose(devnull);
    return NULL;
}

int main(int argc, char **argv)
{
    stress_parse(argc, argv, 1);
    for (int i = 0; i < NLOCKS; i++)
        weft_lock_init(&locks[i]);
    weft_rlock_init(&rl);
    weft_cond_init(&cv, &locks[0]);
    weft_lockdep_enable();

    char path[] = "/tmp/weft-stress-lockdep-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 2;
    unlink(path);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);

    stress_worker w[STRESS_MAX_THREADS];
    bool joined = stress_run(w, worker, NULL);

    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    char buf[4096];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    if (n > 0) {
        fputs(buf, stderr);
        if (strstr(buf, "weft:") != NULL)
            stress_fail("lockdep reported something for a consistent lock order");
    }
    return stress_finish("stress_lockdep", joined, w);
}
