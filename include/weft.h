/** @file
 * weft.h: the umbrella header. Python's threading, queue and
 * concurrent.futures toolkit for C, on a lock-free work-stealing core.
 * See docs/ and ../README.md for the tour; each module header documents its
 * functions. */
#ifndef WEFT_H
#define WEFT_H

#include "weft/common.h"
#include "weft/atomic.h"
#include "weft/version.h"
#include "weft/sync.h"
#include "weft/thread.h"
#include "weft/queue.h"
#include "weft/future.h"
#include "weft/pool.h"
#include "weft/cq.h"
#include "weft/diag.h"

#endif /* WEFT_H */
