/* tests/model/spawn_outside.pml: a thread outside the pool submits a task
 * (injector push, then the fenced wake-up of src/sched/idle.c) while the two
 * workers search and park (Go's spinning-M protocol: nsearching, then the
 * eventcount prepare / fence / re-check / wait of park()); the submitter then
 * blocks until the task has run (weft_future_result from outside).
 *
 * Memory model: x86-TSO with explicit store buffers (see spawn_block.pml):
 * the submitter's injector push is a plain store that reaches memory at any
 * later step; a seq_cst fence or an RMW drains the buffer first. The
 * workers' stores that matter are RMWs (nsearching, waiters).
 *
 * nsearching here is the sweeping count (steal.h's WEFT__SEARCH_ACTIVE part),
 * the only part the submitter reads; a searcher may leave it for a nap and
 * come back (search.c), any number of times, before it parks.
 *
 * Variants:
 *   default      the code: push; fence; if nsearching == 0: ec_notify(1).
 *                Verifies: no invalid end state (the task always runs).
 *   -DUNFENCED   the fence left out: spin finds the lost wake-up (both
 *                workers parked, the task in the injector, the submitter
 *                blocked).
 * Runs (scripts/ci-model.sh):
 *   spin-run:  |
 *   spin-fail: -DUNFENCED |
 */

bit inj = 0;          /* the task is in the injector (memory) */
bit s_buf = 0;        /* the submitter's push sits in its store buffer */
bit taken = 0;        /* a worker popped the task */
bit done = 0;         /* the task ran */
byte nsearching = 0;
byte waiters = 0;     /* eventcount */
byte epoch = 0;

active proctype flusher()
{
end_f:
    do
    :: atomic { s_buf == 1 -> inj = 1; s_buf = 0 }
    od
}

inline s_fence() { atomic { if :: s_buf == 1 -> inj = 1; s_buf = 0 :: else -> skip fi } }

active proctype submitter()
{
    s_buf = 1;             /* weft__injector_push */
#ifndef UNFENCED
    s_fence();             /* wake_one_if_nobody_searches: fence X */
#endif
    if
    :: nsearching == 0 ->
        /* ec_notify(idle, 1): its own fence, load waiters, bump the epoch */
        s_fence();
        if
        :: waiters > 0 -> epoch++
        :: else -> skip
        fi
    :: else -> skip
    fi;
    done == 1              /* weft_future_result */
}

/* At most half the workers (at least one) search at once: with two workers,
 * one searcher (begin_search). */
proctype worker()
{
    byte key;
loop:
    /* the injector, before searching */
    if
    :: atomic { inj == 1 && taken == 0 -> taken = 1 } -> goto ran
    :: else -> skip
    fi;
    if
    :: atomic { nsearching == 0 -> nsearching++ } ->
search:
        /* search rounds: steal sweeps and injector pops */
        if
        :: atomic { inj == 1 && taken == 0 -> taken = 1 } ->
            nsearching--;     /* end_search(found) */
            goto ran
        :: skip
        fi;
        /* end_search(not found), or nap_begin (search.c, oversubscribed
         * CPUs: the searcher leaves the sweeping count, which is all the
         * submitter reads, for a nap): a seq_cst RMW either way */
        nsearching--;
        if
        :: atomic { nsearching == 0 -> nsearching++ } -> goto search  /* nap_end: sweeping again */
        :: skip               /* the search ended, or nap_end found the limit reached: park */
        fi
    :: else -> skip
    fi;
    /* park: ec_prepare (RMW + fence), re-check */
    atomic { waiters++; key = epoch };
    if
    :: inj == 1 && taken == 0 -> waiters--; goto loop
    :: else -> skip
    fi;
end_park:
    epoch != key;
    waiters--;
    goto loop;
ran:
    done = 1;
end_ran:
    skip
}

init {
    atomic { run worker(); run worker() }
}
