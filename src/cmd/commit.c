/* scow commit [-a AUTHOR] [-m MSG] [-c INSTRUCTION]... [-p] CONTAINER
 * [REPOSITORY[:TAG]]: a new image made of the container's image and its
 * changes, as `docker commit` makes it (moby's CreateImageFromContainer and
 * image.NewChildImage):
 *  - the layer: the container's upper dir as an OCI layer tar
 *    (layers_tar_create: overlay whiteouts and opaque dirs become .wh.
 *    entries), without what scow itself made there (layers/upper.h: the
 *    /etc/hosts, /etc/hostname, /etc/resolv.conf stubs, and /dev, /etc,
 *    /proc, /sys when nothing else of the container's is in them), fed
 *    into the layer store through the verified extraction
 *    (layer_import_*), tar-split recorded, so push gives the same tar and
 *    the diff_id stays; a commit without changes adds no layer (Docker's
 *    empty_layer history entry);
 *  - the config: the image's config with the container's Cmd, Entrypoint,
 *    Env, WorkingDir, User, Labels, ExposedPorts, Healthcheck, StopSignal
 *    and anonymous volumes (Docker takes the whole container config; scow
 *    leaves out the per-run fields Hostname, Tty, OpenStdin, Attach*,
 *    Image), then the --change instructions (image/changes.h);
 *    architecture, variant and os of the image; author; created; history =
 *    the image's + one entry (created_by: the container's Cmd joined by
 *    spaces, the comment, the author); rootfs.diff_ids + the layer's;
 *  - --pause (default true) freezes a running container while its upper
 *    dir is read (recorded as paused meanwhile, so a killed commit leaves
 *    a container `unpause` can thaw); a container the user paused stays
 *    paused; when freezing fails the commit goes on unfrozen, as Docker's;
 *  - prints the image id; tags it when a name is given. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cmd/containers.h"
#include "image/archive.h"
#include "image/changes.h"
#include "image/create.h"
#include "image/manifest.h"
#include "layers/upper.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

const struct opt_def cmd_commit_opts[] = {
	{"author", 'a', OPT_VALUE, "string",
	 "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")", NULL},
	{"change", 'c', OPT_LIST, "list", "Apply Dockerfile instruction to the created image", NULL},
	{"message", 'm', OPT_VALUE, "string", "Commit message", NULL},
	{"pause", 'p', OPT_BOOL, NULL, "Pause container during commit", "true"},
	OPT_END,
};

/* ---- the layer --------------------------------------------------------------------------- */

/* Makes the layer of the container's changes; ret->diff_id is
 * EMPTY_TAR_DIFF_ID (and nothing is stored) when there are none. */
static int make_layer(struct container_store *cs, struct image_store *is, const struct container *c,
		      json_t *layers, struct layer_info *ret, struct scow_error **err)
{
	*ret = (struct layer_info){0};
	snprintf(ret->diff_id, sizeof(ret->diff_id), "%s", EMPTY_TAR_DIFF_ID);
	_cleanup_close_ int dfd = container_dir_fd(cs, c->id, err);
	if (dfd < 0)
		return -1;
	_cleanup_close_ int upper = openat(dfd, "upper", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (upper < 0)
		return errno == ENOENT ? 0 : error_errno(err, "open the container's upper dir");
	int *fds = NULL;
	size_t n = 0;
	if (image_layer_dirs_open(is, layers, &fds, &n, err) < 0)
		return -1;
	struct layers_upper_skips skips;
	layers_upper_skips_find(upper, fds, n, &skips);
	image_layer_dirs_close(fds, n);
	const char *parent = json_string_value(json_array_get(layers, json_array_size(layers) - 1));
	return image_layer_from_dir(is, upper, parent ? parent : "", &skips, false, ret, err);
}

/* ---- the config ------------------------------------------------------------------------- */

/* The image's VOLUMEs and the container's anonymous volumes (-v /path):
 * Docker's Config.Volumes; named volumes and binds are not the image's. */
static void commit_volumes(json_t *out, json_t *mounts)
{
	json_t *vols = json_get_obj(out, "Volumes");
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m) {
		const char *target = json_get_str(m, "Target");
		if (!str_eq(json_get_str(m, "Kind"), "volume") || !json_get_bool(m, "Anonymous", false) ||
		    !target)
			continue;
		if (!vols) {
			vols = json_object();
			json_object_set_new(out, "Volumes", vols);
		}
		json_object_set_new(vols, target, json_object());
	}
}

static json_t *container_fields(json_t *image_cfg, json_t *container)
{
	json_t *ccfg = json_get_obj(container, "Config");
	json_t *out = json_is_object(image_cfg) ? json_deep_copy(image_cfg) : json_object();
	static const char *const keys[] = {"Cmd",    "Entrypoint", "Env",	  "WorkingDir",
					   "User",   "Labels",	   "ExposedPorts", "Healthcheck"};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(ccfg, keys[i]);
		if (v)
			json_object_set(out, keys[i], v);
	}
	commit_volumes(out, json_get_arr(json_get_obj(container, "Scow"), "Mounts"));
	/* scow records SIGTERM for every container: only another one, or one
	 * the image had, is the container's. */
	const char *sig = json_get_str(ccfg, "StopSignal");
	if (sig && (json_get_str(image_cfg, "StopSignal") || strcmp(sig, "SIGTERM") != 0))
		json_set_str(out, "StopSignal", sig);
	return out;
}

static char *created_by(json_t *ccfg)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "");
	size_t i;
	json_t *v;
	json_array_foreach(json_get_arr(ccfg, "Cmd"), i, v)
		sb_printf(&sb, "%s%s", i ? " " : "", json_string_value(v) ? json_string_value(v) : "");
	return sb_steal(&sb);
}

static json_t *commit_config(json_t *img, json_t *cfg, json_t *ccfg, const char *author,
			     const char *comment, const struct layer_info *li)
{
	char now[64];
	time_now_rfc3339(now, sizeof(now));
	bool empty = strcmp(li->diff_id, EMPTY_TAR_DIFF_ID) == 0;
	json_t *c = json_object();
	const char *arch = json_get_str(img, "architecture");
	const char *os = json_get_str(img, "os");
	json_set_str(c, "architecture", arch ? arch : platform_host_arch());
	if (json_get_str(img, "variant"))
		json_set_str(c, "variant", json_get_str(img, "variant"));
	json_set_str(c, "os", os ? os : "linux");
	if (json_object_get(img, "os.version"))
		json_object_set(c, "os.version", json_object_get(img, "os.version"));
	if (json_object_get(img, "os.features"))
		json_object_set(c, "os.features", json_object_get(img, "os.features"));
	if (author && *author)
		json_set_str(c, "author", author);
	json_object_set(c, "config", cfg);
	json_set_str(c, "created", now);
	json_t *hist = json_is_array(json_object_get(img, "history"))
			       ? json_deep_copy(json_object_get(img, "history"))
			       : json_array();
	json_t *h = json_object();
	json_set_str(h, "created", now);
	if (author && *author)
		json_set_str(h, "author", author);
	_cleanup_free_ char *by = created_by(ccfg);
	if (*by)
		json_set_str(h, "created_by", by);
	if (comment && *comment)
		json_set_str(h, "comment", comment);
	if (empty)
		json_object_set_new(h, "empty_layer", json_true());
	json_array_append_new(hist, h);
	json_object_set_new(c, "history", hist);
	json_t *ids = json_array();
	json_t *old = json_get_arr(json_get_obj(img, "rootfs"), "diff_ids");
	size_t i;
	json_t *d;
	json_array_foreach(old, i, d)
		json_array_append(ids, d);
	if (!empty)
		json_array_append_new(ids, json_string(li->diff_id));
	json_object_set_new(c, "rootfs", json_pack("{ss so}", "type", "layers", "diff_ids", ids));
	return c;
}

/* ---- pausing ---------------------------------------------------------------------------- */

/* Freezes a running container as `pause` does; true if it did. Failing
 * is no error (Docker commits anyway). */
static bool freeze(struct container_store *cs, const char *id)
{
	_cleanup_error_ struct scow_error *e = NULL;
	if (container_freeze(cs, id, &e) == 0)
		return true;
	log_warn("commit: cannot pause container %.12s, committing it running: %s", id, e->msg);
	return false;
}

/* ---- the command ------------------------------------------------------------------------- */

/* Makes the layer and stores the image (its config: cfg, already changed). */
static int commit_store(struct container_store *cs, struct image_store *is,
			const struct container *c, const struct image *img, json_t *cfg,
			const struct opts *o, char **tags, char id[DIGEST_STR_LEN + 1],
			struct scow_error **err)
{
	json_t *layers = json_get_arr(json_get_obj(c->config, "Scow"), "Layers");
	layer_store_clean_stale(&is->layers);
	/* From the layer's staging to the image's commit, no gc may take it. */
	int gc = image_store_gc_guard(is, err);
	struct layer_info li;
	int r = gc < 0 ? -1 : make_layer(cs, is, c, layers, &li, err);
	if (r == 0) {
		_cleanup_json_ json_t *config =
			commit_config(img->config, cfg, json_get_obj(c->config, "Config"),
				      opt_str(o, "author"), opt_str(o, "message"), &li);
		_cleanup_json_ json_t *all = layers ? json_deep_copy(layers) : json_array();
		if (strcmp(li.diff_id, EMPTY_TAR_DIFF_ID) != 0)
			json_array_append_new(all, json_string(li.chain_id));
		r = image_store_create(is, config, all, NULL, tags, id, err);
	}
	if (gc >= 0)
		lock_release(gc);
	if (r < 0) {
		_cleanup_error_ struct scow_error *e = NULL;
		if (image_store_lock(is, &e) == 0) {
			image_store_gc_layers(is, &e);
			image_store_unlock(is);
		}
	}
	return r;
}

static int commit_container(struct container_store *cs, struct image_store *is,
			    const struct opts *o, char **tags, char id[DIGEST_STR_LEN + 1],
			    struct scow_error **err)
{
	struct container c = {.lock_fd = -1};
	if (cmd_load_container(cs, o->args[0], false, &c, err) < 0)
		return -1;
	int r = 0;
	if (c.status == CTR_DEAD)
		r = error_set(err, EINVAL, "You cannot commit container %s which is Dead", c.id);
	else if (c.status == CTR_REMOVING)
		r = error_set(err, EINVAL, "You cannot commit container %s which is being removed",
			      c.id);
	struct image img = {0};
	const char *image_id = json_get_str(c.config, "Image");
	if (r == 0 && image_store_load(is, image_id ? image_id : "", NULL, &img, err) < 0)
		r = error_wrap(err, "the container's image");
	/* The image's config with the container's fields, then the changes. */
	_cleanup_json_ json_t *cfg = NULL;
	if (r == 0) {
		cfg = container_fields(json_get_obj(img.config, "config"), c.config);
		size_t nchanges;
		const char *const *changes = opt_list(o, "change", &nchanges);
		r = image_config_apply_changes(cfg, changes, nchanges, err);
	}
	bool pause = !opt_set(o, "pause") || opt_bool(o, "pause");
	bool frozen = r == 0 && pause && c.status == CTR_RUNNING && freeze(cs, c.id);
	if (r == 0)
		r = commit_store(cs, is, &c, &img, cfg, o, tags, id, err);
	if (frozen && container_thaw(cs, c.id) < 0)
		log_warn("commit: cannot unpause container %.12s", c.id);
	image_release(&img);
	container_release(&c);
	return r;
}

int cmd_commit(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	_cleanup_strv_ char **tags = xcalloc(2, sizeof(char *));
	if (o->nargs > 1 && image_tag_arg(o->args[1], &tags[0], err) < 0)
		return cmd_fail(err);
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0) {
		container_store_close(&cs);
		return cmd_fail(err);
	}
	char id[DIGEST_STR_LEN + 1];
	int r = commit_container(&cs, &is, o, tags, id, err);
	image_store_close(&is);
	container_store_close(&cs);
	if (r < 0)
		return cmd_fail(err);
	printf("%s\n", id);
	return 0;
}
