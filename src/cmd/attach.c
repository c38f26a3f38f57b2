/* scow attach */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cmd/containers.h"
#include "supervise/attach.h"
#include "util/cleanup.h"
#include "util/detach.h"
#include "util/fs.h"
#include "util/json.h"

const struct opt_def cmd_attach_opts[] = {
	{"detach-keys", 0, OPT_VALUE, "string", "Override the key sequence for detaching a container",
	 NULL},
	{"no-stdin", 0, OPT_BOOL, NULL, "Do not attach STDIN", NULL},
	{"sig-proxy", 0, OPT_BOOL, NULL, "Proxy all received signals to the process", "true"},
	OPT_END,
};

static int send_hdr(int fd, int type, int a, int b, const void *data, size_t len)
{
	struct attach_hdr h = {.type = (uint8_t)type, .a = a, .b = b};
	struct iovec iov[2] = {{&h, sizeof(h)}, {(void *)data, len}};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	ssize_t n;
	while ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n < 0 ? -1 : 0;
}

static int connect_to(struct container_store *cs, const char *id, struct scow_error **err)
{
	_cleanup_close_ int dir = openat(cs->run_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dir, ATTACH_SOCKET);
	if (dir < 0 || fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		return error_errno(err, "attach to container %.12s", id);
	}
	return fd;
}

struct attach_client {
	int sock;
	bool tty, stdin_open;
	struct detach_keys keys;
	bool sig_proxy;
};

static int on_message(struct attach_client *ac, int *ret_code)
{
	char buf[sizeof(struct attach_hdr) + ATTACH_DATA_MAX];
	ssize_t n = recv(ac->sock, buf, sizeof(buf), 0);
	if (n < (ssize_t)sizeof(struct attach_hdr))
		return 1; /* the supervisor went away */
	struct attach_hdr h;
	memcpy(&h, buf, sizeof(h));
	if (h.type == ATTACH_EXIT) {
		*ret_code = h.a;
		return 1;
	}
	if (h.type == ATTACH_OUT)
		fs_write_all(h.a == 2 ? STDERR_FILENO : STDOUT_FILENO, buf + sizeof(h),
			     (size_t)n - sizeof(h));
	return 0;
}

/* 1 when the user detached. */
static int on_input(struct attach_client *ac, bool *stdin_done)
{
	unsigned char buf[4096], out[2 * 4096 + 16];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n <= 0) {
		*stdin_done = n == 0 || (errno != EINTR && errno != EAGAIN);
		return 0;
	}
	bool detach = false;
	size_t m = ac->tty ? detach_keys_filter(&ac->keys, buf, (size_t)n, out, &detach)
			   : (memcpy(out, buf, (size_t)n), (size_t)n);
	if (m)
		send_hdr(ac->sock, ATTACH_IN, 0, 0, out, m);
	return detach;
}

static void send_winsize(struct attach_client *ac)
{
	struct winsize ws;
	if (ac->tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
		send_hdr(ac->sock, ATTACH_WINSIZE, ws.ws_row, ws.ws_col, NULL, 0);
}

static int attach_loop(struct attach_client *ac, int sigfd)
{
	bool stdin_done = !ac->stdin_open;
	int code = 0;
	for (;;) {
		struct pollfd p[3] = {{ac->sock, POLLIN, 0},
				      {stdin_done ? -1 : STDIN_FILENO, POLLIN, 0},
				      {sigfd, POLLIN, 0}};
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents && on_message(ac, &code))
			return code;
		if (p[1].revents && on_input(ac, &stdin_done))
			return 0; /* detached: the container keeps running */
		if (p[2].revents) {
			struct signalfd_siginfo si;
			while (read(sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if ((int)si.ssi_signo == SIGWINCH)
					send_winsize(ac);
				else if (ac->sig_proxy)
					send_hdr(ac->sock, ATTACH_SIGNAL, (int)si.ssi_signo, 0, NULL, 0);
			}
		}
	}
}

int cmd_attach(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct container c = {.lock_fd = -1};
	int r = cmd_load_container(&cs, o->args[0], false, &c, err);
	bool loaded = r == 0;
	if (r == 0 && c.status != CTR_RUNNING && c.status != CTR_PAUSED)
		r = error_set(err, EINVAL, "You cannot attach to a stopped container, start it first");
	struct attach_client ac = {.sock = -1};
	if (r == 0) {
		json_t *cfg = json_get_obj(c.config, "Config");
		ac.tty = json_get_bool(cfg, "Tty", false);
		ac.stdin_open = json_get_bool(cfg, "OpenStdin", false) && !opt_bool(o, "no-stdin");
		ac.sig_proxy = !ac.tty && (!opt_set(o, "sig-proxy") || opt_bool(o, "sig-proxy"));
		r = detach_keys_parse(opt_str(o, "detach-keys"), &ac.keys, err);
	}
	if (r == 0)
		r = ac.sock = connect_to(&cs, c.id, err);
	if (loaded)
		container_release(&c);
	container_store_close(&cs);
	if (r < 0)
		return cmd_fail(err);
	unsigned flags = ATTACH_WANT_STDOUT | ATTACH_WANT_STDERR |
			 (ac.stdin_open ? ATTACH_WANT_STDIN : 0);
	send_hdr(ac.sock, ATTACH_HELLO, (int)flags, 0, NULL, 0);
	sigset_t set, old;
	sigemptyset(&set);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (ac.sig_proxy || sigs[i] == SIGWINCH)
			sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	_cleanup_close_ int sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	struct termios saved;
	bool raw = ac.tty && ac.stdin_open && isatty(STDIN_FILENO) &&
		   tcgetattr(STDIN_FILENO, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	send_winsize(&ac);
	int code = attach_loop(&ac, sigfd);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(ac.sock);
	return code;
}
