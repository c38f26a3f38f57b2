/* The spawn spec of a container's first process, from its record. */
#include "cmd/run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "ns/caps.h"
#include "state/volume.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* ---- start: the spawn spec from the record -------------------------------------------- */

void spec_store_release(struct spec_store *st)
{
	struct spawn_spec *s = &st->spec;
	strv_free(s->lowerdirs);
	free(s->upperdir), free(s->workdir), free(s->merged);
	free(s->hosts_file), free(s->resolv_file), free(s->hostname_file);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].source), free(s->mounts[i].target);
		free(s->mounts[i].fstype), free(s->mounts[i].fs_options);
	}
	free(s->mounts);
	for (size_t i = 0; i < s->n_devices; i++)
		free(s->devices[i].path), free(s->devices[i].host_path);
	free(s->devices);
	strv_free(s->argv), strv_free(s->env), strv_free(s->group_add), strv_free(s->sysctl);
	strv_free(s->cgroup_dirs);
	free(s->cwd), free(s->user), free(s->hostname), free(s->domainname);
	free(s->rlimits);
	seccomp_bpf_release(&st->seccomp);
	if (s->net == NET_JOIN)
		closep(&s->netns_fd);
	free(st->rules);
	free(st->cgroup_parent);
	limits_spec_release(&st->limits);
	memset(st, 0, sizeof(*st));
}

static char **json_strv(json_t *arr)
{
	char **v = xcalloc(json_array_size(arr) + 1, sizeof(char *));
	size_t i, n = 0;
	json_t *e;
	json_array_foreach(arr, i, e)
		if (json_is_string(e))
			v[n++] = xstrdup(json_string_value(e));
	return v;
}

static int spec_rootfs(struct container_store *cs, struct image_store *is, json_t *config,
		       const char *id, struct spawn_spec *s, struct scow_error **err)
{
	json_t *layers = json_get_arr(json_get_obj(config, "Scow"), "Layers");
	size_t n = json_array_size(layers);
	s->lowerdirs = xcalloc(n + 2, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		const char *chain = json_string_value(json_array_get(layers, n - 1 - i));
		if (!chain || !layer_exists(&is->layers, chain))
			return error_set(err, ENOENT, "layer %.19s of the container's image is missing",
					 chain ? chain : "?");
		s->lowerdirs[i] = layer_diff_path(&is->layers, chain);
	}
	if (n == 0) {
		/* overlayfs needs one lower layer; an image may have none. */
		s->lowerdirs[0] = xasprintf("%s/empty", cs->root);
		if (mkdir(s->lowerdirs[0], 0755) < 0 && errno != EEXIST)
			return error_errno(err, "create %s", s->lowerdirs[0]);
	}
	s->upperdir = container_path(cs, id, "upper");
	s->workdir = container_path(cs, id, "work");
	s->merged = container_path(cs, id, "merged");
	s->hosts_file = container_path(cs, id, "hosts");
	s->resolv_file = container_path(cs, id, "resolv.conf");
	s->hostname_file = container_path(cs, id, "hostname");
	s->readonly_rootfs = json_get_bool(json_get_obj(config, "HostConfig"), "ReadonlyRootfs", false);
	s->overlay_volatile = json_get_bool(json_get_obj(config, "HostConfig"), "AutoRemove", false);
	return 0;
}

static unsigned propagation_flags(const char *p)
{
	if (!p || !*p)
		return 0;
	unsigned rec = p[0] == 'r' ? MS_REC : 0;
	const char *base = rec ? p + 1 : p;
	if (strcmp(base, "shared") == 0)
		return MS_SHARED | rec;
	if (strcmp(base, "slave") == 0)
		return MS_SLAVE | rec;
	return MS_PRIVATE | rec;
}

/* "noexec,nosuid,nodev,size=1,mode=755" -> mount flags and the options
 * for the file system itself. */
static void split_fs_options(const char *all, unsigned long *flags, char **ret_data)
{
	static const struct {
		const char *name;
		unsigned long flag;
	} mount_flags[] = {
		{"noexec", MS_NOEXEC}, {"nosuid", MS_NOSUID}, {"nodev", MS_NODEV}, {"ro", MS_RDONLY},
		{"exec", 0},	       {"suid", 0},	      {"dev", 0},	   {"rw", 0},
	};
	_cleanup_strv_ char **opts = strv_split(all ? all : "", ',');
	_cleanup_sb_ struct strbuf data = STRBUF_INIT;
	*flags = 0;
	for (size_t i = 0; opts[i]; i++) {
		bool is_flag = false;
		for (size_t k = 0; k < ARRAY_SIZE(mount_flags) && !is_flag; k++)
			if (strcmp(opts[i], mount_flags[k].name) == 0) {
				*flags |= mount_flags[k].flag;
				is_flag = true;
			}
		if (!is_flag && *opts[i])
			sb_printf(&data, "%s%s", data.len ? "," : "", opts[i]);
	}
	*ret_data = data.len ? sb_steal(&data) : NULL;
}

/* A volume: a bind of its data directory, or, created with driver options
 * (type, device, o), that file system mounted in the container. */
static int spec_volume(const char *root, json_t *m, struct mount_spec *ms, struct scow_error **err)
{
	const char *name = json_get_str(m, "Source");
	_cleanup_json_ json_t *vol = volume_load(root, name ? name : "", err);
	if (!vol)
		return error_wrap(err, "volume for %s", json_get_str(m, "Target"));
	json_t *opts = json_get_obj(vol, "Options");
	const char *type = json_get_str(opts, "type"), *device = json_get_str(opts, "device");
	const char *o = json_get_str(opts, "o");
	_cleanup_strv_ char **ov = strv_split(o ? o : "", ',');
	ms->copy_up = json_get_bool(m, "CopyUp", true);
	if (!type || !*type) {
		ms->source = volume_data_path(root, name);
		return 0;
	}
	if (str_eq(type, "none") || strv_contains(ov, "bind") || strv_contains(ov, "rbind")) {
		if (!device || device[0] != '/')
			return error_set(err, EINVAL, "volume %s: a bind needs an absolute device path",
					 name);
		ms->source = xstrdup(device);
		ms->recursive = strv_contains(ov, "rbind");
		return 0;
	}
	ms->kind = MOUNT_FS;
	ms->copy_up = false;
	ms->fstype = xstrdup(type);
	ms->source = xstrdup(device && *device ? device : type);
	split_fs_options(o, &ms->fs_flags, &ms->fs_options);
	return 0;
}

static int spec_mounts(const char *root, json_t *scow, struct spawn_spec *s,
		       struct scow_error **err)
{
	json_t *mounts = json_get_arr(scow, "Mounts");
	s->mounts = xcalloc(json_array_size(mounts) + 1, sizeof(*s->mounts));
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m) {
		const char *kind = json_get_str(m, "Kind");
		if (!json_get_str(m, "Target") || (str_eq(kind, "bind") && !json_get_str(m, "Source")))
			return error_set(err, EINVAL, "corrupt record: mount %zu lacks a path", i);
		struct mount_spec *ms = &s->mounts[s->n_mounts++];
		ms->kind = MOUNT_BIND;
		ms->target = xstrdup(json_get_str(m, "Target"));
		ms->readonly = json_get_bool(m, "ReadOnly", false);
		ms->recursive = json_get_bool(m, "Recursive", true);
		ms->propagation = propagation_flags(json_get_str(m, "Propagation"));
		if (str_eq(kind, "volume")) {
			if (spec_volume(root, m, ms, err) < 0)
				return -1;
		} else if (str_eq(kind, "bind")) {
			ms->source = xstrdup(json_get_str(m, "Source"));
		} else {
			ms->kind = MOUNT_FS;
			ms->fstype = xstrdup("tmpfs");
			ms->source = xstrdup("tmpfs");
			split_fs_options(json_get_str(m, "Options"), &ms->fs_flags, &ms->fs_options);
		}
	}
	return 0;
}

static void spec_devices(json_t *scow, struct spec_store *st)
{
	struct spawn_spec *s = &st->spec;
	json_t *devs = json_get_arr(scow, "Devices");
	size_t n = json_array_size(devs);
	s->devices = xcalloc(n + 1, sizeof(*s->devices));
	st->rules = xcalloc(n + 1, sizeof(*st->rules));
	size_t i;
	json_t *d;
	json_array_foreach(devs, i, d) {
		if (!json_get_str(d, "Path") || !json_get_str(d, "HostPath"))
			continue; /* damaged entry: not a device to give */
		struct device_spec *ds = &s->devices[s->n_devices++];
		ds->path = xstrdup(json_get_str(d, "Path"));
		ds->host_path = xstrdup(json_get_str(d, "HostPath"));
		const char *type = json_get_str(d, "Type");
		ds->type = type && *type ? type[0] : 'c';
		ds->major = (unsigned)json_get_int(d, "Major", 0);
		ds->minor = (unsigned)json_get_int(d, "Minor", 0);
		ds->mode = (mode_t)json_get_int(d, "Mode", 0666);
		struct cgroup_device_rule *r = &st->rules[st->n_rules++];
		r->type = ds->type;
		r->major = ds->major;
		r->minor = ds->minor;
		r->allow = true;
		snprintf(r->access, sizeof(r->access), "%s", json_get_str(d, "Access"));
	}
}

static void env_default(char ***env, const char *key, const char *value)
{
	size_t n = strlen(key);
	for (size_t i = 0; (*env)[i]; i++)
		if (strncmp((*env)[i], key, n) == 0 && (*env)[i][n] == '=')
			return;
	strv_push(env, xasprintf("%s=%s", key, value));
}

int ulimit_resource(const char *name);

static int spec_process(const char *root, json_t *config, struct spec_store *st,
			struct scow_error **err)
{
	struct spawn_spec *s = &st->spec;
	json_t *cfg = json_get_obj(config, "Config"), *host = json_get_obj(config, "HostConfig");
	json_t *scow = json_get_obj(config, "Scow");
	s->argv = json_strv(json_get_arr(scow, "Argv"));
	s->env = json_strv(json_get_arr(cfg, "Env"));
	env_default(&s->env, "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	env_default(&s->env, "HOSTNAME", json_get_str(cfg, "Hostname"));
	s->tty = json_get_bool(cfg, "Tty", false);
	if (s->tty)
		env_default(&s->env, "TERM", "xterm");
	s->open_stdin = json_get_bool(cfg, "OpenStdin", false);
	const char *w = json_get_str(cfg, "WorkingDir");
	s->cwd = xstrdup(w && *w ? w : "/");
	const char *u = json_get_str(cfg, "User");
	s->user = u && *u ? xstrdup(u) : NULL;
	s->group_add = json_strv(json_get_arr(host, "GroupAdd"));
	s->hostname = xstrdup(json_get_str(cfg, "Hostname"));
	const char *d = json_get_str(cfg, "Domainname");
	s->domainname = d && *d ? xstrdup(d) : NULL;
	s->privileged = json_get_bool(host, "Privileged", false);
	s->caps = (uint64_t)json_get_int(scow, "Capabilities", (long long)CAPS_DOCKER_DEFAULT);
	s->no_new_privs = json_get_bool(scow, "NoNewPrivileges", false);
	s->init = json_get_bool(host, "Init", false);
	const char *net = json_get_str(host, "NetworkMode");
	s->net = str_eq(net, "host") ? NET_HOST : str_eq(net, "none") ? NET_NONE : NET_PRIVATE;
	json_t *ul = json_get_arr(host, "Ulimits");
	s->rlimits = xcalloc(json_array_size(ul) + 1, sizeof(*s->rlimits));
	size_t i;
	json_t *v;
	json_array_foreach(ul, i, v) {
		struct rlimit_spec *r = &s->rlimits[s->n_rlimits++];
		r->resource = ulimit_resource(json_get_str(v, "Name"));
		long long soft = json_get_int(v, "Soft", -1), hard = json_get_int(v, "Hard", -1);
		r->lim.rlim_cur = soft < 0 ? RLIM_INFINITY : (rlim_t)soft;
		r->lim.rlim_max = hard < 0 ? RLIM_INFINITY : (rlim_t)hard;
	}
	s->sysctl = xcalloc(1, sizeof(char *));
	json_t *sysctls = json_get_obj(host, "Sysctls");
	/* Docker's defaults in a private network namespace: any user may bind
	 * low ports and ping, which needs no capability there. Not in another
	 * container's (--network container:X): that one is X's to set. */
	if (s->net != NET_HOST && !str_starts_with(net, "container:")) {
		if (!json_object_get(sysctls, "net.ipv4.ip_unprivileged_port_start"))
			strv_push(&s->sysctl, xstrdup("net.ipv4.ip_unprivileged_port_start=0"));
		if (!json_object_get(sysctls, "net.ipv4.ping_group_range"))
			strv_push(&s->sysctl, xstrdup("net.ipv4.ping_group_range=0 2147483647"));
	}
	const char *key;
	json_object_foreach(sysctls, key, v)
		strv_push(&s->sysctl, xasprintf("%s=%s", key, json_string_value(v)));
	/* Seccomp: Docker's default unless unconfined or privileged. */
	const char *sc = json_get_str(scow, "Seccomp");
	if (s->privileged || str_eq(sc, "unconfined"))
		return 0;
	if (seccomp_bpf_get(root, sc, s->caps, &st->seccomp, err) < 0)
		return -1;
	s->seccomp = &st->seccomp;
	return 0;
}

int spec_build(struct container_store *cs, struct image_store *is, json_t *config,
	       const char *id, struct spec_store *st, struct scow_error **err)
{
	json_t *scow = json_get_obj(config, "Scow");
	if (spec_rootfs(cs, is, config, id, &st->spec, err) < 0 ||
	    spec_process(cs->root, config, st, err) < 0 || spec_mounts(cs->root, scow, &st->spec, err) < 0)
		return -1;
	spec_devices(scow, st);
	/* Limits, --device-cgroup-rule, --cgroup-parent (container_limits.c). */
	json_t *host = json_get_obj(config, "HostConfig");
	if (container_limits_rules(host, &st->rules, &st->n_rules, err) < 0 ||
	    container_limits_spec(host, &st->limits, err) < 0)
		return -1;
	const char *parent = json_get_str(host, "CgroupParent");
	if (parent && *parent)
		st->cgroup_parent = xstrdup(parent);
	enum cgroup_mode mode;
	_cleanup_error_ struct scow_error *e = NULL;
	if (cgroup_detect(NULL, &mode, &e) == 0 && mode == CGROUP_V2) {
		st->spec.cgroup_v2 = true;
		st->spec.new_cgroupns = true;
	}
	const char *ns = json_get_str(host, "CgroupnsMode");
	if (ns && *ns)
		st->spec.new_cgroupns = strcmp(ns, "private") == 0;
	st->spec.rootless = geteuid() != 0;
	st->spec.overlay_userxattr = st->spec.rootless;
	return 0;
}

