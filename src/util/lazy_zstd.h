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
#define ZSTD_createCCtx (lazy_zstd()->ZSTD_createCCtx)
#define ZSTD_freeCCtx (lazy_zstd()->ZSTD_freeCCtx)
#define ZSTD_CCtx_setParameter (lazy_zstd()->ZSTD_CCtx_setParameter)
#define ZSTD_CCtx_reset (lazy_zstd()->ZSTD_CCtx_reset)
#define ZSTD_compressStream2 (lazy_zstd()->ZSTD_compressStream2)
