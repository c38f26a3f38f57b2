/* Build plan (see plan.h): stages, ARG scoping, --target closure and the
 * per-step environment. */
#include "build/plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "build/expand.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static const char *const proxy_args[] = {
	"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY",
	"ftp_proxy",  "NO_PROXY",   "no_proxy",    "ALL_PROXY",   "all_proxy",
};

static const char *const platform_args[] = {
	"BUILDPLATFORM", "BUILDOS",  "BUILDARCH",  "BUILDVARIANT",
	"TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT",
};

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static int fail_line(struct scow_error **err, const struct df_instruction *in)
{
	return error_wrap(err, "Dockerfile parse error on line %d", in->line);
}

/* ---- build args ---- */

static const char *build_arg(const struct build_plan *p, const char *key)
{
	return expand_env_get(p->build_args, key);
}

static void consume(struct build_plan *p, const char *key)
{
	if (!strv_contains(p->consumed, key))
		strv_push(&p->consumed, xstrdup(key));
}

static void platform_env(struct build_plan *p, const struct build_platform *pl)
{
	const char *os = pl->os ? pl->os : "linux";
	const char *arch = pl->arch ? pl->arch : "amd64";
	const char *variant = pl->variant ? pl->variant : "";
	_cleanup_free_ char *full =
		*variant ? xasprintf("%s/%s/%s", os, arch, variant) : xasprintf("%s/%s", os, arch);
	const char *vals[] = {full, os, arch, variant, full, os, arch, variant};
	p->platform_env = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < ARRAY_SIZE(platform_args); i++)
		expand_env_set(&p->platform_env, platform_args[i], vals[i]);
}

/* Global ARGs: platform ARGs first, then each ARG line in order: a
 * --build-arg value, else its default expanded with what came before; an
 * ARG with neither keeps an earlier (platform) value or stays unset. */
static int resolve_meta(struct build_plan *p, struct scow_error **err)
{
	p->global_env = strv_copy(p->platform_env);
	for (size_t i = 0; i < p->nmeta; i++) {
		const struct df_instruction *in = p->meta[i];
		for (size_t k = 0; k < in->nkvs; k++) {
			const char *key = in->kvs[k].key;
			consume(p, key);
			const char *ba = build_arg(p, key);
			if (ba) {
				expand_env_set(&p->global_env, key, ba);
			} else if (in->kvs[k].value) {
				_cleanup_free_ char *v = NULL;
				if (expand_word(in->kvs[k].value, p->escape, p->global_env, &v, err) < 0)
					return fail_line(err, in);
				expand_env_set(&p->global_env, key, v);
			}
		}
	}
	return 0;
}

/* ---- stages ---- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int build_plan_stage_ref(const struct build_plan *p, const char *ref, size_t before)
{
	if (!ref || !*ref)
		return -1;
	if (all_digits(ref)) {
		long long n;
		if (!str_to_ll(ref, 0, 1 << 30, &n) || (size_t)n >= before || (size_t)n >= p->nstages)
			return -1;
		return (int)n;
	}
	for (size_t i = 0; i < p->nstages; i++)
		if (p->stages[i].name && strcasecmp(p->stages[i].name, ref) == 0)
			return (int)i;
	return -1;
}

static void dep_add(struct build_stage *s, size_t d)
{
	for (size_t i = 0; i < s->ndeps; i++)
		if (s->deps[i] == d)
			return;
	s->deps = xrealloc(s->deps, (s->ndeps + 1) * sizeof(*s->deps));
	size_t i = s->ndeps++;
	while (i > 0 && s->deps[i - 1] > d) {
		s->deps[i] = s->deps[i - 1];
		i--;
	}
	s->deps[i] = d;
}

/* A --from/from= reference of stage s: a stage index, -1 for an image. */
static int from_ref(struct build_plan *p, const struct build_stage *s, const struct df_instruction *in,
		    const char *raw, bool expand, int *ret, struct scow_error **err)
{
	_cleanup_free_ char *v = NULL;
	if (expand) {
		if (expand_word(raw, p->escape, p->global_env, &v, err) < 0)
			return fail_line(err, in);
	} else {
		v = xstrdup(raw);
	}
	if (all_digits(v)) {
		int r = build_plan_stage_ref(p, v, s->index);
		if (r < 0) {
			error_set(err, EINVAL,
				  "invalid from flag value %s: refers to current or future build stage",
				  v);
			return fail_line(err, in);
		}
		*ret = r;
		return 0;
	}
	*ret = build_plan_stage_ref(p, v, p->nstages);
	return 0;
}

static int stage_deps(struct build_plan *p, struct build_stage *s, struct scow_error **err)
{
	if (s->base_stage >= 0)
		dep_add(s, (size_t)s->base_stage);
	for (size_t i = 0; i < s->nins; i++) {
		const struct df_instruction *in = s->ins[i];
		int r = -1;
		if (in->kind == DF_COPY && in->copy.from) {
			if (from_ref(p, s, in, in->copy.from, true, &r, err) < 0)
				return -1;
			if (r >= 0)
				dep_add(s, (size_t)r);
		}
		if (in->kind != DF_RUN)
			continue;
		for (size_t m = 0; in->run.mount_specs && in->run.mount_specs[m]; m++) {
			struct df_mount mnt;
			if (df_mount_parse(in->run.mount_specs[m], &mnt, NULL) < 0)
				continue; /* reported when the step is expanded */
			r = -1;
			int rc = mnt.from ? from_ref(p, s, in, mnt.from, false, &r, err) : 0;
			df_mount_release(&mnt);
			if (rc < 0)
				return -1;
			if (r >= 0)
				dep_add(s, (size_t)r);
		}
	}
	return 0;
}

static int stage_init(struct build_plan *p, struct build_stage *s, const struct df_instruction *from,
		      struct scow_error **err)
{
	s->from = from;
	s->base_stage = -1;
	s->name = from->from.stage ? xstrdup(from->from.stage) : NULL;
	if (expand_word(from->from.image, p->escape, p->global_env, &s->base, err) < 0)
		return fail_line(err, from);
	if (!*s->base) {
		error_set(err, EINVAL, "base name (%s) should not be blank", from->from.image);
		return fail_line(err, from);
	}
	if (from->from.platform &&
	    expand_word(from->from.platform, p->escape, p->global_env, &s->platform, err) < 0)
		return fail_line(err, from);
	s->scratch = strcmp(s->base, "scratch") == 0;
	/* FROM names only stages defined before it ("FROM alpine AS alpine"
	 * is the alpine image). */
	for (size_t i = 0; i < s->index; i++)
		if (p->stages[i].name && strcasecmp(p->stages[i].name, s->base) == 0)
			s->base_stage = (int)i;
	return 0;
}

enum { WHITE, GREY, BLACK };

static int visit(struct build_plan *p, size_t i, unsigned char *color, struct scow_error **err)
{
	if (color[i] == BLACK)
		return 0;
	struct build_stage *s = &p->stages[i];
	if (color[i] == GREY)
		return error_set(err, EINVAL, "circular dependency detected on stage: %s",
				 s->name ? s->name : s->base);
	color[i] = GREY;
	for (size_t d = 0; d < s->ndeps; d++)
		if (visit(p, s->deps[d], color, err) < 0)
			return -1;
	color[i] = BLACK;
	s->needed = true;
	p->order[p->norder++] = i;
	return 0;
}

static void split_build_args(struct build_plan *p, char *const *ba)
{
	p->build_args = xcalloc(1, sizeof(char *));
	p->given = xcalloc(1, sizeof(char *));
	for (size_t i = 0; ba && ba[i]; i++) {
		const char *eq = strchr(ba[i], '=');
		_cleanup_free_ char *key = eq ? xstrndup(ba[i], (size_t)(eq - ba[i])) : xstrdup(ba[i]);
		if (!strv_contains(p->given, key))
			strv_push(&p->given, xstrdup(key));
		if (eq)
			expand_env_set(&p->build_args, key, eq + 1);
	}
}

int build_plan_new(const struct df_file *df, const struct build_plan_opts *o,
		   struct build_plan **ret, struct scow_error **err)
{
	_cleanup_build_plan_ struct build_plan *p = xcalloc(1, sizeof(*p));
	p->df = df;
	p->escape = df->escape;
	p->consumed = xcalloc(1, sizeof(char *));
	split_build_args(p, o ? o->build_args : NULL);
	struct build_platform none = {0};
	platform_env(p, o ? &o->platform : &none);

	size_t i = 0;
	for (; i < df->nins && df->ins[i].kind == DF_ARG; i++) {
		p->meta = xrealloc(p->meta, (p->nmeta + 1) * sizeof(*p->meta));
		p->meta[p->nmeta++] = &df->ins[i];
	}
	if (resolve_meta(p, err) < 0)
		return -1;
	for (; i < df->nins; i++) {
		const struct df_instruction *in = &df->ins[i];
		if (in->kind == DF_FROM) {
			p->stages = xrealloc(p->stages, (p->nstages + 1) * sizeof(*p->stages));
			struct build_stage *s = &p->stages[p->nstages];
			memset(s, 0, sizeof(*s));
			s->index = p->nstages++;
			if (stage_init(p, s, in, err) < 0)
				return -1;
			for (size_t k = 0; k < s->index; k++)
				if (s->name && p->stages[k].name && !strcmp(s->name, p->stages[k].name)) {
					error_set(err, EINVAL, "duplicate stage name \"%s\"", s->name);
					return fail_line(err, in);
				}
			continue;
		}
		if (p->nstages == 0) {
			error_set(err, EINVAL, "no build stage in current context");
			return fail_line(err, in);
		}
		struct build_stage *s = &p->stages[p->nstages - 1];
		s->ins = xrealloc(s->ins, (s->nins + 1) * sizeof(*s->ins));
		s->ins[s->nins++] = in;
	}
	if (p->nstages == 0)
		return error_set(err, EINVAL, "no build stage in current context");
	for (size_t s = 0; s < p->nstages; s++)
		if (stage_deps(p, &p->stages[s], err) < 0)
			return -1;

	if (o && o->target && *o->target) {
		int t = -1;
		for (size_t s = 0; s < p->nstages; s++)
			if (p->stages[s].name && strcasecmp(p->stages[s].name, o->target) == 0)
				t = (int)s;
		if (t < 0)
			return error_set(err, EINVAL, "target stage \"%s\" could not be found",
					 o->target);
		p->target = (size_t)t;
	} else {
		p->target = p->nstages - 1;
	}
	p->order = xcalloc(p->nstages, sizeof(*p->order));
	_cleanup_free_ unsigned char *color = xcalloc(p->nstages, 1);
	if (visit(p, p->target, color, err) < 0)
		return -1;
	/* ARGs of the stages that run count as consumed. */
	for (size_t k = 0; k < p->norder; k++) {
		const struct build_stage *s = &p->stages[p->order[k]];
		for (size_t n = 0; n < s->nins; n++)
			if (s->ins[n]->kind == DF_ARG)
				for (size_t a = 0; a < s->ins[n]->nkvs; a++)
					consume(p, s->ins[n]->kvs[a].key);
	}
	*ret = steal_ptr(&p);
	return 0;
}

void build_plan_free(struct build_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nstages; i++) {
		struct build_stage *s = &p->stages[i];
		free(s->name);
		free(s->base);
		free(s->platform);
		free(s->ins);
		free(s->deps);
	}
	free(p->stages);
	free(p->meta);
	strv_free(p->global_env);
	free(p->order);
	strv_free(p->build_args);
	strv_free(p->given);
	strv_free(p->consumed);
	strv_free(p->platform_env);
	free(p);
}

size_t build_plan_step_count(const struct build_plan *p)
{
	size_t n = p->nmeta;
	for (size_t i = 0; i < p->norder; i++)
		n += 1 + p->stages[p->order[i]].nins;
	return n;
}

char **build_plan_unused_args(const struct build_plan *p)
{
	char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; p->given[i]; i++) {
		const char *k = p->given[i];
		if (strv_contains(p->consumed, k) || in_list(proxy_args, ARRAY_SIZE(proxy_args), k) ||
		    in_list(platform_args, ARRAY_SIZE(platform_args), k))
			continue;
		strv_push(&out, xstrdup(k));
	}
	strv_sort(out);
	return out;
}

char *build_plan_unused_warning(const struct build_plan *p)
{
	_cleanup_strv_ char **u = build_plan_unused_args(p);
	if (!u[0])
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, "[Warning] One or more build-args [");
	for (size_t i = 0; u[i]; i++) {
		if (i)
			sb_appendc(&sb, ' ');
		sb_append(&sb, u[i]);
	}
	sb_append(&sb, "] were not consumed");
	return sb_steal(&sb);
}

/* ---- phase 2: steps ---- */

char *build_workdir_join(const char *current, const char *requested)
{
	if (requested[0] == '/')
		return fs_path_clean(requested);
	_cleanup_free_ char *j = xasprintf("/%s/%s", current ? current : "", requested);
	return fs_path_clean(j);
}

/* Declared ARGs of the stage, in declaration order (value NULL: unset). */
struct arg_scope {
	char **keys;
	char **vals; /* parallel; NULL entries allowed, so not a strv */
	size_t n;
};

static void scope_set(struct arg_scope *a, const char *key, const char *val)
{
	for (size_t i = 0; i < a->n; i++) {
		if (strcmp(a->keys[i], key) == 0) {
			free(a->vals[i]);
			a->vals[i] = val ? xstrdup(val) : NULL;
			return;
		}
	}
	a->keys = xrealloc(a->keys, (a->n + 1) * sizeof(char *));
	a->vals = xrealloc(a->vals, (a->n + 1) * sizeof(char *));
	a->keys[a->n] = xstrdup(key);
	a->vals[a->n] = val ? xstrdup(val) : NULL;
	a->n++;
}

static void scope_release(struct arg_scope *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->keys[i]);
		free(a->vals[i]);
	}
	free(a->keys);
	free(a->vals);
}

struct stage_state {
	struct build_plan *p;
	char **config_env;
	struct arg_scope args;
	char *workdir;
};

/* ARG values RUN sees: declared ARGs with a value, then proxy build args,
 * minus what ENV sets. */
static char **run_args(const struct stage_state *st)
{
	char **v = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i < ARRAY_SIZE(proxy_args); i++) {
		const char *val = build_arg(st->p, proxy_args[i]);
		if (val && !expand_env_get(st->config_env, proxy_args[i]))
			expand_env_set(&v, proxy_args[i], val);
	}
	for (size_t i = 0; i < st->args.n; i++)
		if (st->args.vals[i] && !expand_env_get(st->config_env, st->args.keys[i]))
			expand_env_set(&v, st->args.keys[i], st->args.vals[i]);
	strv_sort(v);
	return v;
}

/* The expansion environment: ARG values, then the config env on top. */
static char **step_env(const struct stage_state *st)
{
	_cleanup_strv_ char **a = run_args(st);
	char **v = strv_copy(a);
	for (size_t i = 0; st->config_env[i]; i++)
		strv_push(&v, xstrdup(st->config_env[i]));
	return v;
}

static int step_arg(struct stage_state *st, struct build_step *s, char *const *env,
		    struct scow_error **err)
{
	struct build_plan *p = st->p;
	struct df_instruction *in = s->ins;
	_cleanup_strv_ char **cur = strv_copy(env);
	for (size_t k = 0; k < in->nkvs; k++) {
		struct df_kv *kv = &in->kvs[k];
		consume(p, kv->key);
		const char *ba = build_arg(p, kv->key);
		char *val = NULL;
		if (ba) {
			val = xstrdup(ba);
		} else if (kv->value) {
			if (expand_word(kv->value, p->escape, cur, &val, err) < 0)
				return -1;
		} else {
			const char *g = expand_env_get(p->global_env, kv->key);
			val = g ? xstrdup(g) : NULL;
		}
		free(kv->value);
		kv->value = val;
		scope_set(&st->args, kv->key, val);
		/* Later ARGs on the same line see this one. */
		strv_free(cur);
		cur = step_env(st);
	}
	return 0;
}

static int step_copy_from(struct stage_state *st, const struct build_stage *stage,
			  struct build_step *s, struct scow_error **err)
{
	struct df_instruction *in = s->ins;
	s->from_stage = -1;
	if (in->kind != DF_COPY || !in->copy.from)
		return 0;
	_cleanup_free_ char *v = NULL;
	if (expand_word(in->copy.from, st->p->escape, st->p->global_env, &v, err) < 0)
		return -1;
	free(in->copy.from);
	in->copy.from = steal_ptr(&v);
	if (all_digits(in->copy.from)) {
		s->from_stage = build_plan_stage_ref(st->p, in->copy.from, stage->index);
		if (s->from_stage < 0)
			return error_set(err, EINVAL,
					 "invalid from flag value %s: refers to current or future "
					 "build stage",
					 in->copy.from);
	} else {
		s->from_stage = build_plan_stage_ref(st->p, in->copy.from, st->p->nstages);
		if (s->from_stage == (int)stage->index)
			return error_set(err, EINVAL, "circular dependency detected on stage: %s",
					 in->copy.from);
	}
	return 0;
}

static int step_run(struct stage_state *st, const struct build_stage *stage, struct build_step *s,
		    struct scow_error **err)
{
	struct df_instruction *in = s->ins;
	if (df_run_cmd_resolve(in, &s->run, err) < 0)
		return -1;
	if (in->run.nmounts == 0)
		return 0;
	s->mount_stages = xcalloc(in->run.nmounts, sizeof(int));
	for (size_t m = 0; m < in->run.nmounts; m++) {
		const char *f = in->run.mounts[m].from;
		s->mount_stages[m] = -1;
		if (!f)
			continue;
		s->mount_stages[m] = build_plan_stage_ref(st->p, f,
							  all_digits(f) ? stage->index : st->p->nstages);
		if (s->mount_stages[m] == (int)stage->index)
			return error_set(err, EINVAL, "circular dependency detected on stage: %s", f);
	}
	return 0;
}

/* moby's signal.ParseSignal for Linux: a number, or a name with or
 * without SIG (any case), RTMIN+n, RTMAX-n. */
int build_signal_check(const char *raw, struct scow_error **err)
{
	static const char *const names[] = {
		"ABRT", "ALRM", "BUS",	"CHLD", "CLD",	"CONT", "FPE",	  "HUP",  "ILL",
		"INT",	"IO",	"IOT",	"KILL", "PIPE", "POLL", "PROF",	  "PWR",  "QUIT",
		"SEGV", "STKFLT", "STOP", "SYS", "TERM", "TRAP", "TSTP",  "TTIN", "TTOU",
		"URG",	"USR1", "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX",
	};
	long long n;
	if (str_to_ll(raw, 1, 64, &n))
		return 0;
	_cleanup_free_ char *up = xstrdup(raw);
	for (char *c = up; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	const char *name = str_starts_with(up, "SIG") ? up + 3 : up;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(name, names[i]) == 0)
			return 0;
	if ((str_starts_with(name, "RTMIN+") && str_to_ll(name + 6, 1, 15, &n)) ||
	    (str_starts_with(name, "RTMAX-") && str_to_ll(name + 6, 1, 14, &n)))
		return 0;
	return error_set(err, EINVAL, "invalid signal: %s", raw);
}

/* go-connections' nat.ParsePortSpecs as EXPOSE uses it: [ip:[host]:]port
 * or range, /tcp by default; ranges expand to every port. */
int build_expose_normalize(char *const *ports, char ***ret, struct scow_error **err)
{
	_cleanup_strv_ char **out = xcalloc(1, sizeof(char *));
	for (size_t i = 0; ports && ports[i]; i++) {
		_cleanup_free_ char *spec = xstrdup(ports[i]);
		char *slash = strrchr(spec, '/');
		const char *proto = "tcp";
		if (slash) {
			*slash = '\0';
			proto = slash + 1;
		}
		_cleanup_free_ char *lproto = xstrdup(proto);
		for (char *c = lproto; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (strcmp(lproto, "tcp") != 0 && strcmp(lproto, "udp") != 0 &&
		    strcmp(lproto, "sctp") != 0)
			return error_set(err, EINVAL, "invalid proto: %s", proto);
		char *colon = strrchr(spec, ':');
		const char *port = colon ? colon + 1 : spec;
		const char *dash = strchr(port, '-');
		long long lo, hi;
		_cleanup_free_ char *first = dash ? xstrndup(port, (size_t)(dash - port)) : xstrdup(port);
		if (!str_to_ll(first, 0, 65535, &lo) ||
		    (dash ? !str_to_ll(dash + 1, 0, 65535, &hi) : (hi = lo, false)) || hi < lo)
			return error_set(err, EINVAL, "invalid containerPort: %s", port);
		for (long long p = lo; p <= hi; p++) {
			_cleanup_free_ char *key = xasprintf("%lld/%s", p, lproto);
			if (!strv_contains(out, key))
				strv_push(&out, steal_ptr(&key));
		}
	}
	*ret = steal_ptr(&out);
	return 0;
}

static int make_step(struct stage_state *st, const struct build_stage *stage,
		     const struct df_instruction *src, bool trigger, char escape, struct build_step *s,
		     struct scow_error **err)
{
	s->ins = df_instruction_dup(src);
	s->trigger = trigger;
	s->from_stage = -1;
	s->env = step_env(st);
	s->run_args = run_args(st);
	struct df_instruction *in = s->ins;
	int r = 0;
	if (in->kind == DF_ARG)
		r = step_arg(st, s, s->env, err);
	else
		r = df_instruction_expand(in, escape, s->env, err);
	if (r == 0)
		r = step_copy_from(st, stage, s, err);
	if (r == 0 && in->kind == DF_RUN)
		r = step_run(st, stage, s, err);
	if (r == 0 && in->kind == DF_STOPSIGNAL)
		r = build_signal_check(in->args[0], err);
	if (r == 0 && in->kind == DF_EXPOSE) {
		char **ports = NULL;
		r = build_expose_normalize(in->args, &ports, err);
		if (r == 0) {
			strv_free(in->args);
			in->args = ports;
		}
	}
	if (r == 0 && in->kind == DF_ENV)
		for (size_t k = 0; k < in->nkvs; k++)
			expand_env_set(&st->config_env, in->kvs[k].key, in->kvs[k].value);
	if (r == 0 && in->kind == DF_WORKDIR) {
		if (!in->args[0] || !*in->args[0]) {
			r = error_set(err, EINVAL, "cannot normalize nothing");
		} else {
			char *w = build_workdir_join(st->workdir, in->args[0]);
			free(st->workdir);
			st->workdir = w;
		}
	}
	s->config_env = strv_copy(st->config_env);
	s->workdir = xstrdup(st->workdir);
	if (r < 0) {
		if (trigger)
			return error_wrap(err, "ONBUILD trigger %s", src->original);
		return fail_line(err, src);
	}
	return 0;
}

static void step_release(struct build_step *s)
{
	df_instruction_free(s->ins);
	strv_free(s->env);
	strv_free(s->config_env);
	strv_free(s->run_args);
	free(s->workdir);
	free(s->mount_stages);
	df_run_cmd_release(&s->run);
}

void build_steps_free(struct build_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		step_release(&steps[i]);
	free(steps);
}

int build_stage_steps(struct build_plan *p, size_t stage, const struct build_base *base,
		      struct build_step **ret, size_t *ret_n, struct scow_error **err)
{
	if (stage >= p->nstages)
		return error_set(err, EINVAL, "no such build stage: %zu", stage);
	const struct build_stage *sg = &p->stages[stage];
	_cleanup_(df_file_freep) struct df_file *trig = NULL;
	if (base && base->onbuild && base->onbuild[0] &&
	    df_parse_triggers(base->onbuild, &trig, err) < 0)
		return -1;
	struct stage_state st = {.p = p};
	st.config_env = base && base->env ? strv_copy(base->env) : xcalloc(1, sizeof(char *));
	st.workdir = xstrdup(base && base->workdir ? base->workdir : "");
	size_t ntrig = trig ? trig->nins : 0;
	size_t n = ntrig + sg->nins;
	struct build_step *steps = xcalloc(n ? n : 1, sizeof(*steps));
	int r = 0;
	size_t done = 0;
	for (size_t i = 0; i < n && r == 0; i++, done++) {
		bool is_trig = i < ntrig;
		const struct df_instruction *src = is_trig ? &trig->ins[i] : sg->ins[i - ntrig];
		r = make_step(&st, sg, src, is_trig, is_trig ? trig->escape : p->escape, &steps[i],
			      err);
	}
	strv_free(st.config_env);
	scope_release(&st.args);
	free(st.workdir);
	if (r < 0) {
		build_steps_free(steps, done);
		return -1;
	}
	*ret = steps;
	*ret_n = n;
	return 0;
}
