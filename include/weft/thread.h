#ifndef WEFT_THREAD_H
#define WEFT_THREAD_H
#include "weft/common.h"
#endif
