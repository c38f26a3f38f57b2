/* /etc/hosts extras and /etc/resolv.conf for containers (see network.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "net/internal.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static bool ip_ok(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int net_extra_hosts(struct net_store *ns, const char *const *specs, size_t n, char **ret,
		    struct scow_error **err)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	_cleanup_free_ char *gateway = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *s = specs[i];
		/* "name:ip" splits at the first colon (the address may be IPv6);
		 * Docker 25 also takes "name=ip". */
		size_t k = strcspn(s, ":=");
		if (k == 0 || !s[k] || !s[k + 1])
			return error_set(err, EINVAL, "bad format for add-host: \"%s\"", s);
		_cleanup_free_ char *name = xstrndup(s, k);
		const char *ip = s + k + 1;
		if (strcmp(ip, "host-gateway") == 0) {
			if (!gateway) {
				_cleanup_json_ json_t *net = NULL;
				if (net_find(ns, NET_DEFAULT, &net, err) < 0)
					return error_wrap(err, "host-gateway");
				struct ipam_subnet sub;
				if (net_subnet(net, &sub, err) < 0)
					return -1;
				gateway = xmalloc(INET_ADDRSTRLEN);
				ip4_format(sub.gateway, gateway);
			}
			ip = gateway;
		} else if (ip[0] == '[' && ip[strlen(ip) - 1] == ']') {
			_cleanup_free_ char *inner = xstrndup(ip + 1, strlen(ip) - 2);
			if (!ip_ok(inner))
				return error_set(err, EINVAL, "invalid IP address in add-host: \"%s\"",
						 ip);
			sb_printf(&sb, "%s\t%s\n", inner, name);
			continue;
		}
		if (!ip_ok(ip))
			return error_set(err, EINVAL, "invalid IP address in add-host: \"%s\"", ip);
		sb_printf(&sb, "%s\t%s\n", ip, name);
	}
	*ret = sb_steal(&sb);
	return 0;
}

int net_dns_check(const char *const *dns, size_t n, struct scow_error **err)
{
	for (size_t i = 0; i < n; i++)
		if (!ip_ok(dns[i]))
			return error_set(err, EINVAL, "%s is not an ip address", dns[i]);
	return 0;
}

static const char *after_word(const char *line, const char *word)
{
	size_t n = strlen(word);
	if (strncmp(line, word, n) || (line[n] != ' ' && line[n] != '\t'))
		return NULL;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	return line;
}

char *net_resolv_conf(const char *host_resolv, bool host_net, const char *const *dns, size_t n_dns,
		      const char *const *search, size_t n_search, const char *const *options,
		      size_t n_options)
{
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	_cleanup_strv_ char **lines = strv_split(host_resolv ? host_resolv : "", '\n');
	bool any_ns = false;
	for (size_t i = 0; lines[i]; i++) {
		const char *l = lines[i], *v;
		if (!*l)
			continue;
		if ((v = after_word(l, "nameserver"))) {
			if (n_dns)
				continue;
			if (!host_net && (str_starts_with(v, "127.") || str_starts_with(v, "::1")))
				continue;
			any_ns = true;
		} else if (after_word(l, "search") || after_word(l, "domain")) {
			if (n_search)
				continue;
		} else if (after_word(l, "options")) {
			if (n_options)
				continue;
		}
		sb_printf(&sb, "%s\n", l);
	}
	for (size_t i = 0; i < n_dns; i++)
		sb_printf(&sb, "nameserver %s\n", dns[i]);
	if (!n_dns && !any_ns && !host_net)
		sb_append(&sb, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	if (n_search && !(n_search == 1 && strcmp(search[0], ".") == 0)) {
		sb_append(&sb, "search");
		for (size_t i = 0; i < n_search; i++)
			if (strcmp(search[i], "."))
				sb_printf(&sb, " %s", search[i]);
		sb_appendc(&sb, '\n');
	}
	if (n_options) {
		sb_append(&sb, "options");
		for (size_t i = 0; i < n_options; i++)
			sb_printf(&sb, " %s", options[i]);
		sb_appendc(&sb, '\n');
	}
	return sb_steal(&sb);
}
