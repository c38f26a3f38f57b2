/* Pulling an image: manifest (index -> platform), config, then layers in
 * parallel, each in one streaming pass (HTTP body -> SHA-256 of the blob ->
 * inflate -> SHA-256 of the tar -> safe extraction), renamed into the store
 * only when both digests and the size match. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "image/regconf.h"
#include "image/registry.h"
#include "image/store.h"
#include "util/digest.h"
#include "util/error.h"

enum pull_event_kind {
	PULL_EV_START,	     /* name: the reference, as in "latest: Pulling from library/x" */
	PULL_EV_LAYER_EXISTS,
	PULL_EV_LAYER_WAIT,  /* queued */
	PULL_EV_LAYER_PROGRESS,
	PULL_EV_LAYER_RETRY, /* msg says why */
	PULL_EV_LAYER_DONE,
};

struct pull_event {
	enum pull_event_kind kind;
	int layer;	    /* index in the manifest */
	const char *digest; /* the layer's blob digest */
	int64_t current, total;
	const char *msg;
};

/* Called from several threads, never at once (the puller serialises). */
typedef void (*pull_progress_fn)(void *opaque, const struct pull_event *ev);

struct pull_opts {
	const char *platform; /* "os/arch[/variant]" or NULL for this host */
	struct registry_opts reg;
	int max_parallel; /* 0: the configuration's */
	pull_progress_fn progress;
	void *progress_opaque;
};

struct pull_result {
	char id[DIGEST_STR_LEN + 1];
	char digest[DIGEST_STR_LEN + 1]; /* what the reference resolved to */
	char *ref;			 /* full reference pulled */
	bool changed;			 /* a new image, or the tag moved */
	int layers_fetched;
};

void pull_result_release(struct pull_result *r);

int image_pull(struct image_store *s, const struct regconf *conf, const char *name,
	       const struct pull_opts *opts, struct pull_result *ret, struct scow_error **err);
