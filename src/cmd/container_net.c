/* run/create's network options into the container's config, in Docker's
 * create shape: HostConfig.NetworkMode (the first network), NetworkingConfig.
 * EndpointsConfig.<network> {Aliases, IPAMConfig {IPv4Address}, MacAddress},
 * HostConfig.PortBindings/PublishAllPorts/Links/ExtraHosts/Dns*, and
 * Config.ExposedPorts; the -p values as given in Scow.Publish, which the
 * supervisor parses again when it publishes them (net/run.h). And the
 * container's /etc/hosts and /etc/resolv.conf, written at create. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "cmd/run.h"
#include "net/network.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static bool special_mode(const char *net)
{
	return !strcmp(net, "host") || !strcmp(net, "none") || str_starts_with(net, "container:");
}

/* --network (and --net), in order; none given: the default bridge. */
static char **networks_wanted(const struct opts *o)
{
	char **nets = xcalloc(1, sizeof(char *));
	static const char *const names[] = {"network", "net"};
	for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
		size_t n;
		const char *const *v = opt_list(o, names[k], &n);
		for (size_t i = 0; i < n; i++)
			if (*v[i] && !strv_contains(nets, v[i]))
				strv_push(&nets, xstrdup(v[i]));
	}
	if (!nets[0])
		strv_push(&nets, xstrdup("default"));
	return nets;
}

/* The networks' canonical names (user networks must exist). */
static int resolve_networks(struct scow_ctx *ctx, char **nets, struct scow_error **err)
{
	bool user = false;
	for (size_t i = 0; nets[i]; i++) {
		if (special_mode(nets[i]) && nets[1])
			return error_set(err, EINVAL, "conflicting options: cannot attach both "
						      "user-defined and non-user-defined network-modes");
		user = user || (!special_mode(nets[i]) && strcmp(nets[i], "default") &&
				strcmp(nets[i], NET_DEFAULT));
	}
	if (!user)
		return 0;
	struct net_store ns;
	if (net_store_open(ctx->root, ctx->runroot, &ns, err) < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; r == 0 && nets[i]; i++) {
		if (special_mode(nets[i]) || !strcmp(nets[i], "default"))
			continue;
		_cleanup_json_ json_t *net = NULL;
		if ((r = net_find(&ns, nets[i], &net, err)) == 0) {
			free(nets[i]);
			nets[i] = xstrdup(json_get_str(net, "Name"));
		}
	}
	net_store_close(&ns);
	return r;
}

static bool is_default(const char *net)
{
	return !strcmp(net, "default") || !strcmp(net, NET_DEFAULT);
}

/* --network-alias, --ip, --mac-address apply to the first network. */
static int endpoints(const struct opts *o, char **nets, json_t *c, struct scow_error **err)
{
	size_t n_alias;
	const char *const *alias = opt_list(o, "network-alias", &n_alias);
	const char *ip = opt_str(o, "ip"), *mac = opt_str(o, "mac-address");
	struct in_addr a;
	if (ip && inet_pton(AF_INET, ip, &a) != 1)
		return error_set(err, EINVAL, "invalid IPv4 address: %s", ip);
	if (special_mode(nets[0]) && (n_alias || ip || mac))
		return error_set(err, EINVAL, "conflicting options: --network-alias, --ip and "
					      "--mac-address need a bridge network");
	if (is_default(nets[0]) && ip)
		return error_set(err, EINVAL,
				 "user specified IP address is supported on user defined networks "
				 "only");
	if (is_default(nets[0]) && n_alias)
		return error_set(err, EINVAL, "network-scoped alias is supported only for "
					      "containers in user defined networks");
	json_t *ec = json_object();
	for (size_t i = 0; nets[i]; i++) {
		if (special_mode(nets[i]) || (i == 0 && !n_alias && !ip && !mac))
			continue;
		const char *key = is_default(nets[i]) ? NET_DEFAULT : nets[i];
		json_object_set_new(
			ec, key,
			json_pack("{so so ss}", "Aliases", i == 0 ? strings(alias, n_alias) : json_array(),
				  "IPAMConfig",
				  i == 0 && ip ? json_pack("{ss}", "IPv4Address", ip) : json_null(),
				  "MacAddress", i == 0 && mac ? mac : ""));
	}
	json_object_set_new(c, "NetworkingConfig", json_pack("{so}", "EndpointsConfig", ec));
	return 0;
}

/* "80", "80/udp", "8000-8010/tcp": the keys of ExposedPorts. */
static int add_exposed(json_t *exposed, const char *spec, struct scow_error **err)
{
	struct net_port_spec p;
	if (net_port_parse_exposed(spec, &p, err) < 0)
		return -1;
	for (unsigned port = p.ctr_start; port <= p.ctr_end; port++) {
		char key[32];
		snprintf(key, sizeof(key), "%u/%s", port, p.proto);
		json_object_set_new(exposed, key, json_object());
	}
	return 0;
}

/* -p into PortBindings (Docker's shape, host ports as given) and the
 * exposed ports. */
static int publish(const struct opts *o, bool discard, json_t *host, json_t *scow,
		   json_t *exposed, struct scow_error **err)
{
	size_t n;
	const char *const *v = opt_list(o, "publish", &n);
	json_t *bindings = json_object();
	json_object_set_new(host, "PortBindings", bindings);
	json_object_set_new(host, "PublishAllPorts", json_boolean(opt_bool(o, "publish-all")));
	if (discard && (n || opt_bool(o, "publish-all"))) {
		fprintf(stderr, "WARNING: Published ports are discarded when using host network "
				"mode\n");
		return 0;
	}
	json_object_set_new(scow, "Publish", strings(v, n));
	for (size_t i = 0; i < n; i++) {
		struct net_port_spec p;
		if (net_port_parse(v[i], &p, err) < 0)
			return -1;
		for (unsigned port = p.ctr_start; port <= p.ctr_end; port++) {
			char key[32], hp[16] = "";
			snprintf(key, sizeof(key), "%u/%s", port, p.proto);
			json_object_set_new(exposed, key, json_object());
			/* a host range as long as the container's maps one to one */
			if (p.host_start && p.host_end - p.host_start == p.ctr_end - p.ctr_start)
				snprintf(hp, sizeof(hp), "%u", p.host_start + (port - p.ctr_start));
			else if (p.host_start)
				snprintf(hp, sizeof(hp), "%u-%u", p.host_start, p.host_end);
			json_t *list = json_object_get(bindings, key);
			if (!list)
				json_object_set_new(bindings, key, list = json_array());
			json_array_append_new(list, json_pack("{ss ss}", "HostIp", p.host_ip,
							      "HostPort", hp));
		}
	}
	return 0;
}

int container_net_config(struct scow_ctx *ctx, const struct opts *o, json_t *img_cfg, json_t *c,
			 struct scow_error **err)
{
	json_t *host = json_get_obj(c, "HostConfig"), *cfg = json_get_obj(c, "Config");
	json_t *scow = json_get_obj(c, "Scow");
	_cleanup_strv_ char **nets = networks_wanted(o);
	if (resolve_networks(ctx, nets, err) < 0)
		return -1;
	if (str_starts_with(nets[0], "container:")) /* container_net_join.c */
		return container_net_join_config(ctx, o, nets[0], img_cfg, c, err);
	if (endpoints(o, nets, c, err) < 0)
		return -1;
	json_set_str(host, "NetworkMode", nets[0]);
	json_t *exposed = json_deep_copy(json_get_obj(img_cfg, "ExposedPorts"));
	if (!exposed)
		exposed = json_object();
	json_object_set_new(cfg, "ExposedPorts", exposed);
	size_t n;
	const char *const *v = opt_list(o, "expose", &n);
	for (size_t i = 0; i < n; i++)
		if (add_exposed(exposed, v[i], err) < 0)
			return -1;
	if (publish(o, special_mode(nets[0]), host, scow, exposed, err) < 0)
		return -1;
	if (!json_object_size(exposed))
		json_object_del(cfg, "ExposedPorts");
	v = opt_list(o, "link", &n);
	if (n && !is_default(nets[0]))
		return error_set(err, EINVAL, "--link is supported on the default bridge network only");
	json_object_set_new(host, "Links", n ? strings(v, n) : json_null());
	v = opt_list(o, "dns", &n);
	if (net_dns_check(v, n, err) < 0)
		return -1;
	json_object_set_new(host, "Dns", strings(v, n));
	v = opt_list(o, "dns-search", &n);
	json_object_set_new(host, "DnsSearch", strings(v, n));
	json_t *dns_opts = json_array();
	json_object_set_new(host, "DnsOptions", dns_opts);
	static const char *const opt_names[] = {"dns-option", "dns-opt"};
	for (size_t k = 0; k < ARRAY_SIZE(opt_names); k++) {
		v = opt_list(o, opt_names[k], &n);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(dns_opts, json_string(v[i]));
	}
	v = opt_list(o, "add-host", &n);
	json_object_set_new(host, "ExtraHosts", n ? strings(v, n) : json_null());
	return 0;
}

/* ---- /etc/hosts, /etc/resolv.conf ------------------------------------------------------------ */

static const char *const *json_strings(json_t *arr, size_t *n)
{
	*n = json_array_size(arr);
	const char **v = xcalloc(*n + 1, sizeof(char *));
	for (size_t i = 0; i < *n; i++)
		v[i] = json_string_value(json_array_get(arr, i)) ? json_string_value(json_array_get(arr, i))
								 : "";
	return v;
}

char *container_resolv_conf(json_t *config)
{
	json_t *host = json_get_obj(config, "HostConfig");
	bool host_net = str_eq(json_get_str(host, "NetworkMode"), "host");
	_cleanup_free_ char *text = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (fs_read_at(AT_FDCWD, "/etc/resolv.conf", 1u << 20, &text, NULL, &e) < 0)
		text = xstrdup("");
	size_t nd, ns, no;
	_cleanup_free_ const char *const *dns = json_strings(json_get_arr(host, "Dns"), &nd);
	_cleanup_free_ const char *const *search = json_strings(json_get_arr(host, "DnsSearch"), &ns);
	_cleanup_free_ const char *const *opts = json_strings(json_get_arr(host, "DnsOptions"), &no);
	return net_resolv_conf(text, host_net, dns, nd, search, ns, opts, no);
}

int container_hosts_file(struct scow_ctx *ctx, json_t *config, char **ret, struct scow_error **err)
{
	json_t *host = json_get_obj(config, "HostConfig");
	_cleanup_free_ char *hosts = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (str_eq(json_get_str(host, "NetworkMode"), "host") &&
	    fs_read_at(AT_FDCWD, "/etc/hosts", 1u << 20, &hosts, NULL, &e) == 0) {
		*ret = steal_ptr(&hosts);
		return 0;
	}
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "127.0.0.1\tlocalhost\n"
		       "::1\tlocalhost ip6-localhost ip6-loopback\n"
		       "fe00::0\tip6-localnet\n"
		       "ff00::0\tip6-mcastprefix\n"
		       "ff02::1\tip6-allnodes\n"
		       "ff02::2\tip6-allrouters\n");
	size_t n;
	_cleanup_free_ const char *const *extra = json_strings(json_get_arr(host, "ExtraHosts"), &n);
	if (n) {
		/* host-gateway needs the default bridge's address. */
		struct net_store ns;
		if (net_store_open(ctx->root, ctx->runroot, &ns, err) < 0)
			return -1;
		_cleanup_free_ char *lines = NULL;
		int r = net_extra_hosts(&ns, extra, n, &lines, err);
		net_store_close(&ns);
		if (r < 0)
			return -1;
		sb_append(&sb, lines);
	}
	*ret = sb_steal(&sb);
	return 0;
}
