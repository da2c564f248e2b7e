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
 * _shutdown before every atexit handler; to come closer, a pool re-registers
 * the sequence when it is created while no other pool is live
 * (weft__exit_rearm): handlers registered before that run after the pools
 * are shut down, as in Python (a submit there returns ESHUTDOWN).
 */
#ifndef WEFT_THREAD_EXIT_H
#define WEFT_THREAD_EXIT_H

/* The pools' part of the sequence (pool.c), called after the joins. */
void weft__exit_set_pools_hook(void (*hook)(void));

/* Register the sequence with atexit once more (see above). */
void weft__exit_rearm(void);

#endif /* WEFT_THREAD_EXIT_H */
