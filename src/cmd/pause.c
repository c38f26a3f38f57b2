/* scow pause, unpause: freeze and thaw every process of a container through
 * its cgroup (v1 freezer, v2 cgroup.freeze). The state lives in the
 * container's runtime record (Status "paused"), which `ps` and `inspect`
 * read; it goes with the runtime record when the container ends. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "cmd/containers.h"
#include "util/cleanup.h"
#include "util/json.h"

const struct opt_def cmd_pause_opts[] = {OPT_END};
const struct opt_def cmd_unpause_opts[] = {OPT_END};

/* Freezes or thaws c (loaded with its lock) and records it. */
static int set_frozen(struct container_store *cs, struct container *c, bool frozen,
		      struct scow_error **err)
{
	const char *path = json_get_str(c->runtime, "CgroupPath");
	if (!path)
		return error_set(err, ENOTSUP, "container %.12s has no cgroup to %s", c->id,
				 frozen ? "freeze" : "thaw");
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	if (cgroup_open(NULL, path, &cg, err) < 0 || cgroup_freeze(cg, frozen, err) < 0)
		return -1;
	json_set_str(c->runtime, "Status", frozen ? "paused" : "running");
	if (container_save_runtime(cs, c->id, c->runtime, err) < 0) {
		/* Unrecorded, the change would surprise every other command. */
		_cleanup_error_ struct scow_error *e = NULL;
		cgroup_freeze(cg, !frozen, &e);
		return -1;
	}
	return 0;
}

int container_freeze(struct container_store *cs, const char *id, struct scow_error **err)
{
	struct container c;
	if (container_load(cs, id, true, &c, err) < 0)
		return -1;
	int r = c.status == CTR_RUNNING ? set_frozen(cs, &c, true, err)
					: error_set(err, EINVAL, "Container %s is not running", id);
	container_release(&c);
	return r;
}

int container_thaw(struct container_store *cs, const char *id)
{
	struct container c;
	_cleanup_error_ struct scow_error *e = NULL;
	if (container_load(cs, id, true, &c, &e) < 0)
		return -1;
	int r = c.status == CTR_PAUSED ? set_frozen(cs, &c, false, &e) : 0;
	container_release(&c);
	return r;
}

static int pause_one(struct container_store *cs, const char *ref, const struct opts *o,
		     void *opaque, struct scow_error **err)
{
	(void)o;
	bool pause = *(const bool *)opaque;
	struct container c;
	if (cmd_load_container(cs, ref, true, &c, err) < 0)
		return -1;
	int r;
	if (c.status != CTR_RUNNING && c.status != CTR_PAUSED)
		r = error_set(err, EINVAL, "Container %s is not running", c.id);
	else if (pause && c.status == CTR_PAUSED)
		r = error_set(err, EINVAL, "Container %s is already paused", c.id);
	else if (!pause && c.status != CTR_PAUSED)
		r = error_set(err, EINVAL, "Container %s is not paused", c.id);
	else
		r = set_frozen(cs, &c, pause, err);
	container_release(&c);
	return r;
}

int cmd_pause(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	bool pause = true;
	return cmd_for_each_container(ctx, o, pause_one, &pause, err);
}

int cmd_unpause(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	bool pause = false;
	return cmd_for_each_container(ctx, o, pause_one, &pause, err);
}
