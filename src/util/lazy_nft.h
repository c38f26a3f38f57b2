/* libnftables: the usual names, redirected to the lazily loaded table (see
 * util/lazylib.h). Include after <nftables/libnftables.h>. */
#pragma once

#include "util/lazylib.h"

#define nft_ctx_new (lazy_nft()->nft_ctx_new)
#define nft_ctx_free (lazy_nft()->nft_ctx_free)
#define nft_run_cmd_from_buffer (lazy_nft()->nft_run_cmd_from_buffer)
#define nft_ctx_buffer_output (lazy_nft()->nft_ctx_buffer_output)
#define nft_ctx_buffer_error (lazy_nft()->nft_ctx_buffer_error)
#define nft_ctx_get_output_buffer (lazy_nft()->nft_ctx_get_output_buffer)
#define nft_ctx_get_error_buffer (lazy_nft()->nft_ctx_get_error_buffer)
#define nft_ctx_output_set_flags (lazy_nft()->nft_ctx_output_set_flags)
