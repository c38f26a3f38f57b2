/* NAT, published ports and isolation in scow's own nftables table
 * `inet scow` (through libnftables, loaded lazily). No other table is ever
 * read or changed.
 *
 * The rules are fixed; everything that varies lives in sets and maps, so a
 * network or a container adds and deletes exactly its own elements and
 * nothing needs rule handles:
 *
 *   set bridges   ifname            every scow bridge
 *   set pairs     ifname . ifname   (br . br) for each bridge: routed traffic
 *                                   that stays on one bridge (hairpin)
 *   set internal  ifname            bridges of --internal networks
 *   set subnets   ipv4_addr/len     every scow subnet
 *   set masq      ipv4_addr/len     subnets masqueraded on the way out
 *   map ports_any proto . port : container ip . port      (-p PORT:PORT)
 *   map ports_ip  host ip . proto . port : ip . port      (-p IP:PORT:PORT)
 *
 *   prerouting (nat, dstnat)  fib daddr type local jump ports
 *   output     (nat, -100)    fib daddr type local jump ports  (host-originated)
 *   ports                     dnat via ports_ip, then via ports_any
 *   postrouting (nat, srcnat) oifname @bridges ip saddr @subnets ct status dnat masquerade
 *                             oifname @bridges ip saddr 127.0.0.0/8 masquerade
 *                             ip saddr @masq oifname != @bridges masquerade
 *   forward (filter)          pairs accept; internal (in or out) drop;
 *                             ct status dnat accept; bridge to bridge drop
 *
 * Published ports from the host itself to 127.0.0.1: the output chain
 * DNATs them to the container; a packet with a loopback source may leave
 * through the bridge only because network.c sets route_localnet=1 on scow's
 * bridges (and only on those), and the second postrouting rule replaces the
 * loopback source with the bridge's address so the container can answer.
 * Hairpin (a container reaching a published port through the host's or the
 * gateway's address, landing on its own bridge) is masqueraded by the first
 * rule, so no br_netfilter and no userland proxy are needed.
 *
 * The table, sets and chains are created with `add` (idempotent) and each
 * chain is flushed and refilled in the same transaction, so ensuring the
 * table is atomic, repairs a damaged one and never duplicates a rule; it is
 * shared by every scow store on the host, and never deleted. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "net/ports.h"
#include "util/error.h"

/* A network's elements. */
struct nft_net {
	const char *bridge;
	const char *subnet; /* "10.88.0.0/16" */
	bool internal;
	bool masquerade;
};

int nft_table_ensure(struct scow_error **err);
/* Ensures the table, then adds the network's elements (idempotent). */
int nft_network_add(const struct nft_net *n, struct scow_error **err);
/* Removes the network's elements (those still there). */
int nft_network_del(const struct nft_net *n, struct scow_error **err);
/* Publishes ports to ctr_ip; EADDRINUSE (nothing added) if one of them is
 * published already, by this or another store. */
int nft_ports_add(const struct net_port_map *maps, size_t n, const char *ctr_ip,
		  struct scow_error **err);
/* Unpublishes exactly these mappings; one that now maps elsewhere (to
 * another container) is left alone. */
int nft_ports_del(const struct net_port_map *maps, size_t n, const char *ctr_ip,
		  struct scow_error **err);
/* The whole table as `nft list table inet scow` prints it (for tests and
 * debugging); NULL-safe error. */
char *nft_table_dump(struct scow_error **err);
