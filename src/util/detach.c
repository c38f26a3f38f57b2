#include "util/detach.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "util/cleanup.h"
#include "util/strutil.h"

int detach_keys_parse(const char *s, struct detach_keys *ret, struct scow_error **err)
{
	struct detach_keys k = {0};
	_cleanup_strv_ char **keys = strv_split(s ? s : "ctrl-p,ctrl-q", ',');
	for (size_t i = 0; keys[i]; i++) {
		const char *key = keys[i];
		if (k.n == sizeof(k.seq))
			return error_set(err, EINVAL, "invalid detach keys: too long");
		if (strlen(key) == 1) {
			k.seq[k.n++] = (unsigned char)key[0];
			continue;
		}
		if (strncasecmp(key, "ctrl-", 5) != 0 || strlen(key) != 6)
			return error_set(err, EINVAL, "Unknown character: '%s'", key);
		char c = (char)tolower((unsigned char)key[5]);
		if (c >= 'a' && c <= 'z')
			k.seq[k.n++] = (unsigned char)(c - 'a' + 1);
		else if (strchr("@[\\]^_", key[5]))
			k.seq[k.n++] = (unsigned char)(strchr("@abcdefghijklmnopqrstuvwxyz[\\]^_", key[5]) -
						       "@abcdefghijklmnopqrstuvwxyz[\\]^_");
		else
			return error_set(err, EINVAL, "Unknown character: '%s'", key);
	}
	if (k.n == 0)
		return error_set(err, EINVAL, "invalid detach keys: empty");
	*ret = k;
	return 0;
}

size_t detach_keys_filter(struct detach_keys *k, const unsigned char *in, size_t len,
			  unsigned char *out, bool *detach)
{
	size_t o = 0;
	*detach = false;
	for (size_t i = 0; i < len; i++) {
		if (in[i] == k->seq[k->matched]) {
			if (++k->matched == k->n) {
				*detach = true;
				k->matched = 0;
				return o;
			}
			continue;
		}
		/* The sequence broke: what was held back is ordinary input. */
		memcpy(out + o, k->seq, k->matched);
		o += k->matched;
		k->matched = 0;
		if (in[i] == k->seq[0]) {
			k->matched = 1;
			continue;
		}
		out[o++] = in[i];
	}
	return o;
}
