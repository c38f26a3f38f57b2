/* Docker's shell-word processing for Dockerfiles: variable substitution,
 * quote removal, escapes and word splitting, as BuildKit's shell lexer does
 * them. The builder expands the arguments of ADD COPY ENV EXPOSE FROM LABEL
 * STOPSIGNAL USER VOLUME WORKDIR (and ARG defaults, RUN --mount values); the
 * arguments of RUN, CMD and ENTRYPOINT are left to the command's shell.
 *
 * Supported: $VAR ${VAR} ${VAR:-w} ${VAR-w} ${VAR:+w} ${VAR+w} ${VAR:?w}
 * ${VAR?w} ${VAR#p} ${VAR##p} ${VAR%p} ${VAR%%p} ${VAR/p/r} ${VAR//p/r}
 * (p: a shell pattern with * ? and \ escapes), '...' (literal), "..." ($
 * expanded; the escape char escapes " $ and itself), the escape char outside
 * quotes (next char literal; dropped at the end). $1, $@, $$ and friends
 * are looked up like names and are normally unset, so they become empty.
 *
 * Differences from Go kept on purpose: whitespace for word splitting is the
 * ASCII set; bytes >= 0x80 count as letters in variable names. */
#pragma once

#include <stdbool.h>

#include "util/error.h"

struct shlex {
	char escape;		  /* the Dockerfile's escape token: '\\' or '`' */
	bool raw_quotes;	  /* keep quote characters in the result */
	bool raw_escapes;	  /* keep escape characters in the result */
	bool skip_process_quotes; /* quotes are plain characters (heredoc bodies) */
	bool skip_unset;	  /* leave references to unset variables as written */
};

#define SHLEX_INIT(esc) ((struct shlex){.escape = (esc)})

/* Expands one word: quotes removed, spaces kept (Docker's ProcessWord).
 * env is a NULL-terminated "KEY=VALUE" list (NULL for none); when a key
 * appears more than once the last entry wins. Errors read like Docker's:
 * `failed to process "${X": syntax error: missing '}'`. */
int shlex_word(const struct shlex *lx, const char *word, char *const *env, char **ret,
	       struct scow_error **err);
/* Expands and splits into words (Docker's ProcessWords): unquoted white
 * space, including what a variable expanded to, separates words; quoted
 * empty strings vanish. Returns a NULL-terminated vector. */
int shlex_words(const struct shlex *lx, const char *word, char *const *env, char ***ret,
		struct scow_error **err);

/* Shorthands for the builder's usual lexer (no raw/skip options). */
int expand_word(const char *word, char escape, char *const *env, char **ret,
		struct scow_error **err);
int expand_words(const char *word, char escape, char *const *env, char ***ret,
		 struct scow_error **err);

/* Looks name up in a "KEY=VALUE" list, last entry wins; NULL if unset. */
const char *expand_env_get(char *const *env, const char *name);
/* Sets KEY=VALUE in a vector (replacing an earlier entry with that key). */
void expand_env_set(char ***env, const char *key, const char *value);

/* Go's %q for messages: the string in double quotes, \ " and controls escaped. */
char *expand_quote(const char *s);
