/* scow run, create, start */
#include "cmd/run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "image/reference.h"
#include "supervise/logfile.h"
#include "supervise/supervisor.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* ---- image -------------------------------------------------------------------------- */

int run_resolve_image(struct scow_ctx *ctx, const struct opts *o, const char *name,
		      char **ret_id, struct scow_error **err)
{
	const char *pull = opt_str(o, "pull") ? opt_str(o, "pull") : "missing";
	if (strcmp(pull, "always") && strcmp(pull, "missing") && strcmp(pull, "never"))
		return error_set(err, EINVAL,
				 "invalid pull option: '%s': must be one of \"always\", \"missing\" "
				 "or \"never\"",
				 pull);
	bool quiet = opt_bool(o, "quiet");
	if (strcmp(pull, "always") == 0)
		return cmd_pull_image(ctx, o, name, stderr, quiet, ret_id, err);
	struct image_store s;
	if (cmd_open_images(ctx, &s, err) < 0)
		return -1;
	_cleanup_error_ struct scow_error *e = NULL;
	int r = image_store_resolve(&s, name, ret_id, NULL, &e);
	image_store_close(&s);
	if (r == 0)
		return 0;
	if (e->errnum != ENOENT || strcmp(pull, "never") == 0 || image_id_like(name)) {
		*err = steal_ptr(&e);
		return -1;
	}
	struct image_ref ref = {0};
	if (image_ref_parse(name, true, &ref, err) < 0)
		return -1;
	_cleanup_free_ char *fam = image_ref_familiar(&ref);
	image_ref_release(&ref);
	if (!quiet)
		fprintf(stderr, "Unable to find image '%s' locally\n", fam);
	return cmd_pull_image(ctx, o, name, stderr, quiet, ret_id, err);
}

/* ---- create ------------------------------------------------------------------------ */

static int write_file(int dfd, const char *name, const char *text, struct scow_error **err)
{
	_cleanup_close_ int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || fs_write_all(fd, text, strlen(text)) < 0)
		return error_errno(err, "write %s", name);
	return 0;
}

/* The host's resolv.conf without loopback resolvers (unreachable from a
 * private network namespace); Docker's public fallback if none is left. */
static char *container_resolv_conf(bool host_net)
{
	_cleanup_free_ char *host = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (fs_read_at(AT_FDCWD, "/etc/resolv.conf", 1u << 20, &host, NULL, &e) < 0)
		host = xstrdup("");
	if (host_net)
		return steal_ptr(&host);
	_cleanup_sb_ struct strbuf sb = STRBUF_INIT;
	bool any = false;
	_cleanup_strv_ char **lines = strv_split(host, '\n');
	for (size_t i = 0; lines[i]; i++) {
		const char *l = lines[i];
		if (str_starts_with(l, "nameserver")) {
			const char *a = l + 10;
			while (*a == ' ' || *a == '\t')
				a++;
			if (str_starts_with(a, "127.") || str_starts_with(a, "::1"))
				continue;
			any = true;
		}
		if (*l)
			sb_printf(&sb, "%s\n", l);
	}
	if (!any)
		sb_append(&sb, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	return sb_steal(&sb);
}

static int write_etc_files(int dfd, json_t *config, struct scow_error **err)
{
	json_t *cfg = json_get_obj(config, "Config");
	bool host_net = str_eq(json_get_str(json_get_obj(config, "HostConfig"), "NetworkMode"), "host");
	const char *hostname = json_get_str(cfg, "Hostname");
	_cleanup_free_ char *hn = xasprintf("%s\n", hostname);
	_cleanup_free_ char *resolv = container_resolv_conf(host_net);
	_cleanup_free_ char *hosts = NULL, *host_hosts = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (host_net && fs_read_at(AT_FDCWD, "/etc/hosts", 1u << 20, &host_hosts, NULL, &e) == 0)
		hosts = steal_ptr(&host_hosts);
	else
		hosts = xstrdup("127.0.0.1\tlocalhost\n"
				"::1\tlocalhost ip6-localhost ip6-loopback\n"
				"fe00::0\tip6-localnet\n"
				"ff00::0\tip6-mcastprefix\n"
				"ff02::1\tip6-allnodes\n"
				"ff02::2\tip6-allrouters\n");
	if (write_file(dfd, "hostname", hn, err) < 0 || write_file(dfd, "hosts", hosts, err) < 0 ||
	    write_file(dfd, "resolv.conf", resolv, err) < 0)
		return -1;
	for (const char *d = "upper\0work\0merged\0"; *d; d += strlen(d) + 1)
		if (mkdirat(dfd, d, 0755) < 0)
			return error_errno(err, "create %s", d);
	return 0;
}

int container_create_from_opts(struct scow_ctx *ctx, const struct opts *o,
			       struct container_store *cs, char ret_id[CONTAINER_ID_LEN + 1],
			       struct scow_error **err)
{
	const char *image = o->args[0];
	const char *cidfile = opt_str(o, "cidfile");
	if (cidfile && access(cidfile, F_OK) == 0)
		return error_set(err, EEXIST,
				 "Container ID file found, make sure the other container isn't "
				 "running or delete %s",
				 cidfile);
	const char *name = opt_str(o, "name");
	if (name && container_name_check(name[0] == '/' ? name + 1 : name, err) < 0)
		return -1;
	_cleanup_free_ char *image_id = NULL;
	if (run_resolve_image(ctx, o, image, &image_id, err) < 0)
		return -1;
	log_trace("image resolved");
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return -1;
	_cleanup_json_ json_t *config = NULL;
	int r = container_config_build(ctx, o, &is, image_id, image, &config, err);
	image_store_close(&is);
	if (r < 0)
		return -1;
	const char *id = json_get_str(config, "Id");
	log_trace("config built");
	_cleanup_free_ char *chosen = name ? xstrdup(name[0] == '/' ? name + 1 : name)
					   : container_random_name(cs);
	_cleanup_free_ char *slash_name = xasprintf("/%s", chosen);
	json_set_str(config, "Name", slash_name);
	bool durable = !json_get_bool(json_get_obj(config, "HostConfig"), "AutoRemove", false);
	/* The directory first, the name last: a name never points at a
	 * container that was not fully created (see container_name_reserve). */
	_cleanup_close_ int dfd = -1;
	if (container_create(cs, id, config, durable, err) < 0 ||
	    (dfd = container_dir_fd(cs, id, err)) < 0 || write_etc_files(dfd, config, err) < 0 ||
	    container_name_reserve(cs, chosen, id, err) < 0) {
		_cleanup_error_ struct scow_error *e = NULL;
		fs_rm_rf_at(cs->containers_fd, id, &e);
		return -1;
	}
	if (cidfile) {
		_cleanup_close_ int fd = open(cidfile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 || fs_write_all(fd, id, strlen(id)) < 0)
			log_warn("write the container id file %s: %m", cidfile);
	}
	log_trace("created");
	snprintf(ret_id, CONTAINER_ID_LEN + 1, "%s", id);
	return 0;
}

/* ---- start: the spawn spec from the record -------------------------------------------- */

void spec_store_release(struct spec_store *st)
{
	struct spawn_spec *s = &st->spec;
	strv_free(s->lowerdirs);
	free(s->upperdir), free(s->workdir), free(s->merged);
	free(s->hosts_file), free(s->resolv_file), free(s->hostname_file);
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].source), free(s->mounts[i].target);
		free(s->mounts[i].tmpfs_options);
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
	free(st->rules);
	free(st->cgroup_parent);
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

/* "noexec,nosuid,nodev,size=1,mode=755" -> flags and the fs options. */
static void split_tmpfs_options(const char *all, unsigned long *flags, char **ret_data)
{
	_cleanup_strv_ char **opts = strv_split(all ? all : "", ',');
	_cleanup_sb_ struct strbuf data = STRBUF_INIT;
	*flags = 0;
	for (size_t i = 0; opts[i]; i++) {
		if (strcmp(opts[i], "noexec") == 0)
			*flags |= MS_NOEXEC;
		else if (strcmp(opts[i], "nosuid") == 0)
			*flags |= MS_NOSUID;
		else if (strcmp(opts[i], "nodev") == 0)
			*flags |= MS_NODEV;
		else if (*opts[i] && strcmp(opts[i], "exec") && strcmp(opts[i], "suid") &&
			 strcmp(opts[i], "dev"))
			sb_printf(&data, "%s%s", data.len ? "," : "", opts[i]);
	}
	*ret_data = data.len ? sb_steal(&data) : NULL;
}

static void spec_mounts(json_t *scow, struct spawn_spec *s)
{
	json_t *mounts = json_get_arr(scow, "Mounts");
	s->mounts = xcalloc(json_array_size(mounts) + 1, sizeof(*s->mounts));
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m) {
		struct mount_spec *ms = &s->mounts[s->n_mounts++];
		bool bind = str_eq(json_get_str(m, "Kind"), "bind");
		ms->kind = bind ? MOUNT_BIND : MOUNT_TMPFS;
		ms->source = json_get_str(m, "Source") ? xstrdup(json_get_str(m, "Source")) : NULL;
		ms->target = xstrdup(json_get_str(m, "Target"));
		ms->readonly = json_get_bool(m, "ReadOnly", false);
		ms->recursive = json_get_bool(m, "Recursive", true);
		ms->propagation = propagation_flags(json_get_str(m, "Propagation"));
		if (!bind)
			split_tmpfs_options(json_get_str(m, "Options"), &ms->tmpfs_flags,
					    &ms->tmpfs_options);
	}
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
		struct device_spec *ds = &s->devices[s->n_devices++];
		ds->path = xstrdup(json_get_str(d, "Path"));
		ds->host_path = xstrdup(json_get_str(d, "HostPath"));
		ds->type = json_get_str(d, "Type")[0];
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
	 * low ports and ping, which needs no capability there. */
	if (s->net != NET_HOST) {
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
	    spec_process(cs->root, config, st, err) < 0)
		return -1;
	spec_mounts(scow, &st->spec);
	spec_devices(scow, st);
	enum cgroup_mode mode;
	_cleanup_error_ struct scow_error *e = NULL;
	if (cgroup_detect(NULL, &mode, &e) == 0 && mode == CGROUP_V2) {
		st->spec.cgroup_v2 = true;
		st->spec.new_cgroupns = true;
	}
	st->spec.rootless = geteuid() != 0;
	st->spec.overlay_userxattr = st->spec.rootless;
	return 0;
}

/* ---- start: the supervisor and the foreground client ------------------------------------ */

static int log_options(json_t *config, struct supervisor_opts *so, struct scow_error **err)
{
	json_t *lc = json_get_obj(json_get_obj(config, "HostConfig"), "LogConfig");
	so->log_none = str_eq(json_get_str(lc, "Type"), "none");
	so->log_max_file = 1;
	json_t *c = json_get_obj(lc, "Config");
	const char *ms = json_get_str(c, "max-size"), *mf = json_get_str(c, "max-file");
	if (ms && logfile_parse_size(ms, &so->log_max_size, err) < 0)
		return -1;
	if (mf && logfile_parse_max_file(mf, &so->log_max_file, err) < 0)
		return -1;
	return 0;
}

static int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

struct client {
	int ctl;
	int sigfd;
	bool raw;
	struct termios saved;
};

static void send_winsize(int ctl)
{
	struct winsize ws;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	struct sup_msg m = {.type = SUP_WINSIZE, .a = ws.ws_row, .b = ws.ws_col};
	sup_send(ctl, &m);
}

/* A foreground -t run: the terminal goes raw before the container can
 * write anything, and back when we are done. */
static void client_raw(struct client *cl)
{
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &cl->saved) == 0) {
		struct termios raw = cl->saved;
		cfmakeraw(&raw);
		cl->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
}

/* The foreground side: signals go to the container, and the exit status
 * comes back from the supervisor. */
static int client_wait(struct client *cl, bool tty, bool sig_proxy, struct scow_error **err)
{
	if (tty)
		send_winsize(cl->ctl);
	for (;;) {
		struct pollfd p[2] = {{cl->ctl, POLLIN, 0}, {cl->sigfd, POLLIN, 0}};
		if (poll(p, cl->sigfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return error_errno(err, "poll");
		if (cl->sigfd >= 0 && (p[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(cl->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if ((int)si.ssi_signo == SIGWINCH) {
					if (tty)
						send_winsize(cl->ctl);
					continue;
				}
				if (!sig_proxy)
					continue;
				struct sup_msg m = {.type = SUP_SIGNAL, .a = (int)si.ssi_signo};
				sup_send(cl->ctl, &m);
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP)))
			continue;
		struct sup_msg m;
		int r = sup_recv(cl->ctl, &m);
		if (r == 1 && m.type == SUP_EXITED)
			return m.code;
		if (r == 1 && m.type == SUP_DETACHED)
			return 0; /* the container goes on; so does the shell */
		if (r <= 0)
			return error_set(err, EIO,
					 "the container's supervisor died (%s); the container may "
					 "still run",
					 r < 0 ? strerror(errno) : "no exit status");
	}
}

static void client_release(struct client *cl)
{
	if (cl->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &cl->saved);
	closep(&cl->sigfd);
	closep(&cl->ctl);
}

/* Held by the supervisor for its whole life: a second start sees it taken. */
static int take_supervisor_lock(struct container_store *cs, const char *id, struct scow_error **err)
{
	_cleanup_close_ int dfd = container_dir_fd(cs, id, err);
	if (dfd < 0)
		return -1;
	int fd = lock_acquire(dfd, "supervisor.lock", LOCK_MODE_EXCLUSIVE, true, err);
	if (fd == -2)
		return error_set(err, EBUSY, "container %.12s is already running", id);
	return fd;
}

static int start_checks(struct container_store *cs, const char *id, json_t **ret_config,
			struct scow_error **err)
{
	struct container c;
	if (container_load(cs, id, true, &c, err) < 0)
		return -1;
	int r = 0;
	if (c.status == CTR_RUNNING || c.status == CTR_PAUSED)
		r = error_set(err, EBUSY, "container %.12s is already running", id);
	if (r == 0)
		*ret_config = json_incref(c.config);
	container_release(&c);
	return r;
}

int container_start(struct scow_ctx *ctx, struct container_store *cs, const char *id,
		    const struct start_opts *so, struct scow_error **err)
{
	_cleanup_json_ json_t *config = NULL;
	if (start_checks(cs, id, &config, err) < 0)
		return -1;
	struct image_store is;
	if (cmd_open_images(ctx, &is, err) < 0)
		return -1;
	struct spec_store st = {0};
	int r = spec_build(cs, &is, config, id, &st, err);
	log_trace("spec built");
	image_store_close(&is);
	struct winsize ws;
	if (r == 0 && st.spec.tty && so->foreground &&
	    (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)) {
		st.spec.tty_rows = ws.ws_row;
		st.spec.tty_cols = ws.ws_col;
	}
	struct supervisor_opts sup = {
		.cs = cs, .id = id, .config = config, .spec = &st.spec,
		.foreground = so->foreground, .attach_stdin = so->attach_stdin,
		.attach_stdout = so->attach_stdout, .attach_stderr = so->attach_stderr,
		.devices = st.rules, .n_devices = st.n_rules, .detach_keys = so->detach_keys,
	};
	int lock = r < 0 ? -1 : take_supervisor_lock(cs, id, err);
	if (r < 0 || lock < 0 || log_options(config, &sup, err) < 0) {
		lock_release(lock);
		spec_store_release(&st);
		return -1;
	}
	struct client cl = {.ctl = -1, .sigfd = -1};
	bool tty = json_get_bool(json_get_obj(config, "Config"), "Tty", false);
	if (so->foreground && tty)
		client_raw(&cl);
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		lock_release(lock);
		spec_store_release(&st);
		client_release(&cl);
		return error_errno(err, "socketpair");
	}
	/* Signals to forward are blocked before the fork, so none is lost;
	 * the supervisor sets up its own. */
	/* Without --sig-proxy a foreground client keeps the default actions:
	 * Ctrl-C ends the client, not the container (Docker's behaviour). */
	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		if (so->sig_proxy || forwarded[i] == SIGWINCH)
			sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	pid_t pid = fork();
	log_trace("forked");
	if (pid == 0) {
		close(sp[0]);
		sup.ctl_fd = sp[1];
		sigprocmask(SIG_SETMASK, &old, NULL);
		supervisor_main(&sup);
	}
	close(sp[1]);
	lock_release(lock); /* the supervisor holds its own copy */
	spec_store_release(&st);
	cl.ctl = sp[0];
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		client_release(&cl);
		return error_errno(err, "fork the supervisor");
	}
	struct sup_msg m;
	int got = sup_recv(cl.ctl, &m);
	log_trace("started message");
	if (got != 1 || m.type != SUP_STARTED) {
		waitpid(pid, NULL, 0);
		sigprocmask(SIG_SETMASK, &old, NULL);
		client_release(&cl);
		if (got == 1 && m.type == SUP_FAILED) {
			error_set(err, EIO, "%s", m.text);
			return error_set_exit(err, m.code);
		}
		return error_set(err, EIO, "the container's supervisor died before starting it");
	}
	if (!so->foreground) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		client_release(&cl);
		return 0;
	}
	cl.sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	int code = client_wait(&cl, tty, so->sig_proxy, err);
	client_release(&cl);
	/* The supervisor may still be freeing an --rm container's files; it
	 * is not waited for (init reaps it once we are gone). */
	waitpid(pid, NULL, WNOHANG);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return code;
}

/* ---- the commands ---------------------------------------------------------------------------- */

static int open_containers(struct scow_ctx *ctx, struct container_store *cs,
			   struct scow_error **err)
{
	return container_store_open(ctx->root, ctx->runroot, cs, err);
}

int cmd_create(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (open_containers(ctx, &cs, err) < 0)
		return -1;
	char id[CONTAINER_ID_LEN + 1];
	int r = container_create_from_opts(ctx, o, &cs, id, err);
	container_store_close(&cs);
	if (r < 0)
		return -1;
	printf("%s\n", id);
	return 0;
}

int cmd_run(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	bool detach = opt_bool(o, "detach");
	struct container_store cs;
	if (open_containers(ctx, &cs, err) < 0)
		return -1;
	char id[CONTAINER_ID_LEN + 1];
	if (container_create_from_opts(ctx, o, &cs, id, err) < 0) {
		container_store_close(&cs);
		return -1;
	}
	struct container c;
	if (container_load(&cs, id, false, &c, err) < 0) {
		container_store_close(&cs);
		return -1;
	}
	json_t *cfg = json_get_obj(c.config, "Config");
	struct start_opts so = {
		.foreground = !detach,
		.attach_stdin = json_get_bool(cfg, "AttachStdin", false),
		.attach_stdout = json_get_bool(cfg, "AttachStdout", false),
		.attach_stderr = json_get_bool(cfg, "AttachStderr", false),
		.sig_proxy = !opt_set(o, "sig-proxy") || opt_bool(o, "sig-proxy"),
		.detach_keys = opt_str(o, "detach-keys"),
	};
	container_release(&c);
	int r = container_start(ctx, &cs, id, &so, err);
	container_store_close(&cs);
	if (r < 0)
		return -1;
	if (detach)
		printf("%s\n", id);
	return r;
}

const struct opt_def cmd_start_opts[] = {
	{"attach", 'a', OPT_BOOL, NULL, "Attach STDOUT/STDERR and forward signals", NULL},
	{"interactive", 'i', OPT_BOOL, NULL, "Attach container's STDIN", NULL},
	OPT_END,
};

int cmd_start(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (open_containers(ctx, &cs, err) < 0)
		return -1;
	bool attach = opt_bool(o, "attach") || opt_bool(o, "interactive");
	if (attach && o->nargs > 1) {
		container_store_close(&cs);
		return error_set(err, EINVAL, "you cannot start and attach multiple containers at once");
	}
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		char id[CONTAINER_ID_LEN + 1];
		_cleanup_error_ struct scow_error *e = NULL;
		struct start_opts so = {.foreground = attach, .attach_stdin = opt_bool(o, "interactive"),
					.attach_stdout = attach, .attach_stderr = attach,
					.sig_proxy = true};
		int r = container_resolve(&cs, o->args[i], id, &e);
		if (r == 0)
			r = container_start(ctx, &cs, id, &so, &e);
		if (r < 0) {
			/* Starting a running container is not an error for Docker. */
			if (e->errnum == EBUSY && !attach) {
				printf("%s\n", o->args[i]);
				continue;
			}
			if (attach) {
				*err = steal_ptr(&e);
				container_store_close(&cs);
				return cmd_fail(err);
			}
			fprintf(stderr, "Error response from daemon: %s\n", e->msg);
			status = 1;
			continue;
		}
		if (attach) {
			container_store_close(&cs);
			return r;
		}
		printf("%s\n", o->args[i]);
	}
	container_store_close(&cs);
	if (status)
		fprintf(stderr, "Error: failed to start containers: %s\n", "see above");
	return status;
}
