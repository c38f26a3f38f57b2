/* Shared between network.c (network objects) and endpoint.c (containers). */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "net/ipam.h"
#include "net/netlink.h"
#include "net/network.h"

int net_lock(struct net_store *ns, struct scow_error **err);
void net_unlock(struct net_store *ns);

/* Every network record (array), predefined ones created first. Locked. */
int net_records(struct net_store *ns, json_t **ret, struct scow_error **err);
int net_find_locked(struct net_store *ns, const char *ref, json_t **ret, struct scow_error **err);

/* RUNROOT/networks/<id>.json: {"Endpoints": {<container id>: {...}}}. */
json_t *net_alloc_load(struct net_store *ns, const char *net_id, struct scow_error **err);
int net_alloc_save(struct net_store *ns, const char *net_id, json_t *alloc,
		   struct scow_error **err);

const char *net_bridge(json_t *net);
bool net_internal(json_t *net);
int net_subnet(json_t *net, struct ipam_subnet *ret, struct scow_error **err);
/* The bridge exists, with its address, route_localnet, nft elements and
 * ip_forward on. */
int net_bridge_ensure(struct net_store *ns, json_t *net, struct nl *host, struct scow_error **err);

bool net_endpoint_alive(json_t *ep);
/* Undoes one endpoint outside the allocation file: veth, published ports.
 * defer_links: the host-side veth is added to that list instead of being
 * deleted now (see net_container_teardown). */
void net_endpoint_undo(json_t *ep, struct nl *host, char ***defer_links);
/* Rewrites the hosts file of every live member of net but skip_id. */
void net_hosts_refresh(struct net_store *ns, json_t *net, json_t *alloc, const char *skip_id);
int net_reconcile_locked(struct net_store *ns, struct scow_error **err);

/* /proc/PID/stat field 22, as state/container.c reads it. */
uint64_t net_proc_start_time(pid_t pid);
