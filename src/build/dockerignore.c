/* .dockerignore matching (see dockerignore.h). Patterns are compiled into
 * a small token list run as an NFA instead of Docker's regular
 * expressions; the two agree on every well-formed pattern. Where
 * Docker's regex translation is accidental (a literal '^' acting as an
 * anchor, '*' inside a class, "\d" meaning a digit) this code takes the
 * characters literally, as filepath.Match would. */
#include "build/dockerignore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/xalloc.h"

enum tok_type { T_LIT, T_ANY, T_STAR, T_DSTAR, T_DSTAR_END, T_CLASS };

struct range {
	unsigned lo, hi;
};

struct tok {
	enum tok_type type;
	unsigned cp;	      /* T_LIT */
	bool negate;	     /* T_CLASS */
	struct range *ranges; /* T_CLASS */
	size_t nranges;
};

struct pattern {
	char *text; /* cleaned, without '!' */
	bool exclusion;
	bool suffix_match; /* Docker's "**X" shortcut: any path ending in X */
	struct tok *toks;
	size_t ntoks;
};

struct dockerignore {
	struct pattern *p;
	size_t n;
	bool exclusions;
	char **texts;
};

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static char *trim(const char *s, size_t n)
{
	while (n > 0 && is_space((unsigned char)*s))
		s++, n--;
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

char **dockerignore_read(const char *buf, size_t len)
{
	char **out = xcalloc(1, sizeof(char *));
	const char *p = buf, *end = buf + len;
	bool first = true;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *line = p;
		p += n + (nl ? 1 : 0);
		if (first && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0)
			line += 3, n -= 3;
		first = false;
		if (n > 0 && line[0] == '#')
			continue;
		_cleanup_free_ char *pat = trim(line, n);
		if (!*pat)
			continue;
		bool invert = pat[0] == '!';
		const char *body = pat;
		_cleanup_free_ char *inner = NULL;
		if (invert) {
			inner = trim(pat + 1, strlen(pat + 1));
			body = inner;
		}
		_cleanup_free_ char *clean = *body ? fs_path_clean(body) : xstrdup("");
		const char *c = clean;
		if (strlen(c) > 1 && c[0] == '/')
			c++;
		strv_push(&out, xasprintf("%s%s", invert ? "!" : "", c));
	}
	return out;
}

/* ---- compiling ---- */

static unsigned utf8_decode(const char *s, size_t avail, size_t *len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = u[0] < 0x80 ? 1 : u[0] >= 0xf0 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc0 ? 2 : 1;
	if (n > avail)
		n = 1;
	unsigned cp = n == 1 ? u[0] : n == 2 ? u[0] & 0x1f : n == 3 ? u[0] & 0x0f : u[0] & 0x07;
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*len = 1;
			return u[0];
		}
		cp = (cp << 6) | (u[i] & 0x3f);
	}
	*len = n;
	return cp;
}

/* One class character: '\' escapes; '-' and ']' are not allowed here
 * (Go's filepath.Match rules). */
static int class_char(const char *p, size_t *i, size_t n, unsigned *ret)
{
	if (*i >= n || p[*i] == '-' || p[*i] == ']')
		return -1;
	if (p[*i] == '\\') {
		(*i)++;
		if (*i >= n)
			return -1;
	}
	size_t l;
	*ret = utf8_decode(p + *i, n - *i, &l);
	*i += l;
	return 0;
}

static void toks_free(struct tok *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(t[i].ranges);
	free(t);
}

static int compile(const char *p, struct tok **ret, size_t *ret_n)
{
	size_t n = strlen(p), nt = 0;
	struct tok *t = xcalloc(n + 1, sizeof(*t));
	for (size_t i = 0; i < n;) {
		char c = p[i];
		struct tok *k = &t[nt];
		if (c == '*') {
			if (i + 1 < n && p[i + 1] == '*') {
				i += 2;
				if (i < n && p[i] == '/')
					i++;
				k->type = i >= n ? T_DSTAR_END : T_DSTAR;
			} else {
				i++;
				k->type = T_STAR;
			}
		} else if (c == '?') {
			k->type = T_ANY;
			i++;
		} else if (c == '\\') {
			if (i + 1 >= n)
				goto bad;
			size_t l;
			k->type = T_LIT;
			k->cp = utf8_decode(p + i + 1, n - i - 1, &l);
			i += 1 + l;
		} else if (c == '[') {
			i++;
			k->type = T_CLASS;
			if (i < n && p[i] == '^') {
				k->negate = true;
				i++;
			}
			for (;;) {
				if (i < n && p[i] == ']' && k->nranges > 0) {
					i++;
					break;
				}
				struct range r;
				if (class_char(p, &i, n, &r.lo) < 0)
					goto bad;
				r.hi = r.lo;
				if (i < n && p[i] == '-') {
					i++;
					if (class_char(p, &i, n, &r.hi) < 0)
						goto bad;
				}
				k->ranges = xrealloc(k->ranges, (k->nranges + 1) * sizeof(*k->ranges));
				k->ranges[k->nranges++] = r;
			}
		} else {
			size_t l;
			k->type = T_LIT;
			k->cp = utf8_decode(p + i, n - i, &l);
			i += l;
		}
		nt++;
	}
	*ret = t;
	*ret_n = nt;
	return 0;
bad:
	toks_free(t, nt + 1);
	return -1;
}

static bool has_wildcards(const char *s)
{
	return strpbrk(s, "*?[]\\") != NULL;
}

static int pattern_add(struct dockerignore *di, const char *raw, struct scow_error **err)
{
	_cleanup_free_ char *t = trim(raw, strlen(raw));
	if (!*t)
		return 0;
	_cleanup_free_ char *p = fs_path_clean(t);
	struct pattern pat = {0};
	const char *body = p;
	if (p[0] == '!') {
		if (!p[1])
			return error_set(err, EINVAL, "illegal exclusion pattern: \"!\"");
		pat.exclusion = true;
		body++;
	}
	if (compile(body, &pat.toks, &pat.ntoks) < 0)
		return error_set(err, EINVAL, "syntax error in pattern");
	pat.text = xstrdup(body);
	pat.suffix_match = strncmp(body, "**", 2) == 0 && !has_wildcards(body + 2);
	di->p = xrealloc(di->p, (di->n + 1) * sizeof(*di->p));
	di->p[di->n++] = pat;
	if (pat.exclusion)
		di->exclusions = true;
	strv_push(&di->texts, xasprintf("%s%s", pat.exclusion ? "!" : "", body));
	return 0;
}

int dockerignore_new(char *const *patterns, struct dockerignore **ret, struct scow_error **err)
{
	struct dockerignore *di = xcalloc(1, sizeof(*di));
	di->texts = xcalloc(1, sizeof(char *));
	for (size_t i = 0; patterns && patterns[i]; i++) {
		if (pattern_add(di, patterns[i], err) < 0) {
			dockerignore_free(di);
			return -1;
		}
	}
	*ret = di;
	return 0;
}

void dockerignore_free(struct dockerignore *di)
{
	if (!di)
		return;
	for (size_t i = 0; i < di->n; i++) {
		free(di->p[i].text);
		toks_free(di->p[i].toks, di->p[i].ntoks);
	}
	free(di->p);
	strv_free(di->texts);
	free(di);
}

char *const *dockerignore_patterns(const struct dockerignore *di)
{
	return di->texts;
}

size_t dockerignore_npatterns(const struct dockerignore *di)
{
	return di->n;
}

bool dockerignore_has_exceptions(const struct dockerignore *di)
{
	return di->exclusions;
}

/* ---- matching ---- */

static bool class_match(const struct tok *k, unsigned cp)
{
	bool in = false;
	for (size_t i = 0; i < k->nranges && !in; i++)
		in = cp >= k->ranges[i].lo && cp <= k->ranges[i].hi;
	return in != k->negate;
}

/* The tokens run as an NFA over the path's characters: linear, whatever
 * the pattern. State k waits for token k; loop[k] is "inside the .* of a
 * DSTAR's (.*\/)?", left only through a '/'. */
static void nfa_add(const struct tok *t, size_t nt, bool *set, bool *loop, size_t k)
{
	for (;;) {
		set[k] = true;
		if (k == nt)
			return;
		if (t[k].type == T_DSTAR)
			loop[k] = true;
		else if (t[k].type != T_STAR && t[k].type != T_DSTAR_END)
			return;
		k++; /* the token may match nothing */
	}
}

/* Whole-string match; with parents, a match of any leading directory
 * ("a" or "a/b" of "a/b/c") counts too, found in the same single pass. */
static bool tokens_match(const struct tok *t, size_t nt, const char *s, size_t n, bool parents)
{
	bool *st = xcalloc(4 * (nt + 1), 1);
	bool *cur = st, *cloop = st + (nt + 1), *nxt = st + 2 * (nt + 1), *nloop = st + 3 * (nt + 1);
	nfa_add(t, nt, cur, cloop, 0);
	for (size_t i = 0; i < n;) {
		size_t l;
		unsigned c = utf8_decode(s + i, n - i, &l);
		if (parents && c == '/' && i > 0 && cur[nt]) {
			free(st);
			return true;
		}
		i += l;
		memset(nxt, 0, 2 * (nt + 1));
		bool alive = false;
		for (size_t k = 0; k < nt; k++) {
			if (cloop[k]) {
				nloop[k] = true;
				alive = true;
				if (c == '/')
					nfa_add(t, nt, nxt, nloop, k + 1);
			}
			if (!cur[k])
				continue;
			bool ok = false;
			size_t to = k + 1;
			switch (t[k].type) {
			case T_LIT:
				ok = c == t[k].cp;
				break;
			case T_ANY:
				ok = c != '/';
				break;
			case T_CLASS:
				ok = class_match(&t[k], c);
				break;
			case T_STAR:
				ok = c != '/';
				to = k;
				break;
			case T_DSTAR_END:
				ok = true;
				to = k;
				break;
			case T_DSTAR:
				break; /* its loop state consumes */
			}
			if (ok) {
				nfa_add(t, nt, nxt, nloop, to);
				alive = true;
			}
		}
		if (!alive) {
			free(st);
			return false;
		}
		bool *x = cur;
		cur = nxt;
		nxt = x;
		x = cloop;
		cloop = nloop;
		nloop = x;
	}
	bool r = cur[nt];
	free(st);
	return r;
}

static bool suffix_match(const struct pattern *p, const char *s, size_t n)
{
	const char *suffix = p->text + 2;
	size_t sl = strlen(suffix);
	if (sl <= n && memcmp(s + n - sl, suffix, sl) == 0)
		return true;
	return suffix[0] == '/' && n == sl - 1 && memcmp(s, suffix + 1, n) == 0;
}

static bool pattern_match(const struct pattern *p, const char *s, size_t n)
{
	if (p->suffix_match)
		return suffix_match(p, s, n);
	return tokens_match(p->toks, p->ntoks, s, n, false);
}

/* The pattern matches path or one of its parent directories. */
static bool pattern_match_or_parent(const struct pattern *p, const char *path)
{
	size_t n = strlen(path);
	if (!p->suffix_match)
		return tokens_match(p->toks, p->ntoks, path, n, true);
	if (suffix_match(p, path, n))
		return true;
	for (size_t i = 0; i < n; i++)
		if (path[i] == '/' && suffix_match(p, path, i))
			return true;
	return false;
}

static bool is_root(const char *path)
{
	return !*path || strcmp(path, ".") == 0;
}

bool dockerignore_excluded(const struct dockerignore *di, const char *path)
{
	if (!di || is_root(path))
		return false;
	bool matched = false;
	for (size_t i = 0; i < di->n; i++) {
		const struct pattern *p = &di->p[i];
		/* Only a pattern that could change the answer is evaluated. */
		if (p->exclusion != matched)
			continue;
		if (pattern_match_or_parent(p, path))
			matched = !p->exclusion;
	}
	return matched;
}

/* bits[i]: 1 = pattern i matches path or a parent, 0 = it matches neither,
 * 2 = not evaluated (it could not have changed the answer). Unlike Docker's
 * MatchesUsingParentResults an unevaluated pattern is fully checked later,
 * so the answer always equals dockerignore_excluded(). */
bool dockerignore_excluded_child(const struct dockerignore *di, const char *path,
				 const unsigned char *parent_bits, unsigned char *bits)
{
	if (!di)
		return false;
	if (is_root(path)) {
		memset(bits, 0, di->n);
		return false;
	}
	bool matched = false;
	size_t n = strlen(path);
	for (size_t i = 0; i < di->n; i++) {
		const struct pattern *p = &di->p[i];
		unsigned char pb = parent_bits ? parent_bits[i] : 2;
		bool m;
		if (pb == 1) {
			m = true;
		} else if (p->exclusion != matched) {
			bits[i] = 2;
			continue;
		} else {
			m = pb == 0 ? pattern_match(p, path, n) : pattern_match_or_parent(p, path);
		}
		bits[i] = m;
		if (m)
			matched = !p->exclusion;
	}
	return matched;
}

int dockerignore_keep_build_files(struct dockerignore *di, const char *dockerfile,
				  struct scow_error **err)
{
	if (dockerignore_excluded(di, ".dockerignore") &&
	    pattern_add(di, "!.dockerignore", err) < 0)
		return -1;
	if (dockerfile) {
		_cleanup_free_ char *df = fs_path_clean(dockerfile);
		if (dockerignore_excluded(di, df)) {
			_cleanup_free_ char *pat = xasprintf("!%s", df);
			if (pattern_add(di, pat, err) < 0)
				return -1;
		}
	}
	return 0;
}

int dockerignore_load(const char *buf, size_t len, const char *dockerfile,
		      struct dockerignore **ret, struct scow_error **err)
{
	_cleanup_strv_ char **pats = dockerignore_read(buf, len);
	struct dockerignore *di;
	if (dockerignore_new(pats, &di, err) < 0)
		return -1;
	if (dockerignore_keep_build_files(di, dockerfile, err) < 0) {
		dockerignore_free(di);
		return -1;
	}
	*ret = di;
	return 0;
}

/* Whole-component match of one pattern component (no '/' inside). */
static int component_match(const char *pc, size_t pn, const char *s, size_t n)
{
	_cleanup_free_ char *c = xstrndup(pc, pn);
	struct tok *t;
	size_t nt;
	if (compile(c, &t, &nt) < 0)
		return -1;
	bool r = tokens_match(t, nt, s, n, false);
	toks_free(t, nt);
	return r;
}

bool dockerignore_may_reinclude_below(const struct dockerignore *di, const char *dir)
{
	if (!di || !di->exclusions)
		return false;
	size_t dn = strlen(dir);
	for (size_t i = 0; i < di->n; i++) {
		const struct pattern *p = &di->p[i];
		if (!p->exclusion)
			continue;
		if (strstr(p->text, "**") || strchr(p->text, '['))
			return true;
		/* Walk dir's components against the pattern's. */
		const char *pp = p->text, *dp = dir;
		bool relevant = true;
		for (;;) {
			const char *pe = strchr(pp, '/');
			const char *de = memchr(dp, '/', (size_t)(dir + dn - dp));
			size_t pl = pe ? (size_t)(pe - pp) : strlen(pp);
			size_t dl = de ? (size_t)(de - dp) : (size_t)(dir + dn - dp);
			int m = component_match(pp, pl, dp, dl);
			if (m < 0)
				return true;
			if (!m) {
				relevant = false;
				break;
			}
			if (!de) {
				/* dir used up: the pattern reaches below only if it goes on */
				relevant = pe != NULL;
				break;
			}
			if (!pe) {
				/* the pattern stops at an ancestor of dir */
				relevant = false;
				break;
			}
			pp = pe + 1;
			dp = de + 1;
		}
		if (relevant)
			return true;
	}
	return false;
}
