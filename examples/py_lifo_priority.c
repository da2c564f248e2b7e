/* LifoQueue and PriorityQueue. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <weft.h>

struct task {
    int priority;
    const char *name;
};

static int by_priority(const void *a, const void *b)
{
    const struct task *x = a, *y = b;
    return (x->priority > y->priority) - (x->priority < y->priority);
}

int main(void)
{
    weft_queue_options o = WEFT_QUEUE_OPTIONS_INIT;
    o.kind = WEFT_QUEUE_LIFO;
    weft_queue *lifo, *prio;
    if (weft_queue_create(&lifo, &o) != 0)
        return 1;
    for (intptr_t i = 1; i <= 3; i++)
        weft_queue_put(lifo, (void *)i, WEFT_FOREVER);
    printf("LIFO:");
    void *item;
    while (weft_queue_get(lifo, &item, 0) == 0)
        printf(" %ld", (long)(intptr_t)item);
    printf("\n");

    o.kind = WEFT_QUEUE_PRIORITY;
    o.cmp = by_priority;
    if (weft_queue_create(&prio, &o) != 0)
        return 1;
    static struct task tasks[] = {{3, "low"}, {1, "urgent"}, {2, "normal"}};
    for (int i = 0; i < 3; i++)
        weft_queue_put(prio, &tasks[i], WEFT_FOREVER);
    printf("priority:");
    while (weft_queue_get(prio, &item, 0) == 0)
        printf(" (%d, %s)", ((struct task *)item)->priority, ((struct task *)item)->name);
    printf("\n");
    weft_queue_destroy(lifo);
    weft_queue_destroy(prio);
    return 0;
}
