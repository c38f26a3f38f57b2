/* Network objects: the store, configuration, create/find/list/inspect/rm,
 * and the bridges behind them. Containers' endpoints are in endpoint.c. */
#include "net/network.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/internal.h"
#include "net/nft.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define RECORD_MAX (1u << 20)
#define DEFAULT_BRIDGE "scow0"
#define DEFAULT_SUBNET "10.88.0.0/16"

/* ---- the store ------------------------------------------------------------------------------- */

int net_store_open(const char *root, const char *runroot, struct net_store *ret,
		   struct scow_error **err)
{
	struct net_store ns = {.dir_fd = -1, .alloc_fd = -1, .lock_fd = -1};
	_cleanup_free_ char *dir = xasprintf("%s/networks", root);
	_cleanup_free_ char *adir = xasprintf("%s/networks", runroot);
	if (fs_mkdir_p(dir, 0700, err) < 0 || fs_mkdir_p(adir, 0700, err) < 0)
		return -1;
	ns.dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ns.alloc_fd = open(adir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ns.dir_fd < 0 || ns.alloc_fd < 0) {
		error_errno(err, "open %s", ns.dir_fd < 0 ? dir : adir);
		net_store_close(&ns);
		return -1;
	}
	_cleanup_close_ int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd >= 0 && fs_exists_at(rfd, "network.json")) {
		ns.config = json_load_at(rfd, "network.json", RECORD_MAX, err);
		if (!ns.config || !json_is_object(ns.config)) {
			if (ns.config)
				error_set(err, EINVAL, "%s/network.json: not an object", root);
			net_store_close(&ns);
			return error_wrap(err, "network configuration");
		}
	}
	if (!ns.config)
		ns.config = json_object();
	ns.root = xstrdup(root);
	ns.runroot = xstrdup(runroot);
	*ret = ns;
	return 0;
}

void net_store_close(struct net_store *ns)
{
	net_unlock(ns);
	closep(&ns->dir_fd);
	closep(&ns->alloc_fd);
	json_decref(ns->config);
	free(ns->root);
	free(ns->runroot);
	memset(ns, 0, sizeof(*ns));
	ns->dir_fd = ns->alloc_fd = ns->lock_fd = -1;
}

int net_lock(struct net_store *ns, struct scow_error **err)
{
	if (ns->lock_fd >= 0)
		return 0;
	ns->lock_fd = lock_acquire(ns->dir_fd, ".lock", LOCK_MODE_EXCLUSIVE, false, err);
	return ns->lock_fd < 0 ? -1 : 0;
}

void net_unlock(struct net_store *ns)
{
	if (ns->lock_fd >= 0)
		lock_release(ns->lock_fd);
	ns->lock_fd = -1;
}

uint64_t net_proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return 0;
	p += 2;
	/* A zombie has exited: its network namespace is gone or going. */
	if (*p == 'Z' || *p == 'X')
		return 0;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

/* ---- records --------------------------------------------------------------------------------- */

const char *net_bridge(json_t *net)
{
	return json_get_str(json_get_obj(net, "Scow"), "Bridge");
}

bool net_internal(json_t *net)
{
	return json_get_bool(net, "Internal", false);
}

bool net_is_predefined(json_t *net)
{
	const char *n = json_get_str(net, "Name");
	return str_eq(n, "bridge") || str_eq(n, "host") || str_eq(n, "none");
}

int net_subnet(json_t *net, struct ipam_subnet *ret, struct scow_error **err)
{
	json_t *cfg = json_array_get(json_get_arr(json_get_obj(net, "IPAM"), "Config"), 0);
	if (!cfg)
		return error_set(err, EINVAL, "network %s has no IPv4 subnet",
				 json_get_str(net, "Name"));
	return ipam_subnet_init(json_get_str(cfg, "Subnet"), json_get_str(cfg, "Gateway"),
				json_get_str(cfg, "IPRange"), ret, err);
}

static int save_record(struct net_store *ns, json_t *net, struct scow_error **err)
{
	_cleanup_free_ char *file = xasprintf("%s.json", json_get_str(net, "Name"));
	return json_save_at(ns->dir_fd, file, net, err);
}

static json_t *new_record(const char *name, const char *driver)
{
	char id[65], now[64];
	fs_random_hex(id, 32);
	time_now_rfc3339(now, sizeof(now));
	return json_pack("{ss ss ss ss ss sb s{ss so s[]} sb sb sb s{ss} sb s{} s{} s{}}", "Name",
			 name, "Id", id, "Created", now, "Scope", "local", "Driver", driver,
			 "EnableIPv6", 0, "IPAM", "Driver", "default", "Options", json_object(),
			 "Config", "Internal", 0, "Attachable", 0, "Ingress", 0, "ConfigFrom",
			 "Network", "", "ConfigOnly", 0, "Options", "Labels", "Scow");
}

static int host_routes(struct nl *host, const char *except_dev, struct ip4_prefix **ret, size_t *n,
		       struct scow_error **err)
{
	_cleanup_free_ struct nl_route4 *routes = NULL;
	size_t nr = 0, cap = *n;
	if (nl_route_list4(host, &routes, &nr, err) < 0)
		return -1;
	for (size_t i = 0; i < nr; i++) {
		char dev[IF_NAMESIZE] = "";
		if (except_dev && routes[i].oif && if_indextoname((unsigned)routes[i].oif, dev) &&
		    strcmp(dev, except_dev) == 0)
			continue;
		xgrow((void **)ret, &cap, *n + 1, sizeof(**ret));
		(*ret)[(*n)++] = (struct ip4_prefix){routes[i].dst & ip4_mask(routes[i].len),
						     routes[i].len};
	}
	return 0;
}

/* The subnets of every network of this store but skip. */
static void network_subnets(json_t *records, json_t *skip, struct ip4_prefix **ret, size_t *n)
{
	size_t cap = *n, i;
	json_t *r;
	json_array_foreach(records, i, r) {
		if (r == skip)
			continue;
		struct ipam_subnet s;
		if (net_subnet(r, &s, NULL) < 0)
			continue;
		xgrow((void **)ret, &cap, *n + 1, sizeof(**ret));
		(*ret)[(*n)++] = s.subnet;
	}
}

static int config_pools(struct net_store *ns, struct ipam_pool **ret, size_t *n,
			struct scow_error **err)
{
	json_t *pools = json_get_arr(ns->config, "DefaultAddressPools");
	static const char *const dflt[][2] = {
		{"10.89.0.0/16", "24"}, {"10.90.0.0/15", "24"}, {"10.92.0.0/14", "24"}};
	size_t cnt = pools ? json_array_size(pools) : ARRAY_SIZE(dflt);
	*ret = xcalloc(cnt + 1, sizeof(**ret));
	*n = cnt;
	for (size_t i = 0; i < cnt; i++) {
		json_t *p = pools ? json_array_get(pools, i) : NULL;
		const char *base = p ? json_get_str(p, "Base") : dflt[i][0];
		long long size = p ? json_get_int(p, "Size", 24) : atoi(dflt[i][1]);
		if (ip4_prefix_parse(base, &(*ret)[i].base, err) < 0)
			return error_wrap(err, "network.json: DefaultAddressPools");
		(*ret)[i].size = (unsigned)size;
	}
	return 0;
}

/* The predefined records: bridge (the default network), host, none. */
static int ensure_default_bridge(struct net_store *ns, json_t *records, struct scow_error **err)
{
	json_t *cfg = json_get_obj(ns->config, "DefaultBridge");
	const char *bridge = json_get_str(cfg, "Bridge") ? json_get_str(cfg, "Bridge") : DEFAULT_BRIDGE;
	const char *subnet = json_get_str(cfg, "Subnet");
	const char *gateway = json_get_str(cfg, "Gateway");
	long long mtu = json_get_int(cfg, "Mtu", 1500);
	struct ipam_subnet s;
	if (ipam_subnet_init(subnet ? subnet : DEFAULT_SUBNET, gateway, NULL, &s, err) < 0)
		return error_wrap(err, "network.json: DefaultBridge");
	if (!subnet) {
		/* Docker's docker0: the default unless the host uses it. */
		_cleanup_nl_ struct nl *host = NULL;
		_cleanup_free_ struct ip4_prefix *taken = NULL;
		size_t n = 0;
		if (nl_open(&host, err) < 0 || host_routes(host, bridge, &taken, &n, err) < 0)
			return -1;
		network_subnets(records, NULL, &taken, &n);
		bool busy = false;
		for (size_t i = 0; i < n && !busy; i++)
			busy = ip4_prefix_overlaps(&s.subnet, &taken[i]);
		if (busy) {
			struct ipam_pool pool = {{0x0a580000u, 13}, 16}; /* 10.88.0.0/13 */
			if (ipam_pick_subnet(&pool, 1, taken, n, &s.subnet, err) < 0)
				return error_wrap(err, "default bridge network");
			s.gateway = s.subnet.addr + 1;
			_cleanup_free_ char *p = ip4_prefix_format(&s.subnet);
			log_info("%s is in use on this host: the default bridge network uses %s",
				 DEFAULT_SUBNET, p);
		}
	}
	_cleanup_json_ json_t *net = new_record("bridge", "bridge");
	_cleanup_free_ char *sub = ip4_prefix_format(&s.subnet);
	char gw[INET_ADDRSTRLEN], mtus[16];
	ip4_format(s.gateway, gw);
	snprintf(mtus, sizeof(mtus), "%lld", mtu);
	json_array_append_new(json_get_arr(json_get_obj(net, "IPAM"), "Config"),
			      json_pack("{ss ss}", "Subnet", sub, "Gateway", gw));
	json_object_set_new(json_get_obj(net, "IPAM"), "Options", json_null());
	json_object_set_new(net, "Options",
			    json_pack("{ss ss ss ss ss ss}", "com.docker.network.bridge.default_bridge",
				      "true", "com.docker.network.bridge.enable_icc", "true",
				      "com.docker.network.bridge.enable_ip_masquerade", "true",
				      "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0",
				      "com.docker.network.bridge.name", bridge,
				      "com.docker.network.driver.mtu", mtus));
	json_object_set_new(net, "Scow", json_pack("{ss sI sb}", "Bridge", bridge, "Mtu",
						   (json_int_t)mtu, "Masquerade", 1));
	if (save_record(ns, net, err) < 0)
		return -1;
	json_array_insert(records, 0, net);
	return 0;
}

static int ensure_predefined(struct net_store *ns, json_t *records, struct scow_error **err)
{
	const char *names[] = {"none", "host"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		bool have = false;
		size_t k;
		json_t *r;
		json_array_foreach(records, k, r)
			have |= str_eq(json_get_str(r, "Name"), names[i]);
		if (have)
			continue;
		_cleanup_json_ json_t *net = new_record(names[i], i == 0 ? "null" : "host");
		json_object_set_new(json_get_obj(net, "IPAM"), "Options", json_null());
		if (save_record(ns, net, err) < 0)
			return -1;
		json_array_insert(records, 0, net);
	}
	size_t k;
	json_t *r;
	json_array_foreach(records, k, r)
		if (str_eq(json_get_str(r, "Name"), "bridge"))
			return 0;
	return ensure_default_bridge(ns, records, err);
}

static int record_order(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	bool px = net_is_predefined(x), py = net_is_predefined(y);
	if (px != py)
		return px ? -1 : 1;
	return strcmp(json_get_str(x, "Name"), json_get_str(y, "Name"));
}

int net_records(struct net_store *ns, json_t **ret, struct scow_error **err)
{
	_cleanup_(closedirp) DIR *d = NULL;
	/* A new open file description: a dup would share (and keep) the
	 * directory offset of an earlier listing. */
	int fd = openat(ns->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return error_errno(err, "list networks");
	}
	_cleanup_json_ json_t *records = json_array();
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !str_ends_with(de->d_name, ".json"))
			continue;
		_cleanup_error_ struct scow_error *e = NULL;
		json_t *r = json_load_at(ns->dir_fd, de->d_name, RECORD_MAX, &e);
		if (!r || !json_get_str(r, "Name") || !json_get_str(r, "Id")) {
			log_warn("network record %s: %s", de->d_name, e ? e->msg : "incomplete");
			json_decref(r);
			continue;
		}
		json_array_append_new(records, r);
	}
	if (ensure_predefined(ns, records, err) < 0)
		return -1;
	size_t n = json_array_size(records);
	json_t **v = xcalloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(records, i));
	qsort(v, n, sizeof(*v), record_order);
	json_t *sorted = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(sorted, v[i]);
	free(v);
	*ret = sorted;
	return 0;
}

int net_find_locked(struct net_store *ns, const char *ref, json_t **ret, struct scow_error **err)
{
	if (str_eq(ref, "default"))
		ref = NET_DEFAULT;
	_cleanup_json_ json_t *records = NULL;
	if (net_records(ns, &records, err) < 0)
		return -1;
	size_t i;
	json_t *r, *found = NULL;
	json_array_foreach(records, i, r)
		if (str_eq(json_get_str(r, "Name"), ref) || str_eq(json_get_str(r, "Id"), ref))
			found = r;
	size_t matches = 0;
	size_t len = strlen(ref);
	if (!found && len > 0 && str_is_hex(ref, len)) {
		json_array_foreach(records, i, r)
			if (strncmp(json_get_str(r, "Id"), ref, len) == 0)
				found = r, matches++;
		if (matches > 1)
			return error_set(err, EINVAL,
					 "network %s is ambiguous (%zu matches found based on ID prefix)",
					 ref, matches);
	}
	if (!found)
		return error_set(err, ENOENT, "network %s not found", ref);
	*ret = json_incref(found);
	return 0;
}

int net_find(struct net_store *ns, const char *ref, json_t **ret, struct scow_error **err)
{
	if (net_lock(ns, err) < 0)
		return -1;
	int r = net_find_locked(ns, ref, ret, err);
	net_unlock(ns);
	return r;
}

/* ---- allocations ----------------------------------------------------------------------------- */

json_t *net_alloc_load(struct net_store *ns, const char *net_id, struct scow_error **err)
{
	_cleanup_free_ char *file = xasprintf("%s.json", net_id);
	if (!fs_exists_at(ns->alloc_fd, file))
		return json_pack("{s{}}", "Endpoints");
	json_t *a = json_load_at(ns->alloc_fd, file, RECORD_MAX * 16, err);
	if (a && !json_get_obj(a, "Endpoints"))
		json_object_set_new(a, "Endpoints", json_object());
	return a;
}

int net_alloc_save(struct net_store *ns, const char *net_id, json_t *alloc,
		   struct scow_error **err)
{
	_cleanup_free_ char *file = xasprintf("%s.json", net_id);
	if (json_object_size(json_get_obj(alloc, "Endpoints")) == 0) {
		if (unlinkat(ns->alloc_fd, file, 0) < 0 && errno != ENOENT)
			return error_errno(err, "remove %s", file);
		return 0;
	}
	return json_save_at(ns->alloc_fd, file, alloc, err);
}

/* ---- bridges ----------------------------------------------------------------------------------- */

static int write_sysctl(const char *path, const char *value, struct scow_error **err)
{
	char cur[16] = "";
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "open %s", path);
	ssize_t n = read(fd, cur, sizeof(cur) - 1);
	if (n > 0 && strncmp(cur, value, strlen(value)) == 0 && cur[strlen(value)] == '\n')
		return 0;
	if (pwrite(fd, value, strlen(value), 0) < 0)
		return error_errno(err, "write %s", path);
	return 0;
}

int net_bridge_ensure(struct net_store *ns, json_t *net, struct nl *host, struct scow_error **err)
{
	(void)ns;
	const char *br = net_bridge(net);
	struct ipam_subnet s;
	if (!br || net_subnet(net, &s, err) < 0)
		return error_set(err, EINVAL, "network %s has no bridge", json_get_str(net, "Name"));
	int idx = nl_link_index(host, br, err);
	if (idx < 0)
		return -1;
	json_t *scow = json_get_obj(net, "Scow");
	bool created = false;
	if (idx == 0) {
		if (nl_bridge_add(host, br, (unsigned)json_get_int(scow, "Mtu", 0), err) < 0)
			return -1;
		created = true;
	}
	bool has = false;
	if (nl_addr_has(host, br, s.gateway, s.subnet.len, &has, err) < 0)
		return -1;
	if (!has && nl_addr_add(host, br, s.gateway, s.subnet.len, err) < 0)
		return -1;
	if (created || !has) {
		/* 127.0.0.1 may DNAT to a container through this bridge (nft.h). */
		_cleanup_free_ char *p = xasprintf("/proc/sys/net/ipv4/conf/%s/route_localnet", br);
		if (write_sysctl(p, "1", err) < 0)
			return -1;
		_cleanup_free_ char *subnet = ip4_prefix_format(&s.subnet);
		struct nft_net nn = {br, subnet, net_internal(net), json_get_bool(scow, "Masquerade", true)};
		if (nft_network_add(&nn, err) < 0)
			return error_wrap(err, "network %s", json_get_str(net, "Name"));
	}
	if (!net_internal(net) && write_sysctl("/proc/sys/net/ipv4/ip_forward", "1", err) < 0)
		return -1;
	return 0;
}

static int bridge_remove(json_t *net, struct scow_error **err)
{
	const char *br = net_bridge(net);
	struct ipam_subnet s;
	if (!br || net_subnet(net, &s, NULL) < 0)
		return 0;
	_cleanup_nl_ struct nl *host = NULL;
	if (nl_open(&host, err) < 0 || nl_link_del(host, br, err) < 0)
		return -1;
	_cleanup_free_ char *subnet = ip4_prefix_format(&s.subnet);
	struct nft_net nn = {br, subnet, net_internal(net),
			     json_get_bool(json_get_obj(net, "Scow"), "Masquerade", true)};
	return nft_network_del(&nn, err);
}

/* ---- create ---------------------------------------------------------------------------------- */

static int check_name(const char *name, struct scow_error **err)
{
	bool ok = name && ((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
			   (*name >= '0' && *name <= '9'));
	for (const char *p = name; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		     *p == '_' || *p == '.' || *p == '-';
	if (!ok || strlen(name) > 200)
		return error_set(err, EINVAL,
				 "invalid network name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
				 name ? name : "");
	return 0;
}

static int check_ifname(const char *n, struct scow_error **err)
{
	bool ok = *n && strlen(n) < IF_NAMESIZE;
	for (const char *p = n; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		     *p == '_' || *p == '.' || *p == '-';
	return ok ? 0 : error_set(err, EINVAL, "invalid bridge name: %s", n);
}

/* Options Docker's bridge driver knows; others are kept but unused. */
static int bridge_options(json_t *options, json_t *scow, struct scow_error **err)
{
	const char *key;
	json_t *v;
	json_object_foreach(options, key, v) {
		const char *s = json_string_value(v);
		if (!s)
			return error_set(err, EINVAL, "option %s: not a string", key);
		if (strcmp(key, "com.docker.network.bridge.name") == 0) {
			if (check_ifname(s, err) < 0)
				return -1;
			json_set_str(scow, "Bridge", s);
		} else if (strcmp(key, "com.docker.network.driver.mtu") == 0) {
			long long mtu;
			if (!str_to_ll(s, 68, 65535, &mtu))
				return error_set(err, EINVAL, "invalid MTU: %s", s);
			json_set_int(scow, "Mtu", mtu);
		} else if (strcmp(key, "com.docker.network.bridge.enable_ip_masquerade") == 0) {
			if (strcmp(s, "true") && strcmp(s, "false"))
				return error_set(err, EINVAL, "invalid value for %s: %s", key, s);
			json_object_set_new(scow, "Masquerade", json_boolean(strcmp(s, "true") == 0));
		}
	}
	return 0;
}

static int create_locked(struct net_store *ns, const struct net_create_opts *o, json_t **ret,
			 struct scow_error **err)
{
	const char *driver = o->driver && *o->driver ? o->driver : "bridge";
	if (strcmp(driver, "host") == 0 || strcmp(driver, "null") == 0)
		return error_set(err, EPERM, "only one instance of \"%s\" network is allowed", driver);
	if (strcmp(driver, "bridge") != 0)
		return error_set(err, ENOENT, "plugin \"%s\" not found", driver);
	if (check_name(o->name, err) < 0)
		return -1;
	if (o->ipv6)
		return error_set(err, ENOTSUP, "IPv6 networks are not supported yet");
	if ((o->gateway || o->ip_range) && !o->subnet)
		return error_set(err, EINVAL, "%s requires --subnet",
				 o->gateway ? "--gateway" : "--ip-range");
	_cleanup_json_ json_t *records = NULL;
	if (net_records(ns, &records, err) < 0)
		return -1;
	size_t i;
	json_t *r;
	json_array_foreach(records, i, r)
		if (str_eq(json_get_str(r, "Name"), o->name))
			return error_set(err, EEXIST, "network with name %s already exists", o->name);
	_cleanup_json_ json_t *net = new_record(o->name, "bridge");
	json_t *scow = json_get_obj(net, "Scow");
	char bridge[IF_NAMESIZE];
	snprintf(bridge, sizeof(bridge), "br-%.12s", json_get_str(net, "Id"));
	json_set_str(scow, "Bridge", bridge);
	json_set_int(scow, "Mtu", 1500);
	json_object_set_new(scow, "Masquerade", json_true());
	if (o->options && bridge_options(o->options, scow, err) < 0)
		return -1;
	json_array_foreach(records, i, r)
		if (str_eq(net_bridge(r), net_bridge(net)))
			return error_set(err, EEXIST, "bridge name %s is used by network %s",
					 net_bridge(net), json_get_str(r, "Name"));
	_cleanup_free_ struct ip4_prefix *taken = NULL;
	size_t n_taken = 0;
	network_subnets(records, NULL, &taken, &n_taken);
	struct ipam_subnet s;
	_cleanup_free_ char *picked = NULL;
	if (o->subnet) {
		if (ipam_subnet_init(o->subnet, o->gateway, o->ip_range, &s, err) < 0)
			return -1;
		for (size_t k = 0; k < n_taken; k++)
			if (ip4_prefix_overlaps(&s.subnet, &taken[k]))
				return error_set(err, EEXIST,
						 "invalid pool request: Pool overlaps with other one on "
						 "this address space");
		json_object_set_new(scow, "UserSubnet", json_true());
	} else {
		_cleanup_nl_ struct nl *host = NULL;
		_cleanup_free_ struct ipam_pool *pools = NULL;
		size_t n_pools;
		struct ip4_prefix p;
		if (nl_open(&host, err) < 0 || host_routes(host, NULL, &taken, &n_taken, err) < 0 ||
		    config_pools(ns, &pools, &n_pools, err) < 0 ||
		    ipam_pick_subnet(pools, n_pools, taken, n_taken, &p, err) < 0)
			return -1;
		picked = ip4_prefix_format(&p);
		if (ipam_subnet_init(picked, NULL, NULL, &s, err) < 0)
			return -1;
	}
	_cleanup_free_ char *sub = ip4_prefix_format(&s.subnet);
	char gw[INET_ADDRSTRLEN];
	ip4_format(s.gateway, gw);
	json_t *cfg = json_pack("{ss ss}", "Subnet", sub, "Gateway", gw);
	if (o->ip_range && *o->ip_range) {
		_cleanup_free_ char *rg = ip4_prefix_format(&s.range);
		json_set_str(cfg, "IPRange", rg);
	}
	json_array_append_new(json_get_arr(json_get_obj(net, "IPAM"), "Config"), cfg);
	json_object_set_new(net, "Internal", json_boolean(o->internal));
	json_object_set_new(net, "Attachable", json_boolean(o->attachable));
	if (o->labels)
		json_object_set(net, "Labels", o->labels);
	if (o->options)
		json_object_set(net, "Options", o->options);
	_cleanup_nl_ struct nl *host = NULL;
	if (nl_open(&host, err) < 0)
		return -1;
	int idx = nl_link_index(host, net_bridge(net), err);
	if (idx < 0)
		return -1;
	if (idx > 0)
		return error_set(err, EEXIST, "an interface named %s exists already", net_bridge(net));
	if (net_bridge_ensure(ns, net, host, err) < 0) {
		_cleanup_error_ struct scow_error *e = NULL;
		bridge_remove(net, &e);
		return -1;
	}
	if (save_record(ns, net, err) < 0) {
		_cleanup_error_ struct scow_error *e = NULL;
		bridge_remove(net, &e);
		return -1;
	}
	if (ret)
		*ret = json_incref(net);
	return 0;
}

int net_create(struct net_store *ns, const struct net_create_opts *o, json_t **ret,
	       struct scow_error **err)
{
	if (net_lock(ns, err) < 0)
		return -1;
	int r = create_locked(ns, o, ret, err);
	net_unlock(ns);
	return r;
}

/* ---- list, inspect, remove ------------------------------------------------------------------- */

/* Docker's field order. */
static const char *const inspect_order[] = {
	"Name",	    "Id",	  "Created",	"Scope",      "Driver",	    "EnableIPv6",
	"IPAM",	    "Internal",	  "Attachable", "Ingress",    "ConfigFrom", "ConfigOnly",
	"Containers", "Options", "Labels",	NULL};

static json_t *inspect_shape(json_t *net, json_t *alloc)
{
	json_t *j = json_object();
	for (size_t i = 0; inspect_order[i]; i++) {
		json_t *v = json_object_get(net, inspect_order[i]);
		if (strcmp(inspect_order[i], "Containers") == 0)
			json_object_set_new(j, "Containers", json_object());
		else if (v)
			json_object_set_new(j, inspect_order[i], json_deep_copy(v));
	}
	json_t *ctrs = json_object();
	const char *id;
	json_t *ep;
	json_object_foreach(json_get_obj(alloc, "Endpoints"), id, ep) {
		if (!net_endpoint_alive(ep))
			continue;
		_cleanup_free_ char *v4 = xasprintf("%s/%lld", json_get_str(ep, "IPAddress"),
						    json_get_int(ep, "IPPrefixLen", 0));
		json_object_set_new(ctrs, id,
				    json_pack("{ss ss ss ss ss}", "Name", json_get_str(ep, "Name"),
					      "EndpointID", json_get_str(ep, "EndpointID"),
					      "MacAddress", json_get_str(ep, "MacAddress"),
					      "IPv4Address", v4, "IPv6Address", ""));
	}
	json_object_set_new(j, "Containers", ctrs);
	return j;
}

static int list_locked(struct net_store *ns, json_t **ret, struct scow_error **err)
{
	if (net_reconcile_locked(ns, err) < 0)
		return -1;
	_cleanup_json_ json_t *records = NULL;
	if (net_records(ns, &records, err) < 0)
		return -1;
	json_t *out = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(records, i, r) {
		_cleanup_error_ struct scow_error *e = NULL;
		_cleanup_json_ json_t *alloc = net_alloc_load(ns, json_get_str(r, "Id"), &e);
		json_array_append_new(out, inspect_shape(r, alloc));
	}
	*ret = out;
	return 0;
}

int net_list(struct net_store *ns, json_t **ret, struct scow_error **err)
{
	if (net_lock(ns, err) < 0)
		return -1;
	int r = list_locked(ns, ret, err);
	net_unlock(ns);
	return r;
}

static int inspect_locked(struct net_store *ns, const char *ref, json_t **ret,
			  struct scow_error **err)
{
	_cleanup_json_ json_t *net = NULL, *alloc = NULL;
	if (net_reconcile_locked(ns, err) < 0 || net_find_locked(ns, ref, &net, err) < 0)
		return -1;
	if (!(alloc = net_alloc_load(ns, json_get_str(net, "Id"), err)))
		return -1;
	*ret = inspect_shape(net, alloc);
	return 0;
}

int net_inspect(struct net_store *ns, const char *ref, json_t **ret, struct scow_error **err)
{
	if (net_lock(ns, err) < 0)
		return -1;
	int r = inspect_locked(ns, ref, ret, err);
	net_unlock(ns);
	return r;
}

static int remove_locked(struct net_store *ns, const char *ref, struct scow_error **err)
{
	_cleanup_json_ json_t *net = NULL, *alloc = NULL;
	if (net_reconcile_locked(ns, err) < 0 || net_find_locked(ns, ref, &net, err) < 0)
		return -1;
	const char *name = json_get_str(net, "Name"), *id = json_get_str(net, "Id");
	if (net_is_predefined(net))
		return error_set(err, EPERM, "%s is a pre-defined network and cannot be removed",
				 name);
	if (!(alloc = net_alloc_load(ns, id, err)))
		return -1;
	if (json_object_size(json_get_obj(alloc, "Endpoints")) > 0)
		return error_set(err, EBUSY,
				 "error while removing network: network %s id %s has active endpoints",
				 name, id);
	if (bridge_remove(net, err) < 0)
		return error_wrap(err, "remove network %s", name);
	_cleanup_free_ char *file = xasprintf("%s.json", name);
	_cleanup_free_ char *afile = xasprintf("%s.json", id);
	unlinkat(ns->alloc_fd, afile, 0);
	if (unlinkat(ns->dir_fd, file, 0) < 0)
		return error_errno(err, "remove network %s", name);
	fs_fsync_dir(ns->dir_fd);
	return 0;
}

int net_remove(struct net_store *ns, const char *ref, struct scow_error **err)
{
	if (net_lock(ns, err) < 0)
		return -1;
	int r = remove_locked(ns, ref, err);
	net_unlock(ns);
	return r;
}
