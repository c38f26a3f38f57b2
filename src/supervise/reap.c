#include "supervise/reap.h"

#include <errno.h>
#include <stdio.h>

#include "cgroup/cgroup.h"
#include "net/run.h"
#include "state/volume.h"
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
	/* The next network operation would reconcile it; do it now. */
	if (json_get_obj(c->runtime, "NetworkSettings"))
		net_run_teardown(cs->root, cs->runroot, c->id, NULL);
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
	/* An exit the supervisor recorded but could not write (a full disk)
	 * is the real one. */
	json_t *exit = json_get_obj(c->runtime, "Exit");
	json_set_str(c->state, "Status", "exited");
	json_set_int(c->state, "ExitCode", exit ? json_get_int(exit, "ExitCode", exit_code) : exit_code);
	json_set_int(c->state, "Pid", 0);
	json_set_str(c->state, "FinishedAt",
		     exit && json_get_str(exit, "FinishedAt") ? json_get_str(exit, "FinishedAt") : now);
	if (exit)
		json_object_set_new(c->state, "OOMKilled",
				    json_boolean(json_get_bool(exit, "OOMKilled", false)));
	else if (why)
		json_set_str(c->state, "Error", why);
	c->status = CTR_EXITED;
	c->orphaned = NULL;
	if (json_get_bool(json_get_obj(c->config, "HostConfig"), "AutoRemove", false)) {
		container_save_runtime(cs, c->id, NULL, NULL);
		_cleanup_strv_ char **volumes = volume_anonymous_of(c->config);
		if (container_delete(cs, c, err) < 0)
			return -1;
		volume_remove_unused(cs, volumes);
		return 0;
	}
	/* The runtime record goes only once the state is saved; until then
	 * the caller still sees the corrected state (a read must not fail
	 * because the disk is full) and the next command tries again. */
	_cleanup_error_ struct scow_error *e = NULL;
	if (container_save_state(cs, c, &e) < 0) {
		log_warn("container %.12s: %s", c->id, e->msg);
		return 0;
	}
	container_save_runtime(cs, c->id, NULL, NULL);
	json_decref(c->runtime);
	c->runtime = NULL;
	return 0;
}
