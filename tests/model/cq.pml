/* tests/model/cq.pml: the completion queue's wake-up protocol
 * (src/pool/cq.c, design note).
 *
 * head is IDLE (the consumer's last pop said EAGAIN), NUL (the consumer is
 * busy) or a stack of k > 0 entries. NP producers push NN entries each: one
 * CAS step (a push onto IDLE starts a stack of 1), then, if it replaced
 * IDLE, a separate step that writes the eventfd (cnt++). The consumer is an
 * event loop: it sleeps until the fd is readable (cnt > 0: level-triggered)
 * and then pops until EAGAIN, or with -DBUDGET=B at most 1..B entries per
 * wake-up (any number, chosen by spin). pop: with its batch empty it
 * exchanges head with NUL (an IDLE counts as empty); finding nothing, it
 * resets the fd (cnt = 0) and CASes head from NUL to IDLE: EAGAIN; if that
 * CAS fails it takes the stack and writes the fd again (W2). Promela is
 * sequentially consistent: the C code's release CAS to IDLE and the
 * producer's acquire CAS that reads it give that order for the reset and
 * the write.
 *
 * Checked (safety): no invalid end state: the consumer never sleeps for
 * good while entries wait (no lost wake-up); every entry is popped once.
 * Known-bad variants spin must reject: -DRESET_LATE (CAS to IDLE before the
 * reset: a write between them is swallowed) and -DNO_W2 with a budget (a
 * loop that stops early after a failed CAS sleeps on a reset fd).
 *
 * spin-run: -DNP=2 -DNN=2 |
 * spin-run: -DNP=3 -DNN=1 |
 * spin-run: -DNP=2 -DNN=2 -DBUDGET=1 |
 * spin-run: -DNP=2 -DNN=2 -DBUDGET=2 |
 * spin-run: -DNP=3 -DNN=2 -DBUDGET=2 |
 * spin-fail: -DNP=2 -DNN=2 -DRESET_LATE |
 * spin-fail: -DNP=2 -DNN=2 -DBUDGET=1 -DNO_W2 |
 */
#ifndef NP
#define NP 2
#endif
#ifndef NN
#define NN 2
#endif

#define IDLE 255
#define NUL 0
#define TOTAL (NP * NN)

byte head = IDLE; /* created idle, with the fd reset */
byte cnt;         /* the eventfd counter */
byte pushed;      /* ghost: entries pushed */

proctype producer()
{
    byte k = 0, old;
    do
    :: k < NN ->
        atomic {
            old = head;
            if
            :: old == IDLE -> head = 1
            :: else -> head = old + 1
            fi;
            pushed++
        }
        if
        :: old == IDLE -> cnt++ /* the write, after the CAS */
        :: else -> skip
        fi;
        k++
    :: else -> break
    od
}

proctype consumer()
{
    byte batch = 0, got = 0, s, budget;
    bool eagain;
    do
    :: got == TOTAL -> break
    :: else ->
        (cnt > 0); /* epoll_wait: sleeps until the fd is readable */
#ifdef BUDGET
        if
        :: budget = 1
        :: BUDGET > 1 -> budget = 2
        :: BUDGET > 2 -> budget = BUDGET
        fi;
#else
        budget = 255;
#endif
        eagain = false;
        do
        :: budget == 0 || eagain -> break
        :: else ->
            /* one pop */
            if
            :: batch == 0 ->
                atomic { s = head; head = NUL };
                if
                :: s == IDLE || s == NUL ->
#ifdef RESET_LATE
                    atomic {
                        if
                        :: head == NUL -> head = IDLE; eagain = true
                        :: else -> s = head; head = NUL
                        fi
                    };
                    cnt = 0
#else
                    cnt = 0; /* reset: read the eventfd */
                    atomic {
                        if
                        :: head == NUL -> head = IDLE; eagain = true
                        :: else -> s = head; head = NUL
                        fi
                    };
#ifndef NO_W2
                    if
                    :: !eagain -> cnt++ /* W2 */
                    :: else -> skip
                    fi
#endif
#endif
                :: else -> skip
                fi;
                if
                :: !eagain -> batch = s
                :: else -> skip
                fi
            :: else -> skip
            fi;
            if
            :: !eagain ->
                assert(batch > 0);
                batch--;
                got++;
                assert(got <= pushed);
                budget--
            :: else -> skip
            fi
        od
    od;
    assert(got == TOTAL && batch == 0)
}

init
{
    atomic {
        byte i = 0;
        do
        :: i < NP -> run producer(); i++
        :: else -> break
        od;
        run consumer()
    }
}
