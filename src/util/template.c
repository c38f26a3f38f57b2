/* Go's fmt, strconv and encoding/json, as text/template applies them to the
 * values json.Unmarshal produces: printing with %v, Sprint/Sprintln/Sprintf
 * with flags, width and precision, quoting, and JSON output. The engine's
 * other parts are in template_parse.c, template_exec.c, template_funcs.c.
 *
 * Integers in the data print as Go's int does; reals as Go's float64. Floats
 * rely on the C locale's decimal point, which scow never changes. */
#include "util/template_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

/* Go refuses widths and precisions past this; so do we. */
#define FMT_MAX_NUM 1000000

/* ---- UTF-8 ---- */

size_t tmpl_utf8_decode(const char *s, size_t n, unsigned *ret_rune)
{
	const unsigned char *u = (const unsigned char *)s;
	static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
	size_t len = u[0] < 0x80   ? 1
		     : u[0] < 0xC2 ? 0
		     : u[0] < 0xE0 ? 2
		     : u[0] < 0xF0 ? 3
		     : u[0] < 0xF5 ? 4
				   : 0;
	unsigned c = len == 1 ? u[0] : u[0] & (0x7Fu >> len);
	bool ok = len && len <= n;
	for (size_t i = 1; ok && i < len; i++) {
		ok = (u[i] & 0xC0) == 0x80;
		c = (c << 6) | (u[i] & 0x3Fu);
	}
	if (!ok || c < min[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
		*ret_rune = 0xFFFD;
		return 1;
	}
	*ret_rune = c;
	return len;
}

void tmpl_utf8_append(struct strbuf *sb, unsigned r)
{
	char b[4];
	if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = 0xFFFD;
	if (r < 0x80) {
		b[0] = (char)r;
		sb_appendn(sb, b, 1);
	} else if (r < 0x800) {
		b[0] = (char)(0xC0 | (r >> 6));
		b[1] = (char)(0x80 | (r & 0x3F));
		sb_appendn(sb, b, 2);
	} else if (r < 0x10000) {
		b[0] = (char)(0xE0 | (r >> 12));
		b[1] = (char)(0x80 | ((r >> 6) & 0x3F));
		b[2] = (char)(0x80 | (r & 0x3F));
		sb_appendn(sb, b, 3);
	} else {
		b[0] = (char)(0xF0 | (r >> 18));
		b[1] = (char)(0x80 | ((r >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((r >> 6) & 0x3F));
		b[3] = (char)(0x80 | (r & 0x3F));
		sb_appendn(sb, b, 4);
	}
}

static size_t utf8_count(const char *s, size_t n)
{
	size_t count = 0;
	unsigned r;
	for (size_t i = 0; i < n; count++)
		i += tmpl_utf8_decode(s + i, n - i, &r);
	return count;
}

/* Byte length of the first max runes of s. */
static size_t utf8_prefix(const char *s, size_t n, size_t max)
{
	size_t i = 0;
	unsigned r;
	for (size_t count = 0; i < n && count < max; count++)
		i += tmpl_utf8_decode(s + i, n - i, &r);
	return i;
}

bool tmpl_rune_is_print(unsigned r)
{
	/* Not printable for Go: controls, spaces other than U+0020, format
	 * characters, separators, surrogates, private use, noncharacters. */
	static const struct {
		unsigned lo, hi;
	} np[] = {
		{0x80, 0xA0},	    {0xAD, 0xAD},	{0x600, 0x605},	    {0x61C, 0x61C},
		{0x6DD, 0x6DD},	    {0x70F, 0x70F},	{0x8E2, 0x8E2},	    {0x1680, 0x1680},
		{0x180E, 0x180E},   {0x2000, 0x200F},	{0x2028, 0x202F},   {0x205F, 0x2064},
		{0x2066, 0x206F},   {0x3000, 0x3000},	{0xD800, 0xF8FF},   {0xFDD0, 0xFDEF},
		{0xFEFF, 0xFEFF},   {0xFFF0, 0xFFFB},	{0x110BD, 0x110BD}, {0x110CD, 0x110CD},
		{0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0000, 0xE00FF},
		{0xF0000, 0x10FFFF},
	};
	if (r < 0x80)
		return r >= 0x20 && r < 0x7F;
	if ((r & 0xFFFE) == 0xFFFE || r > 0x10FFFF)
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(np); i++)
		if (r >= np[i].lo && r <= np[i].hi)
			return false;
	return true;
}

/* ---- values ---- */

const char *tmpl_str(const json_t *v, size_t *ret_len)
{
	if (!json_is_string(v))
		return NULL;
	*ret_len = json_string_length(v);
	return json_string_value(v);
}

json_t *tmpl_strn(const char *s, size_t n)
{
	json_t *j = json_stringn_nocheck(s ? s : "", n);
	if (!j)
		abort();
	return j;
}

bool tmpl_as_int(const json_t *v, long long *ret)
{
	if (json_is_integer(v)) {
		*ret = json_integer_value(v);
		return true;
	}
	double d = json_is_real(v) ? json_real_value(v) : 0.5;
	if (d < -9.2e18 || d > 9.2e18 || d != (double)(long long)d)
		return false;
	*ret = (long long)d;
	return true;
}

bool tmpl_truth(const json_t *v)
{
	if (!v)
		return false;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return json_object_size(v) > 0;
	case JSON_ARRAY:
		return json_array_size(v) > 0;
	case JSON_STRING:
		return json_string_length(v) > 0;
	case JSON_INTEGER:
		return json_integer_value(v) != 0;
	case JSON_REAL:
		return json_real_value(v) != 0;
	case JSON_TRUE:
		return true;
	default:
		return false;
	}
}

const char *tmpl_type_name(const json_t *v)
{
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT:
		return "map[string]interface {}";
	case JSON_ARRAY:
		return "[]interface {}";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "int";
	case JSON_REAL:
		return "float64";
	case JSON_TRUE:
	case JSON_FALSE:
		return "bool";
	default:
		return "<nil>";
	}
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **tmpl_sorted_keys(const json_t *obj, size_t *ret_n)
{
	size_t n = json_object_size(obj), i = 0;
	const char **keys = xcalloc(n + 1, sizeof(*keys));
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
		keys[i++] = k;
	qsort(keys, i, sizeof(*keys), key_cmp);
	*ret_n = i;
	return keys;
}

/* ---- strconv ---- */

/* Shortest decimal digits that read back as v (finite, > 0), Go's way:
 * v = 0.DIGITS * 10^dp. */
static void float_shortest(double v, char *digits, size_t *ret_nd, int *ret_dp)
{
	char buf[48];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*e", prec - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	size_t n = 0;
	const char *s = buf;
	digits[n++] = *s++;
	if (*s == '.')
		for (s++; *s != 'e'; s++)
			digits[n++] = *s;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	*ret_nd = n;
	*ret_dp = atoi(s + 1) + 1;
}

static void float_exp(struct strbuf *sb, char e, int exp)
{
	sb_printf(sb, "%c%c%02d", e, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* strconv.FormatFloat(v, verb, -1, 64) for verb e, E, f, g or G. */
static void float_shortest_fmt(struct strbuf *sb, double v, char verb)
{
	char d[32];
	size_t nd;
	int dp;
	if (signbit(v)) {
		sb_appendc(sb, '-');
		v = -v;
	}
	if (v == 0) {
		d[0] = '0', nd = 1, dp = 1;
	} else {
		float_shortest(v, d, &nd, &dp);
	}
	int exp = dp - 1;
	if (verb == 'g' || verb == 'G')
		verb = exp < -4 || exp >= 6 ? (char)(verb - 'g' + 'e') : 'f';
	if (verb == 'e' || verb == 'E') {
		sb_appendc(sb, d[0]);
		if (nd > 1) {
			sb_appendc(sb, '.');
			sb_appendn(sb, d + 1, nd - 1);
		}
		float_exp(sb, verb, exp);
	} else if (dp <= 0) {
		sb_append(sb, "0.");
		for (int i = dp; i < 0; i++)
			sb_appendc(sb, '0');
		sb_appendn(sb, d, nd);
	} else if ((size_t)dp >= nd) {
		sb_appendn(sb, d, nd);
		for (size_t i = nd; i < (size_t)dp; i++)
			sb_appendc(sb, '0');
	} else {
		sb_appendn(sb, d, (size_t)dp);
		sb_appendc(sb, '.');
		sb_appendn(sb, d + dp, nd - (size_t)dp);
	}
}

/* strconv.FormatFloat(v, verb, prec, 64): verb e, E, f, g, G, x or X;
 * prec -1 for the shortest representation. */
static void float_fmt(struct strbuf *sb, double v, char verb, int prec)
{
	if (verb == 'x' || verb == 'X') {
		char buf[64];
		if (prec < 0)
			snprintf(buf, sizeof(buf), verb == 'x' ? "%a" : "%A", v);
		else
			snprintf(buf, sizeof(buf), verb == 'x' ? "%.*a" : "%.*A", prec, v);
		char *p = strpbrk(buf, "pP");
		size_t head = p ? (size_t)(p - buf) + 2 : strlen(buf);
		sb_appendn(sb, buf, head);
		if (p && strlen(p + 2) == 1)
			sb_appendc(sb, '0');
		sb_append(sb, buf + head);
		return;
	}
	if (prec < 0)
		return float_shortest_fmt(sb, v, verb);
	char f[] = {'%', '.', '*', verb, '\0'};
	sb_printf(sb, f, prec, v);
}

static void quote_rune(struct strbuf *sb, unsigned r, char quote, bool ascii)
{
	static const char esc[] = "\aa\bb\ff\nn\rr\tt\vv";
	if (r == (unsigned char)quote || r == '\\') {
		sb_appendc(sb, '\\');
		sb_appendc(sb, (char)r);
		return;
	}
	if (tmpl_rune_is_print(r) && (!ascii || r < 0x80)) {
		tmpl_utf8_append(sb, r);
		return;
	}
	const char *e = r && r < 0x80 ? strchr(esc, (int)r) : NULL;
	if (e && (e - esc) % 2 == 0)
		sb_printf(sb, "\\%c", e[1]);
	else if (r < ' ' || r == 0x7F)
		sb_printf(sb, "\\x%02x", r);
	else if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		sb_append(sb, "\\ufffd");
	else if (r < 0x10000)
		sb_printf(sb, "\\u%04x", r);
	else
		sb_printf(sb, "\\U%08x", r);
}

void tmpl_quote(struct strbuf *sb, const char *s, size_t n, bool ascii)
{
	sb_appendc(sb, '"');
	for (size_t i = 0; i < n;) {
		unsigned r;
		size_t len = tmpl_utf8_decode(s + i, n - i, &r);
		if (len == 1 && r == 0xFFFD)
			sb_printf(sb, "\\x%02x", (unsigned char)s[i]);
		else
			quote_rune(sb, r, '"', ascii);
		i += len;
	}
	sb_appendc(sb, '"');
}

static bool can_backquote(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned r;
		size_t len = tmpl_utf8_decode(s + i, n - i, &r);
		if ((len == 1 && r == 0xFFFD) || r == 0xFEFF || (r < ' ' && r != '\t') || r == '`' ||
		    r == 0x7F)
			return false;
		i += len;
	}
	return true;
}

/* ---- fmt ---- */

struct fmt_spec {
	bool minus, plus, sharp, space, zero, sharp_v;
	bool wid_present, prec_present;
	int wid, prec;
};

static void fmt_padding(struct strbuf *sb, const struct fmt_spec *f, long n)
{
	for (; n > 0; n--)
		sb_appendc(sb, f->zero ? '0' : ' ');
}

/* Go's fmt.pad: width counts runes. */
static void fmt_pad(struct strbuf *sb, const struct fmt_spec *f, const char *s, size_t n)
{
	if (!f->wid_present || !f->wid) {
		sb_appendn(sb, s, n);
		return;
	}
	long width = f->wid - (long)utf8_count(s, n);
	if (!f->minus)
		fmt_padding(sb, f, width);
	sb_appendn(sb, s, n);
	if (f->minus)
		fmt_padding(sb, f, width);
}

static void fmt_pad_str(struct strbuf *sb, const struct fmt_spec *f, const char *s)
{
	fmt_pad(sb, f, s, strlen(s));
}

static void fmt_integer(struct strbuf *sb, struct fmt_spec *f, long long sv, unsigned base,
			char verb)
{
	const char *digits = verb == 'X' ? "0123456789ABCDEFX" : "0123456789abcdefx";
	bool negative = sv < 0;
	unsigned long long u = negative ? (unsigned long long)(-(sv + 1)) + 1 : (unsigned long long)sv;
	long prec = 0;
	if (f->prec_present) {
		prec = f->prec;
		if (prec == 0 && u == 0) {
			bool zero = f->zero;
			f->zero = false;
			fmt_padding(sb, f, f->wid_present ? f->wid : 0);
			f->zero = zero;
			return;
		}
	} else if (f->zero && f->wid_present) {
		prec = f->wid;
		if (negative || f->plus || f->space)
			prec--;
	}
	_cleanup_free_ char *buf = xmalloc((size_t)prec + 72);
	size_t size = (size_t)prec + 72, i = size;
	do {
		buf[--i] = digits[u % base];
		u /= base;
	} while (u);
	while (i > 0 && (long)(size - i) < prec)
		buf[--i] = '0';
	if (f->sharp && base == 2) {
		buf[--i] = 'b';
		buf[--i] = '0';
	} else if (f->sharp && base == 8 && buf[i] != '0') {
		buf[--i] = '0';
	} else if (f->sharp && base == 16) {
		buf[--i] = digits[16];
		buf[--i] = '0';
	}
	if (verb == 'O') {
		buf[--i] = 'o';
		buf[--i] = '0';
	}
	if (negative)
		buf[--i] = '-';
	else if (f->plus)
		buf[--i] = '+';
	else if (f->space)
		buf[--i] = ' ';
	bool zero = f->zero;
	f->zero = false;
	fmt_pad(sb, f, buf + i, size - i);
	f->zero = zero;
}

static void fmt_float(struct strbuf *sb, const struct fmt_spec *f, double v, char verb, int prec)
{
	if (f->prec_present)
		prec = f->prec;
	_cleanup_sb_ struct strbuf num = STRBUF_INIT;
	if (!signbit(v))
		sb_appendc(&num, '+');
	float_fmt(&num, v, verb, prec);
	if (f->space && num.buf[0] == '+' && !f->plus)
		num.buf[0] = ' ';
	if (f->plus || num.buf[0] != '+') {
		if (f->zero && f->wid_present && f->wid > (int)num.len) {
			sb_appendc(sb, num.buf[0]);
			fmt_padding(sb, f, f->wid - (long)num.len);
			sb_appendn(sb, num.buf + 1, num.len - 1);
			return;
		}
		fmt_pad(sb, f, num.buf, num.len);
		return;
	}
	fmt_pad(sb, f, num.buf + 1, num.len - 1);
}

static void fmt_string_hex(struct strbuf *sb, const struct fmt_spec *f, const char *s, size_t n,
			   char verb)
{
	const char *digits = verb == 'X' ? "0123456789ABCDEFX" : "0123456789abcdefx";
	if (f->prec_present && (size_t)f->prec < n)
		n = (size_t)f->prec;
	_cleanup_sb_ struct strbuf out = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (f->space && i > 0)
			sb_appendc(&out, ' ');
		if (f->sharp && (f->space || i == 0)) {
			sb_appendc(&out, '0');
			sb_appendc(&out, digits[16]);
		}
		sb_appendc(&out, digits[c >> 4]);
		sb_appendc(&out, digits[c & 0xF]);
	}
	fmt_pad(sb, f, out.buf ? out.buf : "", out.len);
}

static void fmt_quoted(struct strbuf *sb, const struct fmt_spec *f, const char *s, size_t n)
{
	if (f->prec_present)
		n = utf8_prefix(s, n, (size_t)f->prec);
	_cleanup_sb_ struct strbuf q = STRBUF_INIT;
	if (f->sharp && can_backquote(s, n)) {
		sb_appendc(&q, '`');
		sb_appendn(&q, s, n);
		sb_appendc(&q, '`');
	} else {
		tmpl_quote(&q, s, n, f->plus);
	}
	fmt_pad(sb, f, q.buf, q.len);
}

static void print_arg(struct strbuf *sb, struct fmt_spec *f, const json_t *v, char verb);

static void bad_verb(struct strbuf *sb, struct fmt_spec *f, const json_t *v, char verb)
{
	sb_printf(sb, "%%!%c(", verb);
	if (v && !json_is_null(v)) {
		sb_printf(sb, "%s=", tmpl_type_name(v));
		print_arg(sb, f, v, 'v');
	} else {
		sb_append(sb, "<nil>");
	}
	sb_appendc(sb, ')');
}

static void fmt_unicode(struct strbuf *sb, struct fmt_spec *f, long long v)
{
	_cleanup_sb_ struct strbuf u = STRBUF_INIT;
	unsigned long long r = (unsigned long long)v;
	int prec = f->prec_present && f->prec > 4 ? f->prec : 4;
	sb_printf(&u, "U+%0*llX", prec, r);
	if (f->sharp && r <= 0x10FFFF && tmpl_rune_is_print((unsigned)r)) {
		sb_append(&u, " '");
		tmpl_utf8_append(&u, (unsigned)r);
		sb_appendc(&u, '\'');
	}
	bool zero = f->zero;
	f->zero = false;
	fmt_pad(sb, f, u.buf, u.len);
	f->zero = zero;
}

static void print_int(struct strbuf *sb, struct fmt_spec *f, const json_t *j, char verb)
{
	long long v = json_integer_value(j);
	unsigned r = v < 0 || v > 0x10FFFF ? 0xFFFD : (unsigned)v;
	_cleanup_sb_ struct strbuf tmp = STRBUF_INIT;
	switch (verb) {
	case 'v':
	case 'd':
		return fmt_integer(sb, f, v, 10, verb);
	case 'b':
		return fmt_integer(sb, f, v, 2, verb);
	case 'o':
	case 'O':
		return fmt_integer(sb, f, v, 8, verb);
	case 'x':
	case 'X':
		return fmt_integer(sb, f, v, 16, verb);
	case 'c':
		tmpl_utf8_append(&tmp, r);
		return fmt_pad(sb, f, tmp.buf, tmp.len);
	case 'q':
		sb_appendc(&tmp, '\'');
		quote_rune(&tmp, r, '\'', f->plus);
		sb_appendc(&tmp, '\'');
		return fmt_pad(sb, f, tmp.buf, tmp.len);
	case 'U':
		return fmt_unicode(sb, f, v);
	case 'e':
	case 'E':
	case 'f':
	case 'F':
	case 'g':
	case 'G':
		/* Go would refuse; the JSON may have lost a float's ".0" */
		return fmt_float(sb, f, (double)v, verb == 'F' ? 'f' : verb,
				 strchr("eEfF", verb) ? 6 : -1);
	default:
		return bad_verb(sb, f, j, verb);
	}
}

static void print_real(struct strbuf *sb, struct fmt_spec *f, const json_t *j, char verb)
{
	double v = json_real_value(j);
	switch (verb) {
	case 'v':
		return fmt_float(sb, f, v, 'g', -1);
	case 'g':
	case 'G':
	case 'x':
	case 'X':
		return fmt_float(sb, f, v, verb, -1);
	case 'e':
	case 'E':
	case 'f':
	case 'F':
		return fmt_float(sb, f, v, verb == 'F' ? 'f' : verb, 6);
	case 'd':
		/* Go would refuse; integral reals are integers in JSON */
		if (v > -9.2e18 && v < 9.2e18 && v == (double)(long long)v)
			return fmt_integer(sb, f, (long long)v, 10, verb);
		return bad_verb(sb, f, j, verb);
	default:
		return bad_verb(sb, f, j, verb);
	}
}

static void print_string(struct strbuf *sb, struct fmt_spec *f, const json_t *j, char verb)
{
	size_t n;
	const char *s = tmpl_str(j, &n);
	switch (verb) {
	case 'v':
		if (f->sharp_v)
			return fmt_quoted(sb, f, s, n);
		/* fall through */
	case 's':
		if (f->prec_present)
			n = utf8_prefix(s, n, (size_t)f->prec);
		return fmt_pad(sb, f, s, n);
	case 'x':
	case 'X':
		return fmt_string_hex(sb, f, s, n, verb);
	case 'q':
		return fmt_quoted(sb, f, s, n);
	default:
		return bad_verb(sb, f, j, verb);
	}
}

static void print_value(struct strbuf *sb, struct fmt_spec *f, const json_t *v, char verb,
			int depth);

static void print_composite(struct strbuf *sb, struct fmt_spec *f, const json_t *v, char verb,
			    int depth)
{
	const char *sep = f->sharp_v ? ", " : " ";
	if (json_is_array(v)) {
		sb_append(sb, f->sharp_v ? "[]interface {}{" : "[");
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				sb_append(sb, sep);
			print_value(sb, f, json_array_get(v, i), verb, depth + 1);
		}
		sb_append(sb, f->sharp_v ? "}" : "]");
		return;
	}
	size_t n;
	_cleanup_free_ const char **keys = tmpl_sorted_keys(v, &n);
	sb_append(sb, f->sharp_v ? "map[string]interface {}{" : "map[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_append(sb, sep);
		json_t *k = tmpl_strn(keys[i], strlen(keys[i]));
		print_value(sb, f, k, verb, depth + 1);
		json_decref(k);
		sb_appendc(sb, ':');
		print_value(sb, f, json_object_get(v, keys[i]), verb, depth + 1);
	}
	sb_append(sb, f->sharp_v ? "}" : "]");
}

static void print_value(struct strbuf *sb, struct fmt_spec *f, const json_t *v, char verb,
			int depth)
{
	if (!v || json_is_null(v)) {
		if (depth > 0)
			sb_append(sb, f->sharp_v ? "interface {}(nil)" : "<nil>");
		else if (verb == 'v')
			fmt_pad_str(sb, f, "<nil>");
		else
			bad_verb(sb, f, v, verb);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		return print_composite(sb, f, v, verb, depth);
	case JSON_STRING:
		return print_string(sb, f, v, verb);
	case JSON_INTEGER:
		return print_int(sb, f, v, verb);
	case JSON_REAL:
		return print_real(sb, f, v, verb);
	default:
		if (verb == 't' || verb == 'v')
			return fmt_pad_str(sb, f, json_is_true(v) ? "true" : "false");
		return bad_verb(sb, f, v, verb);
	}
}

static void print_arg(struct strbuf *sb, struct fmt_spec *f, const json_t *v, char verb)
{
	if (verb == 'T') {
		fmt_pad_str(sb, f, tmpl_type_name(v));
		return;
	}
	if (verb == 'p' && v && !json_is_null(v)) {
		bad_verb(sb, f, v, verb);
		return;
	}
	print_value(sb, f, v, verb, 0);
}

void tmpl_print_value(struct strbuf *sb, const json_t *v)
{
	struct fmt_spec f = {0};
	if (!v)
		sb_append(sb, "<no value>");
	else
		print_arg(sb, &f, v, 'v');
}

void tmpl_sprint(struct strbuf *sb, json_t *const *argv, size_t argc)
{
	bool prev_string = false;
	for (size_t i = 0; i < argc; i++) {
		bool is_string = json_is_string(argv[i]);
		if (i > 0 && !is_string && !prev_string)
			sb_appendc(sb, ' ');
		struct fmt_spec f = {0};
		print_arg(sb, &f, argv[i], 'v');
		prev_string = is_string;
	}
	if (!sb->buf)
		sb_append(sb, "");
}

void tmpl_sprintln(struct strbuf *sb, json_t *const *argv, size_t argc)
{
	for (size_t i = 0; i < argc; i++) {
		if (i > 0)
			sb_appendc(sb, ' ');
		struct fmt_spec f = {0};
		print_arg(sb, &f, argv[i], 'v');
	}
	sb_appendc(sb, '\n');
}

/* ---- Sprintf ---- */

struct fmt_state {
	const char *fmt;
	size_t i, end;
	json_t *const *argv;
	size_t argc, argnum;
	bool reordered, good_argnum;
};

/* Digits at fmt[i], up to end. */
static bool fmt_parsenum(const char *s, size_t *i, size_t end, int *ret)
{
	int num = 0;
	bool isnum = false;
	for (; *i < end && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
		if (num > FMT_MAX_NUM) {
			*i = end;
			*ret = 0;
			return false;
		}
		num = num * 10 + (s[*i] - '0');
		isnum = true;
	}
	*ret = num;
	return isnum;
}

/* An explicit argument index "[n]"; returns whether one was there. */
static bool fmt_argnumber(struct fmt_state *st)
{
	const char *s = st->fmt;
	if (st->i >= st->end || s[st->i] != '[')
		return false;
	st->reordered = true;
	size_t close = st->i + 1;
	while (close < st->end && s[close] != ']')
		close++;
	if (st->end - st->i < 3 || close >= st->end) {
		st->i++;
		st->good_argnum = false;
		return false;
	}
	size_t j = st->i + 1;
	int index;
	bool ok = fmt_parsenum(s, &j, close, &index) && j == close;
	st->i = close + 1;
	if (ok && index >= 1 && (size_t)index <= st->argc) {
		st->argnum = (size_t)index - 1;
		return true;
	}
	st->good_argnum = false;
	return ok;
}

/* A '*' width or precision from the arguments. */
static bool fmt_int_arg(struct fmt_state *st, int *ret)
{
	*ret = 0;
	if (st->argnum >= st->argc)
		return false;
	const json_t *v = st->argv[st->argnum++];
	if (!json_is_integer(v))
		return false;
	long long n = json_integer_value(v);
	if (n > FMT_MAX_NUM || n < -FMT_MAX_NUM)
		return false;
	*ret = (int)n;
	return true;
}

static void fmt_flags(struct fmt_state *st, struct fmt_spec *f)
{
	for (; st->i < st->end; st->i++) {
		switch (st->fmt[st->i]) {
		case '#':
			f->sharp = true;
			break;
		case '0':
			f->zero = !f->minus;
			break;
		case '+':
			f->plus = true;
			break;
		case '-':
			f->minus = true;
			f->zero = false;
			break;
		case ' ':
			f->space = true;
			break;
		default:
			return;
		}
	}
}

/* Width and precision, each a number or '*', with argument indexes. */
static bool fmt_width_prec(struct strbuf *sb, struct fmt_state *st, struct fmt_spec *f)
{
	bool after_index = fmt_argnumber(st);
	if (st->i < st->end && st->fmt[st->i] == '*') {
		st->i++;
		f->wid_present = fmt_int_arg(st, &f->wid);
		if (!f->wid_present)
			sb_append(sb, "%!(BADWIDTH)");
		if (f->wid < 0) {
			f->wid = -f->wid;
			f->minus = true;
			f->zero = false;
		}
		after_index = false;
	} else {
		f->wid_present = fmt_parsenum(st->fmt, &st->i, st->end, &f->wid);
		if (after_index && f->wid_present)
			st->good_argnum = false;
	}
	if (st->i + 1 < st->end && st->fmt[st->i] == '.') {
		st->i++;
		if (after_index)
			st->good_argnum = false;
		after_index = fmt_argnumber(st);
		if (st->i < st->end && st->fmt[st->i] == '*') {
			st->i++;
			f->prec_present = fmt_int_arg(st, &f->prec);
			if (f->prec < 0) {
				f->prec = 0;
				f->prec_present = false;
			}
			if (!f->prec_present)
				sb_append(sb, "%!(BADPREC)");
			after_index = false;
		} else {
			fmt_parsenum(st->fmt, &st->i, st->end, &f->prec);
			f->prec_present = true;
		}
	}
	return after_index;
}

/* One directive after its '%'. Returns false at a format ending too early. */
static bool fmt_directive(struct strbuf *sb, struct fmt_state *st)
{
	struct fmt_spec f = {0};
	st->good_argnum = true;
	fmt_flags(st, &f);
	if (!fmt_width_prec(sb, st, &f))
		fmt_argnumber(st);
	if (st->i >= st->end) {
		sb_append(sb, "%!(NOVERB)");
		return false;
	}
	unsigned verb;
	size_t vlen = tmpl_utf8_decode(st->fmt + st->i, st->end - st->i, &verb);
	st->i += vlen;
	if (verb == '%') {
		sb_appendc(sb, '%');
	} else if (!st->good_argnum || st->argnum >= st->argc) {
		sb_append(sb, "%!");
		tmpl_utf8_append(sb, verb);
		sb_append(sb, st->good_argnum ? "(MISSING)" : "(BADINDEX)");
	} else if (verb >= 0x80) {
		/* no verb is outside ASCII; print it like Go's bad verb */
		sb_append(sb, "%!");
		tmpl_utf8_append(sb, verb);
		const json_t *v = st->argv[st->argnum++];
		sb_appendc(sb, '(');
		if (v && !json_is_null(v)) {
			sb_printf(sb, "%s=", tmpl_type_name(v));
			print_arg(sb, &f, v, 'v');
		} else {
			sb_append(sb, "<nil>");
		}
		sb_appendc(sb, ')');
	} else {
		if (verb == 'v') {
			f.sharp_v = f.sharp;
			f.sharp = false;
			f.plus = false;
		}
		print_arg(sb, &f, st->argv[st->argnum++], (char)verb);
	}
	return true;
}

void tmpl_sprintf(struct strbuf *sb, const char *fmt, size_t fmtlen, json_t *const *argv,
		  size_t argc)
{
	struct fmt_state st = {.fmt = fmt, .end = fmtlen, .argv = argv, .argc = argc};
	while (st.i < st.end) {
		const char *pct = memchr(fmt + st.i, '%', st.end - st.i);
		size_t stop = pct ? (size_t)(pct - fmt) : st.end;
		sb_appendn(sb, fmt + st.i, stop - st.i);
		st.i = stop;
		if (st.i >= st.end)
			break;
		st.i++;
		if (!fmt_directive(sb, &st))
			break;
	}
	if (!st.reordered && st.argnum < argc) {
		sb_append(sb, "%!(EXTRA ");
		for (size_t i = st.argnum; i < argc; i++) {
			struct fmt_spec f = {0};
			if (i > st.argnum)
				sb_append(sb, ", ");
			if (argv[i] && !json_is_null(argv[i]))
				sb_printf(sb, "%s=", tmpl_type_name(argv[i]));
			print_arg(sb, &f, argv[i], 'v');
		}
		sb_appendc(sb, ')');
	}
	if (!sb->buf)
		sb_append(sb, "");
}

/* ---- encoding/json ---- */

static void json_encode_string(struct strbuf *sb, const char *s, size_t n)
{
	static const char short_esc[] = "\"\"\\\\\nn\rr\tt\bb\ff";
	sb_appendc(sb, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		const char *e = c ? strchr(short_esc, c) : NULL;
		unsigned r;
		size_t len = tmpl_utf8_decode(s + i, n - i, &r);
		if (e && (e - short_esc) % 2 == 0)
			sb_printf(sb, "\\%c", e[1]);
		else if (c < 0x20)
			sb_printf(sb, "\\u%04x", c);
		else if (len == 1 && r == 0xFFFD)
			sb_append(sb, "\\ufffd");
		else if (r == 0x2028 || r == 0x2029)
			sb_printf(sb, "\\u%04x", r);
		else
			sb_appendn(sb, s + i, len);
		i += len;
	}
	sb_appendc(sb, '"');
}

/* Go's float64 encoding: positional, or exponent form outside [1e-6, 1e21). */
static void json_encode_real(struct strbuf *sb, double v)
{
	double a = v < 0 ? -v : v;
	if (a != 0 && (a < 1e-6 || a >= 1e21)) {
		size_t start = sb->len;
		float_shortest_fmt(sb, v, 'e');
		char *p = strchr(sb->buf + start, 'e');
		if (p && p[1] == '-' && p[2] == '0' && p[3] && !p[4]) {
			p[2] = p[3];
			sb->len--;
			sb->buf[sb->len] = '\0';
		}
		return;
	}
	float_shortest_fmt(sb, v, 'f');
}

void tmpl_json_encode(struct strbuf *sb, const json_t *v)
{
	size_t n;
	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_OBJECT: {
		_cleanup_free_ const char **keys = tmpl_sorted_keys(v, &n);
		sb_appendc(sb, '{');
		for (size_t i = 0; i < n; i++) {
			if (i)
				sb_appendc(sb, ',');
			json_encode_string(sb, keys[i], strlen(keys[i]));
			sb_appendc(sb, ':');
			tmpl_json_encode(sb, json_object_get(v, keys[i]));
		}
		sb_appendc(sb, '}');
		return;
	}
	case JSON_ARRAY:
		sb_appendc(sb, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				sb_appendc(sb, ',');
			tmpl_json_encode(sb, json_array_get(v, i));
		}
		sb_appendc(sb, ']');
		return;
	case JSON_STRING:
		json_encode_string(sb, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		sb_printf(sb, "%lld", (long long)json_integer_value(v));
		return;
	case JSON_REAL:
		json_encode_real(sb, json_real_value(v));
		return;
	case JSON_TRUE:
		sb_append(sb, "true");
		return;
	case JSON_FALSE:
		sb_append(sb, "false");
		return;
	default:
		sb_append(sb, "null");
		return;
	}
}
