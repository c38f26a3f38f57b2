#include "util/opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/strutil.h"
#include "util/xalloc.h"

static const struct opt_def *find_long(const struct opt_def *defs, const char *name, size_t len,
				       size_t *ret_idx)
{
	for (size_t i = 0; defs[i].name; i++)
		if (strlen(defs[i].name) == len && strncmp(defs[i].name, name, len) == 0) {
			*ret_idx = i;
			return &defs[i];
		}
	return NULL;
}

static const struct opt_def *find_short(const struct opt_def *defs, char c, size_t *ret_idx)
{
	for (size_t i = 0; defs[i].name; i++)
		if (defs[i].short_name == c) {
			*ret_idx = i;
			return &defs[i];
		}
	return NULL;
}

static int parse_bool(const char *s, bool *ret)
{
	static const char *const truthy[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const falsy[] = {"0", "f", "F", "false", "FALSE", "False"};
	for (size_t i = 0; i < 6; i++) {
		if (strcmp(s, truthy[i]) == 0)
			return *ret = true, 0;
		if (strcmp(s, falsy[i]) == 0)
			return *ret = false, 0;
	}
	return -1;
}

static int store(const struct opt_def *d, struct opt_value *v, const char *flag, const char *arg,
		 struct scow_error **err)
{
	v->set = true;
	switch (d->arg) {
	case OPT_BOOL:
		if (!arg) {
			v->b = true;
		} else if (parse_bool(arg, &v->b) < 0) {
			return error_set(err, EINVAL,
					 "invalid argument \"%s\" for \"%s\" flag: strconv.ParseBool: "
					 "parsing \"%s\": invalid syntax",
					 arg, flag, arg);
		}
		return 0;
	case OPT_VALUE:
		v->str = arg;
		return 0;
	case OPT_LIST:
		v->list = xrealloc(v->list, (v->n + 1) * sizeof(char *));
		v->list[v->n++] = arg;
		v->str = arg;
		return 0;
	}
	return 0;
}

static int parse_long(const struct opt_def *defs, struct opt_value *vals, int argc, char **argv,
		      int *i, struct scow_error **err)
{
	const char *body = argv[*i] + 2;
	const char *eq = strchr(body, '=');
	size_t len = eq ? (size_t)(eq - body) : strlen(body);
	size_t idx;
	const struct opt_def *d = find_long(defs, body, len, &idx);
	if (!d)
		return error_set(err, EINVAL, "unknown flag: --%.*s", (int)len, body);
	if (d->arg == OPT_BOOL)
		return store(d, &vals[idx], d->name, eq ? eq + 1 : NULL, err);
	if (eq)
		return store(d, &vals[idx], d->name, eq + 1, err);
	if (*i + 1 >= argc)
		return error_set(err, EINVAL, "flag needs an argument: --%s", d->name);
	return store(d, &vals[idx], d->name, argv[++*i], err);
}

static int parse_short(const struct opt_def *defs, struct opt_value *vals, int argc, char **argv,
		       int *i, struct scow_error **err)
{
	const char *p = argv[*i] + 1;
	while (*p) {
		size_t idx;
		const struct opt_def *d = find_short(defs, *p, &idx);
		if (!d)
			return error_set(err, EINVAL, "unknown shorthand flag: '%c' in %s", *p, argv[*i]);
		if (d->arg == OPT_BOOL) {
			if (p[1] == '=')
				return store(d, &vals[idx], d->name, p + 2, err);
			if (store(d, &vals[idx], d->name, NULL, err) < 0)
				return -1;
			p++;
			continue;
		}
		if (p[1])
			return store(d, &vals[idx], d->name, p[1] == '=' ? p + 2 : p + 1, err);
		if (*i + 1 >= argc)
			return error_set(err, EINVAL, "flag needs an argument: '%c' in -%c", *p, *p);
		return store(d, &vals[idx], d->name, argv[++*i], err);
	}
	return 0;
}

int opts_parse(const struct opt_def *defs, bool interspersed, int argc, char **argv,
	       struct opts *ret, struct scow_error **err)
{
	size_t ndefs = 0;
	while (defs[ndefs].name)
		ndefs++;
	struct opts o = {.defs = defs, .v = xcalloc(ndefs + 1, sizeof(struct opt_value))};
	o.args = xcalloc((size_t)argc + 1, sizeof(char *));
	bool only_args = false;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		int r = 0;
		if (only_args || a[0] != '-' || a[1] == '\0') {
			o.args[o.nargs++] = argv[i];
			if (!interspersed)
				only_args = true;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = true;
			continue;
		}
		if (a[1] == '-')
			r = parse_long(defs, o.v, argc, argv, &i, err);
		else
			r = parse_short(defs, o.v, argc, argv, &i, err);
		if (r < 0) {
			opts_release(&o);
			return -1;
		}
	}
	*ret = o;
	return 0;
}

void opts_release(struct opts *o)
{
	if (o->v)
		for (size_t i = 0; o->defs[i].name; i++)
			free(o->v[i].list);
	free(o->v);
	free(o->args);
	o->v = NULL;
	o->args = NULL;
}

static const struct opt_value *lookup(const struct opts *o, const char *name)
{
	for (size_t i = 0; o->defs[i].name; i++)
		if (strcmp(o->defs[i].name, name) == 0)
			return &o->v[i];
	fprintf(stderr, "scow: internal error: option --%s is not declared\n", name);
	abort();
}

bool opt_declared(const struct opts *o, const char *name)
{
	for (size_t i = 0; o->defs[i].name; i++)
		if (strcmp(o->defs[i].name, name) == 0)
			return true;
	return false;
}

bool opt_set(const struct opts *o, const char *name)
{
	return lookup(o, name)->set;
}

bool opt_bool(const struct opts *o, const char *name)
{
	const struct opt_value *v = lookup(o, name);
	return v->set && v->b;
}

const char *opt_str(const struct opts *o, const char *name)
{
	return lookup(o, name)->str;
}

const char *const *opt_list(const struct opts *o, const char *name, size_t *ret_n)
{
	const struct opt_value *v = lookup(o, name);
	if (ret_n)
		*ret_n = v->n;
	return v->list;
}

void opts_print_help(FILE *f, const struct opt_def *defs)
{
	if (!defs || !defs[0].name)
		return;
	size_t width = 0;
	for (size_t i = 0; defs[i].name; i++) {
		size_t w = strlen(defs[i].name) + (defs[i].metavar ? strlen(defs[i].metavar) + 1 : 0);
		if (w > width)
			width = w;
	}
	fprintf(f, "\nOptions:\n");
	for (size_t i = 0; defs[i].name; i++) {
		const struct opt_def *d = &defs[i];
		char left[256];
		snprintf(left, sizeof(left), "%s%s%s", d->name, d->metavar ? " " : "",
			 d->metavar ? d->metavar : "");
		if (d->short_name)
			fprintf(f, "  -%c, --%-*s   %s", d->short_name, (int)width, left, d->help);
		else
			fprintf(f, "      --%-*s   %s", (int)width, left, d->help);
		if (d->deflt)
			fprintf(f, " (default %s)", d->deflt);
		fputc('\n', f);
	}
}
