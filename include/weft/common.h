/** @file
 * weft/common.h: conventions shared by every weft header.
 *
 * Errors: a function that can fail returns int: 0 on success, otherwise a
 * positive errno value (strerror() describes it), as pthreads do. No function
 * aborts or prints on bad input, and none leaves an object half-changed when it
 * fails.
 *
 * NULL: there is one contract and no exception. Any function handed NULL for
 * its object or handle (the first argument: a lock, queue, ring, barrier,
 * ...) returns EINVAL if it returns int, false if it returns bool, 0 if it
 * returns a size, and does nothing if it returns void; it never crashes.
 * This includes the inline Lock fast path (weft/sync.h): its NULL test is a
 * compare, not a memory access, so the uncontended acquire stays one atomic
 * read-modify-write, and a compiler drops it for the address of an object.
 * Out-parameters for results may be NULL where a function says so (the
 * value is then not stored).
 *
 * Timeouts are double seconds, as in Python. WEFT_FOREVER (INFINITY) waits
 * forever; zero or a negative value never blocks (the deadline has already
 * passed); NaN is EINVAL. Time is measured on CLOCK_MONOTONIC and a spurious
 * wake-up never extends a timeout.
 */
#ifndef WEFT_COMMON_H
#define WEFT_COMMON_H

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(WEFT_BUILDING)
#define WEFT_API __attribute__((visibility("default")))
#else
#define WEFT_API
#endif

#ifdef __cplusplus
#define WEFT_BEGIN_DECLS extern "C" {
#define WEFT_END_DECLS   }
#else
#define WEFT_BEGIN_DECLS
#define WEFT_END_DECLS
#endif

/** Wait forever. Any other infinite or huge timeout also waits forever. */
#define WEFT_FOREVER ((double)INFINITY)

#if defined(__GNUC__)
#define WEFT_LIKELY(x)   __builtin_expect(!!(x), 1)
#define WEFT_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define WEFT_LIKELY(x)   (x)
#define WEFT_UNLIKELY(x) (x)
#endif

#endif /* WEFT_COMMON_H */
