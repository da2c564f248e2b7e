/* tests/model/spare.pml: the spare thread's arming protocol
 * (src/sched/spare.c): a thread outside the pool pushes a task while every
 * worker is lent to a fork-join (they never come back in this model, so
 * only the spare can run the task) and the spare, watching from an earlier
 * submission or parked, disarms when it finds the injector empty.
 *
 *   submitter: push; fence (weft__sched_wake_fenced);
 *              if word == IDLE: CAS IDLE -> ARMED, futex wake
 *   spare:     ARMED: after a period, injector empty? disarm:
 *                  CAS ARMED -> IDLE; fence; injector not empty?
 *                  CAS IDLE -> ARMED
 *              else (no worker pop in the period, all lent): take the task
 *              IDLE: futex wait while word == IDLE
 *
 * Memory model: x86-TSO with explicit store buffers (as spawn_outside.pml):
 * the submitter's push is a plain store that reaches memory at any later
 * step; a fence or an RMW drains the buffer first. The spare's stores are
 * RMWs (CAS). The spare starts ARMED or IDLE (either is reachable when the
 * push comes).
 *
 * Variants:
 *   default      the code. Verifies: no invalid end state (the task runs).
 *   -DUNFENCED   the submitter's fence left out: spin finds the lost
 *                arming (the spare parked IDLE, the task in the injector).
 *   -DNORECHECK  the spare's re-check after disarming left out: the same.
 * Runs (scripts/ci-model.sh):
 *   spin-run:  |
 *   spin-fail: -DUNFENCED |
 *   spin-fail: -DNORECHECK |
 */

#define IDLE  1
#define ARMED 2

bit inj = 0;      /* the task is in the injector (memory) */
bit s_buf = 0;    /* the submitter's push sits in its store buffer */
bit done = 0;     /* the task ran */
byte word;

active proctype flusher()
{
end_f:
    do
    :: atomic { s_buf == 1 -> inj = 1; s_buf = 0 }
    od
}

inline s_fence() { atomic { if :: s_buf == 1 -> inj = 1; s_buf = 0 :: else -> skip fi } }

proctype submitter()
{
    s_buf = 1;              /* weft__injector_push */
#ifndef UNFENCED
    s_fence();              /* the fence of weft__sched_wake_fenced */
#endif
    /* weft__spare_poke (every worker lent: nidle == 0), then the arm's CAS */
    atomic { if :: word == IDLE -> word = ARMED :: else -> skip fi };
    done == 1               /* weft_future_result */
}

proctype spare()
{
loop:
    if
    :: word == ARMED ->
        /* one watch period passed */
        if
        :: inj == 0 ->
            /* disarm: CAS ARMED -> IDLE (an RMW), fence, re-check */
            atomic { if :: word == ARMED -> word = IDLE :: else -> skip fi };
#ifndef NORECHECK
            if
            :: inj == 1 -> atomic { if :: word == IDLE -> word = ARMED :: else -> skip fi }
            :: else -> skip
            fi;
#endif
            goto loop
        :: inj == 1 ->
            /* rescue: the workers are lent and took nothing */
            inj = 0;
            done = 1;
            goto loop
        fi
    :: word == IDLE ->
end_idle:
        /* futex wait while word == IDLE */
        word != IDLE;
        goto loop
    fi
}

init {
    if
    :: word = IDLE
    :: word = ARMED
    fi;
    atomic { run submitter(); run spare() }
}
