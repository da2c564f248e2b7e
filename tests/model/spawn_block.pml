/* tests/model/spawn_block.pml: a task spawns a child onto its own deque and
 * then blocks in a weft primitive until the child has run (the
 * design note of src/sched/idle.c, the before-block rule).
 *
 * Processes: the spawner A (a task on worker 1) and worker 2, which searches
 * and parks (Go's spinning-M protocol: nsearching, then the eventcount
 * prepare / fence / re-check / wait of park()).
 *
 * Memory model: x86-TSO with explicit store buffers, the weakest behaviour
 * that matters here (store->load reordering, the store-buffering shape; C11
 * allows it too for relaxed or release stores followed by relaxed loads). A
 * plain store goes to the writer's buffer and reaches memory at any later
 * step (the flusher process); the writer's own loads see its buffer; a seq_cst
 * fence or an RMW drains the buffer first. Only A's push is buffered: every
 * store of worker 2 that matters is an RMW (nsearching--, the eventcount's
 * waiters++) or sits behind its own fence.
 *
 * Variants:
 *   default       the fix: A's wait first runs the before-block hook
 *                 (weft__sched_block_begin): when its deque is non-empty it
 *                 issues the fenced wake-up (fence; if nsearching == 0:
 *                 ec_notify). Verifies: no invalid end state.
 *   -DUNFENCED    the old code: the spawn's relaxed loads of nsearching and
 *                 of the waiter count, no hook. Spin finds the lost wake-up
 *                 (A blocked on the event, worker 2 parked, the child on
 *                 A's deque: an invalid end state).
 * Runs (scripts/ci-model.sh):
 *   spin-run:  |
 *   spin-fail: -DUNFENCED |
 */

bit deque = 0;        /* the child is on A's deque (memory) */
bit a_buf = 0;        /* A's store of deque sits in A's store buffer */
bit taken = 0;        /* worker 2 stole the child */
byte nsearching = 1;  /* worker 2 starts as a searcher */
byte waiters = 0;     /* eventcount: threads between prepare and wait */
byte epoch = 0;       /* eventcount: bumped by a notify that saw a waiter */
bit event = 0;        /* the weft_event the child sets */

/* A's store buffer drains into memory at any time. */
active proctype flusher()
{
end_f:
    do
    :: atomic { a_buf == 1 -> deque = 1; a_buf = 0 }
    od
}

inline a_fence() { atomic { if :: a_buf == 1 -> deque = 1; a_buf = 0 :: else -> skip fi } }

/* ec_notify(idle, 1) by A: fence, load waiters, bump the epoch if any. */
inline a_notify() {
    a_fence();
    if
    :: waiters > 0 -> epoch++
    :: else -> skip
    fi
}

active proctype spawner()
{
    /* weft__worker_spawn: the push (a buffered store: bottom) ... */
    a_buf = 1;
    /* ... then the relaxed loads, no fence. */
    if
    :: nsearching == 0 ->
        if
        :: waiters > 0 -> a_notify()   /* weft__sched_wake_after_spawn */
        :: else -> skip
        fi
    :: else -> skip
    fi;
#ifndef UNFENCED
    /* The before-block hook: own deque non-empty (A reads its own buffer). */
    if
    :: (a_buf == 1 || (deque == 1 && taken == 0)) ->
        a_fence();
        if
        :: nsearching == 0 -> a_notify()
        :: else -> skip
        fi
    :: else -> skip
    fi;
#endif
    /* weft_event_wait: sleeps until the child has run. */
    event == 1
}

active proctype worker2()
{
    byte key;
search:
    /* steal sweeps (any number of them; a sweep sees deque in memory) */
    if
    :: atomic { deque == 1 && taken == 0 -> taken = 1 } ->
        nsearching--;
        goto stolen
    :: skip
    fi;
    /* end_search, found nothing (seq_cst RMW) */
    nsearching--;
park:
    /* ec_prepare: waiters++ (RMW), fence; returns the epoch */
    atomic { waiters++; key = epoch };
    /* re-check: work_visible() */
    if
    :: deque == 1 && taken == 0 -> waiters--; goto rejoin
    :: else -> skip
    fi;
end_park:
    /* ec_wait: sleep while epoch == key */
    epoch != key;
    waiters--;
rejoin:
    nsearching++;
    goto search;
stolen:
    event = 1;
end_done:
    skip
}
