/* scow logs */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd/containers.h"
#include "supervise/logfile.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"

const struct opt_def cmd_logs_opts[] = {
	{"details", 0, OPT_BOOL, NULL, "Show extra details provided to logs", NULL},
	{"follow", 'f', OPT_BOOL, NULL, "Follow log output", NULL},
	{"since", 0, OPT_VALUE, "string",
	 "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\")",
	 NULL},
	{"tail", 'n', OPT_VALUE, "string", "Number of lines to show from the end of the logs",
	 "\"all\""},
	{"timestamps", 't', OPT_BOOL, NULL, "Show timestamps", NULL},
	{"until", 0, OPT_VALUE, "string",
	 "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\")",
	 NULL},
	OPT_END,
};

struct follow {
	struct container_store *cs;
	const char *id;
};

/* Following ends once the container is no longer running. */
static bool stopped(void *opaque)
{
	struct follow *f = opaque;
	struct container c;
	_cleanup_error_ struct scow_error *e = NULL;
	if (container_load(f->cs, f->id, false, &c, &e) < 0)
		return true;
	bool done = c.status != CTR_RUNNING && c.status != CTR_PAUSED &&
		    c.status != CTR_RESTARTING;
	container_release(&c);
	return done;
}

int cmd_logs(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct logread_opts lo = {.follow = opt_bool(o, "follow"),
				  .timestamps = opt_bool(o, "timestamps"), .tail = -1};
	const char *tail = opt_str(o, "tail");
	long long t;
	if (tail && strcmp(tail, "all") != 0) {
		if (!str_to_ll(tail, -1, INT32_MAX, &t))
			return error_set(err, EINVAL, "invalid --tail: %s", tail);
		lo.tail = (long)t;
	}
	if ((opt_str(o, "since") && logread_parse_time(opt_str(o, "since"), &lo.since, err) < 0) ||
	    (opt_str(o, "until") && logread_parse_time(opt_str(o, "until"), &lo.until, err) < 0))
		return -1;
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct container c = {.lock_fd = -1};
	int r = cmd_load_container(&cs, o->args[0], false, &c, err);
	bool loaded = r == 0;
	if (r == 0) {
		json_t *lc = json_get_obj(json_get_obj(c.config, "HostConfig"), "LogConfig");
		if (str_eq(json_get_str(lc, "Type"), "none"))
			r = error_set(err, ENOTSUP,
				      "configured logging driver does not support reading");
	}
	struct follow f = {&cs, c.id};
	lo.stop = stopped;
	lo.opaque = &f;
	_cleanup_close_ int dfd = r == 0 ? container_dir_fd(&cs, c.id, err) : -1;
	if (r == 0 && dfd < 0)
		r = -1;
	fflush(stdout);
	if (r == 0)
		r = logread(dfd, "ctr.log", &lo, STDOUT_FILENO, STDERR_FILENO, err);
	if (loaded)
		container_release(&c);
	container_store_close(&cs);
	return r < 0 ? cmd_fail(err) : 0;
}
