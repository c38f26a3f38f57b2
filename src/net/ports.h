/* Published ports: Docker's -p syntax, expansion into single-port mappings
 * (with free host ports picked for the ones left open), and Docker's ways of
 * showing them (inspect's NetworkSettings.Ports, ps's PORTS, `port`).
 *
 *   -p [IP:][HOST_PORT[-END]:]CONTAINER_PORT[-END][/tcp|/udp|/sctp]
 *
 * e.g. 80, 8080:80, 127.0.0.1:8080:80, 127.0.0.1::80, 8080:80/udp,
 * 8000-8010:8000-8010, 8000-8010:80 (one free port of the host range). */
#pragma once

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct net_port_spec {
	char proto[5];			/* "tcp", "udp", "sctp" */
	char host_ip[INET_ADDRSTRLEN];	/* "" for every address of the host */
	uint16_t host_start, host_end;	/* 0, 0: any free port */
	uint16_t ctr_start, ctr_end;
};

/* One published port, as it is set up. */
struct net_port_map {
	char proto[5];
	char host_ip[INET_ADDRSTRLEN]; /* "" for all */
	uint16_t host_port;
	uint16_t ctr_port;
};

/* Parses one -p value; errors carry Docker's messages. */
int net_port_parse(const char *s, struct net_port_spec *ret, struct scow_error **err);
/* "80/tcp" (an EXPOSE entry, for -P): a spec with any free host port. */
int net_port_parse_exposed(const char *s, struct net_port_spec *ret, struct scow_error **err);

/* Whether host_ip:port/proto is free to publish; the real one binds. */
typedef bool (*net_port_free_fn)(const char *proto, const char *host_ip, uint16_t port, void *opaque);
/* Picks a free port (0: any) for proto on host_ip; 0 on failure. */
typedef uint16_t (*net_port_pick_fn)(const char *proto, const char *host_ip, void *opaque);

/* Expands specs into single-port mappings (appended to *maps). */
int net_ports_expand(const struct net_port_spec *specs, size_t n, net_port_free_fn is_free,
		     net_port_pick_fn pick, void *opaque, struct net_port_map **maps, size_t *n_maps,
		     struct scow_error **err);

/* The real checks: bind(2) a socket of proto to the address. */
bool net_port_is_free(const char *proto, const char *host_ip, uint16_t port, void *opaque);
uint16_t net_port_pick(const char *proto, const char *host_ip, void *opaque);

/* NetworkSettings.Ports: {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}. */
json_t *net_ports_json(const struct net_port_map *maps, size_t n);
/* Back from that shape (to tear down exactly what was set up). */
int net_ports_from_json(json_t *ports, struct net_port_map **maps, size_t *n);
/* ps's PORTS column: "0.0.0.0:8000-8001->8000-8001/tcp, 53/udp", ranges
 * of consecutive ports condensed as Docker does; exposed-only ports (null
 * bindings) as "80/tcp". */
char *net_ports_ps_text(json_t *ports);
/* `port` output lines: "80/tcp -> 0.0.0.0:8080". filter: "80", "80/udp" or NULL. */
char **net_ports_port_lines(json_t *ports, const char *filter);
