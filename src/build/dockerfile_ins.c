/* Per-instruction rules: argument counts, flags, FROM stage names,
 * HEALTHCHECK, ADD/COPY sources, RUN --mount, expansion, deep copies.
 * Messages are Docker's (BuildKit's instructions package). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "build/dockerfile.h"
#include "build/dockerfile_internal.h"
#include "build/expand.h"
#include "util/cleanup.h"
#include "util/strutil.h"
#include "util/xalloc.h"

/* ---- flags (Docker's BFlags) ---- */

enum ftype { F_BOOL, F_STRING, F_STRINGS };

struct fspec {
	const char *name;
	enum ftype type;
};

struct fval {
	bool used;
	char *value;   /* F_BOOL: "true"/"false"; F_STRING: the value (NULL if unused) */
	char **values; /* F_STRINGS */
};

static void fvals_release(struct fval *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].value);
		strv_free(v[i].values);
	}
}

int df_parse_bool(const char *s, bool *ret)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		if (strcmp(s, t[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, f[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -1;
}

static int flags_parse(char *const *flags, const struct fspec *spec, size_t n, struct fval *vals,
		       struct scow_error **err)
{
	for (size_t i = 0; i < n; i++) {
		memset(&vals[i], 0, sizeof(vals[i]));
		if (spec[i].type == F_BOOL)
			vals[i].value = xstrdup("false");
	}
	for (size_t f = 0; flags && flags[f]; f++) {
		const char *arg = flags[f];
		if (strncmp(arg, "--", 2) != 0)
			return error_set(err, EINVAL, "Arg should start with -- : %s", arg);
		if (strcmp(arg, "--") == 0)
			return 0;
		arg += 2;
		const char *eq = strchr(arg, '=');
		_cleanup_free_ char *name = eq ? xstrndup(arg, (size_t)(eq - arg)) : xstrdup(arg);
		const char *value = eq ? eq + 1 : "";
		size_t k = 0;
		while (k < n && strcmp(spec[k].name, name) != 0)
			k++;
		if (k == n)
			return error_set(err, EINVAL, "Unknown flag: %s", name);
		if (vals[k].used && spec[k].type != F_STRINGS)
			return error_set(err, EINVAL, "Duplicate flag specified: %s", name);
		vals[k].used = true;
		switch (spec[k].type) {
		case F_BOOL: {
			if (eq && !*value)
				return error_set(err, EINVAL, "Missing a value on flag: %s", name);
			_cleanup_free_ char *lower = xstrdup(value);
			for (char *p = lower; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			if (!*lower) {
				free(vals[k].value);
				vals[k].value = xstrdup("true");
			} else if (strcmp(lower, "true") == 0 || strcmp(lower, "false") == 0) {
				free(vals[k].value);
				vals[k].value = steal_ptr(&lower);
			} else {
				return error_set(err, EINVAL,
						 "Expecting boolean value for flag %s, not: %s", name,
						 value);
			}
			break;
		}
		case F_STRING:
			if (!eq)
				return error_set(err, EINVAL, "Missing a value on flag: %s", name);
			free(vals[k].value);
			vals[k].value = xstrdup(value);
			break;
		case F_STRINGS:
			if (!eq)
				return error_set(err, EINVAL, "Missing a value on flag: %s", name);
			if (!vals[k].values)
				vals[k].values = xcalloc(1, sizeof(char *));
			strv_push(&vals[k].values, xstrdup(value));
			break;
		}
	}
	return 0;
}

#define PARSE_FLAGS(in, spec, vals, err)                                                           \
	flags_parse((in)->flags, (spec), ARRAY_SIZE(spec), (vals), (err))

static int no_flags(const struct df_instruction *in, struct scow_error **err)
{
	return flags_parse(in->flags, NULL, 0, NULL, err);
}

/* ---- durations (Go's time.ParseDuration) ---- */

int df_parse_duration(const char *orig, long long *ret, struct scow_error **err)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		{"ns", 1},
		{"us", 1e3},
		{"\xc2\xb5s", 1e3},
		{"\xce\xbcs", 1e3},
		{"ms", 1e6},
		{"s", 1e9},
		{"m", 60e9},
		{"h", 3600e9},
	};
	_cleanup_free_ char *q = expand_quote(orig);
	const char *s = orig;
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ret = 0;
		return 0;
	}
	if (!*s)
		return error_set(err, EINVAL, "time: invalid duration %s", q);
	double total = 0;
	while (*s) {
		if (!(isdigit((unsigned char)*s) || *s == '.'))
			return error_set(err, EINVAL, "time: invalid duration %s", q);
		const char *num = s;
		bool digits = false;
		while (isdigit((unsigned char)*s))
			s++, digits = true;
		if (*s == '.') {
			s++;
			while (isdigit((unsigned char)*s))
				s++, digits = true;
		}
		if (!digits)
			return error_set(err, EINVAL, "time: invalid duration %s", q);
		double v = strtod(num, NULL);
		const char *u = s;
		while (*s && *s != '.' && !isdigit((unsigned char)*s))
			s++;
		if (u == s)
			return error_set(err, EINVAL, "time: missing unit in duration %s", q);
		size_t k = 0;
		while (k < ARRAY_SIZE(units) &&
		       !(strlen(units[k].unit) == (size_t)(s - u) &&
			 memcmp(units[k].unit, u, (size_t)(s - u)) == 0))
			k++;
		if (k == ARRAY_SIZE(units)) {
			_cleanup_free_ char *uu = xstrndup(u, (size_t)(s - u));
			_cleanup_free_ char *uq = expand_quote(uu);
			return error_set(err, EINVAL, "time: unknown unit %s in duration %s", uq, q);
		}
		total += v * units[k].ns;
		if (total > 9.2e18)
			return error_set(err, EINVAL, "time: invalid duration %s", q);
	}
	*ret = (long long)(neg ? -total : total);
	return 0;
}

/* ---- RUN --mount ---- */

void df_mount_release(struct df_mount *m)
{
	free(m->from);
	free(m->source);
	free(m->target);
	free(m->id);
	free(m->env);
	memset(m, 0, sizeof(*m));
}

/* One CSV record (Go's encoding/csv with default settings). */
static int csv_fields(const char *s, char ***ret, struct scow_error **err)
{
	char **v = xcalloc(1, sizeof(char *));
	for (;;) {
		struct strbuf f = STRBUF_INIT;
		sb_append(&f, "");
		if (*s == '"') {
			s++;
			for (;;) {
				if (!*s) {
					sb_release(&f);
					strv_free(v);
					return error_set(err, EINVAL,
							 "failed to parse csv mounts: extraneous or "
							 "missing \" in quoted-field");
				}
				if (*s == '"') {
					if (s[1] == '"') {
						sb_appendc(&f, '"');
						s += 2;
						continue;
					}
					s++;
					break;
				}
				sb_appendc(&f, *s++);
			}
			if (*s && *s != ',') {
				sb_release(&f);
				strv_free(v);
				return error_set(err, EINVAL,
						 "failed to parse csv mounts: extraneous or missing \" "
						 "in quoted-field");
			}
		} else {
			while (*s && *s != ',') {
				if (*s == '"') {
					sb_release(&f);
					strv_free(v);
					return error_set(err, EINVAL,
							 "failed to parse csv mounts: bare \" in "
							 "non-quoted-field");
				}
				if (*s == '\n' || *s == '\r')
					break;
				sb_appendc(&f, *s++);
			}
		}
		strv_push(&v, sb_steal(&f));
		if (*s != ',')
			break;
		s++;
	}
	*ret = v;
	return 0;
}

static int parse_uint(const char *s, int base, unsigned *ret)
{
	if (!*s)
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (*end || errno || v > 0xffffffffULL || *s == '-' || *s == '+')
		return -1;
	*ret = (unsigned)v;
	return 0;
}

static const char *const mount_types[] = {"bind", "cache", "tmpfs", "secret", "ssh"};
static const char *const sharing_modes[] = {"shared", "private", "locked"};

static int mount_decode(char *const *fields, char escape, char *const *env, struct df_mount *m,
			struct scow_error **err)
{
	bool ro_auto = true, sharing_set = false;
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; fields[i]; i++) {
		const char *field = fields[i];
		const char *eq = strchr(field, '=');
		_cleanup_free_ char *key = eq ? xstrndup(field, (size_t)(eq - field)) : xstrdup(field);
		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		const char *tname = mount_types[m->type];
		if (!eq) {
			if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
				m->readonly = true;
				ro_auto = false;
			} else if (!strcmp(key, "readwrite") || !strcmp(key, "rw")) {
				m->readonly = false;
				ro_auto = false;
			} else if (!strcmp(key, "required")) {
				if (m->type != DF_MOUNT_SECRET && m->type != DF_MOUNT_SSH)
					return error_set(err, EINVAL,
							 "unexpected key '%s' for mount type '%s'", key,
							 tname);
				m->required = true;
			} else {
				return error_set(err, EINVAL,
						 "invalid field '%s' must be a key=value pair", field);
			}
			continue;
		}
		_cleanup_free_ char *value = NULL;
		if (strcmp(key, "from") != 0 && env) {
			if (expand_word(eq + 1, escape, env, &value, err) < 0)
				return -1;
		} else {
			value = xstrdup(eq + 1);
		}
		bool b;
		if (!strcmp(key, "type")) {
			size_t k = 0;
			while (k < ARRAY_SIZE(mount_types) && strcasecmp(value, mount_types[k]) != 0)
				k++;
			if (k == ARRAY_SIZE(mount_types))
				return error_set(err, EINVAL, "unsupported mount type \"%s\"", value);
			m->type = (enum df_mount_type)k;
		} else if (!strcmp(key, "from")) {
			free(m->from);
			m->from = steal_ptr(&value);
		} else if (!strcmp(key, "source") || !strcmp(key, "src")) {
			free(m->source);
			m->source = steal_ptr(&value);
		} else if (!strcmp(key, "target") || !strcmp(key, "dst") ||
			   !strcmp(key, "destination")) {
			free(m->target);
			m->target = steal_ptr(&value);
		} else if (!strcmp(key, "readonly") || !strcmp(key, "ro")) {
			if (df_parse_bool(value, &b) < 0)
				return error_set(err, EINVAL, "invalid value for %s: %s", key, value);
			m->readonly = b;
			ro_auto = false;
		} else if (!strcmp(key, "readwrite") || !strcmp(key, "rw")) {
			if (df_parse_bool(value, &b) < 0)
				return error_set(err, EINVAL, "invalid value for %s: %s", key, value);
			m->readonly = !b;
			ro_auto = false;
		} else if (!strcmp(key, "required")) {
			if (m->type != DF_MOUNT_SECRET && m->type != DF_MOUNT_SSH)
				return error_set(err, EINVAL, "unexpected key '%s' for mount type '%s'",
						 key, tname);
			if (df_parse_bool(value, &b) < 0)
				return error_set(err, EINVAL, "invalid value for %s: %s", key, value);
			m->required = b;
		} else if (!strcmp(key, "size")) {
			if (m->type != DF_MOUNT_TMPFS)
				return error_set(err, EINVAL, "unexpected key '%s' for mount type '%s'",
						 key, tname);
			int64_t size;
			if (!str_to_ram_bytes(value, INT64_MAX, &size))
				return error_set(err, EINVAL, "invalid value for %s: %s", key, value);
			m->size = size;
		} else if (!strcmp(key, "id")) {
			free(m->id);
			m->id = steal_ptr(&value);
		} else if (!strcmp(key, "env")) {
			free(m->env);
			m->env = steal_ptr(&value);
		} else if (!strcmp(key, "sharing")) {
			size_t k = 0;
			while (k < ARRAY_SIZE(sharing_modes) && strcasecmp(value, sharing_modes[k]) != 0)
				k++;
			if (k == ARRAY_SIZE(sharing_modes))
				return error_set(err, EINVAL, "unsupported sharing value \"%s\"", value);
			m->sharing = (enum df_mount_sharing)k;
			sharing_set = true;
		} else if (!strcmp(key, "mode")) {
			if (parse_uint(value, 8, &m->mode) < 0)
				return error_set(err, EINVAL, "invalid value %s for mode", value);
			m->has_mode = true;
		} else if (!strcmp(key, "uid")) {
			if (parse_uint(value, 10, &m->uid) < 0)
				return error_set(err, EINVAL, "invalid value %s for uid", value);
			m->has_uid = true;
		} else if (!strcmp(key, "gid")) {
			if (parse_uint(value, 10, &m->gid) < 0)
				return error_set(err, EINVAL, "invalid value %s for gid", value);
			m->has_gid = true;
		} else {
			return error_set(err, EINVAL, "unexpected key '%s' in '%s'", key, field);
		}
	}
	const char *tname = mount_types[m->type];
	bool file_info = m->type == DF_MOUNT_SECRET || m->type == DF_MOUNT_SSH ||
			 m->type == DF_MOUNT_CACHE;
	if (!file_info) {
		if (m->has_mode)
			return error_set(err, EINVAL, "mode not allowed for \"%s\" type mounts", tname);
		if (m->has_uid)
			return error_set(err, EINVAL, "uid not allowed for \"%s\" type mounts", tname);
		if (m->has_gid)
			return error_set(err, EINVAL, "gid not allowed for \"%s\" type mounts", tname);
	}
	if (ro_auto)
		m->readonly = !(m->type == DF_MOUNT_CACHE || m->type == DF_MOUNT_TMPFS);
	if (m->type == DF_MOUNT_SECRET) {
		if (m->from)
			return error_set(err, EINVAL, "secret mount should not have a from");
		if (sharing_set)
			return error_set(err, EINVAL, "secret mount should not define sharing");
		if (!m->source && !m->target && !m->id)
			return error_set(err, EINVAL,
					 "invalid secret mount. one of source, target required");
		if (m->source && m->id)
			return error_set(err, EINVAL, "both source and id can't be set");
	}
	if (sharing_set && m->type != DF_MOUNT_CACHE)
		return error_set(err, EINVAL, "invalid cache sharing set for %s mount", tname);
	return 0;
}

int df_mount_parse(const char *spec, struct df_mount *m, struct scow_error **err)
{
	_cleanup_strv_ char **fields = NULL;
	if (csv_fields(spec, &fields, err) < 0)
		return -1;
	if (mount_decode(fields, '\\', NULL, m, err) < 0) {
		df_mount_release(m);
		return -1;
	}
	return 0;
}

/* What Docker checks when parsing: the CSV, and no variables in from=. */
static int mount_check(const char *spec, struct scow_error **err)
{
	_cleanup_strv_ char **fields = NULL;
	if (csv_fields(spec, &fields, err) < 0)
		return -1;
	for (size_t i = 0; fields[i]; i++) {
		if (strncasecmp(fields[i], "from=", 5) != 0)
			continue;
		const char *d = strchr(fields[i] + 5, '$');
		if (d && d[1])
			return error_set(err, EINVAL,
					 "'from' doesn't support variable expansion, define alias "
					 "stage instead");
	}
	return 0;
}

/* ---- per instruction ---- */

static bool valid_stage_name(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_' || *s == '.'))
			return false;
	return true;
}

static int finish_from(struct df_instruction *in, struct scow_error **err)
{
	size_t n = strv_len(in->args);
	if (n == 3 && strcasecmp(in->args[1], "as") == 0) {
		char *name = xstrdup(in->args[2]);
		for (char *p = name; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!valid_stage_name(name)) {
			free(name);
			_cleanup_free_ char *q = expand_quote(in->args[2]);
			return error_set(err, EINVAL,
					 "invalid name for build stage: %s, name can't start with a "
					 "number or contain symbols",
					 q);
		}
		in->from.stage = name;
	} else if (n != 1) {
		return error_set(err, EINVAL, "FROM requires either one or three arguments");
	}
	static const struct fspec spec[] = {{"platform", F_STRING}};
	struct fval v[ARRAY_SIZE(spec)];
	if (PARSE_FLAGS(in, spec, v, err) < 0) {
		fvals_release(v, ARRAY_SIZE(v));
		return -1;
	}
	in->from.platform = steal_ptr(&v[0].value);
	in->from.image = xstrdup(in->args[0]);
	return 0;
}

static int finish_kvs(struct df_instruction *in, const char *what, struct scow_error **err)
{
	if (no_flags(in, err) < 0)
		return -1;
	if (in->nkvs == 0)
		return error_set(err, EINVAL, "%s requires at least one argument", what);
	for (size_t i = 0; i < in->nkvs; i++)
		if (!*in->kvs[i].key)
			return error_set(err, EINVAL, "%s names can not be blank", what);
	return 0;
}

static int finish_arg(struct df_instruction *in, struct scow_error **err)
{
	if (!in->args[0])
		return error_set(err, EINVAL, "ARG requires at least one argument");
	for (size_t i = 0; in->args[i]; i++) {
		const char *w = in->args[i];
		const char *eq = strchr(w, '=');
		if (eq && eq == w)
			return error_set(err, EINVAL, "ARG names can not be blank");
		in->kvs = xrealloc(in->kvs, (in->nkvs + 1) * sizeof(*in->kvs));
		in->kvs[in->nkvs].key = eq ? xstrndup(w, (size_t)(eq - w)) : xstrdup(w);
		in->kvs[in->nkvs].value = eq ? xstrdup(eq + 1) : NULL;
		in->nkvs++;
	}
	return 0;
}

static int exactly_one(struct df_instruction *in, struct scow_error **err)
{
	if (strv_len(in->args) != 1)
		return error_set(err, EINVAL, "%s requires exactly one argument",
				 df_kind_name(in->kind));
	return 0;
}

static int finish_sources(struct df_instruction *in, struct scow_error **err)
{
	size_t n = strv_len(in->args);
	const char *dest = in->args[n - 1];
	struct df_heredoc h = {0};
	int r = df_heredoc_word(dest, &h, NULL);
	df_heredoc_release(&h);
	if (r > 0)
		return error_set(err, EINVAL, "%s cannot accept a heredoc as a destination",
				 df_kind_name(in->kind));
	in->copy.dest = xstrdup(dest);
	in->copy.srcs = xcalloc(1, sizeof(char *));
	for (size_t i = 0; i + 1 < n; i++) {
		struct df_heredoc w = {0};
		if (!in->json && df_heredoc_word(in->args[i], &w, NULL) > 0) {
			const char *content = "";
			for (size_t k = 0; k < in->nheredocs; k++)
				if (strcmp(in->heredocs[k].name, w.name) == 0) {
					content = in->heredocs[k].content;
					break;
				}
			in->copy.inline_srcs = xrealloc(
				in->copy.inline_srcs, (in->copy.ninline + 1) * sizeof(*in->copy.inline_srcs));
			struct df_inline_file *f = &in->copy.inline_srcs[in->copy.ninline++];
			f->path = steal_ptr(&w.name);
			f->data = w.chomp ? df_chomp(content) : xstrdup(content);
			f->expand = w.expand;
			df_heredoc_release(&w);
		} else {
			strv_push(&in->copy.srcs, xstrdup(in->args[i]));
		}
	}
	return 0;
}

static int finish_copy(struct df_instruction *in, struct scow_error **err)
{
	bool add = in->kind == DF_ADD;
	if (strv_len(in->args) < 2)
		return error_set(err, EINVAL,
				 "%s requires at least two arguments, but only one was provided. "
				 "Destination could not be determined",
				 df_kind_name(in->kind));
	static const struct fspec add_spec[] = {
		{"chown", F_STRING},	  {"chmod", F_STRING},	  {"link", F_BOOL},
		{"keep-git-dir", F_BOOL}, {"checksum", F_STRING}, {"exclude", F_STRINGS},
		{"unpack", F_BOOL},
	};
	static const struct fspec copy_spec[] = {
		{"chown", F_STRING}, {"chmod", F_STRING}, {"link", F_BOOL},
		{"parents", F_BOOL}, {"from", F_STRING},  {"exclude", F_STRINGS},
	};
	struct fval v[7];
	int r = add ? PARSE_FLAGS(in, add_spec, v, err) : PARSE_FLAGS(in, copy_spec, v, err);
	if (r == 0) {
		in->copy.chown = steal_ptr(&v[0].value);
		in->copy.chmod = steal_ptr(&v[1].value);
		in->copy.link = strcmp(v[2].value, "true") == 0;
		in->copy.unpack = -1;
		if (add) {
			in->copy.keep_git_dir = strcmp(v[3].value, "true") == 0;
			in->copy.checksum = steal_ptr(&v[4].value);
			if (v[6].used)
				in->copy.unpack = strcmp(v[6].value, "true") == 0;
		} else {
			in->copy.parents = strcmp(v[3].value, "true") == 0;
			in->copy.from = steal_ptr(&v[4].value);
		}
		in->copy.excludes = v[5].values ? steal_ptr(&v[5].values) : xcalloc(1, sizeof(char *));
		r = finish_sources(in, err);
	}
	fvals_release(v, add ? ARRAY_SIZE(add_spec) : ARRAY_SIZE(copy_spec));
	return r;
}

static int finish_run(struct df_instruction *in, struct scow_error **err)
{
	static const struct fspec spec[] = {
		{"mount", F_STRINGS}, {"network", F_STRING}, {"security", F_STRING}};
	struct fval v[ARRAY_SIZE(spec)];
	int r = PARSE_FLAGS(in, spec, v, err);
	if (r == 0) {
		in->run.mount_specs = v[0].values ? steal_ptr(&v[0].values) : xcalloc(1, sizeof(char *));
		in->run.network = steal_ptr(&v[1].value);
		in->run.security = steal_ptr(&v[2].value);
		for (size_t i = 0; r == 0 && in->run.mount_specs[i]; i++)
			r = mount_check(in->run.mount_specs[i], err);
		if (r == 0 && in->run.network && strcmp(in->run.network, "default") != 0 &&
		    strcmp(in->run.network, "none") != 0 && strcmp(in->run.network, "host") != 0)
			r = error_set(err, EINVAL, "unsupported network mode \"%s\"", in->run.network);
		if (r == 0 && in->run.security && strcmp(in->run.security, "sandbox") != 0 &&
		    strcmp(in->run.security, "insecure") != 0)
			r = error_set(err, EINVAL, "unsupported security mode \"%s\"",
				      in->run.security);
	}
	fvals_release(v, ARRAY_SIZE(v));
	return r;
}

static int opt_interval(const char *name, const char *value, long long *ret,
			struct scow_error **err)
{
	*ret = 0;
	if (!value || !*value)
		return 0;
	if (df_parse_duration(value, ret, err) < 0)
		return -1;
	if (*ret != 0 && *ret < 1000000)
		return error_set(err, EINVAL, "Interval \"%s\" cannot be less than 1ms", name);
	return 0;
}

static int finish_health(struct df_instruction *in, struct scow_error **err)
{
	if (!in->args[0])
		return error_set(err, EINVAL, "HEALTHCHECK requires at least one argument");
	_cleanup_free_ char *typ = xstrdup(in->args[0]);
	for (char *p = typ; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	char *const *rest = in->args + 1;
	struct df_healthcheck *h = &in->health;
	if (strcmp(typ, "NONE") == 0) {
		if (rest[0])
			return error_set(err, EINVAL, "HEALTHCHECK NONE takes no arguments");
		h->test = xcalloc(2, sizeof(char *));
		h->test[0] = xstrdup("NONE");
		return 0;
	}
	static const struct fspec spec[] = {
		{"interval", F_STRING}, {"timeout", F_STRING}, {"start-period", F_STRING},
		{"start-interval", F_STRING}, {"retries", F_STRING}};
	struct fval v[ARRAY_SIZE(spec)];
	int r = PARSE_FLAGS(in, spec, v, err);
	if (r == 0 && strcmp(typ, "CMD") != 0) {
		_cleanup_free_ char *q = expand_quote(typ);
		r = error_set(err, EINVAL, "Unknown type %s in HEALTHCHECK (try CMD)", q);
	}
	if (r == 0 && !rest[0])
		r = error_set(err, EINVAL, "Missing command after HEALTHCHECK CMD");
	if (r == 0) {
		h->test = xcalloc(1, sizeof(char *));
		strv_push(&h->test, xstrdup(in->json ? "CMD" : "CMD-SHELL"));
		for (size_t i = 0; rest[i]; i++)
			strv_push(&h->test, xstrdup(rest[i]));
	}
	if (r == 0)
		r = opt_interval("interval", v[0].value, &h->interval, err);
	if (r == 0)
		r = opt_interval("timeout", v[1].value, &h->timeout, err);
	if (r == 0)
		r = opt_interval("start-period", v[2].value, &h->start_period, err);
	if (r == 0)
		r = opt_interval("start-interval", v[3].value, &h->start_interval, err);
	if (r == 0 && v[4].value && *v[4].value) {
		long long n;
		if (!str_to_ll(v[4].value, -2147483648LL, 2147483647LL, &n)) {
			_cleanup_free_ char *q = expand_quote(v[4].value);
			r = error_set(err, EINVAL, "strconv.ParseInt: parsing %s: invalid syntax", q);
		} else if (n < 0) {
			r = error_set(err, EINVAL, "--retries cannot be negative (%lld)", n);
		} else {
			h->retries = (int)n;
		}
	}
	fvals_release(v, ARRAY_SIZE(v));
	return r;
}

static char *with_heredocs(const char *line, const struct df_instruction *in)
{
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, line);
	for (size_t i = 0; i < in->nheredocs; i++) {
		sb_appendc(&sb, '\n');
		sb_append(&sb, in->heredocs[i].content);
		sb_append(&sb, in->heredocs[i].name);
	}
	return sb_steal(&sb);
}

char *df_instruction_source(const struct df_instruction *in)
{
	return with_heredocs(in->original, in);
}

/* The trigger text Docker stores: the line without its ONBUILD keyword,
 * heredoc bodies appended. */
static void onbuild_expr(struct df_instruction *in)
{
	const char *p = in->original;
	while (*p == ' ' || *p == '\t')
		p++;
	p += strlen(in->cmd);
	while (*p == ' ' || *p == '\t' || *p == '\v' || *p == '\f' || *p == '\r' || *p == '\n')
		p++;
	in->onbuild_expr = with_heredocs(p, in);
}

static int finish_onbuild(struct df_instruction *in, char escape, struct scow_error **err)
{
	if (!in->trigger)
		return error_set(err, EINVAL, "ONBUILD requires at least one argument");
	if (no_flags(in, err) < 0)
		return -1;
	const struct df_instruction *t = in->trigger;
	if (t->kind == DF_ONBUILD)
		return error_set(err, EINVAL, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	if (t->kind == DF_MAINTAINER || t->kind == DF_FROM)
		return error_set(err, EINVAL, "%s isn't allowed as an ONBUILD trigger",
				 df_kind_name(t->kind));
	/* Docker only checks the trigger in the child build; checking it now
	 * reports a broken trigger where it is written. */
	if (df_finish(in->trigger, escape, err) < 0)
		return -1;
	onbuild_expr(in);
	return 0;
}

int df_finish(struct df_instruction *in, char escape, struct scow_error **err)
{
	switch (in->kind) {
	case DF_ADD:
	case DF_COPY:
		return finish_copy(in, err);
	case DF_ARG:
		return finish_arg(in, err);
	case DF_CMD:
	case DF_ENTRYPOINT:
		return no_flags(in, err);
	case DF_ENV:
		return finish_kvs(in, "ENV", err);
	case DF_LABEL:
		return finish_kvs(in, "LABEL", err);
	case DF_EXPOSE:
		if (!in->args[0])
			return error_set(err, EINVAL, "EXPOSE requires at least one argument");
		return no_flags(in, err);
	case DF_FROM:
		return finish_from(in, err);
	case DF_HEALTHCHECK:
		return finish_health(in, err);
	case DF_MAINTAINER:
	case DF_USER:
	case DF_WORKDIR:
		if (exactly_one(in, err) < 0)
			return -1;
		return no_flags(in, err);
	case DF_STOPSIGNAL:
		return exactly_one(in, err); /* Docker reads no flags here */
	case DF_ONBUILD:
		return finish_onbuild(in, escape, err);
	case DF_RUN:
		return finish_run(in, err);
	case DF_SHELL:
		if (no_flags(in, err) < 0)
			return -1;
		if (!in->args[0])
			return error_set(err, EINVAL, "SHELL requires at least one argument");
		if (!in->json)
			return error_set(err, EINVAL,
					 "SHELL requires the arguments to be in JSON form");
		return 0;
	case DF_VOLUME:
		if (!in->args[0])
			return error_set(err, EINVAL, "VOLUME requires at least one argument");
		if (no_flags(in, err) < 0)
			return -1;
		for (size_t i = 0; in->args[i]; i++) {
			const char *s = in->args[i];
			while (isspace((unsigned char)*s))
				s++;
			if (!*s)
				return error_set(err, EINVAL,
						 "VOLUME specified can not be an empty string");
		}
		return 0;
	}
	return 0;
}

/* ---- copies ---- */

static char *dup0(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static char **strv_dup0(char *const *v)
{
	return v ? strv_copy(v) : NULL;
}

static void mount_copy(struct df_mount *d, const struct df_mount *s)
{
	*d = *s;
	d->from = dup0(s->from);
	d->source = dup0(s->source);
	d->target = dup0(s->target);
	d->id = dup0(s->id);
	d->env = dup0(s->env);
}

static void instruction_copy(struct df_instruction *d, const struct df_instruction *s)
{
	*d = *s;
	d->cmd = dup0(s->cmd);
	d->original = dup0(s->original);
	d->flags = strv_dup0(s->flags);
	d->args = strv_dup0(s->args);
	d->heredocs = s->nheredocs ? xcalloc(s->nheredocs, sizeof(*d->heredocs)) : NULL;
	for (size_t i = 0; i < s->nheredocs; i++) {
		d->heredocs[i] = s->heredocs[i];
		d->heredocs[i].name = dup0(s->heredocs[i].name);
		d->heredocs[i].content = dup0(s->heredocs[i].content);
	}
	d->kvs = s->nkvs ? xcalloc(s->nkvs, sizeof(*d->kvs)) : NULL;
	for (size_t i = 0; i < s->nkvs; i++) {
		d->kvs[i].key = dup0(s->kvs[i].key);
		d->kvs[i].value = dup0(s->kvs[i].value);
	}
	d->from.image = dup0(s->from.image);
	d->from.stage = dup0(s->from.stage);
	d->from.platform = dup0(s->from.platform);
	d->run.mount_specs = strv_dup0(s->run.mount_specs);
	d->run.mounts = s->run.nmounts ? xcalloc(s->run.nmounts, sizeof(*d->run.mounts)) : NULL;
	for (size_t i = 0; i < s->run.nmounts; i++)
		mount_copy(&d->run.mounts[i], &s->run.mounts[i]);
	d->run.network = dup0(s->run.network);
	d->run.security = dup0(s->run.security);
	d->copy.srcs = strv_dup0(s->copy.srcs);
	d->copy.inline_srcs =
		s->copy.ninline ? xcalloc(s->copy.ninline, sizeof(*d->copy.inline_srcs)) : NULL;
	for (size_t i = 0; i < s->copy.ninline; i++) {
		d->copy.inline_srcs[i] = s->copy.inline_srcs[i];
		d->copy.inline_srcs[i].path = dup0(s->copy.inline_srcs[i].path);
		d->copy.inline_srcs[i].data = dup0(s->copy.inline_srcs[i].data);
	}
	d->copy.dest = dup0(s->copy.dest);
	d->copy.from = dup0(s->copy.from);
	d->copy.chown = dup0(s->copy.chown);
	d->copy.chmod = dup0(s->copy.chmod);
	d->copy.checksum = dup0(s->copy.checksum);
	d->copy.excludes = strv_dup0(s->copy.excludes);
	d->health.test = strv_dup0(s->health.test);
	d->trigger = s->trigger ? df_instruction_dup(s->trigger) : NULL;
	d->onbuild_expr = dup0(s->onbuild_expr);
}

struct df_instruction *df_instruction_dup(const struct df_instruction *in)
{
	struct df_instruction *d = xcalloc(1, sizeof(*d));
	instruction_copy(d, in);
	return d;
}

void df_instruction_release(struct df_instruction *in)
{
	if (!in)
		return;
	free(in->cmd);
	free(in->original);
	strv_free(in->flags);
	strv_free(in->args);
	for (size_t i = 0; i < in->nheredocs; i++)
		df_heredoc_release(&in->heredocs[i]);
	free(in->heredocs);
	for (size_t i = 0; i < in->nkvs; i++) {
		free(in->kvs[i].key);
		free(in->kvs[i].value);
	}
	free(in->kvs);
	free(in->from.image);
	free(in->from.stage);
	free(in->from.platform);
	strv_free(in->run.mount_specs);
	for (size_t i = 0; i < in->run.nmounts; i++)
		df_mount_release(&in->run.mounts[i]);
	free(in->run.mounts);
	free(in->run.network);
	free(in->run.security);
	strv_free(in->copy.srcs);
	for (size_t i = 0; i < in->copy.ninline; i++) {
		free(in->copy.inline_srcs[i].path);
		free(in->copy.inline_srcs[i].data);
	}
	free(in->copy.inline_srcs);
	free(in->copy.dest);
	free(in->copy.from);
	free(in->copy.chown);
	free(in->copy.chmod);
	free(in->copy.checksum);
	strv_free(in->copy.excludes);
	strv_free(in->health.test);
	df_instruction_free(in->trigger);
	free(in->onbuild_expr);
	memset(in, 0, sizeof(*in));
}

void df_instruction_free(struct df_instruction *in)
{
	if (!in)
		return;
	df_instruction_release(in);
	free(in);
}

/* ---- expansion ---- */

static int exp_str(char **s, char escape, char *const *env, struct scow_error **err)
{
	if (!*s)
		return 0;
	char *out = NULL;
	if (expand_word(*s, escape, env, &out, err) < 0)
		return -1;
	free(*s);
	*s = out;
	return 0;
}

static int exp_strv(char **v, char escape, char *const *env, struct scow_error **err)
{
	for (size_t i = 0; v && v[i]; i++)
		if (exp_str(&v[i], escape, env, err) < 0)
			return -1;
	return 0;
}

static int expand_copy(struct df_instruction *in, char escape, char *const *env,
		       struct scow_error **err)
{
	if (exp_str(&in->copy.chown, escape, env, err) < 0 ||
	    exp_str(&in->copy.chmod, escape, env, err) < 0 ||
	    exp_str(&in->copy.checksum, escape, env, err) < 0 ||
	    exp_strv(in->copy.excludes, escape, env, err) < 0 ||
	    exp_strv(in->copy.srcs, escape, env, err) < 0 || exp_str(&in->copy.dest, escape, env, err) < 0)
		return -1;
	struct shlex lx = SHLEX_INIT(escape);
	lx.skip_process_quotes = true;
	for (size_t i = 0; i < in->copy.ninline; i++) {
		struct df_inline_file *f = &in->copy.inline_srcs[i];
		if (!f->expand)
			continue;
		char *out = NULL;
		if (shlex_word(&lx, f->data, env, &out, err) < 0)
			return -1;
		free(f->data);
		f->data = out;
	}
	return 0;
}

static int expand_mounts(struct df_instruction *in, char escape, char *const *env,
			 struct scow_error **err)
{
	static char *const none[] = {NULL};
	for (size_t i = 0; i < in->run.nmounts; i++)
		df_mount_release(&in->run.mounts[i]);
	free(in->run.mounts);
	in->run.mounts = NULL;
	in->run.nmounts = 0;
	size_t n = strv_len(in->run.mount_specs);
	if (n == 0)
		return 0;
	in->run.mounts = xcalloc(n, sizeof(*in->run.mounts));
	for (size_t i = 0; i < n; i++) {
		_cleanup_strv_ char **fields = NULL;
		if (csv_fields(in->run.mount_specs[i], &fields, err) < 0 ||
		    mount_decode(fields, escape, env ? env : none, &in->run.mounts[i], err) < 0) {
			df_mount_release(&in->run.mounts[i]);
			return -1;
		}
		in->run.nmounts++;
	}
	return 0;
}

int df_instruction_expand(struct df_instruction *in, char escape, char *const *env,
			  struct scow_error **err)
{
	switch (in->kind) {
	case DF_ENV:
	case DF_LABEL:
		for (size_t i = 0; i < in->nkvs; i++)
			if (exp_str(&in->kvs[i].key, escape, env, err) < 0 ||
			    exp_str(&in->kvs[i].value, escape, env, err) < 0)
				return -1;
		return 0;
	case DF_ARG:
		for (size_t i = 0; i < in->nkvs; i++)
			if (exp_str(&in->kvs[i].value, escape, env, err) < 0)
				return -1;
		return 0;
	case DF_ADD:
	case DF_COPY:
		return expand_copy(in, escape, env, err);
	case DF_EXPOSE: {
		char **out = xcalloc(1, sizeof(char *));
		for (size_t i = 0; in->args[i]; i++) {
			_cleanup_strv_ char **w = NULL;
			if (expand_words(in->args[i], escape, env, &w, err) < 0) {
				strv_free(out);
				return -1;
			}
			for (size_t k = 0; w[k]; k++)
				strv_push(&out, steal_ptr(&w[k]));
		}
		strv_free(in->args);
		in->args = out;
		return 0;
	}
	case DF_USER:
	case DF_WORKDIR:
	case DF_STOPSIGNAL:
		return exp_strv(in->args, escape, env, err);
	case DF_VOLUME:
		if (exp_strv(in->args, escape, env, err) < 0)
			return -1;
		for (size_t i = 0; in->args[i]; i++)
			if (!*in->args[i])
				return error_set(err, EINVAL,
						 "VOLUME specified can not be an empty string");
		return 0;
	case DF_FROM:
		if (exp_str(&in->from.image, escape, env, err) < 0 ||
		    exp_str(&in->from.platform, escape, env, err) < 0)
			return -1;
		return 0;
	case DF_RUN:
		return expand_mounts(in, escape, env, err);
	default:
		return 0;
	}
}

/* ---- RUN with heredocs ---- */

void df_run_cmd_release(struct df_run_cmd *c)
{
	strv_free(c->argv);
	free(c->inline_path);
	free(c->inline_data);
	memset(c, 0, sizeof(*c));
}

int df_run_cmd_resolve(const struct df_instruction *in, struct df_run_cmd *ret,
		       struct scow_error **err)
{
	memset(ret, 0, sizeof(*ret));
	if (in->nheredocs == 0) {
		ret->argv = strv_copy(in->args);
		ret->prepend_shell = !in->json;
		return 0;
	}
	if (in->json || strv_len(in->args) != 1)
		return error_set(err, EINVAL, "parsing produced an invalid run command");
	ret->prepend_shell = true;
	ret->argv = xcalloc(2, sizeof(char *));
	struct df_heredoc w = {0};
	int r = df_heredoc_word(in->args[0], &w, NULL);
	df_heredoc_release(&w);
	if (r > 0) {
		const struct df_heredoc *h = &in->heredocs[0];
		char *data = h->chomp ? df_chomp(h->content) : xstrdup(h->content);
		if (strncmp(data, "#!", 2) == 0) {
			ret->inline_path = xasprintf("/dev/pipes/%s", h->name);
			ret->inline_data = data;
			ret->argv[0] = xstrdup(ret->inline_path);
		} else {
			ret->argv[0] = data;
		}
		return 0;
	}
	struct strbuf sb = STRBUF_INIT;
	sb_append(&sb, in->args[0]);
	for (size_t i = 0; i < in->nheredocs; i++) {
		sb_appendc(&sb, '\n');
		sb_append(&sb, in->heredocs[i].content);
		sb_append(&sb, in->heredocs[i].name);
	}
	ret->argv[0] = sb_steal(&sb);
	return 0;
}
