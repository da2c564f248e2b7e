/* sched/giveback.h: handing the memory of freed task records back to the
 * system (giveback.c has the design note). Internal.
 *
 * Which calls may run concurrently: all of them, on any threads. */
#ifndef WEFT_SCHED_GIVEBACK_H
#define WEFT_SCHED_GIVEBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h> /* __GLIBC__ */

/* Defined where give-backs happen: glibc's malloc, not a sanitizer's
 * (giveback.c, "Two cautions"). Elsewhere every call below does nothing. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WEFT__SANITIZER_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define WEFT__SANITIZER_HEAP 1
#endif
#endif
#if defined(__GLIBC__) && !defined(WEFT__SANITIZER_HEAP)
#define WEFT__GIVEBACK_TRIM 1
#endif

/* Record frees between two give-backs at idle: 160 KiB of glibc chunks (a
 * 64-byte aligned record takes an 80-byte chunk), about glibc's own
 * M_TRIM_THRESHOLD (128 KiB), past which free() gives the heap's top back. */
#define WEFT__GIVEBACK_RECORDS 2048
/* The same once the whole pool is idle (every worker waits for work): the
 * drain is over, and a give-back delays no task of that pool. */
#define WEFT__GIVEBACK_RECORDS_IDLE 256

/* The calling thread just free()d a task record (records.c; not the free
 * list or spare-ring paths, which keep the record). */
void weft__giveback_count_free(void);

/* A worker is about to wait for work, none being visible (pool_idle: and
 * every other worker of its pool waits already): true when at least
 * WEFT__GIVEBACK_RECORDS (pool_idle: WEFT__GIVEBACK_RECORDS_IDLE) records
 * were free()d since the last give-back and this caller won the right to
 * give back; it must then call weft__giveback_run, holding no lock. Always
 * false under a sanitizer. */
bool weft__giveback_claim(bool pool_idle);

struct weft__sched;
/* After a claim: frees s's spare ring (records.c), then weft__giveback_now. */
void weft__giveback_run(struct weft__sched *s);

/* malloc_trim(0), serialised (a no-op under a sanitizer or without glibc).
 * Called by weft_pool_destroy and by the idle path above. */
void weft__giveback_now(void);

#endif /* WEFT_SCHED_GIVEBACK_H */
