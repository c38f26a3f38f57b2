/* Dockerfile parser: the whole current Dockerfile reference, with Docker's
 * (BuildKit's) rules for parser directives, comments, line continuations,
 * heredocs, flags, and JSON (exec) versus shell form.
 *
 * The parser does no variable expansion: fields hold the text as written
 * (for ENV/LABEL/ARG values and ADD/COPY paths that includes quotes and
 * escapes, which expansion removes). src/build/plan.h turns instructions
 * into steps with expanded arguments; df_instruction_expand() does it for
 * one instruction.
 *
 * Errors read like Docker's: "Dockerfile parse error on line 3: unknown
 * instruction: FORM", "the Dockerfile cannot be empty", "Dockerfile parse
 * error on line 1: no build stage in current context".
 *
 * Known differences from Docker, on purpose: an ONBUILD trigger is checked
 * like any instruction where it is written (Docker only checks it in the
 * child build); STOPSIGNAL and ARG ignore flags as Docker does, every other
 * instruction rejects unknown ones; NUL bytes end a line's text; JSON that
 * jansson refuses but Go accepts (invalid UTF-8, \u0000) is shell form. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

enum df_kind {
	DF_ADD,
	DF_ARG,
	DF_CMD,
	DF_COPY,
	DF_ENTRYPOINT,
	DF_ENV,
	DF_EXPOSE,
	DF_FROM,
	DF_HEALTHCHECK,
	DF_LABEL,
	DF_MAINTAINER,
	DF_ONBUILD,
	DF_RUN,
	DF_SHELL,
	DF_STOPSIGNAL,
	DF_USER,
	DF_VOLUME,
	DF_WORKDIR,
};

/* A here-document: `RUN <<EOF`, `COPY <<-"EOF" /dst`, `RUN 3<<EOF ...`. */
struct df_heredoc {
	char *name;    /* the delimiter, quotes removed */
	char *content; /* the body as written, each line with its line ending;
			  tabs are NOT stripped here even with chomp */
	unsigned fd;   /* N of N<<EOF, 0 when absent */
	bool chomp;    /* <<-: leading tabs of body lines (and of the delimiter) go */
	bool expand;   /* delimiter unquoted: ADD/COPY bodies get variable expansion */
};

/* ENV and LABEL pairs (value always set), ARG declarations (value NULL
 * when there is no default). As parsed the strings are raw; after
 * expansion they are final. */
struct df_kv {
	char *key;
	char *value;
};

/* A heredoc used as an ADD/COPY source: a file named path with data. */
struct df_inline_file {
	char *path;   /* the heredoc name: the file created under the destination */
	char *data;   /* the body, tabs already stripped for <<- */
	bool expand;  /* expansion applies (df_instruction_expand did it) */
};

enum df_mount_type { DF_MOUNT_BIND, DF_MOUNT_CACHE, DF_MOUNT_TMPFS, DF_MOUNT_SECRET, DF_MOUNT_SSH };
enum df_mount_sharing { DF_SHARING_SHARED, DF_SHARING_PRIVATE, DF_SHARING_LOCKED };

/* RUN --mount=..., decoded from the CSV spec after expansion. */
struct df_mount {
	enum df_mount_type type; /* default bind */
	char *from;		 /* stage name/index or image (bind, cache); NULL = context */
	char *source;		 /* path in from (bind, cache) or secret source */
	char *target;		 /* mount point; NULL when not given */
	char *id;		 /* cache/secret/ssh id */
	char *env;		 /* secret: environment variable to set */
	enum df_mount_sharing sharing;
	bool readonly;		 /* default: true for bind/secret/ssh, false for cache/tmpfs */
	bool required;		 /* secret, ssh */
	bool has_mode, has_uid, has_gid;
	unsigned mode, uid, gid;
	long long size;		 /* tmpfs size in bytes, 0 = unlimited */
};

/* HEALTHCHECK: test is {"NONE"}, {"CMD", argv...} (exec form) or
 * {"CMD-SHELL", command} (shell form), as in an image config. Durations are
 * nanoseconds, 0 meaning "not set" (inherit). */
struct df_healthcheck {
	char **test;
	long long interval, timeout, start_period, start_interval;
	int retries;
};

struct df_instruction {
	enum df_kind kind;
	char *cmd;	/* the keyword as written: "run", "RUN", "Run" */
	int line;	/* first line (1-based) */
	int end_line;	/* last line, continuation lines and heredoc bodies included */
	char *original; /* the logical line: continuations joined, comment lines inside
			   them dropped, trimmed; no heredoc bodies (Docker's "Step" text) */
	char **flags;	/* "--name=value" / "--name" as given (quotes processed) */
	/* Arguments as Docker's parser yields them:
	 *   RUN CMD ENTRYPOINT SHELL: json ? argv : {command line} (none if empty)
	 *   FROM: {image} or {image, "AS", name}; EXPOSE VOLUME ADD COPY: the words
	 *   (ADD/COPY: sources then destination); ARG: the words "NAME[=default]";
	 *   USER WORKDIR STOPSIGNAL MAINTAINER: {the rest of the line};
	 *   HEALTHCHECK: {TYPE, cmd...}; ONBUILD: {trigger line}; ENV LABEL: none. */
	char **args;
	bool json; /* exec (JSON array) form */
	struct df_heredoc *heredocs;
	size_t nheredocs;

	/* Decoded per kind. */
	struct df_kv *kvs; /* ENV, LABEL, ARG */
	size_t nkvs;
	struct {
		char *image;	/* base: image reference, "scratch" or a stage name */
		char *stage;	/* AS name, lower-cased; NULL if none */
		char *platform; /* --platform, NULL if none */
	} from;
	struct {
		char **mount_specs;	 /* raw --mount values */
		struct df_mount *mounts; /* decoded: filled by df_instruction_expand() */
		size_t nmounts;
		char *network;	/* --network: default|none|host, NULL if not given */
		char *security; /* --security: sandbox|insecure, NULL if not given */
	} run;
	struct {		/* ADD and COPY */
		char **srcs;	/* source paths/URLs (not heredocs) */
		struct df_inline_file *inline_srcs; /* heredoc sources */
		size_t ninline;
		char *dest;
		char *from;	/* COPY --from (stage name, index or image) */
		char *chown, *chmod, *checksum;
		char **excludes; /* --exclude patterns */
		bool link, parents, keep_git_dir;
		int unpack;	 /* ADD --unpack: -1 not given, else 0/1 */
	} copy;
	struct df_healthcheck health;
	struct df_instruction *trigger; /* ONBUILD: the wrapped instruction */
	char *onbuild_expr;		/* ONBUILD: the text stored in the image's OnBuild */
};

struct df_file {
	struct df_instruction *ins; /* in file order, the ARGs before the first FROM included */
	size_t nins;
	char escape;	/* '\\' or '`' */
	char *syntax;	/* "# syntax=" value or NULL (informational) */
	char **warnings; /* e.g. "Empty continuation line found in: RUN ..." */
};

/* Parses a whole Dockerfile held in memory (NUL bytes are not special). */
int df_parse(const char *buf, size_t len, struct df_file **ret, struct scow_error **err);
void df_file_free(struct df_file *f);
static inline void df_file_freep(struct df_file **f)
{
	df_file_free(*f);
}
#define _cleanup_df_file_ __attribute__((cleanup(df_file_freep)))

/* Parses image-config ONBUILD triggers (each one instruction, as stored by
 * a parent build) into a df_file whose instructions are the triggers in
 * order. ONBUILD, FROM and MAINTAINER triggers are refused as Docker does. */
int df_parse_triggers(char *const *triggers, struct df_file **ret, struct scow_error **err);

/* "RUN", "COPY", ...: the canonical upper-case keyword. */
const char *df_kind_name(enum df_kind k);

/* The instruction's full text as Docker keeps it: the logical line, then
 * for each heredoc "\n" + body + delimiter (what ONBUILD stores, and what a
 * cache key must cover). */
char *df_instruction_source(const struct df_instruction *in);

/* Deep copy / release of one instruction. */
struct df_instruction *df_instruction_dup(const struct df_instruction *in);
void df_instruction_release(struct df_instruction *in);
void df_instruction_free(struct df_instruction *in);

/* Expands in (a dup'ed instruction) in place with env ("KEY=VALUE", last
 * wins) the way Docker does for its kind: ENV/LABEL keys and values,
 * ADD/COPY sources, destination, --chown, --chmod, --checksum, --exclude
 * and expandable heredoc bodies (COPY --from is left alone: the plan
 * resolves it with the global ARGs), EXPOSE (split into words), USER,
 * WORKDIR, STOPSIGNAL, VOLUME (each; empty is an error), ARG defaults, RUN
 * --mount values (decoded into run.mounts; from= is never expanded), FROM
 * image and --platform. RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK,
 * MAINTAINER and ONBUILD are unchanged (the shell expands RUN/CMD/...). */
int df_instruction_expand(struct df_instruction *in, char escape, char *const *env,
			  struct scow_error **err);

/* Parses a RUN --mount value (already expanded) into m. */
int df_mount_parse(const char *spec, struct df_mount *m, struct scow_error **err);
void df_mount_release(struct df_mount *m);

/* Go's time.ParseDuration (HEALTHCHECK intervals): nanoseconds. */
int df_parse_duration(const char *s, long long *ret, struct scow_error **err);

/* How a RUN step runs, heredocs resolved as Docker does:
 *  - no heredoc: argv = args; prepend_shell unless exec form;
 *  - `RUN <<EOF` alone: the body is the shell command (tabs stripped for
 *    <<-), or, when it starts with "#!", it becomes an executable file
 *    /dev/pipes/NAME (inline_path/inline_data, mode 0755) that is run;
 *  - heredocs inside a longer command line: the line and bodies are joined
 *    back ("cmd <<EOF\nbody\nEOF") and handed to the shell. */
struct df_run_cmd {
	char **argv;	    /* the command; with prepend_shell, one string for SHELL + it */
	bool prepend_shell; /* run as [SHELL..., argv[0]] */
	char *inline_path;  /* set for the shebang case: file to provide (0755) */
	char *inline_data;
};
int df_run_cmd_resolve(const struct df_instruction *in, struct df_run_cmd *ret,
		       struct scow_error **err);
void df_run_cmd_release(struct df_run_cmd *c);

/* A heredoc word check ("<<EOF", "<<-'X'", "3<<EOF"): fills h (name, fd,
 * chomp, expand; no content) and returns 1, or returns 0 when word is no
 * heredoc, -1 on a lexing error. */
int df_heredoc_word(const char *word, struct df_heredoc *h, struct scow_error **err);
void df_heredoc_release(struct df_heredoc *h);
