#include "layers/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

#define LAYER_JSON_MAX (64u << 10)

int layer_store_open(const char *root, bool rootless, struct layer_store *ret,
		     struct scow_error **err)
{
	struct layer_store ls = {.root_fd = -1, .layers_fd = -1, .locks_fd = -1};
	/* 0700: set-uid files and device nodes in layers must not be
	 * reachable by other users of the host. */
	if (fs_mkdir_p(root, 0700, err) < 0)
		return -1;
	ls.root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ls.root_fd < 0)
		return error_errno(err, "open %s", root);
	ls.layers_fd = fs_open_dir_at(ls.root_fd, "layers", true, 0700, err);
	if (ls.layers_fd < 0)
		goto fail;
	ls.locks_fd = fs_open_dir_at(ls.root_fd, "locks", true, 0700, err);
	if (ls.locks_fd < 0)
		goto fail;
	ls.root = xstrdup(root);
	ls.rootless = rootless;
	*ret = ls;
	return 0;
fail:
	layer_store_close(&ls);
	return -1;
}

void layer_store_close(struct layer_store *ls)
{
	closep(&ls->root_fd);
	closep(&ls->layers_fd);
	closep(&ls->locks_fd);
	ls->root_fd = ls->layers_fd = ls->locks_fd = -1;
	free(ls->root);
	ls->root = NULL;
}

bool layer_exists(const struct layer_store *ls, const char *chain_id)
{
	if (!digest_is_valid(chain_id))
		return false;
	char name[DIGEST_HEX_LEN + 16];
	snprintf(name, sizeof(name), "%s/layer.json", digest_hex(chain_id));
	return fs_exists_at(ls->layers_fd, name);
}

char *layer_diff_path(const struct layer_store *ls, const char *chain_id)
{
	return xasprintf("%s/layers/%s/diff", ls->root, digest_hex(chain_id));
}

void layer_chain_id(const char *parent_chain, const char *diff_id,
		    char out[DIGEST_STR_LEN + 1])
{
	if (!parent_chain || !*parent_chain) {
		memcpy(out, diff_id, DIGEST_STR_LEN + 1);
		return;
	}
	char buf[2 * DIGEST_STR_LEN + 2];
	int n = snprintf(buf, sizeof(buf), "%s %s", parent_chain, diff_id);
	sha256_digest(buf, (size_t)n, out);
}

static void copy_digest(char dst[DIGEST_STR_LEN + 1], const char *src)
{
	snprintf(dst, DIGEST_STR_LEN + 1, "%s", digest_is_valid(src) ? src : "");
}

int layer_info_read(const struct layer_store *ls, const char *chain_id, struct layer_info *ret,
		    struct scow_error **err)
{
	if (digest_check(chain_id, "layer", err) < 0)
		return -1;
	char name[DIGEST_HEX_LEN + 16];
	snprintf(name, sizeof(name), "%s/layer.json", digest_hex(chain_id));
	_cleanup_json_ json_t *j = json_load_at(ls->layers_fd, name, LAYER_JSON_MAX, err);
	if (!j)
		return error_wrap(err, "layer %.19s", chain_id);
	struct layer_info li = {0};
	copy_digest(li.chain_id, chain_id);
	copy_digest(li.diff_id, json_get_str(j, "diff_id"));
	copy_digest(li.digest, json_get_str(j, "digest"));
	copy_digest(li.parent, json_get_str(j, "parent"));
	const char *mt = json_get_str(j, "media_type");
	snprintf(li.media_type, sizeof(li.media_type), "%s", mt ? mt : "");
	li.compressed_size = json_get_int(j, "compressed_size", 0);
	li.size = json_get_int(j, "size", 0);
	if (!li.diff_id[0])
		return error_set(err, EINVAL, "layer %.19s: corrupt layer.json", chain_id);
	*ret = li;
	return 0;
}

static void lock_name(const char *chain_id, char out[DIGEST_HEX_LEN + 8])
{
	snprintf(out, DIGEST_HEX_LEN + 8, "layer-%s", digest_hex(chain_id));
}

int layer_tx_begin(struct layer_store *ls, const char *chain_id, struct layer_tx *tx,
		   bool *ret_exists, struct scow_error **err)
{
	if (digest_check(chain_id, "layer", err) < 0)
		return -1;
	*tx = (struct layer_tx){.lock_fd = -1, .tmp_fd = -1, .diff_fd = -1};
	copy_digest(tx->chain_id, chain_id);
	char lname[DIGEST_HEX_LEN + 8];
	lock_name(chain_id, lname);
	tx->lock_fd = lock_acquire(ls->locks_fd, lname, LOCK_MODE_EXCLUSIVE, false, err);
	if (tx->lock_fd < 0)
		return -1;
	*ret_exists = layer_exists(ls, chain_id);
	if (*ret_exists) {
		lock_release(steal_fd(&tx->lock_fd));
		return 0;
	}
	char tmp[DIGEST_HEX_LEN + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", digest_hex(chain_id));
	/* We hold the lock, so any <hex>.tmp is a dead process's leftover. */
	if (fs_rm_rf_at(ls->layers_fd, tmp, err) < 0)
		goto fail;
	/* A directory left without layer.json by a crash mid-rename is junk too. */
	if (fs_rm_rf_at(ls->layers_fd, digest_hex(chain_id), err) < 0)
		goto fail;
	tx->tmp_fd = fs_open_dir_at(ls->layers_fd, tmp, true, 0700, err);
	if (tx->tmp_fd < 0)
		goto fail;
	tx->diff_fd = fs_open_dir_at(tx->tmp_fd, "diff", true, 0755, err);
	if (tx->diff_fd < 0)
		goto fail;
	return 0;
fail:
	layer_tx_abort(ls, tx);
	return -1;
}

/* Writes layer.json (for chain_id) into the transaction's directory. */
static int write_layer_json(struct layer_store *ls, struct layer_tx *tx, const char *chain_id,
			    const struct layer_info *info, struct scow_error **err)
{
	_cleanup_json_ json_t *j = json_object();
	json_set_str(j, "chain_id", chain_id);
	json_set_str(j, "diff_id", info->diff_id);
	json_set_str(j, "digest", info->digest[0] ? info->digest : NULL);
	json_set_str(j, "parent", info->parent[0] ? info->parent : NULL);
	json_set_str(j, "media_type", info->media_type);
	json_set_int(j, "compressed_size", info->compressed_size);
	json_set_int(j, "size", info->size);
	if (tx->tmp_fd >= 0)
		return json_save_at(tx->tmp_fd, "layer.json", j, err);
	char tmp[DIGEST_HEX_LEN + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", digest_hex(tx->chain_id));
	_cleanup_close_ int dfd = fs_open_dir_at(ls->layers_fd, tmp, false, 0, err);
	if (dfd < 0)
		return -1;
	return json_save_at(dfd, "layer.json", j, err);
}

int layer_tx_begin_staging(struct layer_store *ls, struct layer_tx *tx, struct scow_error **err)
{
	char hex[DIGEST_HEX_LEN + 1], id[DIGEST_STR_LEN + 1];
	fs_random_hex(hex, DIGEST_HEX_LEN / 2);
	snprintf(id, sizeof(id), "sha256:%s", hex);
	bool exists;
	return layer_tx_begin(ls, id, tx, &exists, err);
}

void layer_tx_abort_staging(struct layer_store *ls, struct layer_tx *tx)
{
	closep(&tx->diff_fd);
	closep(&tx->tmp_fd);
	tx->diff_fd = tx->tmp_fd = -1;
	if (tx->lock_fd < 0)
		return;
	char tmp[DIGEST_HEX_LEN + 8], sname[DIGEST_HEX_LEN + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", digest_hex(tx->chain_id));
	_cleanup_error_ struct scow_error *e = NULL;
	if (fs_rm_rf_at(ls->layers_fd, tmp, &e) < 0)
		log_warn("remove staged layer: %s", e->msg);
	lock_name(tx->chain_id, sname);
	lock_unlink_release(ls->locks_fd, sname, steal_fd(&tx->lock_fd));
}

static int commit_staged(struct layer_store *ls, struct layer_tx *tx, const char *chain_id,
			 const struct layer_info *info, bool *ret_existed, struct scow_error **err)
{
	if (layer_exists(ls, chain_id)) {
		*ret_existed = true;
		layer_tx_abort_staging(ls, tx);
		return 0;
	}
	char tmp[DIGEST_HEX_LEN + 8], dst_tmp[DIGEST_HEX_LEN + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", digest_hex(tx->chain_id));
	snprintf(dst_tmp, sizeof(dst_tmp), "%s.tmp", digest_hex(chain_id));
	/* Under the layer's lock: leftovers of a dead writer are junk. */
	if (fs_rm_rf_at(ls->layers_fd, dst_tmp, err) < 0 ||
	    fs_rm_rf_at(ls->layers_fd, digest_hex(chain_id), err) < 0 ||
	    write_layer_json(ls, tx, chain_id, info, err) < 0) {
		layer_tx_abort_staging(ls, tx);
		return -1;
	}
	if (renameat(ls->layers_fd, tmp, ls->layers_fd, digest_hex(chain_id)) < 0) {
		error_errno(err, "rename layer %.19s into place", chain_id);
		layer_tx_abort_staging(ls, tx);
		return -1;
	}
	fs_fsync_dir(ls->layers_fd);
	/* Renamed away: only the staging lock is left. */
	closep(&tx->diff_fd);
	closep(&tx->tmp_fd);
	tx->diff_fd = tx->tmp_fd = -1;
	char sname[DIGEST_HEX_LEN + 8];
	lock_name(tx->chain_id, sname);
	lock_unlink_release(ls->locks_fd, sname, steal_fd(&tx->lock_fd));
	return 0;
}

int layer_tx_commit_as(struct layer_store *ls, struct layer_tx *tx, const char *chain_id,
		       const struct layer_info *info, bool *ret_existed, struct scow_error **err)
{
	*ret_existed = false;
	if (digest_check(chain_id, "layer", err) < 0) {
		layer_tx_abort_staging(ls, tx);
		return -1;
	}
	char lname[DIGEST_HEX_LEN + 8];
	lock_name(chain_id, lname);
	int lock = lock_acquire(ls->locks_fd, lname, LOCK_MODE_EXCLUSIVE, false, err);
	if (lock < 0) {
		layer_tx_abort_staging(ls, tx);
		return -1;
	}
	int r = commit_staged(ls, tx, chain_id, info, ret_existed, err);
	lock_release(lock);
	return r;
}

int layer_tx_commit(struct layer_store *ls, struct layer_tx *tx, const struct layer_info *info,
		    struct scow_error **err)
{
	char tmp[DIGEST_HEX_LEN + 8];
	snprintf(tmp, sizeof(tmp), "%s.tmp", digest_hex(tx->chain_id));
	if (write_layer_json(ls, tx, tx->chain_id, info, err) < 0)
		goto fail;
	if (renameat(ls->layers_fd, tmp, ls->layers_fd, digest_hex(tx->chain_id)) < 0) {
		error_errno(err, "rename layer %.19s into place", tx->chain_id);
		goto fail;
	}
	fs_fsync_dir(ls->layers_fd);
	closep(&tx->diff_fd);
	closep(&tx->tmp_fd);
	tx->diff_fd = tx->tmp_fd = -1;
	lock_release(steal_fd(&tx->lock_fd));
	return 0;
fail:
	layer_tx_abort(ls, tx);
	return -1;
}

void layer_tx_abort(struct layer_store *ls, struct layer_tx *tx)
{
	closep(&tx->diff_fd);
	closep(&tx->tmp_fd);
	tx->diff_fd = tx->tmp_fd = -1;
	if (tx->lock_fd >= 0) {
		char tmp[DIGEST_HEX_LEN + 8];
		snprintf(tmp, sizeof(tmp), "%s.tmp", digest_hex(tx->chain_id));
		_cleanup_error_ struct scow_error *e = NULL;
		if (fs_rm_rf_at(ls->layers_fd, tmp, &e) < 0)
			log_warn("remove partial layer: %s", e->msg);
		lock_release(steal_fd(&tx->lock_fd));
	}
}

int layer_delete(struct layer_store *ls, const char *chain_id, struct scow_error **err)
{
	if (digest_check(chain_id, "layer", err) < 0)
		return -1;
	char lname[DIGEST_HEX_LEN + 8];
	lock_name(chain_id, lname);
	int fd = lock_acquire(ls->locks_fd, lname, LOCK_MODE_EXCLUSIVE, true, err);
	if (fd == -2)
		return 0; /* being written or used right now: leave it */
	if (fd < 0)
		return -1;
	char rnd[9], del[DIGEST_HEX_LEN + 24];
	fs_random_hex(rnd, 4);
	snprintf(del, sizeof(del), ".del-%s-%s", digest_hex(chain_id), rnd);
	int ret = 0;
	if (renameat(ls->layers_fd, digest_hex(chain_id), ls->layers_fd, del) < 0) {
		if (errno != ENOENT)
			ret = error_errno(err, "remove layer %.19s", chain_id);
	} else {
		ret = fs_rm_rf_at(ls->layers_fd, del, err);
	}
	lock_unlink_release(ls->locks_fd, lname, fd);
	return ret;
}

int layer_list(const struct layer_store *ls, char ***ret, struct scow_error **err)
{
	int dfd = fcntl(ls->layers_fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return error_errno(err, "dup");
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return error_errno(err, "read layers");
	}
	rewinddir(d);
	char **v = xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) != DIGEST_HEX_LEN || !str_is_hex(de->d_name, DIGEST_HEX_LEN))
			continue;
		_cleanup_free_ char *id = xasprintf("sha256:%s", de->d_name);
		if (layer_exists(ls, id))
			strv_push(&v, steal_ptr(&id));
	}
	*ret = v;
	return 0;
}

void layer_store_clean_stale(struct layer_store *ls)
{
	int dfd = fcntl(ls->layers_fd, F_DUPFD_CLOEXEC, 3);
	if (dfd < 0)
		return;
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		_cleanup_error_ struct scow_error *e = NULL;
		const char *n = de->d_name;
		if (str_starts_with(n, ".del-")) {
			fs_rm_rf_at(ls->layers_fd, n, &e);
			continue;
		}
		if (strlen(n) != DIGEST_HEX_LEN + 4 || !str_ends_with(n, ".tmp"))
			continue;
		char chain[DIGEST_STR_LEN + 1], lname[DIGEST_HEX_LEN + 8];
		snprintf(chain, sizeof(chain), "sha256:%.*s", DIGEST_HEX_LEN, n);
		if (!digest_is_valid(chain))
			continue;
		lock_name(chain, lname);
		int fd = lock_acquire(ls->locks_fd, lname, LOCK_MODE_EXCLUSIVE, true, &e);
		if (fd < 0)
			continue; /* a live process is writing it */
		log_debug("removing partial layer %s", n);
		fs_rm_rf_at(ls->layers_fd, n, &e);
		lock_release(fd);
	}
}
