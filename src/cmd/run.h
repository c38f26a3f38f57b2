/* run, create, start: shared between the command files. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "cgroup/cgroup.h"
#include "cmd/common.h"
#include "ns/seccomp_cache.h"
#include "ns/spawn.h"
#include "state/container.h"

/* Resource limits (container_limits.c): the cgroup limits a HostConfig asks
 * for (only those set), for the supervisor to write before the container's
 * first process runs; oom_score_adj 0 leaves the inherited value. */
struct limits_spec {
	struct cgroup_limits l;
	bool any; /* something to write */
	int oom_score_adj;
	struct cgroup_throttle *throttle;
	char *cpus, *mems;
};

/* A container's spawn spec and everything it points to. */
struct spec_store {
	struct spawn_spec spec;
	struct seccomp_bpf seccomp;
	struct cgroup_device_rule *rules;
	size_t n_rules;
	char *cgroup_parent;
	struct limits_spec limits;
};

/* The spec of a container's first process from its record. */
int spec_build(struct container_store *cs, struct image_store *is, json_t *config,
	       const char *id, struct spec_store *st, struct scow_error **err);
void spec_store_release(struct spec_store *st);

/* Builds the container's config (Docker-shaped: Config, HostConfig, ...)
 * from run/create options and the image; validates every value (exit 125
 * on bad input, nothing created). */
int container_config_build(struct scow_ctx *ctx, const struct opts *o, struct image_store *s,
			   const char *image_id, const char *image_name, json_t **ret,
			   struct scow_error **err);

/* Resource limits (container_limits.c). */
/* run/create: the limit options (-m, --cpus, --pids-limit, --device-*-bps,
 * --device-cgroup-rule, --cgroupns, --cgroup-parent, ...) checked with
 * Docker's rules and stored in HostConfig under Docker's names and units. */
int container_limits_config(const struct opts *o, json_t *host, struct scow_error **err);
/* start: HostConfig -> struct limits_spec (device throttles resolved to
 * MAJ:MIN now). */
int container_limits_spec(json_t *host, struct limits_spec *ret, struct scow_error **err);
void limits_spec_release(struct limits_spec *ls);
/* Appends HostConfig.DeviceCgroupRules to rules (reallocated). */
int container_limits_rules(json_t *host, struct cgroup_device_rule **rules, size_t *n,
			   struct scow_error **err);
/* update: the options' syntax and value checks (before any container). */
int container_limits_update_check(const struct opts *o, struct scow_error **err);
/* update: applies the options to host (a container's HostConfig) with
 * Docker's update rules; ret: only the limits that change, to write to the
 * cgroup of a running container. */
int container_limits_update(const struct opts *o, json_t *host, struct limits_spec *ret,
			    struct scow_error **err);

/* Network options (container_net.c): --network, -p, -P, --expose, --ip,
 * --network-alias, --mac-address, --link, --add-host, --dns* into the
 * config c (Docker's create shape); user networks must exist. */
int container_net_config(struct scow_ctx *ctx, const struct opts *o, json_t *img_cfg, json_t *c,
			 struct scow_error **err);
/* --network container:X (container_net_join.c). At create: the options
 * that conflict refused with Docker's messages, X resolved (and, for run,
 * running), HostConfig.NetworkMode "container:<X's id>" and X's hostname in
 * c. At start: X running, its network namespace opened into s (NET_JOIN)
 * and its hostname and /etc files given to s; nothing for other modes. */
int container_net_join_config(struct scow_ctx *ctx, const struct opts *o, const char *mode,
			      json_t *img_cfg, json_t *c, struct scow_error **err);
int container_net_join_spec(struct container_store *cs, const char *id, json_t *config,
			    struct spawn_spec *s, struct scow_error **err);
/* The container whose hosts, resolv.conf and hostname files c uses: c,
 * or for a joiner its target, or that one's target, and so on (one whose
 * target is gone has its own). */
void container_net_files_owner(struct container_store *cs, const struct container *c,
			       char ret[CONTAINER_ID_LEN + 1]);
/* The container's /etc/resolv.conf and /etc/hosts from its config. */
char *container_resolv_conf(json_t *config);
int container_hosts_file(struct scow_ctx *ctx, json_t *config, char **ret, struct scow_error **err);

/* Resolves (pulling per --pull) the image for run/create. */
int run_resolve_image(struct scow_ctx *ctx, const struct opts *o, const char *name,
		      char **ret_id, struct scow_error **err);

/* Before the record is written: adds --volumes-from's mounts and makes
 * every volume the container mounts exist (anonymous ones named then).
 * *ret_created: the anonymous volumes made, to remove if creation fails. */
int container_volumes_prepare(struct container_store *cs, const struct opts *o, json_t *config,
			      char ***ret_created, struct scow_error **err);

/* create: config + reserved name + directory. */
int container_create_from_opts(struct scow_ctx *ctx, const struct opts *o,
			       struct container_store *cs, char ret_id[CONTAINER_ID_LEN + 1],
			       struct scow_error **err);

struct start_opts {
	bool foreground; /* attached: stream output, wait, return the exit code */
	bool attach_stdin, attach_stdout, attach_stderr;
	bool sig_proxy;
	const char *detach_keys;
};

/* Starts a created or exited container. Foreground: returns the exit
 * status (>= 0). Detached: 0 once the container really runs. */
int container_start(struct scow_ctx *ctx, struct container_store *cs, const char *id,
		    const struct start_opts *so, struct scow_error **err);
