/* isal: the usual names, redirected to the lazily loaded table (see util/lazylib.h).
 * Include after the library's own headers. */
#pragma once

#include "util/lazylib.h"

#define isal_inflate_init (lazy_isal()->isal_inflate_init)
#define isal_inflate_reset (lazy_isal()->isal_inflate_reset)
#define isal_inflate (lazy_isal()->isal_inflate)
#define isal_deflate_init (lazy_isal()->isal_deflate_init)
#define isal_deflate_reset (lazy_isal()->isal_deflate_reset)
#define isal_deflate (lazy_isal()->isal_deflate)
#define isal_deflate_set_dict (lazy_isal()->isal_deflate_set_dict)
#define crc32_gzip_refl (lazy_isal()->crc32_gzip_refl)
