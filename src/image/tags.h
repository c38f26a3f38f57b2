/* A repository's tags, from its registry (GET /v2/<name>/tags/list, paged
 * with n and last as the distribution spec says). For `pull --all-tags`. */
#pragma once

#include "image/reference.h"
#include "image/regconf.h"
#include "image/registry.h"

/* The tags of ref's repository, sorted; ref's tag and digest are ignored. */
int registry_list_tags(const struct regconf *conf, const struct registry_opts *opts,
		       const struct image_ref *ref, char ***ret, struct scow_error **err);
