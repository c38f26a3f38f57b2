#include "util/digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util/strutil.h"
#include "util/lazy_crypto.h"

void sha256_init(struct sha256 *h)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		abort();
	h->md = md;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
	if (len && EVP_DigestUpdate(h->md, data, len) != 1)
		abort();
}

void sha256_final(struct sha256 *h, char out[DIGEST_STR_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(h->md, md, &n) != 1 || n != 32)
		abort();
	memcpy(out, "sha256:", 7);
	str_hex(md, 32, out + 7);
}

void sha256_release(struct sha256 *h)
{
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
}

void sha256_digest(const void *data, size_t len, char out[DIGEST_STR_LEN + 1])
{
	struct sha256 h;
	sha256_init(&h);
	sha256_update(&h, data, len);
	sha256_final(&h, out);
	sha256_release(&h);
}

bool digest_is_valid(const char *d)
{
	return d && strncmp(d, "sha256:", 7) == 0 && strlen(d) == DIGEST_STR_LEN &&
	       str_is_hex(d + 7, DIGEST_HEX_LEN);
}

int digest_check(const char *d, const char *what, struct scow_error **err)
{
	if (digest_is_valid(d))
		return 0;
	if (!d)
		return error_set(err, EINVAL, "%s: missing digest", what);
	const char *colon = strchr(d, ':');
	if (colon && (strncmp(d, "sha512:", 7) == 0 || strncmp(d, "sha384:", 7) == 0))
		return error_set(err, ENOTSUP, "%s: unsupported digest algorithm: %.*s", what,
				 (int)(colon - d), d);
	return error_set(err, EINVAL, "%s: invalid digest \"%.80s\"", what, d);
}
