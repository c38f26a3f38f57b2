/* scow update: changes the resource limits (and the restart policy) of
 * containers. A running or paused container gets the new values written to
 * its cgroup first; the record changes only once the kernel took them. A
 * stopped container's record alone changes: its next start applies it. */
#include <errno.h>
#include <stdio.h>

#include "cgroup/cgroup.h"
#include "cmd/containers.h"
#include "cmd/run.h"
#include "util/cleanup.h"
#include "util/json.h"

const struct opt_def cmd_update_opts[] = {
	{"blkio-weight", 0, OPT_VALUE, "uint16",
	 "Block IO (relative weight), between 10 and 1000, or 0 to disable", "0"},
	{"cpu-period", 0, OPT_VALUE, "int", "Limit CPU CFS (Completely Fair Scheduler) period", NULL},
	{"cpu-quota", 0, OPT_VALUE, "int", "Limit CPU CFS (Completely Fair Scheduler) quota", NULL},
	{"cpu-shares", 'c', OPT_VALUE, "int", "CPU shares (relative weight)", NULL},
	{"cpus", 0, OPT_VALUE, "decimal", "Number of CPUs", NULL},
	{"cpuset-cpus", 0, OPT_VALUE, "string", "CPUs in which to allow execution (0-3, 0,1)", NULL},
	{"cpuset-mems", 0, OPT_VALUE, "string", "MEMs in which to allow execution (0-3, 0,1)", NULL},
	{"memory", 'm', OPT_VALUE, "bytes", "Memory limit", NULL},
	{"memory-reservation", 0, OPT_VALUE, "bytes", "Memory soft limit", NULL},
	{"memory-swap", 0, OPT_VALUE, "bytes",
	 "Swap limit equal to memory plus swap: -1 to enable unlimited swap", NULL},
	{"pids-limit", 0, OPT_VALUE, "int", "Tune container pids limit (set -1 for unlimited)", NULL},
	{"restart", 0, OPT_VALUE, "string", "Restart policy to apply when a container exits", NULL},
	OPT_END,
};

static int apply_running(const struct container *c, const struct limits_spec *ls,
			 struct scow_error **err)
{
	const char *path = json_get_str(c->runtime, "CgroupPath");
	if (!path)
		return error_set(err, ENOTSUP, "the container has no cgroup");
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	if (cgroup_open(NULL, path, &cg, err) < 0)
		return -1;
	return cgroup_set_limits(cg, &ls->l, err);
}

static int update_one(struct container_store *cs, const char *ref, const struct opts *o,
		      void *opaque, struct scow_error **err)
{
	(void)opaque;
	struct container c;
	if (cmd_load_container(cs, ref, true, &c, err) < 0)
		return -1;
	_cleanup_json_ json_t *host = json_deep_copy(json_get_obj(c.config, "HostConfig"));
	struct limits_spec ls;
	int r = container_limits_update(o, host, &ls, err);
	bool running = c.status == CTR_RUNNING || c.status == CTR_PAUSED;
	if (r == 0 && running && ls.any)
		r = apply_running(&c, &ls, err);
	if (r == 0) {
		json_object_set(c.config, "HostConfig", host);
		r = container_save_config(cs, &c, err);
	}
	if (r < 0)
		error_wrap(err, "Cannot update container %s", c.id);
	limits_spec_release(&ls);
	container_release(&c);
	return r;
}

int cmd_update(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	/* Values are checked before any container is touched (exit 125). */
	if (container_limits_update_check(o, err) < 0)
		return -1;
	return cmd_for_each_container(ctx, o, update_one, NULL, err);
}
