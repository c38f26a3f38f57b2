/* Private to the template engine (src/util/template*.c).
 *
 *   template_parse.c  lexer and parser: text -> tree; tmpl_parse(), tmpl_free()
 *   template_exec.c   the tree walk over JSON data; tmpl_execute()
 *   template_funcs.c  the function table: Go's builtins and Docker's extras
 *   template.c        Go's fmt and encoding/json for JSON values: printing
 *                     with %v, printf, quoting, JSON output, truthiness
 *
 * Values during execution are json_t pointers, each a reference the holder
 * owns. NULL is Go's invalid reflect.Value: what a missing map key yields; it
 * prints "<no value>" and is a nil argument to functions. JSON null is Go's
 * nil interface and prints "<nil>". */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"
#include "util/strutil.h"
#include "util/template.h"

/* Nesting limit for parentheses and control structures; keeps the recursive
 * parser and executor off the end of the stack with hostile input. */
#define TMPL_MAX_DEPTH 1000

/* Grows array arr (capacity cap) to hold need elements. */
#define TMPL_GROW(arr, cap, need)                                                                  \
	do {                                                                                       \
		void *grow_p_ = (arr);                                                             \
		xgrow(&grow_p_, &(cap), (need), sizeof(*(arr)));                                   \
		(arr) = grow_p_;                                                                   \
	} while (0)

struct tmpl_pipe;

typedef int (*tmpl_builtin_fn)(json_t **argv, size_t argc, json_t **ret, struct scow_error **err);

/* A function. The executor checks the argument count and, as Go does from
 * the Go signature, each argument's type from params: one letter per
 * parameter, the last repeating for variadic functions: 'v' any value, 's'
 * string, 'i' int, 'l' array. The function can rely on those. */
struct tmpl_func {
	const char *name;
	size_t min_args;
	bool variadic; /* else exactly min_args */
	const char *params;
	tmpl_builtin_fn fn; /* NULL for and/or, which the executor short-circuits */
};

enum tmpl_arg_type {
	TMPL_ARG_DOT,	/* . */
	TMPL_ARG_FIELD, /* .A.B: fields of dot */
	TMPL_ARG_VAR,	/* $, $x, $x.A.B */
	TMPL_ARG_FUNC,	/* a function name */
	TMPL_ARG_CONST, /* string, number or bool literal */
	TMPL_ARG_NIL,	/* nil */
	TMPL_ARG_PIPE,	/* (pipeline), possibly followed by .A.B */
};

/* An operand. pos is where Go reports errors about it; start/end delimit its
 * text in the source (a pipe's parentheses included). */
struct tmpl_arg {
	enum tmpl_arg_type type;
	size_t pos, start, end;
	char **fields; /* NULL-terminated; NULL when there are none */
	char *var;		      /* VAR: "$" or "$name" */
	const struct tmpl_func *func; /* FUNC */
	json_t *value;		      /* CONST */
	struct tmpl_pipe *pipe;	      /* PIPE */
};

struct tmpl_cmd {
	size_t pos;
	struct tmpl_arg *args;
	size_t nargs, cap;
};

struct tmpl_pipe {
	size_t pos;
	bool assign; /* $x = ... rather than $x := ... */
	char *decl[2];
	size_t ndecl;
	struct tmpl_cmd *cmds;
	size_t ncmds, cap;
};

enum tmpl_node_type {
	TMPL_TEXT,
	TMPL_ACTION,
	TMPL_IF,
	TMPL_RANGE,
	TMPL_WITH,
	TMPL_BREAK,
	TMPL_CONTINUE,
};

struct tmpl_list {
	struct tmpl_node *nodes;
	size_t n, cap;
};

struct tmpl_node {
	enum tmpl_node_type type;
	size_t pos;
	const char *text; /* TEXT: points into struct tmpl.src */
	size_t len;
	struct tmpl_pipe *pipe;		  /* ACTION, IF, RANGE, WITH */
	struct tmpl_list list, else_list; /* IF, RANGE, WITH */
};

struct tmpl {
	char *src; /* the template text, for error positions and contexts */
	struct tmpl_list root;
};

/* template_funcs.c */
const struct tmpl_func *tmpl_func_lookup(const char *name);

/* template_parse.c */
/* Go's "line:col" of a byte offset: 1-based line, 0-based byte column. */
void tmpl_location(const char *src, size_t pos, unsigned *ret_line, unsigned *ret_col);
/* Go's String() of a node, as error contexts show it. */
void tmpl_pipe_string(struct strbuf *sb, const char *src, const struct tmpl_pipe *p);
void tmpl_cmd_string(struct strbuf *sb, const char *src, const struct tmpl_cmd *c);
void tmpl_arg_string(struct strbuf *sb, const char *src, const struct tmpl_arg *a);

/* template.c: Go's fmt, strconv and encoding/json over JSON values */
bool tmpl_truth(const json_t *v);
/* Go's type name of the value (fmt's %T): string, int, float64, bool,
 * []interface {}, map[string]interface {}; "<nil>" for null and missing. */
const char *tmpl_type_name(const json_t *v);
/* Keys of obj in Go's map order (sorted); free() the array only. */
const char **tmpl_sorted_keys(const json_t *obj, size_t *ret_n);
/* String contents and length; NULL unless v is a string. */
const char *tmpl_str(const json_t *v, size_t *ret_len);
/* Go's int from an integer, or from an integral real (JSON may have lost a
 * float's ".0"); false for anything else. */
bool tmpl_as_int(const json_t *v, long long *ret);
/* A new string value of n bytes, which need not be valid UTF-8. */
json_t *tmpl_strn(const char *s, size_t n);
/* What {{.}} prints: %v, with "<no value>" for missing and "<nil>" for null. */
void tmpl_print_value(struct strbuf *sb, const json_t *v);
/* fmt.Sprint, fmt.Sprintln and fmt.Sprintf; NULL arguments are nil. */
void tmpl_sprint(struct strbuf *sb, json_t *const *argv, size_t argc);
void tmpl_sprintln(struct strbuf *sb, json_t *const *argv, size_t argc);
void tmpl_sprintf(struct strbuf *sb, const char *fmt, size_t fmtlen, json_t *const *argv,
		  size_t argc);
/* strconv.Quote, or QuoteToASCII when ascii. */
void tmpl_quote(struct strbuf *sb, const char *s, size_t n, bool ascii);
/* encoding/json with SetEscapeHTML(false), as Docker's json function. */
void tmpl_json_encode(struct strbuf *sb, const json_t *v);
/* Decodes one UTF-8 sequence at s (n > 0 bytes left); an invalid byte
 * decodes as U+FFFD of length 1, as Go does. Returns the length. */
size_t tmpl_utf8_decode(const char *s, size_t n, unsigned *ret_rune);
void tmpl_utf8_append(struct strbuf *sb, unsigned rune);
/* Go's unicode.IsPrint, approximated outside ASCII. */
bool tmpl_rune_is_print(unsigned r);
