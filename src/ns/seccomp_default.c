/* Docker's default seccomp profile (moby profiles/seccomp/default.json as of
 * Docker 24-28), written as JSON in Docker's own format so that the one
 * parser in seccomp.c reads both it and user-supplied profiles.
 *
 * What it says:
 *   - everything not listed fails with EPERM;
 *   - ~370 harmless syscalls are always allowed (names that do not exist on
 *     this architecture or that libseccomp does not know are skipped);
 *   - ptrace and process_vm_{read,write}v are allowed on kernels >= 4.8
 *     (where seccomp can no longer be bypassed through ptrace);
 *   - personality only for PER_LINUX (0), PER_LINUX32 (8), UNAME26 (0x20000),
 *     UNAME26|PER_LINUX32 (0x20008) and the query 0xffffffff;
 *   - clone only without CLONE_NEWNS|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET|
 *     NEWCGROUP (0x7e020000) unless CAP_SYS_ADMIN (flags are arg 1 on s390);
 *     clone3 fails with ENOSYS (so that libcs fall back to clone) unless
 *     CAP_SYS_ADMIN;
 *   - mount, unshare, setns, bpf, perf_event_open, ... need CAP_SYS_ADMIN;
 *     other syscalls are gated on the capability that the kernel would check
 *     anyway (CAP_SYS_PTRACE, CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, ...);
 *   - a few architecture-specific calls (arch_prctl, modify_ldt on x86, ...).
 *
 * One deliberate difference: Docker allows socket() when arg0 != AF_VSOCK.
 * socket()'s family is an int, so the kernel ignores the upper 32 bits of
 * the register that seccomp compares in full: socket(0x100000028, ...) gets
 * past "!= 40" and still creates an AF_VSOCK socket. SECURITY.md also wants
 * AF_ALG (38) refused, and libseccomp cannot AND two comparisons of one
 * argument. So socket() is allowed through eight SCMP_CMP_MASKED_EQ rules
 * that look at the low 32 bits only, as the kernel does: families 0-31,
 * 32-35, 36-37, 39, 41, 42-43, 44-47, 48-63. AF_ALG and AF_VSOCK fail with
 * EPERM whatever the upper bits say; families >= 64 do not exist (AF_MAX is
 * 46) and fail with EPERM instead of EAFNOSUPPORT.
 * On 32-bit x86 socketcall(2) hides its arguments in memory, where seccomp
 * cannot look; Docker allows socketcall too, and so does this profile.
 *
 * The JSON text below is produced by the preprocessor's # operator, which
 * turns the tokens into a string literal (escaping the quotes), so the
 * profile reads as plain JSON. */
#include "ns/seccomp.h"

#define SECCOMP_JSON(...) #__VA_ARGS__

/* clang-format off */
const char seccomp_default_profile_json[] = SECCOMP_JSON({
	"defaultAction": "SCMP_ACT_ERRNO",
	"defaultErrnoRet": 1,
	"archMap": [
		{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
		{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]},
		{"architecture": "SCMP_ARCH_MIPS64", "subArchitectures": ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"]},
		{"architecture": "SCMP_ARCH_MIPS64N32", "subArchitectures": ["SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"]},
		{"architecture": "SCMP_ARCH_MIPSEL64", "subArchitectures": ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"]},
		{"architecture": "SCMP_ARCH_MIPSEL64N32", "subArchitectures": ["SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"]},
		{"architecture": "SCMP_ARCH_S390X", "subArchitectures": ["SCMP_ARCH_S390"]},
		{"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}
	],
	"syscalls": [
		{
			"comment": "always allowed",
			"action": "SCMP_ACT_ALLOW",
			"names": [
				"accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat",
				"capget", "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime",
				"clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
				"clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "close",
				"close_range", "connect", "copy_file_range", "creat", "dup", "dup2", "dup3",
				"epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_pwait",
				"epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2", "execve",
				"execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
				"fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat",
				"fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync",
				"fgetxattr", "flistxattr", "flock", "fork", "fremovexattr", "fsetxattr", "fstat",
				"fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
				"ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait",
				"futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents",
				"getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid",
				"getgid32", "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid",
				"getpgrp", "getpid", "getppid", "getpriority", "getrandom", "getresgid",
				"getresgid32", "getresuid", "getresuid32", "getrlimit", "get_robust_list",
				"getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area", "gettid",
				"gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat",
				"inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch",
				"io_cancel", "ioctl", "io_destroy", "io_getevents", "io_pgetevents",
				"io_pgetevents_time64", "ioprio_get", "ioprio_set", "io_setup", "io_submit",
				"io_uring_enter", "io_uring_register", "io_uring_setup", "ipc", "kill",
				"landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
				"lchown", "lchown32", "lgetxattr", "link", "linkat", "listen", "listmount",
				"listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek",
				"lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack", "membarrier",
				"memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
				"mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
				"mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
				"mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink",
				"mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock",
				"munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
				"_newselect", "open", "openat", "openat2", "pause", "pidfd_open",
				"pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect",
				"poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
				"prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64",
				"pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv",
				"recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
				"remap_file_pages", "removexattr", "removexattrat", "rename", "renameat",
				"renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction",
				"rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn",
				"rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64",
				"rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr", "sched_getparam",
				"sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
				"sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
				"sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
				"seccomp", "select", "semctl", "semget", "semop", "semtimedop",
				"semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg",
				"sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
				"setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority",
				"setregid", "setregid32", "setresgid", "setresgid32", "setresuid",
				"setresuid32", "setreuid", "setreuid32", "setrlimit", "set_robust_list",
				"setsid", "setsockopt", "set_thread_area", "set_tid_address", "setuid",
				"setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt", "shmget",
				"shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
				"socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64",
				"statmount", "statx", "symlink", "symlinkat", "sync", "sync_file_range",
				"syncfs", "sysinfo", "tee", "tgkill", "time", "timer_create", "timer_delete",
				"timer_getoverrun", "timer_gettime", "timer_gettime64", "timer_settime",
				"timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
				"timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
				"truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime",
				"utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4",
				"waitid", "waitpid", "write", "writev"
			]
		},
		{
			"comment": "seccomp cannot be bypassed through ptrace since Linux 4.8",
			"action": "SCMP_ACT_ALLOW",
			"names": ["process_vm_readv", "process_vm_writev", "ptrace"],
			"includes": {"minKernel": "4.8"}
		},
		{
			"comment": "socket families 0-31",
			"action": "SCMP_ACT_ALLOW",
			"names": ["socket"],
			"args": [{"index": 0, "value": 4294967264, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]
		},
		{
			"comment": "socket families 32-35",
			"action": "SCMP_ACT_ALLOW",
			"names": ["socket"],
			"args": [{"index": 0, "value": 4294967292, "valueTwo": 32, "op": "SCMP_CMP_MASKED_EQ"}]
		},
		{
			"comment": "socket families 36-37",
			"action": "SCMP_ACT_ALLOW",
			"names": ["socket"],
			"args": [{"index": 0, "value": 4294967294, "valueTwo": 36, "op": "SCMP_CMP_MASKED_EQ"}]
		},
		{
			"comment": "socket family 39 (AF_NFC)",
			"action": "SCMP_ACT_ALLOW",
			"names": ["socket"],
			"args": [{"index": 0, "value": 4294967295, "valueTwo": 39, "op": "SCMP_CMP_MASKED_EQ"}]
		},
		{
			"comment": "socket family 41 (AF_KCM)",
			"action": "SCMP_ACT_ALLOW",
			"names": ["socket"],
			"args": [{"index": 0, "value": 4294967295, "valueTwo": 41, "op": "SCMP_CMP_MASKED_EQ"}]
		},
		{
			"comment": "socket families 42-43",
			"action": "SCMP_ACT_ALLOW",
			"names": ["socket"],
			"args": [{"index": 0, "value": 4294967294, "valueTwo": 42, "op": "SCMP_CMP_MASKED_EQ"}]
		},
		{
			"comment": "socket families 44-47",
			"action": "SCMP_ACT_ALLOW",
			"names": ["socket"],
			"args": [{"index": 0, "value": 4294967292, "valueTwo": 44, "op": "SCMP_CMP_MASKED_EQ"}]
		},
		{
			"comment": "socket families 48-63",
			"action": "SCMP_ACT_ALLOW",
			"names": ["socket"],
			"args": [{"index": 0, "value": 4294967280, "valueTwo": 48, "op": "SCMP_CMP_MASKED_EQ"}]
		},
		{"action": "SCMP_ACT_ALLOW", "names": ["personality"], "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
		{"action": "SCMP_ACT_ALLOW", "names": ["personality"], "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
		{"action": "SCMP_ACT_ALLOW", "names": ["personality"], "args": [{"index": 0, "value": 131072, "op": "SCMP_CMP_EQ"}]},
		{"action": "SCMP_ACT_ALLOW", "names": ["personality"], "args": [{"index": 0, "value": 131080, "op": "SCMP_CMP_EQ"}]},
		{"action": "SCMP_ACT_ALLOW", "names": ["personality"], "args": [{"index": 0, "value": 4294967295, "op": "SCMP_CMP_EQ"}]},
		{
			"action": "SCMP_ACT_ALLOW",
			"names": ["sync_file_range2", "swapcontext"],
			"includes": {"arches": ["ppc64le"]}
		},
		{
			"action": "SCMP_ACT_ALLOW",
			"names": ["arm_fadvise64_64", "arm_sync_file_range", "sync_file_range2", "breakpoint", "cacheflush", "set_tls"],
			"includes": {"arches": ["arm", "arm64"]}
		},
		{"action": "SCMP_ACT_ALLOW", "names": ["arch_prctl"], "includes": {"arches": ["amd64", "x32"]}},
		{"action": "SCMP_ACT_ALLOW", "names": ["modify_ldt"], "includes": {"arches": ["amd64", "x32", "x86"]}},
		{
			"action": "SCMP_ACT_ALLOW",
			"names": ["s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"],
			"includes": {"arches": ["s390", "s390x"]}
		},
		{"action": "SCMP_ACT_ALLOW", "names": ["riscv_flush_icache", "riscv_hwprobe"], "includes": {"arches": ["riscv64"]}},
		{"action": "SCMP_ACT_ALLOW", "names": ["open_by_handle_at"], "includes": {"caps": ["CAP_DAC_READ_SEARCH"]}},
		{
			"action": "SCMP_ACT_ALLOW",
			"names": [
				"bpf", "clone", "clone3", "fanotify_init", "fsconfig", "fsmount", "fsopen",
				"fspick", "lookup_dcookie", "lsm_get_self_attr", "lsm_list_modules",
				"lsm_set_self_attr", "mount", "mount_setattr", "move_mount", "open_tree",
				"perf_event_open", "quotactl", "quotactl_fd", "setdomainname", "sethostname",
				"setns", "syslog", "umount", "umount2", "unshare"
			],
			"includes": {"caps": ["CAP_SYS_ADMIN"]}
		},
		{
			"comment": "clone without new namespaces",
			"action": "SCMP_ACT_ALLOW",
			"names": ["clone"],
			"args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
			"excludes": {"caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"]}
		},
		{
			"comment": "s390 passes the clone flags as the second argument",
			"action": "SCMP_ACT_ALLOW",
			"names": ["clone"],
			"args": [{"index": 1, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
			"includes": {"arches": ["s390", "s390x"]},
			"excludes": {"caps": ["CAP_SYS_ADMIN"]}
		},
		{
			"comment": "ENOSYS makes libcs fall back to clone, whose flags can be checked",
			"action": "SCMP_ACT_ERRNO",
			"errnoRet": 38,
			"names": ["clone3"],
			"excludes": {"caps": ["CAP_SYS_ADMIN"]}
		},
		{"action": "SCMP_ACT_ALLOW", "names": ["reboot"], "includes": {"caps": ["CAP_SYS_BOOT"]}},
		{"action": "SCMP_ACT_ALLOW", "names": ["chroot"], "includes": {"caps": ["CAP_SYS_CHROOT"]}},
		{
			"action": "SCMP_ACT_ALLOW",
			"names": ["delete_module", "init_module", "finit_module"],
			"includes": {"caps": ["CAP_SYS_MODULE"]}
		},
		{"action": "SCMP_ACT_ALLOW", "names": ["acct"], "includes": {"caps": ["CAP_SYS_PACCT"]}},
		{
			"action": "SCMP_ACT_ALLOW",
			"names": ["kcmp", "pidfd_getfd", "process_madvise", "process_vm_readv", "process_vm_writev", "ptrace"],
			"includes": {"caps": ["CAP_SYS_PTRACE"]}
		},
		{"action": "SCMP_ACT_ALLOW", "names": ["iopl", "ioperm"], "includes": {"caps": ["CAP_SYS_RAWIO"]}},
		{
			"action": "SCMP_ACT_ALLOW",
			"names": ["settimeofday", "stime", "clock_settime", "clock_settime64"],
			"includes": {"caps": ["CAP_SYS_TIME"]}
		},
		{"action": "SCMP_ACT_ALLOW", "names": ["vhangup"], "includes": {"caps": ["CAP_SYS_TTY_CONFIG"]}},
		{
			"action": "SCMP_ACT_ALLOW",
			"names": ["get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"],
			"includes": {"caps": ["CAP_SYS_NICE"]}
		},
		{"action": "SCMP_ACT_ALLOW", "names": ["syslog"], "includes": {"caps": ["CAP_SYSLOG"]}},
		{"action": "SCMP_ACT_ALLOW", "names": ["bpf"], "includes": {"caps": ["CAP_BPF"]}},
		{"action": "SCMP_ACT_ALLOW", "names": ["perf_event_open"], "includes": {"caps": ["CAP_PERFMON"]}}
	]
});
/* clang-format on */

const size_t seccomp_default_profile_json_len = sizeof(seccomp_default_profile_json) - 1;
