/* --change instructions (see changes.h). The word splitting and the
 * variable substitution follow BuildKit's Dockerfile parser and shell
 * lexer, for the subset a change can use. */
#include "image/changes.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/signals.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define ESC '\\'
/* A change is a command-line value; nested ${...} deeper than this is junk. */
#define SUBST_DEPTH_MAX 16

struct change_state {
	json_t *cfg;
	bool cmd_set;
};

/* ---- words -------------------------------------------------------------------------- */

/* BuildKit's parseWords: whitespace-separated words; quotes and escapes
 * keep their characters (the lexer removes them later) but protect
 * whitespace. */
static char **split_words(const char *s)
{
	char **words = xcalloc(1, sizeof(char *));
	struct strbuf w = STRBUF_INIT;
	bool in_word = false, blank_ok = false;
	char quote = 0;
	for (size_t i = 0;; i++) {
		char ch = s[i];
		if (ch == '\0') {
			if (in_word && (blank_ok || w.len))
				strv_push(&words, sb_steal(&w));
			break;
		}
		if (!in_word) {
			if (isspace((unsigned char)ch))
				continue;
			in_word = true;
		}
		if (quote) {
			if (ch == quote)
				quote = 0;
			else if (ch == ESC && quote != '\'') {
				if (s[i + 1] == '\0')
					continue;
				sb_appendc(&w, ch);
				ch = s[++i];
			}
			sb_appendc(&w, ch);
			continue;
		}
		if (isspace((unsigned char)ch)) {
			if (blank_ok || w.len)
				strv_push(&words, sb_steal(&w));
			sb_reset(&w);
			in_word = blank_ok = false;
			continue;
		}
		if (ch == '\'' || ch == '"') {
			quote = ch;
			blank_ok = true;
		} else if (ch == ESC) {
			if (s[i + 1] == '\0')
				continue;
			sb_appendc(&w, ch);
			ch = s[++i];
		}
		sb_appendc(&w, ch);
	}
	sb_release(&w);
	return words;
}

/* ["a", "b"]: the strings, or NULL when s is not a JSON array of strings
 * (then it is the shell form). */
static char **json_form(const char *s)
{
	if (s[0] != '[')
		return NULL;
	_cleanup_json_ json_t *j = json_loads(s, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(j))
		return NULL;
	char **v = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e) {
		if (!json_is_string(e)) {
			strv_free(v);
			return NULL;
		}
		strv_push(&v, xstrdup(json_string_value(e)));
	}
	return v;
}

static json_t *strv_to_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* ---- variable substitution (BuildKit's shell lexer, in part) -------------------------- */

static const char *env_lookup(json_t *env, const char *name, size_t len)
{
	const char *found = NULL;
	size_t i;
	json_t *e;
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (s && strncmp(s, name, len) == 0 && s[len] == '=')
			found = s + len + 1; /* the last one wins */
	}
	return found;
}

struct lexer {
	const char *s;
	size_t i;
	json_t *env;
	int depth;
};

static int lex_word(struct lexer *lx, struct strbuf *out, const char *stop,
		    struct scow_error **err);

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* After a "$": a variable, or a literal "$". */
static int lex_dollar(struct lexer *lx, struct strbuf *out, struct scow_error **err)
{
	const char *s = lx->s;
	if (s[lx->i] != '{') {
		size_t start = lx->i;
		while (name_char(s[lx->i]))
			lx->i++;
		if (lx->i == start) {
			sb_appendc(out, '$');
			return 0;
		}
		const char *v = env_lookup(lx->env, s + start, lx->i - start);
		if (v)
			sb_append(out, v);
		return 0;
	}
	lx->i++;
	size_t start = lx->i;
	while (name_char(s[lx->i]))
		lx->i++;
	size_t nlen = lx->i - start;
	if (nlen == 0)
		return error_set(err, EINVAL, "bad substitution: missing variable name");
	const char *v = env_lookup(lx->env, s + start, nlen);
	if (s[lx->i] == '}') {
		lx->i++;
		if (v)
			sb_append(out, v);
		return 0;
	}
	bool colon = s[lx->i] == ':';
	if (colon)
		lx->i++;
	char op = s[lx->i];
	if (op != '-' && op != '+' && op != '?')
		return error_set(err, EINVAL, "unsupported modifier (%c) in substitution",
				 op ? op : '}');
	lx->i++;
	if (++lx->depth > SUBST_DEPTH_MAX)
		return error_set(err, EINVAL, "substitution nested too deep");
	_cleanup_sb_ struct strbuf word = STRBUF_INIT;
	int r = lex_word(lx, &word, "}", err);
	lx->depth--;
	if (r < 0)
		return -1;
	if (s[lx->i] != '}')
		return error_set(err, EINVAL, "syntax error: missing '}'");
	lx->i++;
	bool set = v && (!colon || *v);
	if (op == '-')
		sb_append(out, set ? v : sb_str(&word));
	else if (op == '+')
		sb_append(out, set ? sb_str(&word) : "");
	else if (!set)
		return error_set(err, EINVAL, "%.*s: %s", (int)nlen, s + start,
				 word.len ? sb_str(&word) : "is not allowed to be unset");
	else
		sb_append(out, v);
	return 0;
}

/* One word with quotes removed and variables substituted, up to the end
 * or (outside quotes) a character of stop. */
static int lex_word(struct lexer *lx, struct strbuf *out, const char *stop,
		    struct scow_error **err)
{
	const char *s = lx->s;
	sb_append(out, ""); /* never NULL */
	while (s[lx->i] && !strchr(stop, s[lx->i])) {
		char ch = s[lx->i++];
		if (ch == ESC) {
			if (s[lx->i])
				sb_appendc(out, s[lx->i++]);
		} else if (ch == '\'') {
			while (s[lx->i] && s[lx->i] != '\'')
				sb_appendc(out, s[lx->i++]);
			if (!s[lx->i])
				return error_set(err, EINVAL, "unexpected end of statement while "
							      "looking for matching single-quote");
			lx->i++;
		} else if (ch == '"') {
			while (s[lx->i] && s[lx->i] != '"') {
				char c = s[lx->i++];
				if (c == '$') {
					if (lex_dollar(lx, out, err) < 0)
						return -1;
				} else if (c == ESC && (s[lx->i] == '"' || s[lx->i] == '$' ||
							s[lx->i] == ESC)) {
					sb_appendc(out, s[lx->i++]);
				} else {
					sb_appendc(out, c);
				}
			}
			if (!s[lx->i])
				return error_set(err, EINVAL, "unexpected end of statement while "
							      "looking for matching double-quote");
			lx->i++;
		} else if (ch == '$') {
			if (lex_dollar(lx, out, err) < 0)
				return -1;
		} else {
			sb_appendc(out, ch);
		}
	}
	return 0;
}

static char *expand(json_t *cfg, const char *word, struct scow_error **err)
{
	struct lexer lx = {.s = word, .env = json_get_arr(cfg, "Env")};
	struct strbuf out = STRBUF_INIT;
	if (lex_word(&lx, &out, "", err) < 0) {
		sb_release(&out);
		return NULL;
	}
	return sb_steal(&out);
}

/* ---- instructions ------------------------------------------------------------------- */

static int need_args(const char *what, const char *rest, struct scow_error **err)
{
	if (!*rest)
		return error_set(err, EINVAL, "%s requires at least one argument", what);
	return 0;
}

static int need_one(const char *what, const char *rest, struct scow_error **err)
{
	if (!*rest)
		return error_set(err, EINVAL, "%s requires exactly one argument", what);
	return 0;
}

/* SHELL of the config, else Docker's default. */
static json_t *shell_form(json_t *cfg, const char *line)
{
	json_t *sh = json_get_arr(cfg, "Shell");
	json_t *v = json_array_size(sh) ? json_deep_copy(sh) : json_pack("[ss]", "/bin/sh", "-c");
	json_array_append_new(v, json_string(line));
	return v;
}

static json_t *command_form(json_t *cfg, const char *rest)
{
	_cleanup_strv_ char **j = json_form(rest);
	return j ? strv_to_json(j) : shell_form(cfg, rest);
}

/* ENV and LABEL: "k=v k2=v2" (words) or the old "KEY value". Calls add
 * with each key and value, substituted. */
static int name_values(struct change_state *st, const char *what, const char *rest,
		       int (*add)(struct change_state *, const char *, const char *,
				  struct scow_error **),
		       struct scow_error **err)
{
	if (need_args(what, rest, err) < 0)
		return -1;
	_cleanup_strv_ char **words = split_words(rest);
	if (!words[0])
		return error_set(err, EINVAL, "%s requires at least one argument", what);
	if (!strchr(words[0], '=')) {
		size_t klen = strcspn(rest, " \t\r\n\v\f");
		const char *val = rest + klen;
		while (isspace((unsigned char)*val))
			val++;
		if (!*val)
			return error_set(err, EINVAL, "%s must have two arguments", what);
		_cleanup_free_ char *k = xstrndup(rest, klen);
		_cleanup_free_ char *ek = expand(st->cfg, k, err);
		_cleanup_free_ char *ev = ek ? expand(st->cfg, val, err) : NULL;
		return ev ? add(st, ek, ev, err) : -1;
	}
	for (size_t i = 0; words[i]; i++)
		if (!strchr(words[i], '='))
			return error_set(err, EINVAL,
					 "Syntax error - can't find = in \"%s\". Must be of the "
					 "form: name=value",
					 words[i]);
	for (size_t i = 0; words[i]; i++) {
		char *eq = strchr(words[i], '=');
		*eq = '\0';
		_cleanup_free_ char *ek = expand(st->cfg, words[i], err);
		_cleanup_free_ char *ev = ek ? expand(st->cfg, eq + 1, err) : NULL;
		if (!ev || add(st, ek, ev, err) < 0)
			return -1;
	}
	return 0;
}

static int add_env(struct change_state *st, const char *k, const char *v, struct scow_error **err)
{
	if (!*k)
		return error_set(err, EINVAL, "ENV names can not be blank");
	json_t *env = json_get_arr(st->cfg, "Env");
	if (!env) {
		env = json_array();
		json_object_set_new(st->cfg, "Env", env);
	}
	_cleanup_free_ char *kv = xasprintf("%s=%s", k, v);
	size_t i, klen = strlen(k);
	json_t *e;
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (s && strncmp(s, k, klen) == 0 && s[klen] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return 0;
		}
	}
	json_array_append_new(env, json_string(kv));
	return 0;
}

static int add_label(struct change_state *st, const char *k, const char *v,
		     struct scow_error **err)
{
	if (!*k)
		return error_set(err, EINVAL, "LABEL names can not be blank");
	json_t *labels = json_get_obj(st->cfg, "Labels");
	if (!labels) {
		labels = json_object();
		json_object_set_new(st->cfg, "Labels", labels);
	}
	json_object_set_new(labels, k, json_string(v));
	return 0;
}

static bool parse_port(const char *s, unsigned long *ret)
{
	long long v;
	if (!str_to_ll(s, 0, 65535, &v))
		return false;
	*ret = (unsigned long)v;
	return true;
}

/* "80", "80/tcp", "8000-8002/udp" into ports ("80/tcp": {}). */
static int expose_one(json_t *ports, const char *spec, struct scow_error **err)
{
	_cleanup_free_ char *s = xstrdup(spec);
	const char *proto = "tcp";
	char *slash = strchr(s, '/');
	if (slash) {
		*slash = '\0';
		proto = slash + 1;
		for (char *p = slash + 1; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
			return error_set(err, EINVAL, "invalid proto: %s", slash + 1);
	}
	char *dash = strchr(s, '-');
	unsigned long lo, hi;
	if (dash)
		*dash = '\0';
	if (!parse_port(s, &lo) || (dash && !parse_port(dash + 1, &hi)))
		return error_set(err, EINVAL, "invalid containerPort: %s", spec);
	if (!dash)
		hi = lo;
	if (hi < lo)
		return error_set(err, EINVAL, "invalid range specified for container port: %s", spec);
	for (unsigned long p = lo; p <= hi; p++) {
		char key[32];
		snprintf(key, sizeof(key), "%lu/%s", p, proto);
		json_object_set_new(ports, key, json_object());
	}
	return 0;
}

static int do_expose(struct change_state *st, const char *rest, struct scow_error **err)
{
	if (need_args("EXPOSE", rest, err) < 0)
		return -1;
	_cleanup_strv_ char **words = split_words(rest);
	json_t *ports = json_get_obj(st->cfg, "ExposedPorts");
	_cleanup_json_ json_t *next = ports ? json_deep_copy(ports) : json_object();
	for (size_t i = 0; words[i]; i++) {
		_cleanup_free_ char *w = expand(st->cfg, words[i], err);
		if (!w || expose_one(next, w, err) < 0)
			return -1;
	}
	json_object_set(st->cfg, "ExposedPorts", next);
	return 0;
}

static int do_volume(struct change_state *st, const char *rest, struct scow_error **err)
{
	if (need_args("VOLUME", rest, err) < 0)
		return -1;
	_cleanup_strv_ char **list = json_form(rest);
	if (!list)
		list = split_words(rest);
	if (!list[0])
		return error_set(err, EINVAL, "VOLUME requires at least one argument");
	json_t *vols = json_get_obj(st->cfg, "Volumes");
	if (!vols) {
		vols = json_object();
		json_object_set_new(st->cfg, "Volumes", vols);
	}
	for (size_t i = 0; list[i]; i++) {
		_cleanup_free_ char *v = expand(st->cfg, list[i], err);
		if (!v)
			return -1;
		char *t = v;
		while (isspace((unsigned char)*t))
			t++;
		size_t n = strlen(t);
		while (n && isspace((unsigned char)t[n - 1]))
			t[--n] = '\0';
		if (!*t)
			return error_set(err, EINVAL, "VOLUME specified can not be an empty string");
		json_object_set_new(vols, t, json_object());
	}
	return 0;
}

static int do_workdir(struct change_state *st, const char *rest, struct scow_error **err)
{
	if (need_one("WORKDIR", rest, err) < 0)
		return -1;
	_cleanup_free_ char *w = expand(st->cfg, rest, err);
	if (!w)
		return -1;
	const char *cur = json_get_str(st->cfg, "WorkingDir");
	_cleanup_free_ char *joined =
		w[0] == '/' ? xstrdup(w) : xasprintf("/%s/%s", cur ? cur : "", w);
	_cleanup_free_ char *clean = fs_path_clean(joined);
	json_set_str(st->cfg, "WorkingDir", clean);
	return 0;
}

static int do_user(struct change_state *st, const char *rest, struct scow_error **err)
{
	if (need_one("USER", rest, err) < 0)
		return -1;
	_cleanup_free_ char *u = expand(st->cfg, rest, err);
	if (!u)
		return -1;
	json_set_str(st->cfg, "User", u);
	return 0;
}

static int do_stopsignal(struct change_state *st, const char *rest, struct scow_error **err)
{
	if (need_one("STOPSIGNAL", rest, err) < 0)
		return -1;
	_cleanup_free_ char *s = expand(st->cfg, rest, err);
	int sig;
	if (!s || signal_parse(s, &sig, err) < 0)
		return -1;
	json_set_str(st->cfg, "StopSignal", s);
	return 0;
}

static int do_onbuild(struct change_state *st, const char *rest, struct scow_error **err)
{
	if (need_args("ONBUILD", rest, err) < 0)
		return -1;
	size_t wlen = strcspn(rest, " \t");
	if ((wlen == 7 && strncasecmp(rest, "ONBUILD", 7) == 0))
		return error_set(err, EINVAL, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	if ((wlen == 4 && strncasecmp(rest, "FROM", 4) == 0) ||
	    (wlen == 10 && strncasecmp(rest, "MAINTAINER", 10) == 0))
		return error_set(err, EINVAL, "%.*s isn't allowed as an ONBUILD trigger", (int)wlen,
				 rest);
	json_t *ob = json_get_arr(st->cfg, "OnBuild");
	if (!ob) {
		ob = json_array();
		json_object_set_new(st->cfg, "OnBuild", ob);
	}
	json_array_append_new(ob, json_string(rest));
	return 0;
}

/* Go's time.ParseDuration, in nanoseconds. */
static int parse_go_duration(const char *s, int64_t *ret, struct scow_error **err)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"ns", 1}, {"us", 1e3}, {"µs", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9},
		     {"h", 3600e9}};
	const char *p = s;
	bool neg = *p == '-';
	if (*p == '-' || *p == '+')
		p++;
	if (strcmp(p, "0") == 0) {
		*ret = 0;
		return 0;
	}
	double total = 0;
	if (!*p)
		return error_set(err, EINVAL, "time: invalid duration \"%s\"", s);
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p) && *p != '.')
			return error_set(err, EINVAL, "time: invalid duration \"%s\"", s);
		double v = strtod(p, &end);
		if (end == p)
			return error_set(err, EINVAL, "time: invalid duration \"%s\"", s);
		p = end;
		size_t k;
		for (k = 0; k < ARRAY_SIZE(units); k++) {
			size_t n = strlen(units[k].unit);
			/* "m" must not take the "m" of "ms" */
			if (strncmp(p, units[k].unit, n) == 0 &&
			    !(n == 1 && p[0] == 'm' && p[1] == 's'))
				break;
		}
		if (k == ARRAY_SIZE(units))
			return error_set(err, EINVAL, "time: %s in duration \"%s\"",
					 *p ? "unknown unit" : "missing unit", s);
		total += v * units[k].ns;
		p += strlen(units[k].unit);
	}
	if (total > 9.2e18)
		return error_set(err, EINVAL, "time: invalid duration \"%s\"", s);
	*ret = (int64_t)(neg ? -total : total);
	return 0;
}

/* --name=value flags in front of an instruction's arguments. */
struct flag {
	char *name, *value;
};

static int take_flags(const char **rest, struct flag *flags, size_t max, size_t *ret_n,
		      struct scow_error **err)
{
	size_t n = 0;
	const char *p = *rest;
	while (strncmp(p, "--", 2) == 0) {
		size_t len = strcspn(p, " \t");
		if (n == max)
			return error_set(err, EINVAL, "too many flags");
		const char *eq = memchr(p, '=', len);
		flags[n].name = xstrndup(p + 2, (size_t)((eq ? eq : p + len) - p - 2));
		flags[n].value = eq ? xstrndup(eq + 1, (size_t)(p + len - eq - 1)) : NULL;
		n++;
		p += len;
		while (isspace((unsigned char)*p))
			p++;
	}
	*rest = p;
	*ret_n = n;
	return 0;
}

static void flags_free(struct flag *flags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(flags[i].name);
		free(flags[i].value);
	}
}

static int health_flags(json_t *hc, struct flag *flags, size_t n, struct scow_error **err)
{
	static const struct {
		const char *flag, *key;
	} durations[] = {{"interval", "Interval"},
			 {"timeout", "Timeout"},
			 {"start-period", "StartPeriod"},
			 {"start-interval", "StartInterval"}};
	for (size_t i = 0; i < n; i++) {
		const char *v = flags[i].value ? flags[i].value : "";
		size_t k;
		for (k = 0; k < ARRAY_SIZE(durations); k++)
			if (strcmp(flags[i].name, durations[k].flag) == 0)
				break;
		if (k < ARRAY_SIZE(durations)) {
			int64_t d = 0;
			if (*v && parse_go_duration(v, &d, err) < 0)
				return -1;
			if (d != 0 && d < 1000000)
				return error_set(err, EINVAL, "Interval \"%s\" cannot be less than 1ms",
						 flags[i].name);
			if (d)
				json_set_int(hc, durations[k].key, d);
		} else if (strcmp(flags[i].name, "retries") == 0) {
			long long r = 0;
			if (*v && !str_to_ll(v, INT32_MIN, INT32_MAX, &r))
				return error_set(err, EINVAL, "strconv.ParseInt: parsing \"%s\": invalid "
							      "syntax",
						 v);
			if (r < 0)
				return error_set(err, EINVAL, "--retries cannot be negative (%lld)", r);
			if (r)
				json_set_int(hc, "Retries", r);
		} else {
			return error_set(err, EINVAL, "Unknown flag: %s", flags[i].name);
		}
	}
	return 0;
}

static int do_healthcheck(struct change_state *st, const char *rest, struct flag *flags,
			  size_t nflags, struct scow_error **err)
{
	if (need_args("HEALTHCHECK", rest, err) < 0)
		return -1;
	size_t wlen = strcspn(rest, " \t");
	const char *args = rest + wlen;
	while (isspace((unsigned char)*args))
		args++;
	if (wlen == 4 && strncasecmp(rest, "NONE", 4) == 0) {
		if (*args || nflags)
			return error_set(err, EINVAL, "HEALTHCHECK NONE takes no arguments");
		json_object_set_new(st->cfg, "Healthcheck", json_pack("{s[s]}", "Test", "NONE"));
		return 0;
	}
	if (!(wlen == 3 && strncasecmp(rest, "CMD", 3) == 0))
		return error_set(err, EINVAL, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)",
				 (int)wlen, rest);
	if (!*args)
		return error_set(err, EINVAL, "Missing command after HEALTHCHECK CMD");
	_cleanup_json_ json_t *hc = json_object();
	if (health_flags(hc, flags, nflags, err) < 0)
		return -1;
	_cleanup_strv_ char **j = json_form(args);
	json_t *test = json_array();
	if (j) {
		json_array_append_new(test, json_string("CMD"));
		for (size_t i = 0; j[i]; i++)
			json_array_append_new(test, json_string(j[i]));
	} else {
		json_array_append_new(test, json_string("CMD-SHELL"));
		json_array_append_new(test, json_string(args));
	}
	json_object_set_new(hc, "Test", test);
	json_object_set(st->cfg, "Healthcheck", hc);
	return 0;
}

static int apply_line(struct change_state *st, const char *line, struct scow_error **err)
{
	while (isspace((unsigned char)*line))
		line++;
	if (!*line || *line == '#')
		return 0;
	size_t wlen = strcspn(line, " \t");
	_cleanup_free_ char *word = xstrndup(line, wlen);
	for (char *p = word; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	_cleanup_free_ char *rest_buf = xstrdup(line + wlen);
	char *rest = rest_buf;
	while (isspace((unsigned char)*rest))
		rest++;
	size_t n = strlen(rest);
	while (n && isspace((unsigned char)rest[n - 1]))
		rest[--n] = '\0';
	static const char *const valid[] = {"cmd",	  "entrypoint", "healthcheck", "env",
					    "expose",	  "label",	"onbuild",     "stopsignal",
					    "user",	  "volume",	"workdir"};
	size_t k;
	for (k = 0; k < ARRAY_SIZE(valid); k++)
		if (strcmp(word, valid[k]) == 0)
			break;
	if (k == ARRAY_SIZE(valid))
		return error_set(err, EINVAL, "%s is not a valid change command", word);
	struct flag flags[8];
	size_t nflags = 0;
	const char *args = rest;
	if (strcmp(word, "onbuild") != 0 && take_flags(&args, flags, ARRAY_SIZE(flags), &nflags, err) < 0)
		return -1;
	int r;
	if (nflags && strcmp(word, "healthcheck") != 0) {
		r = error_set(err, EINVAL, "Unknown flag: %s", flags[0].name);
	} else if (strcmp(word, "cmd") == 0) {
		json_object_set_new(st->cfg, "Cmd", command_form(st->cfg, args));
		st->cmd_set = true;
		r = 0;
	} else if (strcmp(word, "entrypoint") == 0) {
		json_object_set_new(st->cfg, "Entrypoint", command_form(st->cfg, args));
		if (!st->cmd_set)
			json_object_set_new(st->cfg, "Cmd", json_null());
		r = 0;
	} else if (strcmp(word, "env") == 0) {
		r = name_values(st, "ENV", args, add_env, err);
	} else if (strcmp(word, "label") == 0) {
		r = name_values(st, "LABEL", args, add_label, err);
	} else if (strcmp(word, "expose") == 0) {
		r = do_expose(st, args, err);
	} else if (strcmp(word, "volume") == 0) {
		r = do_volume(st, args, err);
	} else if (strcmp(word, "workdir") == 0) {
		r = do_workdir(st, args, err);
	} else if (strcmp(word, "user") == 0) {
		r = do_user(st, args, err);
	} else if (strcmp(word, "stopsignal") == 0) {
		r = do_stopsignal(st, args, err);
	} else if (strcmp(word, "onbuild") == 0) {
		r = do_onbuild(st, args, err);
	} else {
		r = do_healthcheck(st, args, flags, nflags, err);
	}
	flags_free(flags, nflags);
	return r;
}

int image_config_apply_changes(json_t *cfg, const char *const *changes, size_t n,
			       struct scow_error **err)
{
	struct change_state st = {.cfg = cfg};
	for (size_t i = 0; i < n; i++) {
		_cleanup_strv_ char **lines = strv_split(changes[i], '\n');
		for (size_t k = 0; lines[k]; k++)
			if (apply_line(&st, lines[k], err) < 0)
				return -1;
	}
	return 0;
}
