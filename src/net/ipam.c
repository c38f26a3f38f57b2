#include "net/ipam.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/xalloc.h"

bool ip4_parse(const char *s, uint32_t *ret)
{
	uint32_t a = 0;
	for (int i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned v = 0, digits = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (unsigned)(*s++ - '0');
			if (++digits > 3 || v > 255)
				return false;
		}
		a = a << 8 | v;
		if (i < 3 && *s++ != '.')
			return false;
	}
	if (*s)
		return false;
	*ret = a;
	return true;
}

uint32_t ip4_mask(unsigned len)
{
	return len == 0 ? 0 : len >= 32 ? 0xffffffffu : ~((1u << (32 - len)) - 1);
}

int ip4_prefix_parse(const char *s, struct ip4_prefix *ret, struct scow_error **err)
{
	char buf[INET_ADDRSTRLEN + 4];
	if (!s || strlen(s) >= sizeof(buf))
		return error_set(err, EINVAL, "invalid CIDR address: %s", s ? s : "");
	snprintf(buf, sizeof(buf), "%s", s);
	char *slash = strchr(buf, '/');
	long long len = 32;
	if (slash) {
		*slash = '\0';
		if (!str_to_ll(slash + 1, 0, 32, &len))
			return error_set(err, EINVAL, "invalid CIDR address: %s", s);
	}
	uint32_t a;
	if (!ip4_parse(buf, &a))
		return error_set(err, EINVAL, "invalid CIDR address: %s", s);
	ret->len = (unsigned)len;
	ret->addr = a & ip4_mask(ret->len);
	return 0;
}

void ip4_format(uint32_t a, char out[INET_ADDRSTRLEN])
{
	snprintf(out, INET_ADDRSTRLEN, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
		 a & 255);
}

char *ip4_prefix_format(const struct ip4_prefix *p)
{
	char a[INET_ADDRSTRLEN];
	ip4_format(p->addr, a);
	return xasprintf("%s/%u", a, p->len);
}

bool ip4_prefix_contains(const struct ip4_prefix *p, uint32_t a)
{
	return (a & ip4_mask(p->len)) == p->addr;
}

bool ip4_prefix_overlaps(const struct ip4_prefix *a, const struct ip4_prefix *b)
{
	unsigned len = a->len < b->len ? a->len : b->len;
	return (a->addr & ip4_mask(len)) == (b->addr & ip4_mask(len));
}

int ipam_pick_subnet(const struct ipam_pool *pools, size_t n_pools, const struct ip4_prefix *taken,
		     size_t n_taken, struct ip4_prefix *ret, struct scow_error **err)
{
	for (size_t p = 0; p < n_pools; p++) {
		const struct ipam_pool *pool = &pools[p];
		if (pool->size < pool->base.len || pool->size > 30)
			continue;
		uint64_t count = 1ull << (pool->size - pool->base.len);
		uint64_t step = 1ull << (32 - pool->size);
		for (uint64_t i = 0; i < count; i++) {
			struct ip4_prefix cand = {pool->base.addr + (uint32_t)(i * step), pool->size};
			bool busy = false;
			for (size_t t = 0; t < n_taken && !busy; t++)
				busy = ip4_prefix_overlaps(&cand, &taken[t]);
			if (!busy) {
				*ret = cand;
				return 0;
			}
		}
	}
	return error_set(err, ENOSPC,
			 "could not find an available, non-overlapping IPv4 address pool among the "
			 "defaults to assign to the network");
}

int ipam_subnet_init(const char *subnet, const char *gateway, const char *ip_range,
		     struct ipam_subnet *ret, struct scow_error **err)
{
	struct ipam_subnet s = {0};
	if (ip4_prefix_parse(subnet, &s.subnet, err) < 0)
		return -1;
	if (s.subnet.len > 30)
		return error_set(err, EINVAL, "subnet %s is too small: a /30 at most", subnet);
	if (gateway && *gateway) {
		if (!ip4_parse(gateway, &s.gateway))
			return error_set(err, EINVAL, "invalid gateway address: %s", gateway);
		if (!ip4_prefix_contains(&s.subnet, s.gateway))
			return error_set(err, EINVAL, "no matching subnet for gateway %s", gateway);
		uint32_t host = s.gateway & ~ip4_mask(s.subnet.len);
		if (host == 0 || host == ~ip4_mask(s.subnet.len))
			return error_set(err, EINVAL, "invalid gateway address: %s", gateway);
	} else {
		s.gateway = s.subnet.addr + 1;
	}
	if (ip_range && *ip_range) {
		if (ip4_prefix_parse(ip_range, &s.range, err) < 0)
			return -1;
		if (s.range.len < s.subnet.len || !ip4_prefix_contains(&s.subnet, s.range.addr))
			return error_set(err, EINVAL, "no matching subnet for range %s", ip_range);
	} else {
		s.range = s.subnet;
	}
	*ret = s;
	return 0;
}

static bool addr_special(const struct ipam_subnet *s, uint32_t a)
{
	uint32_t host = a & ~ip4_mask(s->subnet.len);
	return host == 0 || host == ~ip4_mask(s->subnet.len) || a == s->gateway;
}

static bool addr_used(uint32_t a, const uint32_t *used, size_t n_used)
{
	for (size_t i = 0; i < n_used; i++)
		if (used[i] == a)
			return true;
	return false;
}

int ipam_addr_pick(const struct ipam_subnet *s, const uint32_t *used, size_t n_used, uint32_t *ret,
		   struct scow_error **err)
{
	uint64_t n = 1ull << (32 - s->range.len);
	for (uint64_t i = 0; i < n; i++) {
		uint32_t a = s->range.addr + (uint32_t)i;
		if (!addr_special(s, a) && !addr_used(a, used, n_used)) {
			*ret = a;
			return 0;
		}
	}
	_cleanup_free_ char *r = ip4_prefix_format(&s->range);
	return error_set(err, ENOSPC, "no available IPv4 addresses on this network's address pools: %s",
			 r);
}

int ipam_addr_check(const struct ipam_subnet *s, uint32_t want, const uint32_t *used, size_t n_used,
		    struct scow_error **err)
{
	char a[INET_ADDRSTRLEN];
	ip4_format(want, a);
	if (!ip4_prefix_contains(&s->subnet, want)) {
		_cleanup_free_ char *sub = ip4_prefix_format(&s->subnet);
		return error_set(err, EINVAL, "invalid address %s: it does not belong to subnet %s", a,
				 sub);
	}
	if (addr_special(s, want))
		return error_set(err, EINVAL, "invalid address %s: it is reserved in its subnet", a);
	if (addr_used(want, used, n_used))
		return error_set(err, EADDRINUSE, "Address already in use: %s", a);
	return 0;
}
