#include "util/json_pick.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/xalloc.h"

struct scan {
	const char *p, *end;
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\n' || *s->p == '\t' || *s->p == '\r'))
		s->p++;
}

/* Past a string whose opening quote s->p is at. */
static bool skip_string(struct scan *s)
{
	for (s->p++; s->p < s->end; s->p++) {
		if (*s->p == '\\') {
			s->p++;
			continue;
		}
		if (*s->p == '"') {
			s->p++;
			return true;
		}
	}
	return false;
}

/* Past one value of any kind. Brackets are only counted, not checked:
 * the picked values are parsed by jansson, which checks them. */
static bool skip_value(struct scan *s)
{
	skip_ws(s);
	if (s->p >= s->end)
		return false;
	if (*s->p == '"')
		return skip_string(s);
	if (*s->p != '{' && *s->p != '[') {
		while (s->p < s->end && !strchr(",}] \n\t\r", *s->p))
			s->p++;
		return true;
	}
	int depth = 0;
	while (s->p < s->end) {
		char c = *s->p;
		if (c == '"') {
			if (!skip_string(s))
				return false;
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			depth--;
		s->p++;
		if (depth == 0)
			return true;
	}
	return false;
}

/* The keys of `keys` that start with prefix + ".", with it removed. */
static char **sub_keys(const char *const *keys, const char *name, size_t name_len)
{
	char **sub = xcalloc(1, sizeof(char *));
	for (size_t i = 0; keys[i]; i++)
		if (strncmp(keys[i], name, name_len) == 0 && keys[i][name_len] == '.')
			strv_push(&sub, xstrdup(keys[i] + name_len + 1));
	return sub;
}

static bool wanted(const char *const *keys, const char *name, size_t name_len)
{
	for (size_t i = 0; keys[i]; i++)
		if (strlen(keys[i]) == name_len && memcmp(keys[i], name, name_len) == 0)
			return true;
	return false;
}

static json_t *pick_object(struct scan *s, const char *const *keys, struct scow_error **err)
{
	skip_ws(s);
	if (s->p >= s->end || *s->p != '{') {
		error_set(err, EINVAL, "not a JSON object");
		return NULL;
	}
	s->p++;
	_cleanup_json_ json_t *out = json_object();
	for (;;) {
		skip_ws(s);
		if (s->p < s->end && *s->p == '}') {
			s->p++;
			return steal_ptr(&out);
		}
		if (s->p >= s->end || *s->p != '"')
			break;
		const char *name = s->p + 1;
		if (!skip_string(s))
			break;
		size_t name_len = (size_t)(s->p - 1 - name);
		skip_ws(s);
		if (s->p >= s->end || *s->p != ':')
			break;
		s->p++;
		skip_ws(s);
		const char *value = s->p;
		_cleanup_strv_ char **sub = sub_keys(keys, name, name_len);
		_cleanup_free_ char *key = xstrndup(name, name_len);
		if (sub[0] && *value == '{') {
			json_t *inner = pick_object(s, (const char *const *)sub, err);
			if (!inner)
				return NULL;
			json_object_set_new(out, key, inner);
		} else {
			if (!skip_value(s))
				break;
			if (wanted(keys, name, name_len)) {
				json_error_t jerr;
				json_t *v = json_loadb(value, (size_t)(s->p - value),
						       JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
				if (!v) {
					error_set(err, EINVAL, "invalid JSON in \"%s\": %s", key,
						  jerr.text);
					return NULL;
				}
				json_object_set_new(out, key, v);
			}
		}
		skip_ws(s);
		if (s->p < s->end && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->end && *s->p == '}')
			continue;
		break;
	}
	error_set(err, EINVAL, "malformed JSON object");
	return NULL;
}

json_t *json_pick(const char *buf, size_t len, const char *const *keys, struct scow_error **err)
{
	struct scan s = {buf, buf + len};
	return pick_object(&s, keys, err);
}
