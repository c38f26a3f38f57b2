/* .dockerignore: reading and matching with Docker's rules (the docker
 * CLI's dockerignore.ReadAll and moby/patternmatcher).
 *
 * Reading: a line starting with '#' (first column) is a comment; lines are
 * trimmed; empty lines skipped; '!' marks an exception; each pattern is
 * cleaned like Go's filepath.Clean and a leading '/' dropped.
 * Matching (paths relative to the context root, '/'-separated, cleaned, no
 * leading "./"): '*' is any run of non-'/' characters, '?' one non-'/'
 * character, "[...]" a class ("[^...]" negated, ranges), '\' makes the
 * next character literal, "**" any number of directories ("**" at the end
 * matches everything below, "**" + "/" zero or more leading directories).
 * A path is excluded when the last pattern that matches it, or one of its
 * parent directories, is not an exception. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct dockerignore;

/* Splits a .dockerignore file into cleaned patterns (exceptions keep their
 * leading '!'). Returns a NULL-terminated vector. */
char **dockerignore_read(const char *buf, size_t len);

/* Compiles patterns. Errors: `illegal exclusion pattern: "!"`, `syntax
 * error in pattern` (an unclosed '[', a trailing '\', a bad range). */
int dockerignore_new(char *const *patterns, struct dockerignore **ret, struct scow_error **err);
void dockerignore_free(struct dockerignore *di);
static inline void dockerignore_freep(struct dockerignore **di)
{
	dockerignore_free(*di);
}
#define _cleanup_dockerignore_ __attribute__((cleanup(dockerignore_freep)))

/* Convenience: read + compile + keep the build files (below). dockerfile
 * is the Dockerfile's path relative to the context, NULL when it is not in
 * the context (stdin, outside). */
int dockerignore_load(const char *buf, size_t len, const char *dockerfile,
		      struct dockerignore **ret, struct scow_error **err);

/* What the docker CLI does: when .dockerignore or the Dockerfile would be
 * excluded, exception patterns are appended so that they are always sent
 * (a `COPY . /x` then copies them, as with Docker's classic builder). */
int dockerignore_keep_build_files(struct dockerignore *di, const char *dockerfile,
				  struct scow_error **err);

/* True when path is excluded from the context (MatchesOrParentMatches). */
bool dockerignore_excluded(const struct dockerignore *di, const char *path);

/* Walker form, the same answer computed from the parent directory's state:
 * bits has dockerignore_npatterns() bytes; parent_bits is the parent's
 * (NULL for entries at the top of the context). */
size_t dockerignore_npatterns(const struct dockerignore *di);
bool dockerignore_excluded_child(const struct dockerignore *di, const char *path,
				 const unsigned char *parent_bits, unsigned char *bits);

bool dockerignore_has_exceptions(const struct dockerignore *di);

/* For an excluded directory dir: false when no exception pattern can match
 * anything below it, so the walker may skip the whole directory; true when
 * it must descend and test each entry (conservative: patterns with "**" or
 * odd classes always answer true). */
bool dockerignore_may_reinclude_below(const struct dockerignore *di, const char *dir);

/* The compiled patterns as cleaned (exceptions with '!'), for messages and
 * cache keys. NULL-terminated, owned by di. */
char *const *dockerignore_patterns(const struct dockerignore *di);
