/* Networks and container endpoints, with no daemon.
 *
 * Data (see also ipam.h, nft.h, netlink.h):
 *   ROOT/network.json             optional configuration:
 *       {"DefaultBridge": {"Bridge": "scow0", "Subnet": "10.88.0.0/16",
 *                          "Gateway": "", "Mtu": 1500},
 *        "DefaultAddressPools": [{"Base": "10.89.0.0/16", "Size": 24}, ...]}
 *   ROOT/networks/<name>.json     one network, Docker's inspect shape (without
 *                                 Containers) plus a private "Scow" member
 *                                 (bridge device, MTU, masquerade, ...)
 *   ROOT/networks/.lock           flock taken by every operation below
 *   RUNROOT/networks/<id>.json    the network's live endpoints (IPAM
 *                                 allocations): container, IP, MAC, veth,
 *                                 aliases, published ports, and the pid and
 *                                 start time of the container's init
 *
 * The predefined networks "bridge" (the default: Linux bridge scow0,
 * 10.88.0.0/16 unless configured; when that collides with a route of the
 * host and was not configured explicitly, the next free /16 of 10.88.0.0/13),
 * "host" and "none" are recorded on first use. User networks get bridge
 * br-<12 hex of the id> and, without --subnet, the first /24 of the pools
 * that collides with no route of the host (all tables) and no other network.
 *
 * A container's endpoint on a network: a veth pair, the host end in the
 * bridge, the other end created directly in the container's network
 * namespace as eth0, eth1, ... with its MAC (02:42 + the IPv4 address unless
 * --mac-address), the address, and the default route via the first
 * non-internal network's gateway. Published ports go to the address on that
 * first network.
 *
 * Cleanup: every operation first reconciles: an endpoint whose container
 * init (pid + start time) is gone -- a crash, kill -9 of the supervisor --
 * has its veth deleted (if the kernel has not already), its published ports
 * removed from nftables, its address released and the members' hosts files
 * rewritten.
 *
 * Name resolution on user networks: every member's /etc/hosts lists the
 * other members (name, short id, aliases). A container's /etc/hosts is a
 * bind mount of its ROOT/containers/<id>/hosts file, so that file is
 * rewritten in place (under flock on it, one write, then ftruncate), never
 * replaced by rename: a rename would leave the container with the old inode.
 * Docker rewrites it in place too. The managed part starts at the line
 * NET_HOSTS_MARKER; whatever is above it (localhost, --add-host) is kept.
 * The default "bridge" network has no names, only --link entries. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/ports.h"
#include "util/error.h"

#define NET_DEFAULT "bridge"
#define NET_HOSTS_MARKER "# scow: network entries below are managed by scow"

struct net_store {
	char *root, *runroot;
	int dir_fd;   /* ROOT/networks */
	int alloc_fd; /* RUNROOT/networks */
	int lock_fd;  /* >= 0 while locked */
	json_t *config;
};

int net_store_open(const char *root, const char *runroot, struct net_store *ret,
		   struct scow_error **err);
void net_store_close(struct net_store *ns);

/* ---- networks -------------------------------------------------------------------------------- */

struct net_create_opts {
	const char *name;
	const char *driver; /* NULL: bridge */
	const char *subnet, *gateway, *ip_range; /* NULL: picked */
	bool internal, attachable, ipv6;
	json_t *labels;	 /* object or NULL */
	json_t *options; /* object or NULL: -o com.docker.network.bridge.name=..., .driver.mtu,
			  * .bridge.enable_ip_masquerade */
};

/* Creates the network and its bridge; *ret (may be NULL) is the record. */
int net_create(struct net_store *ns, const struct net_create_opts *o, json_t **ret,
	       struct scow_error **err);
/* By name, full id, or unique id prefix; ENOENT "network X not found".
 * "default" means "bridge". */
int net_find(struct net_store *ns, const char *ref, json_t **ret, struct scow_error **err);
/* Every network (predefined first), in Docker's inspect shape with
 * Containers filled in from the live endpoints. */
int net_list(struct net_store *ns, json_t **ret, struct scow_error **err);
/* One network in Docker's inspect shape. */
int net_inspect(struct net_store *ns, const char *ref, json_t **ret, struct scow_error **err);
/* Removes a user network: bridge, nft elements, records. EBUSY while it has
 * live endpoints, EPERM for the predefined ones. */
int net_remove(struct net_store *ns, const char *ref, struct scow_error **err);
/* Whether the network (a record from net_list) is one of bridge/host/none. */
bool net_is_predefined(json_t *net);
/* Reconciles endpoints of dead containers (see above); done by every
 * operation, exposed for commands that only read. */
int net_reconcile(struct net_store *ns, struct scow_error **err);

/* ---- containers ------------------------------------------------------------------------------ */

/* A container's wish for one network (--network, --network-alias, --ip,
 * --mac-address, or network connect). */
struct net_attach {
	const char *network; /* name or id; "default"/"bridge" is the default */
	const char *const *aliases;
	size_t n_aliases;
	const char *ip;	 /* NULL: picked */
	const char *mac; /* NULL: derived from the address */
};

struct net_container {
	const char *id;
	const char *name; /* without "/" */
	const char *hostname, *domainname;
	const char *hosts_path; /* the host file bound at /etc/hosts; NULL: none */
	pid_t pid;		/* the container's init */
	uint64_t pid_start;	/* its start time (proc_start_time) */
	const struct net_attach *nets;
	size_t n_nets;
	const struct net_port_spec *ports; /* -p and -P, parsed */
	size_t n_ports;
	const char *const *links; /* --link "name[:alias]", default bridge only */
	size_t n_links;
};

/* Connects the container (its init already exists, in a new network
 * namespace: call it from the spawn prepare hook) to its networks, publishes
 * its ports and writes its hosts file and its peers'. On failure everything
 * done is undone. *ret_settings (may be NULL): Docker's NetworkSettings
 * (Networks, Ports, IPAddress, Gateway, MacAddress, SandboxKey, ...). */
int net_container_setup(struct net_store *ns, const struct net_container *c, json_t **ret_settings,
			struct scow_error **err);
/* Undoes setup (all networks); nothing to do is not an error. Call after
 * the container's init has exited, and on stop/rm/kill of a container
 * whose supervisor is gone. defer_links (or NULL): the host-side veths
 * are listed there instead of deleted, for net_links_delete() once the
 * exit is answered: deleting a net device waits for RCU grace periods
 * (~20 ms), and the kernel removes the pair with the container's network
 * namespace anyway. Addresses and ports are released at once. */
int net_container_teardown(struct net_store *ns, const char *id, char ***defer_links,
			   struct scow_error **err);
/* network connect for a running container: c describes it (pid and
 * pid_start from runtime.json; nets/ports ignored), a the new network. */
int net_container_connect(struct net_store *ns, const struct net_container *c,
			  const struct net_attach *a, json_t **ret_settings, struct scow_error **err);
int net_container_disconnect(struct net_store *ns, const char *id, const char *network,
			     json_t **ret_settings, struct scow_error **err);
/* NetworkSettings of a running container from its endpoints (empty
 * Networks when it has none). */
int net_container_settings(struct net_store *ns, const char *id, json_t **ret,
			   struct scow_error **err);

/* ---- /etc/hosts and /etc/resolv.conf --------------------------------------------------------- */

/* --add-host "name:ip" (also "name=ip", Docker 25+) with "host-gateway"
 * replaced by the default bridge's gateway: "ip\tname\n" lines. */
int net_extra_hosts(struct net_store *ns, const char *const *specs, size_t n, char **ret,
		    struct scow_error **err);
/* A container's resolv.conf from the host's: loopback nameservers dropped
 * (unreachable from a private network namespace) with Docker's public
 * fallback if none is left, unless host_net; --dns replaces the
 * nameservers, --dns-search the search domains ("." clears them),
 * --dns-option the options. */
char *net_resolv_conf(const char *host_resolv, bool host_net, const char *const *dns, size_t n_dns,
		      const char *const *search, size_t n_search, const char *const *options,
		      size_t n_options);
/* Checks --dns values (IP addresses). */
int net_dns_check(const char *const *dns, size_t n, struct scow_error **err);
