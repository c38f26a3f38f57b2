/* Lexer and parser for Go's text/template syntax.
 *
 * The lexer runs on demand, one token per call, so that errors come out in
 * the order Go reports them: a parse error before a later lexical one. The
 * parser is recursive descent over those tokens with a small push-back stack,
 * following the grammar of Go's text/template/parse. */
#include "util/template_internal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

enum tok_type {
	TOK_ERROR,
	TOK_EOF,
	TOK_TEXT,
	TOK_LEFT_DELIM,
	TOK_RIGHT_DELIM,
	TOK_SPACE,
	TOK_ASSIGN,
	TOK_DECLARE,
	TOK_PIPE,
	TOK_LEFT_PAREN,
	TOK_RIGHT_PAREN,
	TOK_CHAR, /* other ASCII punctuation, such as ',' */
	TOK_STRING,
	TOK_RAW_STRING,
	TOK_CHAR_CONST,
	TOK_NUMBER,
	TOK_BOOL,
	TOK_DOT,
	TOK_FIELD,
	TOK_VARIABLE,
	TOK_IDENT,
	TOK_KEYWORD, /* keywords follow */
	TOK_BLOCK,
	TOK_BREAK,
	TOK_CONTINUE,
	TOK_DEFINE,
	TOK_ELSE,
	TOK_END,
	TOK_IF,
	TOK_NIL,
	TOK_RANGE,
	TOK_TEMPLATE,
	TOK_WITH,
};

static const struct {
	const char *word;
	enum tok_type type;
} tmpl_keywords[] = {
	{"block", TOK_BLOCK}, {"break", TOK_BREAK}, {"continue", TOK_CONTINUE},
	{"define", TOK_DEFINE}, {"else", TOK_ELSE}, {"end", TOK_END},
	{"if", TOK_IF}, {"nil", TOK_NIL}, {"range", TOK_RANGE},
	{"template", TOK_TEMPLATE}, {"with", TOK_WITH},
};

struct tmpl_token {
	enum tok_type type;
	size_t pos, len;
};

struct tmpl_lexer {
	const char *src;
	size_t len, pos;
	size_t start; /* of the token being lexed, where errors are reported */
	bool in_action;
	bool trim_next; /* the last action ended with " -}}" */
	bool done;	/* EOF or an error was returned */
	int paren_depth;
	char *errmsg; /* for the TOK_ERROR returned */
};

static bool lex_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool lex_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Go's isAlphaNumeric: '_', Unicode letters and decimal digits. Outside
 * ASCII, letters are approximated as printable runes outside the blocks of
 * marks, punctuation and symbols. */
static bool rune_is_alnum(unsigned r)
{
	static const struct {
		unsigned lo, hi;
	} symbols[] = {
		{0x80, 0xA9},	  {0xAB, 0xB4},	    {0xB6, 0xB9},     {0xBB, 0xBF},
		{0xD7, 0xD7},	  {0xF7, 0xF7},	    {0x300, 0x36F},   {0x2000, 0x2BFF},
		{0x2E00, 0x2E7F}, {0x3000, 0x3004}, {0x3008, 0x3020}, {0xFE30, 0xFE4F},
		{0xFF00, 0xFF0F}, {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
		{0x1F000, 0x1FAFF},
	};
	if (r < 0x80)
		return r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') ||
		       (r >= 'A' && r <= 'Z');
	for (size_t i = 0; i < ARRAY_SIZE(symbols); i++)
		if (r >= symbols[i].lo && r <= symbols[i].hi)
			return false;
	return tmpl_rune_is_print(r);
}

/* Length of the letter, digit or '_' at pos; 0 if none is there. */
static size_t lex_alnum_at(const struct tmpl_lexer *l, size_t pos)
{
	unsigned r;
	if (pos >= l->len)
		return 0;
	size_t n = tmpl_utf8_decode(l->src + pos, l->len - pos, &r);
	if (n == 1 && r == 0xFFFD)
		return 0;
	return rune_is_alnum(r) ? n : 0;
}

static void lex_skip_alnum(struct tmpl_lexer *l)
{
	size_t n;
	while ((n = lex_alnum_at(l, l->pos)))
		l->pos += n;
}

static char lex_peekc(const struct tmpl_lexer *l, size_t off)
{
	return l->pos + off < l->len ? l->src[l->pos + off] : '\0';
}

static void lex_emit(struct tmpl_token *t, enum tok_type type, size_t pos, size_t len)
{
	t->type = type;
	t->pos = pos;
	t->len = len;
}

static void __attribute__((format(printf, 3, 4)))
lex_fail(struct tmpl_lexer *l, struct tmpl_token *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(l->errmsg);
	l->errmsg = xvasprintf(fmt, ap);
	va_end(ap);
	l->done = true;
	lex_emit(t, TOK_ERROR, l->start, 0);
}

/* Go's %#U of the rune at s: U+0041 'A'. */
static char *lex_rune_desc(const char *s, size_t n)
{
	unsigned r = 0;
	size_t len = n ? tmpl_utf8_decode(s, n, &r) : 0;
	if (!len || !tmpl_rune_is_print(r))
		return xasprintf("U+%04X", r);
	return xasprintf("U+%04X '%.*s'", r, (int)len, s);
}

/* Length of a right delimiter at the current position, 0 if none. */
static size_t lex_right_delim(const struct tmpl_lexer *l, bool *ret_trim)
{
	const char *s = l->src + l->pos;
	size_t left = l->len - l->pos;
	if (left >= 4 && lex_is_space(s[0]) && s[1] == '-' && s[2] == '}' && s[3] == '}') {
		*ret_trim = true;
		return 4;
	}
	*ret_trim = false;
	return left >= 2 && s[0] == '}' && s[1] == '}' ? 2 : 0;
}

static void lex_text(struct tmpl_lexer *l, struct tmpl_token *t)
{
	for (;;) {
		l->start = l->pos;
		if (l->trim_next) {
			while (l->pos < l->len && lex_is_space(l->src[l->pos]))
				l->pos++;
			l->trim_next = false;
		}
		const char *open = strstr(l->src + l->pos, "{{");
		size_t idx = open ? (size_t)(open - l->src) : l->len;
		size_t end = idx;
		bool ltrim = open && open[2] == '-' && lex_is_space(open[3]);
		while (ltrim && end > l->pos && lex_is_space(l->src[end - 1]))
			end--;
		if (end > l->pos) {
			lex_emit(t, TOK_TEXT, l->pos, end - l->pos);
			l->pos = idx;
			return;
		}
		if (!open) {
			l->pos = l->len;
			l->done = true;
			lex_emit(t, TOK_EOF, l->len, 0);
			return;
		}
		size_t p = idx + (ltrim ? 4 : 2);
		if (l->src[p] != '/' || l->src[p + 1] != '*') {
			lex_emit(t, TOK_LEFT_DELIM, idx, p - idx);
			l->pos = p;
			l->in_action = true;
			l->paren_depth = 0;
			return;
		}
		l->start = idx;
		l->pos = p;
		const char *close = strstr(l->src + p + 2, "*/");
		if (!close)
			return lex_fail(l, t, "unclosed comment");
		l->pos = (size_t)(close - l->src) + 2;
		bool trim;
		size_t n = lex_right_delim(l, &trim);
		if (!n)
			return lex_fail(l, t, "comment ends before closing delimiter");
		l->pos += n;
		l->trim_next = trim;
	}
}

static bool lex_at_terminator(const struct tmpl_lexer *l)
{
	char c = lex_peekc(l, 0);
	if (c == '\0' || lex_is_space(c) || strchr(".,|:()", c))
		return true;
	return c == '}' && lex_peekc(l, 1) == '}';
}

static void lex_bad_char(struct tmpl_lexer *l, struct tmpl_token *t)
{
	_cleanup_free_ char *desc = lex_rune_desc(l->src + l->pos, l->len - l->pos);
	lex_fail(l, t, "bad character %s", desc);
}

/* ".Name", "$name", or a lone "." or "$". */
static void lex_field_or_var(struct tmpl_lexer *l, struct tmpl_token *t, enum tok_type type)
{
	size_t start = l->pos++;
	if (lex_at_terminator(l)) {
		lex_emit(t, type == TOK_FIELD ? TOK_DOT : TOK_VARIABLE, start, 1);
		return;
	}
	lex_skip_alnum(l);
	if (!lex_at_terminator(l))
		return lex_bad_char(l, t);
	lex_emit(t, type, start, l->pos - start);
}

static void lex_identifier(struct tmpl_lexer *l, struct tmpl_token *t)
{
	size_t start = l->pos;
	lex_skip_alnum(l);
	if (!lex_at_terminator(l))
		return lex_bad_char(l, t);
	size_t n = l->pos - start;
	const char *w = l->src + start;
	lex_emit(t, TOK_IDENT, start, n);
	for (size_t i = 0; i < ARRAY_SIZE(tmpl_keywords); i++)
		if (strlen(tmpl_keywords[i].word) == n && !memcmp(w, tmpl_keywords[i].word, n))
			t->type = tmpl_keywords[i].type;
	if ((n == 4 && !memcmp(w, "true", 4)) || (n == 5 && !memcmp(w, "false", 5)))
		t->type = TOK_BOOL;
}

static bool lex_accept(struct tmpl_lexer *l, const char *valid)
{
	char c = lex_peekc(l, 0);
	if (c && strchr(valid, c)) {
		l->pos++;
		return true;
	}
	return false;
}

static void lex_accept_run(struct tmpl_lexer *l, const char *valid)
{
	while (lex_accept(l, valid))
		;
}

/* Go's number syntax: sign, 0x/0o/0b prefixes, underscores, fraction,
 * exponent (p for hex), imaginary suffix. Validity is checked on parsing. */
static bool lex_scan_number(struct tmpl_lexer *l)
{
	static const char dec[] = "0123456789_", hex[] = "0123456789abcdefABCDEF_";
	const char *digits = dec;
	lex_accept(l, "+-");
	if (lex_accept(l, "0")) {
		if (lex_accept(l, "xX"))
			digits = hex;
		else if (lex_accept(l, "oO"))
			digits = "01234567_";
		else if (lex_accept(l, "bB"))
			digits = "01_";
	}
	lex_accept_run(l, digits);
	if (lex_accept(l, "."))
		lex_accept_run(l, digits);
	if ((digits == dec && lex_accept(l, "eE")) || (digits == hex && lex_accept(l, "pP"))) {
		lex_accept(l, "+-");
		lex_accept_run(l, dec);
	}
	lex_accept(l, "i");
	size_t n = lex_alnum_at(l, l->pos);
	l->pos += n;
	return n == 0;
}

/* A number, or a complex one like 1+2i, which must end in 'i'. */
static void lex_number(struct tmpl_lexer *l, struct tmpl_token *t)
{
	size_t start = l->pos;
	bool ok = lex_scan_number(l);
	char next = lex_peekc(l, 0);
	if (ok && (next == '+' || next == '-'))
		ok = lex_scan_number(l) && l->src[l->pos - 1] == 'i';
	if (!ok) {
		_cleanup_sb_ struct strbuf q = STRBUF_INIT;
		tmpl_quote(&q, l->src + start, l->pos - start, false);
		return lex_fail(l, t, "bad number syntax: %s", q.buf);
	}
	lex_emit(t, TOK_NUMBER, start, l->pos - start);
}

/* "...", or '...' when quote is '\''. */
static void lex_quote(struct tmpl_lexer *l, struct tmpl_token *t, char quote, enum tok_type type)
{
	size_t start = l->pos++;
	for (;;) {
		char c = lex_peekc(l, 0);
		if (c == '\\') {
			l->pos++;
			c = lex_peekc(l, 0);
			if (c != '\0' && c != '\n') {
				l->pos++;
				continue;
			}
		}
		if (c == '\0' || c == '\n')
			return lex_fail(l, t, "unterminated %s",
					quote == '"' ? "quoted string" : "character constant");
		l->pos++;
		if (c == quote)
			break;
	}
	lex_emit(t, type, start, l->pos - start);
}

static void lex_raw(struct tmpl_lexer *l, struct tmpl_token *t)
{
	size_t start = l->pos;
	const char *close = strchr(l->src + start + 1, '`');
	if (!close) {
		l->pos = l->len;
		return lex_fail(l, t, "unterminated raw quoted string");
	}
	l->pos = (size_t)(close - l->src) + 1;
	lex_emit(t, TOK_RAW_STRING, start, l->pos - start);
}

/* Spaces inside an action. The space of a " -}}" belongs to the delimiter. */
static bool lex_space(struct tmpl_lexer *l, struct tmpl_token *t)
{
	size_t start = l->pos;
	while (l->pos < l->len && lex_is_space(l->src[l->pos]))
		l->pos++;
	if (lex_peekc(l, 0) == '-' && lex_peekc(l, 1) == '}' && lex_peekc(l, 2) == '}') {
		l->pos--;
		if (l->pos == start)
			return false;
	}
	lex_emit(t, TOK_SPACE, start, l->pos - start);
	return true;
}

static void lex_punct(struct tmpl_lexer *l, struct tmpl_token *t)
{
	char c = l->src[l->pos];
	size_t start = l->pos++;
	switch (c) {
	case '=':
		return lex_emit(t, TOK_ASSIGN, start, 1);
	case ':':
		if (lex_peekc(l, 0) != '=')
			return lex_fail(l, t, "expected :=");
		l->pos++;
		return lex_emit(t, TOK_DECLARE, start, 2);
	case '|':
		return lex_emit(t, TOK_PIPE, start, 1);
	case '(':
		l->paren_depth++;
		return lex_emit(t, TOK_LEFT_PAREN, start, 1);
	case ')':
		l->paren_depth--;
		return lex_emit(t, TOK_RIGHT_PAREN, start, 1);
	}
	if (c > ' ' && c < 0x7f)
		return lex_emit(t, TOK_CHAR, start, 1);
	l->pos = start;
	_cleanup_free_ char *desc = lex_rune_desc(l->src + l->pos, l->len - l->pos);
	lex_fail(l, t, "unrecognized character in action: %s", desc);
}

static void lex_action(struct tmpl_lexer *l, struct tmpl_token *t)
{
	for (;;) {
		bool trim;
		size_t n = lex_right_delim(l, &trim);
		if (n) {
			if (l->paren_depth > 0)
				return lex_fail(l, t, "unclosed left paren");
			lex_emit(t, TOK_RIGHT_DELIM, l->pos, n);
			l->pos += n;
			l->in_action = false;
			l->trim_next = trim;
			return;
		}
		l->start = l->pos;
		if (l->pos >= l->len)
			return lex_fail(l, t, "unclosed action");
		if (!lex_is_space(l->src[l->pos]))
			break;
		if (lex_space(l, t))
			return;
	}
	char c = l->src[l->pos], next = lex_peekc(l, 1);
	if (c == '"' || c == '\'')
		return lex_quote(l, t, c, c == '"' ? TOK_STRING : TOK_CHAR_CONST);
	if (c == '`')
		return lex_raw(l, t);
	if (c == '$')
		return lex_field_or_var(l, t, TOK_VARIABLE);
	if (c == '.' && next && !lex_is_digit(next))
		return lex_field_or_var(l, t, TOK_FIELD);
	if (c == '.' || c == '+' || c == '-' || lex_is_digit(c))
		return lex_number(l, t);
	if (lex_alnum_at(l, l->pos))
		return lex_identifier(l, t);
	lex_punct(l, t);
}

static void tmpl_lex_next(struct tmpl_lexer *l, struct tmpl_token *t)
{
	if (l->done)
		return lex_emit(t, TOK_EOF, l->len, 0);
	if (l->in_action)
		return lex_action(l, t);
	lex_text(l, t);
}

/* ---- tree ---- */

static void tmpl_pipe_free(struct tmpl_pipe *p);
static void tmpl_list_release(struct tmpl_list *l);

static void tmpl_arg_release(struct tmpl_arg *a)
{
	strv_free(a->fields);
	free(a->var);
	json_decref(a->value);
	tmpl_pipe_free(a->pipe);
}

static void tmpl_pipe_free(struct tmpl_pipe *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ncmds; i++) {
		for (size_t j = 0; j < p->cmds[i].nargs; j++)
			tmpl_arg_release(&p->cmds[i].args[j]);
		free(p->cmds[i].args);
	}
	free(p->cmds);
	free(p->decl[0]);
	free(p->decl[1]);
	free(p);
}

static void tmpl_pipe_freep(struct tmpl_pipe **p)
{
	tmpl_pipe_free(*p);
}

static void tmpl_node_release(struct tmpl_node *n)
{
	tmpl_pipe_free(n->pipe);
	tmpl_list_release(&n->list);
	tmpl_list_release(&n->else_list);
}

static void tmpl_list_release(struct tmpl_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		tmpl_node_release(&l->nodes[i]);
	free(l->nodes);
}

static void tmpl_list_add(struct tmpl_list *l, const struct tmpl_node *n)
{
	TMPL_GROW(l->nodes, l->cap, l->n + 1);
	l->nodes[l->n++] = *n;
}

void tmpl_free(struct tmpl *t)
{
	if (!t)
		return;
	tmpl_list_release(&t->root);
	free(t->src);
	free(t);
}

void tmpl_location(const char *src, size_t pos, unsigned *ret_line, unsigned *ret_col)
{
	unsigned line = 1;
	size_t bol = 0;
	for (size_t i = 0; i < pos && src[i]; i++)
		if (src[i] == '\n') {
			line++;
			bol = i + 1;
		}
	*ret_line = line;
	*ret_col = (unsigned)(pos - bol);
}

void tmpl_arg_string(struct strbuf *sb, const char *src, const struct tmpl_arg *a)
{
	if (a->type != TMPL_ARG_PIPE) {
		sb_appendn(sb, src + a->start, a->end - a->start);
		return;
	}
	sb_appendc(sb, '(');
	tmpl_pipe_string(sb, src, a->pipe);
	sb_appendc(sb, ')');
	for (char **f = a->fields; f && *f; f++)
		sb_printf(sb, ".%s", *f);
}

void tmpl_cmd_string(struct strbuf *sb, const char *src, const struct tmpl_cmd *c)
{
	for (size_t i = 0; i < c->nargs; i++) {
		if (i)
			sb_appendc(sb, ' ');
		tmpl_arg_string(sb, src, &c->args[i]);
	}
}

void tmpl_pipe_string(struct strbuf *sb, const char *src, const struct tmpl_pipe *p)
{
	for (size_t i = 0; i < p->ndecl; i++)
		sb_printf(sb, "%s%s", i ? ", " : "", p->decl[i]);
	if (p->ndecl)
		sb_append(sb, " := ");
	for (size_t i = 0; i < p->ncmds; i++) {
		if (i)
			sb_append(sb, " | ");
		tmpl_cmd_string(sb, src, &p->cmds[i]);
	}
}

/* ---- parser ---- */

struct tmpl_parser {
	struct tmpl_lexer lex;
	const char *src;
	struct tmpl_token back[4]; /* pushed-back tokens, next one last */
	size_t nback;
	size_t line_pos; /* position of the newest token, for error lines */
	char **vars;	 /* variables in scope, innermost last */
	size_t nvars, vars_cap;
	int range_depth;
	int depth;
	unsigned action_line; /* of the action being parsed, 0 between actions */
	struct scow_error **err;
};

static int __attribute__((format(printf, 2, 3)))
p_fail(struct tmpl_parser *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	unsigned line, col;
	tmpl_location(p->src, p->line_pos, &line, &col);
	return error_set(p->err, EINVAL, "template: :%u: %s", line, msg);
}

static struct tmpl_token p_next(struct tmpl_parser *p)
{
	struct tmpl_token t;
	if (p->nback)
		return p->back[--p->nback];
	tmpl_lex_next(&p->lex, &t);
	p->line_pos = t.pos;
	return t;
}

static void p_backup(struct tmpl_parser *p, struct tmpl_token t)
{
	if (p->nback == ARRAY_SIZE(p->back))
		abort();
	p->back[p->nback++] = t;
}

static struct tmpl_token p_peek(struct tmpl_parser *p)
{
	struct tmpl_token t = p_next(p);
	p_backup(p, t);
	return t;
}

static struct tmpl_token p_next_nonspace(struct tmpl_parser *p)
{
	struct tmpl_token t;
	do
		t = p_next(p);
	while (t.type == TOK_SPACE);
	return t;
}

static struct tmpl_token p_peek_nonspace(struct tmpl_parser *p)
{
	struct tmpl_token t = p_next_nonspace(p);
	p_backup(p, t);
	return t;
}

/* Go's item.String(): EOF, the error, <keyword>, or the quoted text. */
static void p_describe(struct tmpl_parser *p, const struct tmpl_token *t, struct strbuf *sb)
{
	const char *s = p->src + t->pos;
	if (t->type == TOK_EOF) {
		sb_append(sb, "EOF");
	} else if (t->type == TOK_ERROR) {
		sb_append(sb, p->lex.errmsg);
	} else if (t->type > TOK_KEYWORD || t->type == TOK_DOT) {
		sb_printf(sb, "<%.*s>", (int)t->len, s);
	} else {
		size_t n = 0, runes = 0;
		unsigned r;
		while (n < t->len && runes < 10) {
			n += tmpl_utf8_decode(s + n, t->len - n, &r);
			runes++;
		}
		tmpl_quote(sb, s, n, false);
		if (n < t->len)
			sb_append(sb, "...");
	}
}

static int p_unexpected(struct tmpl_parser *p, const struct tmpl_token *t, const char *context)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	p_describe(p, t, &sb);
	if (t->type != TOK_ERROR)
		return p_fail(p, "unexpected %s in %s", sb.buf, context);
	unsigned line, col;
	tmpl_location(p->src, t->pos, &line, &col);
	if (p->action_line && p->action_line != line)
		sb_printf(&sb, "%s started at :%u",
			  str_ends_with(sb.buf, " action") ? "" : " in action", p->action_line);
	return p_fail(p, "%s", sb.buf);
}

static int p_expect(struct tmpl_parser *p, enum tok_type type, const char *context)
{
	struct tmpl_token t = p_next_nonspace(p);
	if (t.type != type)
		return p_unexpected(p, &t, context);
	return 0;
}

static void p_push_var(struct tmpl_parser *p, const char *name)
{
	TMPL_GROW(p->vars, p->vars_cap, p->nvars + 1);
	p->vars[p->nvars++] = xstrdup(name);
}

static void p_pop_vars(struct tmpl_parser *p, size_t mark)
{
	while (p->nvars > mark)
		free(p->vars[--p->nvars]);
}

static int p_enter(struct tmpl_parser *p)
{
	if (++p->depth > TMPL_MAX_DEPTH)
		return p_fail(p, "template nests too deeply");
	return 0;
}

static char *p_token_text(struct tmpl_parser *p, const struct tmpl_token *t)
{
	return xstrndup(p->src + t->pos, t->len);
}

/* One escape after a backslash at s[*i]; appends the byte or rune. */
static int unquote_escape(const char *s, size_t n, size_t *i, char quote, struct strbuf *out,
			  unsigned *ret_rune)
{
	static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\";
	char c = *i < n ? s[(*i)++] : '\0';
	const char *m = c ? strchr(simple, c) : NULL;
	if (m && (m - simple) % 2 == 0) {
		*ret_rune = (unsigned char)m[1];
		sb_appendc(out, m[1]);
		return 0;
	}
	if (c == '\'' || c == '"') {
		if (c != quote)
			return -1;
		*ret_rune = (unsigned char)c;
		sb_appendc(out, c);
		return 0;
	}
	size_t ndig = c == 'x' ? 2 : c == 'u' ? 4 : c == 'U' ? 8 : (c >= '0' && c <= '7') ? 3 : 0;
	unsigned base = c == 'x' || c == 'u' || c == 'U' ? 16 : 8;
	if (!ndig)
		return -1;
	if (base == 8)
		(*i)--;
	if (*i + ndig > n)
		return -1;
	unsigned long v = 0;
	for (size_t k = 0; k < ndig; k++) {
		char d = s[(*i)++];
		unsigned dv = d >= '0' && d <= '9'   ? (unsigned)(d - '0')
			      : d >= 'a' && d <= 'f' ? (unsigned)(d - 'a' + 10)
			      : d >= 'A' && d <= 'F' ? (unsigned)(d - 'A' + 10)
						     : 99;
		if (dv >= base)
			return -1;
		v = v * base + dv;
	}
	*ret_rune = (unsigned)v;
	if (c == 'x' || base == 8) {
		if (v > 255)
			return -1;
		sb_appendc(out, (char)v);
		return 0;
	}
	if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return -1;
	tmpl_utf8_append(out, (unsigned)v);
	return 0;
}

/* Go's strconv.Unquote of a "..." or `...` literal. */
static int tmpl_unquote(const char *s, size_t n, struct strbuf *out)
{
	if (s[0] == '`') {
		for (size_t i = 1; i + 1 < n; i++)
			if (s[i] != '\r')
				sb_appendc(out, s[i]);
		return 0;
	}
	for (size_t i = 1; i + 1 < n;) {
		unsigned r;
		if (s[i] != '\\') {
			sb_appendc(out, s[i++]);
			continue;
		}
		i++;
		if (unquote_escape(s, n - 1, &i, '"', out, &r) < 0)
			return -1;
	}
	if (!out->buf)
		sb_append(out, "");
	return 0;
}

static int parse_char_const(struct tmpl_parser *p, const struct tmpl_token *t, json_t **ret)
{
	const char *s = p->src + t->pos;
	size_t n = t->len, i = 1;
	unsigned r;
	_cleanup_sb_ struct strbuf tmp = STRBUF_INIT;
	if (n >= 3 && s[1] == '\\') {
		i = 2;
		if (unquote_escape(s, n - 1, &i, '\'', &tmp, &r) < 0)
			return p_fail(p, "invalid syntax");
	} else if (n >= 3) {
		i += tmpl_utf8_decode(s + 1, n - 2, &r);
	}
	if (n < 3)
		return p_fail(p, "invalid syntax");
	if (i != n - 1)
		return p_fail(p, "malformed character constant: %.*s", (int)n, s);
	*ret = json_integer(r);
	return 0;
}

/* The whole of s as a float, Go's syntax: hex mantissas need 'p'. */
static bool parse_float(const char *s, double *ret)
{
	const char *d = s + (s[0] == '+' || s[0] == '-');
	bool hex = d[0] == '0' && (d[1] == 'x' || d[1] == 'X');
	if ((d[0] == '0' && strchr("oObB", d[1]) && d[1]) || (hex && !strpbrk(d, "pP")))
		return false;
	char *end;
	*ret = strtod(s, &end);
	return end != s && !*end && isfinite(*ret);
}

/* The whole of s as a Go integer literal (base prefixes, legacy octal). */
static bool parse_int(const char *s, long long *ret)
{
	bool neg = s[0] == '-';
	const char *d = s + (s[0] == '+' || s[0] == '-');
	int base = 10;
	if (d[0] == '0' && d[1] && strchr("xXoObB", d[1])) {
		base = d[1] == 'x' || d[1] == 'X' ? 16 : d[1] == 'o' || d[1] == 'O' ? 8 : 2;
		d += 2;
	} else if (d[0] == '0' && d[1]) {
		base = 8;
	}
	if (!((*d >= '0' && *d <= '9') || (base == 16 && strchr("abcdefABCDEF", *d) && *d)))
		return false;
	char *end;
	errno = 0;
	unsigned long long u = strtoull(d, &end, base);
	if (*end || errno == ERANGE || u > (neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX))
		return false;
	*ret = neg ? (u ? -(long long)(u - 1) - 1 : 0) : (long long)u;
	return true;
}

/* Go's rule for '_' in numbers: only between digits or after a base prefix. */
static bool underscores_ok(const char *s, size_t n)
{
	size_t i = n && (s[0] == '+' || s[0] == '-');
	char saw = '^'; /* '0' digit or prefix, '_', '!' anything else */
	bool hex = false;
	if (n - i >= 2 && s[i] == '0' && strchr("bBoOxX", s[i + 1])) {
		hex = s[i + 1] == 'x' || s[i + 1] == 'X';
		saw = '0';
		i += 2;
	}
	for (; i < n; i++) {
		char c = s[i];
		if ((c >= '0' && c <= '9') || (hex && strchr("abcdefABCDEF", c))) {
			saw = '0';
		} else if (c == '_') {
			if (saw != '0')
				return false;
			saw = '_';
		} else if (saw == '_') {
			return false;
		} else {
			saw = '!';
		}
	}
	return saw != '_';
}

/* Go's number literals: integers (decimal, 0x, 0o, 0b, legacy octal) become
 * int, the rest float64; an integer that does not fit is an error. Complex
 * numbers are not supported. */
static int parse_number(struct tmpl_parser *p, const struct tmpl_token *t, json_t **ret)
{
	if (t->type == TOK_CHAR_CONST)
		return parse_char_const(p, t, ret);
	const char *text = p->src + t->pos;
	_cleanup_sb_ struct strbuf q = STRBUF_INIT;
	tmpl_quote(&q, text, t->len, false);
	_cleanup_free_ char *buf = xmalloc(t->len + 1);
	size_t n = 0;
	for (size_t i = 0; i < t->len; i++)
		if (text[i] != '_')
			buf[n++] = text[i];
	buf[n] = '\0';
	long long i;
	double d;
	if (!underscores_ok(text, t->len))
		return p_fail(p, "illegal number syntax: %s", q.buf);
	if (n && buf[n - 1] == 'i') {
		buf[n - 1] = '\0';
		if (strpbrk(buf + 1, "+-") || parse_float(buf, &d))
			return p_fail(p, "complex numbers are not supported: %s", q.buf);
		return p_fail(p, "illegal number syntax: %s", q.buf);
	}
	if (parse_int(buf, &i)) {
		*ret = json_integer(i);
		return 0;
	}
	if (!parse_float(buf, &d))
		return p_fail(p, "illegal number syntax: %s", q.buf);
	if (!strpbrk(buf, ".eEpP"))
		return p_fail(p, "integer overflow: %s", q.buf);
	*ret = json_real(d);
	return 0;
}

static int parse_pipeline(struct tmpl_parser *p, const char *context, enum tok_type end,
			  struct tmpl_pipe **ret, size_t *ret_end);

static int p_use_var(struct tmpl_parser *p, const struct tmpl_token *t, struct tmpl_arg *a)
{
	a->var = p_token_text(p, t);
	for (size_t i = p->nvars; i > 0; i--)
		if (!strcmp(p->vars[i - 1], a->var))
			return 0;
	_cleanup_sb_ struct strbuf q = STRBUF_INIT;
	tmpl_quote(&q, a->var, strlen(a->var), false);
	return p_fail(p, "undefined variable %s", q.buf);
}

static int parse_literal(struct tmpl_parser *p, const struct tmpl_token *t, struct tmpl_arg *a)
{
	a->type = TMPL_ARG_CONST;
	if (t->type == TOK_BOOL) {
		a->value = json_boolean(p->src[t->pos] == 't');
		return 0;
	}
	if (t->type == TOK_NUMBER || t->type == TOK_CHAR_CONST)
		return parse_number(p, t, &a->value);
	_cleanup_sb_ struct strbuf s = STRBUF_INIT;
	if (tmpl_unquote(p->src + t->pos, t->len, &s) < 0)
		return p_fail(p, "invalid syntax");
	a->value = tmpl_strn(s.buf, s.len);
	return 0;
}

/* A term: literal, field, variable, function name or (pipeline). Returns 1
 * when the next token starts none, leaving it unread. */
static int parse_term(struct tmpl_parser *p, struct tmpl_arg *a)
{
	struct tmpl_token t = p_next_nonspace(p);
	a->pos = a->start = t.pos;
	a->end = t.pos + t.len;
	switch (t.type) {
	case TOK_IDENT: {
		_cleanup_free_ char *name = p_token_text(p, &t);
		a->type = TMPL_ARG_FUNC;
		a->func = tmpl_func_lookup(name);
		if (!a->func)
			return p_fail(p, "function \"%s\" not defined", name);
		return 0;
	}
	case TOK_DOT:
		a->type = TMPL_ARG_DOT;
		return 0;
	case TOK_NIL:
		a->type = TMPL_ARG_NIL;
		return 0;
	case TOK_VARIABLE:
		a->type = TMPL_ARG_VAR;
		return p_use_var(p, &t, a);
	case TOK_FIELD:
		a->type = TMPL_ARG_FIELD;
		strv_push(&a->fields, xstrndup(p->src + t.pos + 1, t.len - 1));
		return 0;
	case TOK_BOOL:
	case TOK_NUMBER:
	case TOK_CHAR_CONST:
	case TOK_STRING:
	case TOK_RAW_STRING:
		return parse_literal(p, &t, a);
	case TOK_LEFT_PAREN:
		a->type = TMPL_ARG_PIPE;
		return parse_pipeline(p, "parenthesized pipeline", TOK_RIGHT_PAREN, &a->pipe,
				      &a->end);
	default:
		p_backup(p, t);
		return 1;
	}
}

/* A term followed by .Field.Chain. Returns 1 when there is no operand. */
static int parse_operand(struct tmpl_parser *p, struct tmpl_arg *a)
{
	int r = parse_term(p, a);
	if (r != 0)
		return r;
	struct tmpl_token t = p_peek(p);
	if (t.type != TOK_FIELD)
		return 0;
	if (a->type == TMPL_ARG_CONST || a->type == TMPL_ARG_NIL || a->type == TMPL_ARG_DOT) {
		_cleanup_sb_ struct strbuf s = STRBUF_INIT, q = STRBUF_INIT;
		tmpl_arg_string(&s, p->src, a);
		tmpl_quote(&q, s.buf, s.len, false);
		return p_fail(p, "unexpected . after term %s", q.buf);
	}
	a->pos = t.pos;
	while ((t = p_next(p)).type == TOK_FIELD) {
		strv_push(&a->fields, xstrndup(p->src + t.pos + 1, t.len - 1));
		a->end = t.pos + t.len;
	}
	p_backup(p, t);
	return 0;
}

static int parse_command(struct tmpl_parser *p, struct tmpl_cmd *cmd)
{
	cmd->pos = p_peek_nonspace(p).pos;
	for (;;) {
		p_peek_nonspace(p);
		TMPL_GROW(cmd->args, cmd->cap, cmd->nargs + 1);
		struct tmpl_arg *a = &cmd->args[cmd->nargs];
		memset(a, 0, sizeof(*a));
		int r = parse_operand(p, a);
		if (r < 0 || r == 0)
			cmd->nargs++; /* on error too, so that it is freed */
		if (r < 0)
			return -1;
		if (r == 1)
			tmpl_arg_release(a);
		struct tmpl_token t = p_next(p);
		if (t.type == TOK_SPACE)
			continue;
		if (t.type == TOK_RIGHT_DELIM || t.type == TOK_RIGHT_PAREN)
			p_backup(p, t);
		else if (t.type != TOK_PIPE)
			return p_unexpected(p, &t, "operand");
		break;
	}
	if (!cmd->nargs)
		return p_fail(p, "empty command");
	return 0;
}

static int parse_check_pipeline(struct tmpl_parser *p, struct tmpl_pipe *pipe, const char *context)
{
	if (!pipe->ncmds)
		return p_fail(p, "missing value for %s", context);
	for (size_t i = 1; i < pipe->ncmds; i++) {
		enum tmpl_arg_type type = pipe->cmds[i].args[0].type;
		if (type == TMPL_ARG_CONST || type == TMPL_ARG_DOT || type == TMPL_ARG_NIL)
			return p_fail(p, "non executable command in pipeline stage %zu", i + 1);
	}
	return 0;
}

/* Declarations: "$x :=", "$x =", and "$i, $e :=" in range. Returns 1 to
 * look for a second variable. */
static int parse_decl(struct tmpl_parser *p, struct tmpl_pipe *pipe, const char *context)
{
	struct tmpl_token v = p_peek_nonspace(p);
	if (v.type != TOK_VARIABLE)
		return 0;
	p_next(p);
	struct tmpl_token after = p_peek(p);
	struct tmpl_token next = p_peek_nonspace(p);
	if (next.type == TOK_ASSIGN || next.type == TOK_DECLARE ||
	    (next.type == TOK_CHAR && p->src[next.pos] == ',')) {
		p_next_nonspace(p);
		pipe->decl[pipe->ndecl++] = p_token_text(p, &v);
		if (next.type == TOK_ASSIGN) {
			struct tmpl_arg a = {0};
			int r = p_use_var(p, &v, &a);
			tmpl_arg_release(&a);
			if (r < 0)
				return -1;
			pipe->assign = true;
		}
		p_push_var(p, pipe->decl[pipe->ndecl - 1]);
		if (next.type != TOK_CHAR)
			return 0;
		if (!strcmp(context, "range") && pipe->ndecl < 2) {
			enum tok_type ty = p_peek_nonspace(p).type;
			if (ty == TOK_VARIABLE || ty == TOK_RIGHT_DELIM || ty == TOK_RIGHT_PAREN)
				return 1;
			return p_fail(p, "range can only initialize variables");
		}
		return p_fail(p, "too many declarations in %s", context);
	}
	if (after.type == TOK_SPACE)
		p_backup(p, after);
	p_backup(p, v);
	return 0;
}

static int parse_pipeline(struct tmpl_parser *p, const char *context, enum tok_type end,
			  struct tmpl_pipe **ret, size_t *ret_end)
{
	if (p_enter(p) < 0)
		return -1;
	_cleanup_(tmpl_pipe_freep) struct tmpl_pipe *pipe = xcalloc(1, sizeof(*pipe));
	pipe->pos = p_peek_nonspace(p).pos;
	int r;
	while ((r = parse_decl(p, pipe, context)) == 1)
		;
	if (r < 0)
		return -1;
	for (;;) {
		struct tmpl_token t = p_next_nonspace(p);
		if (t.type == end) {
			if (parse_check_pipeline(p, pipe, context) < 0)
				return -1;
			*ret_end = t.pos + t.len;
			*ret = steal_ptr(&pipe);
			p->depth--;
			return 0;
		}
		switch (t.type) {
		case TOK_BOOL:
		case TOK_CHAR_CONST:
		case TOK_DOT:
		case TOK_FIELD:
		case TOK_IDENT:
		case TOK_NUMBER:
		case TOK_NIL:
		case TOK_RAW_STRING:
		case TOK_STRING:
		case TOK_VARIABLE:
		case TOK_LEFT_PAREN:
			p_backup(p, t);
			TMPL_GROW(pipe->cmds, pipe->cap, pipe->ncmds + 1);
			memset(&pipe->cmds[pipe->ncmds], 0, sizeof(struct tmpl_cmd));
			if (parse_command(p, &pipe->cmds[pipe->ncmds++]) < 0)
				return -1;
			break;
		default:
			return p_unexpected(p, &t, context);
		}
	}
}

enum list_end { LIST_END, LIST_ELSE };

static int parse_list(struct tmpl_parser *p, struct tmpl_list *list, enum list_end *ret_end);

static int parse_control(struct tmpl_parser *p, struct tmpl_node *n, const char *context);

/* {{if}}, {{range}}, {{with}}: the pipeline, the list, the optional else. */
static int parse_control_body(struct tmpl_parser *p, struct tmpl_node *n, const char *context)
{
	size_t end;
	enum list_end how;
	if (parse_pipeline(p, context, TOK_RIGHT_DELIM, &n->pipe, &end) < 0)
		return -1;
	n->pos = n->pipe->pos;
	p->range_depth += n->type == TMPL_RANGE;
	int r = parse_list(p, &n->list, &how);
	p->range_depth -= n->type == TMPL_RANGE;
	if (r < 0 || how == LIST_END)
		return r;
	struct tmpl_token t = p_peek_nonspace(p);
	if ((n->type == TMPL_IF && t.type == TOK_IF) || (n->type == TMPL_WITH && t.type == TOK_WITH)) {
		/* {{else if x}} is {{else}}{{if x}}...{{end}} sharing one {{end}} */
		p_next_nonspace(p);
		struct tmpl_node sub = {.type = n->type};
		r = parse_control(p, &sub, context);
		tmpl_list_add(&n->else_list, &sub);
		return r;
	}
	r = parse_list(p, &n->else_list, &how);
	if (r == 0 && how != LIST_END)
		return p_fail(p, "expected end; found {{else}}");
	return r;
}

/* Variables declared in the control's pipeline end with it. */
static int parse_control(struct tmpl_parser *p, struct tmpl_node *n, const char *context)
{
	size_t mark = p->nvars;
	int r = p_enter(p) < 0 ? -1 : parse_control_body(p, n, context);
	p_pop_vars(p, mark);
	p->depth--;
	return r;
}

static int parse_control_node(struct tmpl_parser *p, struct tmpl_list *list, struct tmpl_node *n,
			      const char *context)
{
	if (parse_control(p, n, context) < 0) {
		tmpl_node_release(n);
		return -1;
	}
	tmpl_list_add(list, n);
	return 0;
}

/* After "{{": a control keyword or a pipeline. Returns 1 for {{end}}, 2 for
 * {{else}} (leaving an "if" of "else if" unread). */
static int parse_action(struct tmpl_parser *p, struct tmpl_list *list)
{
	struct tmpl_token t = p_next_nonspace(p);
	struct tmpl_node n = {.pos = t.pos};
	const char *what = t.type == TOK_BREAK ? "{{break}}" : "{{continue}}";
	switch (t.type) {
	case TOK_BLOCK:
	case TOK_DEFINE:
	case TOK_TEMPLATE:
		return p_fail(p, "{{%.*s}} is not supported", (int)t.len, p->src + t.pos);
	case TOK_BREAK:
	case TOK_CONTINUE:
		if (p_expect(p, TOK_RIGHT_DELIM, what) < 0)
			return -1;
		if (!p->range_depth)
			return p_fail(p, "%s outside {{range}}", what);
		n.type = t.type == TOK_BREAK ? TMPL_BREAK : TMPL_CONTINUE;
		tmpl_list_add(list, &n);
		return 0;
	case TOK_ELSE: {
		enum tok_type next = p_peek_nonspace(p).type;
		if (next == TOK_IF || next == TOK_WITH)
			return 2;
		return p_expect(p, TOK_RIGHT_DELIM, "else") < 0 ? -1 : 2;
	}
	case TOK_END:
		return p_expect(p, TOK_RIGHT_DELIM, "end") < 0 ? -1 : 1;
	case TOK_IF:
		n.type = TMPL_IF;
		return parse_control_node(p, list, &n, "if");
	case TOK_RANGE:
		n.type = TMPL_RANGE;
		return parse_control_node(p, list, &n, "range");
	case TOK_WITH:
		n.type = TMPL_WITH;
		return parse_control_node(p, list, &n, "with");
	default:
		break;
	}
	p_backup(p, t);
	n.type = TMPL_ACTION;
	size_t end;
	if (parse_pipeline(p, "command", TOK_RIGHT_DELIM, &n.pipe, &end) < 0)
		return -1;
	n.pos = n.pipe->pos;
	tmpl_list_add(list, &n);
	return 0;
}

/* Text and actions up to EOF (top level, ret_end NULL) or {{end}}/{{else}}. */
static int parse_list(struct tmpl_parser *p, struct tmpl_list *list, enum list_end *ret_end)
{
	for (;;) {
		struct tmpl_token t = p_next_nonspace(p);
		unsigned col;
		int r;
		switch (t.type) {
		case TOK_EOF:
			if (ret_end)
				return p_fail(p, "unexpected EOF");
			return 0;
		case TOK_TEXT: {
			struct tmpl_node n = {.type = TMPL_TEXT, .pos = t.pos};
			n.text = p->src + t.pos;
			n.len = t.len;
			tmpl_list_add(list, &n);
			break;
		}
		case TOK_LEFT_DELIM:
			tmpl_location(p->src, t.pos, &p->action_line, &col);
			r = parse_action(p, list);
			p->action_line = 0;
			if (r < 0)
				return -1;
			if (r > 0 && !ret_end)
				return p_fail(p, "unexpected %s", r == 1 ? "{{end}}" : "{{else}}");
			if (r > 0) {
				*ret_end = r == 1 ? LIST_END : LIST_ELSE;
				return 0;
			}
			break;
		default:
			return p_unexpected(p, &t, "input");
		}
	}
}

struct tmpl *tmpl_parse(const char *text, struct scow_error **err)
{
	struct tmpl *t = xcalloc(1, sizeof(*t));
	t->src = xstrdup(text);
	struct tmpl_parser p = {
		.lex = {.src = t->src, .len = strlen(t->src)},
		.src = t->src,
		.err = err,
	};
	p_push_var(&p, "$");
	int r = parse_list(&p, &t->root, NULL);
	p_pop_vars(&p, 0);
	free(p.vars);
	free(p.lex.errmsg);
	if (r < 0) {
		tmpl_free(t);
		return NULL;
	}
	return t;
}
