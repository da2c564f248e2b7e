/* The C side of the layout comparison (see layout.h). */
#include "layout.h"

#define CONSUMER_ENTRY(e) (e),
const size_t consumer_layout_c[] = {CONSUMER_LAYOUT(CONSUMER_ENTRY)};
const size_t consumer_layout_c_n = sizeof consumer_layout_c / sizeof consumer_layout_c[0];
