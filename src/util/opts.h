/* Command-line options, declared once per command in a table that drives
 * both parsing and --help. Docker's (pflag's) rules: --name=value,
 * --name value, -n value, -nvalue, clustered short booleans (-it), booleans
 * as --rm or --rm=false, "--" ends options. Commands that take a command
 * line for the container (run, exec, create) stop at the first positional
 * argument so that the container's own flags pass through. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "util/error.h"

enum opt_arg {
	OPT_BOOL,  /* no argument; --x=false allowed */
	OPT_VALUE, /* one value; the last one given wins */
	OPT_LIST,  /* repeatable; every value kept in order */
};

struct opt_def {
	const char *name; /* long name without "--"; NULL ends a table */
	char short_name;  /* 0 if none */
	enum opt_arg arg;
	const char *metavar; /* shown in --help after the flag: "string", "list" */
	const char *help;
	const char *deflt; /* default, shown in --help; NULL for none */
};

#define OPT_END {NULL, 0, OPT_BOOL, NULL, NULL, NULL}

struct opt_value {
	bool set;
	bool b;
	const char *str; /* points into argv */
	const char **list;
	size_t n;
};

struct opts {
	const struct opt_def *defs;
	struct opt_value *v; /* parallel to defs */
	char **args;	     /* positional arguments, pointers into argv */
	int nargs;
};

/* On failure the message is pflag's ("unknown flag: --foo", ...). */
int opts_parse(const struct opt_def *defs, bool interspersed, int argc, char **argv,
	       struct opts *ret, struct scow_error **err);
void opts_release(struct opts *o);

/* Whether the command's table declares the option at all. */
bool opt_declared(const struct opts *o, const char *name);
/* Lookups by long name; asking for a name the table lacks aborts (a bug). */
bool opt_set(const struct opts *o, const char *name);
bool opt_bool(const struct opts *o, const char *name);
const char *opt_str(const struct opts *o, const char *name); /* NULL if unset */
const char *const *opt_list(const struct opts *o, const char *name, size_t *ret_n);

/* The "Options:" block of --help, aligned as Docker prints it. */
void opts_print_help(FILE *f, const struct opt_def *defs);
