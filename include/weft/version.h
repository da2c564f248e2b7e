/** @file
 * weft/version.h: the version of the headers.
 *
 * weft follows semantic versioning. The shared library's SONAME is
 * libweft.so.MAJOR: a release that changes the ABI incompatibly (a removed or
 * changed function, a changed public struct layout or inline function)
 * increments MAJOR; one that only adds functions increments MINOR. The list of
 * exported symbols is committed (abi/weft.symbols) and checked in CI
 * (scripts/abi-check.sh), so an ABI change is never accidental. CHANGELOG.md
 * records every release.
 *
 * These macros are checked against meson.build's project version at
 * configure time (meson.build reads them), so the two cannot drift apart.
 */
#ifndef WEFT_VERSION_H
#define WEFT_VERSION_H

#include "weft/common.h"

/** Major version: incremented on an incompatible ABI change (the SONAME). */
#define WEFT_VERSION_MAJOR 0
/** Minor version: incremented when functions are added. */
#define WEFT_VERSION_MINOR 1
/** Patch version: fixes only. */
#define WEFT_VERSION_PATCH 0
/** "MAJOR.MINOR.PATCH" of the headers. */
#define WEFT_VERSION_STRING "0.1.0"

/** The version as one comparable number: MAJOR * 10000 + MINOR * 100 + PATCH. */
#define WEFT_VERSION_NUMBER (WEFT_VERSION_MAJOR * 10000 + WEFT_VERSION_MINOR * 100 + WEFT_VERSION_PATCH)

WEFT_BEGIN_DECLS

/**
 * The version of the library that is running, "MAJOR.MINOR.PATCH".
 *
 * Equal to WEFT_VERSION_STRING when the program runs against the library its
 * headers came from; a program may compare the two to detect a mismatch (a
 * newer libweft.so.MAJOR of the same MAJOR is compatible). Never NULL; the
 * string is static.
 */
WEFT_API const char *weft_version(void);

WEFT_END_DECLS

#endif /* WEFT_VERSION_H */
