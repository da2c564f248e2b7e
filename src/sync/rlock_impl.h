/* sync/rlock_impl.h: what weft_cond needs of an RLock to wait on it
 * (Python's _release_save / _acquire_restore). Internal. Both are called by
 * the owner only; the ownership argument is in rlock.c.
 */
#ifndef WEFT_SYNC_RLOCK_IMPL_H
#define WEFT_SYNC_RLOCK_IMPL_H

#include <stdint.h>

#include "weft/sync.h"

/* Release every level the caller (the owner) holds; returns how many. */
uint32_t weft__rlock_release_all(weft_rlock *l);
/* Acquire the inner lock (forever) and become the owner at `levels` levels. */
void weft__rlock_acquire_levels(weft_rlock *l, uint32_t levels);

#endif /* WEFT_SYNC_RLOCK_IMPL_H */
