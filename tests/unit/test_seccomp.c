/* seccomp: Docker's profile format, the default profile, and real
 * enforcement checked in forked children (each child sets no_new_privs,
 * installs a filter, runs probes and sends the errno of each back through a
 * pipe; the parent asserts). Every enforcement probe is chosen so that the
 * kernel alone would answer differently from the filter (EINVAL, EFAULT,
 * ENOENT, success), and the baseline test shows those kernel answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <sched.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ns/seccomp.h"
#include "util/cleanup.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

#define CAP_BIT(n) (UINT64_C(1) << (n))
#define DOCKER_CAPS SECCOMP_DOCKER_DEFAULT_CAPS
#define SYS_ADMIN_BIT CAP_BIT(21)
#define NET_RAW_BIT CAP_BIT(13)
#define SYS_CHROOT_BIT CAP_BIT(18)
#define ALL_CAPS (CAP_BIT(41) - 1)

/* errno of a failed call, 0 on success. */
#define ERR(call) ((call) < 0 ? errno : 0)

/* ---- running probes in a child ------------------------------------------ */

#define MAX_PROBES 32

struct probes {
	int n;
	int err[MAX_PROBES];
};

typedef void (*probe_fn)(struct probes *r);

static void add(struct probes *r, int e)
{
	if (r->n < MAX_PROBES)
		r->err[r->n++] = e;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(3);
		p += n;
		len -= (size_t)n;
	}
}

static void child(int fd, const struct seccomp_profile *p, uint64_t caps, probe_fn fn)
{
	struct probes r;
	memset(&r, 0, sizeof(r));
	struct scow_error *err = NULL;
	struct rlimit no_core = {0, 0};
	/* SIGSYS dumps core by default: not in the build directory */
	if (setrlimit(RLIMIT_CORE, &no_core) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(2);
	if (p && seccomp_profile_install(p, caps, &err) < 0) {
		dprintf(2, "seccomp_profile_install: %s\n", err->msg);
		_exit(2);
	}
	fn(&r);
	write_all(fd, &r, sizeof(r));
	_exit(0); /* no atexit handlers, no leak checker under the filter */
}

/* Runs fn in a child under p (NULL: no filter); returns its wait status and
 * fills *out when the child got as far as reporting. */
static int run_probes(const struct seccomp_profile *p, uint64_t caps, probe_fn fn,
		      struct probes *out)
{
	int fds[2];
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], p, caps, fn);
	}
	close(fds[1]);
	memset(out, 0, sizeof(*out));
	size_t got = 0;
	while (got < sizeof(*out)) {
		ssize_t n = read(fds[0], (char *)out + got, sizeof(*out) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		assert_int_equal(got, sizeof(*out));
	return status;
}

/* Valgrind runs forked children too, but emulates neither seccomp(2) nor a
 * clone() with namespace flags: the enforcement tests skip themselves
 * there (the filter is still built in-process by test_export_bpf). */
static bool under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");
	return preload && strstr(preload, "vgpreload");
}

#define SKIP_UNDER_VALGRIND()                                                                      \
	do {                                                                                       \
		if (under_valgrind())                                                              \
			skip();                                                                    \
	} while (0)

static void run_ok(const struct seccomp_profile *p, uint64_t caps, probe_fn fn,
		   struct probes *out)
{
	int status = run_probes(p, caps, fn, out);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("probe child failed: status %#x", status);
}

static struct seccomp_profile *parse_ok(const char *json)
{
	struct seccomp_profile *p = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	if (seccomp_profile_parse(json, strlen(json), &p, &err) < 0)
		fail_msg("parse: %s", err->msg);
	return p;
}

static struct seccomp_profile *default_profile(void)
{
	struct seccomp_profile *p = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	if (seccomp_profile_load(NULL, &p, &err) < 0)
		fail_msg("load default: %s", err->msg);
	return p;
}

/* ---- 32-bit syscalls on x86_64 ------------------------------------------ */

#if defined(__x86_64__)
#define IA32_GETPID 20
#define IA32_GETPPID 64
#define IA32_UNSHARE 310

/* A 32-bit (ia32 ABI) syscall from 64-bit code; returns -errno on error. */
static long int80(long nr, long a1)
{
	long ret;
	__asm__ volatile("int $0x80"
			 : "=a"(ret)
			 : "a"(nr), "b"(a1)
			 : "memory", "cc", "r8", "r9", "r10", "r11");
	return ret;
}

static void probe_ia32_getpid(struct probes *r)
{
	long pid = int80(IA32_GETPID, 0);
	add(r, pid == getpid() ? 0 : pid < 0 ? (int)-pid : -1);
}

/* Whether the kernel runs ia32 syscalls (CONFIG_IA32_EMULATION and not
 * disabled with ia32_emulation=0); without, int 0x80 kills the caller. */
static bool have_ia32(void)
{
	struct probes r;
	int status = run_probes(NULL, 0, probe_ia32_getpid, &r);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 && r.err[0] == 0;
}
#endif

/* ---- the default profile's facts ---------------------------------------- */

enum {
	P_GETPID,
	P_UNSHARE_NS,	   /* unshare(CLONE_NEWNS) */
	P_UNSHARE_BAD,	   /* unshare(CLONE_NEWNS | 1): the kernel says EINVAL */
	P_CLONE3,	   /* clone3(NULL, 0): the kernel says EINVAL */
	P_CLONE_NS,	   /* clone(CLONE_NEWNS | CLONE_FS): the kernel says EINVAL */
	P_FORK,		   /* fork(): clone without namespace flags */
	P_MOUNT,	   /* mount with bad pointers: the kernel says EFAULT */
	P_SOCKET_VSOCK,
	P_SOCKET_ALG,
	P_SOCKET_VSOCK_HI, /* AF_VSOCK with upper bits set */
	P_SOCKET_UNIX,
	P_SOCKET_INET,
	P_SOCKET_UNIX_HI,  /* AF_UNIX with upper bits set: the kernel truncates */
	P_PERS_QUERY,	   /* personality(0xffffffff) */
	P_PERS_LINUX,	   /* personality(PER_LINUX) */
	P_PERS_NORAND,	   /* personality(ADDR_NO_RANDOMIZE) */
	P_PERS_RIE,	   /* personality(READ_IMPLIES_EXEC) */
	P_CHROOT,	   /* chroot("/nonexistent"): the kernel says ENOENT */
	P_KCMP,
	P_PTRACE,	   /* ptrace of a missing pid: the kernel says ESRCH */
	P_SETNS,	   /* setns(-1, 0): the kernel says EBADF */
	P_COUNT
};

static void probe_default(struct probes *r)
{
	add(r, ERR(syscall(SYS_getpid)));
	add(r, ERR(unshare(CLONE_NEWNS)));
	add(r, ERR(unshare(CLONE_NEWNS | 1)));
	add(r, ERR(syscall(SYS_clone3, NULL, 0)));
	add(r, ERR(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0)));
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	int st = 0;
	add(r, pid < 0 ? errno : waitpid(pid, &st, 0) == pid && st == 0 ? 0 : -1);
	add(r, ERR(syscall(SYS_mount, 1L, 1L, 1L, 0L, 0L)));
	long families[] = {AF_VSOCK, AF_ALG, 0x100000000L | AF_VSOCK, AF_UNIX, AF_INET,
			   0x100000000L | AF_UNIX};
	for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
		int type = families[i] == AF_ALG ? SOCK_SEQPACKET : SOCK_STREAM;
		long fd = syscall(SYS_socket, families[i], type, 0);
		add(r, fd < 0 ? errno : 0);
		if (fd >= 0)
			close((int)fd);
	}
	add(r, ERR(syscall(SYS_personality, 0xffffffffL)));
	add(r, ERR(syscall(SYS_personality, (long)PER_LINUX)));
	add(r, ERR(syscall(SYS_personality, (long)ADDR_NO_RANDOMIZE)));
	add(r, ERR(syscall(SYS_personality, (long)READ_IMPLIES_EXEC)));
	add(r, ERR(chroot("/nonexistent-scow-seccomp-test")));
	add(r, ERR(syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM, 0L, 0L)));
	add(r, ERR(syscall(SYS_ptrace, PTRACE_PEEKDATA, 0x7ffffff0L, 0L, 0L)));
	add(r, ERR(syscall(SYS_setns, -1L, 0L)));
}

/* Without a filter the probes get the kernel's own answers: this is what
 * makes the filtered results below meaningful. */
static void test_baseline_without_filter(void **state)
{
	(void)state;
	SKIP_UNDER_VALGRIND();
	struct probes r;
	run_ok(NULL, 0, probe_default, &r);
	assert_int_equal(r.n, P_COUNT);
	assert_int_equal(r.err[P_GETPID], 0);
	assert_int_equal(r.err[P_UNSHARE_BAD], EINVAL);
	assert_int_equal(r.err[P_CLONE3], EINVAL);
	assert_int_equal(r.err[P_CLONE_NS], EINVAL);
	assert_int_equal(r.err[P_FORK], 0);
	assert_int_equal(r.err[P_MOUNT], EFAULT);
	assert_int_not_equal(r.err[P_SOCKET_VSOCK], EPERM);
	assert_int_not_equal(r.err[P_SOCKET_ALG], EPERM);
	assert_int_equal(r.err[P_SOCKET_UNIX_HI], 0);
	assert_int_equal(r.err[P_PERS_NORAND], 0);
	assert_int_equal(r.err[P_PERS_RIE], 0);
	assert_int_equal(r.err[P_CHROOT], ENOENT);
	assert_int_equal(r.err[P_PTRACE], ESRCH);
	assert_int_equal(r.err[P_SETNS], EBADF);
}

static void test_default_docker_caps(void **state)
{
	(void)state;
	SKIP_UNDER_VALGRIND();
	struct seccomp_profile *p = default_profile();
	struct probes r;
	run_ok(p, DOCKER_CAPS, probe_default, &r);
	assert_int_equal(r.n, P_COUNT);
	assert_int_equal(r.err[P_GETPID], 0);
	assert_int_equal(r.err[P_UNSHARE_NS], EPERM);
	assert_int_equal(r.err[P_UNSHARE_BAD], EPERM);
	assert_int_equal(r.err[P_CLONE3], ENOSYS);
	assert_int_equal(r.err[P_CLONE_NS], EPERM);
	assert_int_equal(r.err[P_FORK], 0);
	assert_int_equal(r.err[P_MOUNT], EPERM);
	assert_int_equal(r.err[P_SOCKET_VSOCK], EPERM);
	assert_int_equal(r.err[P_SOCKET_ALG], EPERM);
	assert_int_equal(r.err[P_SOCKET_VSOCK_HI], EPERM);
	assert_int_equal(r.err[P_SOCKET_UNIX], 0);
	assert_int_equal(r.err[P_SOCKET_INET], 0);
	assert_int_equal(r.err[P_SOCKET_UNIX_HI], 0);
	assert_int_equal(r.err[P_PERS_QUERY], 0);
	assert_int_equal(r.err[P_PERS_LINUX], 0);
	assert_int_equal(r.err[P_PERS_NORAND], EPERM);
	assert_int_equal(r.err[P_PERS_RIE], EPERM);
	/* CAP_SYS_CHROOT is in Docker's set: chroot reaches the kernel. */
	assert_int_equal(r.err[P_CHROOT], ENOENT);
	assert_int_equal(r.err[P_KCMP], EPERM);
	assert_int_equal(r.err[P_PTRACE], ESRCH); /* minKernel 4.8 */
	assert_int_equal(r.err[P_SETNS], EPERM);
	seccomp_profile_free(p);
}

static void test_default_sys_admin(void **state)
{
	(void)state;
	SKIP_UNDER_VALGRIND();
	struct seccomp_profile *p = default_profile();
	struct probes r;
	run_ok(p, DOCKER_CAPS | SYS_ADMIN_BIT, probe_default, &r);
	assert_int_equal(r.n, P_COUNT);
	/* The filter lets these through: the kernel answers. */
	assert_int_equal(r.err[P_UNSHARE_BAD], EINVAL);
	assert_int_equal(r.err[P_CLONE3], EINVAL);
	assert_int_equal(r.err[P_CLONE_NS], EINVAL);
	assert_int_equal(r.err[P_MOUNT], EFAULT);
	assert_int_equal(r.err[P_SETNS], EBADF);
	assert_int_equal(r.err[P_FORK], 0);
	/* ... but not these. */
	assert_int_equal(r.err[P_SOCKET_VSOCK], EPERM);
	assert_int_equal(r.err[P_SOCKET_ALG], EPERM);
	assert_int_equal(r.err[P_PERS_NORAND], EPERM);
	assert_int_equal(r.err[P_KCMP], EPERM);
	seccomp_profile_free(p);
}

static void test_default_no_caps(void **state)
{
	(void)state;
	SKIP_UNDER_VALGRIND();
	struct seccomp_profile *p = default_profile();
	struct probes r;
	run_ok(p, 0, probe_default, &r);
	assert_int_equal(r.err[P_GETPID], 0);
	assert_int_equal(r.err[P_CHROOT], EPERM);
	assert_int_equal(r.err[P_UNSHARE_BAD], EPERM);
	assert_int_equal(r.err[P_CLONE3], ENOSYS);
	assert_int_equal(r.err[P_FORK], 0);
	/* with CAP_SYS_PTRACE kcmp reaches the kernel */
	run_ok(p, CAP_BIT(19), probe_default, &r);
	assert_int_equal(r.err[P_KCMP], 0);
	seccomp_profile_free(p);
}

static void test_default_counts(void **state)
{
	(void)state;
	struct seccomp_profile *p = default_profile();
	size_t docker = seccomp_profile_count_allowed(p, DOCKER_CAPS);
	size_t none = seccomp_profile_count_allowed(p, 0);
	size_t admin = seccomp_profile_count_allowed(p, DOCKER_CAPS | SYS_ADMIN_BIT);
	size_t all = seccomp_profile_count_allowed(p, ALL_CAPS);
	print_message("default profile: %zu syscalls allowed with Docker's caps, %zu rules\n",
		      docker, seccomp_profile_count_rules(p, DOCKER_CAPS));
	assert_true(docker > 300);
	/* of Docker's default capabilities only CAP_SYS_CHROOT opens a syscall */
	assert_int_equal(docker, none + 1);
	assert_true(admin > docker + 15);
	assert_true(all > admin);
	assert_true(seccomp_profile_count_rules(p, DOCKER_CAPS) > docker);
	seccomp_profile_free(p);
}

#if defined(__x86_64__)
static void probe_ia32(struct probes *r)
{
	long pid = int80(IA32_GETPID, 0);
	add(r, pid == getpid() ? 0 : pid < 0 ? (int)-pid : -1);
	long rc = int80(IA32_UNSHARE, CLONE_NEWNS | 1);
	add(r, rc < 0 ? (int)-rc : 0);
	rc = int80(IA32_UNSHARE, CLONE_NEWNS);
	add(r, rc < 0 ? (int)-rc : 0);
}
#endif

/* The x86 sub-architecture is in the filter: 32-bit syscalls are filtered
 * (not killed as a foreign arch, not let through). */
static void test_default_ia32(void **state)
{
	(void)state;
	SKIP_UNDER_VALGRIND();
#if defined(__x86_64__)
	if (!have_ia32())
		skip();
	struct probes r;
	run_ok(NULL, 0, probe_ia32, &r);
	assert_int_equal(r.err[0], 0);
	assert_int_equal(r.err[1], EINVAL); /* baseline: the kernel's answer */
	struct seccomp_profile *p = default_profile();
	run_ok(p, DOCKER_CAPS, probe_ia32, &r);
	assert_int_equal(r.err[0], 0);
	assert_int_equal(r.err[1], EPERM);
	assert_int_equal(r.err[2], EPERM);
	run_ok(p, DOCKER_CAPS | SYS_ADMIN_BIT, probe_ia32, &r);
	assert_int_equal(r.err[1], EINVAL);
	seccomp_profile_free(p);
#else
	skip();
#endif
}

/* A profile that lists no sub-architecture: a 32-bit syscall is a foreign
 * arch and libseccomp's bad-arch action kills the thread; with
 * "architectures" or an archMap entry for the native arch it is filtered. */
static void test_arch_lists(void **state)
{
	(void)state;
	SKIP_UNDER_VALGRIND();
#if defined(__x86_64__)
	if (!have_ia32())
		skip();
	struct probes r;
	struct seccomp_profile *p = parse_ok(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"unshare\"],"
		"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":107}]}");
	int status = run_probes(p, 0, probe_ia32, &r);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	seccomp_profile_free(p);

	p = parse_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\","
		     "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
		     "\"syscalls\":[{\"names\":[\"unshare\"],\"action\":\"SCMP_ACT_ERRNO\","
		     "\"errnoRet\":107}]}");
	run_ok(p, 0, probe_ia32, &r);
	assert_int_equal(r.err[0], 0);
	assert_int_equal(r.err[1], 107);
	seccomp_profile_free(p);

	p = parse_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":["
		     "{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[\"SCMP_ARCH_ARM\"]},"
		     "{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":"
		     "[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]}],"
		     "\"syscalls\":[{\"names\":[\"unshare\"],\"action\":\"SCMP_ACT_ERRNO\","
		     "\"errnoRet\":108}]}");
	run_ok(p, 0, probe_ia32, &r);
	assert_int_equal(r.err[0], 0);
	assert_int_equal(r.err[1], 108);
	seccomp_profile_free(p);
#else
	skip();
#endif
}

/* ---- user profiles: actions, arguments, conditions ----------------------- */

static void probe_custom(struct probes *r)
{
	add(r, ERR(syscall(SYS_getppid)));		     /* 0 */
	add(r, ERR(syscall(SYS_getpgid, 0x25L)));	     /* 1: masked hit */
	add(r, ERR(syscall(SYS_getpgid, 0x35L)));	     /* 2: masked miss */
	add(r, ERR(syscall(SYS_getsid, 5L)));		     /* 3: OR hit */
	add(r, ERR(syscall(SYS_getsid, 7L)));		     /* 4: OR hit */
	add(r, ERR(syscall(SYS_getsid, 6L)));		     /* 5: OR miss */
	add(r, ERR(syscall(SYS_getpriority, 1L, 4242L)));    /* 6: AND hit */
	add(r, ERR(syscall(SYS_getpriority, 1L, 4243L)));    /* 7: AND miss */
	add(r, ERR(syscall(SYS_getpriority, 0L, 4242L)));    /* 8: AND miss */
	add(r, ERR(syscall(SYS_sched_get_priority_max, 101L))); /* 9: GT hit */
	add(r, ERR(syscall(SYS_sched_get_priority_max, 100L))); /* 10: GT miss */
	add(r, ERR(syscall(SYS_umask, 022L)));		     /* 11: includes caps */
	add(r, ERR(syscall(SYS_getuid)));		     /* 12: excludes caps */
	add(r, ERR(syscall(SYS_getgid)));		     /* 13: two caps needed */
	add(r, ERR(syscall(SYS_geteuid)));		     /* 14: minKernel 999.0 */
	add(r, ERR(syscall(SYS_getegid)));		     /* 15: arches: native */
	add(r, ERR(syscall(SYS_gettid)));		     /* 16: arches: other */
}

static const char custom_profile[] =
	"{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
	"{\"names\": [\"getppid\", \"no_such_syscall_xyz\"], \"action\": \"SCMP_ACT_ERRNO\","
	" \"errnoRet\": 99},"
	"{\"names\": [\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 101,"
	" \"args\": [{\"index\": 0, \"value\": 240, \"valueTwo\": 32, \"op\": \"SCMP_CMP_MASKED_EQ\"}]},"
	"{\"name\": \"getsid\", \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 102,"
	" \"args\": [{\"index\": 0, \"value\": 5, \"op\": \"SCMP_CMP_EQ\"},"
	"            {\"index\": 0, \"value\": 7, \"op\": \"SCMP_CMP_EQ\"}]},"
	"{\"names\": [\"getpriority\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 103,"
	" \"args\": [{\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"},"
	"            {\"index\": 1, \"value\": 4242, \"op\": \"SCMP_CMP_EQ\"}]},"
	"{\"names\": [\"sched_get_priority_max\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 104,"
	" \"args\": [{\"index\": 0, \"value\": 100, \"op\": \"SCMP_CMP_GT\"}]},"
	"{\"names\": [\"umask\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 105,"
	" \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\"]}},"
	"{\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 106,"
	" \"excludes\": {\"caps\": [\"CAP_NET_RAW\"]}},"
	"{\"names\": [\"getgid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 107,"
	" \"includes\": {\"caps\": [\"CAP_SYS_ADMIN\", \"CAP_BPF\"]}},"
	"{\"names\": [\"geteuid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 108,"
	" \"includes\": {\"minKernel\": \"999.0\"}},"
	"{\"names\": [\"getegid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 109,"
	" \"includes\": {\"arches\": [\"amd64\", \"arm64\", \"ppc64le\", \"s390x\", \"riscv64\","
	"   \"386\", \"arm\", \"mips64le\", \"loong64\"]}, \"comment\": \"every arch scow runs on\"},"
	"{\"names\": [\"gettid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 110,"
	" \"includes\": {\"arches\": [\"sparc64\"]}},"
	"{\"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"= default: ignored\"}"
	"]}";

static void test_custom_profile_args(void **state)
{
	(void)state;
	SKIP_UNDER_VALGRIND();
	struct seccomp_profile *p = parse_ok(custom_profile);
	struct probes r;
	run_ok(p, DOCKER_CAPS, probe_custom, &r);
	assert_int_equal(r.err[0], 99);
	assert_int_equal(r.err[1], 101);
	assert_int_not_equal(r.err[2], 101);
	assert_int_equal(r.err[3], 102);
	assert_int_equal(r.err[4], 102);
	assert_int_not_equal(r.err[5], 102);
	assert_int_equal(r.err[6], 103);
	assert_int_not_equal(r.err[7], 103);
	assert_int_not_equal(r.err[8], 103);
	assert_int_equal(r.err[9], 104);
	assert_int_equal(r.err[10], EINVAL);
	assert_int_equal(r.err[14], 0);	  /* minKernel 999.0 not reached */
	assert_int_equal(r.err[15], 109); /* native arch listed */
	assert_int_equal(r.err[16], 0);	  /* native arch not listed */
	seccomp_profile_free(p);
}

static void test_custom_profile_caps(void **state)
{
	(void)state;
	SKIP_UNDER_VALGRIND();
	struct seccomp_profile *p = parse_ok(custom_profile);
	struct probes r;
	/* Docker's caps: no CAP_SYS_ADMIN, CAP_NET_RAW held */
	run_ok(p, DOCKER_CAPS, probe_custom, &r);
	assert_int_equal(r.err[11], 0);
	assert_int_equal(r.err[12], 0);
	assert_int_equal(r.err[13], 0);
	/* CAP_SYS_ADMIN: the includes rule applies; CAP_BPF still missing */
	run_ok(p, DOCKER_CAPS | SYS_ADMIN_BIT, probe_custom, &r);
	assert_int_equal(r.err[11], 105);
	assert_int_equal(r.err[13], 0);
	/* both capabilities */
	run_ok(p, DOCKER_CAPS | SYS_ADMIN_BIT | CAP_BIT(39), probe_custom, &r);
	assert_int_equal(r.err[13], 107);
	/* no CAP_NET_RAW: the excludes rule applies */
	run_ok(p, DOCKER_CAPS & ~NET_RAW_BIT, probe_custom, &r);
	assert_int_equal(r.err[12], 106);
	assert_int_equal(r.err[11], 0);

	/* counts follow the same conditions; the unknown name is skipped */
	size_t base = seccomp_profile_count_rules(p, DOCKER_CAPS);
	assert_int_equal(base, 6);
	assert_int_equal(seccomp_profile_count_rules(p, DOCKER_CAPS | SYS_ADMIN_BIT), base + 1);
	assert_int_equal(seccomp_profile_count_rules(p, 0), base + 1);
	assert_int_equal(seccomp_profile_count_allowed(p, DOCKER_CAPS), 0);
	seccomp_profile_free(p);
}

static void probe_getppid(struct probes *r)
{
	add(r, ERR(syscall(SYS_getppid)));
}

static void test_kill_and_default_errno(void **state)
{
	(void)state;
	SKIP_UNDER_VALGRIND();
	struct probes r;
	struct seccomp_profile *p = parse_ok(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
		"\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}");
	int status = run_probes(p, 0, probe_getppid, &r);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSYS);
	seccomp_profile_free(p);

	/* errnoRet defaults to EPERM; flags and comments are accepted */
	p = parse_ok("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
		     "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_ERRNO\","
		     "\"comment\":\"x\",\"args\":null,\"includes\":{},\"excludes\":{}}]}");
	run_ok(p, 0, probe_getppid, &r);
	assert_int_equal(r.err[0], EPERM);
	seccomp_profile_free(p);
}

/* ---- malformed profiles ------------------------------------------------- */

#define HDR "{\"defaultAction\":\"SCMP_ACT_ALLOW\","
#define RULE(x) HDR "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"," x "}]}"
#define ARG(x) RULE("\"args\":[{" x "}]")

static const struct {
	const char *json;
	const char *msg;
} bad_profiles[] = {
	{"{", "invalid JSON at line"},
	{"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultAction\":\"SCMP_ACT_LOG\"}",
	 "invalid JSON"},
	{"[]", "expected a JSON object"},
	{"{}", "defaultAction: missing"},
	{"{\"defaultAction\":\"SCMP_ACT_FOO\"}", "defaultAction: unknown action \"SCMP_ACT_FOO\""},
	{"{\"defaultAction\":7}", "defaultAction: expected a string"},
	{"{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}",
	 "defaultErrnoRet: -1 is out of range"},
	{"{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "SCMP_ACT_NOTIFY is not supported"},
	{HDR "\"syscalls\":{}}", "syscalls: expected an array"},
	{HDR "\"syscalls\":[1]}", "syscalls[0]: expected an object"},
	{HDR "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
	     "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
	     "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
	     "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_FOO\"}]}",
	 "syscalls[3].action: unknown action \"SCMP_ACT_FOO\""},
	{HDR "\"syscalls\":[{\"names\":[\"read\"]}]}", "syscalls[0].action: missing"},
	{HDR "\"syscalls\":[{\"names\":\"read\",\"action\":\"SCMP_ACT_ERRNO\"}]}",
	 "syscalls[0].names: expected an array"},
	{HDR "\"syscalls\":[{\"names\":[\"read\",1],\"action\":\"SCMP_ACT_ERRNO\"}]}",
	 "syscalls[0].names[1]: expected a string"},
	{RULE("\"name\":\"write\""), "syscalls[0]: both name and names given"},
	{RULE("\"errnoRet\":70000"), "syscalls[0].errnoRet: 70000 is out of range"},
	{RULE("\"errnoRet\":\"1\""), "syscalls[0].errnoRet: expected an integer"},
	{RULE("\"args\":{}"), "syscalls[0].args: expected an array"},
	{RULE("\"args\":[1]"), "syscalls[0].args[0]: expected an object"},
	{ARG("\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_FOO\""),
	 "syscalls[0].args[0].op: unknown operator \"SCMP_CMP_FOO\""},
	{ARG("\"index\":0,\"value\":1"), "syscalls[0].args[0].op: missing"},
	{ARG("\"value\":1,\"op\":\"SCMP_CMP_EQ\""), "syscalls[0].args[0].index: missing"},
	{ARG("\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\""),
	 "syscalls[0].args[0].index: 6 is out of range"},
	{ARG("\"index\":0,\"value\":-1,\"op\":\"SCMP_CMP_EQ\""),
	 "syscalls[0].args[0].value: -1 is out of range"},
	{ARG("\"index\":0,\"value\":\"1\",\"op\":\"SCMP_CMP_EQ\""),
	 "syscalls[0].args[0].value: expected an integer"},
	{ARG("\"index\":0,\"value\":1,\"valueTwo\":[],\"op\":\"SCMP_CMP_MASKED_EQ\""),
	 "syscalls[0].args[0].valueTwo: expected an integer"},
	{RULE("\"includes\":[]"), "syscalls[0].includes: expected an object"},
	{RULE("\"includes\":{\"caps\":[\"CAP_SYS_ADMIN\",3]}"),
	 "syscalls[0].includes.caps[1]: expected a string"},
	{RULE("\"excludes\":{\"arches\":\"amd64\"}"), "syscalls[0].excludes.arches: expected an array"},
	{RULE("\"includes\":{\"minKernel\":\"four\"}"),
	 "syscalls[0].includes.minKernel: invalid kernel version \"four\""},
	{RULE("\"comment\":1"), "syscalls[0].comment: expected a string"},
	{HDR "\"architectures\":[\"SCMP_ARCH_FOO\"]}",
	 "architectures[0]: unknown architecture \"SCMP_ARCH_FOO\""},
	{HDR "\"architectures\":[\"SCMP_ARCH_X86\"],\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86\"}]}",
	 "both architectures and archMap given"},
	{HDR "\"archMap\":[{\"subArchitectures\":[]}]}", "archMap[0].architecture: missing"},
	{HDR "\"archMap\":[{\"architecture\":\"SCMP_ARCH_PPC\",\"subArchitectures\":[1]}]}",
	 "archMap[0].subArchitectures[0]: expected a string"},
#if defined(__x86_64__)
	{HDR "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":"
	     "[\"SCMP_ARCH_X86\",\"SCMP_ARCH_NOPE\"]}]}",
	 "archMap[0].subArchitectures[1]: unknown architecture \"SCMP_ARCH_NOPE\""},
#endif
	{HDR "\"flags\":[\"SECCOMP_FILTER_FLAG_FOO\"]}", "flags[0]: unknown flag"},
	{HDR "\"listenerPath\":\"/run/agent.sock\"}", "listenerPath: seccomp agents are not supported"},
};

static void test_malformed_profiles(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_profiles); i++) {
		struct seccomp_profile *p = NULL;
		_cleanup_error_ struct scow_error *err = NULL;
		const char *json = bad_profiles[i].json;
		if (seccomp_profile_parse(json, strlen(json), &p, &err) == 0)
			fail_msg("accepted: %s", json);
		assert_null(p);
		assert_non_null(err);
		if (!strstr(err->msg, bad_profiles[i].msg))
			fail_msg("%s\n  got:  %s\n  want: %s", json, err->msg, bad_profiles[i].msg);
		/* the same without an error object must fail too */
		assert_int_equal(seccomp_profile_parse(json, strlen(json), &p, NULL), -1);
		assert_null(p);
	}
}

/* Unknown syscall names and architectures of other machines are fine. */
static void test_lenient_parts(void **state)
{
	(void)state;
	struct seccomp_profile *p = parse_ok(
		HDR "\"archMap\":[{\"architecture\":\"SCMP_ARCH_SOMETHING_NEW\","
		"\"subArchitectures\":[\"SCMP_ARCH_OTHER\"]}],\"unknownKey\":1,"
		"\"syscalls\":[{\"names\":[\"no_such_syscall_xyz\"],\"action\":\"SCMP_ACT_ERRNO\"},"
		"{\"names\":[],\"action\":\"SCMP_ACT_LOG\"},"
		"{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"includes\":{\"caps\":[\"CAP_NOT_A_CAP\"]}},"
		"{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ERRNO\","
		"\"excludes\":{\"caps\":[\"CAP_NOT_A_CAP\"],\"minKernel\":\"999.1\"}}]}");
	/* only the excludes rule applies: an unknown cap is never held */
	assert_int_equal(seccomp_profile_count_rules(p, ALL_CAPS), 1);
	seccomp_profile_free(p);
}

/* ---- files --------------------------------------------------------------- */

static char *tmp_dir(void)
{
	char *t = strdup("/tmp/scow-unit-seccomp.XXXXXX");
	assert_non_null(mkdtemp(t));
	return t;
}

static char *write_file(const char *dir, const char *name, const char *text)
{
	char *path = NULL;
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

static void expect_load_error(const char *path, const char *msg, int errnum)
{
	struct seccomp_profile *p = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(seccomp_profile_load(path, &p, &err), -1);
	assert_null(p);
	if (!strstr(err->msg, msg))
		fail_msg("got %s, want %s", err->msg, msg);
	if (errnum)
		assert_int_equal(err->errnum, errnum);
}

static void test_profile_files(void **state)
{
	(void)state;
	_cleanup_free_ char *dir = tmp_dir();
	_cleanup_free_ char *good = write_file(dir, "good.json", custom_profile);
	_cleanup_free_ char *bad = write_file(
		dir, "bad.json",
		HDR "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
		    "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
		    "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},"
		    "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_FOO\"}]}");
	_cleanup_free_ char *link = NULL, *big = NULL, *missing = NULL, *want = NULL;
	assert_true(asprintf(&link, "%s/link.json", dir) > 0);
	assert_true(asprintf(&big, "%s/big.json", dir) > 0);
	assert_true(asprintf(&missing, "%s/missing.json", dir) > 0);
	assert_int_equal(symlink("good.json", link), 0);

	struct seccomp_profile *p = NULL;
	assert_int_equal(seccomp_profile_load(good, &p, NULL), 0);
	assert_int_equal(seccomp_profile_count_rules(p, DOCKER_CAPS), 6);
	seccomp_profile_free(p);
	p = NULL;
	assert_int_equal(seccomp_profile_load(link, &p, NULL), 0); /* symlinks followed */
	seccomp_profile_free(p);

	assert_true(asprintf(&want, "seccomp profile %s: syscalls[3].action: unknown action "
				    "\"SCMP_ACT_FOO\"", bad) > 0);
	expect_load_error(bad, want, EINVAL);
	expect_load_error(missing, "missing.json: open: No such file or directory", ENOENT);
	expect_load_error(dir, "not a regular file", EINVAL);
	/* larger than 4 MiB: refused before parsing (a sparse file) */
	int fd = open(big, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, SECCOMP_PROFILE_MAX_SIZE + 1), 0);
	close(fd);
	expect_load_error(big, "larger than 4194304 bytes", EFBIG);
	/* exactly 4 MiB is read (and then fails as JSON) */
	assert_int_equal(truncate(big, SECCOMP_PROFILE_MAX_SIZE), 0);
	expect_load_error(big, "invalid JSON", EINVAL);

	unlink(good);
	unlink(bad);
	unlink(link);
	unlink(big);
	assert_int_equal(rmdir(dir), 0);
}

static size_t export_size(const struct seccomp_profile *p, uint64_t caps)
{
	_cleanup_close_ int fd = memfd_create("bpf", MFD_CLOEXEC);
	assert_true(fd >= 0);
	_cleanup_error_ struct scow_error *err = NULL;
	if (seccomp_profile_export_bpf(p, caps, fd, &err) < 0)
		fail_msg("export for caps %#llx: %s", (unsigned long long)caps, err->msg);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_size > 0);
	assert_int_equal(st.st_size % 8, 0); /* struct sock_filter[] */
	return (size_t)st.st_size;
}

/* The filter builds (no libseccomp conflict) for every single capability,
 * none and all, and the capability conditions change the program. */
static void test_export_bpf(void **state)
{
	(void)state;
	struct seccomp_profile *p = default_profile();
	size_t docker = export_size(p, DOCKER_CAPS);
	assert_int_not_equal(export_size(p, DOCKER_CAPS | SYS_ADMIN_BIT), docker);
	assert_int_not_equal(export_size(p, 0), docker);
	export_size(p, ALL_CAPS);
	for (unsigned c = 0; c <= 40; c++)
		export_size(p, CAP_BIT(c));
	seccomp_profile_free(p);
	p = parse_ok(custom_profile);
	export_size(p, 0);
	export_size(p, ALL_CAPS);
	seccomp_profile_free(p);
}

static void test_default_profile_parses(void **state)
{
	(void)state;
	struct seccomp_profile *p = NULL;
	_cleanup_error_ struct scow_error *err = NULL;
	assert_int_equal(seccomp_profile_parse(seccomp_default_profile_json,
					       seccomp_default_profile_json_len, &p, &err),
			 0);
	assert_non_null(p);
	seccomp_profile_free(p);
	assert_true(seccomp_default_profile_json_len > 10000);
	assert_non_null(strstr(seccomp_default_profile_json, "\"defaultErrnoRet\": 1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_profile_parses),
		cmocka_unit_test(test_default_counts),
		cmocka_unit_test(test_malformed_profiles),
		cmocka_unit_test(test_lenient_parts),
		cmocka_unit_test(test_profile_files),
		cmocka_unit_test(test_export_bpf),
		cmocka_unit_test(test_baseline_without_filter),
		cmocka_unit_test(test_default_docker_caps),
		cmocka_unit_test(test_default_sys_admin),
		cmocka_unit_test(test_default_no_caps),
		cmocka_unit_test(test_default_ia32),
		cmocka_unit_test(test_arch_lists),
		cmocka_unit_test(test_custom_profile_args),
		cmocka_unit_test(test_custom_profile_caps),
		cmocka_unit_test(test_kill_and_default_errno),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
