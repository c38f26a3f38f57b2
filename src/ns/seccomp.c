/* Seccomp: Docker's profile format parsed with jansson, filters built with
 * libseccomp. See seccomp.h for the semantics; seccomp_default.c holds
 * Docker's default profile in the same format. */
#include "ns/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <jansson.h>

#include "util/cleanup.h"
#include "util/log.h"
#include "util/xalloc.h"

/* Native architecture as Go's GOARCH names it: Docker matches the profile's
 * includes/excludes "arches" against runtime.GOARCH. */
#if defined(__x86_64__) && defined(__ILP32__)
#define NATIVE_GOARCH "amd64p32"
#elif defined(__x86_64__)
#define NATIVE_GOARCH "amd64"
#elif defined(__i386__)
#define NATIVE_GOARCH "386"
#elif defined(__aarch64__)
#define NATIVE_GOARCH "arm64"
#elif defined(__arm__)
#define NATIVE_GOARCH "arm"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_GOARCH "ppc64le"
#elif defined(__powerpc64__)
#define NATIVE_GOARCH "ppc64"
#elif defined(__powerpc__)
#define NATIVE_GOARCH "ppc"
#elif defined(__s390x__)
#define NATIVE_GOARCH "s390x"
#elif defined(__s390__)
#define NATIVE_GOARCH "s390"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_GOARCH "riscv64"
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_GOARCH "mips64le"
#elif defined(__mips64)
#define NATIVE_GOARCH "mips64"
#elif defined(__mips__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_GOARCH "mipsle"
#elif defined(__mips__)
#define NATIVE_GOARCH "mips"
#elif defined(__loongarch64)
#define NATIVE_GOARCH "loong64"
#else
#define NATIVE_GOARCH "unknown"
#endif

#define MAX_ARG_INDEX 5
#define MAX_ARCHES 8
#define ERRNO_RET_MAX 0xffff /* libseccomp keeps 16 bits of the errno/trace data */

/* includes / excludes of one rule, reduced to what can vary at install time. */
struct sc_filter {
	uint64_t caps;	       /* capabilities named in "caps" */
	bool unknown_cap;      /* "caps" names one this table does not know */
	bool has_arches;       /* "arches" given ... */
	bool native_arch;      /* ... and it names this machine's GOARCH */
	unsigned min_kernel;   /* MAJOR << 16 | MINOR, 0: no "minKernel" */
};

struct sc_syscall {
	char *name;
	int nr; /* native number, or a libseccomp pseudo number (< 0) */
};

struct sc_rule {
	struct sc_syscall *calls;
	size_t ncalls;
	uint32_t action;
	struct scmp_arg_cmp *args;
	size_t nargs;
	bool split_args; /* an argument is compared twice: one rule per comparison */
	struct sc_filter includes, excludes;
};

struct seccomp_profile {
	uint32_t default_action;
	uint32_t arches[MAX_ARCHES]; /* added to the native one */
	size_t narches;
	bool tsync, log, spec_allow; /* "flags" */
	struct sc_rule *rules;
	size_t nrules;
};

/* Capability names by number (linux/capability.h). */
static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
	"CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
	"CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
	"CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
	"CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

static const struct {
	const char *name;
	uint32_t action;
	bool has_data; /* takes errnoRet */
} actions[] = {
	{"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
	{"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
	{"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
	{"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
	{"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
	{"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
	{"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
	{"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
	{"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
	{"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
	{"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
	{"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static void rule_release(struct sc_rule *r)
{
	for (size_t i = 0; i < r->ncalls; i++)
		free(r->calls[i].name);
	free(r->calls);
	free(r->args);
}

void seccomp_profile_free(struct seccomp_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		rule_release(&p->rules[i]);
	free(p->rules);
	free(p);
}

/* ---- JSON access with error messages that name the member ------------- */

/* "ctx.key", or "key" at the top level. */
static char *path_join(const char *ctx, const char *key)
{
	return *ctx ? xasprintf("%s.%s", ctx, key) : xstrdup(key);
}

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	default:
		return "another type";
	}
}

/* *ret = obj[key] if it has the given type; NULL if missing or null (as Go's
 * decoder treats null); an error for any other type. */
static int member(const json_t *obj, const char *ctx, const char *key, json_type type,
		  json_t **ret, struct scow_error **err)
{
	json_t *v = json_object_get(obj, key);
	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (json_typeof(v) != type) {
		_cleanup_free_ char *path = path_join(ctx, key);
		return error_set(err, EINVAL, "%s: expected %s", path, type_name(type));
	}
	*ret = v;
	return 0;
}

static int member_string(const json_t *obj, const char *ctx, const char *key, const char **ret,
			 struct scow_error **err)
{
	json_t *v;
	if (member(obj, ctx, key, JSON_STRING, &v, err) < 0)
		return -1;
	*ret = v ? json_string_value(v) : NULL;
	return 0;
}

/* An unsigned integer member <= max; *ret keeps its value when missing. */
static int member_uint(const json_t *obj, const char *ctx, const char *key, uint64_t max,
		       uint64_t *ret, struct scow_error **err)
{
	json_t *v;
	if (member(obj, ctx, key, JSON_INTEGER, &v, err) < 0)
		return -1;
	if (!v)
		return 0;
	json_int_t n = json_integer_value(v);
	if (n < 0 || (uint64_t)n > max) {
		_cleanup_free_ char *path = path_join(ctx, key);
		return error_set(err, EINVAL, "%s: %lld is out of range (0 to %llu)", path,
				 (long long)n, (unsigned long long)max);
	}
	*ret = (uint64_t)n;
	return 0;
}

/* The i-th element of the array member path, which must be a string. */
static int array_string(const json_t *arr, const char *path, size_t i, const char **ret,
			struct scow_error **err)
{
	json_t *v = json_array_get(arr, i);
	if (!json_is_string(v))
		return error_set(err, EINVAL, "%s[%zu]: expected a string", path, i);
	*ret = json_string_value(v);
	return 0;
}

/* ---- architectures ------------------------------------------------------ */

/* "SCMP_ARCH_X86_64" -> SCMP_ARCH_X86_64's token; 0 if libseccomp does not
 * know it. */
static uint32_t arch_token(const char *name)
{
	if (strncmp(name, "SCMP_ARCH_", 10) != 0)
		return 0;
	char lower[32];
	size_t n = strlen(name + 10);
	if (n == 0 || n >= sizeof(lower))
		return 0;
	for (size_t i = 0; i <= n; i++) {
		char c = name[10 + i];
		lower[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	return seccomp_arch_resolve_name(lower);
}

static int arch_add(struct seccomp_profile *p, const char *path, size_t i, const char *name,
		    struct scow_error **err)
{
	uint32_t token = arch_token(name);
	if (token == 0)
		return error_set(err, EINVAL, "%s[%zu]: unknown architecture \"%s\"", path, i, name);
	if (token == seccomp_arch_native())
		return 0;
	for (size_t k = 0; k < p->narches; k++)
		if (p->arches[k] == token)
			return 0;
	if (p->narches == MAX_ARCHES)
		return error_set(err, EINVAL, "%s: too many architectures", path);
	p->arches[p->narches++] = token;
	return 0;
}

static int parse_arch_list(struct seccomp_profile *p, const json_t *arr, const char *path,
			   bool add, struct scow_error **err)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *name = NULL;
		if (array_string(arr, path, i, &name, err) < 0)
			return -1;
		if (add && arch_add(p, path, i, name, err) < 0)
			return -1;
	}
	return 0;
}

/* archMap: the entry for the native architecture brings in its
 * subArchitectures; the other entries are only checked for their types. */
static int parse_arch_map(struct seccomp_profile *p, const json_t *map, struct scow_error **err)
{
	for (size_t i = 0; i < json_array_size(map); i++) {
		_cleanup_free_ char *ctx = xasprintf("archMap[%zu]", i);
		json_t *entry = json_array_get(map, i), *subs;
		const char *arch;
		if (!json_is_object(entry))
			return error_set(err, EINVAL, "%s: expected an object", ctx);
		if (member_string(entry, ctx, "architecture", &arch, err) < 0 ||
		    member(entry, ctx, "subArchitectures", JSON_ARRAY, &subs, err) < 0)
			return -1;
		if (!arch)
			return error_set(err, EINVAL, "%s.architecture: missing", ctx);
		bool native = arch_token(arch) == seccomp_arch_native();
		_cleanup_free_ char *path = path_join(ctx, "subArchitectures");
		if (parse_arch_list(p, subs, path, native, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_arches(struct seccomp_profile *p, const json_t *root, struct scow_error **err)
{
	json_t *list, *map;
	if (member(root, "", "architectures", JSON_ARRAY, &list, err) < 0 ||
	    member(root, "", "archMap", JSON_ARRAY, &map, err) < 0)
		return -1;
	if (json_array_size(list) > 0 && json_array_size(map) > 0)
		return error_set(err, EINVAL, "both architectures and archMap given: use one");
	if (parse_arch_list(p, list, "architectures", true, err) < 0)
		return -1;
	return parse_arch_map(p, map, err);
}

static int parse_flags(struct seccomp_profile *p, const json_t *root, struct scow_error **err)
{
	json_t *flags;
	const char *listener;
	if (member(root, "", "flags", JSON_ARRAY, &flags, err) < 0 ||
	    member_string(root, "", "listenerPath", &listener, err) < 0)
		return -1;
	if (listener && *listener)
		return error_set(err, ENOTSUP, "listenerPath: seccomp agents are not supported");
	for (size_t i = 0; i < json_array_size(flags); i++) {
		const char *f = NULL;
		if (array_string(flags, "flags", i, &f, err) < 0)
			return -1;
		if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
			p->tsync = true;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
			p->log = true;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			p->spec_allow = true;
		else if (strcmp(f, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") == 0)
			return error_set(err, ENOTSUP, "flags[%zu]: %s is not supported", i, f);
		else
			return error_set(err, EINVAL, "flags[%zu]: unknown flag \"%s\"", i, f);
	}
	return 0;
}

/* ---- one syscalls[] entry ---------------------------------------------- */

/* defaultAction + defaultErrnoRet, or action + errnoRet. */
static int parse_action(const json_t *obj, const char *ctx, const char *akey, const char *ekey,
			uint32_t *ret, struct scow_error **err)
{
	const char *name = NULL;
	uint64_t data = EPERM;
	if (member_string(obj, ctx, akey, &name, err) < 0 ||
	    member_uint(obj, ctx, ekey, ERRNO_RET_MAX, &data, err) < 0)
		return -1;
	_cleanup_free_ char *path = path_join(ctx, akey);
	if (!name)
		return error_set(err, EINVAL, "%s: missing", path);
	if (strcmp(name, "SCMP_ACT_NOTIFY") == 0)
		return error_set(err, ENOTSUP, "%s: SCMP_ACT_NOTIFY is not supported", path);
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (strcmp(actions[i].name, name) != 0)
			continue;
		*ret = actions[i].action | (actions[i].has_data ? (uint32_t)data : 0);
		return 0;
	}
	return error_set(err, EINVAL, "%s: unknown action \"%s\"", path, name);
}

static int parse_names(struct sc_rule *r, const json_t *obj, const char *ctx,
		       struct scow_error **err)
{
	const char *single;
	json_t *names;
	if (member_string(obj, ctx, "name", &single, err) < 0 ||
	    member(obj, ctx, "names", JSON_ARRAY, &names, err) < 0)
		return -1;
	if (single && *single && json_array_size(names) > 0)
		return error_set(err, EINVAL, "%s: both name and names given: use one", ctx);
	size_t n = single && *single ? 1 : json_array_size(names);
	_cleanup_free_ char *path = path_join(ctx, "names");
	r->calls = xcalloc(n ? n : 1, sizeof(*r->calls));
	for (size_t i = 0; i < n; i++) {
		const char *name = single && *single ? single : NULL;
		if (!name && array_string(names, path, i, &name, err) < 0)
			return -1;
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR) {
			log_debug("seccomp: skipping %s, unknown to libseccomp", name);
			continue;
		}
		r->calls[r->ncalls].name = xstrdup(name);
		r->calls[r->ncalls++].nr = nr;
	}
	return 0;
}

static int parse_arg(struct scmp_arg_cmp *c, const json_t *obj, const char *ctx,
		     struct scow_error **err)
{
	uint64_t index = UINT64_MAX, value = 0, value_two = 0;
	const char *op;
	if (!json_is_object(obj))
		return error_set(err, EINVAL, "%s: expected an object", ctx);
	if (member_uint(obj, ctx, "index", MAX_ARG_INDEX, &index, err) < 0 ||
	    member_uint(obj, ctx, "value", UINT64_MAX, &value, err) < 0 ||
	    member_uint(obj, ctx, "valueTwo", UINT64_MAX, &value_two, err) < 0 ||
	    member_string(obj, ctx, "op", &op, err) < 0)
		return -1;
	if (index == UINT64_MAX)
		return error_set(err, EINVAL, "%s.index: missing", ctx);
	if (!op)
		return error_set(err, EINVAL, "%s.op: missing", ctx);
	for (size_t i = 0; i < ARRAY_SIZE(operators); i++) {
		if (strcmp(operators[i].name, op) != 0)
			continue;
		/* MASKED_EQ: (arg & value) == valueTwo; libseccomp takes (mask, datum). */
		*c = (struct scmp_arg_cmp){.arg = (unsigned)index, .op = operators[i].op,
					   .datum_a = value, .datum_b = value_two};
		return 0;
	}
	return error_set(err, EINVAL, "%s.op: unknown operator \"%s\"", ctx, op);
}

static int parse_args(struct sc_rule *r, const json_t *obj, const char *ctx,
		      struct scow_error **err)
{
	json_t *args;
	if (member(obj, ctx, "args", JSON_ARRAY, &args, err) < 0)
		return -1;
	size_t n = json_array_size(args);
	unsigned seen = 0;
	r->args = xcalloc(n ? n : 1, sizeof(*r->args));
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *actx = xasprintf("%s.args[%zu]", ctx, i);
		if (parse_arg(&r->args[i], json_array_get(args, i), actx, err) < 0)
			return -1;
		r->nargs++;
		if (seen & (1u << r->args[i].arg))
			r->split_args = true;
		seen |= 1u << r->args[i].arg;
	}
	return 0;
}

/* "MAJOR.MINOR" (anything after a further '.' or '-' is ignored). */
static bool parse_kernel_version(const char *s, unsigned *ret)
{
	char *end;
	errno = 0;
	unsigned long major = strtoul(s, &end, 10);
	if (end == s || *end != '.' || errno || major > 0xffff || *s < '0' || *s > '9')
		return false;
	const char *m = end + 1;
	unsigned long minor = strtoul(m, &end, 10);
	if (end == m || errno || minor > 0xffff || *m < '0' || *m > '9')
		return false;
	if (*end && *end != '.' && *end != '-')
		return false;
	*ret = (unsigned)(major << 16 | minor);
	return *ret != 0;
}

static void filter_add_cap(struct sc_filter *f, const char *name)
{
	for (size_t c = 0; c < ARRAY_SIZE(cap_names); c++) {
		if (strcmp(cap_names[c], name) == 0) {
			f->caps |= UINT64_C(1) << c;
			return;
		}
	}
	/* Docker compares names with the container's capability list: a name
	 * it does not know is simply never held. */
	f->unknown_cap = true;
}

static int parse_filter(struct sc_filter *f, const json_t *obj, const char *ctx, const char *key,
			struct scow_error **err)
{
	json_t *filter, *caps, *arches;
	const char *min_kernel;
	if (member(obj, ctx, key, JSON_OBJECT, &filter, err) < 0)
		return -1;
	if (!filter)
		return 0;
	_cleanup_free_ char *fctx = path_join(ctx, key);
	_cleanup_free_ char *cpath = path_join(fctx, "caps");
	_cleanup_free_ char *apath = path_join(fctx, "arches");
	if (member(filter, fctx, "caps", JSON_ARRAY, &caps, err) < 0 ||
	    member(filter, fctx, "arches", JSON_ARRAY, &arches, err) < 0 ||
	    member_string(filter, fctx, "minKernel", &min_kernel, err) < 0)
		return -1;
	for (size_t i = 0; i < json_array_size(caps); i++) {
		const char *name = NULL;
		if (array_string(caps, cpath, i, &name, err) < 0)
			return -1;
		filter_add_cap(f, name);
	}
	f->has_arches = json_array_size(arches) > 0;
	for (size_t i = 0; i < json_array_size(arches); i++) {
		const char *name = NULL;
		if (array_string(arches, apath, i, &name, err) < 0)
			return -1;
		if (strcmp(name, NATIVE_GOARCH) == 0)
			f->native_arch = true;
	}
	if (min_kernel && *min_kernel && !parse_kernel_version(min_kernel, &f->min_kernel))
		return error_set(err, EINVAL, "%s.minKernel: invalid kernel version \"%s\"", fctx,
				 min_kernel);
	return 0;
}

static int parse_syscall(struct sc_rule *r, const json_t *obj, const char *ctx,
			 struct scow_error **err)
{
	const char *comment;
	if (!json_is_object(obj))
		return error_set(err, EINVAL, "%s: expected an object", ctx);
	if (member_string(obj, ctx, "comment", &comment, err) < 0 ||
	    parse_names(r, obj, ctx, err) < 0 ||
	    parse_action(obj, ctx, "action", "errnoRet", &r->action, err) < 0 ||
	    parse_args(r, obj, ctx, err) < 0 ||
	    parse_filter(&r->includes, obj, ctx, "includes", err) < 0 ||
	    parse_filter(&r->excludes, obj, ctx, "excludes", err) < 0)
		return -1;
	return 0;
}

static int parse_syscalls(struct seccomp_profile *p, const json_t *root, struct scow_error **err)
{
	json_t *calls;
	if (member(root, "", "syscalls", JSON_ARRAY, &calls, err) < 0)
		return -1;
	size_t n = json_array_size(calls);
	p->rules = xcalloc(n ? n : 1, sizeof(*p->rules));
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *ctx = xasprintf("syscalls[%zu]", i);
		/* Counted first so that seccomp_profile_free() releases a
		 * half-parsed rule. */
		p->nrules++;
		if (parse_syscall(&p->rules[i], json_array_get(calls, i), ctx, err) < 0)
			return -1;
	}
	return 0;
}

int seccomp_profile_parse(const char *json, size_t len, struct seccomp_profile **ret,
			  struct scow_error **err)
{
	if (len > SECCOMP_PROFILE_MAX_SIZE)
		return error_set(err, EFBIG, "larger than %u bytes", SECCOMP_PROFILE_MAX_SIZE);
	json_error_t jerr;
	_cleanup_json_ json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return error_set(err, EINVAL, "invalid JSON at line %d, column %d: %s", jerr.line,
				 jerr.column, jerr.text);
	if (!json_is_object(root))
		return error_set(err, EINVAL, "expected a JSON object");
	_cleanup_seccomp_profile_ struct seccomp_profile *p = xcalloc(1, sizeof(*p));
	if (parse_action(root, "", "defaultAction", "defaultErrnoRet", &p->default_action, err) <
		    0 ||
	    parse_arches(p, root, err) < 0 || parse_flags(p, root, err) < 0 ||
	    parse_syscalls(p, root, err) < 0)
		return -1;
	*ret = steal_ptr(&p);
	return 0;
}

/* ---- reading a profile file -------------------------------------------- */

static int too_big(struct scow_error **err)
{
	return error_set(err, EFBIG, "larger than %u bytes", SECCOMP_PROFILE_MAX_SIZE);
}

/* Follows symlinks (the user named the file), refuses what is not a
 * regular file or is larger than SECCOMP_PROFILE_MAX_SIZE. */
static int read_profile(const char *path, char **ret, size_t *ret_len, struct scow_error **err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return error_errno(err, "open");
	struct stat st;
	if (fstat(fd, &st) < 0)
		return error_errno(err, "stat");
	if (!S_ISREG(st.st_mode))
		return error_set(err, EINVAL, "not a regular file");
	if (st.st_size > (off_t)SECCOMP_PROFILE_MAX_SIZE)
		return too_big(err);
	size_t cap = (size_t)st.st_size + 1, len = 0;
	_cleanup_free_ char *buf = xmalloc(cap);
	for (;;) {
		if (len == cap) { /* the file grew since fstat */
			if (cap > SECCOMP_PROFILE_MAX_SIZE)
				return too_big(err);
			cap = cap * 2 > SECCOMP_PROFILE_MAX_SIZE + 1 ? SECCOMP_PROFILE_MAX_SIZE + 1
								      : cap * 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_errno(err, "read");
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > SECCOMP_PROFILE_MAX_SIZE)
		return too_big(err);
	*ret = steal_ptr(&buf);
	*ret_len = len;
	return 0;
}

int seccomp_profile_load(const char *path_or_null, struct seccomp_profile **ret,
			 struct scow_error **err)
{
	if (!path_or_null) {
		if (seccomp_profile_parse(seccomp_default_profile_json,
					  seccomp_default_profile_json_len, ret, err) < 0)
			return error_wrap(err, "default seccomp profile");
		return 0;
	}
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	if (read_profile(path_or_null, &buf, &len, err) < 0 ||
	    seccomp_profile_parse(buf, len, ret, err) < 0)
		return error_wrap(err, "seccomp profile %s", path_or_null);
	return 0;
}

/* ---- building the filter ----------------------------------------------- */

/* The running kernel as MAJOR << 16 | MINOR; 0 if uname fails. */
static unsigned running_kernel(void)
{
	struct utsname u;
	unsigned v = 0;
	if (uname(&u) < 0 || !parse_kernel_version(u.release, &v))
		return 0;
	return v;
}

static bool rule_applies(const struct sc_rule *r, uint64_t caps, unsigned kernel)
{
	const struct sc_filter *in = &r->includes, *ex = &r->excludes;
	if (in->unknown_cap || (caps & in->caps) != in->caps)
		return false;
	if (in->has_arches && !in->native_arch)
		return false;
	if (in->min_kernel && kernel < in->min_kernel)
		return false;
	if (caps & ex->caps)
		return false;
	if (ex->has_arches && ex->native_arch)
		return false;
	if (ex->min_kernel && kernel >= ex->min_kernel)
		return false;
	return true;
}

/* Whether rule r goes into the filter: libseccomp refuses rules whose
 * action is the default one, and they would change nothing anyway. */
static bool rule_used(const struct seccomp_profile *p, const struct sc_rule *r, uint64_t caps,
		      unsigned kernel)
{
	return r->action != p->default_action && rule_applies(r, caps, kernel);
}

static int rule_add(scmp_filter_ctx ctx, const struct sc_rule *r, const struct sc_syscall *s,
		    struct scow_error **err)
{
	int rc = 0;
	if (!r->split_args) {
		rc = seccomp_rule_add_array(ctx, r->action, s->nr, (unsigned)r->nargs, r->args);
	} else {
		/* libseccomp cannot AND two comparisons of one argument: as
		 * Docker (runc) does, each comparison becomes its own rule. */
		for (size_t i = 0; i < r->nargs && rc == 0; i++)
			rc = seccomp_rule_add_array(ctx, r->action, s->nr, 1, &r->args[i]);
	}
	if (rc < 0)
		return error_set(err, -rc, "seccomp: add rule for %s: %s", s->name, strerror(-rc));
	return 0;
}

static int filter_set_attr(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value,
			   const char *what, struct scow_error **err)
{
	int rc = seccomp_attr_set(ctx, attr, value);
	if (rc < 0)
		return error_set(err, -rc, "seccomp: set %s: %s", what, strerror(-rc));
	return 0;
}

static int filter_setup(scmp_filter_ctx ctx, const struct seccomp_profile *p,
			struct scow_error **err)
{
	/* scow sets no_new_privs itself when asked to. */
	if (filter_set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "no_new_privs", err) < 0)
		return -1;
	if (p->tsync && filter_set_attr(ctx, SCMP_FLTATR_CTL_TSYNC, 1, "TSYNC", err) < 0)
		return -1;
	if (p->log && filter_set_attr(ctx, SCMP_FLTATR_CTL_LOG, 1, "LOG", err) < 0)
		return -1;
	if (p->spec_allow && filter_set_attr(ctx, SCMP_FLTATR_CTL_SSB, 1, "SPEC_ALLOW", err) < 0)
		return -1;
	/* Nice to have: a binary search over ~370 syscalls instead of a
	 * linear list, and the kernel's own error codes from seccomp_load. */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	for (size_t i = 0; i < p->narches; i++) {
		int rc = seccomp_arch_add(ctx, p->arches[i]);
		if (rc < 0 && rc != -EEXIST)
			return error_set(err, -rc, "seccomp: add architecture %#x: %s", p->arches[i],
					 strerror(-rc));
	}
	return 0;
}

static void filter_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

static int filter_build(const struct seccomp_profile *p, uint64_t caps, scmp_filter_ctx *ret,
			struct scow_error **err)
{
	__attribute__((cleanup(filter_releasep))) scmp_filter_ctx ctx =
		seccomp_init(p->default_action);
	if (!ctx)
		return error_set(err, EINVAL, "seccomp: cannot create a filter with action %#x",
				 p->default_action);
	if (filter_setup(ctx, p, err) < 0)
		return -1;
	unsigned kernel = running_kernel();
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sc_rule *r = &p->rules[i];
		if (!rule_used(p, r, caps, kernel))
			continue;
		for (size_t k = 0; k < r->ncalls; k++)
			if (rule_add(ctx, r, &r->calls[k], err) < 0)
				return -1;
	}
	*ret = steal_ptr(&ctx);
	return 0;
}

int seccomp_profile_install(const struct seccomp_profile *p, uint64_t cap_mask,
			    struct scow_error **err)
{
	__attribute__((cleanup(filter_releasep))) scmp_filter_ctx ctx = NULL;
	if (filter_build(p, cap_mask, &ctx, err) < 0)
		return -1;
	int rc = seccomp_load(ctx);
	if (rc == -EACCES)
		return error_set(err, EACCES,
				 "seccomp: load filter: %s (set no_new_privs or keep CAP_SYS_ADMIN)",
				 strerror(EACCES));
	if (rc < 0)
		return error_set(err, -rc, "seccomp: load filter: %s", strerror(-rc));
	return 0;
}

int seccomp_profile_export_bpf(const struct seccomp_profile *p, uint64_t cap_mask, int fd,
			       struct scow_error **err)
{
	__attribute__((cleanup(filter_releasep))) scmp_filter_ctx ctx = NULL;
	if (filter_build(p, cap_mask, &ctx, err) < 0)
		return -1;
	int rc = seccomp_export_bpf(ctx, fd);
	if (rc < 0)
		return error_set(err, -rc, "seccomp: export filter: %s", strerror(-rc));
	return 0;
}

/* ---- counting, for inspect --------------------------------------------- */

size_t seccomp_profile_count_rules(const struct seccomp_profile *p, uint64_t cap_mask)
{
	unsigned kernel = running_kernel();
	size_t n = 0;
	for (size_t i = 0; i < p->nrules; i++)
		if (rule_used(p, &p->rules[i], cap_mask, kernel))
			n += p->rules[i].ncalls;
	return n;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

size_t seccomp_profile_count_allowed(const struct seccomp_profile *p, uint64_t cap_mask)
{
	unsigned kernel = running_kernel();
	size_t n = 0, cap = 0;
	_cleanup_free_ int *nrs = NULL;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct sc_rule *r = &p->rules[i];
		if (r->action != SCMP_ACT_ALLOW || !rule_used(p, r, cap_mask, kernel))
			continue;
		for (size_t k = 0; k < r->ncalls; k++) {
			if (r->calls[k].nr < 0) /* not a syscall of the native arch */
				continue;
			xgrow((void **)&nrs, &cap, n + 1, sizeof(*nrs));
			nrs[n++] = r->calls[k].nr;
		}
	}
	if (n == 0)
		return 0;
	qsort(nrs, n, sizeof(*nrs), cmp_int);
	size_t distinct = 1;
	for (size_t i = 1; i < n; i++)
		distinct += nrs[i] != nrs[i - 1];
	return distinct;
}
