/** @file
 * weft/atomic.h: the C/C++ compatibility layer of weft's public headers.
 *
 * weft is written in C11; its headers are also included by C++ programs
 * (C++11 to C++23, g++ and clang++). Two C11 features that the transparent
 * sync structs need do not exist in C++ before C++23: the _Atomic qualifier
 * and <stdatomic.h> (g++ 12 has neither; clang++ accepts _Atomic as an
 * extension but rejects brace initialisers into it as narrowing). The choice,
 * made once here:
 *
 *   - A field shared between threads is declared WEFT_ATOMIC(T): `_Atomic T`
 *     in C, plain `T` in C++. For the T used in the public structs (uint32_t,
 *     uintptr_t, int) _Atomic T has the size, alignment and representation of
 *     T on every ABI that gcc and clang target (they are lock-free machine
 *     words); the _Static_asserts below check it in every C translation unit,
 *     the library's own included, and tests/consumer/layout_* compares the
 *     struct layouts seen by C and by C++. So a struct is the same object in
 *     both languages.
 *   - C++ code never touches those fields except through the inline fast
 *     paths of the headers, and those use the GCC/Clang __atomic builtins,
 *     which operate atomically on plain integers in C and C++ alike and
 *     compile to the same instruction as the C11 call (uncontended
 *     weft_lock_acquire: one lock cmpxchg on x86-64 in both languages).
 *     C keeps the standard <stdatomic.h> calls. Memory orders are the same
 *     in both branches, so one protocol holds whichever language a caller
 *     is compiled in.
 *   - Static initialisers ({0}, {WEFT_LOCK_INIT, 0, 0}, ...) then initialise
 *     plain integers in C++: valid at namespace scope, no narrowing.
 *
 * Other compilers than gcc and clang are not supported in C++ (the builtins);
 * a C11 compiler with <stdatomic.h> is enough in C.
 *
 * The helpers below are weft-private (weft__ prefix): they exist for the
 * inline functions of the public headers and are not part of the API. What is
 * inline in a public header is part of the ABI; keep it to the lock fast path.
 */
#ifndef WEFT_ATOMIC_H
#define WEFT_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus

#if !defined(__GNUC__)
#error "weft's C++ headers need the GCC/Clang __atomic builtins (g++ or clang++)"
#endif

/** A field shared between threads: plain T in C++ (see above). */
#define WEFT_ATOMIC(T) T

/** Relaxed load (a snapshot). */
static inline uint32_t weft__atomic_load_relaxed_u32(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/** Strong CAS, acquire on success, relaxed on failure. */
static inline bool weft__atomic_cas_acquire_u32(uint32_t *p, uint32_t *expected, uint32_t desired)
{
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/** Exchange with release order. */
static inline uint32_t weft__atomic_exchange_release_u32(uint32_t *p, uint32_t v)
{
    return __atomic_exchange_n(p, v, __ATOMIC_RELEASE);
}

#else /* C */

#include <stdatomic.h>

/** A field shared between threads: _Atomic T in C (see above). */
#define WEFT_ATOMIC(T) _Atomic T

_Static_assert(sizeof(_Atomic uint32_t) == sizeof(uint32_t) &&
                   _Alignof(_Atomic uint32_t) == _Alignof(uint32_t),
               "weft's C++ layout of WEFT_ATOMIC(uint32_t) needs _Atomic uint32_t == uint32_t");
_Static_assert(sizeof(_Atomic uintptr_t) == sizeof(uintptr_t) &&
                   _Alignof(_Atomic uintptr_t) == _Alignof(uintptr_t),
               "weft's C++ layout of WEFT_ATOMIC(uintptr_t) needs _Atomic uintptr_t == uintptr_t");
_Static_assert(sizeof(_Atomic int) == sizeof(int) && _Alignof(_Atomic int) == _Alignof(int),
               "weft's C++ layout of WEFT_ATOMIC(int) needs _Atomic int == int");

static inline uint32_t weft__atomic_load_relaxed_u32(const _Atomic uint32_t *p)
{
    return atomic_load_explicit(p, memory_order_relaxed);
}

static inline bool weft__atomic_cas_acquire_u32(_Atomic uint32_t *p, uint32_t *expected, uint32_t desired)
{
    return atomic_compare_exchange_strong_explicit(p, expected, desired, memory_order_acquire,
                                                   memory_order_relaxed);
}

static inline uint32_t weft__atomic_exchange_release_u32(_Atomic uint32_t *p, uint32_t v)
{
    return atomic_exchange_explicit(p, v, memory_order_release);
}

#endif /* __cplusplus */

#endif /* WEFT_ATOMIC_H */
