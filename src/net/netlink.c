#include "net/netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/xalloc.h"

#define NL_BUF (32u << 10)

struct nl {
	struct mnl_socket *sock;
	unsigned portid, seq;
	char buf[NL_BUF];
};

static int nl_wrap_fd(int fd, struct nl **ret, struct scow_error **err)
{
	struct nl *nl = xcalloc(1, sizeof(*nl));
	nl->sock = mnl_socket_fdopen(fd);
	if (!nl->sock) {
		free(nl);
		close(fd);
		return error_errno(err, "netlink socket");
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(nl->sock);
		free(nl);
		errno = e;
		return error_errno(err, "bind netlink socket");
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)getpid() << 8;
	*ret = nl;
	return 0;
}

int nl_open(struct nl **ret, struct scow_error **err)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return error_errno(err, "netlink socket");
	return nl_wrap_fd(fd, ret, err);
}

struct ns_socket {
	int nsfd;
	int fd;
	int errnum;
	const char *what;
};

/* In a thread of its own: a thread's namespace change is its own, and the
 * socket keeps the namespace it was created in after the thread ends. */
static void *ns_socket_thread(void *opaque)
{
	struct ns_socket *a = opaque;
	if (setns(a->nsfd, CLONE_NEWNET) < 0) {
		a->errnum = errno;
		a->what = "enter the container's network namespace";
		return NULL;
	}
	a->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (a->fd < 0) {
		a->errnum = errno;
		a->what = "netlink socket";
	}
	return NULL;
}

int nl_open_netns(int nsfd, struct nl **ret, struct scow_error **err)
{
	struct ns_socket a = {.nsfd = nsfd, .fd = -1};
	pthread_t t;
	int r = pthread_create(&t, NULL, ns_socket_thread, &a);
	if (r != 0)
		return error_set(err, r, "thread for the network namespace: %s", strerror(r));
	pthread_join(t, NULL);
	if (a.fd < 0)
		return error_set(err, a.errnum, "%s: %s", a.what, strerror(a.errnum));
	return nl_wrap_fd(a.fd, ret, err);
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl);
}

/* Sends one request and reads until its ACK (or the end of a dump),
 * passing each reply to cb. Returns 0 or -errno. */
static int nl_talk(struct nl *nl, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	req->nlmsg_seq = ++nl->seq;
	/* NLM_F_DUMP shares bits with NLM_F_EXCL/NLM_F_REPLACE: a dump is a
	 * RTM_GET* request with both bits. */
	bool dump = (req->nlmsg_type & 3) == 2 && (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	if (!dump)
		req->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		int r = mnl_cb_run(nl->buf, (size_t)n, req->nlmsg_seq, nl->portid, cb, data);
		if (r < 0)
			return -errno;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

static struct nlmsghdr *put_link_msg(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	return nlh;
}

/* ---- links ---------------------------------------------------------------------------- */

static int link_index_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	*(int *)data = ifm->ifi_index;
	return MNL_CB_OK;
}

int nl_link_index(struct nl *nl, const char *name, struct scow_error **err)
{
	char buf[512];
	if (strlen(name) >= IFNAMSIZ)
		return error_set(err, EINVAL, "interface name too long: %s", name);
	struct nlmsghdr *nlh = put_link_msg(buf, RTM_GETLINK, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	int index = 0;
	int r = nl_talk(nl, nlh, link_index_cb, &index);
	if (r == -ENODEV)
		return 0;
	if (r < 0) {
		errno = -r;
		return error_errno(err, "look up interface %s", name);
	}
	return index;
}

int nl_bridge_add(struct nl *nl, const char *name, unsigned mtu, struct scow_error **err)
{
	char buf[512];
	struct nlmsghdr *nlh = put_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, li);
	int r = nl_talk(nl, nlh, NULL, NULL);
	if (r < 0) {
		errno = -r;
		return error_errno(err, "create bridge %s", name);
	}
	return 0;
}

int nl_veth_add(struct nl *nl, const struct nl_veth *v, struct scow_error **err)
{
	char buf[1024];
	struct nlmsghdr *nlh = put_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->name);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	if (v->master > 0)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)v->master);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* The peer's attributes follow an ifinfomsg of its own. */
	struct ifinfomsg *pifm = mnl_nlmsg_get_payload_tail(nlh);
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifm));
	memset(pifm, 0, sizeof(*pifm));
	/* Not up yet: opening the peer before the pair is complete fails
	 * (ENOTCONN); the caller brings it up in its namespace. */
	pifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->peer_name);
	if (v->mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, v->mtu);
	if (v->peer_mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->peer_mac);
	if (v->peer_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)v->peer_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	int r = nl_talk(nl, nlh, NULL, NULL);
	if (r < 0) {
		errno = -r;
		return error_errno(err, "create veth pair %s/%s", v->name, v->peer_name);
	}
	return 0;
}

int nl_link_del(struct nl *nl, const char *name, struct scow_error **err)
{
	char buf[512];
	struct nlmsghdr *nlh = put_link_msg(buf, RTM_DELLINK, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	int r = nl_talk(nl, nlh, NULL, NULL);
	if (r == -ENODEV)
		return 1;
	if (r < 0) {
		errno = -r;
		return error_errno(err, "delete interface %s", name);
	}
	return 0;
}

int nl_link_set_up(struct nl *nl, const char *name, bool up, struct scow_error **err)
{
	char buf[512];
	struct nlmsghdr *nlh = put_link_msg(buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_flags = up ? IFF_UP : 0;
	ifm->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	int r = nl_talk(nl, nlh, NULL, NULL);
	if (r < 0) {
		errno = -r;
		return error_errno(err, "set %s %s", name, up ? "up" : "down");
	}
	return 0;
}

int nl_bridge_port_hairpin(struct nl *nl, const char *name, bool on, struct scow_error **err)
{
	int idx = nl_link_index(nl, name, err);
	if (idx <= 0)
		return idx < 0 ? -1 : error_set(err, ENODEV, "no interface %s", name);
	char buf[512];
	struct nlmsghdr *nlh = put_link_msg(buf, RTM_SETLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	ifm->ifi_family = AF_BRIDGE;
	ifm->ifi_index = idx;
	struct nlattr *pi = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, on ? 1 : 0);
	mnl_attr_nest_end(nlh, pi);
	int r = nl_talk(nl, nlh, NULL, NULL);
	if (r < 0) {
		errno = -r;
		return error_errno(err, "set hairpin mode on %s", name);
	}
	return 0;
}

/* ---- addresses and routes ---------------------------------------------------------------- */

static int dev_index(struct nl *nl, const char *dev, struct scow_error **err)
{
	int idx = nl_link_index(nl, dev, err);
	if (idx == 0)
		return error_set(err, ENODEV, "no interface %s", dev);
	return idx;
}

int nl_addr_add(struct nl *nl, const char *dev, uint32_t addr, unsigned prefix,
		struct scow_error **err)
{
	int idx = dev_index(nl, dev, err);
	if (idx < 0)
		return -1;
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = (unsigned char)prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned)idx;
	uint32_t be = htonl(addr);
	mnl_attr_put_u32(nlh, IFA_LOCAL, be);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, be);
	if (prefix < 31)
		mnl_attr_put_u32(nlh, IFA_BROADCAST, htonl(addr | ~(prefix ? ~0u << (32 - prefix) : 0u)));
	int r = nl_talk(nl, nlh, NULL, NULL);
	if (r < 0) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &be, a, sizeof(a));
		errno = -r;
		return error_errno(err, "add address %s/%u to %s", a, prefix, dev);
	}
	return 0;
}

struct addr_query {
	int index;
	uint32_t addr; /* network order */
	unsigned prefix;
	bool found;
};

static int addr_has_cb(const struct nlmsghdr *nlh, void *data)
{
	struct addr_query *q = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	if ((int)ifa->ifa_index != q->index || ifa->ifa_prefixlen != q->prefix)
		return MNL_CB_OK;
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_LOCAL && mnl_attr_get_payload_len(a) == 4 &&
		    mnl_attr_get_u32(a) == q->addr)
			q->found = true;
	}
	return MNL_CB_OK;
}

int nl_addr_has(struct nl *nl, const char *dev, uint32_t addr, unsigned prefix, bool *ret,
		struct scow_error **err)
{
	int idx = dev_index(nl, dev, err);
	if (idx < 0)
		return -1;
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_INET;
	struct addr_query q = {idx, htonl(addr), prefix, false};
	int r = nl_talk(nl, nlh, addr_has_cb, &q);
	if (r < 0) {
		errno = -r;
		return error_errno(err, "list addresses of %s", dev);
	}
	*ret = q.found;
	return 0;
}

int nl_route_add_default(struct nl *nl, const char *dev, uint32_t gateway, struct scow_error **err)
{
	int idx = dev_index(nl, dev, err);
	if (idx < 0)
		return -1;
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)idx);
	int r = nl_talk(nl, nlh, NULL, NULL);
	if (r < 0) {
		errno = -r;
		return error_errno(err, "add the default route via %s", dev);
	}
	return 0;
}

struct route_list {
	struct nl_route4 *v;
	size_t n, cap;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct route_list *l = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	/* Local routes too: an address of an interface that is down has no
	 * prefix route, but its subnet is taken all the same. */
	if (rtm->rtm_family != AF_INET ||
	    (rtm->rtm_type != RTN_UNICAST && rtm->rtm_type != RTN_LOCAL) || rtm->rtm_dst_len == 0)
		return MNL_CB_OK;
	struct nl_route4 r = {.len = rtm->rtm_dst_len, .table = rtm->rtm_table};
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
		switch (mnl_attr_get_type(a)) {
		case RTA_DST:
			if (mnl_attr_get_payload_len(a) == 4)
				r.dst = ntohl(mnl_attr_get_u32(a));
			break;
		case RTA_OIF:
			r.oif = (int)mnl_attr_get_u32(a);
			break;
		case RTA_TABLE:
			r.table = mnl_attr_get_u32(a);
			break;
		}
	}
	xgrow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = r;
	return MNL_CB_OK;
}

int nl_route_list4(struct nl *nl, struct nl_route4 **ret, size_t *ret_n, struct scow_error **err)
{
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = AF_INET;
	struct route_list l = {0};
	int r = nl_talk(nl, nlh, route_cb, &l);
	if (r < 0) {
		free(l.v);
		errno = -r;
		return error_errno(err, "list routes");
	}
	*ret = l.v;
	*ret_n = l.n;
	return 0;
}
