/* scow-nettest: drives the networking library (src/net) on "containers"
 * that the integration tests make themselves (a process in a network
 * namespace of its own), so that the library is tested without run.
 *
 *   scow-nettest ROOT RUNROOT setup ID NAME PID HOSTS_FILE [OPTIONS]
 *       --net NAME[,alias=A]...[,ip=IP][,mac=MAC]   (repeatable; default "bridge")
 *       -p SPEC (repeatable)   --link NAME[:ALIAS]   --hostname H
 *   scow-nettest ROOT RUNROOT teardown ID
 *   scow-nettest ROOT RUNROOT connect ID NAME PID HOSTS_FILE NET [alias=A|ip=IP]...
 *   scow-nettest ROOT RUNROOT disconnect ID NET
 *   scow-nettest ROOT RUNROOT settings ID
 *   scow-nettest ROOT RUNROOT nft          (the inet scow table)
 *   scow-nettest ROOT RUNROOT drop-default (the default bridge and its nft
 *                                           elements: scow itself keeps them) 
 *   scow-nettest ROOT RUNROOT resolv HOST_FILE [--dns X] [--dns-search X] [--dns-option X]
 *   scow-nettest ROOT RUNROOT add-hosts SPEC...
 *
 * Prints the JSON result (settings) or the error, exit 0/1. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/ipam.h"
#include "net/netlink.h"
#include "net/network.h"
#include "net/nft.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define MAX_ITEMS 64

struct attach_buf {
	struct net_attach a[MAX_ITEMS];
	const char *aliases[MAX_ITEMS][MAX_ITEMS];
	size_t n;
};

static void parse_attach(struct attach_buf *b, char *spec)
{
	struct net_attach *a = &b->a[b->n];
	memset(a, 0, sizeof(*a));
	a->aliases = b->aliases[b->n];
	char *save = NULL;
	for (char *f = strtok_r(spec, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (str_starts_with(f, "alias="))
			b->aliases[b->n][a->n_aliases++] = f + 6;
		else if (str_starts_with(f, "ip="))
			a->ip = f + 3;
		else if (str_starts_with(f, "mac="))
			a->mac = f + 4;
		else
			a->network = f;
	}
	b->n++;
}

static int print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
	return 0;
}

static int fail(struct scow_error *e)
{
	fprintf(stderr, "nettest: %s\n", e ? e->msg : "failed");
	error_free(e);
	return 1;
}

static int cmd_setup(struct net_store *ns, int argc, char **argv, bool connect)
{
	if (argc < 4)
		return fail(NULL);
	static struct attach_buf nets;
	struct net_port_spec ports[MAX_ITEMS];
	const char *links[MAX_ITEMS];
	size_t n_ports = 0, n_links = 0;
	const char *hostname = NULL;
	struct scow_error *e = NULL;
	int i = 4;
	if (connect) {
		if (argc < 5)
			return fail(NULL);
		_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
		sb_append(&sb, argv[4]);
		for (i = 5; i < argc; i++)
			sb_printf(&sb, ",%s", argv[i]);
		parse_attach(&nets, sb_steal(&sb));
	}
	for (; i < argc && !connect; i++) {
		if (strcmp(argv[i], "--net") == 0 && i + 1 < argc)
			parse_attach(&nets, argv[++i]);
		else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
			if (net_port_parse(argv[++i], &ports[n_ports++], &e) < 0)
				return fail(e);
		} else if (strcmp(argv[i], "--link") == 0 && i + 1 < argc)
			links[n_links++] = argv[++i];
		else if (strcmp(argv[i], "--hostname") == 0 && i + 1 < argc)
			hostname = argv[++i];
		else
			return fail(NULL);
	}
	if (nets.n == 0) {
		char *dflt = xstrdup(NET_DEFAULT);
		parse_attach(&nets, dflt);
	}
	char short_id[13];
	snprintf(short_id, sizeof(short_id), "%.12s", argv[0]);
	struct net_container c = {
		.id = argv[0],
		.name = argv[1],
		.hostname = hostname ? hostname : short_id,
		.pid = atoi(argv[2]),
		.hosts_path = *argv[3] ? argv[3] : NULL,
		.nets = nets.a,
		.n_nets = nets.n,
		.ports = ports,
		.n_ports = n_ports,
		.links = links,
		.n_links = n_links,
	};
	_cleanup_json_ json_t *settings = NULL;
	int r = connect ? net_container_connect(ns, &c, &nets.a[0], &settings, &e)
			: net_container_setup(ns, &c, &settings, &e);
	if (r < 0)
		return fail(e);
	return print_json(settings);
}

static int drop_default(struct net_store *ns)
{
	struct scow_error *e = NULL;
	_cleanup_json_ json_t *net = NULL;
	if (net_find(ns, NET_DEFAULT, &net, &e) < 0)
		return fail(e);
	const char *br = json_get_str(json_get_obj(net, "Scow"), "Bridge");
	json_t *cfg = json_array_get(json_get_arr(json_get_obj(net, "IPAM"), "Config"), 0);
	struct nft_net nn = {br, json_get_str(cfg, "Subnet"), false, true};
	struct nl *nl = NULL;
	if (nl_open(&nl, &e) < 0 || nl_link_del(nl, br, &e) < 0 || nft_network_del(&nn, &e) < 0) {
		nl_close(nl);
		return fail(e);
	}
	nl_close(nl);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: scow-nettest ROOT RUNROOT COMMAND ...\n");
		return 2;
	}
	struct net_store ns;
	struct scow_error *e = NULL;
	if (net_store_open(argv[1], argv[2], &ns, &e) < 0)
		return fail(e);
	const char *cmd = argv[3];
	int r = 1;
	_cleanup_json_ json_t *j = NULL;
	if (strcmp(cmd, "setup") == 0 || strcmp(cmd, "connect") == 0) {
		r = cmd_setup(&ns, argc - 4, argv + 4, strcmp(cmd, "connect") == 0);
	} else if (strcmp(cmd, "teardown") == 0 && argc == 5) {
		r = net_container_teardown(&ns, argv[4], NULL, &e) < 0 ? fail(e) : 0;
	} else if (strcmp(cmd, "disconnect") == 0 && argc == 6) {
		r = net_container_disconnect(&ns, argv[4], argv[5], &j, &e) < 0 ? fail(e)
										 : print_json(j);
	} else if (strcmp(cmd, "settings") == 0 && argc == 5) {
		r = net_container_settings(&ns, argv[4], &j, &e) < 0 ? fail(e) : print_json(j);
	} else if (strcmp(cmd, "drop-default") == 0) {
		r = drop_default(&ns);
	} else if (strcmp(cmd, "nft") == 0) {
		_cleanup_free_ char *t = nft_table_dump(&e);
		r = t ? (printf("%s", t), 0) : fail(e);
	} else if (strcmp(cmd, "resolv") == 0 && argc >= 5) {
		const char *dns[MAX_ITEMS], *search[MAX_ITEMS], *opt[MAX_ITEMS];
		size_t nd = 0, nsr = 0, no = 0;
		for (int i = 5; i + 1 < argc; i += 2) {
			if (strcmp(argv[i], "--dns") == 0)
				dns[nd++] = argv[i + 1];
			else if (strcmp(argv[i], "--dns-search") == 0)
				search[nsr++] = argv[i + 1];
			else if (strcmp(argv[i], "--dns-option") == 0)
				opt[no++] = argv[i + 1];
		}
		_cleanup_free_ char *host = NULL;
		if (fs_read_at(AT_FDCWD, argv[4], 1u << 20, &host, NULL, &e) < 0)
			r = fail(e);
		else {
			_cleanup_free_ char *out =
				net_resolv_conf(host, false, dns, nd, search, nsr, opt, no);
			printf("%s", out);
			r = 0;
		}
	} else if (strcmp(cmd, "add-hosts") == 0) {
		_cleanup_free_ char *out = NULL;
		r = net_extra_hosts(&ns, (const char *const *)argv + 4, (size_t)(argc - 4), &out, &e) < 0
			    ? fail(e)
			    : (printf("%s", out), 0);
	} else {
		fprintf(stderr, "nettest: unknown command %s\n", cmd);
		r = 2;
	}
	net_store_close(&ns);
	return r;
}
