/* scow network create, ls, inspect, rm, prune, connect, disconnect */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/containers.h"
#include "net/network.h"
#include "util/cleanup.h"
#include "util/format.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

static int open_networks(struct scow_ctx *ctx, struct net_store *ns, struct scow_error **err)
{
	if (ctx->rootless)
		return error_set(err, EPERM, "bridge networks need root (rootless networking is not "
					     "there yet)");
	return net_store_open(ctx->root, ctx->runroot, ns, err);
}

/* "key=value" options (--label, -o) into an object. */
static int kv_object(const struct opts *o, const char *name, json_t **ret, struct scow_error **err)
{
	size_t n;
	const char *const *v = opt_list(o, name, &n);
	_cleanup_json_ json_t *obj = json_object();
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(v[i], '=');
		_cleanup_free_ char *k = eq ? xstrndup(v[i], (size_t)(eq - v[i])) : xstrdup(v[i]);
		if (!*k)
			return error_set(err, EINVAL, "invalid argument \"%s\" for \"--%s\"", v[i],
					 name);
		json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
	}
	*ret = steal_ptr(&obj);
	return 0;
}

/* ---- create ---------------------------------------------------------------------------------- */

const struct opt_def cmd_network_create_opts[] = {
	{"attachable", 0, OPT_BOOL, NULL, "Enable manual container attachment", NULL},
	{"driver", 'd', OPT_VALUE, "string", "Driver to manage the Network", "\"bridge\""},
	{"gateway", 0, OPT_LIST, "strings", "IPv4 Gateway for the master subnet", NULL},
	{"internal", 0, OPT_BOOL, NULL, "Restrict external access to the network", NULL},
	{"ip-range", 0, OPT_LIST, "strings", "Allocate container ip from a sub-range", NULL},
	{"ipv6", 0, OPT_BOOL, NULL, "Enable IPv6 networking", NULL},
	{"label", 0, OPT_LIST, "list", "Set metadata on a network", NULL},
	{"opt", 'o', OPT_LIST, "map", "Set driver specific options", NULL},
	{"subnet", 0, OPT_LIST, "strings", "Subnet in CIDR format that represents a network segment",
	 NULL},
	OPT_END,
};

static const char *one_value(const struct opts *o, const char *name, struct scow_error **err,
			     bool *bad)
{
	size_t n;
	const char *const *v = opt_list(o, name, &n);
	if (n > 1) {
		error_set(err, ENOTSUP, "only one --%s is supported (IPv4)", name);
		*bad = true;
	}
	return n ? v[0] : NULL;
}

int cmd_network_create(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	_cleanup_json_ json_t *labels = NULL, *options = NULL, *net = NULL;
	bool bad = false;
	struct net_create_opts co = {
		.name = o->args[0],
		.driver = opt_str(o, "driver"),
		.subnet = one_value(o, "subnet", err, &bad),
		.gateway = one_value(o, "gateway", err, &bad),
		.ip_range = one_value(o, "ip-range", err, &bad),
		.internal = opt_bool(o, "internal"),
		.attachable = opt_bool(o, "attachable"),
		.ipv6 = opt_bool(o, "ipv6"),
	};
	if (bad || kv_object(o, "label", &labels, err) < 0 || kv_object(o, "opt", &options, err) < 0)
		return -1;
	co.labels = labels;
	co.options = options;
	struct net_store ns;
	if (open_networks(ctx, &ns, err) < 0)
		return cmd_fail(err);
	int r = net_create(&ns, &co, &net, err);
	net_store_close(&ns);
	if (r < 0)
		return cmd_fail(err);
	printf("%s\n", json_get_str(net, "Id"));
	return 0;
}

/* ---- ls ---------------------------------------------------------------------------------------- */

const struct opt_def cmd_network_ls_opts[] = {
	{"filter", 'f', OPT_LIST, "filter", "Provide filter values (e.g. \"driver=bridge\")", NULL},
	{"format", 0, OPT_VALUE, "string", "Format output using a custom template", NULL},
	{"no-trunc", 0, OPT_BOOL, NULL, "Do not truncate the output", NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Only display network IDs", NULL},
	OPT_END,
};

static const char *const filter_keys[] = {"driver", "id",   "label",   "name",
					  "scope",  "type", "dangling", "until", NULL};

/* filters: {key: [values]} */
static int parse_filters(const struct opts *o, json_t **ret, struct scow_error **err)
{
	size_t n;
	const char *const *v = opt_list(o, "filter", &n);
	_cleanup_json_ json_t *f = json_object();
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(v[i], '=');
		if (!eq)
			return error_set(err, EINVAL, "bad format of filter (expected name=value)");
		_cleanup_free_ char *k = xstrndup(v[i], (size_t)(eq - v[i]));
		bool known = false;
		for (size_t j = 0; filter_keys[j]; j++)
			known |= strcmp(filter_keys[j], k) == 0;
		if (!known)
			return error_set(err, EINVAL, "invalid filter '%s'", k);
		if (strcmp(k, "dangling") == 0 && strcmp(eq + 1, "true") && strcmp(eq + 1, "false") &&
		    strcmp(eq + 1, "1") && strcmp(eq + 1, "0"))
			return error_set(err, EINVAL, "invalid filter 'dangling=%s'", eq + 1);
		if (strcmp(k, "type") == 0 && strcmp(eq + 1, "custom") && strcmp(eq + 1, "builtin"))
			return error_set(err, EINVAL, "invalid filter: 'type'='%s'", eq + 1);
		json_t *arr = json_object_get(f, k);
		if (!arr) {
			arr = json_array();
			json_object_set_new(f, k, arr);
		}
		json_array_append_new(arr, json_string(eq + 1));
	}
	*ret = steal_ptr(&f);
	return 0;
}

static bool name_matches(const char *pattern, const char *name)
{
	if (strcmp(pattern, name) == 0)
		return true;
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	bool m = regexec(&re, name, 0, NULL, 0) == 0;
	regfree(&re);
	return m;
}

static bool label_matches(json_t *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	_cleanup_free_ char *k = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
	const char *have = json_get_str(labels, k);
	return have && (!eq || strcmp(have, eq + 1) == 0);
}

static bool one_matches(const char *key, const char *val, json_t *net)
{
	const char *name = json_get_str(net, "Name");
	if (strcmp(key, "driver") == 0)
		return str_eq(json_get_str(net, "Driver"), val);
	if (strcmp(key, "id") == 0)
		return str_starts_with(json_get_str(net, "Id"), val);
	if (strcmp(key, "name") == 0)
		return name_matches(val, name);
	if (strcmp(key, "label") == 0)
		return label_matches(json_get_obj(net, "Labels"), val);
	if (strcmp(key, "scope") == 0)
		return strcmp(val, "local") == 0;
	if (strcmp(key, "type") == 0)
		return net_is_predefined(net) == (strcmp(val, "builtin") == 0);
	if (strcmp(key, "dangling") == 0) {
		bool want = strcmp(val, "true") == 0 || strcmp(val, "1") == 0;
		bool dangling = !net_is_predefined(net) &&
				json_object_size(json_get_obj(net, "Containers")) == 0;
		return dangling == want;
	}
	if (strcmp(key, "until") == 0) {
		struct timespec until, created;
		char *end;
		long long secs = strtoll(val, &end, 10);
		if (*end == '\0')
			until = (struct timespec){secs, 0};
		else if (!time_parse_rfc3339(val, &until))
			return false;
		return time_parse_rfc3339(json_get_str(net, "Created"), &created) &&
		       created.tv_sec < until.tv_sec;
	}
	return false;
}

/* Values of one key are alternatives; keys must all match. */
static bool filters_match(json_t *filters, json_t *net)
{
	const char *key;
	json_t *vals;
	json_object_foreach(filters, key, vals) {
		bool any = false;
		size_t i;
		json_t *v;
		json_array_foreach(vals, i, v)
			any |= one_matches(key, json_string_value(v), net);
		if (!any)
			return false;
	}
	return true;
}

static json_t *ls_row(json_t *net, bool trunc)
{
	char id[65];
	snprintf(id, sizeof(id), trunc ? "%.12s" : "%s", json_get_str(net, "Id"));
	_cleanup_sb_ struct strbuf lab = STRBUF_INIT;
	const char *k;
	json_t *v;
	json_object_foreach(json_get_obj(net, "Labels"), k, v)
		sb_printf(&lab, "%s%s=%s", lab.len ? "," : "", k, json_string_value(v));
	return json_pack("{ss ss ss ss ss ss ss ss}", "ID", id, "Name", json_get_str(net, "Name"),
			 "Driver", json_get_str(net, "Driver"), "Scope", "local", "IPv6",
			 json_get_bool(net, "EnableIPv6", false) ? "true" : "false", "Internal",
			 json_get_bool(net, "Internal", false) ? "true" : "false", "Labels",
			 sb_str(&lab), "CreatedAt", json_get_str(net, "Created"));
}

int cmd_network_ls(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	_cleanup_json_ json_t *filters = NULL, *nets = NULL;
	if (parse_filters(o, &filters, err) < 0)
		return -1;
	struct net_store ns;
	if (open_networks(ctx, &ns, err) < 0)
		return cmd_fail(err);
	int r = net_list(&ns, &nets, err);
	net_store_close(&ns);
	if (r < 0)
		return cmd_fail(err);
	_cleanup_json_ json_t *rows = json_array();
	size_t i;
	json_t *net;
	json_array_foreach(nets, i, net)
		if (filters_match(filters, net))
			json_array_append_new(rows, ls_row(net, !opt_bool(o, "no-trunc")));
	const char *format = opt_bool(o, "quiet") ? "{{.ID}}" : opt_str(o, "format");
	_cleanup_json_ json_t *headers =
		json_pack("{ss ss ss ss ss ss ss ss}", "ID", "NETWORK ID", "Name", "NAME", "Driver",
			  "DRIVER", "Scope", "SCOPE", "IPv6", "IPV6", "Internal", "INTERNAL",
			  "Labels", "LABELS", "CreatedAt", "CREATED AT");
	if (format_rows(stdout, format, "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}", headers,
			rows, err) < 0)
		return cmd_fail(err);
	return 0;
}

/* ---- inspect ----------------------------------------------------------------------------------- */

const struct opt_def cmd_network_inspect_opts[] = {
	{"format", 'f', OPT_VALUE, "string", "Format the output using the given Go template", NULL},
	{"verbose", 'v', OPT_BOOL, NULL, "Verbose output for diagnostics", NULL},
	OPT_END,
};

int cmd_network_inspect(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct net_store ns;
	if (open_networks(ctx, &ns, err) < 0)
		return cmd_fail(err);
	_cleanup_json_ json_t *items = json_array();
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		json_t *net = NULL;
		_cleanup_error_ struct scow_error *e = NULL;
		if (net_inspect(&ns, o->args[i], &net, &e) < 0) {
			fprintf(stderr, "Error response from daemon: %s\n", e->msg);
			status = 1;
			continue;
		}
		json_array_append_new(items, net);
	}
	net_store_close(&ns);
	if (json_array_size(items) || !status)
		if (format_inspect(stdout, opt_str(o, "format"), items, err) < 0)
			return cmd_fail(err);
	return status;
}

/* ---- rm, prune --------------------------------------------------------------------------------- */

const struct opt_def cmd_network_rm_opts[] = {
	{"force", 'f', OPT_BOOL, NULL, "Do not error if the network does not exist", NULL},
	OPT_END,
};

int cmd_network_rm(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct net_store ns;
	if (open_networks(ctx, &ns, err) < 0)
		return cmd_fail(err);
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (net_remove(&ns, o->args[i], &e) < 0) {
			if (e->errnum == ENOENT && opt_bool(o, "force"))
				continue;
			fprintf(stderr, "Error response from daemon: %s\n", e->msg);
			status = 1;
			continue;
		}
		printf("%s\n", o->args[i]);
	}
	net_store_close(&ns);
	return status;
}

const struct opt_def cmd_network_prune_opts[] = {
	{"filter", 0, OPT_LIST, "filter", "Provide filter values (e.g. \"until=<timestamp>\")",
	 NULL},
	{"force", 'f', OPT_BOOL, NULL, "Do not prompt for confirmation", NULL},
	OPT_END,
};

int cmd_network_prune(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	_cleanup_json_ json_t *filters = NULL, *nets = NULL;
	if (parse_filters(o, &filters, err) < 0)
		return -1;
	const char *k;
	json_t *v;
	json_object_foreach(filters, k, v)
		if (strcmp(k, "until") && strcmp(k, "label"))
			return error_set(err, EINVAL, "invalid filter '%s'", k);
	if (!opt_bool(o, "force") &&
	    !cmd_confirm("This will remove all custom networks not used by at least one container."))
		return 0;
	struct net_store ns;
	if (open_networks(ctx, &ns, err) < 0)
		return cmd_fail(err);
	if (net_list(&ns, &nets, err) < 0) {
		net_store_close(&ns);
		return cmd_fail(err);
	}
	bool header = false;
	size_t i;
	json_t *net;
	json_array_foreach(nets, i, net) {
		if (net_is_predefined(net) || json_object_size(json_get_obj(net, "Containers")) ||
		    !filters_match(filters, net))
			continue;
		_cleanup_error_ struct scow_error *e = NULL;
		if (net_remove(&ns, json_get_str(net, "Id"), &e) < 0) {
			if (e->errnum != EBUSY)
				fprintf(stderr, "scow: warning: %s\n", e->msg);
			continue;
		}
		if (!header)
			printf("Deleted Networks:\n");
		header = true;
		printf("%s\n", json_get_str(net, "Name"));
	}
	net_store_close(&ns);
	return 0;
}

/* ---- connect, disconnect ------------------------------------------------------------------------- */

const struct opt_def cmd_network_connect_opts[] = {
	{"alias", 0, OPT_LIST, "strings", "Add network-scoped alias for the container", NULL},
	{"ip", 0, OPT_VALUE, "string", "IPv4 address (e.g., \"172.30.100.104\")", NULL},
	{"link", 0, OPT_LIST, "list", "Add link to another container (not supported)", NULL},
	OPT_END,
};

/* The container's network wishes live in its config, Docker's create
 * shape: HostConfig.NetworkMode is the first network, and
 * NetworkingConfig.EndpointsConfig.<network name> = {Aliases, IPAMConfig:
 * {IPv4Address}, MacAddress} for each (the first one included). */
static json_t *endpoints_config(json_t *config)
{
	json_t *nc = json_get_obj(config, "NetworkingConfig");
	if (!nc) {
		nc = json_object();
		json_object_set_new(config, "NetworkingConfig", nc);
	}
	json_t *ec = json_get_obj(nc, "EndpointsConfig");
	if (!ec) {
		ec = json_object();
		json_object_set_new(nc, "EndpointsConfig", ec);
	}
	return ec;
}

static bool connected_in_config(json_t *config, const char *name)
{
	const char *mode = json_get_str(json_get_obj(config, "HostConfig"), "NetworkMode");
	if (str_eq(mode, "default"))
		mode = NET_DEFAULT;
	return str_eq(mode, name) || json_object_get(endpoints_config(config), name);
}

static int connect_one(struct container_store *cs, struct net_store *ns, struct container *c,
		       json_t *net, const struct opts *o, struct scow_error **err)
{
	const char *name = json_get_str(net, "Name");
	const char *mode = json_get_str(json_get_obj(c->config, "HostConfig"), "NetworkMode");
	if (str_starts_with(mode, "container:"))
		return error_set(err, EINVAL, "container sharing network namespace with another "
					      "container or host cannot be connected to any other "
					      "network");
	if (str_eq(mode, "host") || str_eq(mode, "none") ||
	    !json_get_str(json_get_obj(net, "Scow"), "Bridge"))
		return error_set(err, EINVAL,
				 "container cannot be disconnected from host network or connected to "
				 "host network");
	if (connected_in_config(c->config, name) && c->status != CTR_RUNNING)
		return error_set(err, EEXIST, "endpoint with name %s already exists in network %s",
				 c->name, name);
	size_t n_alias;
	const char *const *alias = opt_list(o, "alias", &n_alias);
	const char *ip = opt_str(o, "ip");
	if (c->status == CTR_RUNNING || c->status == CTR_PAUSED) {
		json_t *cfg = json_get_obj(c->config, "Config");
		struct net_attach a = {.network = name, .aliases = alias, .n_aliases = n_alias,
				       .ip = ip};
		_cleanup_free_ char *hosts = container_path(cs, c->id, "hosts");
		struct net_container nc = {
			.id = c->id,
			.name = c->name,
			.hostname = json_get_str(cfg, "Hostname"),
			.domainname = json_get_str(cfg, "Domainname"),
			.hosts_path = hosts,
			.pid = (pid_t)json_get_int(c->runtime, "Pid", 0),
			.pid_start = (uint64_t)json_get_int(c->runtime, "PidStart", 0),
		};
		if (net_container_connect(ns, &nc, &a, NULL, err) < 0)
			return -1;
	}
	json_t *aliases = json_array();
	for (size_t i = 0; i < n_alias; i++)
		json_array_append_new(aliases, json_string(alias[i]));
	json_object_set_new(endpoints_config(c->config), name,
			    json_pack("{so so ss}", "Aliases", aliases, "IPAMConfig",
				      ip ? json_pack("{ss}", "IPv4Address", ip) : json_null(),
				      "MacAddress", ""));
	return container_save_config(cs, c, err);
}

static int disconnect_one(struct container_store *cs, struct net_store *ns, struct container *c,
			  json_t *net, struct scow_error **err)
{
	const char *name = json_get_str(net, "Name");
	if (!connected_in_config(c->config, name))
		return error_set(err, ENOENT, "container %s is not connected to network %s", c->id,
				 name);
	if (c->status == CTR_RUNNING || c->status == CTR_PAUSED) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (net_container_disconnect(ns, c->id, name, NULL, &e) < 0 && e->errnum != ENOENT) {
			*err = steal_ptr(&e);
			return -1;
		}
	}
	json_object_del(endpoints_config(c->config), name);
	json_t *host = json_get_obj(c->config, "HostConfig");
	const char *mode = json_get_str(host, "NetworkMode");
	if (str_eq(mode, name) || (str_eq(mode, "default") && str_eq(name, NET_DEFAULT))) {
		/* The first network goes: the next one (if any) becomes it. */
		const char *next = NULL;
		const char *k;
		json_t *v;
		json_object_foreach(endpoints_config(c->config), k, v)
			if (!next)
				next = k;
		_cleanup_free_ char *keep = next ? xstrdup(next) : NULL;
		json_set_str(host, "NetworkMode", keep ? keep : "none");
	}
	return container_save_config(cs, c, err);
}

static int connect_cmd(struct scow_ctx *ctx, const struct opts *o, bool connect,
		       struct scow_error **err)
{
	struct net_store ns;
	if (connect && opt_set(o, "link"))
		return error_set(err, ENOTSUP, "--link is supported on the default bridge only");
	if (open_networks(ctx, &ns, err) < 0)
		return cmd_fail(err);
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0) {
		net_store_close(&ns);
		return cmd_fail(err);
	}
	_cleanup_json_ json_t *net = NULL;
	struct container c;
	int r = net_find(&ns, o->args[0], &net, err);
	if (r == 0)
		r = cmd_load_container(&cs, o->args[1], true, &c, err);
	if (r == 0) {
		r = connect ? connect_one(&cs, &ns, &c, net, o, err)
			    : disconnect_one(&cs, &ns, &c, net, err);
		container_release(&c);
	}
	container_store_close(&cs);
	net_store_close(&ns);
	if (r < 0 && !connect && opt_bool(o, "force") && (*err)->errnum == ENOENT) {
		error_freep(err);
		return 0;
	}
	return r < 0 ? cmd_fail(err) : 0;
}

int cmd_network_connect(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	return connect_cmd(ctx, o, true, err);
}

const struct opt_def cmd_network_disconnect_opts[] = {
	{"force", 'f', OPT_BOOL, NULL, "Force the container to disconnect from a network", NULL},
	OPT_END,
};

int cmd_network_disconnect(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	return connect_cmd(ctx, o, false, err);
}
