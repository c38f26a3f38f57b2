/* Detached overlays of layer directories (see view.h). */
#include "layers/view.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/strutil.h"

/* lowerdir+ (Linux 6.8) takes one layer per call, so 128+ layers fit;
 * older kernels get the joined string, which must fit a page. */
int layers_overlay_lowers(int fs, char *const *lowers, struct scow_error **err)
{
	bool plus = true;
	for (size_t i = 0; lowers[i] && plus; i++) {
		if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) == 0)
			continue;
		if (i > 0 || errno != EINVAL)
			return error_errno(err, "overlay: layer %s", lowers[i]);
		plus = false;
	}
	if (plus)
		return 0;
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; lowers[i]; i++)
		sb_printf(&sb, "%s%s", i ? ":" : "", lowers[i]);
	if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", sb_str(&sb), 0) < 0)
		return error_errno(err, "overlay: %zu layers (this kernel has no lowerdir+)",
				   strv_len(lowers));
	return 0;
}

int layers_overlay_mount(char *const *lowers, const char *upper, const char *work,
			 bool userxattr, struct scow_error **err)
{
	if (!lowers || !lowers[0])
		return error_set(err, EINVAL, "overlay: no layers");
	_cleanup_close_ int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return error_errno(err, "overlay: fsopen");
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", "overlay", 0) < 0)
		return error_errno(err, "overlay: source");
	if (layers_overlay_lowers(fs, lowers, err) < 0)
		return -1;
	if (upper && (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
		      fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0))
		return error_errno(err, "overlay: upper dir %s", upper);
	if (userxattr && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		return error_errno(err, "overlay: userxattr");
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		return error_errno(err, "overlay: mount");
	unsigned attrs = MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
	_cleanup_close_ int mnt = fsmount(fs, FSMOUNT_CLOEXEC, upper ? attrs : attrs | MOUNT_ATTR_RDONLY);
	if (mnt < 0)
		return error_errno(err, "overlay: fsmount");
	/* The mount fd is O_PATH; readers want a directory they can list. */
	int root = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return error_errno(err, "overlay: open the root");
	return root;
}

int layers_view_mount(char *const *lowers, bool userxattr, struct scow_error **err)
{
	return layers_overlay_mount(lowers, NULL, NULL, userxattr, err);
}
