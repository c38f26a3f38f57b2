/* scow save / load (image/archive.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/common.h"
#include "image/archive.h"
#include "image/reference.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/xalloc.h"

const struct opt_def cmd_save_opts[] = {
	{"output", 'o', OPT_VALUE, "string", "Write to a file, instead of STDOUT", NULL},
	{"format", 0, OPT_VALUE, "string",
	 "Archive format: docker-archive, oci-archive or oci-dir (a directory)",
	 "\"docker-archive\""},
	{"multi-image-archive", 'm', OPT_BOOL, NULL,
	 "Several images in one archive (always allowed)", NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Suppress the output", NULL},
	OPT_END,
};

const struct opt_def cmd_load_opts[] = {
	{"input", 'i', OPT_VALUE, "string",
	 "Read from a tar archive file (maybe compressed) or an OCI layout directory, instead of "
	 "STDIN",
	 NULL},
	{"quiet", 'q', OPT_BOOL, NULL, "Suppress the load output", NULL},
	OPT_END,
};

static void warn_stderr(void *opaque, const char *msg)
{
	(void)opaque;
	fprintf(stderr, "WARNING: %s\n", msg);
}

/* -o FILE: written as FILE.tmp-RANDOM next to it, renamed when complete:
 * FILE is never a partial archive (not synced: an export, not state). */
static int save_to_file(struct image_store *s, char *const *names, size_t n,
			struct save_opts *so, const char *path, struct scow_error **err)
{
	char rnd[13];
	fs_random_hex(rnd, 6);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp-%s", path, rnd);
	so->out_fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (so->out_fd < 0)
		return error_errno(err, "create %s", tmp);
	int r = image_save(s, names, n, so, err);
	if (close(so->out_fd) < 0 && r == 0)
		r = error_errno(err, "write %s", path);
	if (r == 0 && rename(tmp, path) < 0)
		r = error_errno(err, "rename %s to %s", tmp, path);
	if (r < 0)
		unlink(tmp);
	return r;
}

int cmd_save(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	int fmt = archive_format_parse(opt_str(o, "format"));
	if (fmt < 0)
		return error_set(err, EINVAL,
				 "unknown format \"%s\" (docker-archive, oci-archive, oci-dir)",
				 opt_str(o, "format"));
	const char *out = opt_str(o, "output");
	if (out && strcmp(out, "-") == 0)
		out = NULL;
	if (fmt == ARCHIVE_OCI_DIR && !out)
		return error_set(err, EINVAL, "--format oci-dir needs -o DIRECTORY");
	if (!out && isatty(STDOUT_FILENO))
		return error_set(err, EINVAL,
				 "cowardly refusing to save to a terminal. Use the -o flag or "
				 "redirect");
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0)
		return cmd_fail(err);
	struct save_opts so = {.format = (enum archive_format)fmt, .out_fd = STDOUT_FILENO,
			       .warn = warn_stderr};
	int r;
	if (fmt == ARCHIVE_OCI_DIR) {
		so.dir = out;
		r = image_save(&s, o->args, (size_t)o->nargs, &so, err);
	} else if (out) {
		r = save_to_file(&s, o->args, (size_t)o->nargs, &so, out, err);
	} else {
		r = image_save(&s, o->args, (size_t)o->nargs, &so, err);
	}
	image_store_close(&s);
	return r < 0 ? cmd_fail(err) : 0;
}

static void print_loaded(const struct load_result *res)
{
	for (size_t i = 0; res->tags[i]; i++) {
		struct image_ref r = {0};
		_cleanup_free_ char *f = NULL;
		if (image_ref_parse(res->tags[i], false, &r, NULL) == 0)
			f = image_ref_familiar(&r);
		image_ref_release(&r);
		printf("Loaded image: %s\n", f ? f : res->tags[i]);
	}
	for (size_t i = 0; res->ids[i]; i++)
		printf("Loaded image ID: %s\n", res->ids[i]);
}

int cmd_load(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	const char *in = opt_str(o, "input");
	_cleanup_close_ int fd = -1;
	_cleanup_close_ int dir_fd = -1;
	if (in && strcmp(in, "-") != 0) {
		fd = open(in, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			error_errno(err, "open %s", in);
			return cmd_fail(err);
		}
		struct stat st;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			dir_fd = steal_fd(&fd);
	} else if (isatty(STDIN_FILENO)) {
		error_set(err, EINVAL, "requested load from stdin, but stdin is empty");
		return cmd_fail(err);
	}
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0)
		return cmd_fail(err);
	struct load_result res = {0};
	int r = image_load(&s, fd >= 0 ? fd : STDIN_FILENO, dir_fd, &res, err);
	image_store_close(&s);
	if (r == 0)
		print_loaded(&res);
	load_result_release(&res);
	if (r < 0) {
		error_wrap(err, "load");
		return cmd_fail(err);
	}
	return 0;
}
