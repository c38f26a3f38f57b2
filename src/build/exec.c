/* The build executor's main loop (see exec.h): the stages the plan needs,
 * in order, each step printed as Docker's classic builder does, and the
 * config-only instructions. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/exec_internal.h"
#include "build/expand.h"
#include "image/manifest.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* ---- Go's formatting, for history texts ------------------------------------------------ */

/* fmt's %q of a []string: ["a" "b"] */
static char *go_quote_list(char *const *v)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "[");
	for (size_t i = 0; v && v[i]; i++) {
		_cleanup_free_ char *q = expand_quote(v[i]);
		sb_printf(&sb, "%s%s", i ? " " : "", q);
	}
	sb_append(&sb, "]");
	return sb_steal(&sb);
}

/* fmt's %v of a []string: [a b] */
static char *go_list(char *const *v)
{
	_cleanup_free_ char *j = bx_join(v, " ");
	return xasprintf("[%s]", j);
}

/* time.Duration.String() */
static char *go_duration(long long ns)
{
	if (ns == 0)
		return xstrdup("0s");
	bool neg = ns < 0;
	unsigned long long u = neg ? (unsigned long long)-ns : (unsigned long long)ns;
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, neg ? "-" : "");
	if (u < 1000000000ULL) {
		const char *unit = "ns";
		unsigned long long div = 1;
		if (u >= 1000000ULL)
			unit = "ms", div = 1000000ULL;
		else if (u >= 1000ULL)
			unit = "µs", div = 1000ULL;
		sb_printf(&sb, "%llu", u / div);
		unsigned long long frac = u % div;
		if (frac) {
			char f[16];
			int digits = div == 1000000ULL ? 6 : 3;
			snprintf(f, sizeof(f), "%0*llu", digits, frac);
			for (int i = digits - 1; i >= 0 && f[i] == '0'; i--)
				f[i] = '\0';
			sb_printf(&sb, ".%s", f);
		}
		sb_append(&sb, unit);
		return sb_steal(&sb);
	}
	unsigned long long secs = u / 1000000000ULL, frac = u % 1000000000ULL;
	unsigned long long h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
	if (h)
		sb_printf(&sb, "%lluh", h);
	if (h || m)
		sb_printf(&sb, "%llum", m);
	sb_printf(&sb, "%llu", s);
	if (frac) {
		char f[16];
		snprintf(f, sizeof(f), "%09llu", frac);
		for (int i = 8; i >= 0 && f[i] == '0'; i--)
			f[i] = '\0';
		sb_printf(&sb, ".%s", f);
	}
	sb_append(&sb, "s");
	return sb_steal(&sb);
}

/* fmt's %q of an int: a quoted character. */
static char *go_rune(int r)
{
	if (r >= 32 && r < 127 && r != '\'' && r != '\\')
		return xasprintf("'%c'", r);
	if (r == '\'' || r == '\\')
		return xasprintf("'\\%c'", r);
	return xasprintf("'\\x%02x'", (unsigned)r & 0xff);
}

/* ---- config-only instructions ---------------------------------------------------------- */

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *obj_member(json_t *cfg, const char *key)
{
	json_t *o = json_get_obj(cfg, key);
	if (!o) {
		o = json_object();
		json_object_set_new(cfg, key, o);
	}
	return o;
}

/* CMD/ENTRYPOINT's value: JSON form as is, shell form behind the shell. */
static char **command_value(const struct bstate *st, const struct df_instruction *in)
{
	if (in->json)
		return strv_copy(in->args);
	char **v = bx_shell(st);
	if (in->args && in->args[0])
		strv_push(&v, xstrdup(in->args[0]));
	return v;
}

static char *healthcheck(json_t *cfg, const struct df_healthcheck *h)
{
	json_t *hc = json_object();
	json_object_set_new(hc, "Test", strv_json(h->test));
	if (h->interval)
		json_object_set_new(hc, "Interval", json_integer(h->interval));
	if (h->timeout)
		json_object_set_new(hc, "Timeout", json_integer(h->timeout));
	if (h->start_period)
		json_object_set_new(hc, "StartPeriod", json_integer(h->start_period));
	if (h->start_interval)
		json_object_set_new(hc, "StartInterval", json_integer(h->start_interval));
	if (h->retries)
		json_object_set_new(hc, "Retries", json_integer(h->retries));
	json_object_set_new(cfg, "Healthcheck", hc);
	_cleanup_free_ char *test = go_quote_list(h->test);
	_cleanup_free_ char *i = go_duration(h->interval), *t = go_duration(h->timeout),
			    *sp = go_duration(h->start_period), *si = go_duration(h->start_interval),
			    *r = go_rune(h->retries);
	return xasprintf("HEALTHCHECK &{%s \"%s\" \"%s\" \"%s\" \"%s\" %s}", test, i, t, sp, si, r);
}

static char *kv_text(const char *word, const struct df_kv *kvs, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, word);
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, " %s=%s", kvs[i].key, kvs[i].value ? kvs[i].value : "");
	return sb_steal(&sb);
}

/* Applies a config-only instruction to cfg; returns Docker's comment. */
static char *apply_config(struct bstate *st, const struct build_step *step, json_t *cfg)
{
	const struct df_instruction *in = step->ins;
	char *const *a = in->args;
	switch (in->kind) {
	case DF_ENV:
		json_object_set_new(cfg, "Env", strv_json(step->config_env));
		return kv_text("ENV", in->kvs, in->nkvs);
	case DF_LABEL: {
		json_t *l = obj_member(cfg, "Labels");
		for (size_t i = 0; i < in->nkvs; i++)
			json_object_set_new(l, in->kvs[i].key, json_string(in->kvs[i].value));
		return kv_text("LABEL", in->kvs, in->nkvs);
	}
	case DF_MAINTAINER:
		free(st->author);
		st->author = xstrdup(a && a[0] ? a[0] : "");
		return xasprintf("MAINTAINER %s", st->author);
	case DF_EXPOSE: {
		json_t *p = obj_member(cfg, "ExposedPorts");
		_cleanup_strv_ char **sorted = strv_copy(a);
		strv_sort(sorted);
		for (size_t i = 0; sorted[i]; i++)
			json_object_set_new(p, sorted[i], json_object());
		_cleanup_free_ char *j = bx_join(sorted, " ");
		return xasprintf("EXPOSE %s", j);
	}
	case DF_USER:
		json_set_str(cfg, "User", a && a[0] ? a[0] : "");
		return xasprintf("USER %s", a && a[0] ? a[0] : "");
	case DF_VOLUME: {
		json_t *v = obj_member(cfg, "Volumes");
		for (size_t i = 0; a && a[i]; i++)
			json_object_set_new(v, a[i], json_object());
		_cleanup_free_ char *l = go_list(a);
		return xasprintf("VOLUME %s", l);
	}
	case DF_STOPSIGNAL:
		json_set_str(cfg, "StopSignal", a && a[0] ? a[0] : "");
		return xasprintf("STOPSIGNAL %s", a && a[0] ? a[0] : "");
	case DF_HEALTHCHECK:
		return healthcheck(cfg, &in->health);
	case DF_SHELL: {
		json_object_set_new(cfg, "Shell", strv_json(a));
		_cleanup_free_ char *l = go_list(a);
		return xasprintf("SHELL %s", l);
	}
	case DF_ONBUILD: {
		json_t *ob = json_get_arr(cfg, "OnBuild");
		if (!ob) {
			ob = json_array();
			json_object_set_new(cfg, "OnBuild", ob);
		}
		json_array_append_new(ob, json_string(in->onbuild_expr ? in->onbuild_expr : ""));
		return xasprintf("ONBUILD %s", in->onbuild_expr ? in->onbuild_expr : "");
	}
	case DF_ARG: {
		_cleanup_free_ char *j = bx_join(a, " ");
		return xasprintf("ARG %s", j);
	}
	case DF_CMD: {
		_cleanup_strv_ char **v = command_value(st, in);
		json_object_set_new(cfg, "Cmd", strv_json(v));
		st->cmd_set = true;
		_cleanup_free_ char *q = go_quote_list(v);
		return xasprintf("CMD %s", q);
	}
	case DF_ENTRYPOINT: {
		_cleanup_strv_ char **v = command_value(st, in);
		json_object_set_new(cfg, "Entrypoint", strv_json(v));
		if (!st->cmd_set)
			json_object_set_new(cfg, "Cmd", json_null());
		_cleanup_free_ char *q = go_quote_list(v);
		return xasprintf("ENTRYPOINT %s", q);
	}
	default:
		return xasprintf("%s", df_kind_name(in->kind));
	}
}

static int step_config(struct bx *b, struct bstate *st, const struct build_step *step,
		       bool *cached, struct scow_error **err)
{
	json_t *cfg = bx_config_copy(st);
	_cleanup_free_ char *comment = apply_config(st, step, cfg);
	_cleanup_strv_ char **shell = bx_shell(st);
	_cleanup_free_ char *sh = bx_join(shell, " ");
	_cleanup_free_ char *created_by = xasprintf("%s #(nop)  %s", sh, comment);
	_cleanup_free_ char *source = df_instruction_source(step->ins);
	const char *parts[] = {"CONFIG", source, created_by, NULL};
	_cleanup_free_ char *key = bx_cache_key(b, st, parts);
	char id[DIGEST_STR_LEN + 1];
	if (bx_cache_get(b, key, id) == 1) {
		json_decref(cfg);
		*cached = true;
		return bstate_load(b, id, st, err);
	}
	if (bx_commit(b, st, cfg, NULL, created_by, err) < 0)
		return -1;
	bx_cache_put(b, key, st->id);
	return 0;
}

static int step_workdir(struct bx *b, struct bstate *st, const struct build_step *step,
			bool *cached, struct scow_error **err)
{
	const char *dir = step->workdir && *step->workdir ? step->workdir : "/";
	_cleanup_strv_ char **shell = bx_shell(st);
	_cleanup_free_ char *sh = bx_join(shell, " ");
	_cleanup_free_ char *created_by = xasprintf("%s #(nop) WORKDIR %s", sh, dir);
	_cleanup_free_ char *source = df_instruction_source(step->ins);
	const char *parts[] = {"WORKDIR", source, created_by, NULL};
	_cleanup_free_ char *key = bx_cache_key(b, st, parts);
	char id[DIGEST_STR_LEN + 1];
	if (bx_cache_get(b, key, id) == 1) {
		*cached = true;
		return bstate_load(b, id, st, err);
	}
	struct layer_info li;
	bool made;
	if (bx_workdir_layer(b, st, dir, &li, &made, err) < 0)
		return -1;
	json_t *cfg = bx_config_copy(st);
	json_set_str(cfg, "WorkingDir", dir);
	if (bx_commit(b, st, cfg, made ? &li : NULL, created_by, err) < 0)
		return -1;
	bx_cache_put(b, key, st->id);
	return 0;
}

/* ---- steps and stages ------------------------------------------------------------------ */

bool bx_interrupted(const struct bx *b, struct scow_error **err)
{
	if (b->o->interrupted && *b->o->interrupted) {
		error_set(err, EINTR, "the build was interrupted");
		return true;
	}
	return false;
}

static int do_step(struct bx *b, struct bstate *st, const struct build_step *step,
		   struct bstate *stages, struct scow_error **err)
{
	if (bx_interrupted(b, err))
		return -1;
	bool cached = false;
	int r;
	switch (step->ins->kind) {
	case DF_RUN:
		r = bx_step_run(b, st, step, &cached, err);
		break;
	case DF_COPY:
	case DF_ADD:
		r = bx_step_copy(b, st, step, &cached, stages, err);
		break;
	case DF_WORKDIR:
		r = step_workdir(b, st, step, &cached, err);
		break;
	case DF_FROM:
		return error_set(err, EINVAL, "FROM inside a stage");
	default:
		r = step_config(b, st, step, &cached, err);
		break;
	}
	/* A signal that came while the step ran (not into a RUN's container:
	 * before or after it) stops the build here. */
	if (r < 0 || bx_interrupted(b, err))
		return -1;
	if (cached)
		fprintf(b->out, " ---> Using cache\n");
	fprintf(b->out, " ---> %.12s\n", digest_hex(st->id));
	fflush(b->out);
	return 0;
}

static int check_platform(const char *platform, struct scow_error **err)
{
	if (!platform || !*platform)
		return 0;
	_cleanup_free_ char *host = xasprintf("linux/%s", platform_host_arch());
	if (strcmp(platform, host) == 0 || strcmp(platform, "linux") == 0)
		return 0;
	return error_set(err, ENOTSUP, "platform %s: only the host platform (%s) can be built",
			 platform, host);
}

static void scratch_state(struct bstate *st)
{
	st->id[0] = '\0';
	st->img = json_pack("{ss ss s{}}", "architecture", platform_host_arch(), "os", "linux",
			    "config");
	st->layers = json_array();
	st->from_scratch = true;
}

/* The state a stage starts from. */
static int stage_base(struct bx *b, const struct build_stage *s, struct bstate *stages,
		      struct bstate *st, struct scow_error **err)
{
	if (s->scratch) {
		scratch_state(st);
		return 0;
	}
	if (s->base_stage >= 0) {
		const struct bstate *from = &stages[s->base_stage];
		memcpy(st->id, from->id, sizeof(st->id));
		st->img = json_deep_copy(from->img);
		st->layers = json_deep_copy(from->layers);
		st->from_scratch = from->from_scratch;
	} else {
		if (check_platform(s->platform, err) < 0)
			return -1;
		const struct build_runner *r = &b->o->runner;
		_cleanup_free_ char *id = NULL;
		if (r->image(r->opaque, s->base, b->o->pull, b->out, &id, err) < 0 ||
		    bstate_load(b, id, st, err) < 0)
			return -1;
	}
	fprintf(b->out, " ---> %.12s\n", digest_hex(st->id));
	return 0;
}

static char **json_strv(json_t *a)
{
	char **v = xcalloc(1, sizeof(char *));
	size_t i;
	json_t *s;
	json_array_foreach(a, i, s)
		if (json_is_string(s))
			strv_push(&v, xstrdup(json_string_value(s)));
	return v;
}

static int run_stage(struct bx *b, size_t si, struct bstate *stages, size_t *stepno, size_t total,
		     struct scow_error **err)
{
	const struct build_stage *s = &b->plan->stages[si];
	struct bstate *st = &stages[si];
	fprintf(b->out, "Step %zu/%zu : %s\n", ++*stepno, total, s->from->original);
	if (stage_base(b, s, stages, st, err) < 0)
		return -1;
	if (b->o->squash && si == b->plan->target) {
		struct bstate *base = xcalloc(1, sizeof(*base));
		memcpy(base->id, st->id, sizeof(base->id));
		base->img = json_deep_copy(st->img);
		base->layers = json_deep_copy(st->layers);
		base->from_scratch = st->from_scratch;
		b->squash_base = base;
	}
	json_t *cfg = json_get_obj(st->img, "config");
	_cleanup_strv_ char **env = json_strv(json_get_arr(cfg, "Env"));
	_cleanup_strv_ char **onbuild = json_strv(json_get_arr(cfg, "OnBuild"));
	struct build_base base = {.env = env, .onbuild = onbuild,
				  .workdir = json_get_str(cfg, "WorkingDir")};
	struct build_step *steps = NULL;
	size_t n = 0;
	if (build_stage_steps(b->plan, si, &base, &steps, &n, err) < 0)
		return -1;
	/* The triggers run now; the child does not inherit them. */
	if (onbuild[0] && cfg) {
		json_object_set_new(cfg, "OnBuild", json_null());
		size_t nt = 0;
		for (size_t i = 0; i < n; i++)
			nt += steps[i].trigger;
		fprintf(b->out, "# Executing %zu build trigger%s\n", nt, nt == 1 ? "" : "s");
	}
	int r = 0;
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!steps[i].trigger)
			fprintf(b->out, "Step %zu/%zu : %s\n", ++*stepno, total, steps[i].ins->original);
		r = do_step(b, st, &steps[i], stages, err);
	}
	build_steps_free(steps, n);
	return r;
}

/* --label: LABEL steps at the end of the target stage, sorted. */
static int label_steps(struct bx *b, struct bstate *st, size_t *stepno, size_t total,
		       struct scow_error **err)
{
	_cleanup_strv_ char **labels = strv_copy(b->o->labels);
	strv_sort(labels);
	for (size_t i = 0; labels[i]; i++) {
		const char *eq = strchr(labels[i], '=');
		_cleanup_free_ char *key = eq ? xstrndup(labels[i], (size_t)(eq - labels[i]))
					      : xstrdup(labels[i]);
		struct df_instruction in = {.kind = DF_LABEL, .cmd = "LABEL"};
		struct df_kv kv = {key, (char *)(eq ? eq + 1 : "")};
		in.kvs = &kv;
		in.nkvs = 1;
		_cleanup_free_ char *text = xasprintf("LABEL %s=%s", key, kv.value);
		in.original = text;
		struct build_step step = {.ins = &in, .from_stage = -1};
		fprintf(b->out, "Step %zu/%zu : %s\n", ++*stepno, total, text);
		if (do_step(b, st, &step, NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* ---- set-up -------------------------------------------------------------------------- */

static int open_context(struct bx *b, struct scow_error **err)
{
	const struct build_opts *o = b->o;
	if (!o->context)
		return 0;
	b->ctx_fd = open(o->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->ctx_fd < 0)
		return error_errno(err, "unable to prepare context: path %s", o->context);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	_cleanup_error_ struct scow_error *e = NULL;
	if (fs_read_at(b->ctx_fd, ".dockerignore", 16u << 20, &buf, &len, &e) < 0) {
		if (e->errnum != ENOENT) {
			*err = steal_ptr(&e);
			return error_wrap(err, "read .dockerignore");
		}
		buf = xstrdup("");
		len = 0;
	}
	return dockerignore_load(buf, len, o->dockerfile_rel, &b->di, err);
}

static int open_cache(struct bx *b, struct scow_error **err)
{
	b->cache_path = xasprintf("%s/build-cache", b->o->root);
	if (fs_mkdir_p(b->cache_path, 0700, err) < 0)
		return -1;
	b->cache_fd = open(b->cache_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->cache_fd < 0)
		return error_errno(err, "open %s", b->cache_path);
	return 0;
}

static void bx_release(struct bx *b, struct bstate *stages, size_t n)
{
	for (size_t i = 0; stages && i < n; i++)
		bstate_release(&stages[i]);
	free(stages);
	bx_view_close(b);
	if (b->squash_base) {
		bstate_release(b->squash_base);
		free(b->squash_base);
	}
	build_plan_free(b->plan);
	dockerignore_free(b->di);
	closep(&b->ctx_fd);
	closep(&b->cache_fd);
	free(b->cache_path);
	if (b->gc_guard >= 0)
		close(b->gc_guard);
}

static void print_warnings(const struct df_file *df)
{
	for (size_t i = 0; df->warnings && df->warnings[i]; i++)
		fprintf(stderr, "[WARNING]: %s\n", df->warnings[i]);
}

int build_execute(const struct build_opts *o, char ret_id[DIGEST_STR_LEN + 1],
		  struct scow_error **err)
{
	struct bx b = {.o = o, .is = o->is, .out = o->out, .ctx_fd = -1, .cache_fd = -1,
		       .gc_guard = -1, .view_fd = {-1, -1}};
	_cleanup_df_file_ struct df_file *df = NULL;
	if (df_parse(o->dockerfile, o->dockerfile_len, &df, err) < 0)
		return error_set_exit(err, 1);
	print_warnings(df);
	struct build_plan_opts po = {.build_args = o->build_args, .target = o->target};
	struct bstate *stages = NULL;
	int r = build_plan_new(df, &po, &b.plan, err);
	if (r < 0) {
		bx_release(&b, NULL, 0);
		return error_set_exit(err, 1);
	}
	size_t nst = b.plan->nstages;
	stages = xcalloc(nst + 1, sizeof(*stages));
	if (open_context(&b, err) < 0 || open_cache(&b, err) < 0 ||
	    (b.gc_guard = image_store_gc_guard(b.is, err)) < 0) {
		bx_release(&b, stages, nst);
		return -1;
	}
	size_t total = build_plan_step_count(b.plan) + strv_len(o->labels);
	size_t stepno = 0;
	for (size_t i = 0; i < b.plan->nmeta; i++)
		fprintf(b.out, "Step %zu/%zu : %s\n", ++stepno, total, b.plan->meta[i]->original);
	for (size_t i = 0; r == 0 && i < b.plan->norder; i++)
		r = run_stage(&b, b.plan->order[i], stages, &stepno, total, err);
	struct bstate *final = &stages[b.plan->target];
	if (r == 0 && o->labels && o->labels[0])
		r = label_steps(&b, final, &stepno, total, err);
	if (r == 0 && !final->id[0])
		r = error_set(err, EINVAL, "No image was generated. Is your Dockerfile empty?");
	if (r == 0) {
		_cleanup_free_ char *warn = build_plan_unused_warning(b.plan);
		if (warn)
			fprintf(b.out, "%s\n", warn);
		if (b.squash_base)
			r = bx_squash(&b, b.squash_base, final, err);
		if (r == 0)
			r = bx_tag(&b, final->id, err);
	}
	if (r == 0)
		memcpy(ret_id, final->id, DIGEST_STR_LEN + 1);
	else if (!(*err)->exit_code)
		error_set_exit(err, 1);
	bx_release(&b, stages, nst);
	return r;
}
