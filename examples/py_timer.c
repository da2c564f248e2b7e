/* Timer: run a function after a delay; a cancelled one never runs. */
#include <stdio.h>
#include <weft.h>

static void hello(void *arg)
{
    printf("%s\n", (const char *)arg);
}

int main(void)
{
    weft_timer *t, *u;
    if (weft_timer_create(&t, 0.1, hello, "timer fired after 0.1 s") != 0 ||
        weft_timer_create(&u, 5.0, hello, "never printed") != 0)
        return 1;
    weft_timer_start(t);
    weft_timer_start(u);
    printf("cancelled before it fired: %s\n", weft_timer_cancel(u) ? "yes" : "no");
    weft_timer_join(t, WEFT_FOREVER);
    weft_timer_destroy(t);
    weft_timer_destroy(u);
    return 0;
}
