#include "ns/seccomp_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "ns/seccomp.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define MAGIC "SCOWBPF1"
#define FILE_MAX (16u << 20)

void seccomp_bpf_release(struct seccomp_bpf *b)
{
	free(b->prog);
	b->prog = NULL;
	b->len = 0;
}

static char *cache_name(const char *profile, size_t text_len, uint64_t caps)
{
	struct utsname u;
	uname(&u);
	return xasprintf("%s-%zu-%016llx-%s.bpf", profile ? "custom" : "default", text_len,
			 (unsigned long long)caps, u.machine);
}

/* MAGIC, u64 text length, text, u64 program length, program. */
static int cache_read(int dfd, const char *name, const char *text, size_t text_len,
		      struct seccomp_bpf *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	_cleanup_error_ struct scow_error *e = NULL;
	if (fs_read_at(dfd, name, FILE_MAX, &buf, &len, &e) < 0)
		return -1;
	uint64_t tl, pl;
	size_t off = sizeof(MAGIC) - 1;
	if (len < off + 8 || memcmp(buf, MAGIC, off) != 0)
		return -1;
	memcpy(&tl, buf + off, 8);
	off += 8;
	if (tl != text_len || len < off + tl + 8 || memcmp(buf + off, text, tl) != 0)
		return -1;
	off += tl;
	memcpy(&pl, buf + off, 8);
	off += 8;
	if (pl == 0 || pl % sizeof(struct sock_filter) || len != off + pl)
		return -1;
	ret->prog = xmalloc(pl);
	memcpy(ret->prog, buf + off, pl);
	ret->len = pl;
	return 0;
}

static int compile(const char *text, size_t text_len, uint64_t caps, struct seccomp_bpf *ret,
		   struct scow_error **err)
{
	struct seccomp_profile *p = NULL;
	if (seccomp_profile_parse(text, text_len, &p, err) < 0)
		return -1;
	_cleanup_close_ int mfd = memfd_create("scow-seccomp", MFD_CLOEXEC);
	int r = mfd < 0 ? error_errno(err, "memfd") : seccomp_profile_export_bpf(p, caps, mfd, err);
	seccomp_profile_free(p);
	if (r < 0)
		return -1;
	struct stat st;
	if (fstat(mfd, &st) < 0 || st.st_size <= 0 || st.st_size > (off_t)FILE_MAX)
		return error_set(err, EIO, "seccomp: no program compiled");
	ret->len = (size_t)st.st_size;
	ret->prog = xmalloc(ret->len);
	if (pread(mfd, ret->prog, ret->len, 0) != (ssize_t)ret->len) {
		seccomp_bpf_release(ret);
		return error_errno(err, "seccomp: read the program");
	}
	return 0;
}

static void cache_write(int dfd, const char *name, const char *text, size_t text_len,
			const struct seccomp_bpf *b)
{
	uint64_t tl = text_len, pl = b->len;
	size_t total = sizeof(MAGIC) - 1 + 8 + text_len + 8 + b->len;
	_cleanup_free_ char *buf = xmalloc(total);
	char *p = buf;
	memcpy(p, MAGIC, sizeof(MAGIC) - 1), p += sizeof(MAGIC) - 1;
	memcpy(p, &tl, 8), p += 8;
	memcpy(p, text, text_len), p += text_len;
	memcpy(p, &pl, 8), p += 8;
	memcpy(p, b->prog, b->len);
	/* A cache: atomic, no need to be durable. */
	char tmp[256];
	snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int)getpid());
	_cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && fs_write_all(fd, buf, total) == 0)
		renameat(dfd, tmp, dfd, name);
	else
		unlinkat(dfd, tmp, 0);
}

int seccomp_bpf_get(const char *root, const char *profile, uint64_t caps, struct seccomp_bpf *ret,
		    struct scow_error **err)
{
	const char *text = profile ? profile : seccomp_default_profile_json;
	size_t text_len = profile ? strlen(profile) : seccomp_default_profile_json_len;
	_cleanup_free_ char *name = cache_name(profile, text_len, caps);
	_cleanup_free_ char *dir = xasprintf("%s/cache/seccomp", root);
	_cleanup_error_ struct scow_error *e = NULL;
	_cleanup_close_ int dfd = -1;
	if (fs_mkdir_p(dir, 0700, &e) == 0)
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0 && cache_read(dfd, name, text, text_len, ret) == 0)
		return 0;
	if (compile(text, text_len, caps, ret, err) < 0)
		return -1;
	if (dfd >= 0)
		cache_write(dfd, name, text, text_len, ret);
	return 0;
}

int seccomp_bpf_install(const struct seccomp_bpf *b, struct scow_error **err)
{
	struct sock_fprog prog = {.len = (unsigned short)(b->len / sizeof(struct sock_filter)),
				  .filter = b->prog};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return error_errno(err, "load the seccomp filter");
	return 0;
}
