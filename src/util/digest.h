/* SHA-256 through libcrypto (it uses the CPU's SHA extensions; hashing is
 * on the pull hot path) and validation of OCI digest strings. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

#define DIGEST_HEX_LEN 64
#define DIGEST_STR_LEN (7 + DIGEST_HEX_LEN) /* "sha256:" + hex */

struct sha256 {
	void *md; /* EVP_MD_CTX */
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" (DIGEST_STR_LEN + 1 bytes) and resets nothing. */
void sha256_final(struct sha256 *h, char out[DIGEST_STR_LEN + 1]);
void sha256_release(struct sha256 *h);
void sha256_digest(const void *data, size_t len, char out[DIGEST_STR_LEN + 1]);

/* True for exactly "sha256:" followed by 64 lower-case hex digits: the only
 * form ever used to build a path (SECURITY.md case 22). */
bool digest_is_valid(const char *d);
/* Like digest_is_valid but with a message naming what was wrong, and a
 * clear "unsupported" for other well-formed algorithms (sha512). */
int digest_check(const char *d, const char *what, struct scow_error **err);
/* The hex part of a valid digest. */
static inline const char *digest_hex(const char *d)
{
	return d + 7;
}
