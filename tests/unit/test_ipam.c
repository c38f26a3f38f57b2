/* IPAM (subnet picking against fake route tables, address allocation),
 * Docker's -p forms, ps's PORTS text, resolv.conf. No root needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/ipam.h"
#include "net/network.h"
#include "net/ports.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"

static struct ip4_prefix P(const char *s)
{
	struct ip4_prefix p;
	assert_int_equal(ip4_prefix_parse(s, &p, NULL), 0);
	return p;
}

static char *fmt(struct ip4_prefix p)
{
	static char buf[32];
	char *s = ip4_prefix_format(&p);
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

static void test_prefix_parse(void **state)
{
	(void)state;
	assert_string_equal(fmt(P("10.88.0.0/16")), "10.88.0.0/16");
	assert_string_equal(fmt(P("10.88.7.9/16")), "10.88.0.0/16"); /* host bits cleared */
	assert_string_equal(fmt(P("192.0.2.7")), "192.0.2.7/32");
	assert_string_equal(fmt(P("0.0.0.0/0")), "0.0.0.0/0");
	struct ip4_prefix p;
	const char *bad[] = {"", "10.88.0.0/33", "10.88.0/16", "10.88.0.256/24", "a.b.c.d/8",
			     "10.88.0.0/", "10.88.0.0/-1", "1.2.3.4.5", "01234.1.1.1", NULL};
	for (size_t i = 0; bad[i]; i++) {
		struct scow_error *e = NULL;
		assert_int_equal(ip4_prefix_parse(bad[i], &p, &e), -1);
		assert_non_null(strstr(e->msg, "invalid CIDR address"));
		error_free(e);
	}
	struct ip4_prefix a = P("10.0.0.0/8"), b = P("10.88.0.0/16"), c = P("10.89.0.0/16");
	assert_true(ip4_prefix_overlaps(&a, &b));
	assert_true(ip4_prefix_overlaps(&b, &a));
	assert_false(ip4_prefix_overlaps(&b, &c));
	assert_true(ip4_prefix_contains(&b, 0x0a58ffffu));
	assert_false(ip4_prefix_contains(&b, 0x0a590000u));
}

static void test_pick_subnet(void **state)
{
	(void)state;
	struct ipam_pool pools[] = {{P("10.89.0.0/16"), 24}, {P("10.90.0.0/15"), 24}};
	struct ip4_prefix r;
	/* An empty host: the first /24. */
	assert_int_equal(ipam_pick_subnet(pools, 2, NULL, 0, &r, NULL), 0);
	assert_string_equal(fmt(r), "10.89.0.0/24");
	/* A fake route table: the host's LAN, a VPN route over the first
	 * subnets, a /32, a default route's /0 is never passed in. */
	struct ip4_prefix routes[] = {P("192.0.2.0/24"), P("10.89.0.0/23"), P("10.89.2.77/32"),
				      P("10.89.3.0/24")};
	assert_int_equal(ipam_pick_subnet(pools, 2, routes, 4, &r, NULL), 0);
	assert_string_equal(fmt(r), "10.89.4.0/24");
	/* A route that covers the whole first pool: the second pool. */
	struct ip4_prefix big[] = {P("10.89.0.0/16")};
	assert_int_equal(ipam_pick_subnet(pools, 2, big, 1, &r, NULL), 0);
	assert_string_equal(fmt(r), "10.90.0.0/24");
	/* Everything taken. */
	struct ip4_prefix all[] = {P("10.0.0.0/8")};
	struct scow_error *e = NULL;
	assert_int_equal(ipam_pick_subnet(pools, 2, all, 1, &r, &e), -1);
	assert_int_equal(e->errnum, ENOSPC);
	assert_non_null(strstr(e->msg, "non-overlapping"));
	error_free(e);
	/* The default bridge's fallback: /16s of 10.88.0.0/13 (podman's
	 * 10.88.0.0/16 in use). */
	struct ipam_pool dflt = {P("10.88.0.0/13"), 16};
	struct ip4_prefix podman[] = {P("10.88.0.0/16"), P("10.89.0.0/24")};
	assert_int_equal(ipam_pick_subnet(&dflt, 1, podman, 2, &r, NULL), 0);
	assert_string_equal(fmt(r), "10.90.0.0/16");
}

static void test_subnet_init(void **state)
{
	(void)state;
	struct ipam_subnet s;
	assert_int_equal(ipam_subnet_init("10.5.0.0/16", NULL, NULL, &s, NULL), 0);
	assert_int_equal(s.gateway, 0x0a050001u);
	assert_string_equal(fmt(s.range), "10.5.0.0/16");
	assert_int_equal(ipam_subnet_init("10.5.0.0/16", "10.5.255.254", "10.5.7.0/24", &s, NULL), 0);
	assert_int_equal(s.gateway, 0x0a05fffeu);
	assert_string_equal(fmt(s.range), "10.5.7.0/24");
	struct {
		const char *subnet, *gw, *range, *msg;
	} bad[] = {
		{"10.5.0.0/16", "10.6.0.1", NULL, "no matching subnet for gateway 10.6.0.1"},
		{"10.5.0.0/16", "10.5.0.0", NULL, "invalid gateway address"},
		{"10.5.0.0/16", "10.5.255.255", NULL, "invalid gateway address"},
		{"10.5.0.0/16", "bogus", NULL, "invalid gateway address"},
		{"10.5.0.0/16", NULL, "10.6.0.0/24", "no matching subnet for range"},
		{"10.5.0.0/16", NULL, "10.0.0.0/8", "no matching subnet for range"},
		{"10.5.0.0/31", NULL, NULL, "too small"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct scow_error *e = NULL;
		assert_int_equal(ipam_subnet_init(bad[i].subnet, bad[i].gw, bad[i].range, &s, &e), -1);
		if (!strstr(e->msg, bad[i].msg))
			fail_msg("%s: %s", bad[i].msg, e->msg);
		error_free(e);
	}
}

static void test_alloc_release(void **state)
{
	(void)state;
	struct ipam_subnet s;
	assert_int_equal(ipam_subnet_init("10.5.0.0/29", NULL, NULL, &s, NULL), 0);
	/* .0 network, .1 gateway, .7 broadcast: .2 to .6 for containers. */
	uint32_t used[8];
	size_t n = 0;
	for (uint32_t want = 2; want <= 6; want++) {
		uint32_t a;
		assert_int_equal(ipam_addr_pick(&s, used, n, &a, NULL), 0);
		assert_int_equal(a, 0x0a050000u + want);
		used[n++] = a;
	}
	uint32_t a;
	struct scow_error *e = NULL;
	assert_int_equal(ipam_addr_pick(&s, used, n, &a, &e), -1);
	assert_int_equal(e->errnum, ENOSPC);
	error_free(e);
	/* Release .3: it is the next one again. */
	used[1] = used[--n];
	assert_int_equal(ipam_addr_pick(&s, used, n, &a, NULL), 0);
	assert_int_equal(a, 0x0a050003u);
	/* A gateway in the middle is skipped; --ip checks. */
	assert_int_equal(ipam_subnet_init("10.6.0.0/24", "10.6.0.2", "10.6.0.0/30", &s, NULL), 0);
	assert_int_equal(ipam_addr_pick(&s, NULL, 0, &a, NULL), 0);
	assert_int_equal(a, 0x0a060001u);
	uint32_t one = 0x0a060001u;
	assert_int_equal(ipam_addr_pick(&s, &one, 1, &a, NULL), 0);
	assert_int_equal(a, 0x0a060003u);
	assert_int_equal(ipam_addr_check(&s, 0x0a060063u, &one, 1, NULL), 0); /* outside the range is fine */
	e = NULL;
	assert_int_equal(ipam_addr_check(&s, 0x0a060001u, &one, 1, &e), -1);
	assert_int_equal(e->errnum, EADDRINUSE);
	error_free(e);
	e = NULL;
	assert_int_equal(ipam_addr_check(&s, 0x0a070001u, NULL, 0, &e), -1);
	assert_non_null(strstr(e->msg, "does not belong to subnet 10.6.0.0/24"));
	error_free(e);
	e = NULL;
	assert_int_equal(ipam_addr_check(&s, 0x0a060002u, NULL, 0, &e), -1); /* the gateway */
	error_free(e);
}

/* ---- -p ------------------------------------------------------------------------------------ */

static void test_port_parse(void **state)
{
	(void)state;
	struct {
		const char *in;
		const char *proto, *ip;
		unsigned hs, he, cs, ce;
	} ok[] = {
		{"80", "tcp", "", 0, 0, 80, 80},
		{"8080:80", "tcp", "", 8080, 8080, 80, 80},
		{"127.0.0.1:8080:80", "tcp", "127.0.0.1", 8080, 8080, 80, 80},
		{"127.0.0.1::80", "tcp", "127.0.0.1", 0, 0, 80, 80},
		{"0.0.0.0:8080:80", "tcp", "", 8080, 8080, 80, 80},
		{"8080:80/udp", "udp", "", 8080, 8080, 80, 80},
		{"53/udp", "udp", "", 0, 0, 53, 53},
		{"9000:9000/sctp", "sctp", "", 9000, 9000, 9000, 9000},
		{"8000-8010:8000-8010", "tcp", "", 8000, 8010, 8000, 8010},
		{"8000-8010:80", "tcp", "", 8000, 8010, 80, 80},
		{"7000-7001", "tcp", "", 0, 0, 7000, 7001},
		{":80", "tcp", "", 0, 0, 80, 80},
		{"10.1.2.3:7000-7002:8000-8002/udp", "udp", "10.1.2.3", 7000, 7002, 8000, 8002},
		{"65535:1", "tcp", "", 65535, 65535, 1, 1},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct net_port_spec p;
		struct scow_error *e = NULL;
		if (net_port_parse(ok[i].in, &p, &e) < 0)
			fail_msg("%s: %s", ok[i].in, e->msg);
		assert_string_equal(p.proto, ok[i].proto);
		assert_string_equal(p.host_ip, ok[i].ip);
		assert_int_equal(p.host_start, ok[i].hs);
		assert_int_equal(p.host_end, ok[i].he);
		assert_int_equal(p.ctr_start, ok[i].cs);
		assert_int_equal(p.ctr_end, ok[i].ce);
	}
	struct {
		const char *in, *msg;
	} bad[] = {
		{"", "no port specified"},
		{"8080:", "no port specified"},
		{"abc", "invalid containerPort: abc"},
		{"0", "invalid containerPort: 0"},
		{"65536", "invalid containerPort: 65536"},
		{"80:99999", "invalid containerPort: 99999"},
		{"x:80", "invalid hostPort: x"},
		{"70000:80", "invalid hostPort: 70000"},
		{"8010-8000:80", "invalid hostPort: 8010-8000"},
		{"80-70", "invalid containerPort: 80-70"},
		{"8000-8010:9000-9001", "invalid ranges specified for container and host Ports"},
		{"8080:80-81", "invalid ranges specified for container and host Ports"},
		{"8080:80/icmp", "invalid proto: icmp"},
		{"8080:80/", "invalid proto: "},
		{"300.1.1.1:8080:80", "invalid IP address: 300.1.1.1"},
		{"localhost:8080:80", "invalid IP address: localhost"},
		{"[::1]:8080:80", "only IPv4 addresses can be published"},
		{"::1:8080:80", "only IPv4 addresses can be published"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct net_port_spec p;
		struct scow_error *e = NULL;
		if (net_port_parse(bad[i].in, &p, &e) == 0)
			fail_msg("%s: accepted", bad[i].in);
		if (!strstr(e->msg, bad[i].msg))
			fail_msg("%s: wanted \"%s\", got \"%s\"", bad[i].in, bad[i].msg, e->msg);
		error_free(e);
	}
	struct net_port_spec p;
	assert_int_equal(net_port_parse_exposed("8080/udp", &p, NULL), 0);
	assert_int_equal(p.ctr_start, 8080);
	assert_int_equal(p.host_start, 0);
	assert_int_equal(net_port_parse_exposed("1:2", &p, NULL), -1);
}

/* Fake host: ports 8003 and 9000 are busy; random ports count up. */
static bool fake_free(const char *proto, const char *ip, uint16_t port, void *opaque)
{
	(void)proto, (void)ip, (void)opaque;
	return port != 8003 && port != 9000;
}

static uint16_t fake_pick(const char *proto, const char *ip, void *opaque)
{
	(void)proto, (void)ip;
	return (*(uint16_t *)opaque)++;
}

static void test_ports_expand(void **state)
{
	(void)state;
	const char *specs[] = {"8000-8002:80-82", "8003-8005:90", "127.0.0.1::70", "60/udp", "61-62"};
	struct net_port_spec p[ARRAY_SIZE(specs)];
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++)
		assert_int_equal(net_port_parse(specs[i], &p[i], NULL), 0);
	uint16_t next = 40000;
	_cleanup_free_ struct net_port_map *m = NULL;
	size_t n = 0;
	assert_int_equal(net_ports_expand(p, ARRAY_SIZE(p), fake_free, fake_pick, &next, &m, &n, NULL),
			 0);
	assert_int_equal(n, 8);
	assert_int_equal(m[0].host_port, 8000);
	assert_int_equal(m[0].ctr_port, 80);
	assert_int_equal(m[2].host_port, 8002);
	assert_int_equal(m[2].ctr_port, 82);
	assert_int_equal(m[3].host_port, 8004); /* 8003 is busy */
	assert_int_equal(m[3].ctr_port, 90);
	assert_string_equal(m[4].host_ip, "127.0.0.1");
	assert_int_equal(m[4].host_port, 40000);
	assert_string_equal(m[5].proto, "udp");
	assert_int_equal(m[5].host_port, 40001);
	assert_int_equal(m[7].ctr_port, 62);
	/* The ps text, condensed as Docker does. */
	_cleanup_json_ json_t *j = net_ports_json(m, n);
	json_object_set_new(j, "99/tcp", json_null());
	_cleanup_free_ char *text = net_ports_ps_text(j);
	assert_string_equal(text, "0.0.0.0:40002-40003->61-62/tcp, 0.0.0.0:8000-8002->80-82/tcp, "
				  "0.0.0.0:8004->90/tcp, 0.0.0.0:40001->60/udp, "
				  "127.0.0.1:40000->70/tcp, 99/tcp");
	/* Round trip through the JSON shape. */
	_cleanup_free_ struct net_port_map *back = NULL;
	size_t nb = 0;
	net_ports_from_json(j, &back, &nb);
	assert_int_equal(nb, n);
	/* `port` lines. */
	_cleanup_strv_ char **lines = net_ports_port_lines(j, "70");
	assert_int_equal(strv_len(lines), 1);
	assert_string_equal(lines[0], "127.0.0.1:40000");
	/* Conflicts: the same host port twice, a busy explicit port, a full
	 * range. */
	const char *conflicts[][2] = {{"8080:80", "8080:81"}, {"9000:80", NULL}, {"8003-8003:80", NULL}};
	for (size_t i = 0; i < ARRAY_SIZE(conflicts); i++) {
		struct net_port_spec c[2];
		size_t nc = conflicts[i][1] ? 2 : 1;
		for (size_t k = 0; k < nc; k++)
			assert_int_equal(net_port_parse(conflicts[i][k], &c[k], NULL), 0);
		_cleanup_free_ struct net_port_map *cm = NULL;
		size_t cn = 0;
		struct scow_error *e = NULL;
		assert_int_equal(net_ports_expand(c, nc, fake_free, fake_pick, &next, &cm, &cn, &e), -1);
		assert_int_equal(e->errnum, EADDRINUSE);
		assert_non_null(strstr(e->msg, "already allocated"));
		error_free(e);
	}
}

static void test_real_port_pick(void **state)
{
	(void)state;
	uint16_t p = net_port_pick("tcp", "127.0.0.1", NULL);
	assert_true(p > 0);
	assert_true(net_port_is_free("tcp", "127.0.0.1", p, NULL));
	assert_true(net_port_pick("udp", "", NULL) > 0);
}

static void test_resolv_conf(void **state)
{
	(void)state;
	const char *host = "# comment\nnameserver 127.0.0.53\nnameserver 192.0.2.53\n"
			   "nameserver ::1\nsearch a.example\noptions edns0 trust-ad\n";
	_cleanup_free_ char *r1 = net_resolv_conf(host, false, NULL, 0, NULL, 0, NULL, 0);
	assert_string_equal(r1, "# comment\nnameserver 192.0.2.53\nsearch a.example\n"
				"options edns0 trust-ad\n");
	_cleanup_free_ char *r2 = net_resolv_conf(host, true, NULL, 0, NULL, 0, NULL, 0);
	assert_non_null(strstr(r2, "nameserver 127.0.0.53"));
	const char *dns[] = {"9.9.9.9", "2001:db8::1"}, *search[] = {"."}, *opt[] = {"ndots:3"};
	_cleanup_free_ char *r3 = net_resolv_conf(host, false, dns, 2, search, 1, opt, 1);
	assert_string_equal(r3, "# comment\nnameserver 9.9.9.9\nnameserver 2001:db8::1\n"
				"options ndots:3\n");
	_cleanup_free_ char *r4 = net_resolv_conf("nameserver 127.0.0.1\n", false, NULL, 0, NULL, 0,
						  NULL, 0);
	assert_string_equal(r4, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	assert_int_equal(net_dns_check(dns, 2, NULL), 0);
	const char *bad[] = {"dns.example"};
	assert_int_equal(net_dns_check(bad, 1, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_parse),  cmocka_unit_test(test_pick_subnet),
		cmocka_unit_test(test_subnet_init),   cmocka_unit_test(test_alloc_release),
		cmocka_unit_test(test_port_parse),    cmocka_unit_test(test_ports_expand),
		cmocka_unit_test(test_real_port_pick), cmocka_unit_test(test_resolv_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
