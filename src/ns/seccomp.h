/* Seccomp filters in Docker's profile format, built with libseccomp.
 *
 * A profile is parsed once (in the parent, where errors can still be shown)
 * into a compact form whose syscall names are already resolved to numbers;
 * seccomp_profile_install() then builds and loads the filter in the
 * container's child, just before execve.
 *
 * The JSON format is Docker's (`--security-opt seccomp=FILE.json`):
 *   defaultAction, defaultErrnoRet, architectures | archMap, flags,
 *   syscalls[]: name | names, action, errnoRet, args[] {index, value, valueTwo,
 *   op}, includes / excludes {caps, arches, minKernel}, comment.
 * Semantics follow Docker's:
 *   - archMap: the entry whose "architecture" is the native one adds its
 *     subArchitectures (x86 and x32 on x86_64, arm on aarch64) to the filter;
 *     a syscall of an architecture that is not in the filter kills the
 *     thread (libseccomp's bad-arch action), so nothing escapes either way;
 *   - includes.caps: every listed capability must be in the mask;
 *     excludes.caps: any listed capability in the mask drops the rule;
 *   - includes.arches / excludes.arches use Go's GOARCH names ("amd64",
 *     "arm64", ...); minKernel is "MAJOR.MINOR" compared with uname;
 *   - a syscall name libseccomp does not know is skipped; several rules for
 *     one syscall are ORed; conditions of one rule are ANDed, except that a
 *     rule naming the same argument twice becomes one rule per condition
 *     (libseccomp cannot AND two comparisons of one argument);
 *   - SCMP_CMP_MASKED_EQ matches (arg & value) == valueTwo;
 *   - errnoRet defaults to EPERM; a rule whose action equals the default
 *     action is left out (libseccomp refuses it).
 * Not supported (a clear error): SCMP_ACT_NOTIFY / listenerPath, the
 * SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV flag (needs libseccomp 2.6).
 * "unconfined" is the caller's business: it simply installs nothing. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Profiles larger than this are refused. */
#define SECCOMP_PROFILE_MAX_SIZE (4u << 20)

/* Docker's default capability set as a mask (bit n = capability n). */
#define SECCOMP_DOCKER_DEFAULT_CAPS UINT64_C(0xa80425fb)

struct seccomp_profile; /* parsed, not yet loaded */

/* Reads and parses a profile file; NULL path: Docker's default profile.
 * Errors read "seccomp profile FILE: syscalls[3].action: unknown action ...". */
int seccomp_profile_load(const char *path_or_null, struct seccomp_profile **ret,
			 struct scow_error **err);
/* Parses a profile from memory (len bytes, need not be NUL-terminated). */
int seccomp_profile_parse(const char *json, size_t len, struct seccomp_profile **ret,
			  struct scow_error **err);
void seccomp_profile_free(struct seccomp_profile *p);
static inline void seccomp_profile_freep(struct seccomp_profile **p)
{
	seccomp_profile_free(*p);
}
#define _cleanup_seccomp_profile_ __attribute__((cleanup(seccomp_profile_freep)))

/* Builds the filter for a container whose effective capabilities are
 * cap_mask (bit n = CAP n) and loads it (seccomp_load) into the calling
 * thread. Meant for the container's child just before execve: it allocates
 * (libseccomp does) but only in proportion to the profile.
 * The filter does not set no_new_privs (SCMP_FLTATR_CTL_NNP = 0): the caller
 * either set it already or still holds CAP_SYS_ADMIN; otherwise the kernel
 * refuses the filter (EACCES). Returns -1 with err on failure. */
int seccomp_profile_install(const struct seccomp_profile *p, uint64_t cap_mask,
			    struct scow_error **err);

/* Builds the same filter without loading it and writes it to fd as a raw
 * BPF program (struct sock_filter[]), for debugging and tests. */
int seccomp_profile_export_bpf(const struct seccomp_profile *p, uint64_t cap_mask, int fd,
			       struct scow_error **err);

/* For `inspect` and debugging, both for a given capability mask on this
 * machine (native arch, running kernel):
 * the number of (rule, syscall) pairs that go into the filter ... */
size_t seccomp_profile_count_rules(const struct seccomp_profile *p, uint64_t cap_mask);
/* ... and the number of distinct native syscalls that at least one applicable
 * SCMP_ACT_ALLOW rule lets through (possibly only for some arguments). */
size_t seccomp_profile_count_allowed(const struct seccomp_profile *p, uint64_t cap_mask);

/* Docker's default profile, as JSON in Docker's format (seccomp_default.c). */
extern const char seccomp_default_profile_json[];
extern const size_t seccomp_default_profile_json_len;
