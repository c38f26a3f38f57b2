/* The cgroup layer.
 *
 * Real hierarchies (root needed, otherwise those tests print a message and
 * pass): the host's /sys/fs/cgroup (v1 or hybrid here) under a unique parent
 * "scow-unit-<pid>", and a cgroup2 mounted in a private mount namespace of
 * this test process for the v2 driver (the same kernel hierarchy as the
 * host's unified one, under "scow-unit-<pid>-v2"). Each test's teardown kills
 * what is left in those parents and removes them; the group teardown unmounts.
 *
 * Fake trees (plain directories and files through root_override) check the
 * exact files and values each driver writes, on every run, whatever the host
 * has. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/internal.h"
#include "util/cleanup.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define HOST_ROOT "/sys/fs/cgroup"

static char parent_v1[64]; /* scow-unit-<pid> */
static char parent_v2[64]; /* scow-unit-<pid>-v2 */
static char v2_mnt[64];	   /* private cgroup2 mount, "" if none */
static char v2_saved_subtree[512];
static bool v2_saved_valid;

/* Temporary directories made by the tests; the teardown removes them. */
static char *tmpdirs[32];
static size_t n_tmpdirs;

/* Children started by the tests; the teardown kills what is left. */
static pid_t children[64];
static size_t n_children;

/* --- helpers --------------------------------------------------------------- */

static void msg_skip(const char *what, const char *why)
{
	print_message("[  SKIP    ] %s: %s (passing)\n", what, why);
}

static bool is_root(void)
{
	return geteuid() == 0;
}

static void track(pid_t p)
{
	assert_true(p > 0);
	assert_true(n_children < ARRAY_SIZE(children));
	children[n_children++] = p;
}

static void untrack(pid_t p)
{
	for (size_t i = 0; i < n_children; i++)
		if (children[i] == p)
			children[i] = children[--n_children];
}

/* Waits for p, which must end; returns the wait status. */
static int reap(pid_t p)
{
	int st = 0;
	assert_int_equal(waitpid(p, &st, 0), p);
	untrack(p);
	return st;
}

static int exit_now(void *arg)
{
	(void)arg;
	return 0;
}

/* A child that sleeps forever. */
static pid_t spawn_pauser(void)
{
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		for (;;)
			pause();
	}
	track(p);
	return p;
}

/* A child blocked until *go is written to; then runs fn and exits with its
 * result. */
static pid_t spawn_gated(int *go, int (*fn)(void *), void *arg)
{
	int pfd[2];
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	pid_t p = fork();
	assert_true(p >= 0);
	if (p == 0) {
		close(pfd[1]);
		char c;
		if (read(pfd[0], &c, 1) != 1)
			_exit(99);
		_exit(fn(arg));
	}
	close(pfd[0]);
	*go = pfd[1];
	track(p);
	return p;
}

static void release(int go)
{
	assert_int_equal(write(go, "x", 1), 1);
	close(go);
}

static char *read_file(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = xmalloc(65536);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, buf + len, 65535 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

static char *read_at(int dirfd, const char *name)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *buf = xmalloc(65536);
	size_t len = 0;
	ssize_t n;
	while ((n = read(fd, buf + len, 65535 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return buf;
}

static void assert_file_eq(const char *path, const char *want)
{
	_cleanup_free_ char *got = read_file(path);
	if (!got)
		fail_msg("%s: cannot read: %s", path, strerror(errno));
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", path, got, want);
}

static void write_file(const char *path, const char *s)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static bool write_at_quiet(int dirfd, const char *name, const char *s)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC);
	return fd >= 0 && write(fd, s, strlen(s)) == (ssize_t)strlen(s);
}

static bool path_exists(const char *p)
{
	struct stat st;
	return lstat(p, &st) == 0;
}

static bool pids_contain(struct cgroup *cg, pid_t want, size_t *ret_n)
{
	_cleanup_error_ struct scow_error *err = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	if (cgroup_pids(cg, &pids, &n, &err) < 0)
		fail_msg("cgroup_pids: %s", err->msg);
	if (ret_n)
		*ret_n = n;
	for (size_t i = 0; i < n; i++)
		if (pids[i] == want)
			return true;
	return false;
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

#define CHECK(call)                                                                                \
	do {                                                                                       \
		_cleanup_error_ struct scow_error *err_ = NULL;                                    \
		struct scow_error **cerr = &err_;                                                  \
		if ((call) < 0)                                                                    \
			fail_msg("%s: %s", #call, err_ ? err_->msg : "(no message)");              \
	} while (0)

/* --- teardown of real trees ------------------------------------------------- */

/* Thaws, kills what is inside, and removes dirfd/name depth first. Only ever
 * used on our own unique parents. */
static void nuke_dir(int dirfd, const char *name)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	write_at_quiet(fd, "freezer.state", "THAWED");
	write_at_quiet(fd, "cgroup.freeze", "0");
	int dfd = dup(fd);
	DIR *d = fdopendir(dfd);
	if (d) {
		for (struct dirent *de; (de = readdir(d));)
			if (de->d_type == DT_DIR && de->d_name[0] != '.')
				nuke_dir(fd, de->d_name);
		closedir(d);
	} else if (dfd >= 0) {
		close(dfd);
	}
	for (int tries = 0; tries < 200; tries++) {
		if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
			return;
		_cleanup_free_ char *procs = read_at(fd, "cgroup.procs");
		for (char *p = procs; p && *p;) {
			pid_t pid = (pid_t)strtol(p, &p, 10);
			if (pid > 0)
				kill(pid, SIGKILL);
			while (*p == '\n')
				p++;
		}
		usleep(10000);
	}
	fprintf(stderr, "warning: could not remove cgroup %s: %s\n", name, strerror(errno));
}

/* Every hierarchy below root: remove parent (rmdir only, depth first). */
static void nuke_parent(const char *root, const char *parent)
{
	_cleanup_close_ int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return;
	if (faccessat(rfd, "cgroup.procs", F_OK, 0) == 0) {
		nuke_dir(rfd, parent); /* a cgroup2 root */
		return;
	}
	_cleanup_closedir_ DIR *d = opendir(root);
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		_cleanup_close_ int h = openat(rfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (h >= 0)
			nuke_dir(h, parent);
	}
}

static void kill_children(void)
{
	for (size_t i = 0; i < n_children; i++) {
		kill(children[i], SIGKILL);
		waitpid(children[i], NULL, 0);
	}
	n_children = 0;
}

static int teardown_real(void **state)
{
	(void)state;
	kill_children();
	for (size_t i = 0; i < n_tmpdirs; i++) {
		fs_rm_rf_at(AT_FDCWD, tmpdirs[i], NULL);
		free(tmpdirs[i]);
	}
	n_tmpdirs = 0;
	if (is_root()) {
		nuke_parent(HOST_ROOT, parent_v1);
		if (*v2_mnt)
			nuke_parent(v2_mnt, parent_v2);
	}
	return 0;
}

/* Skips (passing) unless the host has v1 or hybrid cgroups and we are root. */
static bool need_host_v1(const char *what)
{
	if (!is_root()) {
		msg_skip(what, "needs root");
		return false;
	}
	enum cgroup_mode m;
	_cleanup_error_ struct scow_error *err = NULL;
	if (cgroup_detect(NULL, &m, &err) < 0) {
		msg_skip(what, err->msg);
		return false;
	}
	if (m == CGROUP_V2) {
		msg_skip(what, "the host has cgroup v2 only");
		return false;
	}
	return true;
}

static bool need_v2_mount(const char *what)
{
	if (!*v2_mnt) {
		msg_skip(what, "no private cgroup2 mount (not root, or the kernel refused)");
		return false;
	}
	return true;
}

/* Host hierarchy directory of a controller (v1), e.g. "memory". */
static char *host_dir(const char *ctrl, const char *rel)
{
	return xasprintf(HOST_ROOT "/%s/%s", ctrl, rel);
}

/* --- pure checks ------------------------------------------------------------ */

static void test_parent_normalize(void **state)
{
	(void)state;
	struct {
		const char *in, *out;
	} ok[] = {
		{NULL, "scow"},		  {"scow", "scow"},   {"/docker", "docker"},
		{"/foo/bar", "foo/bar"}, {"a.slice", "a.slice"}, {"/", ""},
		{"x-y_z.1", "x-y_z.1"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		_cleanup_free_ char *out = NULL;
		CHECK(cgroup_parent_normalize(ok[i].in, &out, cerr));
		assert_string_equal(out, ok[i].out);
	}
	const char *bad[] = {"", "..", "a/../b", "a//b", "a/", "./a", "/..", "a/.", "//a", "a\nb"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_error_ struct scow_error *err = NULL;
		_cleanup_free_ char *out = NULL;
		if (cgroup_parent_normalize(bad[i], &out, &err) == 0)
			fail_msg("\"%s\" accepted as \"%s\"", bad[i], out);
		assert_int_equal(err->errnum, EINVAL);
	}
	char longc[300];
	memset(longc, 'a', sizeof(longc) - 1);
	longc[sizeof(longc) - 1] = '\0';
	_cleanup_error_ struct scow_error *err = NULL;
	_cleanup_free_ char *out = NULL;
	assert_int_equal(cgroup_parent_normalize(longc, &out, &err), -1);
	assert_int_equal(err->errnum, ENAMETOOLONG);
	assert_string_equal(cgroup_mode_name(CGROUP_V1), "v1");
	assert_string_equal(cgroup_mode_name(CGROUP_V2), "v2");
	assert_string_equal(cgroup_mode_name(CGROUP_HYBRID), "hybrid");
}

static void test_bad_arguments(void **state)
{
	(void)state;
	/* Bad ids are refused before anything is touched (no root needed). */
	const char *bad_ids[] = {"", ".", "..", "a/b", "x\ty"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_ids); i++) {
		_cleanup_error_ struct scow_error *err = NULL;
		struct cgroup *cg = NULL;
		assert_int_equal(cgroup_create("/nonexistent", "scow", bad_ids[i], &cg, &err), -1);
		assert_int_equal(err->errnum, EINVAL);
		assert_null(cg);
	}
	_cleanup_error_ struct scow_error *err = NULL;
	struct cgroup *cg = NULL;
	assert_int_equal(cgroup_create("/nonexistent", "../x", "id", &cg, &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	error_freep(&err);
	assert_int_equal(cgroup_open("/nonexistent", "a/../b", &cg, &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	error_freep(&err);
	assert_int_equal(cgroup_open("/nonexistent", "/", &cg, &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	error_freep(&err);
	assert_int_equal(cgroup_detect("/nonexistent", &(enum cgroup_mode){0}, &err), -1);
	assert_int_equal(err->errnum, ENOENT);
}

/* Limits and device rules are checked before any driver runs; a fake v2
 * tree catches anything that gets through (the file would be written). */
static char *make_fake_v2(const char *controllers);

static void test_limits_validation(void **state)
{
	(void)state;
	_cleanup_free_ char *root = make_fake_v2("cpu cpuset io memory pids\n");
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(root, "p", "c", &cg, cerr));
	const char *what[] = {
		"cpu-shares 1",	   "cpu-shares 300000", "cpu-period 999",  "cpu-quota 10",
		"cpu-quota -5",	   "memory -2",		"swap without memory", "swap below memory",
		"pids 0",	   "blkio 5",		"cpuset huge",	   "cpuset junk",
		"cpuset trailing", "cpuset empty",	"cpuset dash",
	};
	for (size_t i = 0; i < ARRAY_SIZE(what); i++) {
		struct cgroup_limits l;
		cgroup_limits_init(&l);
		switch (i) {
		case 0: l.cpu_shares = 1; break;
		case 1: l.cpu_shares = 300000; break;
		case 2: l.cpu_period = 999; break;
		case 3: l.cpu_quota = 10; break;
		case 4: l.cpu_quota = -5; break;
		case 5: l.memory = -2; break;
		case 6: l.memory_swap = 1 << 30; break;
		case 7: l.memory = 1 << 30; l.memory_swap = 1 << 20; break;
		case 8: l.pids_max = 0; break;
		case 9: l.blkio_weight = 5; break;
		case 10: l.cpuset_cpus = "1-9223372036854775807"; break;
		case 11: l.cpuset_cpus = "0-1;rm"; break;
		case 12: l.cpuset_cpus = "0,"; break;
		case 13: l.cpuset_mems = ""; break;
		default: l.cpuset_cpus = "-1"; break;
		}
		_cleanup_error_ struct scow_error *err = NULL;
		if (cgroup_set_limits(cg, &l, &err) == 0)
			fail_msg("%s: accepted", what[i]);
		assert_int_equal(err->errnum, EINVAL);
	}
	/* Nothing was written. */
	_cleanup_free_ char *leaf = xasprintf("%s/p/c", root);
	const char *files[] = {"cpu.max", "cpu.weight", "memory.max", "memory.swap.max",
			       "pids.max", "io.weight", "cpuset.cpus", "cpuset.mems"};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", leaf, files[i]);
		if (path_exists(p))
			fail_msg("%s written by a refused call", files[i]);
	}
	/* Bad device rules. */
	struct cgroup_device_rule bad[] = {
		{'x', 1, 3, "rwm", true}, {'c', -2, 3, "rwm", true}, {'c', 1, 3, "", true},
		{'c', 1, 3, "rwx", true}, {'c', 1, 3, "rr", true},   {'c', 1, 0x100000, "r", true},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		_cleanup_error_ struct scow_error *err = NULL;
		assert_int_equal(cgroup_set_devices(cg, false, &bad[i], 1, &err), -1);
		assert_int_equal(err->errnum, EINVAL);
	}
	CHECK(cgroup_destroy(cg, cerr));
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, root, NULL), 0);
}

/* The hand-assembled device program: shape and jump targets. */
static void test_bpf_program_shape(void **state)
{
	(void)state;
	struct bpf_insn insns[256];
	/* Defaults only: prologue 6, then rules from the last; the first rule
	 * (deny everything) ends the program without a separate epilogue. */
	size_t n = cg2_devices_build(cgroup_default_device_rules, cgroup_n_default_device_rules,
				     insns, ARRAY_SIZE(insns));
	assert_true(n < ARRAY_SIZE(insns));
	assert_int_equal(insns[n - 1].code, BPF_JMP | BPF_EXIT);
	assert_int_equal(insns[n - 2].code, BPF_ALU64 | BPF_MOV | BPF_K);
	assert_int_equal(insns[n - 2].imm, 0);
	/* Every jump lands inside the program, on a rule boundary or the end. */
	for (size_t i = 0; i < n; i++) {
		uint8_t cls = insns[i].code & 0x07;
		if (cls == BPF_JMP && (insns[i].code & 0xf0) != BPF_EXIT) {
			long target = (long)i + 1 + insns[i].off;
			assert_true(target > (long)i && target < (long)n);
			/* a block starts right after an exit */
			assert_int_equal(insns[target - 1].code, BPF_JMP | BPF_EXIT);
		}
	}
	/* Last rule "c 10:200 rwm": type check, major, minor, allow. */
	assert_int_equal(insns[6].code, BPF_JMP | BPF_JNE | BPF_K);
	assert_int_equal(insns[6].imm, BPF_DEVCG_DEV_CHAR);
	assert_int_equal(insns[7].imm, 10);
	assert_int_equal(insns[8].imm, 200);
	assert_int_equal(insns[9].imm, 1);
	/* A trailing "allow everything" rule is all there is. */
	struct cgroup_device_rule all[] = {{'a', -1, -1, "rwm", false}, {'a', -1, -1, "rwm", true}};
	n = cg2_devices_build(all, 2, insns, ARRAY_SIZE(insns));
	assert_int_equal(n, 8);
	assert_int_equal(insns[6].imm, 1);
	/* Without a catch-all rule the default is deny. */
	struct cgroup_device_rule one[] = {{'b', 8, -1, "r", true}};
	n = cg2_devices_build(one, 1, insns, ARRAY_SIZE(insns));
	assert_int_equal(n, 6 + 1 + 3 + 1 + 2 + 2);
	assert_int_equal(insns[n - 2].imm, 0);
	assert_int_equal(insns[6].imm, BPF_DEVCG_DEV_BLOCK);
	assert_int_equal(insns[8].imm, BPF_DEVCG_ACC_READ);
}

/* --- fake trees ---------------------------------------------------------------- */

static char *make_tmpdir(void)
{
	char *t = xstrdup("/tmp/scow-unit-cg.XXXXXX");
	assert_non_null(mkdtemp(t));
	assert_true(n_tmpdirs < ARRAY_SIZE(tmpdirs));
	tmpdirs[n_tmpdirs++] = xstrdup(t);
	return t;
}

static char *make_fake_v2(const char *controllers)
{
	char *root = make_tmpdir();
	_cleanup_free_ char *p = xasprintf("%s/cgroup.controllers", root);
	write_file(p, controllers);
	free(p);
	p = xasprintf("%s/cgroup.subtree_control", root);
	write_file(p, "");
	return root;
}

/* v1 fake: "cpu,cpuacct" with symlinks cpu and cpuacct, plus single
 * hierarchies, optionally a v2 "unified". */
static char *make_fake_v1(bool unified)
{
	char *root = make_tmpdir();
	const char *dirs[] = {"cpu,cpuacct", "cpuset", "memory", "devices", "freezer",
			      "pids",	     "blkio",  "systemd", "rdma",	 "notacontroller"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	_cleanup_free_ char *l1 = xasprintf("%s/cpu", root);
	_cleanup_free_ char *l2 = xasprintf("%s/cpuacct", root);
	assert_int_equal(symlink("cpu,cpuacct", l1), 0);
	assert_int_equal(symlink("cpu,cpuacct", l2), 0);
	_cleanup_free_ char *c = xasprintf("%s/cpuset/cpuset.cpus", root);
	_cleanup_free_ char *m = xasprintf("%s/cpuset/cpuset.mems", root);
	write_file(c, "0-3\n");
	write_file(m, "0\n");
	if (unified) {
		_cleanup_free_ char *u = xasprintf("%s/unified", root);
		assert_int_equal(mkdir(u, 0755), 0);
		_cleanup_free_ char *uc = xasprintf("%s/unified/cgroup.controllers", root);
		write_file(uc, "hugetlb\n");
	}
	return root;
}

static void test_fake_detect(void **state)
{
	(void)state;
	_cleanup_free_ char *v1 = make_fake_v1(false);
	_cleanup_free_ char *hy = make_fake_v1(true);
	_cleanup_free_ char *v2 = make_fake_v2("cpu memory\n");
	_cleanup_free_ char *empty = make_tmpdir();
	enum cgroup_mode m;
	CHECK(cgroup_detect(v1, &m, cerr));
	assert_int_equal(m, CGROUP_V1);
	CHECK(cgroup_detect(hy, &m, cerr));
	assert_int_equal(m, CGROUP_HYBRID);
	CHECK(cgroup_detect(v2, &m, cerr));
	assert_int_equal(m, CGROUP_V2);
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(cgroup_detect(empty, &m, &err), -1);
	assert_int_equal(err->errnum, ENOENT);
	/* Co-mounted controllers are one hierarchy; unwanted ones are left out. */
	struct cg_layout l;
	CHECK(cg_layout_detect(hy, &l, cerr));
	assert_true(l.fake);
	assert_int_equal(l.n, 9); /* cpu,cpuacct cpuset memory devices freezer pids blkio systemd unified */
	assert_int_equal(l.by_ctrl[CG_CPU], l.by_ctrl[CG_CPUACCT]);
	assert_true(l.by_ctrl[CG_SYSTEMD] >= 0);
	assert_int_equal(l.by_ctrl[CG_RDMA], -1);
	assert_true(l.unified >= 0);
	assert_int_equal(l.h[l.unified].ctrls, CG_BIT(CG_HUGETLB));
	cg_layout_release(&l);
	/* The host: never a fake. */
	if (path_exists(HOST_ROOT "/cgroup.procs") || path_exists(HOST_ROOT "/memory") ||
	    path_exists(HOST_ROOT "/unified")) {
		CHECK(cg_layout_detect(NULL, &l, cerr));
		assert_false(l.fake);
		print_message("host cgroups: %s, %zu hierarchies\n", cgroup_mode_name(l.mode), l.n);
		cg_layout_release(&l);
	}
	const char *dirs[] = {v1, hy, v2, empty};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		assert_int_equal(fs_rm_rf_at(AT_FDCWD, dirs[i], NULL), 0);
}

static void fake_path_eq(const char *root, const char *rel, const char *want)
{
	_cleanup_free_ char *p = xasprintf("%s/%s", root, rel);
	assert_file_eq(p, want);
}

static void test_fake_v1_writes(void **state)
{
	(void)state;
	_cleanup_free_ char *root = make_fake_v1(true);
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(root, "/foo/bar.slice", "abc", &cg, cerr));
	assert_int_equal(cg->mode, CGROUP_HYBRID);
	assert_string_equal(cg->path, "foo/bar.slice/abc");
	const char *made[] = {"cpu,cpuacct", "cpuset", "memory", "devices", "freezer",
			      "pids",	     "blkio",  "systemd", "unified"};
	for (size_t i = 0; i < ARRAY_SIZE(made); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s/foo/bar.slice/abc", root, made[i]);
		if (!path_exists(p))
			fail_msg("%s not created", p);
	}
	_cleanup_free_ char *rd = xasprintf("%s/rdma/foo", root);
	assert_false(path_exists(rd));
	/* cpuset copied down each level. */
	fake_path_eq(root, "cpuset/foo/cpuset.cpus", "0-3\n");
	fake_path_eq(root, "cpuset/foo/bar.slice/cpuset.cpus", "0-3\n");
	fake_path_eq(root, "cpuset/foo/bar.slice/abc/cpuset.cpus", "0-3\n");
	fake_path_eq(root, "cpuset/foo/bar.slice/abc/cpuset.mems", "0\n");

	CHECK(cgroup_attach(cg, 4242, cerr));
	for (size_t i = 0; i < ARRAY_SIZE(made); i++) {
		_cleanup_free_ char *rel = xasprintf("%s/foo/bar.slice/abc/cgroup.procs", made[i]);
		fake_path_eq(root, rel, "4242");
	}

	struct cgroup_device_rule extra[] = {{'c', 42, -1, "rw", true}, {'b', 8, 0, "r", false}};
	CHECK(cgroup_set_devices(cg, false, extra, ARRAY_SIZE(extra), cerr));
	fake_path_eq(root, "devices/foo/bar.slice/abc/devices.deny", "a\nb 8:0 r\n");
	fake_path_eq(root, "devices/foo/bar.slice/abc/devices.allow",
		     "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\n"
		     "c 5:0 rwm\nc 5:1 rwm\nc 5:2 rwm\nc 136:* rwm\nc 10:200 rwm\nc 42:* rw\n");
	CHECK(cgroup_set_devices(cg, true, NULL, 0, cerr));
	fake_path_eq(root, "devices/foo/bar.slice/abc/devices.allow", "a");

	struct cgroup_limits l;
	cgroup_limits_init(&l);
	l.memory = 64 << 20;
	l.memory_swap = 128 << 20;
	l.memory_reservation = 32 << 20;
	l.cpu_shares = 512;
	l.cpu_period = 100000;
	l.cpu_quota = 50000;
	l.cpuset_cpus = "1";
	l.cpuset_mems = "0";
	l.pids_max = 64;
	l.blkio_weight = 300;
	CHECK(cgroup_set_limits(cg, &l, cerr));
	const char *d = "foo/bar.slice/abc";
	struct {
		const char *ctrl, *file, *want;
	} want[] = {
		{"memory", "memory.limit_in_bytes", "67108864"},
		{"memory", "memory.memsw.limit_in_bytes", "134217728"},
		{"memory", "memory.soft_limit_in_bytes", "33554432"},
		{"cpu,cpuacct", "cpu.shares", "512"},
		{"cpu,cpuacct", "cpu.cfs_period_us", "100000"},
		{"cpu,cpuacct", "cpu.cfs_quota_us", "50000"},
		{"cpuset", "cpuset.cpus", "1"},
		{"cpuset", "cpuset.mems", "0"},
		{"pids", "pids.max", "64"},
		{"blkio", "blkio.weight", "300"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		_cleanup_free_ char *rel = xasprintf("%s/%s/%s", want[i].ctrl, d, want[i].file);
		fake_path_eq(root, rel, want[i].want);
	}
	cgroup_limits_init(&l);
	l.memory = CGROUP_MAX;
	l.memory_swap = CGROUP_MAX;
	l.cpu_quota = CGROUP_MAX;
	l.pids_max = CGROUP_MAX;
	CHECK(cgroup_set_limits(cg, &l, cerr));
	fake_path_eq(root, "memory/foo/bar.slice/abc/memory.limit_in_bytes", "-1");
	fake_path_eq(root, "memory/foo/bar.slice/abc/memory.memsw.limit_in_bytes", "-1");
	fake_path_eq(root, "cpu,cpuacct/foo/bar.slice/abc/cpu.cfs_quota_us", "-1");
	fake_path_eq(root, "pids/foo/bar.slice/abc/pids.max", "max");

	CHECK(cgroup_freeze(cg, true, cerr));
	fake_path_eq(root, "freezer/foo/bar.slice/abc/freezer.state", "FROZEN");
	CHECK(cgroup_freeze(cg, false, cerr));
	fake_path_eq(root, "freezer/foo/bar.slice/abc/freezer.state", "THAWED");

	bool oom = true;
	_cleanup_free_ char *oc = xasprintf("%s/memory/%s/memory.oom_control", root, d);
	write_file(oc, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
	CHECK(cgroup_oom_killed(cg, &oom, cerr));
	assert_false(oom);
	write_file(oc, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
	CHECK(cgroup_oom_killed(cg, &oom, cerr));
	assert_true(oom);

	/* pids come from the pids hierarchy. */
	_cleanup_free_ char *pp = xasprintf("%s/pids/%s/cgroup.procs", root, d);
	write_file(pp, "12\n345\n6789\n");
	_cleanup_free_ pid_t *pids = NULL;
	size_t n = 0;
	CHECK(cgroup_pids(cg, &pids, &n, cerr));
	assert_int_equal(n, 3);
	assert_int_equal(pids[0], 12);
	assert_int_equal(pids[2], 6789);
	write_file(pp, "12\nx\n");
	_cleanup_error_ struct scow_error *perr = NULL;
	_cleanup_free_ pid_t *bad = NULL;
	assert_int_equal(cgroup_pids(cg, &bad, &n, &perr), -1);

	/* Reopen from the stored path, as stop/rm do. */
	_cleanup_cgroup_ struct cgroup *again = NULL;
	CHECK(cgroup_open(root, cg->path, &again, cerr));
	assert_string_equal(again->path, "foo/bar.slice/abc");
	CHECK(cgroup_destroy(again, cerr));
	for (size_t i = 0; i < ARRAY_SIZE(made); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s/foo/bar.slice/abc", root, made[i]);
		assert_false(path_exists(p));
		_cleanup_free_ char *q = xasprintf("%s/%s/foo/bar.slice", root, made[i]);
		assert_true(path_exists(q)); /* parents stay */
	}
	CHECK(cgroup_destroy(cg, cerr)); /* missing is fine */
	_cleanup_error_ struct scow_error *oerr = NULL;
	_cleanup_cgroup_ struct cgroup *gone = NULL;
	assert_int_equal(cgroup_open(root, "foo/bar.slice/abc", &gone, &oerr), -1);
	assert_int_equal(oerr->errnum, ENOENT);
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, root, NULL), 0);
}

static void test_fake_v1_no_devices(void **state)
{
	(void)state;
	/* Plain v1 without a devices hierarchy or a unified one: a
	 * restriction cannot be applied, and that is an error. */
	_cleanup_free_ char *root = make_tmpdir();
	_cleanup_free_ char *mem = xasprintf("%s/memory", root);
	assert_int_equal(mkdir(mem, 0755), 0);
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(root, NULL, "x", &cg, cerr));
	assert_int_equal(cg->mode, CGROUP_V1);
	assert_string_equal(cg->path, "scow/x");
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(cgroup_set_devices(cg, false, NULL, 0, &err), -1);
	assert_int_equal(err->errnum, ENOTSUP);
	CHECK(cgroup_set_devices(cg, true, NULL, 0, cerr));
	error_freep(&err);
	struct cgroup_limits l;
	cgroup_limits_init(&l);
	l.pids_max = 10;
	assert_int_equal(cgroup_set_limits(cg, &l, &err), -1);
	assert_int_equal(err->errnum, ENOTSUP);
	error_freep(&err);
	assert_int_equal(cgroup_freeze(cg, true, &err), -1);
	assert_int_equal(err->errnum, ENOTSUP);
	CHECK(cgroup_destroy(cg, cerr));
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, root, NULL), 0);
}

static void test_fake_v2_writes(void **state)
{
	(void)state;
	_cleanup_free_ char *root = make_fake_v2("cpuset cpu io memory hugetlb pids rdma misc\n");
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(root, "a/b", "c", &cg, cerr));
	assert_int_equal(cg->mode, CGROUP_V2);
	assert_string_equal(cg->path, "a/b/c");
	/* Enabled in every ancestor, in one write each; not in the leaf. */
	const char *all = "+cpu +cpuset +memory +pids +hugetlb +io";
	fake_path_eq(root, "cgroup.subtree_control", all);
	fake_path_eq(root, "a/cgroup.subtree_control", all);
	fake_path_eq(root, "a/b/cgroup.subtree_control", all);
	_cleanup_free_ char *leafsc = xasprintf("%s/a/b/c/cgroup.subtree_control", root);
	assert_false(path_exists(leafsc));
	/* A second container: nothing to enable again (the file stays). */
	_cleanup_cgroup_ struct cgroup *cg2 = NULL;
	_cleanup_free_ char *sc = xasprintf("%s/a/b/cgroup.subtree_control", root);
	write_file(sc, "cpu cpuset memory pids hugetlb io\n");
	CHECK(cgroup_create(root, "a/b", "d", &cg2, cerr));
	fake_path_eq(root, "a/b/cgroup.subtree_control", "cpu cpuset memory pids hugetlb io\n");
	CHECK(cgroup_destroy(cg2, cerr));

	CHECK(cgroup_attach(cg, 777, cerr));
	fake_path_eq(root, "a/b/c/cgroup.procs", "777");

	struct cgroup_limits l;
	cgroup_limits_init(&l);
	l.memory = 64 << 20;
	l.memory_swap = 96 << 20;
	l.memory_reservation = 16 << 20;
	l.cpu_shares = 1024;
	l.cpu_quota = 50000;
	l.cpu_period = 100000;
	l.cpuset_cpus = "0-1";
	l.cpuset_mems = "0";
	l.pids_max = CGROUP_MAX;
	l.blkio_weight = 500;
	CHECK(cgroup_set_limits(cg, &l, cerr));
	struct {
		const char *file, *want;
	} want[] = {
		{"memory.max", "67108864"}, {"memory.swap.max", "33554432"},
		{"memory.low", "16777216"}, {"cpu.weight", "39"},
		{"cpu.max", "50000 100000"}, {"cpuset.cpus", "0-1"},
		{"cpuset.mems", "0"},	     {"pids.max", "max"},
		{"io.weight", "default 4950"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		_cleanup_free_ char *rel = xasprintf("a/b/c/%s", want[i].file);
		fake_path_eq(root, rel, want[i].want);
	}
	/* Period alone keeps the quota; quota alone leaves the period. */
	cgroup_limits_init(&l);
	l.cpu_period = 200000;
	CHECK(cgroup_set_limits(cg, &l, cerr));
	fake_path_eq(root, "a/b/c/cpu.max", "50000 200000");
	cgroup_limits_init(&l);
	l.cpu_quota = CGROUP_MAX;
	l.memory = CGROUP_MAX;
	l.memory_swap = CGROUP_MAX;
	l.pids_max = 100;
	l.cpu_shares = 2;
	CHECK(cgroup_set_limits(cg, &l, cerr));
	fake_path_eq(root, "a/b/c/cpu.max", "max");
	fake_path_eq(root, "a/b/c/memory.max", "max");
	fake_path_eq(root, "a/b/c/memory.swap.max", "max");
	fake_path_eq(root, "a/b/c/pids.max", "100");
	fake_path_eq(root, "a/b/c/cpu.weight", "1");

	CHECK(cgroup_freeze(cg, true, cerr));
	fake_path_eq(root, "a/b/c/cgroup.freeze", "1");
	CHECK(cgroup_freeze(cg, false, cerr));
	fake_path_eq(root, "a/b/c/cgroup.freeze", "0");

	bool oom = true;
	CHECK(cgroup_oom_killed(cg, &oom, cerr)); /* no memory.events: false */
	assert_false(oom);
	_cleanup_free_ char *ev = xasprintf("%s/a/b/c/memory.events", root);
	write_file(ev, "low 0\nhigh 0\nmax 5\noom 1\noom_kill 0\noom_group_kill 0\n");
	CHECK(cgroup_oom_killed(cg, &oom, cerr));
	assert_false(oom);
	write_file(ev, "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n");
	CHECK(cgroup_oom_killed(cg, &oom, cerr));
	assert_true(oom);

	/* Devices: in a fake tree the program is built and loaded (the
	 * verifier accepts it) but there is nothing to attach it to. */
	if (is_root()) {
		struct cgroup_device_rule extra[] = {{'c', 1, 3, "rwm", false},
						     {'b', 7, -1, "r", true}};
		CHECK(cgroup_set_devices(cg, false, extra, ARRAY_SIZE(extra), cerr));
	}

	/* kill_all without cgroup.kill: one round over cgroup.procs. */
	pid_t victim = spawn_pauser();
	_cleanup_free_ char *procs = xasprintf("%s/a/b/c/cgroup.procs", root);
	char buf[32];
	snprintf(buf, sizeof(buf), "%d\n", (int)victim);
	write_file(procs, buf);
	CHECK(cgroup_kill_all(cg, cerr));
	int st = reap(victim);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	fake_path_eq(root, "a/b/c/cgroup.freeze", "0"); /* thawed after the round */
	/* With cgroup.kill, that is written instead. */
	_cleanup_free_ char *kf = xasprintf("%s/a/b/c/cgroup.kill", root);
	write_file(kf, "");
	CHECK(cgroup_kill_all(cg, cerr));
	fake_path_eq(root, "a/b/c/cgroup.kill", "1");

	CHECK(cgroup_destroy(cg, cerr));
	_cleanup_free_ char *leaf = xasprintf("%s/a/b/c", root);
	assert_false(path_exists(leaf));
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, root, NULL), 0);
}

/* A failure part way leaves nothing it created. */
static void test_fake_create_undo(void **state)
{
	(void)state;
	_cleanup_free_ char *root = make_fake_v1(false);
	/* "pids/p/x" is a file: creating there fails after the hierarchies
	 * before it (in directory order) succeeded. */
	_cleanup_free_ char *pp = xasprintf("%s/pids/p", root);
	assert_int_equal(mkdir(pp, 0755), 0);
	_cleanup_free_ char *px = xasprintf("%s/pids/p/x", root);
	write_file(px, "");
	_cleanup_error_ struct scow_error *err = NULL;
	struct cgroup *cg = NULL;
	assert_int_equal(cgroup_create(root, "p", "x", &cg, &err), -1);
	assert_null(cg);
	assert_non_null(strstr(err->msg, "pids"));
	const char *dirs[] = {"cpu,cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
			      "systemd"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s/p/x", root, dirs[i]);
		if (path_exists(p))
			fail_msg("%s left behind", p);
	}
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, root, NULL), 0);
}

/* --- the host's v1 / hybrid hierarchies ---------------------------------------- */

struct counter_arg {
	volatile unsigned long *counter;
};

static int count_forever(void *arg)
{
	volatile unsigned long *c = ((struct counter_arg *)arg)->counter;
	for (;;) {
		(*c)++;
		usleep(200);
	}
	return 0;
}

static void test_host_lifecycle(void **state)
{
	(void)state;
	if (!need_host_v1("host v1/hybrid lifecycle"))
		return;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(NULL, parent_v1, "c1", &cg, cerr));
	_cleanup_free_ char *rel = xasprintf("%s/c1", parent_v1);
	assert_string_equal(cg->path, rel);
	print_message("host mode %s, driver %s\n", cgroup_mode_name(cg->mode), cg->ops->name);
	const char *ctrls[] = {"cpu", "cpuacct", "cpuset", "memory", "devices",
			       "freezer", "blkio", "pids", "systemd"};
	for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
		_cleanup_free_ char *hd = host_dir(ctrls[i], "");
		if (!path_exists(hd))
			continue;
		_cleanup_free_ char *p = host_dir(ctrls[i], rel);
		if (!path_exists(p))
			fail_msg("%s not created", p);
	}
	if (cg->mode == CGROUP_HYBRID) {
		_cleanup_free_ char *p = host_dir("unified", rel);
		assert_true(path_exists(p));
	}
	/* cpuset copied from the root. */
	_cleanup_free_ char *cs_root = read_file(HOST_ROOT "/cpuset/cpuset.cpus");
	if (cs_root) {
		_cleanup_free_ char *p = host_dir("cpuset", rel);
		_cleanup_free_ char *f = xasprintf("%s/cpuset.cpus", p);
		assert_file_eq(f, cs_root);
		_cleanup_free_ char *m = xasprintf("%s/cpuset.mems", p);
		_cleanup_free_ char *mems = read_file(m);
		assert_true(mems && mems[0] != '\n' && mems[0]);
	}

	/* attach a child that counts, see it everywhere */
	volatile unsigned long *counter =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(counter != MAP_FAILED);
	struct counter_arg ca = {counter};
	int go;
	pid_t child = spawn_gated(&go, count_forever, &ca);
	CHECK(cgroup_attach(cg, child, cerr));
	release(go);
	assert_true(pids_contain(cg, child, NULL));
	char pbuf[64];
	snprintf(pbuf, sizeof(pbuf), "/proc/%d/cgroup", (int)child);
	_cleanup_free_ char *pcg = read_file(pbuf);
	_cleanup_free_ char *memline = xasprintf(":memory:/%s\n", rel);
	if (path_exists(HOST_ROOT "/memory") && !strstr(pcg, memline))
		fail_msg("/proc/%d/cgroup: no %s in\n%s", (int)child, memline, pcg);
	if (cg->mode == CGROUP_HYBRID) {
		_cleanup_free_ char *uline = xasprintf("0::/%s\n", rel);
		assert_non_null(strstr(pcg, uline));
	}

	/* freeze: the counter stops; thaw: it moves again */
	CHECK(cgroup_freeze(cg, true, cerr));
	_cleanup_free_ char *fz = host_dir("freezer", rel);
	_cleanup_free_ char *fzs = xasprintf("%s/freezer.state", fz);
	if (path_exists(fz))
		assert_file_eq(fzs, "FROZEN\n");
	unsigned long c1 = *counter;
	usleep(30000);
	assert_int_equal(*counter, c1);
	CHECK(cgroup_freeze(cg, false, cerr));
	if (path_exists(fz))
		assert_file_eq(fzs, "THAWED\n");
	for (int i = 0; i < 200 && *counter == c1; i++)
		usleep(1000);
	assert_true(*counter != c1);

	bool oom = true;
	CHECK(cgroup_oom_killed(cg, &oom, cerr));
	assert_false(oom);

	/* destroy with a process inside: EBUSY, and the cgroup still works */
	_cleanup_error_ struct scow_error *derr = NULL;
	assert_int_equal(cgroup_destroy(cg, &derr), -1);
	assert_int_equal(derr->errnum, EBUSY);
	assert_true(pids_contain(cg, child, NULL));

	long long t0 = now_us();
	CHECK(cgroup_kill_all(cg, cerr));
	long long t1 = now_us();
	print_message("kill_all of 1 process: %lld us\n", t1 - t0);
	size_t n = 1;
	assert_false(pids_contain(cg, child, &n));
	assert_int_equal(n, 0);
	int st = reap(child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	munmap((void *)counter, 4096);

	CHECK(cgroup_destroy(cg, cerr));
	for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
		_cleanup_free_ char *p = host_dir(ctrls[i], rel);
		assert_false(path_exists(p));
	}
	_cleanup_free_ char *up = host_dir("unified", rel);
	assert_false(path_exists(up));
	CHECK(cgroup_destroy(cg, cerr)); /* twice is fine */
}

/* Child: open each node in dir and report errno (0 = opened) through the
 * exit status: one byte in a pipe per node is simpler. */
struct opener_arg {
	const char *dir;
	int out;
};

static int open_nodes(void *argp)
{
	struct opener_arg *a = argp;
	const char *names[] = {"null", "zero", "dev42", "mem"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char p[256];
		snprintf(p, sizeof(p), "%s/%s", a->dir, names[i]);
		int fd = open(p, O_RDONLY | O_CLOEXEC);
		unsigned char e = fd >= 0 ? 0 : (unsigned char)errno;
		if (fd >= 0)
			close(fd);
		if (write(a->out, &e, 1) != 1)
			return 1;
	}
	return 0;
}

static char *make_nodes(void)
{
	char *dir = make_tmpdir();
	struct {
		const char *name;
		int maj, min;
	} nodes[] = {{"null", 1, 3}, {"zero", 1, 5}, {"dev42", 42, 42}, {"mem", 1, 1}};
	for (size_t i = 0; i < ARRAY_SIZE(nodes); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, nodes[i].name);
		if (mknod(p, S_IFCHR | 0600, makedev(nodes[i].maj, nodes[i].min)) < 0)
			fail_msg("mknod %s: %s", p, strerror(errno));
	}
	return dir;
}

/* Runs open_nodes in a fresh child inside cg; errs[] gets the errnos of
 * null(1:3) zero(1:5) dev42(42:42) mem(1:1). */
static void probe_devices(struct cgroup *cg, const char *dir, unsigned char errs[4])
{
	int res[2];
	assert_int_equal(pipe2(res, O_CLOEXEC), 0);
	struct opener_arg a = {dir, res[1]};
	int go;
	pid_t child = spawn_gated(&go, open_nodes, &a);
	close(res[1]);
	CHECK(cgroup_attach(cg, child, cerr));
	release(go);
	size_t got = 0;
	while (got < 4) {
		ssize_t r = read(res[0], errs + got, 4 - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	close(res[0]);
	int st = reap(child);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("device probe child: status 0x%x", st);
}

static void test_host_devices(void **state)
{
	(void)state;
	if (!need_host_v1("host v1 device rules"))
		return;
	if (!path_exists(HOST_ROOT "/devices")) {
		msg_skip("host v1 device rules", "no v1 devices hierarchy");
		return;
	}
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(NULL, parent_v1, "dev", &cg, cerr));
	struct cgroup_device_rule extra[] = {{'c', 1, 3, "rwm", false}, {'c', 42, -1, "rw", true}};
	CHECK(cgroup_set_devices(cg, false, extra, ARRAY_SIZE(extra), cerr));
	_cleanup_free_ char *rel = xasprintf("devices/%s/dev/devices.list", parent_v1);
	_cleanup_free_ char *lp = xasprintf(HOST_ROOT "/%s", rel);
	_cleanup_free_ char *list = read_file(lp);
	assert_non_null(list);
	const char *want[] = {"c *:* m\n", "b *:* m\n", "c 1:5 rwm\n", "c 1:7 rwm\n",
			      "c 1:8 rwm\n", "c 1:9 rwm\n", "c 5:0 rwm\n", "c 5:1 rwm\n",
			      "c 5:2 rwm\n", "c 136:* rwm\n", "c 10:200 rwm\n", "c 42:* rw\n"};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		if (!strstr(list, want[i]))
			fail_msg("devices.list lacks \"%.*s\":\n%s", (int)strlen(want[i]) - 1,
				 want[i], list);
	assert_null(strstr(list, "c 1:3 "));   /* denied again by the extra rule */
	assert_null(strstr(list, "a *:* rwm")); /* not allow-all */

	/* Enforcement, from a process inside. */
	_cleanup_free_ char *dir = make_nodes();
	unsigned char e[4];
	probe_devices(cg, dir, e);
	assert_int_equal(e[0], EPERM); /* 1:3 denied by the extra rule */
	assert_int_equal(e[1], 0);     /* 1:5 allowed */
	assert_int_equal(e[2], ENXIO); /* 42:* allowed; no such driver */
	assert_int_equal(e[3], EPERM); /* 1:1 denied by default */

	/* privileged: everything */
	_cleanup_cgroup_ struct cgroup *pcg = NULL;
	CHECK(cgroup_create(NULL, parent_v1, "priv", &pcg, cerr));
	CHECK(cgroup_set_devices(pcg, true, NULL, 0, cerr));
	_cleanup_free_ char *pl = xasprintf(HOST_ROOT "/devices/%s/priv/devices.list", parent_v1);
	assert_file_eq(pl, "a *:* rwm\n");
	probe_devices(pcg, dir, e);
	assert_int_equal(e[0], 0);
	assert_int_not_equal(e[3], EPERM); /* ENXIO without CONFIG_DEVMEM */

	CHECK(cgroup_destroy(cg, cerr));
	CHECK(cgroup_destroy(pcg, cerr));
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

static int fork_tree(void *arg)
{
	(void)arg;
	/* 3 levels of 3: 39 processes besides this one, all pausing. */
	for (int level = 0; level < 3; level++)
		for (int i = 0; i < 3; i++) {
			pid_t p = fork();
			if (p == 0)
				break;
		}
	for (;;)
		pause();
	return 0;
}

static void test_host_kill_tree(void **state)
{
	(void)state;
	if (!need_host_v1("host kill_all of a process tree"))
		return;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(NULL, parent_v1, "tree", &cg, cerr));
	int go;
	pid_t child = spawn_gated(&go, fork_tree, NULL);
	CHECK(cgroup_attach(cg, child, cerr));
	release(go);
	size_t n = 0;
	for (int i = 0; i < 500; i++) {
		pids_contain(cg, child, &n);
		if (n >= 10)
			break;
		usleep(2000);
	}
	assert_true(n >= 10);
	/* reopened from another "process", as docker stop/rm would */
	_cleanup_cgroup_ struct cgroup *other = NULL;
	CHECK(cgroup_open(NULL, cg->path, &other, cerr));
	CHECK(cgroup_kill_all(other, cerr));
	pids_contain(cg, child, &n);
	assert_int_equal(n, 0);
	int st = reap(child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK(cgroup_destroy(other, cerr));
	_cleanup_error_ struct scow_error *err = NULL;
	_cleanup_cgroup_ struct cgroup *gone = NULL;
	assert_int_equal(cgroup_open(NULL, cg->path, &gone, &err), -1);
	assert_int_equal(err->errnum, ENOENT);
}

/* The freeze / kill each / thaw rounds, on real hierarchies (kill_all
 * itself prefers cgroup.kill where the kernel has it). */
static void kill_loop_on(const char *root, const char *parent, const struct cgroup_ops *ops,
			 const char *what)
{
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(root, parent, "loop", &cg, cerr));
	int go;
	pid_t child = spawn_gated(&go, fork_tree, NULL);
	CHECK(cgroup_attach(cg, child, cerr));
	release(go);
	size_t n = 0;
	for (int i = 0; i < 500; i++) {
		pids_contain(cg, child, &n);
		if (n >= 10)
			break;
		usleep(2000);
	}
	assert_true(n >= 10);
	long long t0 = now_us();
	CHECK(cg_kill_loop(cg, cg_procs_fd(cg), ops->freeze, cerr));
	print_message("%s: freeze/kill/thaw rounds for %zu processes: %lld us\n", what, n,
		      now_us() - t0);
	pids_contain(cg, child, &n);
	assert_int_equal(n, 0);
	int st = reap(child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* Not frozen afterwards: a new process runs. */
	int go2;
	pid_t again = spawn_gated(&go2, exit_now, NULL);
	CHECK(cgroup_attach(cg, again, cerr));
	release(go2);
	st = reap(again);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(cgroup_destroy(cg, cerr));
}

static void test_host_kill_loop(void **state)
{
	(void)state;
	if (!need_host_v1("host v1 freeze/kill loop"))
		return;
	kill_loop_on(NULL, parent_v1, &cgroup_ops_v1, "host v1");
}

static void test_host_attach_gone(void **state)
{
	(void)state;
	if (!need_host_v1("host attach of a gone process"))
		return;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(NULL, parent_v1, "gone", &cg, cerr));
	int go;
	pid_t p = spawn_gated(&go, exit_now, NULL);
	release(go);
	reap(p);
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(cgroup_attach(cg, p, &err), -1);
	assert_int_equal(err->errnum, ESRCH);
	assert_non_null(strstr(err->msg, cg->path));
	error_freep(&err);
	assert_int_equal(cgroup_attach(cg, 0, &err), -1);
	assert_int_equal(err->errnum, EINVAL);
	CHECK(cgroup_destroy(cg, cerr));
}

static int eat_memory(void *arg)
{
	(void)arg;
	size_t sz = 256u << 20;
	char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 2;
	for (size_t i = 0; i < sz; i += 4096)
		p[i] = 1;
	return 0; /* not killed: the limit did not work */
}

static void test_host_limits_and_oom(void **state)
{
	(void)state;
	if (!need_host_v1("host v1 limits and OOM"))
		return;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(NULL, parent_v1, "lim", &cg, cerr));
	struct cgroup_limits l;
	cgroup_limits_init(&l);
	l.memory = 16 << 20;
	bool memsw = path_exists(HOST_ROOT "/memory/memory.memsw.limit_in_bytes");
	if (memsw)
		l.memory_swap = 16 << 20;
	l.cpu_shares = 512;
	l.cpu_period = 100000;
	l.cpu_quota = 50000;
	l.cpuset_cpus = "0";
	l.pids_max = 64;
	CHECK(cgroup_set_limits(cg, &l, cerr));
	struct {
		const char *ctrl, *file, *want;
	} want[] = {
		{"memory", "memory.limit_in_bytes", "16777216\n"},
		{"memory", "memory.memsw.limit_in_bytes", memsw ? "16777216\n" : NULL},
		{"cpu", "cpu.shares", "512\n"},
		{"cpu", "cpu.cfs_period_us", "100000\n"},
		{"cpu", "cpu.cfs_quota_us", "50000\n"},
		{"cpuset", "cpuset.cpus", "0\n"},
		{"pids", "pids.max", "64\n"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		_cleanup_free_ char *hd = host_dir(want[i].ctrl, "");
		if (!want[i].want || !path_exists(hd))
			continue;
		_cleanup_free_ char *p = xasprintf("%s%s/%s", hd, cg->path, want[i].file);
		assert_file_eq(p, want[i].want);
	}
	/* Raising both memory and memsw works in either order. */
	cgroup_limits_init(&l);
	l.memory = 32 << 20;
	if (memsw)
		l.memory_swap = 64 << 20;
	CHECK(cgroup_set_limits(cg, &l, cerr));
	_cleanup_free_ char *ml = xasprintf(HOST_ROOT "/memory/%s/memory.limit_in_bytes", cg->path);
	assert_file_eq(ml, "33554432\n");
	/* blkio weight needs CFQ/BFQ: either it lands or it says why. */
	cgroup_limits_init(&l);
	l.blkio_weight = 300;
	_cleanup_error_ struct scow_error *berr = NULL;
	if (cgroup_set_limits(cg, &l, &berr) < 0) {
		assert_int_equal(berr->errnum, ENOTSUP);
		print_message("blkio weight: %s\n", berr->msg);
	}

	/* OOM: a child that touches 256 MiB under a 16 MiB limit. */
	cgroup_limits_init(&l);
	l.memory = 16 << 20;
	if (memsw)
		l.memory_swap = 16 << 20;
	CHECK(cgroup_set_limits(cg, &l, cerr));
	bool oom = true;
	CHECK(cgroup_oom_killed(cg, &oom, cerr));
	assert_false(oom);
	int go;
	pid_t child = spawn_gated(&go, eat_memory, NULL);
	CHECK(cgroup_attach(cg, child, cerr));
	release(go);
	int st = reap(child);
	if (!memsw && WIFEXITED(st)) {
		msg_skip("OOM kill", "no swap accounting and the child swapped instead");
	} else {
		assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		CHECK(cgroup_oom_killed(cg, &oom, cerr));
		assert_true(oom);
	}
	CHECK(cgroup_destroy(cg, cerr));
}

/* create + attach + destroy, the `run --rm` hot path, timed. */

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

static void time_cycle(const char *root, const char *parent, const char *label)
{
	enum { N = 40 };
	long long tc[N], ta[N], td[N], tt[N];
	for (int i = 0; i < N; i++) {
		char id[32];
		snprintf(id, sizeof(id), "t%d", i);
		int go;
		pid_t child = spawn_gated(&go, exit_now, NULL);
		long long t0 = now_us();
		_cleanup_cgroup_ struct cgroup *cg = NULL;
		CHECK(cgroup_create(root, parent, id, &cg, cerr));
		long long t1 = now_us();
		CHECK(cgroup_attach(cg, child, cerr));
		long long t2 = now_us();
		release(go);
		reap(child);
		long long t3 = now_us();
		CHECK(cgroup_destroy(cg, cerr));
		long long t4 = now_us();
		tc[i] = t1 - t0;
		ta[i] = t2 - t1;
		td[i] = t4 - t3;
		tt[i] = tc[i] + ta[i] + td[i];
	}
	qsort(tc, N, sizeof(tc[0]), cmp_ll);
	qsort(ta, N, sizeof(ta[0]), cmp_ll);
	qsort(td, N, sizeof(td[0]), cmp_ll);
	qsort(tt, N, sizeof(tt[0]), cmp_ll);
	print_message("%s, microseconds over %d runs, median (min-max): create %lld (%lld-%lld), "
		      "attach %lld (%lld-%lld), destroy %lld (%lld-%lld), total %lld (%lld-%lld)\n",
		      label, N, tc[N / 2], tc[0], tc[N - 1], ta[N / 2], ta[0], ta[N - 1], td[N / 2],
		      td[0], td[N - 1], tt[N / 2], tt[0], tt[N - 1]);
}

static void test_host_timing(void **state)
{
	(void)state;
	if (!need_host_v1("host timing"))
		return;
	time_cycle(NULL, parent_v1, "host create+attach+destroy");
}

/* --- cgroup v2 on a private mount --------------------------------------------- */

static int setup_v2_mount(void **state)
{
	(void)state;
	v2_mnt[0] = '\0';
	if (!is_root())
		return 0;
	if (unshare(CLONE_NEWNS) < 0) {
		print_message("unshare(CLONE_NEWNS): %s\n", strerror(errno));
		return 0;
	}
	if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0) {
		print_message("make / private: %s\n", strerror(errno));
		return 0;
	}
	char t[] = "/tmp/scow-unit-cg2.XXXXXX";
	if (!mkdtemp(t))
		return 0;
	if (mount("none", t, "cgroup2", 0, NULL) < 0) {
		print_message("mount cgroup2: %s\n", strerror(errno));
		rmdir(t);
		return 0;
	}
	snprintf(v2_mnt, sizeof(v2_mnt), "%s", t);
	/* The v2 driver enables controllers in the root's subtree_control:
	 * remember it, to put it back. */
	_cleanup_free_ char *p = xasprintf("%s/cgroup.subtree_control", v2_mnt);
	_cleanup_free_ char *s = read_file(p);
	if (s) {
		snprintf(v2_saved_subtree, sizeof(v2_saved_subtree), "%s", s);
		v2_saved_valid = true;
	}
	return 0;
}

static int teardown_v2_mount(void **state)
{
	(void)state;
	teardown_real(state);
	if (!*v2_mnt)
		return 0;
	if (v2_saved_valid) {
		_cleanup_free_ char *p = xasprintf("%s/cgroup.subtree_control", v2_mnt);
		_cleanup_free_ char *now = read_file(p);
		/* Disable what we enabled (one at a time; a controller another
		 * cgroup below still needs stays). */
		for (char *tok = now ? strtok(now, " \n") : NULL; tok; tok = strtok(NULL, " \n")) {
			if (strstr(v2_saved_subtree, tok))
				continue;
			_cleanup_free_ char *w = xasprintf("-%s", tok);
			_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, w, strlen(w)) < 0)
				fprintf(stderr, "warning: restore subtree_control: %s\n",
					strerror(errno));
		}
	}
	if (umount2(v2_mnt, MNT_DETACH) < 0)
		fprintf(stderr, "warning: umount %s: %s\n", v2_mnt, strerror(errno));
	rmdir(v2_mnt);
	v2_mnt[0] = '\0';
	return 0;
}

static void test_v2_lifecycle(void **state)
{
	(void)state;
	if (!need_v2_mount("v2 lifecycle"))
		return;
	enum cgroup_mode m;
	CHECK(cgroup_detect(v2_mnt, &m, cerr));
	assert_int_equal(m, CGROUP_V2);
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(v2_mnt, parent_v2, "c1", &cg, cerr));
	assert_int_equal(cg->mode, CGROUP_V2);
	assert_false(cg->layout->fake);
	_cleanup_free_ char *leaf = xasprintf("%s/%s/c1", v2_mnt, parent_v2);
	assert_true(path_exists(leaf));
	/* The controllers the root offers (of those wanted) are enabled in
	 * the parent, so the leaf has them. */
	_cleanup_free_ char *rc = xasprintf("%s/cgroup.controllers", v2_mnt);
	_cleanup_free_ char *root_ctrls = read_file(rc);
	_cleanup_free_ char *lc = xasprintf("%s/cgroup.controllers", leaf);
	_cleanup_free_ char *leaf_ctrls = read_file(lc);
	print_message("v2 root offers: %s", root_ctrls);
	const char *wanted[] = {"cpu", "cpuset", "io", "memory", "pids", "hugetlb"};
	for (size_t i = 0; i < ARRAY_SIZE(wanted); i++) {
		bool offered = false;
		_cleanup_free_ char *copy = xstrdup(root_ctrls);
		for (char *t = strtok(copy, " \n"); t; t = strtok(NULL, " \n"))
			offered |= strcmp(t, wanted[i]) == 0;
		if (offered && !strstr(leaf_ctrls, wanted[i]))
			fail_msg("%s offered by the root but not enabled for the leaf (%s)",
				 wanted[i], leaf_ctrls);
	}

	volatile unsigned long *counter =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(counter != MAP_FAILED);
	struct counter_arg ca = {counter};
	int go;
	pid_t child = spawn_gated(&go, count_forever, &ca);
	CHECK(cgroup_attach(cg, child, cerr));
	release(go);
	assert_true(pids_contain(cg, child, NULL));

	CHECK(cgroup_freeze(cg, true, cerr));
	_cleanup_free_ char *evp = xasprintf("%s/cgroup.events", leaf);
	_cleanup_free_ char *ev = read_file(evp);
	assert_non_null(strstr(ev, "frozen 1"));
	unsigned long c1 = *counter;
	usleep(30000);
	assert_int_equal(*counter, c1);
	CHECK(cgroup_freeze(cg, false, cerr));
	for (int i = 0; i < 200 && *counter == c1; i++)
		usleep(1000);
	assert_true(*counter != c1);

	bool oom = true;
	CHECK(cgroup_oom_killed(cg, &oom, cerr));
	assert_false(oom);

	_cleanup_error_ struct scow_error *derr = NULL;
	assert_int_equal(cgroup_destroy(cg, &derr), -1);
	assert_int_equal(derr->errnum, EBUSY);

	long long t0 = now_us();
	CHECK(cgroup_kill_all(cg, cerr));
	print_message("v2 kill_all (cgroup.kill): %lld us\n", now_us() - t0);
	size_t n = 1;
	pids_contain(cg, child, &n);
	assert_int_equal(n, 0);
	int st = reap(child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	munmap((void *)counter, 4096);

	CHECK(cgroup_destroy(cg, cerr));
	assert_false(path_exists(leaf));
}

static uint32_t count_progs(int fd)
{
	uint32_t ids[16];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = 16;
	if (syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a)) < 0)
		fail_msg("BPF_PROG_QUERY: %s", strerror(errno));
	return a.query.prog_cnt;
}

static void test_v2_devices(void **state)
{
	(void)state;
	if (!need_v2_mount("v2 BPF device program"))
		return;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(v2_mnt, parent_v2, "dev", &cg, cerr));
	int cgfd = cg->layout->h[cg->layout->unified].fd;
	struct cgroup_device_rule extra[] = {{'c', 1, 3, "rwm", false}, {'c', 42, -1, "r", true}};
	_cleanup_error_ struct scow_error *lerr = NULL;
	if (cgroup_set_devices(cg, false, extra, ARRAY_SIZE(extra), &lerr) < 0) {
		if (lerr->errnum == EPERM || lerr->errnum == ENOSYS || lerr->errnum == EINVAL) {
			msg_skip("v2 BPF device program", lerr->msg);
			CHECK(cgroup_destroy(cg, cerr));
			return;
		}
		fail_msg("set_devices: %s", lerr->msg);
	}
	assert_int_equal(count_progs(cgfd), 1);
	_cleanup_free_ char *dir = make_nodes();
	unsigned char e[4];
	probe_devices(cg, dir, e);
	assert_int_equal(e[0], EPERM); /* 1:3 denied by the extra rule */
	assert_int_equal(e[1], 0);     /* 1:5 allowed by default */
	assert_int_equal(e[2], ENXIO); /* 42:* r allowed; no driver */
	assert_int_equal(e[3], EPERM); /* 1:1 denied by default */

	/* Again: the old program is replaced, not stacked. */
	CHECK(cgroup_set_devices(cg, false, NULL, 0, cerr));
	assert_int_equal(count_progs(cgfd), 1);
	probe_devices(cg, dir, e);
	assert_int_equal(e[0], 0);     /* 1:3 allowed by default */
	assert_int_equal(e[2], EPERM); /* 42:42 not allowed any more */

	/* Privileged: no program at all. */
	CHECK(cgroup_set_devices(cg, true, NULL, 0, cerr));
	assert_int_equal(count_progs(cgfd), 0);
	probe_devices(cg, dir, e);
	assert_int_equal(e[0], 0);
	assert_int_equal(e[2], ENXIO);
	assert_int_not_equal(e[3], EPERM);

	CHECK(cgroup_destroy(cg, cerr));
	assert_int_equal(fs_rm_rf_at(AT_FDCWD, dir, NULL), 0);
}

static void test_v2_kill_tree_and_open(void **state)
{
	(void)state;
	if (!need_v2_mount("v2 kill_all of a tree"))
		return;
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	CHECK(cgroup_create(v2_mnt, parent_v2, "tree", &cg, cerr));
	int go;
	pid_t child = spawn_gated(&go, fork_tree, NULL);
	CHECK(cgroup_attach(cg, child, cerr));
	release(go);
	size_t n = 0;
	for (int i = 0; i < 500; i++) {
		pids_contain(cg, child, &n);
		if (n >= 10)
			break;
		usleep(2000);
	}
	assert_true(n >= 10);
	_cleanup_cgroup_ struct cgroup *other = NULL;
	CHECK(cgroup_open(v2_mnt, cg->path, &other, cerr));
	assert_int_equal(other->mode, CGROUP_V2);
	CHECK(cgroup_kill_all(other, cerr));
	pids_contain(cg, child, &n);
	assert_int_equal(n, 0);
	int st = reap(child);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	CHECK(cgroup_destroy(other, cerr));
}

static void test_v2_kill_loop(void **state)
{
	(void)state;
	if (!need_v2_mount("v2 freeze/kill loop"))
		return;
	kill_loop_on(v2_mnt, parent_v2, &cgroup_ops_v2, "v2");
}

static void test_v2_timing(void **state)
{
	(void)state;
	if (!need_v2_mount("v2 timing"))
		return;
	time_cycle(v2_mnt, parent_v2, "v2 create+attach+destroy");
}

int main(void)
{
	snprintf(parent_v1, sizeof(parent_v1), "scow-unit-%d", (int)getpid());
	snprintf(parent_v2, sizeof(parent_v2), "scow-unit-%d-v2", (int)getpid());
	const struct CMUnitTest pure[] = {
		cmocka_unit_test_teardown(test_parent_normalize, teardown_real),
		cmocka_unit_test_teardown(test_bad_arguments, teardown_real),
		cmocka_unit_test_teardown(test_limits_validation, teardown_real),
		cmocka_unit_test_teardown(test_bpf_program_shape, teardown_real),
		cmocka_unit_test_teardown(test_fake_detect, teardown_real),
		cmocka_unit_test_teardown(test_fake_v1_writes, teardown_real),
		cmocka_unit_test_teardown(test_fake_v1_no_devices, teardown_real),
		cmocka_unit_test_teardown(test_fake_v2_writes, teardown_real),
		cmocka_unit_test_teardown(test_fake_create_undo, teardown_real),
	};
	const struct CMUnitTest host[] = {
		cmocka_unit_test_teardown(test_host_lifecycle, teardown_real),
		cmocka_unit_test_teardown(test_host_devices, teardown_real),
		cmocka_unit_test_teardown(test_host_kill_tree, teardown_real),
		cmocka_unit_test_teardown(test_host_kill_loop, teardown_real),
		cmocka_unit_test_teardown(test_host_attach_gone, teardown_real),
		cmocka_unit_test_teardown(test_host_limits_and_oom, teardown_real),
		cmocka_unit_test_teardown(test_host_timing, teardown_real),
	};
	const struct CMUnitTest v2[] = {
		cmocka_unit_test_teardown(test_v2_lifecycle, teardown_real),
		cmocka_unit_test_teardown(test_v2_devices, teardown_real),
		cmocka_unit_test_teardown(test_v2_kill_tree_and_open, teardown_real),
		cmocka_unit_test_teardown(test_v2_kill_loop, teardown_real),
		cmocka_unit_test_teardown(test_v2_timing, teardown_real),
	};
	int fails = cmocka_run_group_tests_name("cgroup: pure and fake trees", pure, NULL,
						teardown_real);
	fails += cmocka_run_group_tests_name("cgroup: host v1/hybrid", host, NULL, teardown_real);
	fails += cmocka_run_group_tests_name("cgroup: v2 on a private mount", v2, setup_v2_mount,
					     teardown_v2_mount);
	return fails;
}
