/* The functions a template can call: Go's text/template builtins and the
 * ones Docker's CLI adds (json, join, split, title, lower, upper, pad,
 * truncate). Each takes evaluated arguments (NULL for no value), sets *ret to
 * a new reference, or fails with Go's wording. */
#include "util/template_internal.h"

#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

/* pad refuses counts beyond this rather than allocate them. */
#define FN_MAX_COUNT 1000000

static int __attribute__((format(printf, 3, 4)))
fn_fail(struct scow_error **err, const char *name, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	return error_set(err, EINVAL, "error calling %s: %s", name, msg);
}

/* An int argument; the executor has checked that it is one. */
static long long arg_int(const json_t *v)
{
	long long x = 0;
	tmpl_as_int(v, &x);
	return x;
}

static int ret_string(struct strbuf *sb, json_t **ret)
{
	*ret = tmpl_strn(sb->buf, sb->len);
	return 0;
}

/* ---- logic and comparison ---- */

static int fn_not(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	(void)argc, (void)err;
	*ret = json_boolean(!tmpl_truth(argv[0]));
	return 0;
}

enum cmp_kind { KIND_NIL, KIND_BOOL, KIND_NUMBER, KIND_STRING, KIND_OTHER };

static enum cmp_kind cmp_kind(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_TRUE:
	case JSON_FALSE:
		return KIND_BOOL;
	case JSON_INTEGER:
	case JSON_REAL:
		return KIND_NUMBER;
	case JSON_STRING:
		return KIND_STRING;
	case JSON_NULL:
		return KIND_NIL;
	default:
		return KIND_OTHER;
	}
}

/* -1, 0, 1 for numbers or strings of the same kind. */
static int cmp_values(const json_t *a, const json_t *b)
{
	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t x = json_integer_value(a), y = json_integer_value(b);
		return (x > y) - (x < y);
	}
	if (json_is_number(a)) {
		double x = json_number_value(a), y = json_number_value(b);
		return (x > y) - (x < y);
	}
	size_t na, nb;
	const char *sa = tmpl_str(a, &na), *sb = tmpl_str(b, &nb);
	int c = memcmp(sa, sb, na < nb ? na : nb);
	if (c)
		return c < 0 ? -1 : 1;
	return (na > nb) - (na < nb);
}

/* Go's eq for two values: nil equals only nil, numbers compare by value. */
static int eq2(const char *name, const json_t *a, const json_t *b, bool *ret,
	       struct scow_error **err)
{
	enum cmp_kind ka = cmp_kind(a), kb = cmp_kind(b);
	if (ka == KIND_NIL || kb == KIND_NIL) {
		*ret = ka == kb;
		return 0;
	}
	if (ka != kb)
		return fn_fail(err, name, "incompatible types for comparison");
	if (ka == KIND_OTHER) {
		_cleanup_sb_ struct strbuf what = STRBUF_INIT;
		json_t *args[] = {(json_t *)b};
		tmpl_sprintf(&what, "%s", 2, args, 1);
		return fn_fail(err, name, "non-comparable type %s: %s", what.buf,
			       tmpl_type_name(b));
	}
	*ret = ka == KIND_BOOL ? json_typeof(a) == json_typeof(b) : cmp_values(a, b) == 0;
	return 0;
}

static int fn_eq(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	if (argc < 2)
		return fn_fail(err, "eq", "missing argument for comparison");
	for (size_t i = 1; i < argc; i++) {
		bool t = false;
		if (eq2("eq", argv[0], argv[i], &t, err) < 0)
			return -1;
		if (t) {
			*ret = json_true();
			return 0;
		}
	}
	*ret = json_false();
	return 0;
}

static int fn_ne(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	bool t = false;
	(void)argc;
	if (eq2("ne", argv[0], argv[1], &t, err) < 0)
		return -1;
	*ret = json_boolean(!t);
	return 0;
}

/* Go's lt: numbers and strings only, of the same kind. */
static int lt2(const char *name, const json_t *a, const json_t *b, bool *ret,
	       struct scow_error **err)
{
	enum cmp_kind ka = cmp_kind(a), kb = cmp_kind(b);
	if (ka == KIND_NIL || ka == KIND_OTHER || kb == KIND_NIL || kb == KIND_OTHER)
		return fn_fail(err, name, "invalid type for comparison");
	if (ka != kb)
		return fn_fail(err, name, "incompatible types for comparison");
	if (ka == KIND_BOOL)
		return fn_fail(err, name, "invalid type for comparison");
	*ret = cmp_values(a, b) < 0;
	return 0;
}

static int le2(const char *name, const json_t *a, const json_t *b, bool *ret,
	       struct scow_error **err)
{
	if (lt2(name, a, b, ret, err) < 0)
		return -1;
	if (*ret)
		return 0;
	return eq2(name, a, b, ret, err);
}

static int fn_lt(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	bool t = false;
	(void)argc;
	if (lt2("lt", argv[0], argv[1], &t, err) < 0)
		return -1;
	*ret = json_boolean(t);
	return 0;
}

static int fn_le(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	bool t = false;
	(void)argc;
	if (le2("le", argv[0], argv[1], &t, err) < 0)
		return -1;
	*ret = json_boolean(t);
	return 0;
}

static int fn_gt(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	bool t = false;
	(void)argc;
	if (le2("gt", argv[0], argv[1], &t, err) < 0)
		return -1;
	*ret = json_boolean(!t);
	return 0;
}

static int fn_ge(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	bool t = false;
	(void)argc;
	if (lt2("ge", argv[0], argv[1], &t, err) < 0)
		return -1;
	*ret = json_boolean(!t);
	return 0;
}

/* ---- len, index, slice ---- */

static int fn_len(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	json_t *v = argv[0];
	(void)argc;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		*ret = json_integer((json_int_t)json_string_length(v));
		return 0;
	case JSON_ARRAY:
		*ret = json_integer((json_int_t)json_array_size(v));
		return 0;
	case JSON_OBJECT:
		*ret = json_integer((json_int_t)json_object_size(v));
		return 0;
	case JSON_NULL:
		return fn_fail(err, "len", "len of nil pointer");
	default:
		return fn_fail(err, "len", "len of type %s", tmpl_type_name(v));
	}
}

/* An index into something of length len; at most len when allow_end. */
static int index_arg(const char *name, const json_t *v, size_t len, bool allow_end,
		     long long *ret, struct scow_error **err)
{
	if (!v || json_is_null(v))
		return fn_fail(err, name, "cannot index slice/array with nil");
	if (!tmpl_as_int(v, ret))
		return fn_fail(err, name, "cannot index slice/array with type %s",
			       tmpl_type_name(v));
	if (*ret < 0 || (unsigned long long)*ret > len ||
	    (!allow_end && (unsigned long long)*ret == len))
		return fn_fail(err, name, "index out of range: %lld", *ret);
	return 0;
}

static int index_one(json_t *item, const json_t *idx, json_t **ret, struct scow_error **err)
{
	long long x;
	size_t n;
	const char *s;
	switch (json_typeof(item)) {
	case JSON_ARRAY:
		if (index_arg("index", idx, json_array_size(item), false, &x, err) < 0)
			return -1;
		*ret = json_incref(json_array_get(item, (size_t)x));
		return 0;
	case JSON_STRING:
		s = tmpl_str(item, &n);
		if (index_arg("index", idx, n, false, &x, err) < 0)
			return -1;
		*ret = json_integer((unsigned char)s[x]);
		return 0;
	case JSON_OBJECT:
		if (!idx || json_is_null(idx))
			return fn_fail(err, "index", "value is nil; should be of type string");
		if (!json_is_string(idx))
			return fn_fail(err, "index", "value has type %s; should be string",
				       tmpl_type_name(idx));
		*ret = json_incref(json_object_get(item, json_string_value(idx)));
		return 0;
	case JSON_NULL:
		return fn_fail(err, "index", "index of nil pointer");
	default:
		return fn_fail(err, "index", "can't index item of type %s", tmpl_type_name(item));
	}
}

static int fn_index(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	if (!argv[0] || json_is_null(argv[0]))
		return fn_fail(err, "index", "index of untyped nil");
	json_t *item = json_incref(argv[0]);
	for (size_t i = 1; i < argc; i++) {
		json_t *next = NULL;
		int r = item ? index_one(item, argv[i], &next, err)
			     : fn_fail(err, "index", "index of nil pointer");
		json_decref(item);
		if (r < 0)
			return -1;
		item = next;
	}
	*ret = item;
	return 0;
}

static int fn_slice(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	json_t *item = argv[0];
	size_t n = 0, nidx = argc - 1;
	const char *s = tmpl_str(item, &n);
	if (!item || json_is_null(item))
		return fn_fail(err, "slice", "slice of untyped nil");
	if (nidx > 3)
		return fn_fail(err, "slice", "too many slice indexes: %zu", nidx);
	if (s && nidx == 3)
		return fn_fail(err, "slice", "cannot 3-index slice a string");
	if (!s && !json_is_array(item))
		return fn_fail(err, "slice", "can't slice item of type %s", tmpl_type_name(item));
	if (!s)
		n = json_array_size(item);
	long long idx[3] = {0, (long long)n, (long long)n};
	for (size_t i = 0; i < nidx; i++)
		if (index_arg("slice", argv[i + 1], n, true, &idx[i], err) < 0)
			return -1;
	if (idx[0] > idx[1])
		return fn_fail(err, "slice", "invalid slice index: %lld > %lld", idx[0], idx[1]);
	if (nidx == 3 && idx[1] > idx[2])
		return fn_fail(err, "slice", "invalid slice index: %lld > %lld", idx[1], idx[2]);
	if (s) {
		*ret = tmpl_strn(s + idx[0], (size_t)(idx[1] - idx[0]));
		return 0;
	}
	*ret = json_array();
	for (long long i = idx[0]; i < idx[1]; i++)
		json_array_append(*ret, json_array_get(item, (size_t)i));
	return 0;
}

/* ---- printing and escaping ---- */

static int fn_print(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	(void)err;
	tmpl_sprint(&sb, argv, argc);
	return ret_string(&sb, ret);
}

static int fn_println(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	(void)err;
	tmpl_sprintln(&sb, argv, argc);
	return ret_string(&sb, ret);
}

static int fn_printf(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	size_t n;
	const char *fmt = tmpl_str(argv[0], &n);
	(void)err;
	tmpl_sprintf(&sb, fmt, n, argv + 1, argc - 1);
	return ret_string(&sb, ret);
}

/* The text html, js and urlquery escape: a lone string as is, otherwise
 * fmt.Sprint of the arguments with nil shown as "<no value>". */
static void escaper_text(json_t **argv, size_t argc, struct strbuf *sb)
{
	if (argc == 1 && json_is_string(argv[0])) {
		sb_appendn(sb, json_string_value(argv[0]), json_string_length(argv[0]));
		return;
	}
	_cleanup_json_ json_t *no_value = tmpl_strn("<no value>", 10);
	_cleanup_free_ json_t **args = xcalloc(argc + 1, sizeof(*args));
	for (size_t i = 0; i < argc; i++)
		args[i] = !argv[i] || json_is_null(argv[i]) ? no_value : argv[i];
	tmpl_sprint(sb, args, argc);
}

static int fn_html(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	(void)err;
	escaper_text(argv, argc, &in);
	for (size_t i = 0; i < in.len; i++) {
		switch (in.buf[i]) {
		case '"':
			sb_append(&out, "&#34;");
			break;
		case '\'':
			sb_append(&out, "&#39;");
			break;
		case '&':
			sb_append(&out, "&amp;");
			break;
		case '<':
			sb_append(&out, "&lt;");
			break;
		case '>':
			sb_append(&out, "&gt;");
			break;
		case '\0':
			sb_append(&out, "\xEF\xBF\xBD");
			break;
		default:
			sb_appendc(&out, in.buf[i]);
		}
	}
	return ret_string(&out, ret);
}

static int fn_js(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	(void)err;
	escaper_text(argv, argc, &in);
	for (size_t i = 0; i < in.len;) {
		unsigned char c = (unsigned char)in.buf[i];
		unsigned r;
		size_t len = tmpl_utf8_decode(in.buf + i, in.len - i, &r);
		if (c == '\\' || c == '\'' || c == '"')
			sb_printf(&out, "\\%c", c);
		else if (c == '<' || c == '>' || c == '&' || c == '=' || c < ' ')
			sb_printf(&out, "\\u%04X", c);
		else if (c >= 0x80 && !(len == 1 && r == 0xFFFD) && !tmpl_rune_is_print(r))
			sb_printf(&out, "\\u%04X", r);
		else
			sb_appendn(&out, in.buf + i, len);
		i += len;
	}
	return ret_string(&out, ret);
}

static int fn_urlquery(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
	(void)err;
	escaper_text(argv, argc, &in);
	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = (unsigned char)in.buf[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			sb_appendc(&out, (char)c);
		else if (c == ' ')
			sb_appendc(&out, '+');
		else
			sb_printf(&out, "%%%02X", c);
	}
	return ret_string(&out, ret);
}

/* ---- Docker's functions ---- */

static int fn_json(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	(void)argc, (void)err;
	tmpl_json_encode(&sb, argv[0]);
	return ret_string(&sb, ret);
}

static int fn_join(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	size_t nsep;
	const char *sep = tmpl_str(argv[1], &nsep);
	(void)argc, (void)err;
	for (size_t i = 0; i < json_array_size(argv[0]); i++) {
		if (i)
			sb_appendn(&sb, sep, nsep);
		tmpl_print_value(&sb, json_array_get(argv[0], i));
	}
	if (!sb.buf)
		sb_append(&sb, "");
	return ret_string(&sb, ret);
}

static int fn_split(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	size_t n, nsep;
	const char *s = tmpl_str(argv[0], &n), *sep = tmpl_str(argv[1], &nsep);
	(void)argc, (void)err;
	json_t *a = json_array();
	size_t start = 0;
	unsigned r;
	if (!nsep) {
		for (size_t len; start < n; start += len) {
			len = tmpl_utf8_decode(s + start, n - start, &r);
			json_array_append_new(a, tmpl_strn(s + start, len));
		}
		*ret = a;
		return 0;
	}
	for (size_t i = 0; i + nsep <= n;) {
		if (memcmp(s + i, sep, nsep)) {
			i++;
			continue;
		}
		json_array_append_new(a, tmpl_strn(s + start, i - start));
		i += nsep;
		start = i;
	}
	json_array_append_new(a, tmpl_strn(s + start, n - start));
	*ret = a;
	return 0;
}

enum case_op { CASE_LOWER, CASE_UPPER, CASE_TITLE };

/* Unicode case mapping needs a UTF-8 locale object; without one only ASCII
 * letters change. No global locale is touched. */
static unsigned case_map(unsigned r, bool upper, locale_t loc)
{
	if (r < 0x80) {
		if (upper && r >= 'a' && r <= 'z')
			return r - 32;
		if (!upper && r >= 'A' && r <= 'Z')
			return r + 32;
		return r;
	}
	if (loc == (locale_t)0)
		return r;
	return (unsigned)(upper ? towupper_l((wint_t)r, loc) : towlower_l((wint_t)r, loc));
}

/* strings.Title's word boundaries. */
static bool title_separator(unsigned r, locale_t loc)
{
	if (r < 0x80)
		return !((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') ||
			 (r >= 'A' && r <= 'Z') || r == '_');
	if (loc == (locale_t)0)
		return false;
	if (iswalpha_l((wint_t)r, loc) || iswdigit_l((wint_t)r, loc))
		return false;
	return iswspace_l((wint_t)r, loc) || r == 0xA0;
}

static int change_case(json_t *arg, enum case_op op, json_t **ret)
{
	size_t n;
	const char *s = tmpl_str(arg, &n);
	locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	unsigned prev = ' ';
	for (size_t i = 0; i < n;) {
		unsigned r;
		i += tmpl_utf8_decode(s + i, n - i, &r);
		bool upper = op == CASE_UPPER || (op == CASE_TITLE && title_separator(prev, loc));
		prev = r;
		tmpl_utf8_append(&sb, op == CASE_TITLE && !upper ? r : case_map(r, upper, loc));
	}
	if (loc != (locale_t)0)
		freelocale(loc);
	if (!sb.buf)
		sb_append(&sb, "");
	return ret_string(&sb, ret);
}

static int fn_lower(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	(void)argc, (void)err;
	return change_case(argv[0], CASE_LOWER, ret);
}

static int fn_upper(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	(void)argc, (void)err;
	return change_case(argv[0], CASE_UPPER, ret);
}

static int fn_title(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	(void)argc, (void)err;
	return change_case(argv[0], CASE_TITLE, ret);
}

static void append_spaces(struct strbuf *sb, long long n)
{
	for (; n > 0; n--)
		sb_appendc(sb, ' ');
}

static int fn_pad(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	size_t n;
	const char *s = tmpl_str(argv[0], &n);
	long long left = arg_int(argv[1]), right = arg_int(argv[2]);
	(void)argc;
	if (left < 0 || right < 0)
		return fn_fail(err, "pad", "strings: negative Repeat count");
	if (left > FN_MAX_COUNT || right > FN_MAX_COUNT)
		return fn_fail(err, "pad", "strings: Repeat count too large");
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	if (n) {
		append_spaces(&sb, left);
		sb_appendn(&sb, s, n);
		append_spaces(&sb, right);
	}
	*ret = tmpl_strn(sb.buf, sb.len);
	return 0;
}

/* Docker cuts bytes; runes here, so that a name is never cut mid-character. */
static int fn_truncate(json_t **argv, size_t argc, json_t **ret, struct scow_error **err)
{
	size_t n, i = 0;
	const char *s = tmpl_str(argv[0], &n);
	long long max = arg_int(argv[1]);
	(void)argc;
	if (max < 0)
		return fn_fail(err, "truncate", "slice bounds out of range [:%lld]", max);
	for (long long count = 0; i < n && count < max; count++) {
		unsigned r;
		i += tmpl_utf8_decode(s + i, n - i, &r);
	}
	*ret = tmpl_strn(s, i);
	return 0;
}

/* Sorted by name. and/or have no fn: the executor short-circuits them. */
static const struct tmpl_func tmpl_funcs[] = {
	{"and", 1, true, "v", NULL},
	{"eq", 1, true, "v", fn_eq},
	{"ge", 2, false, "vv", fn_ge},
	{"gt", 2, false, "vv", fn_gt},
	{"html", 0, true, "v", fn_html},
	{"index", 1, true, "v", fn_index},
	{"join", 2, false, "ls", fn_join},
	{"js", 0, true, "v", fn_js},
	{"json", 1, false, "v", fn_json},
	{"le", 2, false, "vv", fn_le},
	{"len", 1, false, "v", fn_len},
	{"lower", 1, false, "s", fn_lower},
	{"lt", 2, false, "vv", fn_lt},
	{"ne", 2, false, "vv", fn_ne},
	{"not", 1, false, "v", fn_not},
	{"or", 1, true, "v", NULL},
	{"pad", 3, false, "sii", fn_pad},
	{"print", 0, true, "v", fn_print},
	{"printf", 1, true, "sv", fn_printf},
	{"println", 0, true, "v", fn_println},
	{"slice", 1, true, "v", fn_slice},
	{"split", 2, false, "ss", fn_split},
	{"title", 1, false, "s", fn_title},
	{"truncate", 2, false, "si", fn_truncate},
	{"upper", 1, false, "s", fn_upper},
	{"urlquery", 0, true, "v", fn_urlquery},
};

static int func_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct tmpl_func *)elem)->name);
}

const struct tmpl_func *tmpl_func_lookup(const char *name)
{
	return bsearch(name, tmpl_funcs, ARRAY_SIZE(tmpl_funcs), sizeof(tmpl_funcs[0]), func_cmp);
}
