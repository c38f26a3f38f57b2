/* IPv4 address management: prefixes, picking a free subnet for a new
 * network, and picking or checking a container address inside a network.
 *
 * Everything here is pure (no I/O) so that it is unit-tested against fake
 * route tables; network.c keeps the allocations themselves in
 * RUNROOT/networks/<network id>.json under the networks lock, and feeds the
 * host's routes (netlink RTM_GETROUTE) and the other networks' subnets in as
 * "taken" prefixes.
 *
 * Addresses are uint32_t in host byte order. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct ip4_prefix {
	uint32_t addr; /* the network address (host bits clear) */
	unsigned len;  /* 0..32 */
};

/* Dotted quad, exactly four decimal fields. */
bool ip4_parse(const char *s, uint32_t *ret);
/* "10.88.0.0/16"; host bits are cleared (Docker does the same). A bare
 * address is a /32. */
int ip4_prefix_parse(const char *s, struct ip4_prefix *ret, struct scow_error **err);
void ip4_format(uint32_t a, char out[INET_ADDRSTRLEN]);
/* "10.88.0.0/16"; caller frees. */
char *ip4_prefix_format(const struct ip4_prefix *p);
uint32_t ip4_mask(unsigned len);
bool ip4_prefix_contains(const struct ip4_prefix *p, uint32_t a);
bool ip4_prefix_overlaps(const struct ip4_prefix *a, const struct ip4_prefix *b);

/* A pool that new networks' subnets are cut from: base split into /size. */
struct ipam_pool {
	struct ip4_prefix base;
	unsigned size;
};

/* The first /size of the pools (in order) that overlaps none of taken.
 * ENOSPC when all are used (Docker's "all predefined address pools have
 * been fully subnetted"). */
int ipam_pick_subnet(const struct ipam_pool *pools, size_t n_pools, const struct ip4_prefix *taken,
		     size_t n_taken, struct ip4_prefix *ret, struct scow_error **err);

/* A network's addressing: subnet, gateway (the bridge's address) and the
 * range containers get addresses from (the whole subnet unless --ip-range). */
struct ipam_subnet {
	struct ip4_prefix subnet;
	uint32_t gateway;
	struct ip4_prefix range;
};

/* Checks and completes --subnet/--gateway/--ip-range as Docker does:
 * gateway and range inside the subnet, gateway defaults to the first
 * address. gateway and ip_range may be NULL or "". */
int ipam_subnet_init(const char *subnet, const char *gateway, const char *ip_range,
		     struct ipam_subnet *ret, struct scow_error **err);

/* The lowest free address of the range: never the network or broadcast
 * address, the gateway, or one of used. ENOSPC when the range is full. */
int ipam_addr_pick(const struct ipam_subnet *s, const uint32_t *used, size_t n_used, uint32_t *ret,
		   struct scow_error **err);
/* A requested address (--ip): inside the subnet, not special, not used. */
int ipam_addr_check(const struct ipam_subnet *s, uint32_t want, const uint32_t *used, size_t n_used,
		    struct scow_error **err);
