/* sched/giveback.c: handing the memory of freed task records back to the
 * system, after a pool is destroyed and after a large backlog drained
 * (issue 10 item 5; docs/RELIABILITY.md, "Memory").
 *
 * Design note.
 * Why memory stays. An outside submission takes a record from the pool's
 * spare ring or from aligned_alloc; a worker that ran it keeps it in its free
 * list (256) or the spare ring (1024) and free()s the rest (records.c). So a
 * backlog of B records leaves B - 1024 - 256 * workers of them in glibc once
 * it drains. glibc puts those 80-byte chunks in tcache and fastbins, which
 * are not coalesced until a consolidation, so the heap cannot shrink: an
 * unbounded pool's resident memory followed the largest backlog its
 * submitters ever built up (tools/rss_submit 10 0 0: 6.7 MiB after 1M tasks,
 * 22.3 MiB after 10M) until malloc_trim, which consolidates and madvises
 * free pages away. A pool-owned slab that merely recycles records would keep
 * its peak too.
 *
 * The rule. Every thread counts the records it free()s, in a thread-local
 * count published to a process-wide total every GIVEBACK_BATCH frees and
 * whenever its worker is about to wait for work. A worker that is about to
 * sleep because no work is visible anywhere in its pool (idle.c's park,
 * after its re-checks; mutexq.c's condition wait, with the list empty)
 * compares the total with the mark of the last give-back. If it is at least
 * WEFT__GIVEBACK_RECORDS (2048) above, or WEFT__GIVEBACK_RECORDS_IDLE (256)
 * when every other worker of the pool waits already (the pool is idle: the
 * drain is over and the trim delays none of its tasks), the worker claims
 * the give-back by moving the mark (one CAS: one claimant per interval),
 * leaves the idle state, frees its pool's spare ring, calls malloc_trim(0)
 * and looks for work again. Since every worker publishes before it sleeps,
 * the last one to sleep after a drain sees all of it: once a pool is idle,
 * what stays resident of its backlog is under 256 records' chunks (20 KiB),
 * plus what outside threads have not published (under GIVEBACK_BATCH each)
 * and the pages that the free lists' records pin. While the pool is busy
 * but momentarily without visible work, under 2048 (160 KiB).
 *
 * Measured (tools/rss_submit 10 0 0, RSS after 10M tasks against after the
 * first million, 2 workers). The first version had only the 2048 rule and
 * kept the spare ring: 2.8-4.6 MiB against 2.9-3.0 (a trim by hand changed
 * nothing: the ring's 1024 records, scattered over the pages the backlog
 * used, pinned them). Emptying the ring: 2.4-3.2 against 2.4-3.1, up to
 * +17 %. With the idle rule: 2.5-2.7 against 2.5-2.7, 0 to +4 %. The
 * submitter refills the ring from fresh chunks. The workers' free lists
 * (owner only) stay.
 *
 * Cost. Only records beyond the free lists and the spare ring are counted,
 * so a pool whose backlog stays under 1024 + 256 * workers never trims; the
 * spawn/run path is untouched (a counted free() costs a thread-local
 * increment beside the call). A trim runs on a worker with nothing to do,
 * at most once per 2048 frees while its pool is busy, or once per 256 and
 * per idle period, and a task that arrives meanwhile wakes another worker,
 * or waits for this one as it would for a busy one. malloc_trim takes about
 * 60-120 ns per freed record (the consolidation and madvise calls; 65536
 * records: 4-8 ms, 1M: 70-125 ms on the shared VM), and a few microseconds
 * on a small heap. It holds each arena's lock in turn, so a malloc on
 * another thread may wait for the walk, and the next backlog faults its
 * pages in again. It also walks the rest of the process's heap: an
 * application with a large fragmented heap pays for that walk at each
 * give-back. The thresholds trade that cost against what stays resident;
 * 2048 records are about glibc's own M_TRIM_THRESHOLD (128 KiB), the size at
 * which free() itself gives memory back.
 *
 * Counts are relaxed: they only decide when to trim, publish nothing, and a
 * lost or late count only moves one give-back by one batch.
 *
 * Two cautions (7deb3d9). glibc initialises its arenas lazily and
 * malloc_trim does so unlocked when malloc was never called through glibc,
 * which is the case under a sanitizer (or an interposed allocator) that owns
 * malloc: two pools destroyed at once from two threads then raced in
 * ptmalloc_init, crashing in mtrim or aborting at thread exit
 * ("a->attached_threads > 0"; callbacks::initializer_reenters under ASan,
 * 22 of 200 runs). So calls are serialised by trim_lock, and skipped under
 * ASan/TSan/MSan, whose allocator glibc's trim cannot reach anyway. And
 * trim_lock is held across fork (the GIVEBACK fork slot): a worker may be
 * trimming when another thread forks, and a child that inherited the lock
 * held would hang in its first weft_pool_destroy.
 */
#include "sched/giveback.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "internal/atomics.h"
#include "sched/records.h"
#include "thread/fork.h"

enum { GIVEBACK_BATCH = 256 }; /* thread-local frees per publication */

static_assert(GIVEBACK_BATCH <= WEFT__GIVEBACK_RECORDS_IDLE &&
                  WEFT__GIVEBACK_RECORDS_IDLE <= WEFT__GIVEBACK_RECORDS,
              "a batch is at most an idle pool's give-back interval");

static pthread_mutex_t trim_lock = PTHREAD_MUTEX_INITIALIZER;

#ifdef WEFT__GIVEBACK_TRIM
static _Thread_local size_t unpublished __attribute__((tls_model("initial-exec")));
static _Atomic size_t freed; /* records free()d by all threads, published */
static _Atomic size_t mark;  /* freed at the last give-back */

static void publish(void)
{
    atomic_fetch_add_explicit(&freed, unpublished, memory_order_relaxed);
    unpublished = 0;
}
#endif

void weft__giveback_count_free(void)
{
#ifdef WEFT__GIVEBACK_TRIM
    if (++unpublished >= GIVEBACK_BATCH)
        publish();
#endif
}

bool weft__giveback_claim(bool pool_idle)
{
#ifdef WEFT__GIVEBACK_TRIM
    if (unpublished != 0)
        publish();
    size_t f = atomic_load_explicit(&freed, memory_order_relaxed);
    size_t m = atomic_load_explicit(&mark, memory_order_relaxed);
    /* f < m: another claimant read a newer total than our stale one. */
    if (f < m || f - m < (pool_idle ? WEFT__GIVEBACK_RECORDS_IDLE : WEFT__GIVEBACK_RECORDS))
        return false;
    return atomic_compare_exchange_strong_explicit(&mark, &m, f, memory_order_relaxed, memory_order_relaxed);
#else
    (void)pool_idle;
    return false;
#endif
}

static void lock(void)
{
    int rc = pthread_mutex_lock(&trim_lock);
    if (rc != 0)
        weft__die("pthread_mutex_lock(trim_lock)", rc);
}

static void unlock(void)
{
    int rc = pthread_mutex_unlock(&trim_lock);
    if (rc != 0)
        weft__die("pthread_mutex_unlock(trim_lock)", rc);
}

void weft__giveback_now(void)
{
#ifdef WEFT__GIVEBACK_TRIM
    lock();
    (void)malloc_trim(0);
    unlock();
#endif
}

void weft__giveback_run(weft__sched *s)
{
#ifdef WEFT__GIVEBACK_TRIM
    weft__task_spare_drain(s);
    weft__giveback_now();
#else
    (void)s;
#endif
}

/* The forking thread takes trim_lock in prepare (after any trim in progress
 * ends) and releases it in parent and child. */
static const weft__fork_hooks giveback_fork = {lock, unlock, unlock};

__attribute__((constructor)) static void giveback_load(void)
{
    weft__fork_register(WEFT__FORK_GIVEBACK, &giveback_fork);
}
