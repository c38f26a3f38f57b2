/* run/create options -> the container's config, checked value by value. */
#include <ctype.h>
#include <signal.h>
#include <strings.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cmd/run.h"
#include "image/reference.h"
#include "ns/caps.h"
#include "ns/seccomp.h"
#include "ns/user.h"
#include "state/volume.h"
#include "supervise/logfile.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/signals.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define ENV_FILE_MAX (1u << 20)
#define ARGV_MAX (1u << 20) /* total bytes of the command line we accept */

static json_t *strv_json(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *list_or_empty(const struct opts *o, const char *name)
{
	size_t n;
	const char *const *v = opt_list(o, name, &n);
	return strv_json(v, n);
}

/* ---- environment and labels ------------------------------------------------- */

/* KEY=VALUE replaces KEY; a bare KEY takes the host's value (dropped when
 * the host has none), as Docker does. */
static int env_set(json_t *env, const char *kv, const char *what, struct scow_error **err)
{
	if (!*kv || kv[0] == '=')
		return error_set(err, EINVAL, "invalid environment variable %s: \"%s\"", what, kv);
	if (strchr(kv, '\n'))
		return error_set(err, EINVAL, "invalid environment variable %s: contains a newline",
				 what);
	_cleanup_free_ char *owned = NULL;
	const char *eq = strchr(kv, '=');
	if (!eq) {
		const char *host = getenv(kv);
		if (!host)
			return 0;
		owned = xasprintf("%s=%s", kv, host);
		kv = owned;
		eq = strchr(kv, '=');
	}
	size_t klen = (size_t)(eq - kv);
	size_t i;
	json_t *e;
	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (s && strncmp(s, kv, klen) == 0 && s[klen] == '=') {
			json_array_set_new(env, i, json_string(kv));
			return 0;
		}
	}
	json_array_append_new(env, json_string(kv));
	return 0;
}

/* Docker's env-file: KEY=VALUE lines, '#' comments, blank lines; a line
 * with only KEY takes the host's value. NUL bytes are refused. */
static int read_lines_file(const char *path, const char *what, char ***ret,
			   struct scow_error **err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	if (fs_read_stream(path, ENV_FILE_MAX, &buf, &len, err) < 0)
		return error_wrap(err, "%s", what);
	if (memchr(buf, '\0', len))
		return error_set(err, EINVAL, "%s %s: contains a NUL byte", what, path);
	char **lines = xcalloc(1, sizeof(char *));
	_cleanup_strv_ char **raw = strv_split(buf, '\n');
	for (size_t i = 0; raw[i]; i++) {
		char *l = raw[i];
		size_t n = strlen(l);
		if (n && l[n - 1] == '\r')
			l[--n] = '\0';
		while (*l == ' ' || *l == '\t')
			l++;
		if (!*l || *l == '#')
			continue;
		strv_push(&lines, xstrdup(l));
	}
	*ret = lines;
	return 0;
}

int container_env_apply(json_t *env, const struct opts *o, struct scow_error **err);

static json_t *build_env(const struct opts *o, json_t *image_env, struct scow_error **err)
{
	_cleanup_json_ json_t *env = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(image_env, i, e)
		if (json_is_string(e))
			json_array_append(env, e);
	return container_env_apply(env, o, err) < 0 ? NULL : json_incref(env);
}

/* --env-file then -e applied to env (exec uses it on the container's). */
int container_env_apply(json_t *env, const struct opts *o, struct scow_error **err)
{
	size_t n;
	const char *const *files = opt_list(o, "env-file", &n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_strv_ char **lines = NULL;
		if (read_lines_file(files[i], "env file", &lines, err) < 0)
			return -1;
		for (size_t k = 0; lines[k]; k++)
			if (env_set(env, lines[k], files[i], err) < 0)
				return -1;
	}
	const char *const *vars = opt_list(o, "env", &n);
	for (size_t i = 0; i < n; i++)
		if (env_set(env, vars[i], "in -e", err) < 0)
			return -1;
	return 0;
}

static json_t *build_labels(const struct opts *o, json_t *image_labels, struct scow_error **err)
{
	_cleanup_json_ json_t *labels = json_is_object(image_labels) ? json_deep_copy(image_labels)
								      : json_object();
	size_t n;
	const char *const *files = opt_list(o, "label-file", &n);
	_cleanup_strv_ char **all = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		_cleanup_strv_ char **lines = NULL;
		if (read_lines_file(files[i], "label file", &lines, err) < 0)
			return NULL;
		for (size_t k = 0; lines[k]; k++)
			strv_push(&all, xstrdup(lines[k]));
	}
	const char *const *l = opt_list(o, "label", &n);
	for (size_t i = 0; i < n; i++)
		strv_push(&all, xstrdup(l[i]));
	for (size_t i = 0; all[i]; i++) {
		char *eq = strchr(all[i], '=');
		if (eq)
			*eq = '\0';
		if (!*all[i])
			return error_set(err, EINVAL, "invalid label: empty key"), NULL;
		json_object_set_new(labels, all[i], json_string(eq ? eq + 1 : ""));
	}
	return json_incref(labels);
}

/* ---- command ------------------------------------------------------------------- */

/* Docker's rules: --entrypoint replaces the image's and drops its Cmd;
 * arguments after the image replace Cmd. */
static int build_command(const struct opts *o, json_t *image_cfg, json_t *cfg,
			 json_t **ret_argv, struct scow_error **err)
{
	json_t *entry = json_get_arr(image_cfg, "Entrypoint");
	json_t *cmd = json_get_arr(image_cfg, "Cmd");
	_cleanup_json_ json_t *e = NULL, *c = NULL;
	const char *ep = opt_str(o, "entrypoint");
	if (ep) {
		e = *ep ? json_pack("[s]", ep) : json_array();
		cmd = NULL;
	} else {
		e = entry ? json_incref(entry) : json_null();
	}
	if (o->nargs > 1)
		c = strv_json((const char *const *)o->args + 1, (size_t)o->nargs - 1);
	else
		c = cmd ? json_incref(cmd) : json_null();
	json_t *argv = json_array();
	size_t i, total = 0;
	json_t *v;
	json_array_foreach(e, i, v) {
		json_array_append(argv, v);
		total += strlen(json_string_value(v) ? json_string_value(v) : "") + 1;
	}
	json_array_foreach(c, i, v) {
		json_array_append(argv, v);
		total += strlen(json_string_value(v) ? json_string_value(v) : "") + 1;
	}
	if (json_array_size(argv) == 0) {
		json_decref(argv);
		return error_set(err, EINVAL, "No command specified");
	}
	json_array_foreach(argv, i, v)
		if (!json_is_string(v)) {
			json_decref(argv);
			return error_set(err, EINVAL, "the image's command holds a non-string");
		}
	if (total > ARGV_MAX) {
		json_decref(argv);
		return error_set(err, E2BIG, "the command line is longer than %u bytes", ARGV_MAX);
	}
	json_object_set_new(cfg, "Entrypoint", json_is_array(e) && json_array_size(e) ? json_incref(e)
											    : json_null());
	json_object_set_new(cfg, "Cmd", json_is_array(c) ? json_incref(c) : json_null());
	*ret_argv = argv;
	return 0;
}

/* /proc/<anything>/fd paths would reach host fds (runc CVE-2024-21626). */
static bool proc_fd_path(const char *clean)
{
	if (!str_starts_with(clean, "/proc/"))
		return false;
	const char *rest = clean + 6;
	const char *slash = strchr(rest, '/');
	return slash && (str_starts_with(slash, "/fd") || str_starts_with(slash, "/cwd") ||
			 str_starts_with(slash, "/root"));
}

static int check_workdir(const char *w, struct scow_error **err)
{
	if (w[0] != '/')
		return error_set(err, EINVAL,
				 "the working directory '%s' is invalid, it needs to be an absolute "
				 "path",
				 w);
	_cleanup_free_ char *clean = fs_path_clean(w);
	if (proc_fd_path(clean))
		return error_set(err, EINVAL, "the working directory '%s' is not allowed", w);
	return 0;
}

/* ---- mounts --------------------------------------------------------------------- */

static json_t *scow_mount(const char *kind, const char *source, const char *target, bool ro,
			  const char *propagation, const char *options, bool recursive)
{
	_cleanup_free_ char *t = fs_path_clean(target);
	return json_pack("{ss ss? ss sb ss ss? sb}", "Kind", kind, "Source", source, "Target", t,
			 "ReadOnly", ro, "Propagation", propagation ? propagation : "", "Options",
			 options, "Recursive", recursive);
}

/* A volume mount; name NULL: anonymous, named when the container is
 * created. Options and labels are used if the volume must be created. */
static json_t *volume_mount(const char *name, const char *target, bool ro, bool copy_up)
{
	_cleanup_free_ char *t = fs_path_clean(target);
	return json_pack("{ss ss? ss sb ss sb sb}", "Kind", "volume", "Source", name, "Target", t,
			 "ReadOnly", ro, "Propagation", "", "CopyUp", copy_up, "Anonymous", !name);
}

static bool is_propagation(const char *s)
{
	static const char *const modes[] = {"shared", "rshared", "slave",
					    "rslave", "private", "rprivate"};
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++)
		if (strcmp(s, modes[i]) == 0)
			return true;
	return false;
}

static int check_target(const char *spec, const char *target, struct scow_error **err)
{
	if (!target || target[0] != '/')
		return error_set(err, EINVAL,
				 "invalid volume specification: '%s': invalid mount config for type "
				 "\"bind\": invalid mount path: '%s' mount path must be absolute",
				 spec, target ? target : "");
	_cleanup_free_ char *clean = fs_path_clean(target);
	if (strcmp(clean, "/") == 0)
		return error_set(err, EINVAL, "invalid volume specification: '%s': cannot mount over /",
				 spec);
	return 0;
}

/* -v SRC:DST[:OPTS]: a bind mount when SRC is absolute (Docker creates a
 * missing source directory for -v, not for --mount), else a named volume;
 * -v DST alone is an anonymous volume. */
static int parse_volume(const char *spec, json_t *mounts, struct scow_error **err)
{
	_cleanup_strv_ char **parts = strv_split(spec, ':');
	size_t n = strv_len(parts);
	if (n < 1 || n > 3 || !*parts[0])
		return error_set(err, EINVAL, "invalid volume specification: '%s'", spec);
	if (n == 1) {
		if (check_target(spec, parts[0], err) < 0)
			return -1;
		json_array_append_new(mounts, volume_mount(NULL, parts[0], false, true));
		return 0;
	}
	const char *src = parts[0], *dst = parts[1];
	if (src[0] != '/' && volume_name_check(src, err) < 0)
		return -1;
	if (check_target(spec, dst, err) < 0)
		return -1;
	bool ro = false, nocopy = false;
	const char *prop = NULL;
	_cleanup_strv_ char **opts = n == 3 ? strv_split(parts[2], ',') : NULL;
	for (size_t i = 0; opts && opts[i]; i++) {
		const char *op = opts[i];
		if (strcmp(op, "ro") == 0)
			ro = true;
		else if (strcmp(op, "rw") == 0)
			ro = false;
		else if (strcmp(op, "nocopy") == 0)
			nocopy = true;
		else if (is_propagation(op))
			prop = op;
		else if (strcmp(op, "z") && strcmp(op, "Z") && strcmp(op, "consistent") &&
			 strcmp(op, "cached") && strcmp(op, "delegated"))
			return error_set(err, EINVAL, "invalid mode: %s", op);
	}
	if (src[0] != '/') {
		if (prop)
			return error_set(err, EINVAL, "invalid volume specification: '%s': "
						      "propagation applies to bind mounts only",
					 spec);
		json_array_append_new(mounts, volume_mount(src, dst, ro, !nocopy));
		return 0;
	}
	struct stat st;
	if (stat(src, &st) < 0) {
		if (errno != ENOENT || fs_mkdir_p(src, 0755, err) < 0)
			return *err ? -1 : error_errno(err, "bind source %s", src);
	}
	json_array_append_new(mounts, scow_mount("bind", src, dst, ro, prop, NULL, true));
	return 0;
}

static int parse_bool_value(const char *v, bool *ret)
{
	if (!v || strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
		return *ret = true, 0;
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return *ret = false, 0;
	return -1;
}

struct mount_fields {
	const char *type, *source, *target, *prop, *size, *mode, *driver;
	bool ro, nonrecursive, nocopy;
	json_t *volume_opts, *volume_labels; /* volume-opt=k=v, volume-label=k=v */
};

static void mount_fields_release(struct mount_fields *f)
{
	json_decref(f->volume_opts);
	json_decref(f->volume_labels);
}

/* "k=v" into obj; a bare "k" is an empty value. */
static void set_kv(json_t *obj, const char *kv)
{
	const char *eq = strchr(kv, '=');
	_cleanup_free_ char *k = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
	json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
}

static int mount_fields_parse(const char *spec, char **kvs, struct mount_fields *f,
			      struct scow_error **err)
{
	for (size_t i = 0; kvs[i]; i++) {
		char *eq = strchr(kvs[i], '=');
		const char *v = eq ? eq + 1 : NULL;
		if (eq)
			*eq = '\0';
		const char *k = kvs[i];
		if (strcmp(k, "type") == 0)
			f->type = v;
		else if (!strcmp(k, "source") || !strcmp(k, "src"))
			f->source = v;
		else if (!strcmp(k, "target") || !strcmp(k, "dst") || !strcmp(k, "destination"))
			f->target = v;
		else if (!strcmp(k, "readonly") || !strcmp(k, "ro")) {
			if (parse_bool_value(v, &f->ro) < 0)
				return error_set(err, EINVAL, "invalid value for %s: %s", k, v);
		} else if (!strcmp(k, "bind-propagation"))
			f->prop = v;
		else if (!strcmp(k, "bind-nonrecursive")) {
			if (parse_bool_value(v, &f->nonrecursive) < 0)
				return error_set(err, EINVAL, "invalid value for %s: %s", k, v);
		} else if (!strcmp(k, "volume-nocopy")) {
			if (parse_bool_value(v, &f->nocopy) < 0)
				return error_set(err, EINVAL, "invalid value for %s: %s", k, v);
		} else if (!strcmp(k, "volume-opt") || !strcmp(k, "volume-label")) {
			if (!v || !*v)
				return error_set(err, EINVAL, "invalid value for %s: empty", k);
			json_t **obj = k[7] == 'o' ? &f->volume_opts : &f->volume_labels;
			if (!*obj)
				*obj = json_object();
			set_kv(*obj, v);
		} else if (!strcmp(k, "volume-driver"))
			f->driver = v;
		else if (!strcmp(k, "tmpfs-size"))
			f->size = v;
		else if (!strcmp(k, "tmpfs-mode"))
			f->mode = v;
		else if (strcmp(k, "consistency") != 0)
			return error_set(err, EINVAL, "unexpected key '%s' in '%s'", k, spec);
	}
	return 0;
}

static int tmpfs_options(const char *size, const char *mode, struct strbuf *sb,
			 struct scow_error **err)
{
	if (size) {
		uint64_t bytes;
		if (logfile_parse_size(size, &bytes, err) < 0)
			return error_wrap(err, "tmpfs size");
		sb_printf(sb, "%ssize=%llu", sb->len ? "," : "", (unsigned long long)bytes);
	}
	if (mode) {
		char *end;
		unsigned long m = strtoul(mode, &end, 8);
		if (!*mode || *end || m > 07777)
			return error_set(err, EINVAL, "invalid tmpfs mode %s", mode);
		sb_printf(sb, "%smode=%lo", sb->len ? "," : "", m);
	}
	return 0;
}

static int mount_volume_flag(struct mount_fields *f, json_t *mounts, struct scow_error **err)
{
	if (f->driver && strcmp(f->driver, "local"))
		return error_set(err, EINVAL, "volume driver \"%s\" is not available: only "
					      "\"local\" is",
				 f->driver);
	if (f->source && volume_name_check(f->source, err) < 0)
		return -1;
	if (f->prop)
		return error_set(err, EINVAL, "invalid mount config for type \"volume\": "
					      "bind-propagation applies to bind mounts only");
	json_t *m = volume_mount(f->source, f->target, f->ro, !f->nocopy);
	if (f->volume_opts)
		json_object_set(m, "VolumeOptions", f->volume_opts);
	if (f->volume_labels)
		json_object_set(m, "VolumeLabels", f->volume_labels);
	json_array_append_new(mounts, m);
	return 0;
}

static int parse_mount_flag(const char *spec, json_t *mounts, struct scow_error **err)
{
	_cleanup_strv_ char **kvs = strv_split(spec, ',');
	_cleanup_(mount_fields_release) struct mount_fields f = {.type = "volume"};
	if (mount_fields_parse(spec, kvs, &f, err) < 0)
		return -1;
	if (!f.target || f.target[0] != '/')
		return error_set(err, EINVAL, "invalid mount config: target must be an absolute path");
	if (f.prop && !is_propagation(f.prop))
		return error_set(err, EINVAL, "invalid bind propagation: %s", f.prop);
	bool is_volume = strcmp(f.type, "volume") == 0;
	if (!is_volume && (f.nocopy || f.volume_opts || f.volume_labels || f.driver))
		return error_set(err, EINVAL, "invalid mount config for type \"%s\": volume options "
					      "apply to volumes only",
				 f.type);
	if (is_volume)
		return mount_volume_flag(&f, mounts, err);
	if (strcmp(f.type, "bind") == 0) {
		struct stat st;
		if (!f.source || f.source[0] != '/')
			return error_set(err, EINVAL,
					 "invalid mount config for type \"bind\": invalid mount path: "
					 "'%s' mount path must be absolute",
					 f.source ? f.source : "");
		if (stat(f.source, &st) < 0)
			return error_set(err, ENOENT,
					 "invalid mount config for type \"bind\": bind source path "
					 "does not exist: %s",
					 f.source);
		json_array_append_new(mounts, scow_mount("bind", f.source, f.target, f.ro, f.prop,
							 NULL, !f.nonrecursive));
		return 0;
	}
	if (strcmp(f.type, "tmpfs") == 0) {
		if (f.source)
			return error_set(err, EINVAL, "invalid mount config for type \"tmpfs\": "
						      "source must not be specified");
		_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
		if (tmpfs_options(f.size, f.mode, &sb, err) < 0)
			return -1;
		json_array_append_new(mounts, scow_mount("tmpfs", NULL, f.target, f.ro, NULL,
							 sb.len ? sb.buf : NULL, false));
		return 0;
	}
	return error_set(err, EINVAL, "invalid mount config: mount type \"%s\" is not supported",
			 f.type);
}

/* --tmpfs /path[:opts]: Docker's defaults are noexec,nosuid,nodev. */
static int parse_tmpfs(const char *spec, json_t *mounts, json_t *host_tmpfs,
		       struct scow_error **err)
{
	const char *colon = strchr(spec, ':');
	_cleanup_free_ char *target = colon ? xstrndup(spec, (size_t)(colon - spec)) : xstrdup(spec);
	if (target[0] != '/')
		return error_set(err, EINVAL, "invalid tmpfs mount: %s: path must be absolute", spec);
	_cleanup_sb_ struct strbuf data = STRBUF_INIT;
	bool ro = false;
	_cleanup_strv_ char **opts = colon && colon[1] ? strv_split(colon + 1, ',') : NULL;
	for (size_t i = 0; opts && opts[i]; i++) {
		const char *op = opts[i];
		if (!strcmp(op, "ro") || !strcmp(op, "rw"))
			ro = !strcmp(op, "ro");
		else if (str_starts_with(op, "size=")) {
			uint64_t b;
			if (logfile_parse_size(op + 5, &b, err) < 0)
				return error_wrap(err, "tmpfs %s", target);
			sb_printf(&data, "%ssize=%llu", data.len ? "," : "", (unsigned long long)b);
		} else if (str_starts_with(op, "mode=") || str_starts_with(op, "uid=") ||
			   str_starts_with(op, "gid=") || str_starts_with(op, "nr_inodes=") ||
			   str_starts_with(op, "nr_blocks="))
			sb_printf(&data, "%s%s", data.len ? "," : "", op);
		else if (strcmp(op, "exec") && strcmp(op, "noexec") && strcmp(op, "suid") &&
			 strcmp(op, "nosuid") && strcmp(op, "dev") && strcmp(op, "nodev"))
			return error_set(err, EINVAL, "invalid tmpfs option: %s", op);
	}
	/* Flags travel in the options string; the spec builder splits them. */
	_cleanup_sb_ struct strbuf flags = STRBUF_INIT;
	sb_append(&flags, strv_contains(opts, "exec") ? "exec" : "noexec");
	sb_append(&flags, strv_contains(opts, "suid") ? ",suid" : ",nosuid");
	sb_append(&flags, strv_contains(opts, "dev") ? ",dev" : ",nodev");
	_cleanup_free_ char *all = xasprintf("%s%s%s", sb_str(&flags), data.len ? "," : "",
					     sb_str(&data));
	json_array_append_new(mounts, scow_mount("tmpfs", NULL, target, ro, NULL, all, false));
	json_object_set_new(host_tmpfs, target, json_string(colon ? colon + 1 : ""));
	return 0;
}

static int build_mounts(const struct opts *o, json_t *host, json_t *mounts, struct scow_error **err)
{
	size_t n;
	const char *const *v = opt_list(o, "volume", &n);
	for (size_t i = 0; i < n; i++)
		if (parse_volume(v[i], mounts, err) < 0)
			return -1;
	v = opt_list(o, "mount", &n);
	for (size_t i = 0; i < n; i++)
		if (parse_mount_flag(v[i], mounts, err) < 0)
			return -1;
	json_t *tmpfs = json_object();
	json_object_set_new(host, "Tmpfs", tmpfs);
	v = opt_list(o, "tmpfs", &n);
	for (size_t i = 0; i < n; i++)
		if (parse_tmpfs(v[i], mounts, tmpfs, err) < 0)
			return -1;
	json_object_set_new(host, "Binds", list_or_empty(o, "volume"));
	/* Two mounts on one target is Docker's "Duplicate mount point". */
	size_t i, k;
	json_t *a, *b;
	json_array_foreach(mounts, i, a) {
		json_array_foreach(mounts, k, b) {
			if (k > i && str_eq(json_get_str(a, "Target"), json_get_str(b, "Target")))
				return error_set(err, EINVAL, "Duplicate mount point: %s",
						 json_get_str(a, "Target"));
		}
	}
	return 0;
}

/* ---- devices, limits, sysctls ----------------------------------------------------- */

static int parse_device(const char *spec, json_t *host_devices, json_t *devices,
			struct scow_error **err)
{
	_cleanup_strv_ char **parts = strv_split(spec, ':');
	size_t n = strv_len(parts);
	if (n < 1 || n > 3 || parts[0][0] != '/')
		return error_set(err, EINVAL, "invalid device specification: %s", spec);
	const char *host = parts[0];
	const char *path = n >= 2 && parts[1][0] == '/' ? parts[1] : host;
	const char *perm = n == 3 ? parts[2] : n == 2 && parts[1][0] != '/' ? parts[1] : "rwm";
	if (!*perm || strspn(perm, "rwm") != strlen(perm) || strlen(perm) > 3)
		return error_set(err, EINVAL, "invalid device mode: %s", perm);
	struct stat st;
	if (stat(host, &st) < 0)
		return error_errno(err, "error gathering device information while adding custom "
					"device \"%s\"",
				   host);
	if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
		return error_set(err, EINVAL, "%s is not a device", host);
	json_array_append_new(host_devices, json_pack("{ss ss ss}", "PathOnHost", host,
						      "PathInContainer", path, "CgroupPermissions",
						      perm));
	json_array_append_new(devices,
			      json_pack("{ss ss ss si si si ss}", "HostPath", host, "Path", path,
					"Type", S_ISBLK(st.st_mode) ? "b" : "c", "Major",
					(int)major(st.st_rdev), "Minor", (int)minor(st.st_rdev), "Mode",
					(int)(st.st_mode & 07777), "Access", perm));
	return 0;
}

static const struct {
	const char *name;
	int resource;
} ulimit_names[] = {
	{"as", RLIMIT_AS},	     {"core", RLIMIT_CORE},	    {"cpu", RLIMIT_CPU},
	{"data", RLIMIT_DATA},	     {"fsize", RLIMIT_FSIZE},	    {"locks", RLIMIT_LOCKS},
	{"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
	{"nofile", RLIMIT_NOFILE},   {"nproc", RLIMIT_NPROC},	    {"rss", RLIMIT_RSS},
	{"rtprio", RLIMIT_RTPRIO},   {"rttime", RLIMIT_RTTIME},	    {"sigpending", RLIMIT_SIGPENDING},
	{"stack", RLIMIT_STACK},
};

int ulimit_resource(const char *name);
int ulimit_resource(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
		if (strcmp(name, ulimit_names[i].name) == 0)
			return ulimit_names[i].resource;
	return -1;
}

static int parse_ulimit(const char *spec, json_t *out, struct scow_error **err)
{
	const char *eq = strchr(spec, '=');
	if (!eq)
		return error_set(err, EINVAL, "invalid ulimit argument: %s", spec);
	_cleanup_free_ char *name = xstrndup(spec, (size_t)(eq - spec));
	if (ulimit_resource(name) < 0)
		return error_set(err, EINVAL, "invalid ulimit type: %s", name);
	_cleanup_strv_ char **vals = strv_split(eq + 1, ':');
	long long soft, hard;
	if (strv_len(vals) > 2 || !str_to_ll(vals[0], -1, INT64_MAX, &soft) ||
	    !str_to_ll(vals[1] ? vals[1] : vals[0], -1, INT64_MAX, &hard))
		return error_set(err, EINVAL, "invalid ulimit argument: %s", spec);
	if (hard != -1 && (soft == -1 || soft > hard))
		return error_set(err, EINVAL,
				 "ulimit soft limit must be less than or equal to hard limit: %lld > "
				 "%lld",
				 soft, hard);
	json_array_append_new(out, json_pack("{ss sI sI}", "Name", name, "Soft", (json_int_t)soft,
					     "Hard", (json_int_t)hard));
	return 0;
}

/* Only sysctls that live in the container's own namespaces. */
static bool sysctl_namespaced(const char *key, bool host_net)
{
	static const char *const ipc[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
					  "kernel.sem", "kernel.shmall", "kernel.shmmax",
					  "kernel.shmmni", "kernel.shm_rmid_forced"};
	for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
		if (strcmp(key, ipc[i]) == 0)
			return true;
	if (str_starts_with(key, "fs.mqueue."))
		return true;
	return str_starts_with(key, "net.") && !host_net;
}

static int parse_sysctl(const char *spec, bool host_net, json_t *out, struct scow_error **err)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec)
		return error_set(err, EINVAL, "invalid argument \"%s\" for \"--sysctl\" flag", spec);
	_cleanup_free_ char *key = xstrndup(spec, (size_t)(eq - spec));
	if (strstr(key, "..") || strchr(key, '/') || !sysctl_namespaced(key, host_net))
		return error_set(err, EINVAL,
				 "invalid argument \"%s\" for \"--sysctl\" flag: sysctl '%s' is not "
				 "in a separate kernel namespace%s",
				 spec, key, host_net && str_starts_with(key, "net.")
						    ? " with the host network"
						    : "");
	json_object_set_new(out, key, json_string(eq + 1));
	return 0;
}

/* ---- security and logging ------------------------------------------------------------ */

static int parse_security_opts(const struct opts *o, json_t *host, json_t *scow,
			       struct scow_error **err)
{
	size_t n;
	const char *const *v = opt_list(o, "security-opt", &n);
	for (size_t i = 0; i < n; i++) {
		const char *s = v[i];
		const char *sep = s + strcspn(s, "=:");
		_cleanup_free_ char *key = xstrndup(s, (size_t)(sep - s));
		const char *val = *sep ? sep + 1 : NULL;
		if (strcmp(key, "seccomp") == 0 && val) {
			if (strcmp(val, "unconfined") == 0) {
				json_object_set_new(scow, "Seccomp", json_string("unconfined"));
				continue;
			}
			_cleanup_free_ char *text = NULL;
			struct seccomp_profile *p = NULL;
			size_t len;
			if (fs_read_at(AT_FDCWD, val, 4u << 20, &text, &len, err) < 0 ||
			    seccomp_profile_parse(text, len, &p, err) < 0)
				return error_wrap(err, "opening seccomp profile (%s) failed", val);
			seccomp_profile_free(p);
			json_object_set_new(scow, "Seccomp", json_string(text));
		} else if (strcmp(key, "no-new-privileges") == 0) {
			bool b;
			if (parse_bool_value(val, &b) < 0)
				return error_set(err, EINVAL, "invalid --security-opt: %s", s);
			json_object_set_new(scow, "NoNewPrivileges", json_boolean(b));
		} else if (strcmp(key, "apparmor") && strcmp(key, "label")) {
			return error_set(err, EINVAL, "invalid --security-opt: %s", s);
		}
	}
	json_object_set_new(host, "SecurityOpt", list_or_empty(o, "security-opt"));
	return 0;
}

static int parse_log(const struct opts *o, json_t *host, struct scow_error **err)
{
	const char *driver = opt_str(o, "log-driver") ? opt_str(o, "log-driver") : "json-file";
	if (strcmp(driver, "json-file") && strcmp(driver, "none"))
		return error_set(err, EINVAL,
				 "log driver \"%s\" is not supported (json-file, none)", driver);
	json_t *cfg = json_object();
	json_object_set_new(host, "LogConfig", json_pack("{ss so}", "Type", driver, "Config", cfg));
	size_t n;
	const char *const *v = opt_list(o, "log-opt", &n);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(v[i], '=');
		_cleanup_free_ char *key = eq ? xstrndup(v[i], (size_t)(eq - v[i])) : xstrdup(v[i]);
		if (!eq)
			return error_set(err, EINVAL, "invalid log opt: %s", v[i]);
		if (strcmp(key, "max-size") == 0) {
			uint64_t b;
			if (logfile_parse_size(eq + 1, &b, err) < 0)
				return error_wrap(err, "log opt max-size");
		} else if (strcmp(key, "max-file") == 0) {
			unsigned m;
			if (logfile_parse_max_file(eq + 1, &m, err) < 0)
				return error_wrap(err, "log opt max-file");
		} else if (strcmp(key, "mode") && strcmp(key, "compress") && strcmp(key, "labels") &&
			   strcmp(key, "env") && strcmp(key, "tag")) {
			return error_set(err, EINVAL, "unknown log opt '%s' for %s log driver", key,
					 driver);
		}
		json_object_set_new(cfg, key, json_string(eq + 1));
	}
	return 0;
}

/* ---- the whole config ------------------------------------------------------------------ */

static int check_hostname(const char *h, struct scow_error **err)
{
	size_t n = strlen(h);
	bool ok = n >= 1 && n <= 64 && h[0] != '-' && h[0] != '.';
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)h[i]) || h[i] == '-' || h[i] == '.' || h[i] == '_';
	return ok ? 0 : error_set(err, EINVAL, "invalid hostname format: %.80s", h);
}

static int config_process(const struct opts *o, json_t *img_cfg, json_t *cfg, json_t *scow,
			  const char *id, struct scow_error **err)
{
	json_t *argv = NULL;
	if (build_command(o, img_cfg, cfg, &argv, err) < 0)
		return -1;
	json_object_set_new(scow, "Argv", argv);
	json_t *env = build_env(o, json_get_arr(img_cfg, "Env"), err);
	json_t *labels = env ? build_labels(o, json_get_obj(img_cfg, "Labels"), err) : NULL;
	if (!env || !labels) {
		json_decref(env);
		return -1;
	}
	json_object_set_new(cfg, "Env", env);
	json_object_set_new(cfg, "Labels", labels);
	const char *w = opt_str(o, "workdir");
	const char *img_w = json_get_str(img_cfg, "WorkingDir");
	if (w && check_workdir(w, err) < 0)
		return -1;
	json_set_str(cfg, "WorkingDir", w ? w : img_w ? img_w : "");
	const char *user = opt_str(o, "user") ? opt_str(o, "user") : json_get_str(img_cfg, "User");
	if (user_spec_check(user, err) < 0)
		return -1;
	json_set_str(cfg, "User", user ? user : "");
	const char *h = opt_str(o, "hostname");
	char short_id[13];
	snprintf(short_id, sizeof(short_id), "%.12s", id);
	if (h && check_hostname(h, err) < 0)
		return -1;
	json_set_str(cfg, "Hostname", h ? h : short_id);
	const char *d = opt_str(o, "domainname");
	if (d && check_hostname(d, err) < 0)
		return -1;
	json_set_str(cfg, "Domainname", d ? d : "");
	const char *sig = opt_str(o, "stop-signal") ? opt_str(o, "stop-signal")
						    : json_get_str(img_cfg, "StopSignal");
	int signum = SIGTERM;
	if (sig && signal_parse(sig, &signum, err) < 0)
		return -1;
	json_set_str(cfg, "StopSignal", signal_name(signum));
	if (opt_str(o, "stop-timeout")) {
		long long t;
		if (!str_to_ll(opt_str(o, "stop-timeout"), -1, 1000000000, &t))
			return error_set(err, EINVAL, "invalid --stop-timeout: %s",
					 opt_str(o, "stop-timeout"));
		json_set_int(cfg, "StopTimeout", t);
	}
	return 0;
}

static void config_stdio(const struct opts *o, bool detach, json_t *cfg)
{
	size_t n;
	const char *const *a = opt_list(o, "attach", &n);
	bool in = opt_bool(o, "interactive"), out = !detach, errs = !detach;
	if (n) {
		in = out = errs = false;
		for (size_t i = 0; i < n; i++) {
			in |= strcasecmp(a[i], "stdin") == 0;
			out |= strcasecmp(a[i], "stdout") == 0;
			errs |= strcasecmp(a[i], "stderr") == 0;
		}
	}
	json_object_set_new(cfg, "AttachStdin", json_boolean(in && !detach));
	json_object_set_new(cfg, "AttachStdout", json_boolean(out));
	json_object_set_new(cfg, "AttachStderr", json_boolean(errs));
	json_object_set_new(cfg, "Tty", json_boolean(opt_bool(o, "tty")));
	json_object_set_new(cfg, "OpenStdin", json_boolean(opt_bool(o, "interactive")));
	json_object_set_new(cfg, "StdinOnce", json_boolean(opt_bool(o, "interactive") && !detach));
}

static int config_host(const struct opts *o, json_t *host, json_t *scow, struct scow_error **err)
{
	/* NetworkMode is set by container_net_config, before. */
	const char *net = json_get_str(host, "NetworkMode");
	bool priv = opt_bool(o, "privileged");
	json_object_set_new(host, "Privileged", json_boolean(priv));
	json_object_set_new(host, "AutoRemove", json_boolean(opt_bool(o, "rm")));
	json_object_set_new(host, "ReadonlyRootfs", json_boolean(opt_bool(o, "read-only")));
	json_object_set_new(host, "Init", json_boolean(opt_bool(o, "init")));
	json_object_set_new(host, "CapAdd", list_or_empty(o, "cap-add"));
	json_object_set_new(host, "CapDrop", list_or_empty(o, "cap-drop"));
	json_object_set_new(host, "GroupAdd", list_or_empty(o, "group-add"));
	size_t n;
	const char *const *g = opt_list(o, "group-add", &n);
	for (size_t i = 0; i < n; i++)
		if (!*g[i])
			return error_set(err, EINVAL, "invalid --group-add: empty group");
	_cleanup_strv_ char **add = NULL, **drop = NULL;
	add = xcalloc(1, sizeof(char *));
	drop = xcalloc(1, sizeof(char *));
	const char *const *v = opt_list(o, "cap-add", &n);
	for (size_t i = 0; i < n; i++)
		strv_push(&add, xstrdup(v[i]));
	v = opt_list(o, "cap-drop", &n);
	for (size_t i = 0; i < n; i++)
		strv_push(&drop, xstrdup(v[i]));
	uint64_t caps;
	if (caps_compute(add, drop, priv, &caps, err) < 0)
		return -1;
	json_object_set_new(scow, "Capabilities", json_integer((json_int_t)caps));
	json_t *mounts = json_array();
	json_object_set_new(scow, "Mounts", mounts);
	json_t *hdev = json_array(), *dev = json_array(), *ul = json_array(), *sc = json_object();
	json_object_set_new(host, "Devices", hdev);
	json_object_set_new(scow, "Devices", dev);
	json_object_set_new(host, "Ulimits", ul);
	json_object_set_new(host, "Sysctls", sc);
	if (build_mounts(o, host, mounts, err) < 0)
		return -1;
	v = opt_list(o, "device", &n);
	for (size_t i = 0; i < n; i++)
		if (parse_device(v[i], hdev, dev, err) < 0)
			return -1;
	v = opt_list(o, "ulimit", &n);
	for (size_t i = 0; i < n; i++)
		if (parse_ulimit(v[i], ul, err) < 0)
			return -1;
	v = opt_list(o, "sysctl", &n);
	for (size_t i = 0; i < n; i++)
		if (parse_sysctl(v[i], str_eq(net, "host"), sc, err) < 0)
			return -1;
	if (container_limits_config(o, host, err) < 0) /* container_limits.c */
		return -1;
	json_object_set_new(host, "RestartPolicy",
			    json_pack("{ss si}", "Name", "no", "MaximumRetryCount", 0));
	return parse_security_opts(o, host, scow, err) < 0 || parse_log(o, host, err) < 0 ? -1 : 0;
}

/* The image's VOLUMEs not covered by a mount become anonymous volumes;
 * Config.Volumes lists every volume target, as Docker's does. */
static void config_image_volumes(json_t *image_volumes, json_t *cfg, json_t *scow)
{
	json_t *mounts = json_get_arr(scow, "Mounts");
	json_t *all = json_object();
	const char *target;
	json_t *v;
	json_object_foreach(image_volumes, target, v) {
		if (!target[0] || target[0] != '/')
			continue;
		_cleanup_free_ char *clean = fs_path_clean(target);
		bool covered = strcmp(clean, "/") == 0;
		size_t i;
		json_t *m;
		json_array_foreach(mounts, i, m)
			covered = covered || str_eq(json_get_str(m, "Target"), clean);
		if (!covered)
			json_array_append_new(mounts, volume_mount(NULL, clean, false, true));
		json_object_set_new(all, target, json_object());
	}
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m)
		if (str_eq(json_get_str(m, "Kind"), "volume"))
			json_object_set_new(all, json_get_str(m, "Target"), json_object());
	json_object_set_new(cfg, "Volumes", json_object_size(all) ? all : json_null());
	if (!json_object_size(all))
		json_decref(all);
}

int container_config_build(struct scow_ctx *ctx, const struct opts *o, struct image_store *s,
			   const char *image_id, const char *image_name, json_t **ret,
			   struct scow_error **err)
{
	struct image img;
	if (image_store_load(s, image_id, NULL, &img, err) < 0)
		return -1;
	json_t *img_cfg = json_get_obj(img.config, "config");
	_cleanup_json_ json_t *c = json_object();
	json_t *cfg = json_object(), *host = json_object(), *scow = json_object();
	json_object_set_new(c, "Config", cfg);
	json_object_set_new(c, "HostConfig", host);
	json_object_set_new(c, "Scow", scow);
	char id[CONTAINER_ID_LEN + 1], now[64];
	container_new_id(id);
	time_now_rfc3339(now, sizeof(now));
	json_set_str(c, "Id", id);
	json_set_str(c, "Created", now);
	json_set_str(c, "Image", image_id);
	json_set_str(cfg, "Image", image_name);
	json_object_set(scow, "Layers", json_get_arr(img.meta, "layers") ? json_get_arr(img.meta, "layers")
									: json_array());
	bool detach = opt_declared(o, "detach") && opt_bool(o, "detach");
	int r = config_process(o, img_cfg, cfg, scow, id, err);
	if (r == 0)
		r = container_net_config(ctx, o, img_cfg, c, err);
	if (r == 0)
		r = config_host(o, host, scow, err);
	if (r == 0)
		config_image_volumes(json_get_obj(img_cfg, "Volumes"), cfg, scow);
	image_release(&img);
	if (r < 0)
		return -1;
	config_stdio(o, detach, cfg);
	json_t *argv = json_object_get(scow, "Argv");
	json_set_str(c, "Path", json_string_value(json_array_get(argv, 0)));
	json_t *args = json_array();
	for (size_t i = 1; i < json_array_size(argv); i++)
		json_array_append(args, json_array_get(argv, i));
	json_object_set_new(c, "Args", args);
	*ret = steal_ptr(&c);
	return 0;
}
