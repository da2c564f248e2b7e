/* bench/reference.h: the serial reference results that more than one case
 * checks against, written once: the N-queens count (queens, nqueens) and the
 * sampled check of a float matrix product (matmul, strassen). Not timed. */
#ifndef WEFT_BENCH_REFERENCE_H
#define WEFT_BENCH_REFERENCE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Solutions of the n-queens problem below (row, cols, d1, d2), counted with
 * bit masks; *nodes counts the nodes of the search tree (the tasks). */
static inline uint64_t wb_queens_count(int n, int row, uint32_t cols, uint32_t d1, uint32_t d2, uint64_t *nodes)
{
    ++*nodes;
    if (row == n)
        return 1;
    uint64_t found = 0;
    uint32_t free_ = ~(cols | d1 | d2) & ((1u << n) - 1);
    while (free_ != 0) {
        uint32_t bit = free_ & (~free_ + 1);
        free_ &= free_ - 1;
        found += wb_queens_count(n, row + 1, cols | bit, (d1 | bit) << 1, (d2 | bit) >> 1, nodes);
    }
    return found;
}

/* Checks 64 pseudo-random entries of c = a * b (n x n, row-major) exactly
 * and aborts naming the case and contender on a mismatch; returns n^3. */
static inline uint64_t wb_matmul_check(const char *bench, const char *who, int n, const float *a, const float *b,
                                       const float *c)
{
    uint32_t s = 7;
    for (int t = 0; t < 64; t++) {
        s = s * 1103515245u + 12345u;
        int i = (int)((s >> 8) % (uint32_t)n);
        s = s * 1103515245u + 12345u;
        int k = (int)((s >> 8) % (uint32_t)n);
        float want = 0;
        for (int l = 0; l < n; l++)
            want += a[i * n + l] * b[l * n + k];
        if (c[i * n + k] != want) {
            fprintf(stderr, "%s/%s: C[%d][%d] = %g, expected %g\n", bench, who, i, k, (double)c[i * n + k],
                    (double)want);
            abort();
        }
    }
    return (uint64_t)n * (uint64_t)n * (uint64_t)n;
}

#endif
