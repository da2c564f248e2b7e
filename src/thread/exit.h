/* thread/exit.h: the process-exit sequence, Python's interpreter exit.
 * Internal.
 *
 * At exit (an atexit handler, thread.c) weft does what CPython's
 * threading._shutdown and concurrent.futures' exit hook do, in the order
 * API.md states: the main thread's entry is marked finished (when the main
 * thread is the one exiting), every non-daemon weft thread is joined, then
 * every live pool that did not opt out (weft_pool_options.no_exit_wait) is
 * shut down with wait, so its queued work runs; submissions after that
 * return ESHUTDOWN. The sequence runs once.
 *
 * atexit handlers run newest first, so a handler that a program registered
 * after the library was loaded would run before the sequence. Python runs
 * _shutdown before every atexit handler; to come closer, the process's first
 * pool re-registers the sequence when it is created (weft__exit_rearm):
 * handlers registered before that run after the pools are shut down, as in
 * Python (a submit there returns ESHUTDOWN: CPython's
 * test_submit_after_interpreter_shutdown). Only the first pool does: a
 * registration per pool (or per time the number of live pools went from 0
 * to 1) would grow glibc's atexit list without bound in a program that
 * creates and destroys pools in a loop. So the sequence has at most two
 * atexit entries, and a handler registered after the first pool was created
 * runs before the pools are shut down.
 */
#ifndef WEFT_THREAD_EXIT_H
#define WEFT_THREAD_EXIT_H

/* The pools' part of the sequence (pool.c), called after the joins. */
void weft__exit_set_pools_hook(void (*hook)(void));

/* Register the sequence with atexit once more (see above); only the first
 * call in a process registers. */
void weft__exit_rearm(void);

/* How many atexit entries the sequence has (tests: at most 2). */
unsigned weft__exit_registrations(void);

#endif /* WEFT_THREAD_EXIT_H */
