/* scow top CONTAINER [ps OPTIONS]: the container's processes, as `docker top`
 * shows them. Docker's daemon runs the host's ps with the user's options
 * ("-ef" by default) plus "-q<pids of the container>", retries without -q
 * when ps refuses that combination (forest listings), keeps the header and
 * the lines whose PID column names a process of the container (and the
 * thread lines, PID "-", that follow one), and the client aligns the columns
 * with a tabwriter (minimum width 20, padding 3).
 *
 * The container's processes are those in its cgroup (runtime.json's
 * CgroupPath); without one, the init process and its descendants. ps is
 * executed directly (no shell), with a small environment, and its output is
 * read with a size limit. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cmd/containers.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* ps -ef on a large host is well below a megabyte. */
#define PS_OUTPUT_MAX (64u << 20)
#define PS_STDERR_MAX 4096
/* Processes of a container without a cgroup, found through /proc. */
#define TREE_PIDS_MAX 65536

const struct opt_def cmd_top_opts[] = {
	OPT_END,
};

/* Go's unicode-free whitespace, as Docker's fieldsASCII and \s use it. */
static bool ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

/* Docker's validatePSArgs: the regexp \s+([^\s]*)=\s*(PID[^\s]*) must not
 * match with a key other than "pid" (renaming another column to PID would
 * make the filter pick the wrong column). */
static int check_ps_args(const char *s, struct scow_error **err)
{
	size_t i = 0;
	while (s[i]) {
		if (!ascii_space(s[i])) {
			i++;
			continue;
		}
		size_t tok = i;
		while (ascii_space(s[tok]))
			tok++;
		size_t end = tok;
		while (s[end] && !ascii_space(s[end]))
			end++;
		bool matched = false;
		/* [^\s]* is greedy: the last '=' that works wins. */
		for (size_t e = end; e-- > tok && !matched;) {
			if (s[e] != '=')
				continue;
			size_t v = e + 1;
			while (ascii_space(s[v]))
				v++;
			if (strncmp(s + v, "PID", 3) != 0)
				continue;
			size_t vend = v;
			while (s[vend] && !ascii_space(s[vend]))
				vend++;
			if (e - tok != 3 || strncmp(s + tok, "pid", 3) != 0)
				return error_set(err, EINVAL, "specifying \"%.*s=%.*s\" is not allowed",
						 (int)(e - tok), s + tok, (int)(vend - v), s + v);
			i = vend;
			matched = true;
		}
		if (!matched)
			i = tok;
	}
	return 0;
}

/* ---- the container's processes -------------------------------------------- */

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* Appends the children of every thread of pid (/proc/PID/task/TID/children). */
static void proc_children(pid_t pid, pid_t **v, size_t *n, size_t *cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	_cleanup_closedir_ DIR *d = opendir(path);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char cpath[64 + sizeof(de->d_name)];
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)pid, de->d_name);
		_cleanup_free_ char *text = NULL;
		_cleanup_error_ struct scow_error *e = NULL;
		if (fs_read_stream(cpath, 1 << 20, &text, NULL, &e) < 0)
			continue;
		char *save = NULL;
		for (char *tok = strtok_r(text, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
			long long c;
			if (!str_to_ll(tok, 1, INT32_MAX, &c) || *n >= TREE_PIDS_MAX)
				continue;
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 64;
				*v = xrealloc(*v, *cap * sizeof(pid_t));
			}
			(*v)[(*n)++] = (pid_t)c;
		}
	}
}

/* A container without a cgroup (none could be made): its init process and
 * everything below it. */
static int tree_pids(const struct container *c, pid_t **ret, size_t *ret_n,
		     struct scow_error **err)
{
	pid_t init = (pid_t)json_get_int(c->runtime, "Pid", 0);
	if (init <= 0 || !proc_alive(init, (uint64_t)json_get_int(c->runtime, "PidStart", 0)))
		return error_set(err, ESRCH, "container %s is not running", c->id);
	size_t n = 1, cap = 64;
	pid_t *v = xmalloc(cap * sizeof(pid_t));
	v[0] = init;
	for (size_t i = 0; i < n; i++)
		proc_children(v[i], &v, &n, &cap);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int container_pids(const struct container *c, pid_t **ret, size_t *ret_n,
			  struct scow_error **err)
{
	const char *path = json_get_str(c->runtime, "CgroupPath");
	if (!path)
		return tree_pids(c, ret, ret_n, err);
	_cleanup_cgroup_ struct cgroup *cg = NULL;
	if (cgroup_open(NULL, path, &cg, err) < 0 || cgroup_pids(cg, ret, ret_n, err) < 0)
		return -1;
	qsort(*ret, *ret_n, sizeof(pid_t), pid_cmp);
	return 0;
}

/* ---- running ps ---------------------------------------------------------- */

struct ps_result {
	struct strbuf out, errs;
	int status; /* as from waitpid */
};

static void ps_result_release(struct ps_result *r)
{
	sb_release(&r->out);
	sb_release(&r->errs);
}

/* ps with the caller's PATH and time zone only: COLUMNS, PS_FORMAT,
 * PS_PERSONALITY and the like would change what it prints. */
static char **ps_environment(void)
{
	char **env = xcalloc(3, sizeof(char *));
	size_t n = 0;
	const char *path = getenv("PATH");
	env[n++] = xasprintf("PATH=%s", path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (getenv("TZ"))
		env[n++] = xasprintf("TZ=%s", getenv("TZ"));
	return env;
}

/* Reads the two pipes until both close; stdout beyond the limit kills ps. */
static int ps_collect(pid_t pid, int outfd, int errfd, struct ps_result *r,
		      struct scow_error **err)
{
	struct pollfd p[2] = {{outfd, POLLIN, 0}, {errfd, POLLIN, 0}};
	char buf[65536];
	int open_fds = 2;
	while (open_fds > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return error_errno(err, "ps: poll");
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !p[i].revents)
				continue;
			ssize_t k = read(p[i].fd, buf, sizeof(buf));
			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0) {
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			struct strbuf *sb = i == 0 ? &r->out : &r->errs;
			size_t max = i == 0 ? PS_OUTPUT_MAX : PS_STDERR_MAX;
			if (sb->len + (size_t)k > max) {
				if (i == 0) {
					kill(pid, SIGKILL);
					return error_set(err, EFBIG, "ps: output over %u MiB",
							 PS_OUTPUT_MAX >> 20);
				}
				k = (ssize_t)(max - sb->len);
			}
			sb_appendn(sb, buf, (size_t)k);
		}
	}
	return 0;
}

static int ps_run(char **argv, struct ps_result *r, struct scow_error **err)
{
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		int e = errno;
		for (int i = 0; i < 2; i++) {
			if (out[i] >= 0)
				close(out[i]);
			if (errp[i] >= 0)
				close(errp[i]);
		}
		errno = e;
		return error_errno(err, "ps: pipe");
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, errp[1], STDERR_FILENO);
	posix_spawnattr_init(&attr);
	/* scow ignores SIGPIPE; ps gets the default dispositions back. */
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
	_cleanup_strv_ char **env = ps_environment();
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out[1]);
	close(errp[1]);
	_cleanup_close_ int outfd = out[0], errfd = errp[0];
	if (e != 0) {
		if (e == ENOENT)
			return error_set(err, e, "ps: exec: \"%s\": executable file not found in $PATH",
					 argv[0]);
		errno = e;
		return error_errno(err, "ps: exec: \"%s\"", argv[0]);
	}
	int rc = ps_collect(pid, outfd, errfd, r, err);
	while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
		;
	return rc;
}

/* "ps: <first line of its stderr>", or Go's description of the exit. */
static int ps_failed(const struct ps_result *r, struct scow_error **err)
{
	const char *s = r->errs.len ? r->errs.buf : "";
	size_t n = strcspn(s, "\n");
	if (n)
		return error_set(err, EIO, "ps: %.*s", (int)n, s);
	if (WIFSIGNALED(r->status))
		return error_set(err, EIO, "ps: signal: %s", strsignal(WTERMSIG(r->status)));
	return error_set(err, EIO, "ps: exit status %d", WEXITSTATUS(r->status));
}

static bool ps_ok(const struct ps_result *r)
{
	return WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
}

/* ---- filtering and printing ------------------------------------------------ */

/* strings.FieldsFunc with ASCII whitespace; the pieces point into line,
 * which is modified. */
static char **split_fields(char *line, size_t *ret_n)
{
	size_t n = 0, cap = 16;
	char **v = xmalloc(cap * sizeof(char *));
	char *p = line;
	for (;;) {
		while (*p && ascii_space(*p))
			p++;
		if (!*p)
			break;
		if (n + 1 >= cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(char *));
		}
		v[n++] = p;
		while (*p && !ascii_space(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	v[n] = NULL;
	*ret_n = n;
	return v;
}

struct table {
	size_t ncols;
	char ***rows; /* each ncols strings, owned */
	size_t nrows, cap;
};

/* Docker's appendProcess2ProcList: as many cells as titles, the overhanging
 * fields joined with spaces into the last one (CMD's arguments). */
static void table_add(struct table *t, char **fields, size_t nf)
{
	char **row = xcalloc(t->ncols + 1, sizeof(char *));
	for (size_t i = 0; i + 1 < t->ncols; i++)
		row[i] = xstrdup(i < nf ? fields[i] : "");
	_cleanup_sb_ struct strbuf last = STRBUF_INIT;
	for (size_t i = t->ncols - 1; i < nf; i++)
		sb_printf(&last, "%s%s", i > t->ncols - 1 ? " " : "", fields[i]);
	row[t->ncols - 1] = sb_steal(&last);
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->rows = xrealloc(t->rows, t->cap * sizeof(char **));
	}
	t->rows[t->nrows++] = row;
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		strv_free(t->rows[i]);
	free(t->rows);
}

static bool pid_in(const pid_t *pids, size_t n, long long p)
{
	pid_t key = (pid_t)p;
	return p > 0 && p <= INT32_MAX && bsearch(&key, pids, n, sizeof(pid_t), pid_cmp);
}

/* Docker's parsePSOutput. Row 0 of the table is the header. */
static int parse_ps(char *text, const pid_t *pids, size_t npids, struct table *t,
		    struct scow_error **err)
{
	char *save = NULL;
	char *nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	size_t nt;
	_cleanup_free_ char **titles = split_fields(text, &nt);
	size_t pid_col = nt;
	for (size_t i = 0; i < nt && pid_col == nt; i++)
		if (strcmp(titles[i], "PID") == 0)
			pid_col = i;
	if (pid_col == nt)
		return error_set(err, EINVAL, "Couldn't find PID field in ps output");
	t->ncols = nt;
	table_add(t, titles, nt);
	bool in_container = false; /* the last process line was one of ours */
	for (char *line = nl ? strtok_r(nl + 1, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t nf;
		_cleanup_free_ char **f = split_fields(line, &nf);
		if (nf <= pid_col)
			continue;
		if (strcmp(f[pid_col], "-") == 0) {
			/* a thread line (ps -L, m): belongs to the process above */
			if (in_container)
				table_add(t, f, nf);
			continue;
		}
		long long p;
		const char *s = f[pid_col] + (f[pid_col][0] == '+');
		if (!str_to_ll(s, INT32_MIN, INT32_MAX, &p))
			return error_set(err, EINVAL,
					 "Unexpected pid '%s': strconv.Atoi: parsing \"%s\": invalid syntax",
					 f[pid_col], f[pid_col]);
		in_container = pid_in(pids, npids, p);
		if (in_container)
			table_add(t, f, nf);
	}
	return 0;
}

static size_t text_width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

/* Go's text/tabwriter with docker top's settings: every cell but the last
 * of a line padded with spaces to max(20, widest cell + 3). */
static void table_print(FILE *f, const struct table *t)
{
	_cleanup_free_ size_t *w = xcalloc(t->ncols ? t->ncols : 1, sizeof(size_t));
	for (size_t c = 0; c + 1 < t->ncols; c++) {
		w[c] = 20;
		for (size_t r = 0; r < t->nrows; r++)
			if (text_width(t->rows[r][c]) + 3 > w[c])
				w[c] = text_width(t->rows[r][c]) + 3;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			fputs(t->rows[r][c], f);
			if (c + 1 < t->ncols)
				fprintf(f, "%*s", (int)(w[c] - text_width(t->rows[r][c])), "");
		}
		fputc('\n', f);
	}
}

/* ---- the command --------------------------------------------------------- */

/* The ps argument vector: Docker joins the arguments with spaces and splits
 * them again at single spaces. */
static char **ps_argv(const struct opts *o, const pid_t *pids, size_t npids, bool quick)
{
	_cleanup_sb_ struct strbuf joined = STRBUF_INIT;
	for (int i = 1; i < o->nargs; i++)
		sb_printf(&joined, "%s%s", i > 1 ? " " : "", o->args[i]);
	char **argv = NULL;
	strv_push(&argv, xstrdup("ps"));
	_cleanup_strv_ char **args = strv_split(joined.len ? sb_str(&joined) : "-ef", ' ');
	for (size_t i = 0; args[i]; i++)
		strv_push(&argv, xstrdup(args[i]));
	if (quick) {
		_cleanup_sb_ struct strbuf q = STRBUF_INIT;
		sb_append(&q, "-q");
		for (size_t i = 0; i < npids; i++)
			sb_printf(&q, "%s%d", i ? "," : "", (int)pids[i]);
		strv_push(&argv, sb_steal(&q));
	}
	return argv;
}

static int top_container(struct container *c, const struct opts *o, struct scow_error **err)
{
	if (c->status == CTR_RESTARTING)
		return error_set(err, EBUSY,
				 "Container %s is restarting, wait until the container is running",
				 c->id);
	if (c->status != CTR_RUNNING && c->status != CTR_PAUSED)
		return error_set(err, EINVAL, "container %s is not running", c->id);
	_cleanup_free_ pid_t *pids = NULL;
	size_t npids = 0;
	if (container_pids(c, &pids, &npids, err) < 0)
		return -1;
	struct ps_result r = {STRBUF_INIT, STRBUF_INIT, 0};
	_cleanup_strv_ char **argv = ps_argv(o, pids, npids, true);
	if (ps_run(argv, &r, err) < 0) {
		ps_result_release(&r);
		return -1;
	}
	if (!ps_ok(&r)) {
		/* Some options (forest listings) refuse -q: again without it. */
		ps_result_release(&r);
		r = (struct ps_result){STRBUF_INIT, STRBUF_INIT, 0};
		_cleanup_strv_ char **plain = ps_argv(o, pids, npids, false);
		if (ps_run(plain, &r, err) < 0 || (!ps_ok(&r) && ps_failed(&r, err) < 0)) {
			ps_result_release(&r);
			return -1;
		}
	}
	struct table t = {0};
	_cleanup_free_ char *text = sb_steal(&r.out);
	ps_result_release(&r);
	int rc = parse_ps(text, pids, npids, &t, err);
	if (rc == 0)
		table_print(stdout, &t);
	table_release(&t);
	return rc;
}

int cmd_top(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	_cleanup_sb_ struct strbuf joined = STRBUF_INIT;
	for (int i = 1; i < o->nargs; i++)
		sb_printf(&joined, "%s%s", i > 1 ? " " : "", o->args[i]);
	if (check_ps_args(joined.len ? sb_str(&joined) : "-ef", err) < 0)
		return cmd_fail(err);
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct container c = {.lock_fd = -1};
	int r = cmd_load_container(&cs, o->args[0], false, &c, err);
	if (r == 0) {
		r = top_container(&c, o, err);
		container_release(&c);
	}
	container_store_close(&cs);
	return r < 0 ? cmd_fail(err) : 0;
}
