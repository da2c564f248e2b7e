/* internal/atomics.h: the one place for weft's low-level helpers.
 *
 * Rationale, written once:
 *  - Every atomic operation in weft names its memory order explicitly. Relaxed
 *    operations need no comment; every acquire/release/seq_cst operation and
 *    every fence says, on its line, what it orders and which operation on which
 *    thread it pairs with.
 *  - Futex words are `_Atomic uint32_t`. The kernel reads them with a plain
 *    32-bit load inside the futex hash-bucket lock, so a futex wait never misses
 *    a store that happened-before the matching wake: wake-ups are not lost as
 *    long as the waker changes the word before it calls futex_wake.
 *  - Futexes are always FUTEX_PRIVATE_FLAG: weft objects are not shared between
 *    processes, and private futexes skip the mm lookup.
 *  - Timeouts are absolute CLOCK_MONOTONIC deadlines (FUTEX_WAIT_BITSET), so an
 *    EINTR or a spurious wake-up followed by a retry never extends the wait.
 *  - Cache lines are 64 bytes on the machines we target; fields written by
 *    different threads are kept WEFT_CACHELINE apart. Intel's adjacent-line
 *    prefetcher pulls pairs of lines, so the hottest producer/consumer indices
 *    are padded by 2 * WEFT_CACHELINE.
 */
#ifndef WEFT_INTERNAL_ATOMICS_H
#define WEFT_INTERNAL_ATOMICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define WEFT_CACHELINE     64
#define WEFT_CACHE_ALIGNED _Alignas(WEFT_CACHELINE)

/* Tell the core we are spinning (lets the sibling hyper-thread run, saves power). */
static inline void weft__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

#if defined(__SANITIZE_THREAD__)
#define WEFT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TSAN 1
#endif
#endif

/* A seq_cst fence, for the store-buffering arguments of the deque and the
 * scheduler. ThreadSanitizer does not model atomic_thread_fence (gcc warns,
 * -Wtsan); under it a seq_cst RMW on a thread-private word stands in: a full
 * barrier on the hardware that gives TSan no synchronisation between threads
 * that the real fence would not give either. */
static inline void weft__fence_seq_cst(void)
{
#ifdef WEFT_TSAN
    static _Thread_local _Atomic int fence_word;
    atomic_fetch_add_explicit(&fence_word, 0, memory_order_seq_cst);
#else
    atomic_thread_fence(memory_order_seq_cst);
#endif
}

/* A failure that can only be a bug in weft (an impossible syscall result):
 * print the call and the error, then abort, as liburcu's urcu_die does. */
_Noreturn void weft__die(const char *call, int err);

/* ---- deadlines ---------------------------------------------------------- */

/* An absolute CLOCK_MONOTONIC deadline, or "forever". */
typedef struct weft__deadline {
    struct timespec at;
    bool forever;
    bool expired; /* the timeout was <= 0: never block */
} weft__deadline;

/* Turn a timeout in seconds into a deadline. Returns EINVAL for NaN, else 0.
 * Reads the clock only for finite positive timeouts. */
int weft__deadline_init(weft__deadline *d, double timeout);

/* True once the deadline has passed (reads the clock unless forever/expired). */
bool weft__deadline_passed(const weft__deadline *d);

/* Seconds left before the deadline (INFINITY when forever, <= 0 when passed). */
double weft__deadline_remaining(const weft__deadline *d);

/* Monotonic time in nanoseconds. */
uint64_t weft__now_ns(void);

/* ---- futex -------------------------------------------------------------- */

/* Sleep while *word == expected, until woken or the deadline (NULL = forever).
 * Returns 0 when woken, when *word != expected, or on EINTR (callers always
 * re-check their condition in a loop); ETIMEDOUT once the deadline passed. */
int weft__futex_wait(_Atomic uint32_t *word, uint32_t expected, const weft__deadline *d);

/* Wake up to n sleepers on word (INT32_MAX = all). Returns how many woke. */
int weft__futex_wake(_Atomic uint32_t *word, int n);

/* The high 32-bit half of a 64-bit atomic word, as a futex word: lets one
 * RMW on the whole word change a count the kernel sleeps on together with
 * another count beside it (the eventcount's epoch and waiters, the parking
 * lot's tokens and waiters). The kernel reads the half with a plain aligned
 * 32-bit load, which sees every store to the whole word (single-copy
 * atomicity of aligned accesses on the machines we target). */
static inline _Atomic uint32_t *weft__futex_high_half(_Atomic uint64_t *word)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return (_Atomic uint32_t *)((char *)word + 4);
#else
    return (_Atomic uint32_t *)word;
#endif
}

/* Move sleepers: wake up to nwake sleepers of from, requeue up to nmove others
 * onto to, if *from still equals expected. Returns -1 when *from changed. */
int weft__futex_cmp_requeue(_Atomic uint32_t *from, int nwake, int nmove, _Atomic uint32_t *to,
                            uint32_t expected);

/* ---- thread identity ---------------------------------------------------- */

/* A non-zero token unique to the calling thread while it lives (the address of
 * a thread-local). Used as the owner field of RLock. */
static inline uintptr_t weft__self_token(void)
{
    static _Thread_local char token;
    return (uintptr_t)&token;
}

#endif /* WEFT_INTERNAL_ATOMICS_H */
