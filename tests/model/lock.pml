/* tests/model/lock.pml: weft_lock, the three-state futex mutex
 * (src/sync/lock.c, inline fast path and release in include/weft/sync.h).
 *
 * The word: 0 free, 1 held, 2 held and somebody may sleep. NT threads each
 * take the lock NA times: fast path CAS 0 -> 1; slow path a bounded spin
 * (here: up to SPIN CAS attempts when the word reads 0, stopping when it
 * reads 2), then exchange to 2 and futex_wait(word == 2), exchanging to 2
 * after every wake-up. A thread's futex wait may time out at any moment when
 * it is timed (chosen nondeterministically per acquisition); it then gives
 * up that acquisition. Release: exchange to 0, futex_wake(1) if the old value
 * was 2.
 *
 * Checked (safety): mutual exclusion; the word is non-zero exactly while a
 * thread holds the lock (never 0 while held, never 1 or 2 while free except
 * the 2 a timed-out waiter may leave); no invalid end state: every thread
 * finishes, so nobody stays asleep in the kernel while the lock is free
 * (the API's promise) and no wake-up is lost; a release never sees 0.
 * -DBUGGY releases with "if old == 1 store 0 else futex_wake without
 * storing" misordered: the releaser wakes before it frees the word, and the
 * woken thread can sleep again on 2 with nobody left to wake it; spin finds
 * that lost wake-up.
 *
 * spin-run: -DNT=2 -DNA=2 |
 * spin-run: -DNT=3 -DNA=1 |
 * spin-fail: -DBUGGY -DNT=2 -DNA=2 |
 */
#ifndef NT
#define NT 2
#endif
#ifndef NA
#define NA 2
#endif
#ifndef SPIN
#define SPIN 2
#endif

byte word;          /* the futex word */
byte holders;       /* ghost: threads inside the critical section */
bool asleep[NT];    /* in futex_wait(word, 2) */

inline futex_wake_one() {
    atomic {
        if
        :: asleep[0] -> asleep[0] = false
        :: NT > 1 && asleep[1] -> asleep[1] = false
        :: NT > 2 && asleep[2] -> asleep[2] = false
        :: else -> skip
        fi
    }
}

proctype thread(byte id) {
    byte i, c, spins;
    bool timed, got, gaveup;
    for (i : 1 .. NA) {
        if
        :: timed = true
        :: timed = false
        fi;
        got = false;
        gaveup = false;
        /* fast path: CAS 0 -> 1 */
        atomic {
            if
            :: word == 0 -> word = 1; got = true
            :: else -> skip
            fi
        }
        if
        :: got -> goto held
        :: else -> skip
        fi;
        /* bounded spin */
        spins = 0;
        do
        :: spins < SPIN ->
            spins++;
            atomic {
                c = word;
                if
                :: c == 0 -> word = 1; got = true
                :: else -> skip
                fi
            }
            if
            :: got -> goto held
            :: c == 2 -> break
            :: else -> skip
            fi
        :: else -> break
        od;
        /* exchange to 2; sleep while it stays 2 */
        atomic { c = word; word = 2 };
        do
        :: c == 0 -> break
        :: else ->
            atomic {
                if
                :: word == 2 -> asleep[id] = true
                :: else -> skip
                fi
            }
            if
            :: !asleep[id] -> skip
            :: atomic { timed && asleep[id] -> asleep[id] = false; gaveup = true }
            fi;
            if
            :: gaveup -> goto next
            :: else -> skip
            fi;
            atomic { c = word; word = 2 }
        od;
held:
        atomic { holders++; assert(holders == 1 && word != 0) };
        atomic { holders--; assert(word != 0) };
        /* release */
#ifdef BUGGY
        if
        :: atomic { word == 1 -> word = 0 }
        :: atomic { word == 2 -> futex_wake_one() };
            word = 0
        fi;
#else
        atomic { c = word; word = 0; assert(c != 0) };
        if
        :: c == 2 -> futex_wake_one()
        :: else -> skip
        fi;
#endif
next:
        skip
    }
}

init {
    byte k;
    atomic {
        for (k : 0 .. NT - 1) {
            run thread(k)
        }
    }
}
