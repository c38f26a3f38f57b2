/* Libraries only some commands need, loaded on first use.
 *
 * Linking libcurl, libarchive and libcrypto costs every scow process about
 * 12 ms before main() (46 shared objects, and constructors such as
 * gnutls's and krb5's), which is most of what `run --rm` may take. So they
 * are dlopen()ed by the commands that use them: pull, push, save/load,
 * build, export. Each library has a table of function pointers; the
 * headers util/lazy_*.h redirect the usual names to it, so call sites read
 * like ordinary library calls.
 *
 * Call the matching *_load() at a command's entry point: it reports a
 * missing library as a clean error. Using a function before loading its
 * library aborts (a bug). Loading is thread-safe and happens once. */
#pragma once

#include <curl/curl.h>
#include <archive.h>
#include <archive_entry.h>
#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>
#include <zstd.h>
#include <nftables/libnftables.h>

#include "util/error.h"

/* X(return type, name, parameter list) */
#define LAZY_CURL_FUNCS(X)                                                                         \
	X(CURLcode, curl_global_init, (long))                                                      \
	X(CURL *, curl_easy_init, (void))                                                          \
	X(void, curl_easy_cleanup, (CURL *))                                                       \
	X(void, curl_easy_reset, (CURL *))                                                         \
	X(CURLcode, curl_easy_setopt, (CURL *, CURLoption, ...))                                  \
	X(CURLcode, curl_easy_perform, (CURL *))                                                   \
	X(CURLcode, curl_easy_getinfo, (CURL *, CURLINFO, ...))                                   \
	X(const char *, curl_easy_strerror, (CURLcode))                                            \
	X(char *, curl_easy_escape, (CURL *, const char *, int))                                   \
	X(void, curl_free, (void *))                                                               \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist *, const char *))             \
	X(void, curl_slist_free_all, (struct curl_slist *))                                        \
	X(CURLU *, curl_url, (void))                                                               \
	X(void, curl_url_cleanup, (CURLU *))                                                       \
	X(CURLUcode, curl_url_set, (CURLU *, CURLUPart, const char *, unsigned int))              \
	X(CURLUcode, curl_url_get, (const CURLU *, CURLUPart, char **, unsigned int))

#define LAZY_ARCHIVE_FUNCS(X)                                                                      \
	X(struct archive *, archive_read_new, (void))                                              \
	X(int, archive_read_free, (struct archive *))                                              \
	X(int, archive_read_support_format_tar, (struct archive *))                                \
	X(int, archive_read_support_format_empty, (struct archive *))                              \
	X(int, archive_read_open,                                                                  \
	  (struct archive *, void *, archive_open_callback *, archive_read_callback *,             \
	   archive_close_callback *))                                                              \
	X(int, archive_read_next_header, (struct archive *, struct archive_entry **))             \
	X(int, archive_read_data_block, (struct archive *, const void **, size_t *, la_int64_t *)) \
	X(const char *, archive_error_string, (struct archive *))                                  \
	X(void, archive_set_error, (struct archive *, int, const char *, ...))                    \
	X(struct archive *, archive_write_new, (void))                                             \
	X(int, archive_write_free, (struct archive *))                                             \
	X(int, archive_write_close, (struct archive *))                                            \
	X(int, archive_write_set_format_pax_restricted, (struct archive *))                        \
	X(int, archive_write_set_bytes_per_block, (struct archive *, int))                         \
	X(int, archive_write_open,                                                                 \
	  (struct archive *, void *, archive_open_callback *, archive_write_callback *,            \
	   archive_close_callback *))                                                              \
	X(int, archive_write_header, (struct archive *, struct archive_entry *))                   \
	X(la_ssize_t, archive_write_data, (struct archive *, const void *, size_t))                \
	X(struct archive_entry *, archive_entry_new, (void))                                       \
	X(void, archive_entry_free, (struct archive_entry *))                                      \
	X(void, archive_entry_clear, (struct archive_entry *))                                     \
	X(const char *, archive_entry_pathname, (struct archive_entry *))                          \
	X(const char *, archive_entry_hardlink, (struct archive_entry *))                          \
	X(const char *, archive_entry_symlink, (struct archive_entry *))                           \
	X(__LA_MODE_T, archive_entry_filetype, (struct archive_entry *))                           \
	X(__LA_MODE_T, archive_entry_perm, (struct archive_entry *))                               \
	X(la_int64_t, archive_entry_uid, (struct archive_entry *))                                 \
	X(la_int64_t, archive_entry_gid, (struct archive_entry *))                                 \
	X(la_int64_t, archive_entry_size, (struct archive_entry *))                                \
	X(int, archive_entry_size_is_set, (struct archive_entry *))                                \
	X(time_t, archive_entry_mtime, (struct archive_entry *))                                   \
	X(long, archive_entry_mtime_nsec, (struct archive_entry *))                                \
	X(int, archive_entry_mtime_is_set, (struct archive_entry *))                               \
	X(time_t, archive_entry_atime, (struct archive_entry *))                                   \
	X(long, archive_entry_atime_nsec, (struct archive_entry *))                                \
	X(int, archive_entry_atime_is_set, (struct archive_entry *))                               \
	X(dev_t, archive_entry_rdevmajor, (struct archive_entry *))                                \
	X(dev_t, archive_entry_rdevminor, (struct archive_entry *))                                \
	X(int, archive_entry_xattr_count, (struct archive_entry *))                                \
	X(int, archive_entry_xattr_reset, (struct archive_entry *))                                \
	X(int, archive_entry_xattr_next,                                                           \
	  (struct archive_entry *, const char **, const void **, size_t *))                        \
	X(void, archive_entry_xattr_add_entry,                                                     \
	  (struct archive_entry *, const char *, const void *, size_t))                            \
	X(void, archive_entry_sparse_add_entry, (struct archive_entry *, la_int64_t, la_int64_t)) \
	X(void, archive_entry_set_pathname, (struct archive_entry *, const char *))                \
	X(void, archive_entry_set_hardlink, (struct archive_entry *, const char *))                \
	X(void, archive_entry_set_symlink, (struct archive_entry *, const char *))                 \
	X(void, archive_entry_set_filetype, (struct archive_entry *, unsigned int))                \
	X(void, archive_entry_set_perm, (struct archive_entry *, __LA_MODE_T))                     \
	X(void, archive_entry_set_uid, (struct archive_entry *, la_int64_t))                       \
	X(void, archive_entry_set_gid, (struct archive_entry *, la_int64_t))                       \
	X(void, archive_entry_set_size, (struct archive_entry *, la_int64_t))                      \
	X(void, archive_entry_set_mtime, (struct archive_entry *, time_t, long))                   \
	X(void, archive_entry_set_rdevmajor, (struct archive_entry *, dev_t))                      \
	X(void, archive_entry_set_rdevminor, (struct archive_entry *, dev_t))                      \
	X(la_int64_t, archive_filter_bytes, (struct archive *, int))                               \
	X(int, archive_entry_sparse_count, (struct archive_entry *))                               \
	X(int, archive_write_set_format_option,                                                    \
	  (struct archive *, const char *, const char *, const char *))                            \
	X(int, archive_read_data_skip, (struct archive *))                                        \
	X(int, archive_read_support_filter_bzip2, (struct archive *))                              \
	X(int, archive_read_support_filter_xz, (struct archive *))                                 \
	X(int, archive_read_support_format_raw, (struct archive *))

#define LAZY_CRYPTO_FUNCS(X)                                                                       \
	X(EVP_MD_CTX *, EVP_MD_CTX_new, (void))                                                    \
	X(void, EVP_MD_CTX_free, (EVP_MD_CTX *))                                                   \
	X(const EVP_MD *, EVP_sha256, (void))                                                      \
	X(int, EVP_DigestInit_ex, (EVP_MD_CTX *, const EVP_MD *, ENGINE *))                        \
	X(int, EVP_DigestUpdate, (EVP_MD_CTX *, const void *, size_t))                             \
	X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *, unsigned char *, unsigned int *))                \
	X(int, EVP_EncodeBlock, (unsigned char *, const unsigned char *, int))                     \
	X(int, EVP_DecodeBlock, (unsigned char *, const unsigned char *, int))

#define LAZY_ISAL_FUNCS(X)                                                                         \
	X(void, isal_inflate_init, (struct inflate_state *))                                       \
	X(void, isal_inflate_reset, (struct inflate_state *))                                      \
	X(int, isal_inflate, (struct inflate_state *))                                             \
	X(void, isal_deflate_init, (struct isal_zstream *))                                        \
	X(void, isal_deflate_reset, (struct isal_zstream *))                                       \
	X(int, isal_deflate, (struct isal_zstream *))                                             \
	X(int, isal_deflate_set_dict, (struct isal_zstream *, uint8_t *, uint32_t))                \
	X(uint32_t, crc32_gzip_refl, (uint32_t, const unsigned char *, uint64_t))

#define LAZY_ZSTD_FUNCS(X)                                                                         \
	X(ZSTD_DStream *, ZSTD_createDStream, (void))                                              \
	X(size_t, ZSTD_freeDStream, (ZSTD_DStream *))                                              \
	X(size_t, ZSTD_initDStream, (ZSTD_DStream *))                                              \
	X(size_t, ZSTD_DCtx_setParameter, (ZSTD_DCtx *, ZSTD_dParameter, int))                     \
	X(size_t, ZSTD_decompressStream, (ZSTD_DStream *, ZSTD_outBuffer *, ZSTD_inBuffer *))      \
	X(unsigned, ZSTD_isError, (size_t))                                                        \
	X(const char *, ZSTD_getErrorName, (size_t))                                               \
	X(ZSTD_CCtx *, ZSTD_createCCtx, (void))                                                    \
	X(size_t, ZSTD_freeCCtx, (ZSTD_CCtx *))                                                    \
	X(size_t, ZSTD_CCtx_setParameter, (ZSTD_CCtx *, ZSTD_cParameter, int))                     \
	X(size_t, ZSTD_CCtx_reset, (ZSTD_CCtx *, ZSTD_ResetDirective))                             \
	X(size_t, ZSTD_compressStream2,                                                            \
	  (ZSTD_CCtx *, ZSTD_outBuffer *, ZSTD_inBuffer *, ZSTD_EndDirective))

/* libnftables pulls in libnftnl, libjansson, libgmp, libxtables...: only
 * the network commands and a container start with published ports or a
 * new bridge load it. */
#define LAZY_NFT_FUNCS(X)                                                                          \
	X(struct nft_ctx *, nft_ctx_new, (uint32_t))                                               \
	X(void, nft_ctx_free, (struct nft_ctx *))                                                  \
	X(int, nft_run_cmd_from_buffer, (struct nft_ctx *, const char *))                          \
	X(int, nft_ctx_buffer_output, (struct nft_ctx *))                                          \
	X(int, nft_ctx_buffer_error, (struct nft_ctx *))                                           \
	X(const char *, nft_ctx_get_output_buffer, (struct nft_ctx *))                             \
	X(const char *, nft_ctx_get_error_buffer, (struct nft_ctx *))                              \
	X(void, nft_ctx_output_set_flags, (struct nft_ctx *, unsigned int))

#define LAZY_FIELD(ret, name, params) ret(*name) params;
struct lazy_curl {
	LAZY_CURL_FUNCS(LAZY_FIELD)
};
struct lazy_archive {
	LAZY_ARCHIVE_FUNCS(LAZY_FIELD)
};
struct lazy_crypto {
	LAZY_CRYPTO_FUNCS(LAZY_FIELD)
};
struct lazy_isal {
	LAZY_ISAL_FUNCS(LAZY_FIELD)
};
struct lazy_zstd {
	LAZY_ZSTD_FUNCS(LAZY_FIELD)
};
struct lazy_nft {
	LAZY_NFT_FUNCS(LAZY_FIELD)
};
#undef LAZY_FIELD

int lazy_curl_load(struct scow_error **err);
int lazy_archive_load(struct scow_error **err);
int lazy_crypto_load(struct scow_error **err);
int lazy_isal_load(struct scow_error **err);
int lazy_zstd_load(struct scow_error **err);
int lazy_nft_load(struct scow_error **err);

const struct lazy_curl *lazy_curl(void);
const struct lazy_archive *lazy_archive(void);
const struct lazy_crypto *lazy_crypto(void);
const struct lazy_isal *lazy_isal(void);
const struct lazy_zstd *lazy_zstd(void);
const struct lazy_nft *lazy_nft(void);
