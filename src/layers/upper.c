/* scow's own entries in an upper dir (see upper.h). */
#include "layers/upper.h"

#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "util/cleanup.h"

static const char *const setup_names[] = {"dev", "etc", "proc", "sys"};

static const char *rel(const char *dir)
{
	while (*dir == '/')
		dir++;
	return dir;
}

bool layers_upper_stub_file(const char *dir, const char *name)
{
	return strcmp(rel(dir), "etc") == 0 &&
	       (strcmp(name, "hosts") == 0 || strcmp(name, "hostname") == 0 ||
		strcmp(name, "resolv.conf") == 0);
}

bool layers_upper_setup_dir(const char *dir, const char *name)
{
	if (*rel(dir))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(setup_names); i++)
		if (strcmp(name, setup_names[i]) == 0)
			return true;
	return false;
}

bool layers_ovl_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

bool layers_ovl_opaque(int fd)
{
	static const char *const names[] = {"trusted.overlay.opaque", "user.overlay.opaque"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char v[2];
		if (fgetxattr(fd, names[i], v, sizeof(v)) == 1 && v[0] == 'y')
			return true;
	}
	return false;
}

/* The image's entry name at its root: the topmost layer that has it. */
static bool image_has(const int *layer_fds, size_t n, const char *name, struct stat *ret)
{
	for (size_t i = 0; i < n; i++) {
		if (fstatat(layer_fds[i], name, ret, AT_SYMLINK_NOFOLLOW) == 0)
			return !layers_ovl_whiteout(ret);
		if (layers_ovl_opaque(layer_fds[i]))
			return false;
	}
	return false;
}

/* Whether the upper dir's dir (a setup dir) holds anything but stubs. */
static bool has_own_entries(int upper, const char *dir)
{
	int fd = openat(upper, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return true; /* unreadable: keep it, the tar will say what is wrong */
	}
	bool own = layers_ovl_opaque(dirfd(d));
	struct dirent *de;
	while (!own && (de = readdir(d)))
		own = strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		      !layers_upper_stub_file(dir, de->d_name);
	closedir(d);
	return own;
}

void layers_upper_skips_find(int upper, const int *layer_fds, size_t n,
			     struct layers_upper_skips *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(setup_names); i++) {
		const char *name = setup_names[i];
		struct stat st, img;
		ret->skip[i] = false;
		if (fstatat(upper, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
		    has_own_entries(upper, name))
			continue;
		if (!image_has(layer_fds, n, name, &img))
			ret->skip[i] = true;
		else
			ret->skip[i] = S_ISDIR(img.st_mode) && img.st_mode == st.st_mode &&
				       img.st_uid == st.st_uid && img.st_gid == st.st_gid;
	}
}

bool layers_upper_skip(void *opaque, const char *path)
{
	const struct layers_upper_skips *s = opaque;
	const char *slash = strchr(path, '/');
	if (!slash) {
		for (size_t i = 0; i < ARRAY_SIZE(setup_names); i++)
			if (s->skip[i] && strcmp(path, setup_names[i]) == 0)
				return true;
		return false;
	}
	if (strchr(slash + 1, '/'))
		return false;
	char dir[8];
	size_t dlen = (size_t)(slash - path);
	if (dlen >= sizeof(dir))
		return false;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	return layers_upper_stub_file(dir, slash + 1);
}
