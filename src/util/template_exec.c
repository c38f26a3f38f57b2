/* Executes a parsed template over JSON data, as Go's text/template/exec.go
 * does over the values json.Unmarshal produces. The template stays const:
 * all execution state (the variable stack) lives in struct tmpl_state. */
#include "util/template_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

enum { WALK_OK, WALK_BREAK, WALK_CONTINUE };

struct tmpl_var {
	const char *name;
	json_t *value; /* a reference, NULL for no value */
};

struct tmpl_state {
	const struct tmpl *t;
	bool header; /* rendering a table's header row */
	struct strbuf *out;
	struct tmpl_var *vars;
	size_t nvars, cap;
	struct scow_error **err;
};

static int exec_vfail(struct tmpl_state *s, size_t pos, struct strbuf *ctx, const char *fmt,
		      va_list ap)
{
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	unsigned line, col;
	tmpl_location(s->t->src, pos, &line, &col);
	return error_set(s->err, EINVAL, "template: :%u:%u: executing \"\" at <%s>: %s", line, col,
			 sb_str(ctx), msg);
}

static int __attribute__((format(printf, 3, 4)))
fail_arg(struct tmpl_state *s, const struct tmpl_arg *a, const char *fmt, ...)
{
	_cleanup_sb_ struct strbuf ctx = STRBUF_INIT;
	tmpl_arg_string(&ctx, s->t->src, a);
	va_list ap;
	va_start(ap, fmt);
	int r = exec_vfail(s, a->pos, &ctx, fmt, ap);
	va_end(ap);
	return r;
}

static int __attribute__((format(printf, 3, 4)))
fail_pipe(struct tmpl_state *s, const struct tmpl_pipe *p, const char *fmt, ...)
{
	_cleanup_sb_ struct strbuf ctx = STRBUF_INIT;
	tmpl_pipe_string(&ctx, s->t->src, p);
	va_list ap;
	va_start(ap, fmt);
	int r = exec_vfail(s, p->pos, &ctx, fmt, ap);
	va_end(ap);
	return r;
}

static int __attribute__((format(printf, 3, 4)))
fail_cmd(struct tmpl_state *s, const struct tmpl_cmd *c, const char *fmt, ...)
{
	_cleanup_sb_ struct strbuf ctx = STRBUF_INIT;
	tmpl_cmd_string(&ctx, s->t->src, c);
	va_list ap;
	va_start(ap, fmt);
	int r = exec_vfail(s, c->pos, &ctx, fmt, ap);
	va_end(ap);
	return r;
}

/* An error about a pipeline's value, shown at its last command as Go does. */
static int __attribute__((format(printf, 3, 4)))
fail_value(struct tmpl_state *s, const struct tmpl_pipe *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	const struct tmpl_cmd *c = &p->cmds[p->ncmds - 1];
	if (c->nargs == 1)
		return fail_arg(s, &c->args[0], "%s", msg);
	return fail_cmd(s, c, "%s", msg);
}

/* Prefixes a function's own error with where it was called. */
static int wrap_call(struct tmpl_state *s, const struct tmpl_cmd *cmd, const struct tmpl_arg *fn)
{
	_cleanup_sb_ struct strbuf ctx = STRBUF_INIT;
	size_t pos = cmd ? cmd->pos : fn->pos;
	if (cmd)
		tmpl_cmd_string(&ctx, s->t->src, cmd);
	else
		tmpl_arg_string(&ctx, s->t->src, fn);
	unsigned line, col;
	tmpl_location(s->t->src, pos, &line, &col);
	return error_wrap(s->err, "template: :%u:%u: executing \"\" at <%s>", line, col,
			  sb_str(&ctx));
}

/* ---- variables ---- */

static void push_var(struct tmpl_state *s, const char *name, json_t *v)
{
	TMPL_GROW(s->vars, s->cap, s->nvars + 1);
	s->vars[s->nvars].name = name;
	s->vars[s->nvars].value = json_incref(v);
	s->nvars++;
}

static void pop_vars(struct tmpl_state *s, size_t mark)
{
	while (s->nvars > mark)
		json_decref(s->vars[--s->nvars].value);
}

static struct tmpl_var *find_var(struct tmpl_state *s, const char *name)
{
	for (size_t i = s->nvars; i > 0; i--)
		if (!strcmp(s->vars[i - 1].name, name))
			return &s->vars[i - 1];
	return NULL;
}

static void set_value(struct tmpl_var *var, json_t *v)
{
	json_t *old = var->value;
	var->value = json_incref(v);
	json_decref(old);
}

static int set_var(struct tmpl_state *s, const struct tmpl_pipe *p, const char *name, json_t *v)
{
	struct tmpl_var *var = find_var(s, name);
	if (!var)
		return fail_pipe(s, p, "undefined variable: %s", name);
	set_value(var, v);
	return 0;
}

/* ---- evaluation ---- */

static int eval_pipe(struct tmpl_state *s, const struct tmpl_pipe *p, json_t *dot, json_t **ret);
static int eval_arg(struct tmpl_state *s, const struct tmpl_arg *a, json_t *dot, json_t **ret);

/* One field of recv, which may be missing (then so is the result). */
static int eval_field(struct tmpl_state *s, const struct tmpl_arg *a, json_t *recv,
		      const char *name, bool has_args, json_t **ret)
{
	*ret = NULL;
	if (!recv)
		return 0;
	if (json_is_null(recv))
		return fail_arg(s, a, "nil pointer evaluating interface {}.%s", name);
	if (!json_is_object(recv))
		return fail_arg(s, a, "can't evaluate field %s in type %s", name,
				tmpl_type_name(recv));
	if (has_args)
		return fail_arg(s, a, "%s is not a method but has arguments", name);
	*ret = json_incref(json_object_get(recv, name));
	return 0;
}

/* The field chain of a over recv; has_args for the last field only. */
static int eval_fields(struct tmpl_state *s, const struct tmpl_arg *a, json_t *recv, bool has_args,
		       json_t **ret)
{
	json_t *cur = json_incref(recv);
	for (char **f = a->fields; f && *f; f++) {
		json_t *next;
		int r = eval_field(s, a, cur, *f, has_args && !f[1], &next);
		json_decref(cur);
		if (r < 0)
			return -1;
		cur = next;
	}
	*ret = cur;
	return 0;
}

static int call_func(struct tmpl_state *s, const struct tmpl_cmd *cmd, const struct tmpl_arg *fn,
		     json_t *dot, const struct tmpl_arg *args, size_t nargs, json_t *final,
		     bool has_final, json_t **ret);

/* The value an operand stands for before its field chain. */
static int eval_base(struct tmpl_state *s, const struct tmpl_arg *a, json_t *dot, json_t **ret)
{
	struct tmpl_var *var;
	*ret = NULL;
	switch (a->type) {
	case TMPL_ARG_DOT:
	case TMPL_ARG_FIELD:
		*ret = json_incref(dot);
		return 0;
	case TMPL_ARG_NIL:
		*ret = json_null();
		return 0;
	case TMPL_ARG_CONST:
		*ret = json_incref(a->value);
		return 0;
	case TMPL_ARG_VAR:
		var = find_var(s, a->var);
		if (!var)
			return fail_arg(s, a, "undefined variable: %s", a->var);
		*ret = json_incref(var->value);
		return 0;
	case TMPL_ARG_PIPE:
		return eval_pipe(s, a->pipe, dot, ret);
	case TMPL_ARG_FUNC:
		return call_func(s, NULL, a, dot, NULL, 0, NULL, false, ret);
	}
	abort();
}

/* An operand used as an argument. */
static int eval_arg(struct tmpl_state *s, const struct tmpl_arg *a, json_t *dot, json_t **ret)
{
	_cleanup_json_ json_t *base = NULL;
	if (eval_base(s, a, dot, &base) < 0)
		return -1;
	if (!a->fields) {
		*ret = steal_ptr(&base);
		return 0;
	}
	return eval_fields(s, a, base, false, ret);
}

static int call_and_or(struct tmpl_state *s, const struct tmpl_arg *fn, json_t *dot,
		       const struct tmpl_arg *args, size_t nargs, json_t *final, bool has_final,
		       json_t **ret)
{
	bool is_or = !strcmp(fn->func->name, "or");
	json_t *v = NULL;
	for (size_t i = 0; i < nargs; i++) {
		json_decref(v);
		if (eval_arg(s, &args[i], dot, &v) < 0)
			return -1;
		if (tmpl_truth(v) == is_or) {
			*ret = v;
			return 0;
		}
	}
	if (has_final) {
		json_decref(v);
		v = json_incref(final);
	}
	*ret = v;
	return 0;
}

/* Go's check of an argument against a parameter type (see struct
 * tmpl_func); a is the argument's operand, NULL for a piped value. */
static int check_param(struct tmpl_state *s, const struct tmpl_cmd *cmd, const struct tmpl_arg *a,
		       char param, const json_t *v)
{
	long long x;
	const char *want = param == 's' ? "string" : param == 'i' ? "int" : "[]string";
	if (param == 'v' || (param == 's' && json_is_string(v)) ||
	    (param == 'i' && tmpl_as_int(v, &x)) || (param == 'l' && json_is_array(v)))
		return 0;
	if (a && a->type == TMPL_ARG_NIL)
		return fail_arg(s, a, "cannot assign nil to %s", want);
	if (a && a->type == TMPL_ARG_CONST) {
		_cleanup_sb_ struct strbuf what = STRBUF_INIT;
		tmpl_arg_string(&what, s->t->src, a);
		if (param == 'l')
			return fail_arg(s, a, "can't handle %s for arg of type %s", what.buf, want);
		return fail_arg(s, a, "expected %s; found %s", param == 's' ? "string" : "integer",
				what.buf);
	}
	if (!v || json_is_null(v))
		return a ? fail_arg(s, a, "invalid value; expected %s", want)
			 : fail_cmd(s, cmd, "invalid value; expected %s", want);
	if (a)
		return fail_arg(s, a, "wrong type for value; expected %s; got %s", want,
				tmpl_type_name(v));
	return fail_cmd(s, cmd, "wrong type for value; expected %s; got %s", want,
			tmpl_type_name(v));
}

static char param_type(const struct tmpl_func *f, size_t i)
{
	size_t n = strlen(f->params);
	return f->params[i < n ? i : n - 1];
}

/* Docker renders a table's header row over an object of header strings,
 * with these functions passing their first argument through. */
static bool header_passthrough(const char *name)
{
	static const char *const names[] = {"json",  "join",  "lower",    "pad",
					    "split", "title", "truncate", "upper"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Calls fn with args (operands) and, when has_final, the piped value. */
static int call_func(struct tmpl_state *s, const struct tmpl_cmd *cmd, const struct tmpl_arg *fn,
		     json_t *dot, const struct tmpl_arg *args, size_t nargs, json_t *final,
		     bool has_final, json_t **ret)
{
	const struct tmpl_func *f = fn->func;
	size_t argc = nargs + has_final;
	if (argc < f->min_args || (!f->variadic && argc != f->min_args))
		return fail_arg(s, fn, "wrong number of args for %s: want %s%zu got %zu", f->name,
				f->variadic ? "at least " : "", f->min_args, argc);
	if (!f->fn)
		return call_and_or(s, fn, dot, args, nargs, final, has_final, ret);
	json_t **argv = xcalloc(argc + 1, sizeof(*argv));
	bool pass = s->header && header_passthrough(f->name);
	int r = 0;
	for (size_t i = 0; i < nargs && r == 0; i++) {
		r = eval_arg(s, &args[i], dot, &argv[i]);
		if (r == 0 && !pass)
			r = check_param(s, cmd, &args[i], param_type(f, i), argv[i]);
	}
	if (r == 0 && has_final) {
		argv[nargs] = json_incref(final);
		if (!pass)
			r = check_param(s, cmd, NULL, param_type(f, nargs), final);
	}
	if (r == 0 && pass)
		*ret = json_incref(has_final && nargs == 0 ? argv[nargs] : argv[0]);
	else if (r == 0 && f->fn(argv, argc, ret, s->err) < 0)
		r = wrap_call(s, cmd, fn);
	for (size_t i = 0; i < argc; i++)
		json_decref(argv[i]);
	free(argv);
	return r;
}

static int not_a_function(struct tmpl_state *s, const struct tmpl_cmd *cmd, bool has_final)
{
	const struct tmpl_arg *first = &cmd->args[0];
	if (cmd->nargs < 2 && !has_final)
		return 0;
	_cleanup_sb_ struct strbuf what = STRBUF_INIT;
	if (first->type != TMPL_ARG_PIPE) {
		tmpl_arg_string(&what, s->t->src, first);
		return fail_arg(s, first, "can't give argument to non-function %s", what.buf);
	}
	tmpl_pipe_string(&what, s->t->src, first->pipe);
	return fail_cmd(s, cmd, "can't give argument to non-function %s", what.buf);
}

/* One command of a pipeline; final is the previous command's value. */
static int eval_cmd(struct tmpl_state *s, const struct tmpl_cmd *cmd, json_t *dot, json_t *final,
		    bool has_final, json_t **ret)
{
	const struct tmpl_arg *first = &cmd->args[0];
	bool has_args = cmd->nargs > 1 || has_final;
	*ret = NULL;
	if (first->type == TMPL_ARG_FUNC && !first->fields)
		return call_func(s, cmd, first, dot, cmd->args + 1, cmd->nargs - 1, final,
				 has_final, ret);
	if (!first->fields) {
		if (not_a_function(s, cmd, has_final) < 0)
			return -1;
		if (first->type == TMPL_ARG_NIL)
			return fail_arg(s, first, "nil is not a command");
		return eval_base(s, first, dot, ret);
	}
	/* a field chain: its last field would be a method taking the arguments */
	_cleanup_json_ json_t *base = NULL;
	if (eval_base(s, first, dot, &base) < 0)
		return -1;
	return eval_fields(s, first, base, has_args, ret);
}

/* Runs the commands and handles the declarations; *ret is the value. */
static int eval_pipe(struct tmpl_state *s, const struct tmpl_pipe *p, json_t *dot, json_t **ret)
{
	json_t *v = NULL;
	for (size_t i = 0; i < p->ncmds; i++) {
		json_t *next;
		int r = eval_cmd(s, &p->cmds[i], dot, v, i > 0, &next);
		json_decref(v);
		if (r < 0)
			return -1;
		v = next;
	}
	for (size_t i = 0; i < p->ndecl; i++) {
		if (!p->assign) {
			push_var(s, p->decl[i], v);
		} else if (set_var(s, p, p->decl[i], v) < 0) {
			json_decref(v);
			return -1;
		}
	}
	*ret = v;
	return 0;
}

/* ---- walking ---- */

static int walk_list(struct tmpl_state *s, const struct tmpl_list *l, json_t *dot);

static int walk_if_with(struct tmpl_state *s, const struct tmpl_node *n, json_t *dot)
{
	size_t mark = s->nvars;
	_cleanup_json_ json_t *v = NULL;
	int r = eval_pipe(s, n->pipe, dot, &v);
	if (r == 0) {
		if (tmpl_truth(v))
			r = walk_list(s, &n->list, n->type == TMPL_WITH ? v : dot);
		else
			r = walk_list(s, &n->else_list, dot);
	}
	pop_vars(s, mark);
	return r;
}

/* One pass of a range body with its variables set; mark is where they are. */
static int range_iter(struct tmpl_state *s, const struct tmpl_node *n, size_t mark, json_t *index,
		      json_t *elem)
{
	const struct tmpl_pipe *p = n->pipe;
	if (p->ndecl == 1 && p->assign && set_var(s, p, p->decl[0], elem) < 0)
		return -1;
	if (p->ndecl == 1 && !p->assign)
		set_value(&s->vars[mark - 1], elem);
	if (p->ndecl == 2 && p->assign &&
	    (set_var(s, p, p->decl[0], index) < 0 || set_var(s, p, p->decl[1], elem) < 0))
		return -1;
	if (p->ndecl == 2 && !p->assign) {
		set_value(&s->vars[mark - 2], index);
		set_value(&s->vars[mark - 1], elem);
	}
	int r = walk_list(s, &n->list, elem);
	pop_vars(s, mark);
	return r;
}

static int range_array(struct tmpl_state *s, const struct tmpl_node *n, size_t mark, json_t *v)
{
	for (size_t i = 0; i < json_array_size(v); i++) {
		_cleanup_json_ json_t *index = json_integer((json_int_t)i);
		int r = range_iter(s, n, mark, index, json_array_get(v, i));
		if (r < 0 || r == WALK_BREAK)
			return r < 0 ? -1 : 0;
	}
	return 0;
}

static int range_object(struct tmpl_state *s, const struct tmpl_node *n, size_t mark, json_t *v)
{
	size_t nkeys;
	_cleanup_free_ const char **keys = tmpl_sorted_keys(v, &nkeys);
	for (size_t i = 0; i < nkeys; i++) {
		_cleanup_json_ json_t *key = tmpl_strn(keys[i], strlen(keys[i]));
		int r = range_iter(s, n, mark, key, json_object_get(v, keys[i]));
		if (r < 0 || r == WALK_BREAK)
			return r < 0 ? -1 : 0;
	}
	return 0;
}

/* Go 1.22's range over an integer: 0..n-1, with one variable at most. */
static int range_int(struct tmpl_state *s, const struct tmpl_node *n, size_t mark, json_t *v)
{
	if (n->pipe->ndecl > 1) {
		_cleanup_sb_ struct strbuf what = STRBUF_INIT;
		tmpl_print_value(&what, v);
		return fail_value(s, n->pipe, "can't use %s to iterate over more than one variable",
				  what.buf);
	}
	for (json_int_t i = 0; i < json_integer_value(v); i++) {
		_cleanup_json_ json_t *elem = json_integer(i);
		int r = range_iter(s, n, mark, elem, elem);
		if (r < 0 || r == WALK_BREAK)
			return r < 0 ? -1 : 0;
	}
	return 0;
}

static size_t range_len(const json_t *v)
{
	if (json_is_array(v))
		return json_array_size(v);
	if (json_is_object(v))
		return json_object_size(v);
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return (size_t)json_integer_value(v);
	return 0;
}

static int walk_range(struct tmpl_state *s, const struct tmpl_node *n, json_t *dot)
{
	size_t mark = s->nvars;
	_cleanup_json_ json_t *v = NULL;
	int r = eval_pipe(s, n->pipe, dot, &v);
	size_t inner = s->nvars;
	if (r < 0) {
		pop_vars(s, mark);
		return -1;
	}
	if (v && !json_is_null(v) && !json_is_array(v) && !json_is_object(v) &&
	    !json_is_integer(v)) {
		_cleanup_sb_ struct strbuf what = STRBUF_INIT;
		tmpl_print_value(&what, v);
		r = fail_value(s, n->pipe, "range can't iterate over %s", what.buf);
	} else if (!range_len(v)) {
		r = walk_list(s, &n->else_list, dot);
	} else if (json_is_array(v)) {
		r = range_array(s, n, inner, v);
	} else if (json_is_object(v)) {
		r = range_object(s, n, inner, v);
	} else {
		r = range_int(s, n, inner, v);
	}
	pop_vars(s, mark);
	return r;
}

static int walk_node(struct tmpl_state *s, const struct tmpl_node *n, json_t *dot)
{
	json_t *v;
	switch (n->type) {
	case TMPL_TEXT:
		sb_appendn(s->out, n->text, n->len);
		return WALK_OK;
	case TMPL_ACTION:
		if (eval_pipe(s, n->pipe, dot, &v) < 0)
			return -1;
		if (!n->pipe->ndecl)
			tmpl_print_value(s->out, v);
		json_decref(v);
		return WALK_OK;
	case TMPL_IF:
	case TMPL_WITH:
		return walk_if_with(s, n, dot);
	case TMPL_RANGE:
		return walk_range(s, n, dot);
	case TMPL_BREAK:
		return WALK_BREAK;
	case TMPL_CONTINUE:
		return WALK_CONTINUE;
	}
	abort();
}

/* Returns -1, WALK_OK, or WALK_BREAK/WALK_CONTINUE for the enclosing range. */
static int walk_list(struct tmpl_state *s, const struct tmpl_list *l, json_t *dot)
{
	for (size_t i = 0; i < l->n; i++) {
		int r = walk_node(s, &l->nodes[i], dot);
		if (r != WALK_OK)
			return r;
	}
	return WALK_OK;
}

static int execute(const struct tmpl *t, bool header, json_t *data, struct strbuf *out,
		   struct scow_error **err)
{
	struct tmpl_state s = {.t = t, .header = header, .out = out, .err = err};
	size_t start = out->len;
	push_var(&s, "$", data);
	int r = walk_list(&s, &t->root, data);
	pop_vars(&s, 0);
	free(s.vars);
	if (r < 0) {
		out->len = start;
		if (out->buf)
			out->buf[start] = '\0';
		return -1;
	}
	if (!out->buf)
		sb_append(out, "");
	return 0;
}

int tmpl_execute(const struct tmpl *t, json_t *data, struct strbuf *out, struct scow_error **err)
{
	return execute(t, false, data, out, err);
}

int tmpl_execute_header(const struct tmpl *t, json_t *headers, struct strbuf *out,
			struct scow_error **err)
{
	return execute(t, true, headers, out, err);
}
