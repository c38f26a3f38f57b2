/* Dockerfile instructions applied to an image's container config, as
 * `docker commit --change` and `docker import --change` do (moby's
 * dockerfile.BuildFromConfig): CMD, ENTRYPOINT, ENV, EXPOSE, HEALTHCHECK,
 * LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR; anything else is
 * "<word> is not a valid change command".
 *
 * Docker's parsing rules: the instruction word in any case; CMD and
 * ENTRYPOINT (and HEALTHCHECK CMD) in JSON form ["a","b"] are taken as they
 * are, in shell form they become SHELL (the config's, else
 * ["/bin/sh","-c"]) + the text; ENTRYPOINT clears Cmd unless a CMD came
 * earlier in the same changes; ENV and LABEL take key=value words (quotes
 * and backslashes as in a Dockerfile) or the old "KEY value" form; ENV,
 * LABEL, EXPOSE, USER, VOLUME, WORKDIR and STOPSIGNAL values go through
 * Dockerfile variable substitution ($V, ${V}, ${V:-x}, ${V-x}, ${V:+x},
 * ${V+x}) against the config's Env as it stands; a relative WORKDIR is
 * joined to the current one; EXPOSE ranges (8000-8002/udp) are expanded.
 * Each change is one line (a change holding newlines is several). */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "util/error.h"

/* Applies changes in order to cfg (the "config" object of an image
 * config; Docker's container config). On failure cfg may be half changed:
 * work on a copy. Errors are Docker's messages. */
int image_config_apply_changes(json_t *cfg, const char *const *changes, size_t n,
			       struct scow_error **err);
