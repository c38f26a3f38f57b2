/* Containers on networks: setup, teardown, connect, disconnect, reconcile,
 * and the hosts files that give names on user networks (see network.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "net/internal.h"
#include "net/nft.h"
#include "net/run.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define HOSTS_MAX (1u << 20)

bool net_endpoint_alive(json_t *ep)
{
	pid_t pid = (pid_t)json_get_int(ep, "Pid", 0);
	uint64_t start = (uint64_t)json_get_int(ep, "PidStart", 0);
	return pid > 0 && start && net_proc_start_time(pid) == start;
}

void net_endpoint_undo(json_t *ep, struct nl *host, char ***defer_links)
{
	_cleanup_error_ struct scow_error *e = NULL;
	const char *veth = json_get_str(ep, "HostVeth");
	if (veth && defer_links)
		strv_push(defer_links, xstrdup(veth));
	else if (veth && host && nl_link_del(host, veth, &e) < 0) {
		log_warn("%s", e->msg);
		error_freep(&e);
	}
	json_t *ports = json_get_obj(ep, "Ports");
	if (json_object_size(ports) == 0)
		return;
	_cleanup_free_ struct net_port_map *maps = NULL;
	size_t n = 0;
	net_ports_from_json(ports, &maps, &n);
	if (nft_ports_del(maps, n, json_get_str(ep, "IPAddress"), &e) < 0)
		log_warn("unpublish ports of %.12s: %s", json_get_str(ep, "Container"), e->msg);
}

void net_links_delete(char **links)
{
	if (!links || !links[0])
		return;
	_cleanup_nl_ struct nl *host = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (nl_open(&host, &e) < 0) {
		log_warn("%s", e->msg);
		return;
	}
	for (size_t i = 0; links[i]; i++)
		if (nl_link_del(host, links[i], &e) < 0) { /* gone already: 1 */
			log_warn("%s", e->msg);
			error_freep(&e);
		}
}

/* ---- snapshots: every network with its endpoints -------------------------------------------- */

/* [{"Net": record, "Alloc": {"Endpoints": ...}}, ...] */
static int snapshot_load(struct net_store *ns, json_t **ret, struct scow_error **err)
{
	_cleanup_json_ json_t *records = NULL;
	if (net_records(ns, &records, err) < 0)
		return -1;
	_cleanup_json_ json_t *snap = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(records, i, r) {
		if (!net_bridge(r))
			continue;
		json_t *alloc = net_alloc_load(ns, json_get_str(r, "Id"), err);
		if (!alloc)
			return -1;
		json_array_append_new(snap, json_pack("{sO so}", "Net", r, "Alloc", alloc));
	}
	*ret = steal_ptr(&snap);
	return 0;
}

static json_t *snap_endpoints(json_t *entry)
{
	return json_get_obj(json_get_obj(entry, "Alloc"), "Endpoints");
}

static bool user_network(json_t *net)
{
	return !str_eq(json_get_str(net, "Name"), NET_DEFAULT);
}

/* ---- hosts files ------------------------------------------------------------------------------- */

/* Replaces everything from the marker line on, in place (see network.h). */
static int hosts_rewrite(const char *path, const char *managed, struct scow_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT) /* the container is being removed */
			return 0;
		return error_errno(err, "open %s", path);
	}
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return error_errno(err, "lock %s", path);
	_cleanup_free_ char *old = NULL;
	size_t len;
	if (fs_read_fd(fd, path, HOSTS_MAX, &old, &len, err) < 0)
		return -1;
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	const char *m = strstr(old, NET_HOSTS_MARKER);
	while (m && m != old && m[-1] != '\n')
		m = strstr(m + 1, NET_HOSTS_MARKER);
	sb_appendn(&sb, old, m ? (size_t)(m - old) : len);
	if (sb.len && sb.buf[sb.len - 1] != '\n')
		sb_appendc(&sb, '\n');
	sb_printf(&sb, "%s\n%s", NET_HOSTS_MARKER, managed);
	if (sb.len == len && memcmp(sb.buf, old, len) == 0)
		return 0;
	ssize_t w = pwrite(fd, sb.buf, sb.len, 0);
	if (w != (ssize_t)sb.len || ftruncate(fd, (off_t)sb.len) < 0)
		return error_errno(err, "write %s", path);
	return 0;
}

static void member_line(struct strbuf *sb, json_t *ep)
{
	sb_append(sb, json_get_str(ep, "IPAddress"));
	sb_appendc(sb, '\t');
	size_t i;
	json_t *n;
	json_array_foreach(json_get_arr(ep, "DNSNames"), i, n)
		sb_printf(sb, "%s%s", i ? " " : "", json_string_value(n));
	sb_appendc(sb, '\n');
}

/* The managed part of id's hosts file: its own line and links, then the
 * other live members of each user network it is on. */
static void hosts_write_for(json_t *snap, const char *id)
{
	json_t *mine = NULL;
	_cleanup_sb_ struct strbuf members = STRBUF_INIT;
	size_t i;
	json_t *entry;
	json_array_foreach(snap, i, entry) {
		json_t *eps = snap_endpoints(entry);
		json_t *ep = json_object_get(eps, id);
		if (!ep)
			continue;
		if (!mine)
			mine = ep;
		if (!user_network(json_get_obj(entry, "Net")))
			continue;
		const char *other;
		json_t *oep;
		json_object_foreach(eps, other, oep)
			if (strcmp(other, id) && net_endpoint_alive(oep))
				member_line(&members, oep);
	}
	const char *path = json_get_str(mine, "HostsPath");
	if (!mine || !path || !*path)
		return;
	_cleanup_sb_ struct strbuf all = STRBUF_INIT;
	sb_append(&all, json_get_str(mine, "HostsStatic") ? json_get_str(mine, "HostsStatic") : "");
	sb_append(&all, sb_str(&members));
	_cleanup_error_ struct scow_error *e = NULL;
	if (hosts_rewrite(path, sb_str(&all), &e) < 0)
		log_warn("update the hosts file of %.12s: %s", id, e->msg);
}

/* Rewrites the hosts files of the live members of the user networks whose
 * ids are in nets (an object used as a set), but skip. */
static void hosts_refresh(json_t *snap, json_t *nets, const char *skip)
{
	_cleanup_json_ json_t *done = json_object();
	size_t i;
	json_t *entry;
	json_array_foreach(snap, i, entry) {
		json_t *net = json_get_obj(entry, "Net");
		if (!user_network(net) || !json_object_get(nets, json_get_str(net, "Id")))
			continue;
		const char *id;
		json_t *ep;
		json_object_foreach(snap_endpoints(entry), id, ep) {
			if ((skip && strcmp(id, skip) == 0) || json_object_get(done, id) ||
			    !net_endpoint_alive(ep))
				continue;
			json_object_set_new(done, id, json_true());
			hosts_write_for(snap, id);
		}
	}
}

/* ---- reconcile and teardown ------------------------------------------------------------------ */

/* Removes the endpoints that match (id, or dead ones when id is NULL; only
 * network net_id if given), undoing them; affected gets the network ids. */
static int remove_endpoints(struct net_store *ns, json_t *snap, const char *id, const char *net_id,
			    json_t *affected, char ***defer_links, struct scow_error **err)
{
	_cleanup_nl_ struct nl *host = NULL;
	size_t i;
	json_t *entry;
	json_array_foreach(snap, i, entry) {
		json_t *net = json_get_obj(entry, "Net");
		const char *nid = json_get_str(net, "Id");
		if (net_id && strcmp(nid, net_id))
			continue;
		json_t *eps = snap_endpoints(entry);
		bool changed = false;
		const char *cid;
		json_t *ep;
		void *tmp;
		json_object_foreach_safe(eps, tmp, cid, ep) {
			if (id ? strcmp(cid, id) != 0 : net_endpoint_alive(ep))
				continue;
			if (!host) {
				_cleanup_error_ struct scow_error *e = NULL;
				if (nl_open(&host, &e) < 0)
					log_warn("%s", e->msg);
			}
			log_debug("network %s: release %s of %.12s", json_get_str(net, "Name"),
				  json_get_str(ep, "IPAddress"), cid);
			net_endpoint_undo(ep, host, id ? defer_links : NULL);
			json_object_del(eps, cid);
			changed = true;
		}
		if (!changed)
			continue;
		json_object_set_new(affected, nid, json_true());
		if (net_alloc_save(ns, nid, json_get_obj(entry, "Alloc"), err) < 0)
			return -1;
	}
	return 0;
}

int net_reconcile_locked(struct net_store *ns, struct scow_error **err)
{
	_cleanup_json_ json_t *snap = NULL, *affected = json_object();
	if (snapshot_load(ns, &snap, err) < 0 || remove_endpoints(ns, snap, NULL, NULL, affected, NULL, err) < 0)
		return -1;
	if (json_object_size(affected))
		hosts_refresh(snap, affected, NULL);
	return 0;
}

int net_reconcile(struct net_store *ns, struct scow_error **err)
{
	if (net_lock(ns, err) < 0)
		return -1;
	int r = net_reconcile_locked(ns, err);
	net_unlock(ns);
	return r;
}

static int teardown_locked(struct net_store *ns, const char *id, const char *net_id,
			   char ***defer_links, struct scow_error **err)
{
	_cleanup_json_ json_t *snap = NULL, *affected = json_object();
	if (snapshot_load(ns, &snap, err) < 0 ||
	    remove_endpoints(ns, snap, id, net_id, affected, defer_links, err) < 0 ||
	    remove_endpoints(ns, snap, NULL, NULL, affected, NULL, err) < 0)
		return -1;
	if (json_object_size(affected))
		hosts_refresh(snap, affected, id);
	return 0;
}

int net_container_teardown(struct net_store *ns, const char *id, char ***defer_links,
			   struct scow_error **err)
{
	if (net_lock(ns, err) < 0)
		return -1;
	int r = teardown_locked(ns, id, NULL, defer_links, err);
	net_unlock(ns);
	return r;
}

/* ---- settings (NetworkSettings) -------------------------------------------------------------- */

static json_t *endpoint_settings(json_t *net, json_t *ep)
{
	json_t *ipam = json_get_str(ep, "StaticIP") ? json_pack("{ss}", "IPv4Address",
								json_get_str(ep, "StaticIP"))
						    : json_null();
	return json_pack("{so sn sO ss ss ss ss ss sI ss ss sI ss sn sO}", "IPAMConfig", ipam,
			 "Links", "Aliases",
			 json_get_arr(ep, "Aliases") ? json_get_arr(ep, "Aliases") : json_array(),
			 "MacAddress", json_get_str(ep, "MacAddress"), "NetworkID",
			 json_get_str(net, "Id"), "EndpointID", json_get_str(ep, "EndpointID"),
			 "Gateway", json_get_str(ep, "Gateway"), "IPAddress",
			 json_get_str(ep, "IPAddress"), "IPPrefixLen",
			 (json_int_t)json_get_int(ep, "IPPrefixLen", 0), "IPv6Gateway", "",
			 "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", (json_int_t)0,
			 "Ifname", json_get_str(ep, "Ifname"), "DriverOpts", "DNSNames",
			 json_get_arr(ep, "DNSNames") ? json_get_arr(ep, "DNSNames") : json_array());
}

static json_t *settings_from(json_t *snap, const char *id)
{
	json_t *s = json_pack("{ss sb s{} ss ss sI ss ss so s{}}", "Bridge", "", "HairpinMode", 0,
			      "Ports", "SandboxKey", "", "Gateway", "", "IPPrefixLen", (json_int_t)0,
			      "IPAddress", "", "MacAddress", "", "SecondaryIPAddresses", json_null(),
			      "Networks");
	json_t *nets = json_get_obj(s, "Networks");
	size_t i;
	json_t *entry;
	json_array_foreach(snap, i, entry) {
		json_t *net = json_get_obj(entry, "Net");
		json_t *ep = json_object_get(snap_endpoints(entry), id);
		if (!ep)
			continue;
		json_object_set_new(nets, json_get_str(net, "Name"), endpoint_settings(net, ep));
		if (json_get_obj(ep, "Ports"))
			json_object_set(s, "Ports", json_get_obj(ep, "Ports"));
		if (!*json_get_str(s, "SandboxKey")) {
			_cleanup_free_ char *key = xasprintf("/proc/%lld/ns/net",
							     json_get_int(ep, "Pid", 0));
			json_set_str(s, "SandboxKey", key);
		}
		if (!user_network(net)) {
			json_set_str(s, "Gateway", json_get_str(ep, "Gateway"));
			json_set_str(s, "IPAddress", json_get_str(ep, "IPAddress"));
			json_set_int(s, "IPPrefixLen", json_get_int(ep, "IPPrefixLen", 0));
			json_set_str(s, "MacAddress", json_get_str(ep, "MacAddress"));
		}
	}
	return s;
}

int net_container_settings(struct net_store *ns, const char *id, json_t **ret,
			   struct scow_error **err)
{
	if (net_lock(ns, err) < 0)
		return -1;
	_cleanup_json_ json_t *snap = NULL;
	int r = net_reconcile_locked(ns, err);
	if (r == 0)
		r = snapshot_load(ns, &snap, err);
	net_unlock(ns);
	if (r < 0)
		return -1;
	*ret = settings_from(snap, id);
	return 0;
}

/* ---- setup ------------------------------------------------------------------------------------- */

struct setup {
	struct net_store *ns;
	const struct net_container *c;
	int nsfd;
	struct nl *host, *ctr;
	bool have_route;
	json_t *first_ep; /* where published ports go (borrowed) */
	json_t *first_net;
};

static int parse_mac(const char *s, uint8_t mac[6], struct scow_error **err)
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &tail) != 6 ||
	    strlen(s) != 17)
		return error_set(err, EINVAL, "invalid MAC address: %s", s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	if (mac[0] & 1)
		return error_set(err, EINVAL, "invalid MAC address: %s: a multicast address", s);
	return 0;
}

static int used_addresses(json_t *eps, uint32_t **ret, size_t *n)
{
	size_t cap = 0;
	const char *id;
	json_t *ep;
	json_object_foreach(eps, id, ep) {
		uint32_t a;
		if (!ip4_parse(json_get_str(ep, "IPAddress") ? json_get_str(ep, "IPAddress") : "", &a))
			continue;
		xgrow((void **)ret, &cap, *n + 1, sizeof(**ret));
		(*ret)[(*n)++] = a;
	}
	return 0;
}

/* eth0, eth1, ...: the lowest not used by the container's endpoints nor
 * present in its namespace. */
static int pick_ifname(struct setup *st, json_t *snap, char out[16], struct scow_error **err)
{
	for (unsigned k = 0; k < 64; k++) {
		snprintf(out, 16, "eth%u", k);
		bool used = false;
		size_t i;
		json_t *entry;
		json_array_foreach(snap, i, entry) {
			json_t *ep = json_object_get(snap_endpoints(entry), st->c->id);
			used |= ep && str_eq(json_get_str(ep, "Ifname"), out);
		}
		if (used)
			continue;
		int idx = nl_link_index(st->ctr, out, err);
		if (idx < 0)
			return -1;
		if (idx == 0)
			return 0;
	}
	return error_set(err, ENOSPC, "no free interface name in the container");
}

static json_t *dns_names(const struct net_container *c, const struct net_attach *a)
{
	json_t *names = json_array();
	char short_id[13];
	snprintf(short_id, sizeof(short_id), "%.12s", c->id);
	json_array_append_new(names, json_string(c->name));
	json_array_append_new(names, json_string(short_id));
	for (size_t i = 0; i < a->n_aliases; i++)
		if (strcmp(a->aliases[i], c->name) && strcmp(a->aliases[i], short_id))
			json_array_append_new(names, json_string(a->aliases[i]));
	return names;
}

static int check_attach(json_t *net, const struct net_attach *a, struct scow_error **err)
{
	const char *name = json_get_str(net, "Name");
	if (!net_bridge(net))
		return error_set(err, EINVAL, "container cannot be connected to network %s with others",
				 name);
	if (a->ip && !user_network(net))
		return error_set(err, EINVAL,
				 "user specified IP address is supported on user defined networks only");
	if (a->ip && !json_get_bool(json_get_obj(net, "Scow"), "UserSubnet", false))
		return error_set(err, EINVAL,
				 "user specified IP address is supported only when connecting to "
				 "networks with user configured subnets");
	if (a->n_aliases && !user_network(net))
		return error_set(err, EINVAL,
				 "network-scoped alias is supported only for containers in user "
				 "defined networks");
	return 0;
}

/* The addresses: --ip or the lowest free one; the MAC. */
static int endpoint_address(json_t *net, json_t *eps, const struct net_attach *a, uint32_t *ret_ip,
			    uint8_t mac[6], struct ipam_subnet *s, struct scow_error **err)
{
	_cleanup_free_ uint32_t *used = NULL;
	size_t n_used = 0;
	if (net_subnet(net, s, err) < 0)
		return -1;
	used_addresses(eps, &used, &n_used);
	if (a->ip) {
		if (!ip4_parse(a->ip, ret_ip))
			return error_set(err, EINVAL, "invalid IPv4 address: %s", a->ip);
		if (ipam_addr_check(s, *ret_ip, used, n_used, err) < 0)
			return -1;
	} else if (ipam_addr_pick(s, used, n_used, ret_ip, err) < 0) {
		return error_wrap(err, "network %s", json_get_str(net, "Name"));
	}
	if (a->mac)
		return parse_mac(a->mac, mac, err);
	/* Docker's derivation: 02:42 and the address. */
	uint8_t m[6] = {0x02, 0x42, (uint8_t)(*ret_ip >> 24), (uint8_t)(*ret_ip >> 16),
			(uint8_t)(*ret_ip >> 8), (uint8_t)*ret_ip};
	memcpy(mac, m, 6);
	return 0;
}

static json_t *endpoint_record(struct setup *st, json_t *net, const struct net_attach *a,
			       const struct ipam_subnet *s, uint32_t ip, const uint8_t mac[6],
			       const char *veth, const char *ifname, const char *epid)
{
	const struct net_container *c = st->c;
	char ips[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], macs[18];
	ip4_format(ip, ips);
	ip4_format(s->gateway, gw);
	snprintf(macs, sizeof(macs), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	json_t *aliases = json_array();
	for (size_t i = 0; i < a->n_aliases; i++)
		json_array_append_new(aliases, json_string(a->aliases[i]));
	json_t *ep = json_pack("{ss ss ss ss ss sI ss ss so so sI sI ss ss ss ss}", "Container", c->id,
			       "Name", c->name, "Hostname", c->hostname ? c->hostname : "",
			       "EndpointID", epid, "IPAddress", ips, "IPPrefixLen",
			       (json_int_t)s->subnet.len, "Gateway", gw, "MacAddress", macs,
			       "Aliases", aliases, "DNSNames", dns_names(c, a), "Pid",
			       (json_int_t)c->pid, "PidStart", (json_int_t)c->pid_start, "HostVeth",
			       veth, "Ifname", ifname, "HostsPath", c->hosts_path ? c->hosts_path : "",
			       "NetworkID", json_get_str(net, "Id"));
	if (a->ip)
		json_set_str(ep, "StaticIP", a->ip);
	return ep;
}

/* Connects the container to one network; the endpoint is recorded in the
 * network's allocation file before returning. */
static int attach_one(struct setup *st, json_t *snap, json_t *entry, const struct net_attach *a,
		      struct scow_error **err)
{
	json_t *net = json_get_obj(entry, "Net");
	json_t *eps = snap_endpoints(entry);
	const char *name = json_get_str(net, "Name");
	if (check_attach(net, a, err) < 0)
		return -1;
	json_t *old = json_object_get(eps, st->c->id);
	if (old && net_endpoint_alive(old))
		return error_set(err, EEXIST, "endpoint with name %s already exists in network %s",
				 st->c->name, name);
	if (old) {
		net_endpoint_undo(old, st->host, NULL);
		json_object_del(eps, st->c->id);
	}
	if (net_bridge_ensure(st->ns, net, st->host, err) < 0)
		return -1;
	struct ipam_subnet s;
	uint32_t ip;
	uint8_t mac[6];
	if (endpoint_address(net, eps, a, &ip, mac, &s, err) < 0)
		return -1;
	char ifname[16], epid[65], veth[16];
	if (pick_ifname(st, snap, ifname, err) < 0)
		return -1;
	fs_random_hex(epid, 32);
	snprintf(veth, sizeof(veth), "veth%.9s", epid);
	int master = nl_link_index(st->host, net_bridge(net), err);
	if (master <= 0)
		return master < 0 ? -1 : error_set(err, ENODEV, "bridge %s vanished", net_bridge(net));
	json_t *scow = json_get_obj(net, "Scow");
	struct nl_veth v = {.name = veth, .master = master,
			    .mtu = (unsigned)json_get_int(scow, "Mtu", 0),
			    .peer_netns_fd = st->nsfd, .peer_name = ifname, .peer_mac = mac};
	if (nl_veth_add(st->host, &v, err) < 0)
		return error_wrap(err, "network %s", name);
	bool route = !st->have_route && !net_internal(net);
	json_t *ep = NULL;
	if (nl_link_set_up(st->ctr, ifname, true, err) < 0 ||
	    nl_addr_add(st->ctr, ifname, ip, s.subnet.len, err) < 0 ||
	    (route && nl_route_add_default(st->ctr, ifname, s.gateway, err) < 0))
		goto undo_veth;
	st->have_route |= route;
	ep = endpoint_record(st, net, a, &s, ip, mac, veth, ifname, epid);
	json_object_set_new(eps, st->c->id, ep);
	if (net_alloc_save(st->ns, json_get_str(net, "Id"), json_get_obj(entry, "Alloc"), err) < 0) {
		json_object_del(eps, st->c->id);
		goto undo_veth;
	}
	if (!st->first_ep && !net_internal(net)) {
		st->first_ep = ep;
		st->first_net = net;
	}
	return 0;
undo_veth:;
	_cleanup_error_ struct scow_error *e = NULL;
	nl_link_del(st->host, veth, &e);
	return error_wrap(err, "network %s", name);
}

static int publish_ports(struct setup *st, json_t *snap, struct scow_error **err)
{
	const struct net_container *c = st->c;
	if (c->n_ports == 0)
		return 0;
	if (!st->first_ep) {
		log_warn("container %.12s: published ports need a network with a route out; ignored",
			 c->id);
		return 0;
	}
	_cleanup_free_ struct net_port_map *maps = NULL;
	size_t n = 0;
	if (net_ports_expand(c->ports, c->n_ports, net_port_is_free, net_port_pick, NULL, &maps, &n,
			     err) < 0)
		return -1;
	/* This store's own conflicts, with Docker's message. */
	size_t i;
	json_t *entry;
	json_array_foreach(snap, i, entry) {
		const char *id;
		json_t *ep;
		json_object_foreach(snap_endpoints(entry), id, ep) {
			_cleanup_free_ struct net_port_map *theirs = NULL;
			size_t nt = 0;
			if (strcmp(id, c->id) == 0 || !json_get_obj(ep, "Ports"))
				continue;
			net_ports_from_json(json_get_obj(ep, "Ports"), &theirs, &nt);
			for (size_t a = 0; a < n; a++)
				for (size_t b = 0; b < nt; b++)
					if (maps[a].host_port == theirs[b].host_port &&
					    strcmp(maps[a].proto, theirs[b].proto) == 0 &&
					    (!*maps[a].host_ip || !*theirs[b].host_ip ||
					     strcmp(maps[a].host_ip, theirs[b].host_ip) == 0))
						return error_set(err, EADDRINUSE,
								 "Bind for %s:%u failed: port is "
								 "already allocated",
								 *maps[a].host_ip ? maps[a].host_ip
										  : "0.0.0.0",
								 maps[a].host_port);
		}
	}
	const char *ip = json_get_str(st->first_ep, "IPAddress");
	/* Only with published ports: hairpin also reflects the container's
	 * own broadcasts (and upsets IPv6 duplicate address detection). */
	if (nl_bridge_port_hairpin(st->host, json_get_str(st->first_ep, "HostVeth"), true, err) < 0 ||
	    nft_ports_add(maps, n, ip, err) < 0)
		return -1;
	json_object_set_new(st->first_ep, "Ports", net_ports_json(maps, n));
	json_array_foreach(snap, i, entry)
		if (json_get_obj(entry, "Net") == st->first_net)
			return net_alloc_save(st->ns, json_get_str(st->first_net, "Id"),
					      json_get_obj(entry, "Alloc"), err);
	return 0;
}

/* The container's own line and its links, kept in each of its endpoints. */
static int hosts_static(struct setup *st, json_t *snap, struct scow_error **err)
{
	const struct net_container *c = st->c;
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	json_t *first = NULL, *bridge_entry = NULL;
	size_t i;
	json_t *entry;
	json_array_foreach(snap, i, entry) {
		json_t *ep = json_object_get(snap_endpoints(entry), c->id);
		if (!user_network(json_get_obj(entry, "Net")))
			bridge_entry = entry;
		if (ep && !first)
			first = ep;
	}
	if (!first)
		return 0;
	const char *h = c->hostname ? c->hostname : "";
	if (c->domainname && *c->domainname)
		sb_printf(&sb, "%s\t%s.%s %s\n", json_get_str(first, "IPAddress"), h, c->domainname, h);
	else
		sb_printf(&sb, "%s\t%s\n", json_get_str(first, "IPAddress"), h);
	for (size_t l = 0; l < c->n_links; l++) {
		_cleanup_free_ char *target = xstrdup(c->links[l]);
		char *alias = strchr(target, ':');
		if (alias)
			*alias++ = '\0';
		json_t *found = NULL;
		const char *id;
		json_t *ep;
		json_object_foreach(snap_endpoints(bridge_entry), id, ep)
			if (net_endpoint_alive(ep) &&
			    (str_eq(json_get_str(ep, "Name"), target) ||
			     (strlen(target) >= 3 && strncmp(id, target, strlen(target)) == 0)))
				found = ep;
		if (!found)
			return error_set(err, ENOENT,
					 "could not get container for %s: it is not running on the "
					 "default bridge network",
					 target);
		sb_printf(&sb, "%s\t%s%s%.12s %s\n", json_get_str(found, "IPAddress"),
			  alias && *alias ? alias : "", alias && *alias ? " " : "",
			  json_get_str(found, "Container"), json_get_str(found, "Name"));
	}
	json_array_foreach(snap, i, entry) {
		json_t *ep = json_object_get(snap_endpoints(entry), c->id);
		if (!ep)
			continue;
		json_set_str(ep, "HostsStatic", sb_str(&sb));
		if (net_alloc_save(st->ns, json_get_str(json_get_obj(entry, "Net"), "Id"),
				   json_get_obj(entry, "Alloc"), err) < 0)
			return -1;
	}
	return 0;
}

static void setup_release(struct setup *st)
{
	nl_close(st->host);
	nl_close(st->ctr);
	closep(&st->nsfd);
}

static int setup_open(struct setup *st, struct scow_error **err)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)st->c->pid);
	st->nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (st->nsfd < 0)
		return error_errno(err, "open the network namespace of pid %d", (int)st->c->pid);
	if (nl_open(&st->host, err) < 0 || nl_open_netns(st->nsfd, &st->ctr, err) < 0)
		return -1;
	return 0;
}

static json_t *snap_entry(json_t *snap, json_t *net)
{
	size_t i;
	json_t *entry;
	json_array_foreach(snap, i, entry)
		if (str_eq(json_get_str(json_get_obj(entry, "Net"), "Id"), json_get_str(net, "Id")))
			return entry;
	return NULL;
}

static int setup_locked(struct setup *st, json_t **ret, struct scow_error **err)
{
	const struct net_container *c = st->c;
	_cleanup_json_ json_t *snap = NULL, *affected = json_object();
	if (net_reconcile_locked(st->ns, err) < 0 || snapshot_load(st->ns, &snap, err) < 0 ||
	    setup_open(st, err) < 0 || nl_link_set_up(st->ctr, "lo", true, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n_nets; i++) {
		_cleanup_json_ json_t *net = NULL;
		if (net_find_locked(st->ns, c->nets[i].network, &net, err) < 0)
			return -1;
		json_t *entry = snap_entry(snap, net);
		if (!entry)
			return error_set(err, EINVAL, "network %s cannot be attached to",
					 json_get_str(net, "Name"));
		if (attach_one(st, snap, entry, &c->nets[i], err) < 0)
			return -1;
		json_object_set_new(affected, json_get_str(net, "Id"), json_true());
	}
	if (publish_ports(st, snap, err) < 0 || hosts_static(st, snap, err) < 0)
		return -1;
	hosts_write_for(snap, c->id);
	hosts_refresh(snap, affected, c->id);
	if (ret)
		*ret = settings_from(snap, c->id);
	log_trace("net: container connected");
	return 0;
}

static void fill_start(struct net_container *copy, const struct net_container *c)
{
	*copy = *c;
	if (!copy->pid_start)
		copy->pid_start = net_proc_start_time(c->pid);
}

int net_container_setup(struct net_store *ns, const struct net_container *c, json_t **ret_settings,
			struct scow_error **err)
{
	struct net_container cc;
	fill_start(&cc, c);
	struct setup st = {.ns = ns, .c = &cc, .nsfd = -1};
	if (net_lock(ns, err) < 0)
		return -1;
	int r = setup_locked(&st, ret_settings, err);
	if (r < 0) {
		_cleanup_error_ struct scow_error *e = NULL;
		teardown_locked(ns, c->id, NULL, NULL, &e);
	}
	setup_release(&st);
	net_unlock(ns);
	return r;
}

static int connect_locked(struct setup *st, const struct net_attach *a, json_t **ret,
			  struct scow_error **err)
{
	_cleanup_json_ json_t *snap = NULL, *net = NULL, *affected = json_object();
	if (net_reconcile_locked(st->ns, err) < 0 || snapshot_load(st->ns, &snap, err) < 0 ||
	    net_find_locked(st->ns, a->network, &net, err) < 0 || setup_open(st, err) < 0)
		return -1;
	json_t *entry = snap_entry(snap, net);
	if (!entry)
		return error_set(err, EINVAL, "container cannot be connected to network %s",
				 json_get_str(net, "Name"));
	/* The static hosts part and the default route come from the
	 * networks the container is on already. */
	const char *hs = NULL;
	size_t i;
	json_t *e;
	json_array_foreach(snap, i, e) {
		json_t *ep = json_object_get(snap_endpoints(e), st->c->id);
		if (!ep)
			continue;
		hs = json_get_str(ep, "HostsStatic");
		st->have_route |= !net_internal(json_get_obj(e, "Net"));
	}
	_cleanup_free_ char *hosts_static_text = hs ? xstrdup(hs) : NULL;
	if (attach_one(st, snap, entry, a, err) < 0)
		return -1;
	json_t *ep = json_object_get(snap_endpoints(entry), st->c->id);
	if (hosts_static_text) {
		json_set_str(ep, "HostsStatic", hosts_static_text);
		if (net_alloc_save(st->ns, json_get_str(net, "Id"), json_get_obj(entry, "Alloc"),
				   err) < 0)
			return -1;
	} else {
		struct net_container nolinks = *st->c;
		nolinks.n_links = 0;
		st->c = &nolinks;
		int r = hosts_static(st, snap, err);
		st->c = NULL;
		if (r < 0)
			return -1;
	}
	json_object_set_new(affected, json_get_str(net, "Id"), json_true());
	hosts_refresh(snap, affected, NULL);
	hosts_write_for(snap, json_string_value(json_object_get(ep, "Container")));
	if (ret)
		*ret = settings_from(snap, json_get_str(ep, "Container"));
	return 0;
}

int net_container_connect(struct net_store *ns, const struct net_container *c,
			  const struct net_attach *a, json_t **ret_settings, struct scow_error **err)
{
	struct net_container cc;
	fill_start(&cc, c);
	struct setup st = {.ns = ns, .c = &cc, .nsfd = -1};
	if (cc.pid <= 0 || net_proc_start_time(cc.pid) != cc.pid_start)
		return error_set(err, ESRCH, "container %.12s is not running", c->id);
	if (net_lock(ns, err) < 0)
		return -1;
	int r = connect_locked(&st, a, ret_settings, err);
	setup_release(&st);
	net_unlock(ns);
	return r;
}

static int disconnect_locked(struct net_store *ns, const char *id, const char *network,
			     json_t **ret, struct scow_error **err)
{
	_cleanup_json_ json_t *net = NULL, *snap = NULL;
	if (net_find_locked(ns, network, &net, err) < 0)
		return -1;
	_cleanup_json_ json_t *alloc = net_alloc_load(ns, json_get_str(net, "Id"), err);
	if (!alloc)
		return -1;
	json_t *ep = json_object_get(json_get_obj(alloc, "Endpoints"), id);
	if (!ep)
		return error_set(err, ENOENT, "container %.12s is not connected to network %s", id,
				 json_get_str(net, "Name"));
	_cleanup_free_ char *hosts = xstrdup(json_get_str(ep, "HostsPath") ? json_get_str(ep, "HostsPath") : "");
	_cleanup_free_ char *hstatic = xstrdup(json_get_str(ep, "HostsStatic") ? json_get_str(ep, "HostsStatic") : "");
	if (teardown_locked(ns, id, json_get_str(net, "Id"), NULL, err) < 0 ||
	    snapshot_load(ns, &snap, err) < 0)
		return -1;
	/* The container stays: its own hosts file loses the network's names. */
	bool others = false;
	size_t i;
	json_t *entry;
	json_array_foreach(snap, i, entry)
		others |= json_object_get(snap_endpoints(entry), id) != NULL;
	if (others) {
		hosts_write_for(snap, id);
	} else if (*hosts) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (hosts_rewrite(hosts, hstatic, &e) < 0)
			log_warn("update the hosts file of %.12s: %s", id, e->msg);
	}
	if (ret)
		*ret = settings_from(snap, id);
	return 0;
}

int net_container_disconnect(struct net_store *ns, const char *id, const char *network,
			     json_t **ret_settings, struct scow_error **err)
{
	if (net_lock(ns, err) < 0)
		return -1;
	int r = disconnect_locked(ns, id, network, ret_settings, err);
	net_unlock(ns);
	return r;
}
