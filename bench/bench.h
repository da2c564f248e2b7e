/* bench/bench.h: the C side of weft's benchmark harness.
 *
 * A case (one file under bench/) describes one workload and gives one
 * implementation per contender: weft, its mutex twin, pthreads, and the peers
 * that meson found (oneTBB, OpenMP, GLib, Concurrency Kit). bench/shim.cc turns
 * every (case, implementation, argument, thread count) into a Google Benchmark
 * run named "case/impl[/arg:N]/threads:T".
 *
 * One benchmark iteration is one round of the case: setup() builds what the
 * round needs (threads, pools, buffers) outside the timed region, run() does
 * one round and returns how many items it processed, teardown() frees. Time is
 * wall-clock (UseRealTime): the rate counter is items_per_second. A round may
 * also record latency samples (reported as percentiles) and counters (averaged
 * over the rounds).
 *
 * The same case file is compiled into the OpenMP executables with
 * WB_OMP_BUILD defined (by gcc -fopenmp for libgomp and by clang -fopenmp for
 * libomp): there it registers only its OpenMP implementation, because the two
 * OpenMP runtimes cannot share a process and neither needs weft.
 */
#ifndef WEFT_BENCH_H
#define WEFT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wb_params {
    int threads; /* threads, workers, or producer/consumer pairs */
    long arg;    /* the case's extra argument (e.g. chunksize); 0 without one */
    long size;   /* problem size: the case's size, or its smoke size */
    bool smoke;
} wb_params;

typedef struct wb_round wb_round; /* owned by the shim */

/* A latency sample, in nanoseconds, in the named series; the report shows
 * <series>_p50_ns and <series>_p99_ns. */
void wb_sample(wb_round *r, const char *series, double ns);
/* A value reported as counter `name`, averaged over the rounds. */
void wb_counter(wb_round *r, const char *name, double value);

typedef struct wb_impl {
    const char *name;
    /* NULL when this implementation cannot run with these parameters; the
     * run is then reported as skipped with *why. */
    void *(*setup)(const wb_params *p, const char **why);
    /* One round; returns the number of items it processed. */
    uint64_t (*run)(void *ctx, wb_round *r);
    void (*teardown)(void *ctx);
} wb_impl;

enum wb_threads_mode {
    WB_SWEEP, /* run at every count of the sweep (1,2,4,8,16 by default) */
    WB_FIXED, /* run at fixed_threads only */
};

typedef struct wb_case {
    const char *name;
    const char *what;     /* one sentence for the report */
    const char *item;     /* what one item is, e.g. "increment", "task" */
    const char *baseline; /* the implementation weft is compared with first */
    /* The metric the report compares: "items_per_second" or a counter name;
     * lower_is_better for latencies and CPU time. */
    const char *metric;
    bool lower_is_better;
    enum wb_threads_mode threads_mode;
    int fixed_threads;
    int max_threads; /* WB_SWEEP: skip sweep entries above this; 0 = no cap */
    long size, smoke_size;
    const char *arg_name; /* NULL: no extra argument */
    long args[4];
    int n_args;
} wb_case;

void wb_register(const wb_case *c, const wb_impl *impls, size_t n_impls);

#define WB_REGISTER(case_, impls_)                                                                           \
    __attribute__((constructor)) static void wb_register_here(void)                                          \
    {                                                                                                        \
        wb_register(&(case_), (impls_), sizeof(impls_) / sizeof((impls_)[0]));                               \
    }

/* ---- helpers shared by the cases (bench/common.c) ---- */

uint64_t wb_now_ns(void); /* CLOCK_MONOTONIC */
uint64_t wb_cpu_ns(void); /* CLOCK_PROCESS_CPUTIME_ID: every thread of the process */
void wb_sleep_ns(uint64_t ns);
/* Keeps the compiler from discarding a computed value. */
void wb_consume(uint64_t v);
/* A few nanoseconds to a few microseconds of arithmetic that the compiler
 * cannot remove: the "work" of a task or loop iteration. */
uint64_t wb_spin_work(uint64_t units);

/* A team of n threads that run fn(ctx, index) once per wb_team_run, all
 * released together (they gather at a start line first, so no thread runs
 * alone while the others are still waking up). The caller does not take part;
 * it sleeps until all n have returned. create: 0 or ENOMEM. */
typedef struct wb_team wb_team;
int wb_team_create(wb_team **t, int n, void (*fn)(void *ctx, int index), void *ctx);
void wb_team_run(wb_team *t);
void wb_team_destroy(wb_team *t);

/* A count-down latch on a pthread mutex and condition variable: neutral
 * between contenders, and only the last count_down touches the lock. */
typedef struct wb_latch wb_latch;
wb_latch *wb_latch_create(void);
void wb_latch_reset(wb_latch *l, uint64_t count);
void wb_latch_count_down(wb_latch *l);
void wb_latch_wait(wb_latch *l);
void wb_latch_destroy(wb_latch *l);

/* The name of the OpenMP contender of this build: the two runtimes are built
 * as two executables and reported side by side. */
#if defined(WB_OMP_BUILD) && defined(__clang__)
#define WB_OMP_NAME "omp_llvm"
#elif defined(WB_OMP_BUILD)
#define WB_OMP_NAME "omp_gomp"
#endif

#ifdef __cplusplus
}
#endif

#endif /* WEFT_BENCH_H */
