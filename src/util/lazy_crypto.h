/* crypto: the usual names, redirected to the lazily loaded table (see util/lazylib.h).
 * Include after the library's own headers. */
#pragma once

#include "util/lazylib.h"

#define EVP_MD_CTX_new (lazy_crypto()->EVP_MD_CTX_new)
#define EVP_MD_CTX_free (lazy_crypto()->EVP_MD_CTX_free)
#define EVP_sha256 (lazy_crypto()->EVP_sha256)
#define EVP_DigestInit_ex (lazy_crypto()->EVP_DigestInit_ex)
#define EVP_DigestUpdate (lazy_crypto()->EVP_DigestUpdate)
#define EVP_DigestFinal_ex (lazy_crypto()->EVP_DigestFinal_ex)
#define EVP_EncodeBlock (lazy_crypto()->EVP_EncodeBlock)
#define EVP_DecodeBlock (lazy_crypto()->EVP_DecodeBlock)
