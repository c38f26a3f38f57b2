/* Shared between dockerfile.c (lines, continuations, heredocs, line-level
 * argument parsing) and dockerfile_ins.c (per-instruction checks, flags,
 * expansion, copies). Not for other modules. */
#pragma once

#include "build/dockerfile.h"

/* Instruction-level checks and decoding after the line-level parse and the
 * heredocs: argument counts, flags, FROM names, HEALTHCHECK, ADD/COPY
 * sources. Messages have no line prefix. */
int df_finish(struct df_instruction *in, char escape, struct scow_error **err);

/* Removes leading tabs from every line (what <<- does to a body). */
char *df_chomp(const char *s);

/* Go's strconv.ParseBool. */
int df_parse_bool(const char *s, bool *ret);
