#ifndef WEFT_QUEUE_H
#define WEFT_QUEUE_H
#include "weft/common.h"
#endif
