/* version.c: the library's own version string (weft/version.h). */
#include "weft/version.h"

const char *weft_version(void)
{
    return WEFT_VERSION_STRING;
}
