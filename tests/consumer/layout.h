/* The layout of every transparent public struct, as one list, so that a C
 * translation unit (layout_c.c) and a C++ one (consumer.cpp) can compare what
 * each language's compiler makes of the same declarations (weft/atomic.h:
 * WEFT_ATOMIC(T) is _Atomic T in C and T in C++). */
#ifndef CONSUMER_LAYOUT_H
#define CONSUMER_LAYOUT_H

#include <stddef.h>

#include <weft.h>

#ifdef __cplusplus
#define CONSUMER_ALIGNOF(T) alignof(T)
#else
#define CONSUMER_ALIGNOF(T) _Alignof(T)
#endif

#define CONSUMER_LAYOUT(X)                                                                                   \
    X(sizeof(weft_lock))                                                                                     \
    X(CONSUMER_ALIGNOF(weft_lock)) X(offsetof(weft_lock, state)) X(sizeof(weft_rlock)) X(CONSUMER_ALIGNOF(   \
        weft_rlock)) X(offsetof(weft_rlock, owner)) X(offsetof(weft_rlock, count)) X(sizeof(weft_cond))      \
        X(CONSUMER_ALIGNOF(weft_cond)) X(offsetof(weft_cond, seq)) X(offsetof(weft_cond, waiters))           \
            X(sizeof(weft_sem)) X(CONSUMER_ALIGNOF(weft_sem)) X(offsetof(weft_sem, waiters))                 \
                X(offsetof(weft_sem, bound)) X(sizeof(weft_event)) X(CONSUMER_ALIGNOF(weft_event))           \
                    X(sizeof(weft_barrier)) X(CONSUMER_ALIGNOF(weft_barrier)) X(offsetof(weft_barrier, gen)) \
                        X(offsetof(weft_barrier, parties)) X(offsetof(weft_barrier, timeout))                \
                            X(offsetof(weft_barrier, waiting)) X(sizeof(weft_group))                         \
                                X(CONSUMER_ALIGNOF(weft_group)) X(offsetof(weft_group, pending))             \
                                    X(offsetof(weft_group, error)) X(sizeof(weft_local))                     \
                                        X(offsetof(weft_local, seq)) X(sizeof(weft_pool_options))            \
                                            X(CONSUMER_ALIGNOF(weft_pool_options))                           \
                                                X(offsetof(weft_pool_options, scheduler))                    \
                                                    X(offsetof(weft_pool_options, stack_size))               \
                                                        X(sizeof(weft_queue_options))                        \
                                                            X(offsetof(weft_queue_options, drop))            \
                                                                X(sizeof(weft_pool_counters))                \
                                                                    X(sizeof(weft_pool_worker_counters))

#ifdef __cplusplus
extern "C" {
#endif
extern const size_t consumer_layout_c[];
extern const size_t consumer_layout_c_n;
#ifdef __cplusplus
}
#endif

#endif
