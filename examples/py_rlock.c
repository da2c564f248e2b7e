/* An RLock may be taken again by the thread that holds it. */
#include <stdio.h>
#include <weft.h>

static weft_rlock rlock = WEFT_RLOCK_INIT;

static void visit(int depth)
{
    weft_rlock_acquire(&rlock, WEFT_FOREVER);
    printf("depth %d: holding the lock\n", depth);
    if (depth < 3)
        visit(depth + 1);
    weft_rlock_release(&rlock);
}

int main(void)
{
    visit(1);
    printf("released: %s\n", weft_rlock_release(&rlock) == EPERM ? "a further release is EPERM" : "?");
    return 0;
}
