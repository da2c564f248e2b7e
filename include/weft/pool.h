#ifndef WEFT_POOL_H
#define WEFT_POOL_H
#include "weft/common.h"
#endif
