/* The layer store: ROOT/layers/<chain-id hex>/ holds diff/ (the extracted
 * layer, whiteouts in overlayfs form) and layer.json:
 *   {"chain_id", "diff_id", "digest" (compressed blob), "media_type",
 *    "compressed_size", "size" (bytes of regular files), "parent"}
 * and, for layers that came as a tar (pull, load), tar-split: what it takes
 * to give the original tar back byte for byte (layers/tarsplit.h).
 *
 * A layer is written under <hex>.tmp/ while its lock ROOT/locks/layer-<hex>
 * is held, and renamed into place only once complete and verified, so a
 * directory named <hex> is always whole. A <hex>.tmp whose lock is free was
 * left by a killed process and is removed by the next one that sees it.
 * Deletion renames to .del-<hex>-<rand> first, then removes. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/error.h"

struct layer_store {
	int root_fd;
	int layers_fd;
	int locks_fd;
	char *root;
	bool rootless;
};

struct layer_info {
	char chain_id[DIGEST_STR_LEN + 1];
	char diff_id[DIGEST_STR_LEN + 1];
	char digest[DIGEST_STR_LEN + 1];
	char parent[DIGEST_STR_LEN + 1]; /* "" for a base layer */
	char media_type[128];
	int64_t compressed_size;
	int64_t size;
};

/* Creates ROOT/layers and ROOT/locks (0700) as needed. */
int layer_store_open(const char *root, bool rootless, struct layer_store *ret,
		     struct scow_error **err);
void layer_store_close(struct layer_store *ls);

bool layer_exists(const struct layer_store *ls, const char *chain_id);
int layer_info_read(const struct layer_store *ls, const char *chain_id, struct layer_info *ret,
		    struct scow_error **err);
/* "ROOT/layers/<hex>/diff" */
char *layer_diff_path(const struct layer_store *ls, const char *chain_id);

/* chain(1) = diff_id(1); chain(n) = sha256(chain(n-1) + " " + diff_id(n)) */
void layer_chain_id(const char *parent_chain, const char *diff_id,
		    char out[DIGEST_STR_LEN + 1]);

struct layer_tx {
	char chain_id[DIGEST_STR_LEN + 1];
	int lock_fd;
	int tmp_fd;  /* <hex>.tmp */
	int diff_fd; /* <hex>.tmp/diff, where the content goes */
};

/* Starts writing a layer. Blocks while another process writes the same
 * one; if the layer exists by then, *ret_exists is set and nothing is held. */
int layer_tx_begin(struct layer_store *ls, const char *chain_id, struct layer_tx *tx,
		   bool *ret_exists, struct scow_error **err);
/* Writes layer.json, renames into place, releases the lock. */
int layer_tx_commit(struct layer_store *ls, struct layer_tx *tx, const struct layer_info *info,
		    struct scow_error **err);
/* Removes the partial layer and releases the lock. */
void layer_tx_abort(struct layer_store *ls, struct layer_tx *tx);

/* Staging a layer whose chain id is not known yet (load reads layers before
 * the manifest that says where they go): layer_tx_begin_staging() starts a
 * transaction under a random name; layer_tx_commit_as() then gives it its
 * real chain id (info->chain_id is ignored): it takes that layer's lock,
 * and if the layer exists by then (*ret_existed) drops the staged copy.
 * Either way the transaction is over. tx->tmp_fd and tx->diff_fd may have
 * been closed (-1) meanwhile. */
int layer_tx_begin_staging(struct layer_store *ls, struct layer_tx *tx, struct scow_error **err);
int layer_tx_commit_as(struct layer_store *ls, struct layer_tx *tx, const char *chain_id,
		       const struct layer_info *info, bool *ret_existed, struct scow_error **err);
/* Drops a staged layer (and its lock file). */
void layer_tx_abort_staging(struct layer_store *ls, struct layer_tx *tx);

/* Deletes a layer unless another process holds its lock (then returns 0
 * and leaves it). */
int layer_delete(struct layer_store *ls, const char *chain_id, struct scow_error **err);
/* Lists chain ids of complete layers (a NULL-terminated strv). */
int layer_list(const struct layer_store *ls, char ***ret, struct scow_error **err);
/* Removes what killed processes left: unlocked *.tmp and .del-* entries. */
void layer_store_clean_stale(struct layer_store *ls);
