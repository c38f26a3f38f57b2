#include "util/json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"

json_t *json_parse_buf(const char *buf, size_t len, const char *what, struct scow_error **err)
{
	json_error_t jerr;
	json_t *j = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!j) {
		error_set(err, EINVAL, "%s: invalid JSON at line %d: %s", what, jerr.line, jerr.text);
		return NULL;
	}
	return j;
}

json_t *json_load_at(int dirfd, const char *name, size_t max, struct scow_error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (fs_read_at(dirfd, name, max, &buf, &len, err) < 0)
		return NULL;
	return json_parse_buf(buf, len, name, err);
}

char *json_dump_compact(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (!s)
		abort();
	return s;
}

int json_save_at(int dirfd, const char *name, json_t *j, struct scow_error **err)
{
	_cleanup_free_ char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!s)
		return error_set(err, ENOMEM, "serialise %s", name);
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, s);
	sb_appendc(&sb, '\n');
	return fs_write_atomic_at(dirfd, name, sb.buf, sb.len, 0600, err);
}

const char *json_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

long long json_get_int(const json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

bool json_get_bool(const json_t *obj, const char *key, bool dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

json_t *json_get_obj(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_object(v) ? v : NULL;
}

json_t *json_get_arr(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_array(v) ? v : NULL;
}

void json_set_str(json_t *obj, const char *key, const char *s)
{
	json_object_set_new(obj, key, s ? json_string(s) : json_null());
}

void json_set_int(json_t *obj, const char *key, long long v)
{
	json_object_set_new(obj, key, json_integer(v));
}
