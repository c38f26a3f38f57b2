/* --network container:NAME|ID: the container shares the network namespace
 * of another, running, container (Docker's "container" network mode).
 *
 * create: the target must exist; its full id is stored (HostConfig.
 * NetworkMode "container:<id>", as Docker stores it), the options that
 * configure a network of the container's own are refused with Docker's
 * messages, and the hostname and domain name are the target's. run also
 * wants the target running, so that a refused run leaves nothing behind.
 *
 * start: the target is resolved again and must be running then; the
 * namespace of its first process is opened (ns_open_net: never a recycled
 * pid) and entered by the new container right after its clone. The target's
 * /etc/hosts, /etc/resolv.conf and /etc/hostname are bound (Docker binds the
 * target's files too), so both see the same names. The joiner owns nothing
 * of the network: no veth, no address, no nft rule, nothing to tear down;
 * when the target stops, the joiner keeps the namespace it holds. */
#include "cmd/run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/containers.h"
#include "ns/exec.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define JOIN_PREFIX "container:"
/* A joiner's target may itself be a joiner: its files are those of the
 * container at the end of the chain. */
#define JOIN_MAX_DEPTH 16

static bool any_set(const struct opts *o, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		if (!opt_declared(o, names[i]))
			continue;
		if (opt_list(o, names[i], &k) && k)
			return true;
	}
	return false;
}

/* Docker's checks (runconfig validateNetContainerMode), in its order. */
static int join_conflicts(const struct opts *o, struct scow_error **err)
{
	static const char *const dns[] = {"dns", "dns-search", "dns-option", "dns-opt"};
	static const char *const links[] = {"link"}, *const hosts[] = {"add-host"};
	static const char *const publish[] = {"publish"}, *const expose[] = {"expose"};
	static const char *const alias[] = {"network-alias"};
	if (opt_str(o, "hostname"))
		return error_set(err, EINVAL, "conflicting options: hostname and the network mode");
	if (any_set(o, links, 1))
		return error_set(err, EINVAL,
				 "conflicting options: container type network can't be used with "
				 "links. This would result in undefined behavior");
	if (any_set(o, dns, ARRAY_SIZE(dns)))
		return error_set(err, EINVAL, "conflicting options: dns and the network mode");
	if (any_set(o, hosts, 1))
		return error_set(err, EINVAL,
				 "conflicting options: custom host-to-IP mapping and the network mode");
	if (opt_str(o, "mac-address"))
		return error_set(err, EINVAL, "conflicting options: mac-address and the network mode");
	if (any_set(o, publish, 1) || opt_bool(o, "publish-all"))
		return error_set(err, EINVAL,
				 "conflicting options: port publishing and the container type "
				 "network mode");
	if (any_set(o, expose, 1))
		return error_set(err, EINVAL,
				 "conflicting options: port exposing and the container type network "
				 "mode");
	if (any_set(o, alias, 1))
		return error_set(err, EINVAL, "network-scoped alias is supported only for "
					      "containers in user defined networks");
	if (opt_str(o, "ip"))
		return error_set(err, EINVAL,
				 "user specified IP address is supported on user defined networks "
				 "only");
	return 0;
}

static bool is_up(const struct container *c)
{
	return c->status == CTR_RUNNING || c->status == CTR_PAUSED;
}

static int not_running(const struct container *t, struct scow_error **err)
{
	if (t->status == CTR_RESTARTING)
		return error_set(err, EINVAL,
				 "cannot join network namespace of container: Container %s is "
				 "restarting, wait until the container is running",
				 t->id);
	/* Not EBUSY: start takes that for "already running". */
	return error_set(err, EINVAL,
			 "cannot join network namespace of a non running container: container %s "
			 "is %s",
			 t->name, container_status_name(t->status));
}

int container_net_join_config(struct scow_ctx *ctx, const struct opts *o, const char *mode,
			      json_t *img_cfg, json_t *c, struct scow_error **err)
{
	const char *ref = mode + strlen(JOIN_PREFIX);
	if (!*ref)
		return error_set(err, EINVAL, "Invalid network mode: invalid container format "
					      "container:<name|id>");
	if (join_conflicts(o, err) < 0)
		return -1;
	struct container_store cs;
	if (container_store_open(ctx->root, ctx->runroot, &cs, err) < 0)
		return -1;
	struct container t;
	int r = cmd_load_container(&cs, ref, false, &t, err);
	container_store_close(&cs);
	if (r < 0)
		return -1;
	/* run starts at once: refuse before anything is created. create
	 * leaves it to the start, as Docker does (the target may be started
	 * in between). */
	if (opt_declared(o, "detach") && !is_up(&t)) {
		not_running(&t, err);
		container_release(&t);
		return -1;
	}
	json_t *host = json_get_obj(c, "HostConfig"), *cfg = json_get_obj(c, "Config");
	json_t *tcfg = json_get_obj(t.config, "Config");
	_cleanup_free_ char *nm = xasprintf(JOIN_PREFIX "%s", t.id);
	json_set_str(host, "NetworkMode", nm);
	json_set_str(cfg, "Hostname", json_get_str(tcfg, "Hostname") ? json_get_str(tcfg, "Hostname")
								   : "");
	json_set_str(cfg, "Domainname",
		     json_get_str(tcfg, "Domainname") ? json_get_str(tcfg, "Domainname") : "");
	container_release(&t);
	/* The image's EXPOSE stays as information, as Docker keeps it. */
	json_t *exposed = json_deep_copy(json_get_obj(img_cfg, "ExposedPorts"));
	if (exposed && json_object_size(exposed))
		json_object_set_new(cfg, "ExposedPorts", exposed);
	else
		json_decref(exposed);
	json_object_set_new(c, "NetworkingConfig", json_pack("{s{}}", "EndpointsConfig"));
	json_object_set_new(host, "PortBindings", json_object());
	json_object_set_new(host, "PublishAllPorts", json_false());
	json_object_set_new(host, "Links", json_null());
	json_object_set_new(host, "Dns", json_array());
	json_object_set_new(host, "DnsSearch", json_array());
	json_object_set_new(host, "DnsOptions", json_array());
	json_object_set_new(host, "ExtraHosts", json_null());
	return 0;
}

void container_net_files_owner(struct container_store *cs, const struct container *t,
			       char ret[CONTAINER_ID_LEN + 1])
{
	snprintf(ret, CONTAINER_ID_LEN + 1, "%s", t->id);
	const char *mode = json_get_str(json_get_obj(t->config, "HostConfig"), "NetworkMode");
	_cleanup_free_ char *next = str_starts_with(mode, JOIN_PREFIX)
					    ? xstrdup(mode + strlen(JOIN_PREFIX))
					    : NULL;
	for (int depth = 0; next && depth < JOIN_MAX_DEPTH; depth++) {
		char id[CONTAINER_ID_LEN + 1];
		struct container u;
		_cleanup_error_ struct scow_error *e = NULL;
		if (container_resolve(cs, next, id, &e) < 0 || container_load(cs, id, false, &u, &e) < 0)
			return;
		snprintf(ret, CONTAINER_ID_LEN + 1, "%s", u.id);
		mode = json_get_str(json_get_obj(u.config, "HostConfig"), "NetworkMode");
		free(next);
		next = str_starts_with(mode, JOIN_PREFIX) ? xstrdup(mode + strlen(JOIN_PREFIX)) : NULL;
		container_release(&u);
	}
}

static void replace(char **field, const char *value)
{
	free(*field);
	*field = value && *value ? xstrdup(value) : NULL;
}

int container_net_join_spec(struct container_store *cs, const char *id, json_t *config,
			    struct spawn_spec *s, struct scow_error **err)
{
	const char *mode = json_get_str(json_get_obj(config, "HostConfig"), "NetworkMode");
	if (!str_starts_with(mode, JOIN_PREFIX))
		return 0;
	const char *ref = mode + strlen(JOIN_PREFIX);
	char tid[CONTAINER_ID_LEN + 1];
	if (container_resolve(cs, ref, tid, err) < 0)
		return error_wrap(err, "joining network namespace of container");
	if (strcmp(tid, id) == 0)
		return error_set(err, EINVAL, "cannot join own network namespace");
	struct container t;
	if (cmd_load_container(cs, tid, false, &t, err) < 0)
		return error_wrap(err, "joining network namespace of container");
	int fd = -1;
	if (!is_up(&t)) {
		not_running(&t, err);
	} else {
		fd = ns_open_net((pid_t)json_get_int(t.runtime, "Pid", 0),
				 (uint64_t)json_get_int(t.runtime, "PidStart", 0), err);
		/* It stopped since its record was read. */
		if (fd < 0 && (*err)->errnum == ESRCH) {
			error_freep(err);
			t.status = CTR_EXITED;
			not_running(&t, err);
		}
	}
	if (fd < 0) {
		container_release(&t);
		return -1;
	}
	json_t *tcfg = json_get_obj(t.config, "Config");
	replace(&s->hostname, json_get_str(tcfg, "Hostname"));
	replace(&s->domainname, json_get_str(tcfg, "Domainname"));
	char owner[CONTAINER_ID_LEN + 1];
	container_net_files_owner(cs, &t, owner);
	container_release(&t);
	free(s->hosts_file), free(s->resolv_file), free(s->hostname_file);
	s->hosts_file = container_path(cs, owner, "hosts");
	s->resolv_file = container_path(cs, owner, "resolv.conf");
	s->hostname_file = container_path(cs, owner, "hostname");
	s->net = NET_JOIN;
	s->netns_fd = fd;
	return 0;
}
