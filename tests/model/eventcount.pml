/* tests/model/eventcount.pml: the eventcount (src/sync/eventcount.c).
 *
 * One word: a waiter count W and an epoch E (the futex word). NW consumers
 * each want one of the items a producer makes: take one if there is one,
 * else key = prepare (W++, read E), re-check, then cancel (W--) or wait
 * (futex_wait(E == key) while E == key, then W--), and retry. The producer
 * makes NN items, each followed by notify(NOTIFY): if W > 0, E++ (mod
 * EPOCH_MOD) and futex_wake(NOTIFY). A consumer's futex wait may time out at
 * any moment when it is timed (chosen nondeterministically); it then gives
 * up. Promela is sequentially consistent: the C code's seq_cst fences give
 * that for the store-buffering pair (prepare / re-check against make /
 * notify's load of W).
 *
 * Checked (safety): no invalid end state (an untimed consumer always gets its
 * item when there are enough: no lost wake-up); when everything is blocked,
 * nobody sleeps while an item is available; W counts exactly the consumers
 * between prepare and the end of their cancel/wait.
 * -DEPOCH_MOD=2 shows the wrap hazard the design note accepts: a waiter that
 * sleeps through exactly EPOCH_MOD notifies between its prepare and its
 * futex_wait sleeps on a stale key (with 2^32 in the C code: see
 * docs/DESIGN.md, "Counters that wrap").
 *
 * spin-run: -DNW=2 -DNN=2 -DNOTIFY=1 |
 * spin-run: -DNW=3 -DNN=1 -DNOTIFY=1 |
 * spin-run: -DNW=2 -DNN=2 -DNOTIFY=2 |
 * spin-fail: -DNW=1 -DNN=2 -DNOTIFY=1 -DEPOCH_MOD=2 |
 */
#ifndef NW
#define NW 2
#endif
#ifndef NN
#define NN 2
#endif
#ifndef NOTIFY
#define NOTIFY 1
#endif
#ifndef EPOCH_MOD
#define EPOCH_MOD 256
#endif

byte W;            /* waiters between prepare and wait/cancel */
byte E;            /* epoch, the futex word */
byte avail;        /* the condition: items made and not taken */
byte inside;       /* ghost: consumers between prepare and their W-- */
bool asleep[NW];

inline futex_wake(n) {
    atomic {
        cnt = n;
        do
        :: cnt > 0 && asleep[0] -> asleep[0] = false; cnt--
        :: cnt > 0 && NW > 1 && asleep[1] -> asleep[1] = false; cnt--
        :: cnt > 0 && NW > 2 && asleep[2] -> asleep[2] = false; cnt--
        :: else -> break
        od
    }
}

inline take() {
    atomic {
        if
        :: avail > 0 -> avail--; got = true
        :: else -> got = false
        fi
    }
}

proctype consumer(byte id) {
    bool timed, got, timedout;
    byte key;
    if
    :: timed = true
    :: timed = false
    fi;
    do
    :: take();
        if
        :: got -> break
        :: else -> skip
        fi;
        atomic { W++; inside++; key = E };        /* prepare */
        take();
        if
        :: got -> atomic { W--; inside-- }; break /* cancel */
        :: else -> skip
        fi;
        timedout = false;
        do                                        /* wait */
        :: E != key -> break
        :: else ->
            atomic {
                if
                :: E == key -> asleep[id] = true
                :: else -> skip
                fi
            }
end_sleep:
            if
            :: !asleep[id] -> skip
            :: atomic { timed && asleep[id] -> asleep[id] = false; timedout = true }
            fi;
            if
            :: timedout -> break
            :: else -> skip
            fi
        od;
        atomic { W--; inside-- };
        if
        :: timedout -> break
        :: else -> skip
        fi
    od
}

proctype producer() {
    byte i, cnt;
    for (i : 1 .. NN) {
        atomic { avail++ };
        if                                        /* notify */
        :: W > 0 ->
            E = (E + 1) % EPOCH_MOD;
            futex_wake(NOTIFY)
        :: else -> skip
        fi
    }
}

active proctype invariant() {
    assert(W == inside)
}

active proctype quiescent() {
end_q:
    timeout -> assert(!(avail > 0 && (asleep[0] || (NW > 1 && asleep[1]) || (NW > 2 && asleep[2]))))
}

init {
    byte k;
    atomic {
        for (k : 0 .. NW - 1) {
            run consumer(k)
        }
        run producer()
    }
}
