/* tests/model/parking.pml: the queue's parking lot (src/sync/parking.c) with
 * two getters G0, G1 and one putter P over a queue of `items`.
 *
 * What it checks (safety; Promela is sequentially consistent, which the
 * seq_cst fences of the C code give for the store-buffering pair; the other
 * orders only publish data and are not modelled):
 *   - no invalid end state: a getter is either done or asleep in the futex
 *     (labelled end_), never stuck elsewhere; in particular a withdrawal never
 *     waits (issue 10 item 1 made the -DBUGGY version wait forever);
 *   - invariant I: W + T == N (threads between prepare and their return);
 *   - no lost wake-up: when everything is blocked, nobody is asleep while an
 *     item waits in the queue;
 *   - a withdrawal always finds a unit (W > 0 or T > 0).
 * Each getter is nondeterministically timed (its futex wait may time out at
 * any moment) or untimed. NP is the number of items P puts.
 *
 * -DBUGGY models the two-word version: withdraw reads W once, and on 0 spins
 * (here: blocks) until a token appears; notify moves a signal in two steps.
 * spin then reports an invalid end state (G stuck in withdraw_spin).
 *
 * The lines below are read by scripts/ci-model.sh: spin flags | pan flags.
 * spin-run: -DNP=1 |
 * spin-run: -DNP=2 |
 * spin-fail: -DBUGGY -DNP=1 |
 */
#ifndef NP
#define NP 1
#endif
#define NG 2

byte W;           /* announced, not yet signalled */
byte T;           /* signals sent, not yet taken (futex word) */
byte N;           /* ghost: threads between prepare and return */
byte items;       /* the queue */
bool asleep[NG];  /* in futex_wait on T == 0 */

/* futex_wake(T, k): wake up to k sleepers, any of them. */
inline futex_wake(k) {
    atomic {
        cnt = k;
        do
        :: cnt > 0 && asleep[0] -> asleep[0] = false; cnt--
        :: cnt > 0 && asleep[1] -> asleep[1] = false; cnt--
        :: else -> break
        od
    }
}

/* Returns with signalled set: true if the unit taken was a token. */
inline withdraw() {
#ifdef BUGGY
    signalled = true;
    do
    :: atomic { W > 0 -> W--; N--; signalled = false }; break
    :: W == 0 -> break
    od;
    if
    :: signalled ->
withdraw_spin:
        atomic { T > 0 -> T--; N-- }
    :: else -> skip
    fi
#else
    atomic {
        assert(W > 0 || T > 0);
        if
        :: W > 0 -> W--; signalled = false
        :: else -> T--; signalled = true
        fi;
        N--
    }
#endif
}

inline attempt() {
    atomic {
        if
        :: items > 0 -> items--; got = true
        :: else -> got = false
        fi
    }
}

proctype getter(byte id) {
    bool timed, got, signalled, timedout;
    byte cnt;
    if
    :: timed = true
    :: timed = false
    fi;
    attempt();
    if
    :: got -> goto done
    :: else -> skip
    fi;
again:
    atomic { W++; N++ };          /* prepare */
    attempt();
    if
    :: got -> withdraw(); goto done   /* cancel */
    :: else -> skip
    fi;
    /* wait */
    timedout = false;
    do
    :: atomic { T > 0 -> T--; N-- }; break      /* take a token */
    :: atomic { T == 0 -> asleep[id] = true };
end_sleep:
        if
        :: !asleep[id] -> skip                      /* woken */
        :: atomic { timed && asleep[id] -> asleep[id] = false; timedout = true }
        fi;
        if
        :: timedout ->
            withdraw();
            timedout = !signalled;
            break
        :: else -> skip
        fi
    od;
    attempt();
    if
    :: got -> goto done
    :: else -> skip
    fi;
    if
    :: timedout -> goto done
    :: else -> goto again
    fi;
done:
    skip
}

proctype putter() {
    byte k, cnt, i;
    for (i : 1 .. NP) {
        atomic { items++ };
        /* notify(1) */
#ifdef BUGGY
        atomic { k = (W > 0 -> 1 : 0); W = W - k };
        T = T + k;
#else
        atomic { k = (W > 0 -> 1 : 0); W = W - k; T = T + k };
#endif
        futex_wake(k)
    }
}

active proctype invariant() {
#ifdef BUGGY
    skip /* inside the two-step notify W + T == N - 1 */
#else
    assert(W + T == N)
#endif
}

active proctype quiescent() {
end_q:
    timeout -> assert(!(items > 0 && (asleep[0] || asleep[1])))
}

init {
    atomic {
        run getter(0);
        run getter(1);
        run putter()
    }
}
