/* diag/names.c: the names users give to objects (weft_diag_set_name), shown
 * by lockdep reports and dumps.
 *
 * Design note. A fixed open-addressing table (linear probing) keyed by
 * address, because sync objects are transparent structs with no room for a
 * name, and because the signal handler must read it without a lock. A key is
 * claimed with a CAS from NULL and never given back, so a probe sequence is
 * never broken; a name is replaced with a store, and an old name is never
 * freed (a reader may be printing it): renaming in a loop leaks. Every copy
 * stays on a list (so leak checkers see it as reachable). Removing a name
 * stores NULL and keeps the key.
 */
#include <stdlib.h>
#include <string.h>

#include "diag/diag_impl.h"

#define NAMES_CAP 4096 /* a power of two */

static struct {
    _Atomic(const void *) key;
    _Atomic(const char *) name;
} names[NAMES_CAP];

/* Every name ever copied: a Treiber push, never a pop. */
typedef struct name_copy {
    struct name_copy *older;
    char s[];
} name_copy;
static _Atomic(name_copy *) copies;

static char *copy_name(const char *name)
{
    size_t len = strlen(name);
    name_copy *c = malloc(sizeof *c + len + 1);
    if (c == NULL)
        return NULL;
    memcpy(c->s, name, len + 1);
    c->older = atomic_load_explicit(&copies, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&copies, &c->older, c, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
    return c->s;
}

static size_t slot_of(const void *obj)
{
    uintptr_t h = (uintptr_t)obj;
    h ^= h >> 17;
    h *= 0xed5ad4bbu;
    h ^= h >> 11;
    return (size_t)h & (NAMES_CAP - 1);
}

int weft_diag_set_name(const void *object, const char *name)
{
    if (object == NULL)
        return EINVAL;
    char *copy = NULL;
    if (name != NULL && (copy = copy_name(name)) == NULL)
        return ENOMEM;
    size_t i = slot_of(object);
    for (size_t n = 0; n < NAMES_CAP; n++, i = (i + 1) & (NAMES_CAP - 1)) {
        const void *k = atomic_load_explicit(&names[i].key, memory_order_relaxed);
        if (k == NULL) {
            if (copy == NULL)
                return 0; /* removing a name that was never set */
            if (!atomic_compare_exchange_strong_explicit(&names[i].key, &k, object, memory_order_relaxed,
                                                         memory_order_relaxed) &&
                k != object)
                continue;
        } else if (k != object) {
            continue;
        }
        /* release: publishes the copied bytes to the acquire load in
         * weft__diag_name_of. */
        atomic_store_explicit(&names[i].name, copy, memory_order_release);
        return 0;
    }
    return ENOMEM; /* copy stays on the list */
}

int weft_lock_set_name(weft_lock *lock, const char *name)
{
    return weft_diag_set_name(lock, name);
}

const char *weft__diag_name_of(const void *obj)
{
    if (obj == NULL)
        return NULL;
    size_t i = slot_of(obj);
    for (size_t n = 0; n < NAMES_CAP; n++, i = (i + 1) & (NAMES_CAP - 1)) {
        const void *k = atomic_load_explicit(&names[i].key, memory_order_relaxed);
        if (k == NULL)
            return NULL;
        if (k == obj)
            /* acquire: pairs with the release store in weft_diag_set_name. */
            return atomic_load_explicit(&names[i].name, memory_order_acquire);
    }
    return NULL;
}
