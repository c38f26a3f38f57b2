/* zstd: the usual names, redirected to the lazily loaded table (see util/lazylib.h).
 * Include after the library's own headers. */
#pragma once

#include "util/lazylib.h"

#define ZSTD_createDStream (lazy_zstd()->ZSTD_createDStream)
#define ZSTD_freeDStream (lazy_zstd()->ZSTD_freeDStream)
#define ZSTD_initDStream (lazy_zstd()->ZSTD_initDStream)
#define ZSTD_DCtx_setParameter (lazy_zstd()->ZSTD_DCtx_setParameter)
#define ZSTD_decompressStream (lazy_zstd()->ZSTD_decompressStream)
#define ZSTD_isError (lazy_zstd()->ZSTD_isError)
#define ZSTD_getErrorName (lazy_zstd()->ZSTD_getErrorName)
