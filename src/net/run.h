/* A container's networking at its start and end, from its record (the
 * shape container_net_config writes: HostConfig.NetworkMode,
 * NetworkingConfig.EndpointsConfig, Scow.Publish, HostConfig.PublishAllPorts
 * with Config.ExposedPorts, HostConfig.Links). For the supervisor. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

/* Whether the container gets bridge networking (not host, none). */
bool net_run_wanted(json_t *config);
/* Connects the container whose init is pid (in its own network namespace,
 * not yet running anything of the image's) to its networks and publishes
 * its ports. *ret_settings: Docker's NetworkSettings. Undone on failure. */
int net_run_setup(const char *root, const char *runroot, const char *id, json_t *config,
		  const char *hosts_path, pid_t pid, uint64_t pid_start, json_t **ret_settings,
		  struct scow_error **err);
/* Undoes it once the container has ended; failures are logged.
 * defer_links: see net_container_teardown. */
void net_run_teardown(const char *root, const char *runroot, const char *id,
		      char ***defer_links);
/* Deletes the host-side veths a teardown listed (endpoint.c); ones the
 * kernel already removed with the container's namespace are fine. */
void net_links_delete(char **links);
