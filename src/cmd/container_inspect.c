/* inspect for containers: Docker's JSON shape. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/containers.h"
#include "cmd/run.h"
#include "image/store.h"
#include "net/network.h"
#include "state/volume.h"
#include "util/cleanup.h"
#include "util/format.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static json_t *state_json(const struct container *c)
{
	json_t *s = c->state;
	enum container_status st = c->status;
	return json_pack("{ss sb sb sb sb sb sI sI ss ss ss}", "Status", container_status_name(st),
			 "Running", st == CTR_RUNNING || st == CTR_PAUSED, "Paused", st == CTR_PAUSED,
			 "Restarting", st == CTR_RESTARTING, "OOMKilled",
			 json_get_bool(s, "OOMKilled", false), "Dead", st == CTR_DEAD, "Pid",
			 (json_int_t)(st == CTR_RUNNING || st == CTR_PAUSED
					      ? json_get_int(c->runtime, "Pid", 0)
					      : 0),
			 "ExitCode", (json_int_t)json_get_int(s, "ExitCode", 0), "Error",
			 json_get_str(s, "Error") ? json_get_str(s, "Error") : "", "StartedAt",
			 json_get_str(s, "StartedAt") ? json_get_str(s, "StartedAt")
						      : "0001-01-01T00:00:00Z",
			 "FinishedAt",
			 json_get_str(s, "FinishedAt") ? json_get_str(s, "FinishedAt")
						       : "0001-01-01T00:00:00Z");
}

static json_t *mounts_json(const char *root, json_t *scow)
{
	json_t *out = json_array();
	size_t i;
	json_t *m;
	json_array_foreach(json_get_arr(scow, "Mounts"), i, m) {
		bool ro = json_get_bool(m, "ReadOnly", false);
		const char *kind = json_get_str(m, "Kind"), *prop = json_get_str(m, "Propagation");
		json_t *j = json_pack("{ss ss ss sb}", "Type", kind, "Destination",
				      json_get_str(m, "Target"), "Mode", ro ? "ro" : "", "RW", !ro);
		if (str_eq(kind, "volume")) {
			const char *name = json_get_str(m, "Source");
			_cleanup_free_ char *data = volume_data_path(root, name ? name : "");
			json_set_str(j, "Name", name);
			json_set_str(j, "Source", data);
			json_set_str(j, "Driver", "local");
			json_set_str(j, "Mode", ro ? "ro" : "z");
		} else {
			json_set_str(j, "Source", str_eq(kind, "bind") ? json_get_str(m, "Source") : "");
		}
		json_set_str(j, "Propagation", str_eq(kind, "bind") ? (prop && *prop ? prop : "rprivate")
								  : "");
		json_array_append_new(out, j);
	}
	return out;
}

/* A running container's live NetworkSettings (network connect/disconnect
 * change them after the start), else the empty shape. */
static json_t *network_settings(struct container_store *cs, const struct container *c)
{
	bool up = c->status == CTR_RUNNING || c->status == CTR_PAUSED;
	if (up && json_get_obj(c->runtime, "NetworkSettings")) {
		struct net_store ns;
		json_t *live = NULL;
		_cleanup_error_ struct scow_error *e = NULL;
		if (net_store_open(cs->root, cs->runroot, &ns, &e) == 0) {
			net_container_settings(&ns, c->id, &live, &e);
			net_store_close(&ns);
		}
		if (live)
			return live;
		return json_incref(json_get_obj(c->runtime, "NetworkSettings"));
	}
	return json_pack("{ss ss sb ss si so ss sn sn ss ss ss si si ss ss so}", "Bridge", "",
			 "SandboxID", "", "HairpinMode", 0, "LinkLocalIPv6Address", "",
			 "LinkLocalIPv6PrefixLen", 0, "Ports", json_object(), "SandboxKey", "",
			 "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID", "",
			 "Gateway", "", "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0,
			 "IPPrefixLen", 0, "IPAddress", "", "MacAddress", "", "Networks",
			 json_object());
}

static json_t *graph_driver(struct container_store *cs, struct image_store *is,
			    const struct container *c)
{
	json_t *data = json_object();
	json_t *layers = json_get_arr(json_get_obj(c->config, "Scow"), "Layers");
	_cleanup_sb_ struct strbuf lower = STRBUF_INIT;
	for (size_t i = json_array_size(layers); is && i-- > 0;) {
		_cleanup_free_ char *p =
			layer_diff_path(&is->layers, json_string_value(json_array_get(layers, i)));
		sb_printf(&lower, "%s%s", lower.len ? ":" : "", p);
	}
	_cleanup_free_ char *merged = container_path(cs, c->id, "merged");
	_cleanup_free_ char *upper = container_path(cs, c->id, "upper");
	_cleanup_free_ char *work = container_path(cs, c->id, "work");
	json_set_str(data, "LowerDir", sb_str(&lower));
	json_set_str(data, "MergedDir", merged);
	json_set_str(data, "UpperDir", upper);
	json_set_str(data, "WorkDir", work);
	return json_pack("{so ss}", "Data", data, "Name", "overlay");
}

json_t *container_inspect_json(struct container_store *cs, struct image_store *is,
			       const struct container *c);

json_t *container_inspect_json(struct container_store *cs, struct image_store *is,
			       const struct container *c)
{
	json_t *cfg = c->config;
	json_t *j = json_object();
	json_set_str(j, "Id", c->id);
	json_set_str(j, "Created", json_get_str(cfg, "Created"));
	json_set_str(j, "Path", json_get_str(cfg, "Path"));
	json_t *args = json_get_arr(cfg, "Args");
	json_object_set_new(j, "Args", args ? json_incref(args) : json_array());
	json_object_set_new(j, "State", state_json(c));
	json_set_str(j, "Image", json_get_str(cfg, "Image"));
	char files[CONTAINER_ID_LEN + 1]; /* a --network container:X joiner uses X's */
	container_net_files_owner(cs, c, files);
	_cleanup_free_ char *resolv = container_path(cs, files, "resolv.conf");
	_cleanup_free_ char *hostname = container_path(cs, files, "hostname");
	_cleanup_free_ char *hosts = container_path(cs, files, "hosts");
	_cleanup_free_ char *logpath = container_path(cs, c->id, "ctr.log");
	json_set_str(j, "ResolvConfPath", resolv);
	json_set_str(j, "HostnamePath", hostname);
	json_set_str(j, "HostsPath", hosts);
	json_set_str(j, "LogPath", logpath);
	json_set_str(j, "Name", json_get_str(cfg, "Name"));
	json_set_int(j, "RestartCount", json_get_int(c->state, "RestartCount", 0));
	json_set_str(j, "Driver", "overlay");
	json_set_str(j, "Platform", "linux");
	json_set_str(j, "MountLabel", "");
	json_set_str(j, "ProcessLabel", "");
	json_set_str(j, "AppArmorProfile", "");
	json_object_set_new(j, "ExecIDs", json_null());
	json_object_set(j, "HostConfig", json_get_obj(cfg, "HostConfig"));
	json_object_set_new(j, "GraphDriver", graph_driver(cs, is, c));
	json_object_set_new(j, "Mounts", mounts_json(cs->root, json_get_obj(cfg, "Scow")));
	json_object_set(j, "Config", json_get_obj(cfg, "Config"));
	json_object_set_new(j, "NetworkSettings", network_settings(cs, c));
	return j;
}

/* Appends the container's inspect JSON; 1 if no such container. */
int container_inspect_one(struct container_store *cs, struct image_store *is, const char *ref,
			  json_t *out, struct scow_error **err);

int container_inspect_one(struct container_store *cs, struct image_store *is, const char *ref,
			  json_t *out, struct scow_error **err)
{
	struct container c;
	_cleanup_error_ struct scow_error *e = NULL;
	if (cmd_load_container(cs, ref, false, &c, &e) < 0) {
		if (e->errnum == ENOENT)
			return 1;
		*err = steal_ptr(&e);
		return -1;
	}
	json_array_append_new(out, container_inspect_json(cs, is, &c));
	container_release(&c);
	return 0;
}

const struct opt_def cmd_container_inspect_opts[] = {
	{"format", 'f', OPT_VALUE, "string", "Format output using a custom template", NULL},
	{"size", 's', OPT_BOOL, NULL, "Display total file sizes", NULL},
	OPT_END,
};

int cmd_container_inspect(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct image_store is;
	bool have_is = cmd_open_images(ctx, &is, NULL) == 0;
	_cleanup_json_ json_t *items = json_array();
	int status = 0, r = 0;
	for (int i = 0; r == 0 && i < o->nargs; i++) {
		r = container_inspect_one(&cs, have_is ? &is : NULL, o->args[i], items, err);
		if (r > 0) {
			fprintf(stderr, "Error: No such container: %s\n", o->args[i]);
			status = 1;
			r = 0;
		}
	}
	if (have_is)
		image_store_close(&is);
	container_store_close(&cs);
	if (r < 0 || format_inspect(stdout, opt_str(o, "format"), items, err) < 0)
		return cmd_fail(err);
	return status;
}
