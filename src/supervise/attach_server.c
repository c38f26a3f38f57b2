#include "supervise/attach_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "supervise/attach.h"
#include "util/cleanup.h"
#include "util/xalloc.h"

struct client {
	int fd;
	unsigned flags; /* 0 until HELLO */
};

struct attach_server {
	int listen_fd;
	int dirfd;
	struct client clients[ATTACH_MAX_CLIENTS];
};

/* Bound through /proc/self/fd: a runroot path may be longer than
 * sun_path allows. */
static void socket_path(int dirfd, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, ATTACH_SOCKET);
}

int attach_server_open(int dirfd, struct attach_server **ret, struct scow_error **err)
{
	struct attach_server *as = xcalloc(1, sizeof(*as));
	for (size_t i = 0; i < ATTACH_MAX_CLIENTS; i++)
		as->clients[i].fd = -1;
	as->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	as->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	struct sockaddr_un sa;
	socket_path(as->dirfd, &sa);
	unlinkat(as->dirfd, ATTACH_SOCKET, 0);
	if (as->dirfd < 0 || as->listen_fd < 0 ||
	    bind(as->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    fchmodat(as->dirfd, ATTACH_SOCKET, 0600, 0) < 0 || listen(as->listen_fd, 8) < 0) {
		error_errno(err, "attach socket");
		attach_server_close(as);
		return -1;
	}
	*ret = as;
	return 0;
}

int attach_server_listen_fd(const struct attach_server *as)
{
	return as->listen_fd;
}

static struct client *find(struct attach_server *as, int fd)
{
	for (size_t i = 0; i < ATTACH_MAX_CLIENTS; i++)
		if (as->clients[i].fd == fd && fd >= 0)
			return &as->clients[i];
	return NULL;
}

bool attach_server_is_client(const struct attach_server *as, int fd)
{
	return find((struct attach_server *)as, fd) != NULL;
}

int attach_server_accept(struct attach_server *as)
{
	int fd = accept4(as->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return -1;
	struct client *c = find(as, -1);
	for (size_t i = 0; !c && i < ATTACH_MAX_CLIENTS; i++)
		if (as->clients[i].fd < 0)
			c = &as->clients[i];
	if (!c) {
		close(fd);
		return -1;
	}
	int sz = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	*c = (struct client){.fd = fd, .flags = 0};
	return fd;
}

static void drop(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->flags = 0;
}

bool attach_server_receive(struct attach_server *as, int fd, const struct attach_sink *sink)
{
	struct client *c = find(as, fd);
	if (!c)
		return false;
	char buf[sizeof(struct attach_hdr) + ATTACH_DATA_MAX];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n < (ssize_t)sizeof(struct attach_hdr)) {
		drop(c);
		return false;
	}
	struct attach_hdr h;
	memcpy(&h, buf, sizeof(h));
	const char *data = buf + sizeof(h);
	size_t len = (size_t)n - sizeof(h);
	switch (h.type) {
	case ATTACH_HELLO:
		c->flags = (unsigned)h.a | 0x100; /* 0x100: said hello */
		break;
	case ATTACH_IN:
		if ((c->flags & ATTACH_WANT_STDIN) && sink->input)
			sink->input(sink->opaque, data, len);
		break;
	case ATTACH_WINSIZE:
		if (sink->winsize)
			sink->winsize(sink->opaque, h.a, h.b);
		break;
	case ATTACH_SIGNAL:
		if (sink->signal && h.a > 0 && h.a < 65)
			sink->signal(sink->opaque, h.a);
		break;
	default:
		drop(c);
		return false;
	}
	return true;
}

static bool send_msg(struct client *c, const struct attach_hdr *h, const void *data, size_t len)
{
	struct iovec iov[2] = {{(void *)h, sizeof(*h)}, {(void *)data, len}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	ssize_t n;
	while ((n = sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)(sizeof(*h) + len);
}

void attach_server_broadcast(struct attach_server *as, int stream, const void *buf, size_t len)
{
	unsigned want = stream == 1 ? ATTACH_WANT_STDOUT : ATTACH_WANT_STDERR;
	for (size_t i = 0; i < ATTACH_MAX_CLIENTS; i++) {
		struct client *c = &as->clients[i];
		if (c->fd < 0 || !(c->flags & want))
			continue;
		const char *p = buf;
		size_t left = len;
		while (left > 0) {
			size_t chunk = left < ATTACH_DATA_MAX ? left : ATTACH_DATA_MAX;
			struct attach_hdr h = {.type = ATTACH_OUT, .a = stream};
			/* A client that cannot keep up would stall the container. */
			if (!send_msg(c, &h, p, chunk)) {
				drop(c);
				break;
			}
			p += chunk;
			left -= chunk;
		}
	}
}

void attach_server_exit(struct attach_server *as, int code)
{
	for (size_t i = 0; i < ATTACH_MAX_CLIENTS; i++) {
		struct client *c = &as->clients[i];
		if (c->fd < 0)
			continue;
		struct attach_hdr h = {.type = ATTACH_EXIT, .a = code};
		send_msg(c, &h, NULL, 0);
		drop(c);
	}
}

void attach_server_close(struct attach_server *as)
{
	if (!as)
		return;
	for (size_t i = 0; i < ATTACH_MAX_CLIENTS; i++)
		if (as->clients[i].fd >= 0)
			drop(&as->clients[i]);
	if (as->listen_fd >= 0)
		close(as->listen_fd);
	if (as->dirfd >= 0) {
		unlinkat(as->dirfd, ATTACH_SOCKET, 0);
		close(as->dirfd);
	}
	free(as);
}
