/* scow stats: Docker's live resource usage table, read straight from each
 * container's cgroup (CPU, memory, block I/O, pids) and from its network
 * namespace (/proc/PID/net/dev).
 *
 * CPU % is the CPU time used between two samples over the wall time between
 * them (Docker's cpuDelta / systemDelta * onlineCPUs comes to the same):
 * 100% is one CPU busy. --no-stream takes its two samples a short moment
 * apart (so that a hundred containers take well under a second); the live
 * view redraws every second from one-second samples. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cmd/containers.h"
#include "util/cleanup.h"
#include "util/format.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/timefmt.h"
#include "util/xalloc.h"

#define NO_STREAM_WINDOW_MS 50
#define REFRESH_MS 1000

const struct opt_def cmd_stats_opts[] = {
	{"all", 'a', OPT_BOOL, NULL, "Show all containers (default shows just running)", NULL},
	{"format", 0, OPT_VALUE, "string",
	 "Format output using a custom template:\n"
	 "'table':            Print output in table format with column headers (default)\n"
	 "'table TEMPLATE':   Print output in table format using the given Go template\n"
	 "'json':             Print in JSON format\n"
	 "'TEMPLATE':         Print output using the given Go template",
	 NULL},
	{"no-stream", 0, OPT_BOOL, NULL, "Disable streaming stats and only pull the first result",
	 NULL},
	{"no-trunc", 0, OPT_BOOL, NULL, "Do not truncate output", NULL},
	OPT_END,
};

#define DEFAULT_TABLE                                                                              \
	"table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t"        \
	"{{.BlockIO}}\t{{.PIDs}}"

struct entry {
	char id[CONTAINER_ID_LEN + 1];
	char *name;
	char *given;	   /* the Container column: as the user named it, or the id */
	struct cgroup *cg; /* NULL: not running (all figures 0) */
	pid_t pid;
	uint64_t pid_start;
	bool host_net;
	double created; /* rows are shown newest first, as ps shows them */
	bool invalid; /* its figures cannot be read: "--" */
	bool seen;    /* still listed (live view without names) */
	/* The last sample. */
	bool sampled;
	long long t_ns;
	struct cgroup_stats st;
	uint64_t rx, tx;
	double cpu_perc;
};

static void entry_free(struct entry *e)
{
	free(e->name);
	free(e->given);
	cgroup_free(e->cg);
	free(e);
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sums the bytes of every interface but lo in /proc/PID/net/dev: the
 * container's network namespace as its first process sees it. */
static void net_io(pid_t pid, uint64_t *rx, uint64_t *tx)
{
	*rx = *tx = 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	_cleanup_free_ char *text = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (fs_read_at(AT_FDCWD, path, 1u << 20, &text, NULL, &e) < 0)
		return;
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *colon = strchr(line, ':');
		if (colon) {
			*colon = '\0';
			char *name = line;
			while (*name == ' ')
				name++;
			unsigned long long v[9];
			if (strcmp(name, "lo") != 0 &&
			    sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
				   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
				*rx += v[0];
				*tx += v[8];
			}
		}
		line = nl ? nl + 1 : NULL;
	}
}

static uint64_t host_memory(void)
{
	static uint64_t total;
	if (total)
		return total;
	_cleanup_free_ char *text = NULL;
	_cleanup_error_ struct scow_error *e = NULL;
	if (fs_read_at(AT_FDCWD, "/proc/meminfo", 1u << 20, &text, NULL, &e) == 0) {
		const char *p = strstr(text, "MemTotal:");
		if (p)
			total = strtoull(p + 9, NULL, 10) * 1024;
	}
	return total;
}

/* Loads what sampling needs; a container that is not running keeps no
 * cgroup and shows zeros. */
static int entry_load(struct container_store *cs, struct cgroup_roots *roots, const char *ref,
		      bool named, struct entry **ret, struct scow_error **err)
{
	struct container c;
	if (cmd_load_container(cs, ref, false, &c, err) < 0)
		return -1;
	struct entry *e = xcalloc(1, sizeof(*e));
	memcpy(e->id, c.id, sizeof(e->id));
	e->name = xstrdup(c.name);
	e->given = xstrdup(named ? ref : c.id);
	struct timespec ts = {0, 0};
	time_parse_rfc3339(json_get_str(c.config, "Created"), &ts);
	e->created = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	e->host_net = str_eq(json_get_str(json_get_obj(c.config, "HostConfig"), "NetworkMode"),
			     "host");
	if (c.status == CTR_RUNNING || c.status == CTR_PAUSED) {
		const char *path = json_get_str(c.runtime, "CgroupPath");
		_cleanup_error_ struct scow_error *ce = NULL;
		e->pid = (pid_t)json_get_int(c.runtime, "Pid", 0);
		e->pid_start = (uint64_t)json_get_int(c.runtime, "PidStart", 0);
		if (!path || !roots || cgroup_open_stats(roots, path, &e->cg, &ce) < 0)
			e->invalid = true;
	}
	container_release(&c);
	*ret = e;
	return 0;
}

/* full: every figure; otherwise the CPU time alone (the first of the two
 * samples CPU % needs: the rest is shown from the last one only). */
static void entry_sample(struct entry *e, bool full)
{
	long long t = now_ns();
	if (!e->cg)
		return;
	struct cgroup_stats st;
	_cleanup_error_ struct scow_error *err = NULL;
	if (cgroup_stats(e->cg, full ? CGROUP_STATS_ALL : CGROUP_STATS_CPU, &st, &err) < 0) {
		/* Gone meanwhile: it stopped. */
		cgroup_free(e->cg);
		e->cg = NULL;
		memset(&e->st, 0, sizeof(e->st));
		e->rx = e->tx = 0;
		e->cpu_perc = 0;
		return;
	}
	if (e->sampled && t > e->t_ns && st.cpu_ns >= e->st.cpu_ns)
		e->cpu_perc = (double)(st.cpu_ns - e->st.cpu_ns) * 100.0 / (double)(t - e->t_ns);
	e->t_ns = t;
	e->sampled = true;
	if (!full) {
		e->st.cpu_ns = st.cpu_ns;
		return;
	}
	e->st = st;
	if (e->host_net || !proc_alive(e->pid, e->pid_start))
		e->rx = e->tx = 0;
	else
		net_io(e->pid, &e->rx, &e->tx);
}

static json_t *entry_row(const struct entry *e, bool trunc)
{
	char id[CONTAINER_ID_LEN + 1];
	snprintf(id, sizeof(id), "%.*s", trunc ? 12 : CONTAINER_ID_LEN, e->id);
	const char *name = *e->name ? e->name : "--";
	if (e->invalid)
		return json_pack("{ss ss ss ss ss ss ss ss ss}", "Container", e->given, "ID", id,
				 "Name", name, "CPUPerc", "--", "MemUsage", "-- / --", "MemPerc", "--",
				 "NetIO", "--", "BlockIO", "--", "PIDs", "--");
	char cpu[32], mem[80], memp[32], net[80], blk[80], pids[32];
	char a[32], b[32];
	uint64_t limit = 0, usage = e->st.mem_usage;
	if (e->cg) {
		/* No limit (or one above the machine's memory): the machine's. */
		uint64_t host = host_memory();
		limit = e->st.mem_limit && (!host || e->st.mem_limit < host) ? e->st.mem_limit : host;
	}
	snprintf(cpu, sizeof(cpu), "%.2f%%", e->cpu_perc);
	size_human_binary((double)usage, a, sizeof(a));
	size_human_binary((double)limit, b, sizeof(b));
	snprintf(mem, sizeof(mem), "%s / %s", a, b);
	snprintf(memp, sizeof(memp), "%.2f%%", limit ? (double)usage * 100.0 / (double)limit : 0.0);
	size_human((double)e->rx, a, sizeof(a));
	size_human((double)e->tx, b, sizeof(b));
	snprintf(net, sizeof(net), "%s / %s", a, b);
	size_human((double)e->st.blk_read, a, sizeof(a));
	size_human((double)e->st.blk_write, b, sizeof(b));
	snprintf(blk, sizeof(blk), "%s / %s", a, b);
	snprintf(pids, sizeof(pids), "%llu", (unsigned long long)e->st.pids);
	return json_pack("{ss ss ss ss ss ss ss ss ss}", "Container", e->given, "ID", id, "Name",
			 name, "CPUPerc", cpu, "MemUsage", mem, "MemPerc", memp, "NetIO", net,
			 "BlockIO", blk, "PIDs", pids);
}

/* ---- the set of containers shown ------------------------------------------------------------ */

struct view {
	struct container_store *cs;
	struct cgroup_roots *roots; /* NULL: no cgroups (every figure "--") */
	struct entry **v;
	size_t n;
	bool named; /* containers given on the command line: a fixed set */
	bool all;
};

static struct entry *find(struct view *w, const char *id)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i]->id, id) == 0)
			return w->v[i];
	return NULL;
}

static void add(struct view *w, struct entry *e)
{
	w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
	w->v[w->n++] = e;
}

/* Without names: the running containers (all with -a), listed again at
 * each refresh; a container that started or stopped since is added or
 * reloaded, one that is gone dropped. */
static int refresh(struct view *w, struct scow_error **err)
{
	_cleanup_strv_ char **ids = NULL;
	if (container_list(w->cs, &ids, err) < 0)
		return -1;
	for (size_t i = 0; i < w->n; i++)
		w->v[i]->seen = false;
	for (size_t i = 0; ids[i]; i++) {
		if (!w->all && !container_maybe_running(w->cs, ids[i]))
			continue;
		struct entry *e = NULL, *old = find(w, ids[i]);
		_cleanup_error_ struct scow_error *le = NULL;
		if (old && old->cg) {
			old->seen = true; /* running: keeps its samples */
			continue;
		}
		if (entry_load(w->cs, w->roots, ids[i], false, &e, &le) < 0)
			continue; /* removed meanwhile, or a damaged record */
		if (!w->all && !e->cg && !e->invalid) {
			entry_free(e);
			continue;
		}
		e->seen = true;
		if (old) {
			/* Stopped before, maybe running now. */
			for (size_t k = 0; k < w->n; k++)
				if (w->v[k] == old)
					w->v[k] = e;
			entry_free(old);
		} else {
			add(w, e);
		}
	}
	size_t k = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (w->v[i]->seen)
			w->v[k++] = w->v[i];
		else
			entry_free(w->v[i]);
	}
	w->n = k;
	return 0;
}

static void sample_all(struct view *w, bool full)
{
	for (size_t i = 0; i < w->n; i++)
		entry_sample(w->v[i], full);
	/* Without -a the live view drops containers that stopped. */
	if (!w->named && !w->all) {
		size_t k = 0;
		for (size_t i = 0; i < w->n; i++) {
			if (w->v[i]->cg || w->v[i]->invalid)
				w->v[k++] = w->v[i];
			else
				entry_free(w->v[i]);
		}
		w->n = k;
	}
}

static int by_created_desc(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;
	return x->created < y->created ? 1 : x->created > y->created ? -1 : strcmp(x->id, y->id);
}

static int render(FILE *out, struct view *w, const struct opts *o, struct scow_error **err)
{
	if (!w->named)
		qsort(w->v, w->n, sizeof(*w->v), by_created_desc);
	_cleanup_json_ json_t *rows = json_array();
	for (size_t i = 0; i < w->n; i++)
		json_array_append_new(rows, entry_row(w->v[i], !opt_bool(o, "no-trunc")));
	_cleanup_json_ json_t *headers =
		json_pack("{ss ss ss ss ss ss ss ss ss}", "Container", "CONTAINER", "ID",
			  "CONTAINER ID", "Name", "NAME", "CPUPerc", "CPU %", "MemUsage",
			  "MEM USAGE / LIMIT", "MemPerc", "MEM %", "NetIO", "NET I/O", "BlockIO",
			  "BLOCK I/O", "PIDs", "PIDS");
	const char *format = opt_str(o, "format");
	if (format && strcmp(format, "{{json .}}") == 0)
		format = "json";
	return format_rows(out, format, DEFAULT_TABLE, headers, rows, err);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* 1 if some name is no container (said on stderr, as Docker does). */
static int load_named(struct view *w, const struct opts *o)
{
	int status = 0;
	for (int i = 0; i < o->nargs; i++) {
		struct entry *e = NULL;
		_cleanup_error_ struct scow_error *le = NULL;
		if (entry_load(w->cs, w->roots, o->args[i], true, &e, &le) < 0) {
			fprintf(stderr, "Error response from daemon: %s\n", le->msg);
			status = 1;
			continue;
		}
		add(w, e);
	}
	return status;
}

static void view_release(struct view *w)
{
	for (size_t i = 0; i < w->n; i++)
		entry_free(w->v[i]);
	free(w->v);
	cgroup_roots_free(w->roots);
}

/* One frame, written at once (no flicker); on a terminal the screen is
 * cleared first, as Docker's live view does. */
static int frame(struct view *w, const struct opts *o, bool clear, struct scow_error **err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem)
		return error_errno(err, "stats: buffer");
	if (clear)
		fputs("\033[2J\033[H", mem);
	int r = render(mem, w, o, err);
	fclose(mem);
	if (r == 0 && fs_write_all(STDOUT_FILENO, buf, len) < 0 && errno == EPIPE)
		r = 1; /* the reader went away */
	free(buf);
	return r;
}

int cmd_stats(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct view w = {.cs = &cs, .named = o->nargs > 0, .all = opt_bool(o, "all")};
	int status = 0, r = 0;
	_cleanup_error_ struct scow_error *ce = NULL;
	if (cgroup_roots_open(NULL, &w.roots, &ce) < 0)
		w.roots = NULL;
	if (w.named) {
		status = load_named(&w, o);
		if (w.n == 0) {
			view_release(&w);
			container_store_close(&cs);
			return status;
		}
	} else if (refresh(&w, err) < 0) {
		view_release(&w);
		container_store_close(&cs);
		return cmd_fail(err);
	}
	/* The first figures need two samples. */
	long long t0 = now_ns();
	sample_all(&w, false);
	long long spent = (now_ns() - t0) / 1000000;
	sleep_ms(spent < NO_STREAM_WINDOW_MS ? NO_STREAM_WINDOW_MS - spent : 1);
	sample_all(&w, true);
	if (opt_bool(o, "no-stream")) {
		fflush(stdout);
		r = frame(&w, o, false, err);
	} else {
		signal(SIGPIPE, SIG_IGN);
		bool tty = isatty(STDOUT_FILENO);
		for (;;) {
			r = frame(&w, o, tty, err);
			if (r != 0)
				break;
			sleep_ms(REFRESH_MS);
			if (!w.named && refresh(&w, err) < 0) {
				r = -1;
				break;
			}
			sample_all(&w, true);
		}
	}
	view_release(&w);
	container_store_close(&cs);
	if (r < 0)
		return cmd_fail(err);
	return status;
}
