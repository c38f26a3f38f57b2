/* isal: the usual names, redirected to the lazily loaded table (see util/lazylib.h).
 * Include after the library's own headers. */
#pragma once

#include "util/lazylib.h"

#define isal_inflate_init (lazy_isal()->isal_inflate_init)
#define isal_inflate_reset (lazy_isal()->isal_inflate_reset)
#define isal_inflate (lazy_isal()->isal_inflate)
