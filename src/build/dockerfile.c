/* Dockerfile parser: lines, parser directives, comments, continuations,
 * heredocs and the line-level argument forms (see dockerfile.h). The rules
 * follow BuildKit's parser package, quirks included, since real
 * Dockerfiles rely on them: comment lines inside a continuation vanish,
 * empty continuation lines only warn, continuation lines keep their
 * leading white space, invalid JSON silently means shell form. */
#include "build/dockerfile.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "build/dockerfile_internal.h"
#include "build/expand.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static const struct {
	const char *name;
	enum df_kind kind;
} kinds[] = {
	{"add", DF_ADD},
	{"arg", DF_ARG},
	{"cmd", DF_CMD},
	{"copy", DF_COPY},
	{"entrypoint", DF_ENTRYPOINT},
	{"env", DF_ENV},
	{"expose", DF_EXPOSE},
	{"from", DF_FROM},
	{"healthcheck", DF_HEALTHCHECK},
	{"label", DF_LABEL},
	{"maintainer", DF_MAINTAINER},
	{"onbuild", DF_ONBUILD},
	{"run", DF_RUN},
	{"shell", DF_SHELL},
	{"stopsignal", DF_STOPSIGNAL},
	{"user", DF_USER},
	{"volume", DF_VOLUME},
	{"workdir", DF_WORKDIR},
};

const char *df_kind_name(enum df_kind k)
{
	static const char *const names[] = {
		[DF_ADD] = "ADD",
		[DF_ARG] = "ARG",
		[DF_CMD] = "CMD",
		[DF_COPY] = "COPY",
		[DF_ENTRYPOINT] = "ENTRYPOINT",
		[DF_ENV] = "ENV",
		[DF_EXPOSE] = "EXPOSE",
		[DF_FROM] = "FROM",
		[DF_HEALTHCHECK] = "HEALTHCHECK",
		[DF_LABEL] = "LABEL",
		[DF_MAINTAINER] = "MAINTAINER",
		[DF_ONBUILD] = "ONBUILD",
		[DF_RUN] = "RUN",
		[DF_SHELL] = "SHELL",
		[DF_STOPSIGNAL] = "STOPSIGNAL",
		[DF_USER] = "USER",
		[DF_VOLUME] = "VOLUME",
		[DF_WORKDIR] = "WORKDIR",
	};
	return (unsigned)k < ARRAY_SIZE(names) ? names[k] : "?";
}

/* Go's unicode.IsSpace restricted to ASCII. */
static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The separator Docker splits instruction words on: [\t\v\f\r ]. */
static bool is_sep(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static char *trim_dup(const char *s)
{
	while (is_space((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* ---- line-level argument forms ---- */

/* Words separated by [\t\v\f\r ]+, nothing for an empty string. */
static char **split_ws(const char *s)
{
	char **v = xcalloc(1, sizeof(char *));
	if (!*s)
		return v;
	const char *p = s;
	for (;;) {
		const char *q = p;
		while (*q && !is_sep((unsigned char)*q))
			q++;
		strv_push(&v, xstrndup(p, (size_t)(q - p)));
		if (!*q)
			break;
		while (*q && is_sep((unsigned char)*q))
			q++;
		p = q;
	}
	return v;
}

/* Docker's parseWords: words split at white space outside quotes; quotes
 * and escapes stay in the words (expansion removes them later). */
static char **parse_words(const char *rest, char esc)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	char **words = xcalloc(1, sizeof(char *));
	_cleanup_sb_ struct strbuf w = STRBUF_INIT;
	char quote = 0;
	bool blank_ok = false;
	size_t len = strlen(rest);
	for (size_t pos = 0; pos <= len; pos++) {
		char ch = pos < len ? rest[pos] : 0;
		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (is_space((unsigned char)ch))
				continue;
			phase = IN_WORD;
		}
		if (pos == len) {
			if (blank_ok || w.len > 0) {
				sb_append(&w, "");
				strv_push(&words, sb_steal(&w));
			}
			break;
		}
		if (phase == IN_WORD) {
			if (is_space((unsigned char)ch)) {
				phase = IN_SPACES;
				if (blank_ok || w.len > 0) {
					sb_append(&w, "");
					strv_push(&words, sb_steal(&w));
				}
				sb_reset(&w);
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = IN_QUOTE;
			}
			if (ch == esc) {
				if (pos + 1 == len)
					continue; /* an escape at the end is dropped */
				sb_appendc(&w, ch);
				ch = rest[++pos];
			}
			sb_appendc(&w, ch);
			continue;
		}
		/* IN_QUOTE */
		if (ch == quote)
			phase = IN_WORD;
		if (ch == esc && quote != '\'') {
			if (pos + 1 == len) {
				phase = IN_WORD;
				continue;
			}
			sb_appendc(&w, ch);
			ch = rest[++pos];
		}
		sb_appendc(&w, ch);
	}
	return words;
}

enum { JSON_OK, JSON_NOT_ARRAY, JSON_NOT_STRINGS };

/* A JSON array of strings, or the reason it is not one. */
static int parse_json(const char *rest, char ***ret)
{
	while (is_space((unsigned char)*rest))
		rest++;
	if (*rest != '[')
		return JSON_NOT_ARRAY;
	json_error_t jerr;
	json_t *j = json_loads(rest, 0, &jerr);
	if (!j)
		return JSON_NOT_ARRAY;
	if (!json_is_array(j)) {
		json_decref(j);
		return JSON_NOT_ARRAY;
	}
	char **v = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *e;
	json_array_foreach(j, i, e)
	{
		if (!json_is_string(e)) {
			strv_free(v);
			json_decref(j);
			return JSON_NOT_STRINGS;
		}
		strv_push(&v, xstrndup(json_string_value(e), json_string_length(e)));
	}
	json_decref(j);
	*ret = v;
	return JSON_OK;
}

static const char ERR_NOT_STRINGS[] =
	"when using JSON array syntax, arrays must be comprised of strings only";

/* CMD, ENTRYPOINT, RUN, SHELL: JSON if it parses, else the raw line. */
static int maybe_json(struct df_instruction *in, const char *rest, struct scow_error **err)
{
	if (!*rest) {
		in->args = xcalloc(1, sizeof(char *));
		return 0;
	}
	switch (parse_json(rest, &in->args)) {
	case JSON_OK:
		in->json = true;
		return 0;
	case JSON_NOT_STRINGS:
		return error_set(err, EINVAL, "%s", ERR_NOT_STRINGS);
	default:
		in->args = xcalloc(2, sizeof(char *));
		in->args[0] = xstrdup(rest);
		return 0;
	}
}

/* ADD, COPY, VOLUME: JSON if it parses, else white-space separated words. */
static int maybe_json_list(struct df_instruction *in, const char *rest, struct scow_error **err)
{
	switch (parse_json(rest, &in->args)) {
	case JSON_OK:
		in->json = true;
		return 0;
	case JSON_NOT_STRINGS:
		return error_set(err, EINVAL, "%s", ERR_NOT_STRINGS);
	default:
		in->args = split_ws(rest);
		return 0;
	}
}

static void kv_push(struct df_instruction *in, char *key, char *value)
{
	in->kvs = xrealloc(in->kvs, (in->nkvs + 1) * sizeof(*in->kvs));
	in->kvs[in->nkvs].key = key;
	in->kvs[in->nkvs].value = value;
	in->nkvs++;
}

/* ENV and LABEL: `KEY value with spaces` (old form, when the first word
 * has no '=') or `K=V K2="v 2" ...`. */
static int parse_name_val(struct df_instruction *in, const char *rest, const char *what, char esc,
			  struct scow_error **err)
{
	_cleanup_strv_ char **words = parse_words(rest, esc);
	if (!words[0])
		return 0;
	if (!strchr(words[0], '=')) {
		const char *p = rest;
		while (*p && !is_sep((unsigned char)*p))
			p++;
		if (!*p)
			return error_set(err, EINVAL, "%s must have two arguments", what);
		const char *v = p;
		while (*v && is_sep((unsigned char)*v))
			v++;
		kv_push(in, xstrndup(rest, (size_t)(p - rest)), xstrdup(v));
		return 0;
	}
	for (size_t i = 0; words[i]; i++) {
		char *eq = strchr(words[i], '=');
		if (!eq) {
			_cleanup_free_ char *q = expand_quote(words[i]);
			return error_set(err, EINVAL,
					 "Syntax error - can't find = in %s. Must be of the form: "
					 "name=value",
					 q);
		}
		kv_push(in, xstrndup(words[i], (size_t)(eq - words[i])), xstrdup(eq + 1));
	}
	return 0;
}

/* Docker's extractBuilderFlags: leading "--name[=value]" words (quotes and
 * backslashes processed), "--" ends them; returns the rest of the line. */
static const char *extract_flags(const char *line, char ***flags)
{
	enum { IN_SPACES, IN_WORD, IN_QUOTE } phase = IN_SPACES;
	*flags = xcalloc(1, sizeof(char *));
	_cleanup_sb_ struct strbuf w = STRBUF_INIT;
	char quote = 0;
	bool blank_ok = false;
	size_t len = strlen(line);
	for (size_t pos = 0; pos <= len; pos++) {
		char ch = pos < len ? line[pos] : 0;
		if (phase == IN_SPACES) {
			if (pos == len)
				break;
			if (is_space((unsigned char)ch))
				continue;
			if (ch != '-' || pos + 1 == len || line[pos + 1] != '-')
				return line + pos;
			phase = IN_WORD;
		}
		if (pos == len) {
			sb_append(&w, "");
			if (strcmp(w.buf, "--") != 0 && (blank_ok || w.len > 0))
				strv_push(flags, sb_steal(&w));
			break;
		}
		if (phase == IN_WORD) {
			if (is_space((unsigned char)ch)) {
				phase = IN_SPACES;
				sb_append(&w, "");
				if (strcmp(w.buf, "--") == 0)
					return line + pos;
				if (blank_ok || w.len > 0)
					strv_push(flags, sb_steal(&w));
				sb_reset(&w);
				blank_ok = false;
				continue;
			}
			if (ch == '\'' || ch == '"') {
				quote = ch;
				blank_ok = true;
				phase = IN_QUOTE;
				continue;
			}
			if (ch == '\\') {
				if (pos + 1 == len)
					continue;
				ch = line[++pos];
			}
			sb_appendc(&w, ch);
			continue;
		}
		if (ch == quote) {
			phase = IN_WORD;
			continue;
		}
		if (ch == '\\') {
			if (pos + 1 == len) {
				phase = IN_WORD;
				continue;
			}
			ch = line[++pos];
		}
		sb_appendc(&w, ch);
	}
	return line + len;
}

static int parse_node(const char *line, char esc, struct df_instruction *in, struct scow_error **err);

/* HEALTHCHECK: TYPE then a CMD in either form. */
static int parse_health(struct df_instruction *in, const char *rest, struct scow_error **err)
{
	size_t sep = 0;
	while (rest[sep] && !is_space((unsigned char)rest[sep]))
		sep++;
	if (sep == 0) {
		in->args = xcalloc(1, sizeof(char *));
		return 0;
	}
	size_t nx = sep;
	while (rest[nx] && is_space((unsigned char)rest[nx]))
		nx++;
	if (maybe_json(in, rest + nx, err) < 0)
		return -1;
	char **v = xcalloc(strv_len(in->args) + 2, sizeof(char *));
	v[0] = xstrndup(rest, sep);
	for (size_t i = 0; in->args[i]; i++)
		v[i + 1] = in->args[i];
	free(in->args);
	in->args = v;
	return 0;
}

static bool kind_lookup(const char *cmd, enum df_kind *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		if (strcasecmp(cmd, kinds[i].name) == 0) {
			*ret = kinds[i].kind;
			return true;
		}
	}
	return false;
}

/* One logical line into an instruction (Docker's newNodeFromLine). */
static int parse_node(const char *line, char esc, struct df_instruction *in, struct scow_error **err)
{
	_cleanup_free_ char *t = trim_dup(line);
	const char *p = t;
	while (*p && !is_sep((unsigned char)*p))
		p++;
	in->cmd = xstrndup(t, (size_t)(p - t));
	in->original = xstrdup(t);
	const char *args = p;
	while (*args && is_sep((unsigned char)*args))
		args++;
	if (*args)
		args = extract_flags(args, &in->flags);
	else
		in->flags = xcalloc(1, sizeof(char *));
	_cleanup_free_ char *rest = trim_dup(args);

	if (!kind_lookup(in->cmd, &in->kind))
		return error_set(err, EINVAL, "unknown instruction: %s", in->cmd);

	switch (in->kind) {
	case DF_ADD:
	case DF_COPY:
	case DF_VOLUME:
		return maybe_json_list(in, rest, err);
	case DF_CMD:
	case DF_ENTRYPOINT:
	case DF_RUN:
	case DF_SHELL:
		return maybe_json(in, rest, err);
	case DF_ARG:
		in->args = parse_words(rest, esc);
		return 0;
	case DF_ENV:
		in->args = xcalloc(1, sizeof(char *));
		return parse_name_val(in, rest, "ENV", esc, err);
	case DF_LABEL:
		in->args = xcalloc(1, sizeof(char *));
		return parse_name_val(in, rest, "LABEL", esc, err);
	case DF_EXPOSE:
	case DF_FROM:
		in->args = split_ws(rest);
		return 0;
	case DF_HEALTHCHECK:
		return parse_health(in, rest, err);
	case DF_MAINTAINER:
	case DF_STOPSIGNAL:
	case DF_USER:
	case DF_WORKDIR:
		in->args = xcalloc(2, sizeof(char *));
		if (*rest)
			in->args[0] = xstrdup(rest);
		return 0;
	case DF_ONBUILD:
		in->args = xcalloc(2, sizeof(char *));
		if (!*rest)
			return 0;
		in->args[0] = xstrdup(rest);
		/* Refused before recursing: a line of ONBUILD ONBUILD ... must not
		 * nest as deep as it is long. */
		if (strncasecmp(rest, "onbuild", 7) == 0 &&
		    (!rest[7] || is_sep((unsigned char)rest[7])))
			return error_set(err, EINVAL,
					 "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
		in->trigger = xcalloc(1, sizeof(*in->trigger));
		return parse_node(rest, esc, in->trigger, err);
	}
	return 0;
}

/* ---- heredocs ---- */

void df_heredoc_release(struct df_heredoc *h)
{
	free(h->name);
	free(h->content);
	memset(h, 0, sizeof(*h));
}

static size_t count_quotes(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\'' || *s == '"';
	return n;
}

int df_heredoc_word(const char *word, struct df_heredoc *h, struct scow_error **err)
{
	const char *p = word;
	unsigned long long fd = 0;
	bool overflow = false;
	while (*p >= '0' && *p <= '9') {
		if (fd > 0xffffffffULL / 10)
			overflow = true;
		fd = fd * 10 + (unsigned)(*p - '0');
		p++;
	}
	if (p[0] != '<' || p[1] != '<')
		return 0;
	p += 2;
	bool chomp = *p == '-';
	if (chomp)
		p++;
	if (!*p || strchr(p, '<'))
		return 0;

	struct shlex lx = SHLEX_INIT('\\');
	lx.skip_unset = true;
	_cleanup_strv_ char **words = NULL;
	if (shlex_words(&lx, p, NULL, &words, err) < 0)
		return -1;
	if (strv_len(words) != 1)
		return 0;
	lx.raw_quotes = true;
	_cleanup_strv_ char **raw = NULL;
	if (shlex_words(&lx, p, NULL, &raw, err) < 0)
		return -1;
	if (strv_len(raw) != 1)
		return error_set(err, EINVAL,
				 "internal lexing of heredoc produced inconsistent results: %s", p);
	h->name = xstrdup(words[0]);
	h->content = NULL;
	h->fd = overflow || fd > 0xffffffffULL ? 0 : (unsigned)fd;
	h->chomp = chomp;
	h->expand = count_quotes(words[0]) == count_quotes(raw[0]);
	return 1;
}

/* RUN, ADD, COPY (also behind ONBUILD) in shell form may carry heredocs. */
static bool can_contain_heredoc(const struct df_instruction *in)
{
	if (in->kind == DF_ONBUILD && in->trigger)
		in = in->trigger;
	return (in->kind == DF_RUN || in->kind == DF_ADD || in->kind == DF_COPY) && !in->json;
}

/* The heredoc words of a line, lexed the way Docker does (backslash
 * escapes whatever the escape directive says, quotes kept). */
static int heredocs_from_line(const char *line, struct df_heredoc **ret, size_t *ret_n,
			      struct scow_error **err)
{
	struct shlex lx = SHLEX_INIT('\\');
	lx.raw_quotes = true;
	lx.raw_escapes = true;
	lx.skip_unset = true;
	_cleanup_strv_ char **words = NULL;
	_cleanup_error_ struct scow_error *ignored = NULL;
	if (shlex_words(&lx, line, NULL, &words, &ignored) < 0)
		return 0; /* Docker ignores a line it cannot lex here */
	for (size_t i = 0; words[i]; i++) {
		struct df_heredoc h = {0};
		int r = df_heredoc_word(words[i], &h, err);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		*ret = xrealloc(*ret, (*ret_n + 1) * sizeof(**ret));
		(*ret)[(*ret_n)++] = h;
	}
	return 0;
}

char *df_chomp(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	bool bol = true;
	for (; *s; s++) {
		if (bol && *s == '\t')
			continue;
		bol = *s == '\n';
		sb_appendc(&sb, *s);
	}
	return sb_steal(&sb);
}

/* ---- the file ---- */

struct line {
	const char *p;
	size_t len; /* line ending included */
};

struct parser {
	const char *buf;
	size_t len;
	struct line *lines;
	size_t nlines, next;
	int lineno; /* lines consumed so far */
	char escape;
	bool directives_done;
	bool seen[3];
	char *syntax;
	char **warnings;
	bool triggers; /* parsing ONBUILD triggers: no FROM needed */
};

static void split_lines(struct parser *P)
{
	size_t cap = 0;
	const char *p = P->buf, *end = P->buf + P->len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		xgrow((void **)&P->lines, &cap, P->nlines + 1, sizeof(*P->lines));
		P->lines[P->nlines].p = p;
		P->lines[P->nlines].len = n;
		P->nlines++;
		p += n;
	}
}

/* Line content without its trailing CR/LF characters. */
static size_t trim_newline(const char *p, size_t n)
{
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	return n;
}

static bool is_comment(const char *p, size_t n)
{
	size_t i = 0;
	while (i < n && is_space((unsigned char)p[i]))
		i++;
	return i < n && p[i] == '#';
}

static bool is_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space((unsigned char)p[i]))
			return false;
	return true;
}

/* Parser directives: "# name = value" lines at the very top; the first
 * other line (even an empty one or an unknown directive) ends them. */
static int directive(struct parser *P, const char *p, size_t n, struct scow_error **err)
{
	if (P->directives_done)
		return 0;
	if (n == 0 || p[0] != '#') {
		P->directives_done = true;
		return 0;
	}
	size_t i = 1;
	while (i < n && is_space((unsigned char)p[i]))
		i++;
	size_t ks = i;
	if (i >= n || !isalpha((unsigned char)p[i])) {
		P->directives_done = true;
		return 0;
	}
	while (i < n && isalnum((unsigned char)p[i]))
		i++;
	size_t ke = i;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\f' || p[i] == '\r'))
		i++;
	if (i >= n || p[i] != '=') {
		P->directives_done = true;
		return 0;
	}
	i++;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\f' || p[i] == '\r'))
		i++;
	size_t ve = n;
	while (ve > i && (p[ve - 1] == ' ' || p[ve - 1] == '\t' || p[ve - 1] == '\f' ||
			  p[ve - 1] == '\r'))
		ve--;
	if (ve == i) {
		P->directives_done = true;
		return 0;
	}
	static const char *const names[] = {"syntax", "escape", "check"};
	int k = -1;
	for (int j = 0; j < 3; j++)
		if (strlen(names[j]) == ke - ks && strncasecmp(p + ks, names[j], ke - ks) == 0)
			k = j;
	if (k < 0) {
		P->directives_done = true;
		return 0;
	}
	if (P->seen[k])
		return error_set(err, EINVAL, "only one %s parser directive can be used", names[k]);
	P->seen[k] = true;
	_cleanup_free_ char *value = xstrndup(p + i, ve - i);
	if (k == 0) {
		free(P->syntax);
		P->syntax = steal_ptr(&value);
	} else if (k == 1) {
		if (strcmp(value, "`") != 0 && strcmp(value, "\\") != 0)
			return error_set(err, EINVAL,
					 "invalid escape token '%s' does not match ` or \\", value);
		P->escape = value[0];
	}
	return 0;
}

/* Removes a trailing continuation (the escape char, then only blanks, not
 * itself escaped). Returns true when the line continues. */
static bool trim_continuation(const char *p, size_t *n, char esc)
{
	size_t e = *n;
	while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == '\t'))
		e--;
	if (e == 0 || p[e - 1] != esc)
		return false;
	if (e >= 2 && p[e - 2] == esc)
		return false;
	*n = e - 1;
	return true;
}

static int fail_at(struct scow_error **err, int line)
{
	return error_wrap(err, "Dockerfile parse error on line %d", line);
}

static void instruction_push(struct df_file *f, struct df_instruction *in)
{
	f->ins = xrealloc(f->ins, (f->nins + 1) * sizeof(*f->ins));
	f->ins[f->nins++] = *in;
	memset(in, 0, sizeof(*in));
}

/* Reads the heredoc bodies that follow an instruction. */
static int read_heredocs(struct parser *P, struct df_instruction *in, const char *line,
			 struct scow_error **err)
{
	if (!can_contain_heredoc(in) || !strstr(line, "<<"))
		return 0;
	if (heredocs_from_line(line, &in->heredocs, &in->nheredocs, err) < 0)
		return -1;
	for (size_t h = 0; h < in->nheredocs; h++) {
		struct df_heredoc *hd = &in->heredocs[h];
		struct strbuf body = STRBUF_INIT;
		sb_append(&body, "");
		bool terminated = false;
		while (P->next < P->nlines) {
			const struct line *l = &P->lines[P->next++];
			P->lineno++;
			size_t n = trim_newline(l->p, l->len);
			const char *t = l->p;
			if (hd->chomp)
				while (n > 0 && *t == '\t')
					t++, n--;
			if (n == strlen(hd->name) && memcmp(t, hd->name, n) == 0) {
				terminated = true;
				break;
			}
			sb_appendn(&body, l->p, l->len);
		}
		hd->content = sb_steal(&body);
		if (!terminated)
			return error_set(err, EINVAL, "unterminated heredoc");
	}
	if (in->kind == DF_ONBUILD && in->trigger) {
		/* The trigger sees the same bodies (Docker attaches them to the
		 * ONBUILD node; its text stored in the image gets them appended). */
		struct df_instruction *t = in->trigger;
		t->heredocs = xcalloc(in->nheredocs, sizeof(*t->heredocs));
		for (size_t h = 0; h < in->nheredocs; h++) {
			t->heredocs[h] = in->heredocs[h];
			t->heredocs[h].name = xstrdup(in->heredocs[h].name);
			t->heredocs[h].content = xstrdup(in->heredocs[h].content);
		}
		t->nheredocs = in->nheredocs;
	}
	return 0;
}

/* Reads one logical line (continuations joined) into *ret; false at EOF. */
static int next_logical_line(struct parser *P, char **ret, int *ret_start, struct scow_error **err)
{
	while (P->next < P->nlines) {
		const struct line *l = &P->lines[P->next++];
		const char *p = l->p;
		size_t n = trim_newline(l->p, l->len);
		if (P->lineno == 0 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3, n -= 3;
		while (n > 0 && is_space((unsigned char)*p))
			p++, n--;
		if (directive(P, p, n, err) < 0)
			return fail_at(err, P->lineno + 1);
		if (is_comment(p, n))
			n = 0;
		P->lineno++;
		int start = P->lineno;
		bool cont = trim_continuation(p, &n, P->escape);
		if (!cont && n == 0)
			continue;
		struct strbuf sb = STRBUF_INIT;
		sb_appendn(&sb, p, n);
		bool empty_cont = false;
		while (cont && P->next < P->nlines) {
			const struct line *c = &P->lines[P->next++];
			size_t cn = trim_newline(c->p, c->len);
			P->lineno++;
			if (is_comment(c->p, cn))
				continue;
			if (is_blank(c->p, cn)) {
				empty_cont = true;
				continue;
			}
			cont = trim_continuation(c->p, &cn, P->escape);
			sb_appendn(&sb, c->p, cn);
		}
		sb_append(&sb, "");
		if (empty_cont)
			strv_push(&P->warnings,
				  xasprintf("Empty continuation line found in: %s", sb.buf));
		*ret = sb_steal(&sb);
		*ret_start = start;
		return 1;
	}
	return 0;
}

static int parse_all(struct parser *P, struct df_file *f, struct scow_error **err)
{
	bool have_from = false;
	for (;;) {
		_cleanup_free_ char *line = NULL;
		int start = 0;
		int r = next_logical_line(P, &line, &start, err);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		struct df_instruction in = {0};
		in.line = start;
		if (parse_node(line, P->escape, &in, err) < 0 || read_heredocs(P, &in, line, err) < 0 ||
		    df_finish(&in, P->escape, err) < 0) {
			df_instruction_release(&in);
			return fail_at(err, start);
		}
		in.end_line = P->lineno;
		if (in.trigger) {
			in.trigger->line = in.line;
			in.trigger->end_line = in.end_line;
		}
		if (in.kind == DF_FROM) {
			have_from = true;
		} else if (in.kind != DF_ARG && !have_from && !P->triggers) {
			df_instruction_release(&in);
			error_set(err, EINVAL, "no build stage in current context");
			return fail_at(err, start);
		}
		instruction_push(f, &in);
	}
	if (f->nins == 0) {
		error_set(err, EINVAL, "file with no instructions");
		return fail_at(err, P->lineno);
	}
	return 0;
}

static int parse_buf(const char *buf, size_t len, bool triggers, struct df_file **ret,
		     struct scow_error **err)
{
	if (len == 0)
		return error_set(err, EINVAL, "the Dockerfile cannot be empty");
	struct parser P = {.buf = buf, .len = len, .escape = '\\', .triggers = triggers};
	split_lines(&P);
	struct df_file *f = xcalloc(1, sizeof(*f));
	int r = parse_all(&P, f, err);
	free(P.lines);
	f->escape = P.escape;
	f->syntax = P.syntax;
	f->warnings = P.warnings ? P.warnings : xcalloc(1, sizeof(char *));
	if (r < 0) {
		df_file_free(f);
		return -1;
	}
	*ret = f;
	return 0;
}

int df_parse(const char *buf, size_t len, struct df_file **ret, struct scow_error **err)
{
	return parse_buf(buf, len, false, ret, err);
}

int df_parse_triggers(char *const *triggers, struct df_file **ret, struct scow_error **err)
{
	struct df_file *f = xcalloc(1, sizeof(*f));
	f->escape = '\\';
	f->warnings = xcalloc(1, sizeof(char *));
	for (size_t i = 0; triggers && triggers[i]; i++) {
		struct df_file *one = NULL;
		if (parse_buf(triggers[i], strlen(triggers[i]), true, &one, err) < 0) {
			df_file_free(f);
			return error_wrap(err, "ONBUILD trigger %s", triggers[i]);
		}
		if (one->nins != 1) {
			df_file_free(one);
			df_file_free(f);
			return error_set(err, EINVAL, "onbuild trigger should be a single expression");
		}
		struct df_instruction *in = &one->ins[0];
		if (in->kind == DF_ONBUILD || in->kind == DF_FROM || in->kind == DF_MAINTAINER) {
			int r = in->kind == DF_ONBUILD
					? error_set(err, EINVAL,
						    "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
					: error_set(err, EINVAL,
						    "%s isn't allowed as an ONBUILD trigger",
						    df_kind_name(in->kind));
			df_file_free(one);
			df_file_free(f);
			return r;
		}
		instruction_push(f, in);
		df_file_free(one);
	}
	*ret = f;
	return 0;
}

void df_file_free(struct df_file *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nins; i++)
		df_instruction_release(&f->ins[i]);
	free(f->ins);
	free(f->syntax);
	strv_free(f->warnings);
	free(f);
}
