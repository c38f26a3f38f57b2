#include "state/container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/json_pick.h"
#include "util/lock.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define RECORD_MAX (8u << 20)
#define NAME_MAX_LEN 253

static void read_boot_id(char out[40])
{
	_cleanup_free_ char *b = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	size_t len;
	out[0] = '\0';
	if (fs_read_at(AT_FDCWD, "/proc/sys/kernel/random/boot_id", 64, &b, &len, &e) == 0)
		snprintf(out, 40, "%.*s", (int)strcspn(b, "\n"), b);
}

/* The runroot is keyed by boot id: if it survived a reboot (not a tmpfs),
 * what it says about running processes is stale and goes. */
static int open_runroot(struct container_store *cs, struct scow_error **err)
{
	if (fs_mkdir_p(cs->runroot, 0700, err) < 0)
		return -1;
	_cleanup_close_ int rfd = open(cs->runroot, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rfd < 0)
		return error_errno(err, "open %s", cs->runroot);
	_cleanup_free_ char *old = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	size_t len;
	bool stale = fs_read_at(rfd, "boot_id", 64, &old, &len, &e) == 0 &&
		     strcmp(old, cs->boot_id) != 0;
	if (stale && fs_rm_rf_at(rfd, "containers", err) < 0)
		return -1;
	if (stale || !old)
		fs_write_atomic_at(rfd, "boot_id", cs->boot_id, strlen(cs->boot_id), 0600, NULL);
	cs->run_fd = fs_open_dir_at(rfd, "containers", true, 0700, err);
	return cs->run_fd < 0 ? -1 : 0;
}

int container_store_open(const char *root, const char *runroot, struct container_store *ret,
			 struct scow_error **err)
{
	struct container_store cs = {.containers_fd = -1, .names_fd = -1, .run_fd = -1};
	cs.root = xstrdup(root);
	cs.runroot = xstrdup(runroot);
	read_boot_id(cs.boot_id);
	int r = fs_mkdir_p(root, 0700, err);
	_cleanup_close_ int rootfd = r < 0 ? -1 : open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r == 0 && rootfd < 0)
		r = error_errno(err, "open %s", root);
	if (r == 0)
		cs.containers_fd = fs_open_dir_at(rootfd, "containers", true, 0700, err);
	if (r == 0 && cs.containers_fd >= 0)
		cs.names_fd = fs_open_dir_at(rootfd, "names", true, 0700, err);
	if (r == 0 && cs.names_fd >= 0)
		r = open_runroot(&cs, err);
	if (r < 0 || cs.containers_fd < 0 || cs.names_fd < 0) {
		container_store_close(&cs);
		return -1;
	}
	*ret = cs;
	return 0;
}

void container_store_close(struct container_store *cs)
{
	closep(&cs->containers_fd);
	closep(&cs->names_fd);
	closep(&cs->run_fd);
	cs->containers_fd = cs->names_fd = cs->run_fd = -1;
	free(cs->root);
	free(cs->runroot);
	cs->root = cs->runroot = NULL;
}

void container_new_id(char out[CONTAINER_ID_LEN + 1])
{
	fs_random_hex(out, CONTAINER_ID_LEN / 2);
}

int container_name_check(const char *name, struct scow_error **err)
{
	size_t n = strlen(name);
	if (!str_is_object_name(name, 1, NAME_MAX_LEN))
		return error_set(err, EINVAL,
				 "Invalid container name (%.300s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
				 "allowed%s",
				 name, n > NAME_MAX_LEN ? " (at most 253 characters)" : "");
	return 0;
}

/* A container's directory exists before its name is reserved and until
 * after it is released, so a name whose container directory is missing was
 * left by a process killed halfway: it may be taken over, under a lock so
 * that two takers cannot remove each other's fresh reservation. */
/* Under names/.lock: the name for id, taking it over from a container
 * that no longer exists (a crash between a name and its directory). */
static int reserve_locked(struct container_store *cs, const char *name, const char *id,
			  struct scow_error **err)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		if (symlinkat(id, cs->names_fd, name) == 0)
			return 0;
		if (errno != EEXIST)
			return error_errno(err, "reserve name %s", name);
		char owner[CONTAINER_ID_LEN + 1] = "";
		ssize_t n = readlinkat(cs->names_fd, name, owner, CONTAINER_ID_LEN);
		if (n > 0)
			owner[n] = '\0';
		if (n == CONTAINER_ID_LEN && fs_exists_at(cs->containers_fd, owner))
			return error_set(err, EEXIST,
					 "Conflict. The container name \"/%s\" is already in use by "
					 "container \"%s\". You have to remove (or rename) that "
					 "container to be able to reuse that name.",
					 name, owner);
		if (unlinkat(cs->names_fd, name, 0) < 0 && errno != ENOENT)
			return error_errno(err, "reserve name %s", name);
	}
	return error_set(err, EEXIST, "reserve name %s: taken meanwhile", name);
}

int container_name_reserve(struct container_store *cs, const char *name, const char *id,
			   struct scow_error **err)
{
	if (container_name_check(name, err) < 0)
		return -1;
	int lock = lock_acquire(cs->names_fd, ".lock", LOCK_MODE_EXCLUSIVE, false, err);
	if (lock < 0)
		return -1;
	int r = reserve_locked(cs, name, id, err);
	lock_release(lock);
	return r;
}

void container_name_release(struct container_store *cs, const char *name, const char *id)
{
	char owner[CONTAINER_ID_LEN + 1];
	ssize_t n = readlinkat(cs->names_fd, name, owner, CONTAINER_ID_LEN);
	if (n == CONTAINER_ID_LEN && memcmp(owner, id, CONTAINER_ID_LEN) == 0)
		unlinkat(cs->names_fd, name, 0);
}

static bool is_durable(json_t *config)
{
	return !json_get_bool(json_get_obj(config, "HostConfig"), "AutoRemove", false);
}

static int save_json(int dirfd, const char *name, json_t *j, bool durable, struct scow_error **err)
{
	if (durable)
		return json_save_at(dirfd, name, j, err);
	/* Atomic against a kill -9 (rename), not fsynced: the record does not
	 * outlive its run, and a power loss only leaves it to reconcile. */
	_cleanup_free_ char *s = json_dumps(j, JSON_COMPACT);
	char tmp[64];
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	_cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !s || fs_write_all(fd, s, strlen(s)) < 0)
		return error_errno(err, "write %s", name);
	if (renameat(dirfd, tmp, dirfd, name) < 0)
		return error_errno(err, "rename %s", name);
	return 0;
}

int container_dir_fd(struct container_store *cs, const char *id, struct scow_error **err)
{
	return fs_open_dir_at(cs->containers_fd, id, false, 0, err);
}

char *container_path(struct container_store *cs, const char *id, const char *rel)
{
	return xasprintf("%s/containers/%s%s%s", cs->root, id, rel && *rel ? "/" : "", rel ? rel : "");
}

static void new_dir_name(const char *id, char out[CONTAINER_ID_LEN + 8])
{
	snprintf(out, CONTAINER_ID_LEN + 8, ".new-%s", id);
}

int container_create(struct container_store *cs, const char *id, json_t *config, bool durable,
		     int *ret_dfd, struct scow_error **err)
{
	char dir[CONTAINER_ID_LEN + 8];
	new_dir_name(id, dir);
	if (mkdirat(cs->containers_fd, dir, 0700) < 0)
		return error_errno(err, "create container directory");
	/* Locked while we live: a lister removes a .new- directory it can
	 * lock, one whose creator died. It may do so between our mkdir and
	 * our lock, which the link count then shows. */
	_cleanup_close_ int dfd = fs_open_dir_at(cs->containers_fd, dir, false, 0, err);
	struct stat st;
	if (dfd < 0)
		return -1;
	if (flock(dfd, LOCK_EX) < 0 || fstat(dfd, &st) < 0)
		return error_errno(err, "lock container directory");
	if (st.st_nlink == 0)
		return error_set(err, EAGAIN, "create container directory: removed meanwhile");
	_cleanup_json_ json_t *state =
		json_pack("{ss si ss ss sb si}", "Status", "created", "ExitCode", 0, "StartedAt",
			  "0001-01-01T00:00:00Z", "FinishedAt", "0001-01-01T00:00:00Z", "OOMKilled",
			  0, "RestartCount", 0);
	if (save_json(dfd, "state.json", state, durable, err) < 0 ||
	    save_json(dfd, "config.json", config, durable, err) < 0)
		return -1;
	*ret_dfd = steal_fd(&dfd);
	return 0;
}

int container_commit(struct container_store *cs, const char *id, json_t *config, bool generated,
		     struct scow_error **err)
{
	const char *slash = json_get_str(config, "Name");
	_cleanup_free_ char *name = xstrdup(slash && slash[0] == '/' ? slash + 1 : slash ? slash : "");
	if (container_name_check(name, err) < 0)
		return -1;
	char dir[CONTAINER_ID_LEN + 8];
	new_dir_name(id, dir);
	/* Under the lock that stale-name takeovers also take: nobody sees our
	 * name without a directory and takes it over. */
	int lock = lock_acquire(cs->names_fd, ".lock", LOCK_MODE_EXCLUSIVE, false, err);
	if (lock < 0)
		return -1;
	int r;
	while ((r = reserve_locked(cs, name, id, err)) < 0 && generated && (*err)->errnum == EEXIST) {
		/* A generated name another create took since we chose it: under
		 * the lock, a free one is free until we take it. */
		error_freep(err);
		free(name);
		name = container_random_name(cs);
		_cleanup_free_ char *with_slash = xasprintf("/%s", name);
		json_set_str(config, "Name", with_slash);
		_cleanup_close_ int dfd = fs_open_dir_at(cs->containers_fd, dir, false, 0, err);
		if (dfd < 0 || save_json(dfd, "config.json", config, is_durable(config), err) < 0) {
			r = -1;
			break;
		}
	}
	if (r == 0 && renameat(cs->containers_fd, dir, cs->containers_fd, id) < 0) {
		r = error_errno(err, "create container %.12s", id);
		container_name_release(cs, name, id);
	}
	lock_release(lock);
	return r;
}

void container_abort(struct container_store *cs, const char *id)
{
	char dir[CONTAINER_ID_LEN + 8];
	new_dir_name(id, dir);
	_cleanup_error_ struct scow_error *e = NULL;
	fs_rm_rf_at(cs->containers_fd, dir, &e);
}

int container_save_state(struct container_store *cs, struct container *c, struct scow_error **err)
{
	_cleanup_close_ int dfd = container_dir_fd(cs, c->id, err);
	if (dfd < 0)
		return -1;
	return save_json(dfd, "state.json", c->state, is_durable(c->config), err);
}

int container_save_config(struct container_store *cs, struct container *c, struct scow_error **err)
{
	_cleanup_close_ int dfd = container_dir_fd(cs, c->id, err);
	if (dfd < 0)
		return -1;
	return save_json(dfd, "config.json", c->config, is_durable(c->config), err);
}

int container_save_runtime(struct container_store *cs, const char *id, json_t *runtime,
			   struct scow_error **err)
{
	if (!runtime) {
		_cleanup_error_ struct scow_error *e = NULL;
		fs_rm_rf_at(cs->run_fd, id, &e);
		return 0;
	}
	_cleanup_close_ int dfd = fs_open_dir_at(cs->run_fd, id, true, 0700, err);
	if (dfd < 0)
		return -1;
	return save_json(dfd, "runtime.json", runtime, false, err);
}

/* A .new-<id> whose creator died (it holds a lock on the directory
 * while it lives) is removed by whoever lists the containers. */
static void stale_new(struct container_store *cs, const char *name)
{
	_cleanup_close_ int fd =
		openat(cs->containers_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0)
		return;
	_cleanup_error_ struct scow_error *e = NULL;
	fs_rm_rf_at(cs->containers_fd, name, &e);
}

/* A .del-<id> whose deleter died (a minute is far longer than any purge
 * takes) is finished by whoever lists the containers. */
static void stale_delete(struct container_store *cs, const char *name)
{
	struct stat st;
	if (fstatat(cs->containers_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    time(NULL) - st.st_ctime < 60)
		return;
	_cleanup_error_ struct scow_error *e = NULL;
	fs_rm_rf_at(cs->containers_fd, name, &e);
}

int container_list(struct container_store *cs, char ***ret, struct scow_error **err)
{
	int dfd = openat(cs->containers_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return error_errno(err, "open containers");
	_cleanup_closedir_ DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return error_errno(err, "read containers");
	}
	char **v = xcalloc(1, sizeof(char *));
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) == CONTAINER_ID_LEN &&
		    str_is_hex(de->d_name, CONTAINER_ID_LEN))
			strv_push(&v, xstrdup(de->d_name));
		else if (str_starts_with(de->d_name, ".del-"))
			stale_delete(cs, de->d_name);
		else if (str_starts_with(de->d_name, ".new-"))
			stale_new(cs, de->d_name);
	}
	*ret = v;
	return 0;
}

/* A record whose name link is gone (a damaged store) is still found by
 * the name it records, so that it can be removed by that name. Only on a
 * miss of the index: it reads every record. */
static bool find_by_record_name(struct container_store *cs, const char *name,
				char out[CONTAINER_ID_LEN + 1])
{
	_cleanup_strv_ char **ids = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (container_list(cs, &ids, &e) < 0)
		return false;
	_cleanup_free_ char *slash = xasprintf("/%s", name);
	for (size_t i = 0; ids[i]; i++) {
		_cleanup_close_ int dfd = container_dir_fd(cs, ids[i], &e);
		_cleanup_json_ json_t *config =
			dfd >= 0 ? json_load_at(dfd, "config.json", RECORD_MAX, &e) : NULL;
		error_freep(&e);
		if (config && str_eq(json_get_str(config, "Name"), slash)) {
			memcpy(out, ids[i], CONTAINER_ID_LEN + 1);
			return true;
		}
	}
	return false;
}

/* A name whose container directory is missing was left by a create killed
 * between reserving it and committing the directory (both happen under
 * names/.lock, as does a removal's release): under that lock, if it is
 * still so, it names nothing and goes, as a later create would take it
 * over anyway. */
static void drop_stale_name(struct container_store *cs, const char *name)
{
	_cleanup_error_ struct scow_error *e = NULL;
	int lock = lock_acquire(cs->names_fd, ".lock", LOCK_MODE_EXCLUSIVE, false, &e);
	if (lock < 0)
		return;
	char owner[CONTAINER_ID_LEN + 1];
	ssize_t n = readlinkat(cs->names_fd, name, owner, CONTAINER_ID_LEN);
	if (n == CONTAINER_ID_LEN) {
		owner[n] = '\0';
		if (!fs_exists_at(cs->containers_fd, owner))
			unlinkat(cs->names_fd, name, 0);
	}
	lock_release(lock);
}

int container_resolve(struct container_store *cs, const char *ref, char out[CONTAINER_ID_LEN + 1],
		      struct scow_error **err)
{
	const char *name = ref[0] == '/' ? ref + 1 : ref;
	size_t n = strlen(ref);
	bool stale_name = false;
	if (n == CONTAINER_ID_LEN && str_is_hex(ref, n) && fs_exists_at(cs->containers_fd, ref)) {
		memcpy(out, ref, CONTAINER_ID_LEN + 1);
		return 0;
	}
	if (*name && !strchr(name, '/')) {
		char id[CONTAINER_ID_LEN + 1];
		ssize_t l = readlinkat(cs->names_fd, name, id, CONTAINER_ID_LEN);
		if (l == CONTAINER_ID_LEN) {
			id[l] = '\0';
			if (fs_exists_at(cs->containers_fd, id)) {
				memcpy(out, id, sizeof(id));
				return 0;
			}
			stale_name = true;
		}
	}
	if (n > 0 && n < CONTAINER_ID_LEN && str_is_hex(ref, n)) {
		_cleanup_strv_ char **ids = NULL;
		if (container_list(cs, &ids, err) < 0)
			return -1;
		const char *match = NULL;
		for (size_t i = 0; ids[i]; i++) {
			if (strncmp(ids[i], ref, n) != 0)
				continue;
			if (match)
				return error_set(err, EINVAL,
						 "multiple containers found with provided prefix: %s",
						 ref);
			match = ids[i];
		}
		if (match) {
			memcpy(out, match, CONTAINER_ID_LEN + 1);
			return 0;
		}
	}
	if (*name && !strchr(name, '/') && find_by_record_name(cs, name, out))
		return 0;
	if (stale_name)
		drop_stale_name(cs, name);
	return error_set(err, ENOENT, "No such container: %s", ref);
}

/* Fields 3 (state) and 22 (start time) of /proc/PID/stat; 0 if gone. */
static uint64_t proc_stat(pid_t pid, char *ret_state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip past the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return 0;
	p += 2; /* field 3 */
	*ret_state = *p;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

uint64_t proc_start_time(pid_t pid)
{
	char state;
	return proc_stat(pid, &state);
}

bool proc_alive(pid_t pid, uint64_t start_time)
{
	if (pid <= 0 || start_time == 0)
		return false;
	/* A zombie has exited: only its parent has yet to reap it (which
	 * for an orphaned supervisor may be a slow init). */
	char state = '?';
	return proc_stat(pid, &state) == start_time && state != 'Z' && state != 'X';
}

static enum container_status parse_status(const char *s)
{
	static const char *const names[] = {"created", "running", "paused",
					    "restarting", "removing", "exited", "dead"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (str_eq(s, names[i]))
			return (enum container_status)i;
	return CTR_DEAD;
}

const char *container_status_name(enum container_status s)
{
	static const char *const names[] = {"created", "running", "paused",
					    "restarting", "removing", "exited", "dead"};
	return names[s];
}

static json_t *load_runtime(struct container_store *cs, const char *id)
{
	char name[CONTAINER_ID_LEN + 16];
	snprintf(name, sizeof(name), "%s/runtime.json", id);
	if (!fs_exists_at(cs->run_fd, name))
		return NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	return json_load_at(cs->run_fd, name, RECORD_MAX, &e);
}

/* Derives the status from the records and the processes alive. */
static void refresh_status(struct container *c)
{
	c->orphaned = NULL;
	c->status = parse_status(json_get_str(c->state, "Status"));
	if (c->status != CTR_RUNNING && c->status != CTR_PAUSED && c->status != CTR_RESTARTING)
		return;
	pid_t pid = (pid_t)json_get_int(c->runtime, "Pid", 0);
	uint64_t start = (uint64_t)json_get_int(c->runtime, "PidStart", 0);
	if (c->runtime && proc_alive(pid, start)) {
		const char *rs = json_get_str(c->runtime, "Status");
		c->status = str_eq(rs, "paused") ? CTR_PAUSED : CTR_RUNNING;
		return;
	}
	pid_t sup = (pid_t)json_get_int(c->runtime, "SupervisorPid", 0);
	uint64_t sup_start = (uint64_t)json_get_int(c->runtime, "SupervisorStart", 0);
	if (c->runtime && proc_alive(sup, sup_start))
		return; /* its supervisor is recording the exit right now */
	c->status = CTR_EXITED;
	c->orphaned = c->runtime ? "the supervisor is gone" : "the host rebooted";
}

int container_lock(struct container_store *cs, struct container *c, struct scow_error **err)
{
	if (c->lock_fd >= 0)
		return 0;
	_cleanup_close_ int dfd = container_dir_fd(cs, c->id, err);
	if (dfd < 0)
		return -1;
	c->lock_fd = lock_acquire(dfd, "lock", LOCK_MODE_EXCLUSIVE, false, err);
	return c->lock_fd < 0 ? -1 : 0;
}

void container_unlock(struct container *c)
{
	lock_release(c->lock_fd);
	c->lock_fd = -1;
}

/* What the commands rely on without checking: a record of another shape
 * (damaged, hand-edited) is refused as corrupt rather than crashing one. */
static const char *record_shape_error(json_t *config, json_t *state)
{
	if (!json_is_object(config) || !json_is_object(state))
		return "not a JSON object";
	static const char *const objects[] = {"Config", "HostConfig", "Scow"};
	for (size_t i = 0; i < ARRAY_SIZE(objects); i++)
		if (!json_is_object(json_object_get(config, objects[i])))
			return objects[i];
	static const char *const strings[] = {"Id", "Name", "Image", "Created"};
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++)
		if (!json_is_string(json_object_get(config, strings[i])))
			return strings[i];
	json_t *cfg = json_object_get(config, "Config");
	if (!json_is_string(json_object_get(cfg, "Hostname")) ||
	    !json_is_string(json_object_get(cfg, "Image")))
		return "Config";
	json_t *argv = json_object_get(json_object_get(config, "Scow"), "Argv");
	if (!json_is_array(argv) || json_array_size(argv) == 0 ||
	    !json_is_string(json_array_get(argv, 0)))
		return "Scow.Argv";
	if (!json_is_string(json_object_get(state, "Status")))
		return "Status";
	return NULL;
}

/* ROOT/containers/<id>/<file>, read relative to the store's fd (no open
 * of the directory: ps reads a thousand of these). */
static json_t *load_record_file(struct container_store *cs, const char *id, const char *file,
				struct scow_error **err)
{
	char rel[CONTAINER_ID_LEN + 32];
	snprintf(rel, sizeof(rel), "%s/%s", id, file);
	json_t *j = json_load_at(cs->containers_fd, rel, RECORD_MAX, err);
	if (!j && (*err)->errnum == ENOENT) {
		/* The directory is there: a missing file is damage, not a
		 * container removed meanwhile. */
		error_freep(err);
		if (!fs_exists_at(cs->containers_fd, id))
			error_set(err, ENOENT, "No such container: %s", id);
		else
			error_set(err, EINVAL, "%s is missing", file);
	}
	return j;
}

static bool may_be_running(json_t *state)
{
	enum container_status st = parse_status(json_get_str(state, "Status"));
	return st == CTR_RUNNING || st == CTR_PAUSED || st == CTR_RESTARTING;
}

static int load_records(struct container_store *cs, struct container *c, struct scow_error **err)
{
	json_decref(c->config);
	json_decref(c->state);
	json_decref(c->runtime);
	c->config = c->runtime = NULL;
	c->state = load_record_file(cs, c->id, "state.json", err);
	c->config = c->state ? load_record_file(cs, c->id, "config.json", err) : NULL;
	if (!c->config || !c->state) {
		if ((*err)->errnum == ENOENT)
			return -1;
		return error_wrap(err, "container %.12s: corrupt record", c->id);
	}
	/* The runroot matters only while the container may run. */
	if (may_be_running(c->state))
		c->runtime = load_runtime(cs, c->id);
	const char *bad = record_shape_error(c->config, c->state);
	if (bad)
		return error_set(err, EINVAL, "container %.12s: corrupt record (%s)", c->id, bad);
	free(c->name);
	const char *n = json_get_str(c->config, "Name");
	c->name = xstrdup(n && n[0] == '/' ? n + 1 : n ? n : "");
	return 0;
}

/* What `ps` shows and filters on: the config members it needs. */
static const char *const summary_keys[] = {
	"Id", "Name", "Image", "Created", "Path", "Args", "Config.Image", "Config.Labels",
	"Config.Hostname", NULL,
};

int container_load_summary(struct container_store *cs, const char *id, struct container *ret,
			   struct scow_error **err)
{
	struct container c = {.lock_fd = -1};
	snprintf(c.id, sizeof(c.id), "%s", id);
	char rel[CONTAINER_ID_LEN + 32];
	snprintf(rel, sizeof(rel), "%s/config.json", id);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	c.state = load_record_file(cs, id, "state.json", err);
	if (c.state && fs_read_at(cs->containers_fd, rel, RECORD_MAX, &buf, &len, err) == 0)
		c.config = json_pick(buf, len, summary_keys, err);
	if (!c.state || !c.config) {
		container_release(&c);
		if ((*err)->errnum == ENOENT) {
			bool gone = !fs_exists_at(cs->containers_fd, id);
			error_freep(err);
			/* The directory is there: a missing file is damage. */
			return gone ? error_set(err, ENOENT, "No such container: %s", id)
				    : error_set(err, EINVAL,
						"container %.12s: corrupt record (config.json is "
						"missing)",
						id);
		}
		return error_wrap(err, "container %.12s: corrupt record", id);
	}
	if (may_be_running(c.state))
		c.runtime = load_runtime(cs, id);
	/* The shape checks of a full load that apply to these members. */
	if (!json_is_string(json_object_get(c.config, "Name")) ||
	    !json_is_string(json_object_get(c.config, "Image")) ||
	    !json_is_string(json_object_get(c.config, "Created")) ||
	    !json_is_string(json_object_get(c.state, "Status"))) {
		container_release(&c);
		return error_set(err, EINVAL, "container %.12s: corrupt record", id);
	}
	const char *n = json_get_str(c.config, "Name");
	c.name = xstrdup(n[0] == '/' ? n + 1 : n);
	refresh_status(&c);
	*ret = c;
	return 0;
}

bool container_maybe_running(struct container_store *cs, const char *id)
{
	_cleanup_error_ struct scow_error *e = NULL;
	_cleanup_json_ json_t *state = load_record_file(cs, id, "state.json", &e);
	/* Unreadable: let the full load report it. */
	return !state || may_be_running(state);
}

int container_load(struct container_store *cs, const char *id, bool lock, struct container *ret,
		   struct scow_error **err)
{
	struct container c = {.lock_fd = -1};
	snprintf(c.id, sizeof(c.id), "%s", id);
	if (load_records(cs, &c, err) < 0 ||
	    (lock && (container_lock(cs, &c, err) < 0 || load_records(cs, &c, err) < 0))) {
		container_release(&c);
		return -1;
	}
	refresh_status(&c);
	*ret = c;
	return 0;
}

void container_release(struct container *c)
{
	container_unlock(c);
	json_decref(c->config);
	json_decref(c->state);
	json_decref(c->runtime);
	free(c->name);
	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
}

int container_unlink(struct container_store *cs, struct container *c, struct scow_error **err)
{
	container_save_runtime(cs, c->id, NULL, NULL);
	/* The directory goes first, the name after: a crash in between
	 * leaves a name without a container, which the next user of the name
	 * takes over, never a container without its name. */
	char del[CONTAINER_ID_LEN + 16];
	snprintf(del, sizeof(del), ".del-%s", c->id);
	if (renameat(cs->containers_fd, c->id, cs->containers_fd, del) < 0 && errno != ENOENT)
		return error_errno(err, "remove container %.12s", c->id);
	if (c->name && *c->name)
		container_name_release(cs, c->name, c->id);
	return 0;
}

void container_purge(struct container_store *cs, const char *id)
{
	char del[CONTAINER_ID_LEN + 16];
	snprintf(del, sizeof(del), ".del-%s", id);
	_cleanup_error_ struct scow_error *e = NULL;
	if (fs_rm_rf_at(cs->containers_fd, del, &e) < 0)
		log_warn("remove container %.12s: %s", id, e->msg);
}

int container_delete(struct container_store *cs, struct container *c, struct scow_error **err)
{
	if (container_unlink(cs, c, err) < 0)
		return -1;
	container_purge(cs, c->id);
	return 0;
}

static void ago(time_t then, char *buf, size_t len)
{
	char d[48];
	time_human_duration(difftime(time(NULL), then), d, sizeof(d));
	snprintf(buf, len, "%s ago", d);
}

void container_status_text(const struct container *c, char *buf, size_t len)
{
	struct timespec ts = {0, 0};
	char d[64];
	switch (c->status) {
	case CTR_CREATED:
		snprintf(buf, len, "Created");
		return;
	case CTR_RUNNING:
	case CTR_PAUSED:
		time_parse_rfc3339(json_get_str(c->state, "StartedAt") ? json_get_str(c->state, "StartedAt")
								       : "",
				   &ts);
		time_human_duration(difftime(time(NULL), ts.tv_sec), d, sizeof(d));
		snprintf(buf, len, "Up %s%s", d, c->status == CTR_PAUSED ? " (Paused)" : "");
		return;
	case CTR_RESTARTING:
		snprintf(buf, len, "Restarting (%lld)", json_get_int(c->state, "ExitCode", 0));
		return;
	case CTR_REMOVING:
		snprintf(buf, len, "Removal In Progress");
		return;
	case CTR_DEAD:
		snprintf(buf, len, "Dead");
		return;
	case CTR_EXITED:
		time_parse_rfc3339(json_get_str(c->state, "FinishedAt") ? json_get_str(c->state, "FinishedAt")
									: "",
				   &ts);
		ago(ts.tv_sec, d, sizeof(d));
		snprintf(buf, len, "Exited (%lld) %s", json_get_int(c->state, "ExitCode", 0), d);
		return;
	}
}
