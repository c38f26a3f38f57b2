/* rtnetlink over libmnl: links (bridges, veth pairs), addresses and routes,
 * in the host's network namespace or in a container's.
 *
 * A struct nl is one NETLINK_ROUTE socket. A socket belongs to the network
 * namespace it was created in, for its whole life: nl_open_netns() creates
 * it in a short-lived thread that has setns()ed into the target namespace,
 * so the calling process never changes namespace and no helper process or
 * `ip` command is needed. Every request is acknowledged; errors carry the
 * kernel's errno. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/error.h"

struct nl;

/* A socket in the caller's network namespace. */
int nl_open(struct nl **ret, struct scow_error **err);
/* A socket in the network namespace nsfd refers to (/proc/PID/ns/net). */
int nl_open_netns(int nsfd, struct nl **ret, struct scow_error **err);
void nl_close(struct nl *nl);
static inline void nl_closep(struct nl **nl)
{
	if (*nl)
		nl_close(*nl);
}
#define _cleanup_nl_ __attribute__((cleanup(nl_closep)))

/* The link's index, 0 if there is no such link, -1 on error. */
int nl_link_index(struct nl *nl, const char *name, struct scow_error **err);

/* A bridge, up. EEXIST if the name is taken. mtu 0: the kernel's default. */
int nl_bridge_add(struct nl *nl, const char *name, unsigned mtu, struct scow_error **err);

struct nl_veth {
	const char *name;	 /* host side */
	int master;		 /* bridge ifindex to enslave the host side to, 0: none */
	unsigned mtu;		 /* 0: default */
	int peer_netns_fd;	 /* the peer is created there; -1: here */
	const char *peer_name;	 /* e.g. "eth0" */
	const uint8_t *peer_mac; /* 6 bytes or NULL */
};
/* Both ends in one request, both up, the host end enslaved. */
int nl_veth_add(struct nl *nl, const struct nl_veth *v, struct scow_error **err);

/* Deletes a link (for a veth, both ends). A missing link is not an error:
 * returns 0 when deleted, 1 when it was not there. */
int nl_link_del(struct nl *nl, const char *name, struct scow_error **err);
/* Up or down. */
int nl_link_set_up(struct nl *nl, const char *name, bool up, struct scow_error **err);

/* Hairpin mode of a bridge port: frames may leave through the port they
 * came in by (a container reaching its own published port). */
int nl_bridge_port_hairpin(struct nl *nl, const char *name, bool on, struct scow_error **err);

/* addr/gateway in host byte order. */
int nl_addr_add(struct nl *nl, const char *dev, uint32_t addr, unsigned prefix,
		struct scow_error **err);
/* Whether dev has addr/prefix already. */
int nl_addr_has(struct nl *nl, const char *dev, uint32_t addr, unsigned prefix, bool *ret,
		struct scow_error **err);
int nl_route_add_default(struct nl *nl, const char *dev, uint32_t gateway, struct scow_error **err);

struct nl_route4 {
	uint32_t dst; /* host byte order */
	unsigned len;
	int oif;      /* 0 if none */
	unsigned table;
};
/* Every IPv4 unicast and local route of every table, except default
 * routes (a local route is the /32 of one of the host's addresses). */
int nl_route_list4(struct nl *nl, struct nl_route4 **ret, size_t *ret_n, struct scow_error **err);
