#include "supervise/reap.h"

#include <errno.h>
#include <stdio.h>

#include "cgroup/cgroup.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/log.h"
#include "util/timefmt.h"

bool supervise_alive(const struct container *c)
{
	return c->runtime && proc_alive((pid_t)json_get_int(c->runtime, "SupervisorPid", 0),
					(uint64_t)json_get_int(c->runtime, "SupervisorStart", 0));
}

int supervise_reap_orphan(struct container_store *cs, struct container *c, int exit_code,
			  const char *why, struct scow_error **err)
{
	const char *path = json_get_str(c->runtime, "CgroupPath");
	if (path) {
		struct cgroup *cg = NULL;
		_cleanup_error_ struct scow_error *e = NULL;
		if (cgroup_open(NULL, path, &cg, &e) == 0) {
			if (cgroup_kill_all(cg, &e) < 0 || cgroup_destroy(cg, &e) < 0)
				log_warn("clean up cgroup %s: %s", path, e->msg);
			cgroup_free(cg);
		}
	}
	char now[64];
	time_now_rfc3339(now, sizeof(now));
	json_set_str(c->state, "Status", "exited");
	json_set_int(c->state, "ExitCode", exit_code);
	json_set_int(c->state, "Pid", 0);
	json_set_str(c->state, "FinishedAt", now);
	if (why)
		json_set_str(c->state, "Error", why);
	c->status = CTR_EXITED;
	c->orphaned = NULL;
	container_save_runtime(cs, c->id, NULL, NULL);
	json_decref(c->runtime);
	c->runtime = NULL;
	if (json_get_bool(json_get_obj(c->config, "HostConfig"), "AutoRemove", false))
		return container_delete(cs, c, err);
	return container_save_state(cs, c, err);
}
