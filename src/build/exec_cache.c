/* The build cache index: ROOT/build-cache/index/<key hex> holds the id of
 * the image the step with that key made ("sha256:...\n"). One file per
 * key, written to a temporary name and renamed, so that concurrent builds
 * and a kill at any point leave whole entries or none; no fsync: an entry
 * lost in a crash is a cache miss, and one whose image is gone (removed,
 * pruned, never made durable) is ignored. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/xalloc.h"

char *bx_cache_key(const struct bx *b, const struct bstate *st, const char *const *parts)
{
	struct sha256 h;
	sha256_init(&h);
	static const char tag[] = "scow build cache 1\n";
	sha256_update(&h, tag, sizeof(tag) - 1);
	const char *parent = st->id[0] ? st->id : "scratch";
	sha256_update(&h, parent, strlen(parent) + 1);
	/* SOURCE_DATE_EPOCH changes every timestamp of the step's image: a
	 * step made without it (or with another) is not the same step. */
	if (b->o->has_sde) {
		char sde[40];
		snprintf(sde, sizeof(sde), "SOURCE_DATE_EPOCH=%lld", (long long)b->o->sde);
		sha256_update(&h, sde, strlen(sde) + 1);
	}
	for (size_t i = 0; parts[i]; i++)
		sha256_update(&h, parts[i], strlen(parts[i]) + 1);
	char d[DIGEST_STR_LEN + 1];
	sha256_final(&h, d);
	sha256_release(&h);
	return xstrdup(digest_hex(d));
}

static int index_fd(struct bx *b)
{
	_cleanup_error_ struct scow_error *e = NULL;
	return fs_open_dir_at(b->cache_fd, "index", true, 0700, &e);
}

int bx_cache_get(struct bx *b, const char *key, char ret_id[DIGEST_STR_LEN + 1])
{
	if (b->o->no_cache)
		return 0;
	_cleanup_close_ int dfd = index_fd(b);
	if (dfd < 0)
		return 0;
	char buf[DIGEST_STR_LEN + 2];
	_cleanup_close_ int fd = openat(dfd, key, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n < DIGEST_STR_LEN)
		return 0;
	buf[DIGEST_STR_LEN] = '\0';
	if (!digest_is_valid(buf) || !image_store_has(b->is, buf))
		return 0;
	memcpy(ret_id, buf, DIGEST_STR_LEN + 1);
	return 1;
}

void bx_cache_put(struct bx *b, const char *key, const char *id)
{
	_cleanup_close_ int dfd = index_fd(b);
	if (dfd < 0)
		return;
	char tmp[128], rnd[9];
	fs_random_hex(rnd, 4);
	snprintf(tmp, sizeof(tmp), ".tmp-%s", rnd);
	_cleanup_free_ char *text = xasprintf("%s\n", id);
	_cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || fs_write_all(fd, text, strlen(text)) < 0 || renameat(dfd, tmp, dfd, key) < 0) {
		log_debug("build cache: cannot record %s: %m", key);
		unlinkat(dfd, tmp, 0);
	}
}

int bx_hash_fd(int fd, char ret[DIGEST_STR_LEN + 1], struct scow_error **err)
{
	struct sha256 h;
	sha256_init(&h);
	_cleanup_free_ unsigned char *buf = xmalloc(256u * 1024);
	int r = 0;
	for (;;) {
		ssize_t n = read(fd, buf, 256u * 1024);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = error_errno(err, "read");
			break;
		}
		if (n == 0)
			break;
		sha256_update(&h, buf, (size_t)n);
	}
	sha256_final(&h, ret);
	sha256_release(&h);
	return r;
}
