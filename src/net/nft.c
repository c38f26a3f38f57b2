#include "net/nft.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/lazy_nft.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define T "inet scow"

static const char table_def[] =
	"add table " T "\n"
	"add set " T " bridges { type ifname; }\n"
	"add set " T " pairs { type ifname . ifname; }\n"
	"add set " T " internal { type ifname; }\n"
	"add set " T " subnets { type ipv4_addr; flags interval; }\n"
	"add set " T " masq { type ipv4_addr; flags interval; }\n"
	"add map " T " ports_any { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
	"add map " T " ports_ip { type ipv4_addr . inet_proto . inet_service : "
	"ipv4_addr . inet_service; }\n"
	"add chain " T " prerouting { type nat hook prerouting priority dstnat; policy accept; }\n"
	"add chain " T " output { type nat hook output priority -100; policy accept; }\n"
	"add chain " T " ports\n"
	"add chain " T " postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
	"add chain " T " forward { type filter hook forward priority filter; policy accept; }\n"
	"flush chain " T " prerouting\n"
	"flush chain " T " output\n"
	"flush chain " T " ports\n"
	"flush chain " T " postrouting\n"
	"flush chain " T " forward\n"
	"add rule " T " prerouting fib daddr type local jump ports\n"
	"add rule " T " output fib daddr type local jump ports\n"
	"add rule " T " ports meta nfproto ipv4 dnat ip to ip daddr . meta l4proto . th dport "
	"map @ports_ip\n"
	"add rule " T " ports meta nfproto ipv4 dnat ip to meta l4proto . th dport map @ports_any\n"
	"add rule " T " postrouting oifname @bridges ip saddr @subnets ct status dnat masquerade\n"
	"add rule " T " postrouting oifname @bridges ip saddr 127.0.0.0/8 masquerade\n"
	"add rule " T " postrouting ip saddr @masq oifname != @bridges masquerade\n"
	"add rule " T " forward iifname . oifname @pairs accept\n"
	"add rule " T " forward iifname @internal drop\n"
	"add rule " T " forward oifname @internal drop\n"
	"add rule " T " forward ct status dnat accept\n"
	"add rule " T " forward iifname @bridges oifname @bridges drop\n";

/* Runs a batch (one transaction). On failure the first line of nft's
 * message, which names the cause ("File exists", "No such file..."). */
static int run(const char *cmds, bool want_output, char **ret_output, struct scow_error **err)
{
	if (lazy_nft_load(err) < 0)
		return error_wrap(err, "nftables");
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return error_set(err, ENOMEM, "nftables: no context");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	log_debug("nft: %s", cmds);
	int r = nft_run_cmd_from_buffer(ctx, cmds);
	if (r != 0) {
		const char *e = nft_ctx_get_error_buffer(ctx);
		_cleanup_free_ char *first = xstrndup(e ? e : "", strcspn(e ? e : "", "\n"));
		int errnum = strstr(first, "File exists") ? EEXIST
			     : strstr(first, "No such file") ? ENOENT
			     : strstr(first, "Operation not permitted") ? EPERM
									 : EIO;
		error_set(err, errnum, "nftables: %s", *first ? first : "command failed");
		nft_ctx_free(ctx);
		return -1;
	}
	if (want_output && ret_output) {
		/* Each call hands over (and resets) the buffer: call it once. */
		const char *out = nft_ctx_get_output_buffer(ctx);
		*ret_output = xstrdup(out ? out : "");
	}
	nft_ctx_free(ctx);
	return 0;
}

int nft_table_ensure(struct scow_error **err)
{
	return run(table_def, false, NULL, err);
}

/* ifnames are quoted: a bridge may be named anything a network option says. */
static bool safe_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static void net_elements(struct strbuf *sb, const char *verb, const struct nft_net *n)
{
	sb_printf(sb, "%s element " T " bridges { \"%s\" }\n", verb, n->bridge);
	sb_printf(sb, "%s element " T " pairs { \"%s\" . \"%s\" }\n", verb, n->bridge, n->bridge);
	sb_printf(sb, "%s element " T " subnets { %s }\n", verb, n->subnet);
	if (n->internal)
		sb_printf(sb, "%s element " T " internal { \"%s\" }\n", verb, n->bridge);
	if (n->masquerade && !n->internal)
		sb_printf(sb, "%s element " T " masq { %s }\n", verb, n->subnet);
}

int nft_network_add(const struct nft_net *n, struct scow_error **err)
{
	if (!safe_name(n->bridge))
		return error_set(err, EINVAL, "invalid bridge name: %s", n->bridge);
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, table_def);
	net_elements(&sb, "add", n);
	return run(sb.buf, false, NULL, err);
}

int nft_network_del(const struct nft_net *n, struct scow_error **err)
{
	if (!safe_name(n->bridge))
		return error_set(err, EINVAL, "invalid bridge name: %s", n->bridge);
	/* add-then-delete: exact, and no error for elements already gone. */
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, table_def);
	net_elements(&sb, "add", n);
	net_elements(&sb, "delete", n);
	return run(sb.buf, false, NULL, err);
}

static void port_element(struct strbuf *sb, const char *verb, const struct net_port_map *m,
			 const char *ctr_ip)
{
	if (*m->host_ip)
		sb_printf(sb, "%s element " T " ports_ip { %s . %s . %u : %s . %u }\n", verb,
			  m->host_ip, m->proto, m->host_port, ctr_ip, m->ctr_port);
	else
		sb_printf(sb, "%s element " T " ports_any { %s . %u : %s . %u }\n", verb, m->proto,
			  m->host_port, ctr_ip, m->ctr_port);
}

int nft_ports_add(const struct net_port_map *maps, size_t n, const char *ctr_ip,
		  struct scow_error **err)
{
	if (n == 0)
		return 0;
	/* The table exists once a bridge does; only if it was flushed
	 * meanwhile is it made again (and the whole batch retried). */
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++)
		port_element(&sb, "create", &maps[i], ctr_ip);
	_cleanup_error_ struct scow_error *e = NULL;
	if (run(sb.buf, false, NULL, &e) == 0)
		return 0;
	if (e->errnum == ENOENT) {
		error_freep(&e);
		_cleanup_sb_ struct strbuf all = STRBUF_INIT;
		sb_append(&all, table_def);
		sb_append(&all, sb.buf);
		if (run(all.buf, false, NULL, &e) == 0)
			return 0;
	}
	if (e->errnum != EEXIST) {
		*err = steal_ptr(&e);
		return -1;
	}
	/* Which one: each alone, in a transaction that is always undone. */
	for (size_t i = 0; i < n; i++) {
		_cleanup_sb_ struct strbuf one = STRBUF_INIT;
		_cleanup_error_ struct scow_error *e1 = NULL;
		port_element(&one, "create", &maps[i], ctr_ip);
		port_element(&one, "delete", &maps[i], ctr_ip);
		if (run(one.buf, false, NULL, &e1) < 0 && e1->errnum == EEXIST)
			return error_set(err, EADDRINUSE,
					 "Bind for %s:%u failed: port is already allocated",
					 *maps[i].host_ip ? maps[i].host_ip : "0.0.0.0",
					 maps[i].host_port);
	}
	return error_set(err, EADDRINUSE, "a published port is already allocated");
}

int nft_ports_del(const struct net_port_map *maps, size_t n, const char *ctr_ip,
		  struct scow_error **err)
{
	if (n == 0)
		return 0;
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		port_element(&sb, "add", &maps[i], ctr_ip);
		port_element(&sb, "delete", &maps[i], ctr_ip);
	}
	_cleanup_error_ struct scow_error *e = NULL;
	if (run(sb.buf, false, NULL, &e) == 0)
		return 0;
	if (e->errnum == ENOENT) /* no table at all: nothing to delete */
		return 0;
	/* Some key now maps elsewhere: the others one by one. */
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		_cleanup_sb_ struct strbuf one = STRBUF_INIT;
		_cleanup_error_ struct scow_error *e1 = NULL;
		port_element(&one, "add", &maps[i], ctr_ip);
		port_element(&one, "delete", &maps[i], ctr_ip);
		if (run(one.buf, false, NULL, &e1) < 0 && e1->errnum != EEXIST && r == 0) {
			*err = steal_ptr(&e1);
			r = -1;
		}
	}
	return r;
}

char *nft_table_dump(struct scow_error **err)
{
	char *out = NULL;
	if (run("list table " T "\n", true, &out, err) < 0)
		return NULL;
	return out;
}
