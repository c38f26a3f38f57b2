/* cgroup detection, argument checks and dispatch to the drivers, plus the
 * file helpers they share. See cgroup.h for the layout. */
#include "cgroup/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CGROUP_ROOT "/sys/fs/cgroup"

/* Public entry points make err non-NULL, so that the drivers may look at
 * (*err)->errnum after a failed call. */
#define ERR_NONNULL(err)                                                                           \
	_cleanup_error_ struct scow_error *local_err_ = NULL;                                      \
	if (!(err))                                                                                \
	(err) = &local_err_

const char *const cg_ctrl_names[CG_NCTRL] = {
	[CG_CPU] = "cpu",	      [CG_CPUACCT] = "cpuacct",	  [CG_CPUSET] = "cpuset",
	[CG_MEMORY] = "memory",	      [CG_DEVICES] = "devices",	  [CG_FREEZER] = "freezer",
	[CG_BLKIO] = "blkio",	      [CG_PIDS] = "pids",	  [CG_NET_CLS] = "net_cls",
	[CG_NET_PRIO] = "net_prio",   [CG_PERF_EVENT] = "perf_event", [CG_HUGETLB] = "hugetlb",
	[CG_IO] = "io",		      [CG_RDMA] = "rdma",	  [CG_MISC] = "misc",
	[CG_SYSTEMD] = "systemd",
};

const struct cgroup_device_rule cgroup_default_device_rules[] = {
	{'a', -1, -1, "rwm", false}, /* deny everything, then: */
	{'c', -1, -1, "m", true},    /* mknod of any char device */
	{'b', -1, -1, "m", true},    /* mknod of any block device */
	{'c', 1, 3, "rwm", true},    /* null */
	{'c', 1, 5, "rwm", true},    /* zero */
	{'c', 1, 7, "rwm", true},    /* full */
	{'c', 1, 8, "rwm", true},    /* random */
	{'c', 1, 9, "rwm", true},    /* urandom */
	{'c', 5, 0, "rwm", true},    /* tty */
	{'c', 5, 1, "rwm", true},    /* console */
	{'c', 5, 2, "rwm", true},    /* ptmx */
	{'c', 136, -1, "rwm", true}, /* pts */
	{'c', 10, 200, "rwm", true}, /* tun */
};
const size_t cgroup_n_default_device_rules = ARRAY_SIZE(cgroup_default_device_rules);

char **cgroup_v1_view(const struct cgroup *cg)
{
	if (cg->mode == CGROUP_V2 || cg->layout->fake)
		return NULL;
	char **v = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < cg->layout->n; i++) {
		const struct cg_hier *h = &cg->layout->h[i];
		if (h->v2 || h->fd < 0)
			continue;
		strv_push(&v, xasprintf("%s=%s/%s/%s", h->name, CGROUP_ROOT, h->name, cg->path));
		/* "cpu,cpuacct" is also reachable as "cpu" and "cpuacct". */
		if (!strchr(h->name, ','))
			continue;
		_cleanup_strv_ char **parts = strv_split(h->name, ',');
		for (size_t k = 0; parts[k]; k++)
			strv_push(&v, xasprintf("%s>%s", parts[k], h->name));
	}
	return v;
}

const char *cgroup_mode_name(enum cgroup_mode m)
{
	switch (m) {
	case CGROUP_V1:
		return "v1";
	case CGROUP_V2:
		return "v2";
	case CGROUP_HYBRID:
		return "hybrid";
	}
	return "unknown";
}

/* --- small helpers -------------------------------------------------------- */

long long cg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cg_backoff_sleep(unsigned attempt)
{
	/* 100 us doubling up to 10 ms: quick states are seen quickly, slow ones
	 * do not spin. */
	long us = 100L << (attempt < 7 ? attempt : 7);
	if (us > 10000)
		us = 10000;
	struct timespec ts = {0, us * 1000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cg_open_write(const struct cg_layout *l, int dirfd, const char *file, struct scow_error **err)
{
	/* cgroupfs files take each write() whole: no O_TRUNC (a needless
	 * setattr). Fake trees are plain files and hold the last content. */
	int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (l->fake ? O_CREAT | O_TRUNC : 0);
	int fd = openat(dirfd, file, flags, 0644);
	if (fd < 0)
		return error_errno(err, "open %s", file);
	return fd;
}

int cg_write_fd(int fd, const char *file, const char *buf, size_t len, struct scow_error **err)
{
	ssize_t n;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return error_errno(err, "write \"%.*s\" to %s", (int)strcspn(buf, "\n"), buf, file);
	if ((size_t)n != len)
		return error_set(err, EIO, "write %s: short write", file);
	return 0;
}

int cg_write(const struct cg_layout *l, int dirfd, const char *file, const char *buf, size_t len,
	     struct scow_error **err)
{
	_cleanup_close_ int fd = cg_open_write(l, dirfd, file, err);
	if (fd < 0)
		return -1;
	return cg_write_fd(fd, file, buf, len, err);
}

int cg_write_str(const struct cg_layout *l, int dirfd, const char *file, const char *s,
		 struct scow_error **err)
{
	return cg_write(l, dirfd, file, s, strlen(s), err);
}

static ssize_t read_fd_into(int fd, char *buf, size_t size)
{
	size_t len = 0;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

ssize_t cg_read(int dirfd, const char *file, char *buf, size_t size, struct scow_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_errno(err, "open %s", file);
	ssize_t n = read_fd_into(fd, buf, size);
	if (n < 0)
		return error_errno(err, "read %s", file);
	if ((size_t)n + 1 >= size) {
		/* Full buffer: make sure there is nothing more. */
		char c;
		if (read(fd, &c, 1) > 0)
			return error_set(err, EFBIG, "%s: longer than %zu bytes", file, size - 1);
	}
	return n;
}

int cg_read_all(int dirfd, const char *file, char **ret, size_t *ret_len, struct scow_error **err)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return error_errno(err, "open %s", file);
	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = xmalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= (64u << 20))
				return error_set(err, EFBIG, "%s: too large", file);
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_errno(err, "read %s", file);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = steal_ptr(&buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

bool cg_keyed_value(const char *text, const char *key, long long *ret)
{
	size_t klen = strlen(key);
	for (const char *p = text; p && *p;) {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			char *end;
			errno = 0;
			long long v = strtoll(p + klen + 1, &end, 10);
			if (errno || end == p + klen + 1 || (*end && *end != '\n'))
				return false;
			*ret = v;
			return true;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

int cg_parse_pids(const char *text, pid_t **ret, size_t *ret_n, struct scow_error **err)
{
	_cleanup_free_ pid_t *v = NULL;
	size_t n = 0, cap = 0;
	for (const char *p = text; *p;) {
		size_t l = strcspn(p, "\n");
		if (l > 0) {
			char tmp[24];
			long long pid;
			if (l >= sizeof(tmp))
				return error_set(err, EINVAL, "bad pid in cgroup.procs");
			memcpy(tmp, p, l);
			tmp[l] = '\0';
			if (!str_to_ll(tmp, 1, INT_MAX, &pid))
				return error_set(err, EINVAL, "bad pid \"%s\" in cgroup.procs", tmp);
			void *pv = v;
			xgrow(&pv, &cap, n + 1, sizeof(pid_t));
			v = pv;
			v[n++] = (pid_t)pid;
		}
		p += l;
		if (*p)
			p++;
	}
	*ret = steal_ptr(&v);
	*ret_n = n;
	return 0;
}

int cg_procs(int dirfd, pid_t **ret, size_t *ret_n, struct scow_error **err)
{
	_cleanup_free_ char *text = NULL;
	if (cg_read_all(dirfd, "cgroup.procs", &text, NULL, err) < 0)
		return -1;
	return cg_parse_pids(text, ret, ret_n, err);
}

/* Empty cpuset.cpus/mems in a new v1 cpuset cgroup would refuse every task:
 * copy the parent's. (A fake tree may lack the files: missing is empty.) */
static int cpuset_copy_from(const struct cg_layout *l, int parentfd, int fd, const char *file,
			    struct scow_error **err)
{
	char buf[4096];
	ssize_t n = cg_read(fd, file, buf, sizeof(buf), err);
	if (n < 0) {
		if (!l->fake || (*err)->errnum != ENOENT)
			return -1;
		error_freep(err);
		n = 0;
	}
	if (n > 0 && buf[0] != '\n')
		return 0;
	n = cg_read(parentfd, file, buf, sizeof(buf), err);
	if (n < 0) {
		if (!l->fake || (*err)->errnum != ENOENT)
			return -1;
		error_freep(err);
		return 0;
	}
	return cg_write(l, fd, file, buf, (size_t)n, err);
}

int cg_mkdir_path(const struct cg_layout *l, int rootfd, const char *rel, bool cpuset_copy,
		  bool *ret_created, struct scow_error **err)
{
	bool created = false;
	/* Usual case: the parents exist, one mkdir does it. */
	if (!cpuset_copy) {
		if (mkdirat(rootfd, rel, 0755) == 0)
			created = true;
		else if (errno != EEXIST && errno != ENOENT)
			return error_errno(err, "mkdir %s", rel);
		if (created || errno == EEXIST) {
			int fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0) {
				error_errno(err, "open %s", rel);
				if (created)
					unlinkat(rootfd, rel, AT_REMOVEDIR);
				return -1;
			}
			*ret_created = created;
			return fd;
		}
	}
	/* Walk down one component at a time. */
	char path[PATH_MAX];
	size_t len = strlen(rel);
	if (len >= sizeof(path))
		return error_set(err, ENAMETOOLONG, "%s: path too long", rel);
	memcpy(path, rel, len + 1);
	_cleanup_close_ int cur = -1;
	for (char *comp = path; comp;) {
		char *slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		int parent = cur >= 0 ? cur : rootfd;
		created = mkdirat(parent, comp, 0755) == 0;
		if (!created && errno != EEXIST)
			return error_errno(err, "mkdir %s", path);
		int fd = openat(parent, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			error_errno(err, "open %s", path);
			if (created && !slash)
				unlinkat(parent, comp, AT_REMOVEDIR);
			return -1;
		}
		if (cpuset_copy && (cpuset_copy_from(l, parent, fd, "cpuset.cpus", err) < 0 ||
				    cpuset_copy_from(l, parent, fd, "cpuset.mems", err) < 0)) {
			close(fd);
			if (created && !slash)
				unlinkat(parent, comp, AT_REMOVEDIR);
			return error_wrap(err, "%s", path);
		}
		if (cur >= 0)
			close(cur);
		cur = fd;
		if (slash)
			*slash = '/';
		comp = slash ? slash + 1 : NULL;
	}
	*ret_created = created;
	return steal_fd(&cur);
}

int cg_wait_empty(const struct cg_layout *l, int fd, long long timeout_ms, struct scow_error **err)
{
	if (l->fake)
		return 0;
	long long deadline = cg_now_ms() + timeout_ms;
	/* v2: cgroup.events "populated" changes are pollable. */
	_cleanup_close_ int ev = openat(fd, "cgroup.events", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	for (unsigned attempt = 0;; attempt++) {
		if (ev >= 0) {
			char buf[256];
			long long populated;
			if (lseek(ev, 0, SEEK_SET) < 0 || read_fd_into(ev, buf, sizeof(buf)) < 0)
				return error_errno(err, "read cgroup.events");
			if (!cg_keyed_value(buf, "populated", &populated))
				return error_set(err, EINVAL, "cgroup.events: no \"populated\"");
			if (populated == 0)
				return 0;
		} else {
			char buf[16];
			if (cg_read(fd, "cgroup.procs", buf, sizeof(buf), err) < 0) {
				if ((*err)->errnum != EFBIG)
					return -1;
				error_freep(err);
			} else if (buf[0] == '\0') {
				return 0;
			}
		}
		long long left = deadline - cg_now_ms();
		if (left <= 0)
			return error_set(err, ETIMEDOUT, "processes still in the cgroup after %lld ms",
					 timeout_ms);
		if (ev >= 0) {
			struct pollfd pfd = {.fd = ev, .events = POLLPRI};
			if (poll(&pfd, 1, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR)
				return error_errno(err, "poll cgroup.events");
		} else {
			cg_backoff_sleep(attempt);
		}
	}
}

int cg_kill_loop(struct cgroup *cg, int procs_fd,
		 int (*freeze)(struct cgroup *cg, bool frozen, struct scow_error **err),
		 struct scow_error **err)
{
	long long deadline = cg_now_ms() + CG_KILL_TIMEOUT_MS;
	for (unsigned attempt = 0;; attempt++) {
		_cleanup_free_ pid_t *pids = NULL;
		size_t n = 0;
		if (cg_procs(procs_fd, &pids, &n, err) < 0)
			return -1;
		if (n == 0)
			return 0;
		/* Frozen, the processes can neither fork nor exit: the list is
		 * complete and no pid in it can be recycled before the kill. */
		bool frozen = false;
		if (freeze) {
			_cleanup_error_ struct scow_error *ferr = NULL;
			frozen = freeze(cg, true, &ferr) == 0;
			if (!frozen)
				log_debug("cgroup %s: freeze before kill: %s", cg->path, ferr->msg);
			else {
				free(pids);
				pids = NULL;
				if (cg_procs(procs_fd, &pids, &n, err) < 0) {
					_cleanup_error_ struct scow_error *e2 = NULL;
					freeze(cg, false, &e2);
					return -1;
				}
			}
		}
		for (size_t i = 0; i < n; i++)
			if (kill(pids[i], SIGKILL) < 0 && errno != ESRCH)
				log_debug("cgroup %s: kill %d: %s", cg->path, (int)pids[i],
					  strerror(errno));
		if (frozen && freeze(cg, false, err) < 0)
			return error_wrap(err, "thaw after kill");
		if (cg->layout->fake)
			return 0;
		if (cg_now_ms() > deadline)
			return error_set(err, ETIMEDOUT, "processes still in the cgroup after %d ms",
					 CG_KILL_TIMEOUT_MS);
		cg_backoff_sleep(attempt);
	}
}

/* --- detection ------------------------------------------------------------ */

static int ctrl_from_name(const char *s, size_t len)
{
	if (len > 5 && strncmp(s, "name=", 5) == 0) {
		s += 5;
		len -= 5;
		if (len == 7 && strncmp(s, "systemd", 7) == 0)
			return CG_SYSTEMD;
		return -1;
	}
	for (int c = 0; c < CG_NCTRL; c++)
		if (strlen(cg_ctrl_names[c]) == len && strncmp(s, cg_ctrl_names[c], len) == 0)
			return c;
	return -1;
}

/* "cpu,cpuacct" -> bits; separators: ',' for v1 directory names, ' ' and
 * '\n' for v2 cgroup.controllers. */
unsigned cg_ctrls_parse(const char *s, const char *seps)
{
	unsigned bits = 0;
	while (*s) {
		if (*s == '+') /* a fake tree's subtree_control holds what was written */
			s++;
		size_t l = strcspn(s, seps);
		int c = l ? ctrl_from_name(s, l) : -1;
		if (c >= 0)
			bits |= CG_BIT(c);
		s += l;
		if (*s)
			s++;
	}
	return bits;
}

static int read_v2_controllers(int fd, unsigned *ret, struct scow_error **err)
{
	char buf[1024];
	if (cg_read(fd, "cgroup.controllers", buf, sizeof(buf), err) < 0)
		return -1;
	*ret = cg_ctrls_parse(buf, " \n") & ~CG_BIT(CG_SYSTEMD);
	return 0;
}

static bool is_regular_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

struct found {
	dev_t dev;
	ino_t ino;
};

static int add_hier(struct cg_layout *l, struct found *seen, int fd, const char *name, bool v2,
		    struct scow_error **err)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat %s", name);
	unsigned ctrls = 0;
	if (v2) {
		if (read_v2_controllers(fd, &ctrls, err) < 0)
			return error_wrap(err, "%s", name);
	} else {
		ctrls = cg_ctrls_parse(name, ",");
	}
	for (size_t i = 0; i < l->n; i++) {
		if (seen[i].dev == st.st_dev && seen[i].ino == st.st_ino) {
			/* "cpu" and "cpuacct" both linking to "cpu,cpuacct". */
			if (!v2)
				l->h[i].ctrls |= ctrls;
			return 0;
		}
	}
	if (!v2 && !(ctrls & CG_V1_WANTED))
		return 0;
	if (v2 && l->unified >= 0)
		return 0; /* a second cgroup2 mount point: the same hierarchy */
	if (l->n == CG_MAX_HIER)
		return error_set(err, E2BIG, "too many cgroup hierarchies");
	struct cg_hier *h = &l->h[l->n];
	h->ctrls = ctrls;
	h->v2 = v2;
	h->fd = -1;
	snprintf(h->name, sizeof(h->name), "%.63s", name);
	h->rootfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (h->rootfd < 0)
		return error_errno(err, "dup");
	seen[l->n].dev = st.st_dev;
	seen[l->n].ino = st.st_ino;
	if (v2)
		l->unified = (int)l->n;
	l->n++;
	return 0;
}

static void layout_init(struct cg_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->unified = -1;
	for (int c = 0; c < CG_NCTRL; c++)
		l->by_ctrl[c] = -1;
}

void cg_layout_release(struct cg_layout *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->h[i].fd >= 0)
			close(l->h[i].fd);
		if (l->h[i].rootfd >= 0 && !l->borrowed)
			close(l->h[i].rootfd);
	}
	l->n = 0;
}

/* Scans the entries of a v1/hybrid root. */
static int scan_root(struct cg_layout *l, int rfd, const char *root, bool allow_fake,
		     struct scow_error **err)
{
	int dfd = fcntl(rfd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return error_errno(err, "dup");
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return error_errno(err, "read %s", root);
	}
	struct found seen[CG_MAX_HIER];
	bool any_real = false;
	/* Two passes: real cgroup mounts first; plain directories count only
	 * when there is none (a fake tree). */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1 && (any_real || !allow_fake))
			break;
		if (pass == 1)
			l->fake = true;
		rewinddir(d);
		for (struct dirent *de; (errno = 0, de = readdir(d));) {
			if (de->d_name[0] == '.')
				continue;
			if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
				continue;
			_cleanup_close_ int fd =
				openat(rfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0)
				continue;
			bool v2;
			if (pass == 0) {
				struct statfs sf;
				if (fstatfs(fd, &sf) < 0)
					return error_errno(err, "statfs %s/%s", root, de->d_name);
				if ((unsigned long)sf.f_type == CGROUP_SUPER_MAGIC)
					v2 = false;
				else if ((unsigned long)sf.f_type == CGROUP2_SUPER_MAGIC)
					v2 = true;
				else
					continue;
				any_real = true;
			} else {
				v2 = is_regular_at(fd, "cgroup.controllers");
				if (v2 && strcmp(de->d_name, "unified") != 0)
					continue;
			}
			if (add_hier(l, seen, fd, de->d_name, v2, err) < 0)
				return -1;
		}
		if (errno)
			return error_errno(err, "read %s", root);
	}
	return 0;
}

int cg_layout_detect(const char *root_override, struct cg_layout *ret, struct scow_error **err)
{
	const char *root = root_override ? root_override : CGROUP_ROOT;
	layout_init(ret);
	_cleanup_close_ int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return error_errno(err, "open %s", root);
	struct statfs sf;
	if (fstatfs(rfd, &sf) < 0)
		return error_errno(err, "statfs %s", root);
	unsigned long magic = (unsigned long)sf.f_type;
	bool fake_v2 = root_override && magic != CGROUP_SUPER_MAGIC &&
		       magic != CGROUP2_SUPER_MAGIC && is_regular_at(rfd, "cgroup.controllers");
	if (magic == CGROUP2_SUPER_MAGIC || fake_v2) {
		struct cg_hier *h = &ret->h[0];
		h->v2 = true;
		h->fd = -1;
		h->rootfd = -1;
		snprintf(h->name, sizeof(h->name), "%s", "");
		ret->n = 1;
		ret->mode = CGROUP_V2;
		ret->fake = fake_v2;
		ret->unified = 0;
		if (read_v2_controllers(rfd, &h->ctrls, err) < 0) {
			cg_layout_release(ret);
			return error_wrap(err, "%s", root);
		}
		h->rootfd = steal_fd(&rfd);
		return 0;
	}
	if (magic == CGROUP_SUPER_MAGIC)
		return error_set(err, ENOTSUP, "%s is a single cgroup v1 hierarchy, not a cgroup tree",
				 root);
	if (scan_root(ret, rfd, root, root_override != NULL, err) < 0) {
		cg_layout_release(ret);
		return error_wrap(err, "detect cgroups");
	}
	bool v1 = false;
	for (size_t i = 0; i < ret->n; i++) {
		if (ret->h[i].v2)
			continue;
		v1 = true;
		for (int c = 0; c < CG_NCTRL; c++)
			if (ret->h[i].ctrls & CG_BIT(c))
				ret->by_ctrl[c] = (int)i;
	}
	if (v1)
		ret->mode = ret->unified >= 0 ? CGROUP_HYBRID : CGROUP_V1;
	else if (ret->unified >= 0)
		ret->mode = CGROUP_V2; /* only a cgroup2 mount below the root */
	else
		return error_set(err, ENOENT, "no cgroup hierarchy mounted at %s", root);
	return 0;
}

int cgroup_detect(const char *root_override, enum cgroup_mode *ret, struct scow_error **err)
{
	ERR_NONNULL(err);
	struct cg_layout l;
	if (cg_layout_detect(root_override, &l, err) < 0)
		return -1;
	*ret = l.mode;
	cg_layout_release(&l);
	return 0;
}

/* --- names ----------------------------------------------------------------- */

static int check_component(const char *s, size_t len, const char *what, struct scow_error **err)
{
	if (len == 0)
		return error_set(err, EINVAL, "%s: empty path component", what);
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return error_set(err, EINVAL, "%s: \"%.*s\" is not allowed", what, (int)len, s);
	if (len > NAME_MAX)
		return error_set(err, ENAMETOOLONG, "%s: component longer than %d bytes", what,
				 NAME_MAX);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return error_set(err, EINVAL, "%s: control character in name", what);
	return 0;
}

int cgroup_parent_normalize(const char *parent, char **ret, struct scow_error **err)
{
	if (!parent) {
		*ret = xstrdup(CGROUP_DEFAULT_PARENT);
		return 0;
	}
	if (!*parent)
		return error_set(err, EINVAL, "cgroup parent: empty");
	const char *p = parent[0] == '/' ? parent + 1 : parent;
	size_t len = strlen(p);
	if (len > PATH_MAX / 2)
		return error_set(err, ENAMETOOLONG, "cgroup parent: too long");
	if (len == 0) {
		*ret = xstrdup("");
		return 0;
	}
	for (const char *s = p;;) {
		size_t l = strcspn(s, "/");
		if (check_component(s, l, "cgroup parent", err) < 0)
			return -1;
		if (!s[l])
			break;
		s += l + 1;
	}
	*ret = xstrdup(p);
	return 0;
}

static int make_path(const char *parent, const char *id, char **ret, struct scow_error **err)
{
	if (!id || strchr(id, '/'))
		return error_set(err, EINVAL, "cgroup name \"%s\": not a single path component",
				 id ? id : "(null)");
	if (check_component(id, strlen(id), "cgroup name", err) < 0)
		return -1;
	_cleanup_free_ char *p = NULL;
	if (cgroup_parent_normalize(parent, &p, err) < 0)
		return -1;
	*ret = *p ? xasprintf("%s/%s", p, id) : xstrdup(id);
	return 0;
}

/* --- lifecycle ------------------------------------------------------------- */


static const struct cgroup_ops *ops_for(enum cgroup_mode m)
{
	switch (m) {
	case CGROUP_V2:
		return &cgroup_ops_v2;
	case CGROUP_HYBRID:
		return &cgroup_ops_hybrid;
	case CGROUP_V1:
		break;
	}
	return &cgroup_ops_v1;
}

static struct cgroup *cgroup_new(char *path, struct cg_layout *l)
{
	struct cgroup *cg = xcalloc(1, sizeof(*cg));
	cg->path = path;
	cg->layout = l;
	cg->mode = l->mode;
	cg->ops = ops_for(l->mode);
	return cg;
}

int cgroup_create(const char *root_override, const char *parent, const char *id,
		  struct cgroup **ret, struct scow_error **err)
{
	ERR_NONNULL(err);
	_cleanup_free_ char *path = NULL;
	if (make_path(parent, id, &path, err) < 0)
		return -1;
	struct cg_layout *l = xmalloc(sizeof(*l));
	if (cg_layout_detect(root_override, l, err) < 0) {
		free(l);
		return error_wrap(err, "create cgroup %s", path);
	}
	_cleanup_cgroup_ struct cgroup *cg = cgroup_new(steal_ptr(&path), l);
	if (cg->ops->create(cg, err) < 0)
		return error_wrap(err, "create cgroup %s", cg->path);
	*ret = steal_ptr(&cg);
	return 0;
}

/* path of an existing cgroup, normalized; not the root. */
static int existing_path(const char *path, char **ret, struct scow_error **err)
{
	if (!path || !*path)
		return error_set(err, EINVAL, "cgroup path: empty");
	if (cgroup_parent_normalize(path, ret, err) < 0)
		return error_wrap(err, "open cgroup");
	if (!**ret)
		return error_set(err, EINVAL, "cgroup path: \"%s\" is the root", path);
	return 0;
}

/* Opens cg's directory in each hierarchy (want: only the v1 ones with
 * those controllers, and v2 only on a pure v2 host; 0: all of them).
 * ENOENT when it exists in none. */
static int open_dirs(struct cgroup *cg, unsigned want, struct scow_error **err)
{
	struct cg_layout *l = cg->layout;
	size_t found = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct cg_hier *h = &l->h[i];
		if (want && (h->v2 ? l->mode != CGROUP_V2 : !(h->ctrls & want)))
			continue;
		h->fd = openat(h->rootfd, cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (h->fd >= 0)
			found++;
		else if (errno != ENOENT)
			return error_errno(err, "open cgroup %s/%s", h->name, cg->path);
	}
	if (!found)
		return error_set(err, ENOENT, "cgroup %s: not found", cg->path);
	return 0;
}

int cgroup_open(const char *root_override, const char *path, struct cgroup **ret,
		struct scow_error **err)
{
	ERR_NONNULL(err);
	_cleanup_free_ char *norm = NULL;
	if (existing_path(path, &norm, err) < 0)
		return -1;
	struct cg_layout *l = xmalloc(sizeof(*l));
	if (cg_layout_detect(root_override, l, err) < 0) {
		free(l);
		return error_wrap(err, "open cgroup %s", norm);
	}
	_cleanup_cgroup_ struct cgroup *cg = cgroup_new(steal_ptr(&norm), l);
	if (open_dirs(cg, 0, err) < 0)
		return -1;
	*ret = steal_ptr(&cg);
	return 0;
}

struct cgroup_roots {
	struct cg_layout l;
};

int cgroup_roots_open(const char *root_override, struct cgroup_roots **ret,
		      struct scow_error **err)
{
	ERR_NONNULL(err);
	struct cgroup_roots *r = xmalloc(sizeof(*r));
	if (cg_layout_detect(root_override, &r->l, err) < 0) {
		free(r);
		return -1;
	}
	*ret = r;
	return 0;
}

void cgroup_roots_free(struct cgroup_roots *r)
{
	if (!r)
		return;
	cg_layout_release(&r->l);
	free(r);
}

int cgroup_open_stats(struct cgroup_roots *r, const char *path, struct cgroup **ret,
		      struct scow_error **err)
{
	ERR_NONNULL(err);
	_cleanup_free_ char *norm = NULL;
	if (existing_path(path, &norm, err) < 0)
		return -1;
	struct cg_layout *l = xmalloc(sizeof(*l));
	*l = r->l;
	l->borrowed = true;
	for (size_t i = 0; i < l->n; i++)
		l->h[i].fd = -1, l->h[i].created = false;
	_cleanup_cgroup_ struct cgroup *cg = cgroup_new(steal_ptr(&norm), l);
	/* Only the directories cgroup_stats reads. */
	if (open_dirs(cg, CG_BIT(CG_CPUACCT) | CG_BIT(CG_MEMORY) | CG_BIT(CG_BLKIO) | CG_BIT(CG_PIDS),
		      err) < 0)
		return -1;
	*ret = steal_ptr(&cg);
	return 0;
}

int cgroup_attach(struct cgroup *cg, pid_t pid, struct scow_error **err)
{
	ERR_NONNULL(err);
	if (pid <= 0)
		return error_set(err, EINVAL, "attach to cgroup %s: bad pid %d", cg->path, (int)pid);
	if (cg->ops->attach(cg, pid, err) < 0)
		return error_wrap(err, "attach %d to cgroup %s", (int)pid, cg->path);
	return 0;
}

static int check_rule(const struct cgroup_device_rule *r, struct scow_error **err)
{
	if (r->type != 'a' && r->type != 'b' && r->type != 'c')
		return error_set(err, EINVAL, "device rule: type must be a, b or c");
	if (r->major < -1 || r->major > 0xfff || r->minor < -1 || r->minor > 0xfffff)
		return error_set(err, EINVAL, "device rule: bad major/minor %ld:%ld", r->major,
				 r->minor);
	size_t n = strnlen(r->access, sizeof(r->access));
	if (n == 0 || n == sizeof(r->access))
		return error_set(err, EINVAL, "device rule: access must be a subset of \"rwm\"");
	for (size_t i = 0; i < n; i++)
		if (!strchr("rwm", r->access[i]) || memchr(r->access, r->access[i], i))
			return error_set(err, EINVAL,
					 "device rule: access must be a subset of \"rwm\"");
	return 0;
}

int cgroup_set_devices(struct cgroup *cg, bool privileged, const struct cgroup_device_rule *extra,
		       size_t n, struct scow_error **err)
{
	ERR_NONNULL(err);
	if (n > 4096)
		return error_set(err, E2BIG, "too many device rules");
	for (size_t i = 0; i < n; i++)
		if (check_rule(&extra[i], err) < 0)
			return -1;
	size_t total = cgroup_n_default_device_rules + n;
	_cleanup_free_ struct cgroup_device_rule *all = xcalloc(total, sizeof(*all));
	memcpy(all, cgroup_default_device_rules, sizeof(cgroup_default_device_rules));
	if (n)
		memcpy(all + cgroup_n_default_device_rules, extra, n * sizeof(*extra));
	if (cg->ops->set_devices(cg, privileged, all, total, err) < 0)
		return error_wrap(err, "cgroup %s: device rules", cg->path);
	return 0;
}

void cgroup_limits_init(struct cgroup_limits *l)
{
	l->memory = l->memory_swap = l->memory_reservation = CGROUP_UNSET;
	l->cpu_shares = l->cpu_quota = l->cpu_period = CGROUP_UNSET;
	l->pids_max = l->blkio_weight = CGROUP_UNSET;
	l->cpuset_cpus = l->cpuset_mems = NULL;
	l->oom_kill_disable = -1;
	l->throttle = NULL;
	l->n_throttle = 0;
}

static int check_range(const char *what, int64_t v, int64_t min, int64_t max, bool allow_max,
		       struct scow_error **err)
{
	if (v == CGROUP_UNSET || (allow_max && v == CGROUP_MAX))
		return 0;
	if (v < min || v > max)
		return error_set(err, EINVAL, "%s: %lld is out of range [%lld, %lld]", what,
				 (long long)v, (long long)min, (long long)max);
	return 0;
}

/* N or N-M, comma separated; indexes of at most 5 digits (no 2^63). */
static bool cpuset_list_ok(const char *p)
{
	const char *digits = "0123456789";
	size_t len = strlen(p);
	if (len == 0 || len > 1024)
		return false;
	for (;;) {
		size_t a = strspn(p, digits);
		if (a == 0 || a > 5)
			return false;
		p += a;
		if (*p == '-') {
			size_t b = strspn(++p, digits);
			if (b == 0 || b > 5)
				return false;
			p += b;
		}
		if (!*p)
			return true;
		if (*p++ != ',')
			return false;
	}
}

static int check_cpuset(const char *what, const char *s, struct scow_error **err)
{
	if (s && !cpuset_list_ok(s))
		return error_set(err, EINVAL, "%s: \"%s\" is not a list like 0-3,5", what, s);
	return 0;
}

static int check_limits(const struct cgroup_limits *l, struct scow_error **err)
{
	const int64_t big = INT64_MAX / 2;
	if (check_range("memory", l->memory, 0, big, true, err) < 0 ||
	    check_range("memory-swap", l->memory_swap, 0, big, true, err) < 0 ||
	    check_range("memory-reservation", l->memory_reservation, 0, big, true, err) < 0 ||
	    check_range("cpu-shares", l->cpu_shares, 2, 262144, false, err) < 0 ||
	    check_range("cpu-quota", l->cpu_quota, 1000, big, true, err) < 0 ||
	    check_range("cpu-period", l->cpu_period, 1000, 1000000, false, err) < 0 ||
	    check_range("pids-limit", l->pids_max, 1, big, true, err) < 0 ||
	    check_range("blkio-weight", l->blkio_weight, 10, 1000, false, err) < 0 ||
	    check_cpuset("cpuset-cpus", l->cpuset_cpus, err) < 0 ||
	    check_cpuset("cpuset-mems", l->cpuset_mems, err) < 0)
		return -1;
	if (l->oom_kill_disable < -1 || l->oom_kill_disable > 1)
		return error_set(err, EINVAL, "oom-kill-disable: must be 0 or 1");
	if (l->n_throttle > 4096)
		return error_set(err, E2BIG, "too many device throttles");
	for (size_t i = 0; i < l->n_throttle; i++) {
		const struct cgroup_throttle *t = &l->throttle[i];
		if (t->kind < CG_READ_BPS || t->kind > CG_WRITE_IOPS || t->major < 0 ||
		    t->major > 0xfff || t->minor < 0 || t->minor > 0xfffff ||
		    t->rate > (uint64_t)INT64_MAX)
			return error_set(err, EINVAL, "device throttle %ld:%ld: bad value",
					 t->major, t->minor);
	}
	if (l->memory_swap != CGROUP_UNSET) {
		if (l->memory == CGROUP_UNSET)
			return error_set(err, EINVAL, "memory-swap needs a memory limit");
		if (l->memory_swap != CGROUP_MAX &&
		    (l->memory == CGROUP_MAX || l->memory_swap < l->memory))
			return error_set(err, EINVAL,
					 "memory-swap must be at least the memory limit");
	}
	return 0;
}

int cgroup_set_limits(struct cgroup *cg, const struct cgroup_limits *l, struct scow_error **err)
{
	ERR_NONNULL(err);
	if (check_limits(l, err) < 0 || cg->ops->set_limits(cg, l, err) < 0)
		return error_wrap(err, "cgroup %s: limits", cg->path);
	return 0;
}

int cgroup_oom_killed(struct cgroup *cg, bool *ret, struct scow_error **err)
{
	ERR_NONNULL(err);
	if (cg->ops->oom_killed(cg, ret, err) < 0)
		return error_wrap(err, "cgroup %s: OOM state", cg->path);
	return 0;
}

int cgroup_stats(struct cgroup *cg, unsigned what, struct cgroup_stats *ret,
		 struct scow_error **err)
{
	ERR_NONNULL(err);
	memset(ret, 0, sizeof(*ret));
	if (cg->ops->stats(cg, what, ret, err) < 0)
		return error_wrap(err, "cgroup %s: stats", cg->path);
	return 0;
}

int cgroup_pids(struct cgroup *cg, pid_t **ret, size_t *ret_n, struct scow_error **err)
{
	ERR_NONNULL(err);
	if (cg->ops->pids(cg, ret, ret_n, err) < 0)
		return error_wrap(err, "cgroup %s: list processes", cg->path);
	return 0;
}

int cgroup_kill_all(struct cgroup *cg, struct scow_error **err)
{
	ERR_NONNULL(err);
	if (cg->ops->kill_all(cg, err) < 0)
		return error_wrap(err, "cgroup %s: kill processes", cg->path);
	return 0;
}

int cgroup_freeze(struct cgroup *cg, bool frozen, struct scow_error **err)
{
	ERR_NONNULL(err);
	if (cg->ops->freeze(cg, frozen, err) < 0)
		return error_wrap(err, "cgroup %s: %s", cg->path, frozen ? "freeze" : "thaw");
	return 0;
}

/* rmdir, or rm -rf in a fake tree (plain directories holding plain files).
 * Returns 0 or an errno value; a missing directory is 0. */
static int remove_dir(const struct cg_layout *l, int rootfd, const char *path)
{
	if (l->fake) {
		_cleanup_error_ struct scow_error *e = NULL;
		return fs_rm_rf_at(rootfd, path, &e) < 0 ? e->errnum : 0;
	}
	if (unlinkat(rootfd, path, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return errno;
	return 0;
}

int cgroup_destroy(struct cgroup *cg, struct scow_error **err)
{
	int ret = 0;
	for (size_t i = 0; i < cg->layout->n; i++) {
		struct cg_hier *h = &cg->layout->h[i];
		int e = remove_dir(cg->layout, h->rootfd, cg->path);
		if (e) {
			if (ret == 0) {
				errno = e;
				error_errno(err, "remove cgroup %s%s%s", h->name, *h->name ? "/" : "",
					    cg->path);
			}
			ret = -1;
			continue;
		}
		if (h->fd >= 0) {
			close(h->fd);
			h->fd = -1;
		}
		h->created = false;
	}
	return ret;
}

void cg_undo_create(struct cgroup *cg)
{
	for (size_t i = 0; i < cg->layout->n; i++) {
		struct cg_hier *h = &cg->layout->h[i];
		if (h->fd >= 0) {
			close(h->fd);
			h->fd = -1;
		}
		if (h->created) {
			int e = remove_dir(cg->layout, h->rootfd, cg->path);
			if (e)
				log_warn("cgroup %s: undo %s: %s", cg->path, h->name, strerror(e));
			h->created = false;
		}
	}
}

int cg_ctrl_fd(const struct cgroup *cg, enum cg_ctrl c)
{
	int i = cg->layout->by_ctrl[c];
	return i >= 0 ? cg->layout->h[i].fd : -1;
}

int cg_procs_fd(const struct cgroup *cg)
{
	int fd = cg_ctrl_fd(cg, CG_PIDS);
	if (fd < 0)
		fd = cg_ctrl_fd(cg, CG_MEMORY);
	for (size_t i = 0; fd < 0 && i < cg->layout->n; i++)
		fd = cg->layout->h[i].fd;
	return fd;
}

void cgroup_free(struct cgroup *cg)
{
	if (!cg)
		return;
	if (cg->layout) {
		cg_layout_release(cg->layout);
		free(cg->layout);
	}
	free(cg->path);
	free(cg);
}
