#include "net/ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/ipam.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* "80" or "8000-8010"; empty is an error, as for Docker. */
static bool parse_range(const char *s, bool zero_ok, uint16_t *start, uint16_t *end)
{
	char buf[16];
	if (!*s || strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	char *dash = strchr(buf, '-');
	long long a, b;
	if (dash)
		*dash = '\0';
	if (!str_to_ll(buf, zero_ok ? 0 : 1, 65535, &a))
		return false;
	b = a;
	if (dash && !str_to_ll(dash + 1, 1, 65535, &b))
		return false;
	if (b < a)
		return false;
	*start = (uint16_t)a;
	*end = (uint16_t)b;
	return true;
}

static int parse_proto(const char *p, char out[5], struct scow_error **err)
{
	if (strcmp(p, "tcp") && strcmp(p, "udp") && strcmp(p, "sctp"))
		return error_set(err, EINVAL, "invalid proto: %s", p);
	snprintf(out, 5, "%s", p);
	return 0;
}

int net_port_parse(const char *s, struct net_port_spec *ret, struct scow_error **err)
{
	struct net_port_spec p = {0};
	/* Docker's splitParts: the last field is the container port, the one
	 * before it the host port, everything before that the address (an
	 * IPv6 address holds colons). */
	_cleanup_free_ char *buf = xstrdup(s);
	char *ctr = strrchr(buf, ':');
	char *host = NULL, *ip = NULL;
	if (ctr) {
		*ctr++ = '\0';
		char *h = strrchr(buf, ':');
		if (h) {
			*h++ = '\0';
			host = h;
			ip = buf;
		} else {
			host = buf;
		}
	} else {
		ctr = buf;
	}
	char *slash = strchr(ctr, '/');
	if (slash) {
		*slash++ = '\0';
		if (parse_proto(slash, p.proto, err) < 0)
			return -1;
	} else {
		snprintf(p.proto, sizeof(p.proto), "tcp");
	}
	if (ip && *ip) {
		size_t n = strlen(ip);
		if (ip[0] == '[' && n > 2 && ip[n - 1] == ']') {
			return error_set(err, EINVAL,
					 "IPv6 host address %s: only IPv4 addresses can be published",
					 ip);
		}
		uint32_t a;
		if (!ip4_parse(ip, &a)) {
			if (strchr(ip, ':'))
				return error_set(err, EINVAL,
						 "IPv6 host address %s: only IPv4 addresses can be "
						 "published",
						 ip);
			return error_set(err, EINVAL, "invalid IP address: %s", ip);
		}
		if (a != 0)
			snprintf(p.host_ip, sizeof(p.host_ip), "%s", ip);
	}
	if (!*ctr)
		return error_set(err, EINVAL, "no port specified: %s<empty>", s);
	if (!parse_range(ctr, false, &p.ctr_start, &p.ctr_end))
		return error_set(err, EINVAL, "invalid containerPort: %s", ctr);
	if (host && *host) {
		if (!parse_range(host, true, &p.host_start, &p.host_end))
			return error_set(err, EINVAL, "invalid hostPort: %s", host);
		if (p.host_start == 0 && p.host_end != 0)
			return error_set(err, EINVAL, "invalid hostPort: %s", host);
		/* A host range for one container port: any free port of it. */
		if (p.host_start && p.host_end - p.host_start != p.ctr_end - p.ctr_start &&
		    p.ctr_end != p.ctr_start)
			return error_set(err, EINVAL,
					 "invalid ranges specified for container and host Ports: %s and %s",
					 ctr, host);
	}
	*ret = p;
	return 0;
}

int net_port_parse_exposed(const char *s, struct net_port_spec *ret, struct scow_error **err)
{
	if (strchr(s, ':'))
		return error_set(err, EINVAL, "invalid exposed port: %s", s);
	return net_port_parse(s, ret, err);
}

static void push_map(struct net_port_map **maps, size_t *n, size_t *cap, const char *proto,
		     const char *ip, uint16_t host, uint16_t ctr)
{
	xgrow((void **)maps, cap, *n + 1, sizeof(**maps));
	struct net_port_map *m = &(*maps)[(*n)++];
	memset(m, 0, sizeof(*m));
	snprintf(m->proto, sizeof(m->proto), "%s", proto);
	snprintf(m->host_ip, sizeof(m->host_ip), "%s", ip);
	m->host_port = host;
	m->ctr_port = ctr;
}

static bool taken_here(const struct net_port_map *maps, size_t n, const char *proto, const char *ip,
		       uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (maps[i].host_port == port && strcmp(maps[i].proto, proto) == 0 &&
		    (!*maps[i].host_ip || !*ip || strcmp(maps[i].host_ip, ip) == 0))
			return true;
	return false;
}

int net_ports_expand(const struct net_port_spec *specs, size_t n, net_port_free_fn is_free,
		     net_port_pick_fn pick, void *opaque, struct net_port_map **maps, size_t *n_maps,
		     struct scow_error **err)
{
	size_t cap = *n_maps;
	for (size_t i = 0; i < n; i++) {
		const struct net_port_spec *s = &specs[i];
		const char *ip = s->host_ip;
		unsigned nctr = (unsigned)(s->ctr_end - s->ctr_start) + 1;
		unsigned nhost = s->host_start ? (unsigned)(s->host_end - s->host_start) + 1 : 0;
		if (nhost > 1 && nctr == 1 && nhost != nctr) {
			/* One free port of the host range. */
			uint16_t got = 0;
			for (unsigned h = s->host_start; h <= s->host_end && !got; h++)
				if (!taken_here(*maps, *n_maps, s->proto, ip, (uint16_t)h) &&
				    is_free(s->proto, ip, (uint16_t)h, opaque))
					got = (uint16_t)h;
			if (!got)
				return error_set(err, EADDRINUSE,
						 "all ports are allocated in %s:%u-%u/%s",
						 *ip ? ip : "0.0.0.0", s->host_start, s->host_end,
						 s->proto);
			push_map(maps, n_maps, &cap, s->proto, ip, got, s->ctr_start);
			continue;
		}
		for (unsigned k = 0; k < nctr; k++) {
			uint16_t ctr = (uint16_t)(s->ctr_start + k);
			uint16_t host = 0;
			if (nhost) {
				host = (uint16_t)(s->host_start + k);
			} else {
				for (int tries = 0; tries < 64 && !host; tries++) {
					host = pick(s->proto, ip, opaque);
					if (host && taken_here(*maps, *n_maps, s->proto, ip, host))
						host = 0;
				}
				if (!host)
					return error_set(err, EADDRINUSE,
							 "no free host port for %u/%s", ctr, s->proto);
			}
			/* An explicit port a host process uses is refused, as
			 * Docker's proxy would fail to bind it. */
			if (taken_here(*maps, *n_maps, s->proto, ip, host) ||
			    (nhost && !is_free(s->proto, ip, host, opaque)))
				return error_set(err, EADDRINUSE,
						 "Bind for %s:%u failed: port is already allocated",
						 *ip ? ip : "0.0.0.0", host);
			push_map(maps, n_maps, &cap, s->proto, ip, host, ctr);
		}
	}
	return 0;
}

static int proto_socket(const char *proto)
{
	int type = strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
	int p = strcmp(proto, "sctp") == 0 ? IPPROTO_SCTP : 0;
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, p);
	if (fd < 0 && p == IPPROTO_SCTP) /* no sctp module: tcp's view will do */
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return fd;
}

static bool bind_port(int fd, const char *host_ip, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	if (*host_ip && inet_pton(AF_INET, host_ip, &sa.sin_addr) != 1)
		return false;
	return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

bool net_port_is_free(const char *proto, const char *host_ip, uint16_t port, void *opaque)
{
	(void)opaque;
	_cleanup_close_ int fd = proto_socket(proto);
	if (fd < 0)
		return false;
	/* A host address that is not (yet) local must still be publishable;
	 * a connection in TIME_WAIT does not make a port busy. */
	int one = 1;
	setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	return bind_port(fd, host_ip, port);
}

uint16_t net_port_pick(const char *proto, const char *host_ip, void *opaque)
{
	(void)opaque;
	_cleanup_close_ int fd = proto_socket(proto);
	if (fd < 0)
		return 0;
	int one = 1;
	setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	if (!bind_port(fd, host_ip, 0))
		return 0;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return 0;
	return ntohs(sa.sin_port);
}

json_t *net_ports_json(const struct net_port_map *maps, size_t n)
{
	json_t *j = json_object();
	for (size_t i = 0; i < n; i++) {
		char key[16], hp[8];
		snprintf(key, sizeof(key), "%u/%s", maps[i].ctr_port, maps[i].proto);
		snprintf(hp, sizeof(hp), "%u", maps[i].host_port);
		json_t *arr = json_object_get(j, key);
		if (!json_is_array(arr)) {
			arr = json_array();
			json_object_set_new(j, key, arr);
		}
		json_array_append_new(arr, json_pack("{ss ss}", "HostIp",
						     *maps[i].host_ip ? maps[i].host_ip : "0.0.0.0",
						     "HostPort", hp));
	}
	return j;
}

static bool split_key(const char *key, unsigned *port, char proto[5])
{
	char p[8] = "tcp";
	unsigned v;
	int n = 0;
	if (sscanf(key, "%u%n", &v, &n) != 1 || v == 0 || v > 65535)
		return false;
	if (key[n] == '/')
		snprintf(p, sizeof(p), "%.7s", key + n + 1);
	else if (key[n])
		return false;
	snprintf(proto, 5, "%.4s", p);
	*port = v;
	return true;
}

int net_ports_from_json(json_t *ports, struct net_port_map **maps, size_t *n)
{
	size_t cap = *n;
	const char *key;
	json_t *arr;
	json_object_foreach(ports, key, arr) {
		unsigned ctr;
		char proto[5];
		if (!split_key(key, &ctr, proto))
			continue;
		size_t i;
		json_t *b;
		json_array_foreach(arr, i, b) {
			long long hp;
			const char *ip = json_get_str(b, "HostIp");
			if (!str_to_ll(json_string_value(json_object_get(b, "HostPort")), 1, 65535, &hp))
				continue;
			push_map(maps, n, &cap, proto, str_eq(ip, "0.0.0.0") || !ip ? "" : ip,
				 (uint16_t)hp, (uint16_t)ctr);
		}
	}
	return 0;
}

/* One row of ps's PORTS before condensing. */
struct ps_port {
	char ip[INET_ADDRSTRLEN + 2];
	char proto[5];
	unsigned host, ctr; /* host 0: exposed only */
};

static int ps_port_cmp(const void *a, const void *b)
{
	const struct ps_port *x = a, *y = b;
	if ((x->host == 0) != (y->host == 0)) /* exposed-only ports last */
		return x->host == 0 ? 1 : -1;
	int c = strcmp(x->ip, y->ip);
	if (c)
		return c;
	if ((c = strcmp(x->proto, y->proto)))
		return c;
	if (x->ctr != y->ctr)
		return x->ctr < y->ctr ? -1 : 1;
	return x->host < y->host ? -1 : x->host > y->host;
}

static void ps_range(struct strbuf *sb, const struct ps_port *first, const struct ps_port *last)
{
	if (sb->len)
		sb_append(sb, ", ");
	if (first->host) {
		if (first->host == last->host)
			sb_printf(sb, "%s:%u->", first->ip, first->host);
		else
			sb_printf(sb, "%s:%u-%u->", first->ip, first->host, last->host);
	}
	if (first->ctr == last->ctr)
		sb_printf(sb, "%u/%s", first->ctr, first->proto);
	else
		sb_printf(sb, "%u-%u/%s", first->ctr, last->ctr, first->proto);
}

char *net_ports_ps_text(json_t *ports)
{
	size_t n = 0, cap = 0;
	_cleanup_free_ struct ps_port *v = NULL;
	const char *key;
	json_t *arr;
	json_object_foreach(ports, key, arr) {
		unsigned ctr;
		char proto[5];
		if (!split_key(key, &ctr, proto))
			continue;
		if (!json_is_array(arr) || json_array_size(arr) == 0) {
			xgrow((void **)&v, &cap, n + 1, sizeof(*v));
			v[n] = (struct ps_port){.ctr = ctr};
			snprintf(v[n++].proto, 5, "%s", proto);
			continue;
		}
		size_t i;
		json_t *b;
		json_array_foreach(arr, i, b) {
			long long hp = 0;
			str_to_ll(json_string_value(json_object_get(b, "HostPort")), 0, 65535, &hp);
			const char *ip = json_get_str(b, "HostIp");
			xgrow((void **)&v, &cap, n + 1, sizeof(*v));
			v[n] = (struct ps_port){.ctr = ctr, .host = (unsigned)hp};
			snprintf(v[n].ip, sizeof(v[n].ip), "%s", ip && *ip ? ip : "0.0.0.0");
			snprintf(v[n++].proto, 5, "%s", proto);
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), ps_port_cmp);
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && strcmp(v[j + 1].ip, v[i].ip) == 0 &&
		       strcmp(v[j + 1].proto, v[i].proto) == 0 && v[j + 1].ctr == v[j].ctr + 1 &&
		       ((v[i].host == 0 && v[j + 1].host == 0) ||
			(v[i].host && v[j + 1].host == v[j].host + 1)))
			j++;
		ps_range(&sb, &v[i], &v[j]);
		i = j + 1;
	}
	return sb_steal(&sb);
}

char **net_ports_port_lines(json_t *ports, const char *filter)
{
	char **out = xcalloc(1, sizeof(char *));
	char fproto[5] = "";
	unsigned fport = 0;
	if (filter && !split_key(filter, &fport, fproto))
		return out;
	if (filter && !strchr(filter, '/'))
		fproto[0] = '\0';
	const char *key;
	json_t *arr;
	json_object_foreach(ports, key, arr) {
		unsigned ctr;
		char proto[5];
		if (!split_key(key, &ctr, proto) || (fport && ctr != fport) ||
		    (*fproto && strcmp(fproto, proto)))
			continue;
		size_t i;
		json_t *b;
		json_array_foreach(arr, i, b) {
			const char *ip = json_get_str(b, "HostIp");
			strv_push(&out, xasprintf("%s%u/%s -> %s:%s", filter ? "" : "", ctr, proto,
						  ip && *ip ? ip : "0.0.0.0",
						  json_get_str(b, "HostPort") ? json_get_str(b, "HostPort")
									     : ""));
		}
	}
	/* With a filter Docker prints only the address. */
	if (filter)
		for (size_t i = 0; out[i]; i++) {
			char *arrow = strstr(out[i], " -> ");
			char *addr = xstrdup(arrow + 4);
			free(out[i]);
			out[i] = addr;
		}
	return out;
}
