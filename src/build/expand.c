/* Docker's shell-word lexer (see expand.h). It mirrors BuildKit's lexer
 * closely because Dockerfiles depend on its corner cases: what a quote or
 * an escape does inside ${...}, when a word splits, which errors appear. */
#include "build/expand.h"

#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* The word splitter beside the result string (Go's wordsStruct). */
struct words {
	struct strbuf word;
	char **list;
	bool in_word;
};

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void words_flush(struct words *w)
{
	if (w->word.len > 0)
		strv_push(&w->list, sb_steal(&w->word));
	else
		sb_reset(&w->word);
	w->in_word = false;
}

static void words_raw_char(struct words *w, char c)
{
	sb_appendc(&w->word, c);
	w->in_word = true;
}

static void words_char(struct words *w, char c)
{
	if (is_space((unsigned char)c)) {
		if (w->in_word && w->word.len > 0)
			words_flush(w);
	} else {
		words_raw_char(w, c);
	}
}

static void words_string(struct words *w, const char *s)
{
	for (; *s; s++)
		words_char(w, *s);
}

static void words_raw_string(struct words *w, const char *s)
{
	sb_append(&w->word, s);
	w->in_word = true;
}

static void words_release(struct words *w)
{
	sb_release(&w->word);
	strv_free(w->list);
	w->list = NULL;
}

struct lexer {
	const struct shlex *lx;
	const char *s;
	size_t pos, len;
	char *const *env;
	bool raw_escapes;
	unsigned depth; /* ${...} nesting: bounded, the lexer recurses */
	char *errmsg;	/* the first failure, without the "failed to process" prefix */
};

/* Deeper ${...} nesting than any real Dockerfile uses; keeps the stack safe
 * with untrusted text (ONBUILD triggers come from images). */
#define MAX_NESTING 256

static int lex_fail(struct lexer *L, char *msg)
{
	if (!L->errmsg)
		L->errmsg = msg;
	else
		free(msg);
	return -1;
}

static int peek(const struct lexer *L)
{
	return L->pos < L->len ? (unsigned char)L->s[L->pos] : -1;
}

static int next(struct lexer *L)
{
	return L->pos < L->len ? (unsigned char)L->s[L->pos++] : -1;
}

const char *expand_env_get(char *const *env, const char *name)
{
	if (!env)
		return NULL;
	size_t n = strlen(name);
	const char *found = NULL;
	for (size_t i = 0; env[i]; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			found = env[i] + n + 1;
	return found;
}

void expand_env_set(char ***env, const char *key, const char *value)
{
	size_t n = strlen(key);
	char *entry = xasprintf("%s=%s", key, value);
	for (size_t i = 0; *env && (*env)[i]; i++) {
		if (strncmp((*env)[i], key, n) == 0 && (*env)[i][n] == '=') {
			free((*env)[i]);
			(*env)[i] = entry;
			return;
		}
	}
	strv_push(env, entry);
}

char *expand_quote(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	sb_appendc(&sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			sb_append(&sb, "\\\"");
			break;
		case '\\':
			sb_append(&sb, "\\\\");
			break;
		case '\n':
			sb_append(&sb, "\\n");
			break;
		case '\t':
			sb_append(&sb, "\\t");
			break;
		case '\r':
			sb_append(&sb, "\\r");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				sb_printf(&sb, "\\x%02x", *p);
			else
				sb_appendc(&sb, (char)*p);
		}
	}
	sb_appendc(&sb, '"');
	return sb_steal(&sb);
}

/* ---- shell patterns for ${X#p} ${X%p} ${X/p/r} ----
 * A pattern is a list of tokens (a literal character, '?', '*') run as an
 * NFA over the value's characters: linear in both, whatever the input. */

enum { PAT_LIT, PAT_ANY, PAT_STAR };
struct pat_tok {
	int type;
	unsigned cp; /* PAT_LIT */
};

static unsigned utf8_decode(const char *s, size_t avail, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = u[0] < 0x80 ? 1 : u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 1;
	if (n > avail)
		n = 1;
	unsigned cp = n == 1 ? u[0] : n == 2 ? u[0] & 0x1fu : n == 3 ? u[0] & 0x0fu : u[0] & 0x07u;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*len = 1;
			return u[0];
		}
		cp = (cp << 6) | (u[i] & 0x3fu);
	}
	*len = n;
	return cp;
}

/* Compiles a pattern whose escapes were kept raw: \* \? \\ are literals,
 * \} and \/ stand for the bare character, any other escape is an error. */
static int pattern_compile(const char *p, struct pat_tok **ret, size_t *ret_n, char **errmsg)
{
	size_t n = 0, len = strlen(p);
	struct pat_tok *t = xcalloc(len + 1, sizeof(*t));
	for (size_t i = 0; i < len;) {
		char c = p[i];
		if (c == '*' || c == '?') {
			t[n++].type = c == '*' ? PAT_STAR : PAT_ANY;
			i++;
			continue;
		}
		if (c == '\\') {
			char nc = i + 1 < len ? p[i + 1] : '\0';
			if (nc == '}' || nc == '/') {
				i++; /* the next round adds it as a literal */
				continue;
			}
			if (nc != '*' && nc != '?' && nc != '\\') {
				*errmsg = nc ? xasprintf("invalid escape '\\%c'", nc)
					     : xstrdup("invalid escape '\\'");
				free(t);
				return -1;
			}
			i++;
		}
		size_t l;
		t[n].type = PAT_LIT;
		t[n++].cp = utf8_decode(p + i, len - i, &l);
		i += l;
	}
	*ret = t;
	*ret_n = n;
	return 0;
}

/* A value as characters, with the byte offset of each (offs[n] = length). */
struct chars {
	unsigned *cp;
	size_t *offs;
	size_t n;
};

static void chars_decode(const char *s, struct chars *c)
{
	size_t len = strlen(s);
	c->cp = xcalloc(len + 1, sizeof(*c->cp));
	c->offs = xcalloc(len + 1, sizeof(*c->offs));
	c->n = 0;
	for (size_t i = 0; i < len;) {
		size_t l;
		c->offs[c->n] = i;
		c->cp[c->n++] = utf8_decode(s + i, len - i, &l);
		i += l;
	}
	c->offs[c->n] = len;
}

static void chars_release(struct chars *c)
{
	free(c->cp);
	free(c->offs);
}

static void nfa_add(const struct pat_tok *t, size_t nt, bool *set, size_t k)
{
	for (;;) {
		set[k] = true;
		if (k == nt || t[k].type != PAT_STAR)
			return;
		k++; /* a star may match nothing */
	}
}

/* The shortest or longest prefix of cp[0..n) that the pattern matches
 * whole, in characters; -1 if none. */
static long nfa_prefix(const struct pat_tok *t, size_t nt, const unsigned *cp, size_t n,
		       bool longest)
{
	bool *cur = xcalloc(nt + 1, 1), *nxt = xcalloc(nt + 1, 1);
	long best = -1;
	nfa_add(t, nt, cur, 0);
	for (size_t i = 0;; i++) {
		if (cur[nt]) {
			best = (long)i;
			if (!longest)
				break;
		}
		if (i == n)
			break;
		memset(nxt, 0, nt + 1);
		bool alive = false;
		for (size_t k = 0; k < nt; k++) {
			if (!cur[k])
				continue;
			if (t[k].type == PAT_STAR)
				nfa_add(t, nt, nxt, k), alive = true;
			else if (t[k].type == PAT_ANY || t[k].cp == cp[i])
				nfa_add(t, nt, nxt, k + 1), alive = true;
		}
		if (!alive)
			break;
		bool *tmp = cur;
		cur = nxt;
		nxt = tmp;
	}
	free(cur);
	free(nxt);
	return best;
}

static int compile_or_fail(struct lexer *L, const char *pattern, struct pat_tok **t, size_t *nt)
{
	char *msg = NULL;
	if (pattern_compile(pattern, t, nt, &msg) < 0) {
		lex_fail(L, xasprintf("invalid pattern (%s) in substitution: %s", pattern, msg));
		free(msg);
		return -1;
	}
	return 0;
}

static int trim_affix(struct lexer *L, const char *pattern, const char *value, bool suffix,
		      bool greedy, char **ret)
{
	struct pat_tok *t;
	size_t nt;
	if (compile_or_fail(L, pattern, &t, &nt) < 0)
		return -1;
	struct chars c;
	chars_decode(value, &c);
	if (suffix) { /* a suffix match is a prefix match of both reversed */
		for (size_t i = 0; i < nt / 2; i++) {
			struct pat_tok x = t[i];
			t[i] = t[nt - 1 - i];
			t[nt - 1 - i] = x;
		}
		for (size_t i = 0; i < c.n / 2; i++) {
			unsigned x = c.cp[i];
			c.cp[i] = c.cp[c.n - 1 - i];
			c.cp[c.n - 1 - i] = x;
		}
	}
	long m = nfa_prefix(t, nt, c.cp, c.n, greedy);
	if (m < 0)
		*ret = xstrdup(value);
	else if (suffix)
		*ret = xstrndup(value, c.offs[c.n - (size_t)m]);
	else
		*ret = xstrdup(value + c.offs[m]);
	chars_release(&c);
	free(t);
	return 0;
}

/* Leftmost, longest matches; with all, successive ones, where an empty
 * match right after a previous match does not count (as Go's regexp). */
static int replace_pattern(struct lexer *L, const char *pattern, const char *repl, const char *value,
			   bool all, char **ret)
{
	struct pat_tok *t;
	size_t nt;
	if (compile_or_fail(L, pattern, &t, &nt) < 0)
		return -1;
	struct chars c;
	chars_decode(value, &c);
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	size_t i = 0, last_end = (size_t)-1;
	bool replaced = false;
	while (i <= c.n) {
		long m = -1;
		if (all || !replaced)
			m = nfa_prefix(t, nt, c.cp + i, c.n - i, true);
		if (m >= 0 && !(m == 0 && i == last_end)) {
			sb_append(&sb, repl);
			replaced = true;
			last_end = i + (size_t)m;
			if (m > 0) {
				i += (size_t)m;
				continue;
			}
		}
		if (i == c.n)
			break;
		sb_appendn(&sb, value + c.offs[i], c.offs[i + 1] - c.offs[i]);
		i++;
	}
	chars_release(&c);
	free(t);
	*ret = sb_steal(&sb);
	return 0;
}

/* ---- the lexer ---- */

static int stop_on(struct lexer *L, int stop, bool raw_escapes, struct strbuf *res,
		   struct words *w);

static bool is_special_param(int c)
{
	return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
	       c == '0';
}

static bool is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c >= 0x80;
}

static char *lex_name(struct lexer *L)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	int c = peek(L);
	if (c >= '0' && c <= '9') {
		while ((c = peek(L)) >= '0' && c <= '9')
			sb_appendc(&sb, (char)next(L));
		return sb_steal(&sb);
	}
	if (c >= 0 && is_special_param(c)) {
		sb_appendc(&sb, (char)next(L));
		return sb_steal(&sb);
	}
	while ((c = peek(L)) >= 0 && is_name_char(c))
		sb_appendc(&sb, (char)next(L));
	return sb_steal(&sb);
}

static const char *lex_getenv(struct lexer *L, const char *name)
{
	return expand_env_get(L->env, name);
}

/* After "${name" and an operator: the word up to the closing brace. */
static int brace_word(struct lexer *L, bool raw, char **ret)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	if (stop_on(L, '}', raw, &sb, NULL) < 0) {
		if (peek(L) < 0) {
			free(L->errmsg);
			L->errmsg = xstrdup("syntax error: missing '}'");
		}
		return -1;
	}
	sb_append(&sb, "");
	*ret = sb_steal(&sb);
	return 0;
}

static int dollar_modifier(struct lexer *L, const char *name, int op, bool null_is_unset,
			   const char *ops, char **ret)
{
	_cleanup_free_ char *word = NULL;
	if (brace_word(L, op == '#' || op == '%', &word) < 0)
		return -1;
	const char *value = lex_getenv(L, name);
	bool set = value != NULL;
	if (!set && L->lx->skip_unset) {
		*ret = xasprintf("${%s%s%s}", name, ops, word);
		return 0;
	}
	bool empty = !set || (null_is_unset && !*value);
	switch (op) {
	case '-':
		*ret = xstrdup(empty ? word : value);
		return 0;
	case '+':
		*ret = xstrdup(empty ? "" : word);
		return 0;
	case '?':
		if (!set)
			return lex_fail(L, xasprintf("%s: %s", name,
						     *word ? word : "is not allowed to be unset"));
		if (null_is_unset && !*value)
			return lex_fail(L, xasprintf("%s: %s", name,
						     *word ? word : "is not allowed to be empty"));
		*ret = xstrdup(value);
		return 0;
	case '#':
	case '%': {
		const char *pat = word;
		bool greedy = false;
		if (*pat == op) {
			greedy = true;
			pat++;
		}
		return trim_affix(L, pat, value ? value : "", op == '%', greedy, ret);
	}
	default:
		return lex_fail(L, xasprintf("unsupported modifier (%s) in substitution", ops));
	}
}

static int dollar_replace(struct lexer *L, const char *name, char **ret)
{
	bool all = peek(L) == '/';
	if (all)
		next(L);
	_cleanup_sb_ struct strbuf pat = STRBUF_INIT;
	if (stop_on(L, '/', true, &pat, NULL) < 0) {
		if (peek(L) < 0) {
			free(L->errmsg);
			L->errmsg = xstrdup("syntax error: missing '/' in ${}");
		}
		return -1;
	}
	_cleanup_free_ char *repl = NULL;
	if (brace_word(L, true, &repl) < 0)
		return -1;
	const char *p = sb_str(&pat);
	const char *value = lex_getenv(L, name);
	if (!value && L->lx->skip_unset) {
		*ret = xasprintf("${%s/%s/%s}", name, p, repl);
		return 0;
	}
	return replace_pattern(L, p, repl, value ? value : "", all, ret);
}

static int dollar_inner(struct lexer *L, char **ret);

static int dollar(struct lexer *L, char **ret)
{
	if (L->depth >= MAX_NESTING)
		return lex_fail(L, xstrdup("syntax error: substitutions nested too deep"));
	L->depth++;
	int r = dollar_inner(L, ret);
	L->depth--;
	return r;
}

static int dollar_inner(struct lexer *L, char **ret)
{
	next(L); /* '$' */
	if (peek(L) != '{') {
		_cleanup_free_ char *name = lex_name(L);
		if (!*name) {
			*ret = xstrdup("$");
			return 0;
		}
		const char *v = lex_getenv(L, name);
		if (!v && L->lx->skip_unset)
			*ret = xasprintf("$%s", name);
		else
			*ret = xstrdup(v ? v : "");
		return 0;
	}
	next(L); /* '{' */
	int c = peek(L);
	if (c < 0)
		return lex_fail(L, xstrdup("syntax error: missing '}'"));
	if (c == '{' || c == '}' || c == ':')
		return lex_fail(L, xstrdup("syntax error: bad substitution"));
	_cleanup_free_ char *name = lex_name(L);
	int op = next(L);
	if (op < 0)
		return lex_fail(L, xstrdup("syntax error: missing '}'"));
	char ops[3] = {(char)op, 0, 0};
	switch (op) {
	case '}': {
		const char *v = lex_getenv(L, name);
		if (!v && L->lx->skip_unset)
			*ret = xasprintf("${%s}", name);
		else
			*ret = xstrdup(v ? v : "");
		return 0;
	}
	case ':':
		op = next(L);
		if (op < 0)
			return lex_fail(L, xstrdup("syntax error: missing '}'"));
		ops[1] = (char)op;
		return dollar_modifier(L, name, op, true, ops, ret);
	case '+':
	case '-':
	case '?':
	case '#':
	case '%':
		return dollar_modifier(L, name, op, false, ops, ret);
	case '/':
		return dollar_replace(L, name, ret);
	default:
		return lex_fail(L, xasprintf("unsupported modifier (%s) in substitution", ops));
	}
}

static int single_quote(struct lexer *L, char **ret)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	int c = next(L);
	if (L->lx->raw_quotes)
		sb_appendc(&sb, (char)c);
	for (;;) {
		c = next(L);
		if (c < 0) {
			sb_release(&sb);
			return lex_fail(L, xstrdup("unexpected end of statement while looking for "
						   "matching single-quote"));
		}
		if (c == '\'') {
			if (L->lx->raw_quotes)
				sb_appendc(&sb, (char)c);
			*ret = sb_steal(&sb);
			return 0;
		}
		sb_appendc(&sb, (char)c);
	}
}

static int double_quote(struct lexer *L, char **ret)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	int c = next(L);
	if (L->lx->raw_quotes)
		sb_appendc(&sb, (char)c);
	for (;;) {
		c = peek(L);
		if (c < 0) {
			sb_release(&sb);
			return lex_fail(L, xstrdup("unexpected end of statement while looking for "
						   "matching double-quote"));
		}
		if (c == '"') {
			next(L);
			if (L->lx->raw_quotes)
				sb_appendc(&sb, '"');
			*ret = sb_steal(&sb);
			return 0;
		}
		if (c == '$') {
			char *v = NULL;
			if (dollar(L, &v) < 0) {
				sb_release(&sb);
				return -1;
			}
			sb_append(&sb, v);
			free(v);
			continue;
		}
		c = next(L);
		if (c == (unsigned char)L->lx->escape) {
			if (L->raw_escapes)
				sb_appendc(&sb, (char)c);
			int n = peek(L);
			if (n < 0)
				continue; /* an escape at the very end is dropped */
			if (n == '"' || n == '$' || n == (unsigned char)L->lx->escape)
				c = next(L);
		}
		sb_appendc(&sb, (char)c);
	}
}

/* Processes up to stop (or the end when stop < 0), appending to res and,
 * when w is given, to the word splitter. */
static int stop_on(struct lexer *L, int stop, bool raw_escapes, struct strbuf *res, struct words *w)
{
	struct words local = {STRBUF_INIT, NULL, false};
	if (!w)
		w = &local;
	bool saved = L->raw_escapes;
	L->raw_escapes = raw_escapes;
	int rc = 0;
	bool stopped = false;
	while (peek(L) >= 0) {
		int c = peek(L);
		if (stop >= 0 && c == stop) {
			next(L);
			stopped = true;
			break;
		}
		char *tmp = NULL;
		if (c == '$') {
			if (dollar(L, &tmp) < 0) {
				rc = -1;
				break;
			}
			sb_append(res, tmp);
			words_string(w, tmp);
			free(tmp);
			continue;
		}
		if (!L->lx->skip_process_quotes && (c == '\'' || c == '"')) {
			if ((c == '\'' ? single_quote(L, &tmp) : double_quote(L, &tmp)) < 0) {
				rc = -1;
				break;
			}
			sb_append(res, tmp);
			words_raw_string(w, tmp);
			free(tmp);
			continue;
		}
		c = next(L);
		if (c == (unsigned char)L->lx->escape) {
			if (L->raw_escapes) {
				words_raw_char(w, (char)c);
				sb_appendc(res, (char)c);
			}
			c = next(L);
			if (c < 0)
				break;
			words_raw_char(w, (char)c);
		} else {
			words_char(w, (char)c);
		}
		sb_appendc(res, (char)c);
	}
	if (rc == 0 && stop >= 0 && !stopped)
		rc = lex_fail(L, xasprintf("unexpected end of statement while looking for matching "
					   "%c",
					   stop));
	L->raw_escapes = saved;
	if (rc == 0)
		words_flush(w);
	words_release(&local);
	return rc;
}

static int lex_run(const struct shlex *lx, const char *word, char *const *env, char **ret_word,
		   char ***ret_words, struct scow_error **err)
{
	struct lexer L = {.lx = lx,
			  .s = word,
			  .len = strlen(word),
			  .env = env,
			  .raw_escapes = lx->raw_escapes};
	_cleanup_sb_ struct strbuf res = STRBUF_INIT;
	struct words w = {STRBUF_INIT, NULL, false};
	if (stop_on(&L, -1, lx->raw_escapes, &res, &w) < 0) {
		_cleanup_free_ char *q = expand_quote(word);
		error_set(err, EINVAL, "failed to process %s: %s", q,
			  L.errmsg ? L.errmsg : "invalid substitution");
		free(L.errmsg);
		words_release(&w);
		return -1;
	}
	if (ret_word) {
		sb_append(&res, "");
		*ret_word = sb_steal(&res);
	}
	if (ret_words) {
		if (!w.list)
			w.list = xcalloc(1, sizeof(char *));
		*ret_words = steal_ptr(&w.list);
	}
	words_release(&w);
	return 0;
}

int shlex_word(const struct shlex *lx, const char *word, char *const *env, char **ret,
	       struct scow_error **err)
{
	return lex_run(lx, word, env, ret, NULL, err);
}

int shlex_words(const struct shlex *lx, const char *word, char *const *env, char ***ret,
		struct scow_error **err)
{
	return lex_run(lx, word, env, NULL, ret, err);
}

int expand_word(const char *word, char escape, char *const *env, char **ret,
		struct scow_error **err)
{
	struct shlex lx = SHLEX_INIT(escape);
	return shlex_word(&lx, word, env, ret, err);
}

int expand_words(const char *word, char escape, char *const *env, char ***ret,
		 struct scow_error **err)
{
	struct shlex lx = SHLEX_INIT(escape);
	return shlex_words(&lx, word, env, ret, err);
}
