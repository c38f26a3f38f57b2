#include "ns/rootfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "layers/view.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/fscopy.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

const char *const rootfs_masked_paths[] = {
	"/proc/acpi",	       "/proc/asound",	  "/proc/interrupts", "/proc/kcore",
	"/proc/keys",	       "/proc/latency_stats", "/proc/sched_debug", "/proc/scsi",
	"/proc/timer_list",    "/proc/timer_stats",   "/sys/devices/virtual/powercap",
	"/sys/firmware",       NULL,
};

const char *const rootfs_readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const struct {
	const char *name;
	unsigned major, minor;
} default_devices[] = {
	{"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9},
	{"tty", 5, 0},
};

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)

/* ---- primitives ---------------------------------------------------------- */

static int attach(int mnt_fd, int target_fd, const char *what, struct scow_error **err)
{
	if (move_mount(mnt_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0)
		return error_errno(err, "mount %s", what);
	return 0;
}

static int set_attr(int mnt_fd, bool recursive, unsigned long long set, const char *what,
		    struct scow_error **err)
{
	struct mount_attr a = {.attr_set = set};
	if (mount_setattr(mnt_fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a,
			  sizeof(a)) < 0)
		return error_errno(err, "set attributes of %s", what);
	return 0;
}

/* A new file system instance, detached: fsopen + options + fsmount. */
static int new_fs(const char *type, const char *source, const char *options, unsigned attrs,
		  const char *what, struct scow_error **err)
{
	_cleanup_close_ int fs = fsopen(type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return error_errno(err, "mount %s: fsopen %s", what, type);
	if (source && fsconfig(fs, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		return error_errno(err, "mount %s: source", what);
	_cleanup_strv_ char **opts = options && *options ? strv_split(options, ',') : NULL;
	for (size_t i = 0; opts && opts[i]; i++) {
		char *eq = strchr(opts[i], '=');
		int r;
		if (eq) {
			*eq = '\0';
			r = fsconfig(fs, FSCONFIG_SET_STRING, opts[i], eq + 1, 0);
		} else {
			r = fsconfig(fs, FSCONFIG_SET_FLAG, opts[i], NULL, 0);
		}
		if (r < 0)
			return error_errno(err, "mount %s: option %s", what, opts[i]);
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return error_errno(err, "mount %s: create %s", what, type);
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs);
	if (mnt < 0)
		return error_errno(err, "mount %s", what);
	return mnt;
}

static int mount_fs_at(int target_fd, const char *type, const char *options, unsigned attrs,
		       const char *what, struct scow_error **err)
{
	_cleanup_close_ int mnt = new_fs(type, type, options, attrs, what, err);
	if (mnt < 0)
		return -1;
	return attach(mnt, target_fd, what, err);
}

/* Opens path inside the root (O_PATH), creating what is missing: parents as
 * 0755 directories, the last as a directory or an empty file. */
static int open_in_root(int root, const char *path, bool want_dir, bool create,
			struct scow_error **err)
{
	_cleanup_free_ char *clean = fs_path_clean(path);
	const char *rel = clean[0] == '/' ? clean + 1 : clean;
	if (!*rel)
		return fcntl(root, F_DUPFD_CLOEXEC, 3);
	int fd = fs_openat2(root, rel, O_PATH, IN_ROOT);
	if (fd >= 0 || errno != ENOENT || !create) {
		if (fd < 0)
			return error_errno(err, "open %s in the container", path);
		return fd;
	}
	/* Create component by component, each relative to its parent's fd. */
	_cleanup_close_ int dir = fcntl(root, F_DUPFD_CLOEXEC, 3);
	_cleanup_strv_ char **comps = strv_split(rel, '/');
	size_t n = strv_len(comps);
	_cleanup_sb_ struct strbuf done = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		bool last = i + 1 == n;
		sb_printf(&done, "%s%s", done.len ? "/" : "", comps[i]);
		int next = fs_openat2(root, sb_str(&done), O_PATH, IN_ROOT);
		if (next < 0 && errno == ENOENT) {
			int r = !last || want_dir ? mkdirat(dir, comps[i], 0755) : 0;
			if (last && !want_dir) {
				int f = openat(dir, comps[i],
					       O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
				r = f < 0 ? -1 : close(f);
			}
			if (r < 0 && errno != EEXIST)
				return error_errno(err, "create %s in the container", path);
			next = fs_openat2(root, sb_str(&done), O_PATH, IN_ROOT);
		}
		if (next < 0)
			return error_errno(err, "open %s in the container", path);
		close(dir);
		dir = next;
	}
	return steal_fd(&dir);
}

static bool fd_is_dir(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The target for a mount of a directory (want_dir) or a file. */
static int mount_target(int root, const char *path, bool want_dir, struct scow_error **err)
{
	int fd = open_in_root(root, path, want_dir, true, err);
	if (fd < 0)
		return -1;
	if (fd_is_dir(fd) != want_dir) {
		close(fd);
		return error_set(err, ENOTDIR, "mount target %s: %s", path,
				 want_dir ? "not a directory" : "is a directory");
	}
	return fd;
}

/* System mount points must be real directories: an image whose /proc or
 * /dev is a symlink is refused rather than followed. */
static int system_dir(int root, const char *rel, struct scow_error **err)
{
	int fd = fs_openat2(root, rel, O_PATH | O_NOFOLLOW, IN_ROOT | RESOLVE_NO_SYMLINKS);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(root, rel, 0755) < 0 && errno != EEXIST)
			return error_errno(err, "create /%s", rel);
		fd = fs_openat2(root, rel, O_PATH | O_NOFOLLOW, IN_ROOT | RESOLVE_NO_SYMLINKS);
	}
	if (fd < 0)
		return error_errno(err, "rootfs: /%s%s", rel,
				   errno == ELOOP ? " is a symlink, which is refused" : "");
	if (!fd_is_dir(fd)) {
		close(fd);
		return error_set(err, ENOTDIR, "rootfs: /%s is not a directory", rel);
	}
	return fd;
}

/* ---- the overlay root ----------------------------------------------------- */

static int mount_overlay(const struct spawn_spec *spec, int *ret_mnt, struct scow_error **err)
{
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return error_errno(err, "overlay: fsopen");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0 ||
	    layers_overlay_lowers(fs, spec->lowerdirs, err) < 0)
		return *err ? -1 : error_errno(err, "overlay");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", spec->upperdir, 0) < 0 ||
	    fsconfig(fs, FSCONFIG_SET_STRING, "workdir", spec->workdir, 0) < 0)
		return error_errno(err, "overlay: upper/work dirs");
	if (spec->overlay_userxattr && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		return error_errno(err, "overlay: userxattr");
	if (spec->overlay_volatile && fsconfig(fs, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
		return error_errno(err, "overlay: volatile");
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return error_errno(err, "overlay: mount");
	int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
	if (mnt < 0)
		return error_errno(err, "overlay: fsmount");
	_cleanup_close_ int target = open(spec->merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (target < 0 || attach(mnt, target, "the root file system", err) < 0) {
		if (target < 0)
			error_errno(err, "open %s", spec->merged);
		close(mnt);
		return -1;
	}
	*ret_mnt = mnt;
	int root = open(spec->merged, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return error_errno(err, "open the root file system");
	return root;
}

/* ---- /dev ------------------------------------------------------------------- */

static int make_node(int dir, const char *name, char type, unsigned major, unsigned minor,
		     mode_t mode, bool rootless, const char *host_path, struct scow_error **err)
{
	if (!rootless) {
		mode_t fmt = type == 'b' ? S_IFBLK : S_IFCHR;
		unlinkat(dir, name, 0);
		if (mknodat(dir, name, fmt | (mode & 07777), makedev(major, minor)) < 0)
			return error_errno(err, "create device /dev/%s", name);
		if (fchmodat(dir, name, mode & 07777, 0) < 0)
			return error_errno(err, "chmod /dev/%s", name);
		return 0;
	}
	/* Without CAP_MKNOD: bind the host's node onto an empty file. */
	int f = openat(dir, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (f < 0)
		return error_errno(err, "create /dev/%s", name);
	close(f);
	_cleanup_close_ int target = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int src = open_tree(AT_FDCWD, host_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (target < 0 || src < 0)
		return error_errno(err, "bind %s", host_path);
	return attach(src, target, host_path, err);
}

/* Privileged containers see the host's devices (as nodes, not a bind of
 * /dev, so that the container's /dev stays its own tmpfs). */
static int copy_host_devices(int dev, const char *host_dir, const char *rel, bool rootless,
			     struct scow_error **err)
{
	_cleanup_closedir_ DIR *d = opendir(host_dir);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "pts") == 0 ||
		    strcmp(de->d_name, "shm") == 0 || strcmp(de->d_name, "mqueue") == 0 ||
		    strcmp(de->d_name, "console") == 0 || strcmp(de->d_name, "ptmx") == 0)
			continue;
		_cleanup_free_ char *hp = xasprintf("%s/%s", host_dir, de->d_name);
		_cleanup_free_ char *name = xasprintf("%s%s%s", rel, *rel ? "/" : "", de->d_name);
		struct stat st;
		if (lstat(hp, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode) && !*rel) {
			mkdirat(dev, name, 0755);
			if (copy_host_devices(dev, hp, name, rootless, err) < 0)
				return -1;
		} else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
			if (make_node(dev, name, S_ISBLK(st.st_mode) ? 'b' : 'c', major(st.st_rdev),
				      minor(st.st_rdev), st.st_mode, rootless, hp, err) < 0)
				return -1;
		}
	}
	return 0;
}

static int setup_dev(const struct spawn_spec *spec, int root, struct scow_error **err)
{
	_cleanup_close_ int target = system_dir(root, "dev", err);
	if (target < 0)
		return -1;
	_cleanup_close_ int mnt = new_fs("tmpfs", "tmpfs", "mode=755,size=65536k", MOUNT_ATTR_NOSUID,
					 "/dev", err);
	if (mnt < 0 || attach(mnt, target, "/dev", err) < 0)
		return -1;
	_cleanup_close_ int dev = fs_openat2(root, "dev", O_RDONLY | O_DIRECTORY, IN_ROOT);
	if (dev < 0)
		return error_errno(err, "open /dev");
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		char host[32];
		snprintf(host, sizeof(host), "/dev/%s", default_devices[i].name);
		if (make_node(dev, default_devices[i].name, 'c', default_devices[i].major,
			      default_devices[i].minor, 0666, spec->rootless, host, err) < 0)
			return -1;
	}
	if (spec->privileged && copy_host_devices(dev, "/dev", "", spec->rootless, err) < 0)
		return -1;
	static const char *const links[][2] = {
		{"/proc/self/fd", "fd"},      {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
		{"pts/ptmx", "ptmx"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			return error_errno(err, "create /dev/%s", links[i][1]);
	static const struct {
		const char *dir, *type, *opts;
		unsigned attrs;
	} subs[] = {
		{"pts", "devpts", "newinstance,ptmxmode=0666,mode=0620,gid=5",
		 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC},
		{"shm", "tmpfs", "mode=1777,size=67108864",
		 MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC},
		{"mqueue", "mqueue", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC},
	};
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		if (mkdirat(dev, subs[i].dir, 0755) < 0 && errno != EEXIST)
			return error_errno(err, "create /dev/%s", subs[i].dir);
		_cleanup_close_ int t = openat(dev, subs[i].dir, O_PATH | O_DIRECTORY | O_NOFOLLOW |
								  O_CLOEXEC);
		char what[32];
		snprintf(what, sizeof(what), "/dev/%s", subs[i].dir);
		if (t < 0 || mount_fs_at(t, subs[i].type, subs[i].opts, subs[i].attrs, what, err) < 0)
			return t < 0 ? error_errno(err, "open %s", what) : -1;
	}
	if (spec->tty) {
		int f = openat(dev, "console", O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (f < 0)
			return error_errno(err, "create /dev/console");
		close(f);
	}
	return 0;
}

/* ---- /proc, /sys, /sys/fs/cgroup ----------------------------------------------- */

static int setup_cgroupfs(const struct spawn_spec *spec, int root, struct scow_error **err)
{
	_cleanup_close_ int target = fs_openat2(root, "sys/fs/cgroup", O_PATH | O_DIRECTORY, IN_ROOT);
	if (target < 0)
		return errno == ENOENT ? 0 : error_errno(err, "open /sys/fs/cgroup");
	unsigned ro = spec->privileged ? 0 : MOUNT_ATTR_RDONLY;
	unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	if (spec->cgroup_v2)
		return mount_fs_at(target, "cgroup2", NULL, attrs | ro, "/sys/fs/cgroup", err);
	/* v1: a tmpfs holding, per controller, the container's own cgroup. */
	_cleanup_close_ int mnt = new_fs("tmpfs", "tmpfs", "mode=755", attrs, "/sys/fs/cgroup", err);
	if (mnt < 0 || attach(mnt, target, "/sys/fs/cgroup", err) < 0)
		return -1;
	_cleanup_close_ int dir = fs_openat2(root, "sys/fs/cgroup", O_RDONLY | O_DIRECTORY, IN_ROOT);
	if (dir < 0)
		return error_errno(err, "open /sys/fs/cgroup");
	for (size_t i = 0; spec->cgroup_dirs && spec->cgroup_dirs[i]; i++) {
		const char *entry = spec->cgroup_dirs[i];
		size_t n = strcspn(entry, "=>");
		if (!entry[n])
			continue;
		_cleanup_free_ char *name = xstrndup(entry, n);
		if (entry[n] == '>') {
			if (symlinkat(entry + n + 1, dir, name) < 0 && errno != EEXIST)
				return error_errno(err, "create /sys/fs/cgroup/%s", name);
			continue;
		}
		if (mkdirat(dir, name, 0755) < 0 && errno != EEXIST)
			return error_errno(err, "create /sys/fs/cgroup/%s", name);
		_cleanup_close_ int t = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int src = open_tree(AT_FDCWD, entry + n + 1,
						    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (t < 0 || src < 0)
			return error_errno(err, "bind cgroup %s", name);
		if (set_attr(src, false, attrs | ro, name, err) < 0 || attach(src, t, name, err) < 0)
			return -1;
	}
	return ro ? set_attr(mnt, false, MOUNT_ATTR_RDONLY, "/sys/fs/cgroup", err) : 0;
}

static int setup_proc_sys(const struct spawn_spec *spec, int root, struct scow_error **err)
{
	unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
	_cleanup_close_ int proc = system_dir(root, "proc", err);
	if (proc < 0 || mount_fs_at(proc, "proc", NULL, attrs, "/proc", err) < 0)
		return -1;
	_cleanup_close_ int sys = system_dir(root, "sys", err);
	if (sys < 0)
		return -1;
	unsigned ro = spec->privileged ? 0 : MOUNT_ATTR_RDONLY;
	int r = mount_fs_at(sys, "sysfs", NULL, attrs | ro, "/sys", err);
	if (r < 0 && spec->net == NET_HOST) {
		/* sysfs refuses a new instance outside the network namespace
		 * that owns it (rootless, host network): bind the host's. */
		_cleanup_close_ int src =
			open_tree(AT_FDCWD, "/sys", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		error_freep(err);
		r = src < 0 ? error_errno(err, "bind /sys")
			    : set_attr(src, true, ro, "/sys", err) < 0 ? -1 : attach(src, sys, "/sys", err);
	}
	if (r < 0)
		return -1;
	return setup_cgroupfs(spec, root, err);
}

/* Namespaced sysctls, written through the container's own /proc before
 * /proc/sys turns read-only. */
static int write_sysctls(const struct spawn_spec *spec, int root, struct scow_error **err)
{
	for (size_t i = 0; spec->sysctl && spec->sysctl[i]; i++) {
		const char *kv = spec->sysctl[i];
		const char *eq = strchr(kv, '=');
		_cleanup_free_ char *path = xasprintf("proc/sys/%.*s", (int)(eq - kv), kv);
		for (char *p = path + 9; *p; p++)
			if (*p == '.')
				*p = '/';
		_cleanup_close_ int fd =
			fs_openat2(root, path, O_WRONLY | O_TRUNC, IN_ROOT | RESOLVE_NO_SYMLINKS);
		if (fd < 0 || fs_write_all(fd, eq + 1, strlen(eq + 1)) < 0)
			return error_errno(err, "sysctl %.*s", (int)(eq - kv), kv);
	}
	return 0;
}

/* ---- mounts the user asked for, /etc files, devices ---------------------------- */

/* Docker's copy-up: an empty volume mounted over a directory of the image
 * starts as a copy of it, owner and mode included. Both sides are walked
 * by fd without following symlinks (the image's tree is untrusted). */
static int copy_up(int target, const char *source, const char *what, struct scow_error **err)
{
	_cleanup_close_ int from = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_close_ int to = open(source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (from < 0 || to < 0)
		return error_errno(err, "copy the image's %s into its volume", what);
	if (!fs_dir_is_empty(to) || fs_dir_is_empty(from))
		return 0;
	struct stat st;
	const struct fs_copy how = {.flags = FS_COPY_OWNER | FS_COPY_TIMES};
	if (fstat(from, &st) < 0 || fchown(to, st.st_uid, st.st_gid) < 0 ||
	    fchmod(to, st.st_mode & 07777) < 0)
		return error_errno(err, "copy the image's %s into its volume", what);
	if (fs_copy_contents(from, to, &how, err) < 0)
		return error_wrap(err, "copy the image's %s into its volume", what);
	return 0;
}

static int bind_mount(int root, const struct mount_spec *m, struct scow_error **err)
{
	unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0);
	_cleanup_close_ int target = -1;
	if (m->copy_up) {
		/* Before the source tree is cloned: the copy must be in it. */
		if ((target = mount_target(root, m->target, true, err)) < 0 ||
		    copy_up(target, m->source, m->target, err) < 0)
			return -1;
	}
	_cleanup_close_ int src = open_tree(AT_FDCWD, m->source, flags);
	if (src < 0)
		return error_errno(err, "bind mount source %s", m->source);
	if (target < 0 && (target = mount_target(root, m->target, fd_is_dir(src), err)) < 0)
		return -1;
	if (m->readonly && set_attr(src, m->recursive, MOUNT_ATTR_RDONLY, m->target, err) < 0)
		return -1;
	if (m->propagation) {
		struct mount_attr a = {.propagation = m->propagation & ~(unsigned)MS_REC};
		if (mount_setattr(src, "", AT_EMPTY_PATH | (m->propagation & MS_REC ? AT_RECURSIVE : 0),
				  &a, sizeof(a)) < 0)
			return error_errno(err, "propagation of %s", m->target);
	}
	return attach(src, target, m->target, err);
}

static unsigned fs_attrs(unsigned long ms_flags)
{
	unsigned a = 0;
	if (ms_flags & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (ms_flags & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (ms_flags & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (ms_flags & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	return a;
}

static int user_mounts(const struct spawn_spec *spec, int root, struct scow_error **err)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct mount_spec *m = &spec->mounts[i];
		if (m->kind == MOUNT_BIND) {
			if (bind_mount(root, m, err) < 0)
				return -1;
			continue;
		}
		_cleanup_close_ int t = mount_target(root, m->target, true, err);
		unsigned attrs = fs_attrs(m->fs_flags) | (m->readonly ? MOUNT_ATTR_RDONLY : 0);
		if (t < 0)
			return -1;
		_cleanup_close_ int mnt = new_fs(m->fstype, m->source ? m->source : m->fstype,
						 m->fs_options, attrs, m->target, err);
		if (mnt < 0 || attach(mnt, t, m->target, err) < 0)
			return -1;
	}
	return 0;
}

static bool user_mounted(const struct spawn_spec *spec, const char *target)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		_cleanup_free_ char *t = fs_path_clean(spec->mounts[i].target);
		if (strcmp(t, target) == 0)
			return true;
	}
	return false;
}

static int etc_files(const struct spawn_spec *spec, int root, struct scow_error **err)
{
	const struct {
		const char *target, *source;
	} files[] = {
		{"/etc/hosts", spec->hosts_file},
		{"/etc/resolv.conf", spec->resolv_file},
		{"/etc/hostname", spec->hostname_file},
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if (!files[i].source || user_mounted(spec, files[i].target))
			continue;
		struct mount_spec m = {.kind = MOUNT_BIND, .source = (char *)files[i].source,
				       .target = (char *)files[i].target};
		if (bind_mount(root, &m, err) < 0)
			return -1;
	}
	return 0;
}

static int user_devices(const struct spawn_spec *spec, int root, struct scow_error **err)
{
	for (size_t i = 0; i < spec->n_devices; i++) {
		const struct device_spec *d = &spec->devices[i];
		_cleanup_free_ char *clean = fs_path_clean(d->path);
		const char *slash = strrchr(clean, '/');
		_cleanup_free_ char *parent = xstrndup(clean, (size_t)(slash - clean));
		_cleanup_close_ int pfd = open_in_root(root, *parent ? parent : "/", true, true, err);
		if (pfd < 0)
			return -1;
		_cleanup_close_ int dir = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return error_errno(err, "open %s", parent);
		if (make_node(dir, slash + 1, d->type, d->major, d->minor, d->mode, spec->rootless,
			      d->host_path, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- masked and read-only paths -------------------------------------------------- */

/* /dev/null of the container, checked to be the real char 1:3: a masking
 * bind of anything else would expose what it points to (CVE-2025-31133). */
static int open_dev_null(int root, struct scow_error **err)
{
	int fd = fs_openat2(root, "dev/null", O_PATH | O_NOFOLLOW, IN_ROOT | RESOLVE_NO_SYMLINKS);
	if (fd < 0)
		return error_errno(err, "open /dev/null");
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(fd);
		return error_set(err, EPERM, "/dev/null is not the null device (char 1:3): refusing "
					     "to mask with it");
	}
	return fd;
}

static int mask_paths(int root, struct scow_error **err)
{
	_cleanup_close_ int null = open_dev_null(root, err);
	if (null < 0)
		return -1;
	for (size_t i = 0; rootfs_masked_paths[i]; i++) {
		const char *p = rootfs_masked_paths[i];
		_cleanup_close_ int t = fs_openat2(root, p + 1, O_PATH | O_NOFOLLOW,
						   IN_ROOT | RESOLVE_NO_SYMLINKS);
		if (t < 0 && errno == ENOENT)
			continue; /* nothing there to hide */
		if (t < 0)
			return error_errno(err, "mask %s", p);
		if (fd_is_dir(t)) {
			if (mount_fs_at(t, "tmpfs", "size=0", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
								 MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
					p, err) < 0)
				return -1;
			continue;
		}
		_cleanup_close_ int src = open_tree(null, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
								 AT_EMPTY_PATH);
		if (src < 0 || attach(src, t, p, err) < 0)
			return src < 0 ? error_errno(err, "mask %s", p) : -1;
	}
	return 0;
}

static int readonly_paths(int root, struct scow_error **err)
{
	for (size_t i = 0; rootfs_readonly_paths[i]; i++) {
		const char *p = rootfs_readonly_paths[i];
		_cleanup_close_ int t = fs_openat2(root, p + 1, O_PATH | O_NOFOLLOW,
						   IN_ROOT | RESOLVE_NO_SYMLINKS);
		if (t < 0 && errno == ENOENT)
			continue;
		if (t < 0)
			return error_errno(err, "make %s read-only", p);
		_cleanup_close_ int src = open_tree(t, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
							      AT_EMPTY_PATH | AT_RECURSIVE);
		if (src < 0)
			return error_errno(err, "make %s read-only", p);
		if (set_attr(src, true, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
						MOUNT_ATTR_NOEXEC,
			     p, err) < 0 ||
		    attach(src, t, p, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- all together ------------------------------------------------------------------ */

static int pivot(int root, struct scow_error **err)
{
	if (fchdir(root) < 0)
		return error_errno(err, "chdir into the root file system");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return error_errno(err, "pivot_root");
	/* The old root is stacked under the new one: detach it. */
	if (umount2(".", MNT_DETACH) < 0)
		return error_errno(err, "detach the old root");
	if (chdir("/") < 0)
		return error_errno(err, "chdir /");
	return 0;
}

int rootfs_setup(const struct spawn_spec *spec, struct scow_error **err)
{
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return error_errno(err, "make mounts private");
	int overlay = -1;
	_cleanup_close_ int root = mount_overlay(spec, &overlay, err);
	_cleanup_close_ int overlay_mnt = overlay;
	if (root < 0)
		return -1;
	log_trace("child: overlay mounted");
	if (setup_proc_sys(spec, root, err) < 0 || setup_dev(spec, root, err) < 0 ||
	    user_mounts(spec, root, err) < 0 || etc_files(spec, root, err) < 0 ||
	    user_devices(spec, root, err) < 0 || write_sysctls(spec, root, err) < 0)
		return -1;
	log_trace("child: system mounts done");
	if (!spec->privileged && (mask_paths(root, err) < 0 || readonly_paths(root, err) < 0))
		return -1;
	if (spec->readonly_rootfs &&
	    set_attr(overlay_mnt, false, MOUNT_ATTR_RDONLY, "the root file system", err) < 0)
		return -1;
	log_trace("child: masks done");
	return pivot(root, err);
}
