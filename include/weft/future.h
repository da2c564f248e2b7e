#ifndef WEFT_FUTURE_H
#define WEFT_FUTURE_H
#include "weft/common.h"
#endif
