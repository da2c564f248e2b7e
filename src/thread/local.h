/* thread/local.h: the hooks thread.c needs from local.c. Internal. */
#ifndef WEFT_THREAD_LOCAL_H
#define WEFT_THREAD_LOCAL_H

/* Run the destructors of the calling thread's non-NULL weft_local values, as
 * pthread would at thread exit, but now: a weft thread calls this after its
 * target so that join returns only once they ran. Values a destructor sets
 * again are destroyed in further passes, up to PTHREAD_DESTRUCTOR_ITERATIONS;
 * whatever remains is left to pthread. */
void weft__local_run_dtors(void);

/* pthread_atfork handlers for the list of locals (lock order: the thread
 * registry first, then this list). */
void weft__local_fork_prepare(void);
void weft__local_fork_parent(void);
void weft__local_fork_child(void);

#endif /* WEFT_THREAD_LOCAL_H */
