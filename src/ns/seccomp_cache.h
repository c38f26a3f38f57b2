/* Compiled seccomp filters, cached under ROOT/cache/seccomp. Compiling
 * Docker's profile with libseccomp takes ~10 ms of every `run`; loading the
 * compiled program takes ~0.1 ms.
 *
 * A cache file holds the profile text it was compiled from and the BPF
 * program; it is used only when that text matches byte for byte, so an
 * edited profile or a new scow can never load a stale filter. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

struct seccomp_bpf {
	void *prog; /* struct sock_filter[] */
	size_t len; /* bytes */
};

/* profile: Docker-format JSON text, NULL for Docker's default. */
int seccomp_bpf_get(const char *root, const char *profile, uint64_t caps, struct seccomp_bpf *ret,
		    struct scow_error **err);
void seccomp_bpf_release(struct seccomp_bpf *b);
/* In the child: installs the program (needs no_new_privs or CAP_SYS_ADMIN). */
int seccomp_bpf_install(const struct seccomp_bpf *b, struct scow_error **err);
