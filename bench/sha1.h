/* bench/sha1.h: SHA-1 (FIPS 180-4) of a short message, for bench/uts.c:
 * the Unbalanced Tree Search derives each node's random state as the SHA-1
 * of its parent's state and its child index, so the tree is the same for
 * every runtime and every schedule. Not for anything that needs security. */
#ifndef WEFT_BENCH_SHA1_H
#define WEFT_BENCH_SHA1_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out = SHA-1(msg[0..len)); len < 56 (one block), all that UTS needs. */
void wb_sha1_short(const uint8_t *msg, size_t len, uint8_t out[20]);

#ifdef __cplusplus
}
#endif

#endif /* WEFT_BENCH_SHA1_H */
