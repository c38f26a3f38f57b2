/* The build executor: a Dockerfile and a context in, an image out, the
 * way Docker's classic builder makes it (one image per step, each step's
 * history entry and config, "Step N/M :" output, " ---> Using cache").
 *
 * What each instruction does:
 *  - FROM: the base image from the store (the caller pulls it when it is
 *    missing or with --pull), `scratch`, or an earlier stage's result; its
 *    ONBUILD triggers run right after it;
 *  - RUN: a container of the current image, made and started by the
 *    caller's runner (build_runner below: scow's real run machinery, which
 *    lives in src/cmd), whose upper dir then becomes the step's layer;
 *  - COPY/ADD: the layer is written directly as a tar (no container): the
 *    sources read in place from the context (or another image's file
 *    system), never outside it;
 *  - the rest change the config only (an "empty_layer" history entry),
 *    but for WORKDIR, which makes its directory in a layer when missing.
 *
 * Cache: ROOT/build-cache/index/<key> names the image a step made; the key
 * covers the parent image, the instruction as expanded (RUN: and the build
 * arguments it sees) and, for COPY/ADD, the names, modes, owners and
 * contents of everything it reads (not mtimes, as Docker). Entries whose
 * image is gone are ignored.
 *
 * Nothing is tagged unless the whole build succeeded; intermediate images
 * are untagged and remember their parent (image.json "parent"). */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "image/store.h"
#include "util/digest.h"
#include "util/error.h"

#define BUILD_CONTAINER_ID_LEN 64

/* One RUN step's container, as the runner is to make it. */
struct build_run_req {
	const char *image_id; /* "sha256:..." of the step's parent image */
	char **argv;	      /* the command (no entrypoint) */
	char **env;	      /* "K=V": added to the image's Env (build ARGs included) */
	const char *network;  /* "default", "none" or "host" */
	char **mounts;	      /* run's --mount values (bind mounts) */
	char **tmpfs;	      /* run's --tmpfs values */
};

/* The caller's container machinery (src/cmd/build.c). */
struct build_runner {
	void *opaque;
	/* Creates the step's container; its id (64 hex) in ret_id. */
	int (*create)(void *opaque, const struct build_run_req *req,
		      char ret_id[BUILD_CONTAINER_ID_LEN + 1], struct scow_error **err);
	/* Runs it to its end with its output on out_fd and err_fd; returns
	 * the exit status (>= 0) or -1 when it could not be run. */
	int (*start)(void *opaque, const char *id, int out_fd, int err_fd, struct scow_error **err);
	/* Opens the container's upper dir (O_DIRECTORY). */
	int (*upper_fd)(void *opaque, const char *id, struct scow_error **err);
	/* Removes the container (and its anonymous volumes). */
	int (*remove)(void *opaque, const char *id, struct scow_error **err);
	/* Resolves an image for FROM or COPY --from: from the store, pulled
	 * when missing (or always with pull); progress on out. */
	int (*image)(void *opaque, const char *name, bool pull, FILE *out, char **ret_id,
		     struct scow_error **err);
};

struct build_opts {
	const char *root; /* the store root: ROOT/build-cache lives there */
	bool rootless;
	struct image_store *is;

	/* The Dockerfile's bytes and, when it is inside the context, its path
	 * relative to the context root (for .dockerignore's rules). */
	const char *dockerfile;
	size_t dockerfile_len;
	const char *dockerfile_rel;
	/* The context directory; NULL: none (a Dockerfile from stdin). */
	const char *context;

	char *const *build_args; /* "K=V" or bare "K" */
	char *const *labels;	 /* "K=V" */
	char *const *tags;	 /* full references */
	const char *target;
	const char *network; /* default for RUN: "default" */
	bool no_cache, pull, quiet, rm, force_rm;
	/* Docker's legacy --squash: the layers the target stage added to its
	 * FROM image are merged into one (the history entries stay, marked
	 * empty_layer, plus one for the merged layer); the cache keeps the
	 * unsquashed steps. */
	bool squash;
	bool has_sde; /* SOURCE_DATE_EPOCH */
	time_t sde;

	FILE *out; /* the build's output: stdout, or /dev/null with -q */
	struct build_runner runner;
	/* Set by a signal handler: the build stops before its next step. */
	const volatile sig_atomic_t *interrupted;
};

/* Runs the build; ret_id: the final image ("sha256:..."), tagged with
 * o->tags. Errors are Docker's ("The command '/bin/sh -c false' returned a
 * non-zero code: 1"). */
int build_execute(const struct build_opts *o, char ret_id[DIGEST_STR_LEN + 1],
		  struct scow_error **err);

/* A context from a stream (stdin, a download): a tar, plain or
 * compressed, is extracted (through the layer extraction's checks) into a
 * private directory ROOT/build-cache/contexts/ctx-<random> (*ret_dir; its
 * lock held through *ret_lock until the caller is done, then
 * build_context_remove); anything else is taken as a Dockerfile
 * (*ret_dockerfile, *ret_len; *ret_dir NULL), as `docker build -` does. */
int build_stream_context(const char *root, int fd, char **ret_dir, int *ret_lock,
			 char **ret_dockerfile, size_t *ret_len, struct scow_error **err);
void build_context_remove(const char *root, const char *dir, int lock);

/* builder prune: empties ROOT/build-cache (index, cache mounts) and removes
 * the images builds made that have no tag and no container (in_use says
 * which images a container uses). ret_ids: what was removed; ret_bytes:
 * space reclaimed. */
int build_cache_prune(struct image_store *is, const char *root,
		      bool (*in_use)(void *opaque, const char *image_id), void *opaque,
		      char ***ret_ids, long long *ret_bytes, struct scow_error **err);
