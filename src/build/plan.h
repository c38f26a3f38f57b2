/* Build plan: from a parsed Dockerfile and the build options to the
 * stages to build, in order, and for each stage the steps with their
 * arguments expanded. Pure: no I/O; the executor pulls base images, runs
 * containers and copies files.
 *
 * Phase 1, build_plan_new(): global ARGs (before the first FROM) resolved
 * with --build-arg overrides and the predefined platform ARGs; every FROM
 * expanded with them; stages resolved by name or index; the stages the
 * target needs (FROM <stage>, COPY --from=<stage|index>, RUN
 * --mount=from=<stage>) in an order that builds dependencies first.
 *
 * Phase 2, build_stage_steps(): once the executor knows the config of the
 * image a stage starts from (a pulled image or an earlier stage's result),
 * the stage's steps: the base image's ONBUILD triggers first, then the
 * stage's instructions, each expanded with the ENV/ARG environment in
 * effect at that point.
 *
 * Variables (Docker's rules): ARGs before the first FROM are visible only
 * in FROM lines unless a stage declares them again (`ARG NAME` takes the
 * global value); --build-arg overrides ARG defaults; ENV (including the
 * base image's) wins over an ARG of the same name whatever their order (the
 * reference's rule and the classic builder's; BuildKit lets an ARG declared
 * after the ENV win inside RUN); the predefined proxy
 * ARGs (HTTP_PROXY, http_proxy, HTTPS_PROXY, https_proxy, FTP_PROXY,
 * ftp_proxy, NO_PROXY, no_proxy, ALL_PROXY, all_proxy) given with
 * --build-arg reach RUN without a declaration; BUILDPLATFORM, BUILDOS,
 * BUILDARCH, BUILDVARIANT, TARGETPLATFORM, TARGETOS, TARGETARCH,
 * TARGETVARIANT are global ARGs set from the platform. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "build/dockerfile.h"
#include "util/error.h"

struct build_platform {
	const char *os;	     /* "linux" */
	const char *arch;    /* "amd64", "arm64" */
	const char *variant; /* "v8" or NULL */
};

struct build_plan_opts {
	/* --build-arg values, "KEY=VALUE". A bare "KEY" (the docker CLI
	 * found no such variable in its environment) sets nothing but
	 * still counts for the unused-argument warning. */
	char *const *build_args;
	const char *target;		/* --target stage name; NULL: the last stage */
	struct build_platform platform; /* NULL fields: linux / amd64 */
};

struct build_stage {
	size_t index;
	char *name;			   /* AS name (lower case) or NULL */
	const struct df_instruction *from; /* the FROM line (in the df_file) */
	char *base;			   /* FROM's image expanded with the global ARGs */
	int base_stage;			   /* the stage it builds on, -1 for an image */
	bool scratch;			   /* FROM scratch */
	char *platform;			   /* FROM --platform, expanded; NULL if not given */
	const struct df_instruction **ins; /* its instructions after FROM, in order */
	size_t nins;
	size_t *deps; /* stages it reads, ascending, no duplicates */
	size_t ndeps;
	bool needed; /* built for this target */
};

struct build_plan {
	const struct df_file *df; /* borrowed: must outlive the plan */
	char escape;
	struct build_stage *stages;
	size_t nstages;
	const struct df_instruction **meta; /* the ARG lines before the first FROM */
	size_t nmeta;
	char **global_env; /* resolved global ARGs "K=V" (platform ARGs included) */
	size_t target;	   /* the target stage */
	size_t *order;	   /* needed stages, each after the stages it reads */
	size_t norder;
	char **build_args; /* the options' values, "K=V" (bare KEYs left out) */
	char **given;	   /* every --build-arg name given */
	char **consumed;   /* ARG names declared where they count */
	char **platform_env; /* BUILDPLATFORM=... etc. */
};

int build_plan_new(const struct df_file *df, const struct build_plan_opts *o,
		   struct build_plan **ret, struct scow_error **err);
void build_plan_free(struct build_plan *p);
static inline void build_plan_freep(struct build_plan **p)
{
	build_plan_free(*p);
}
#define _cleanup_build_plan_ __attribute__((cleanup(build_plan_freep)))

/* M of "Step N/M": the global ARG lines plus, for every needed stage, its
 * FROM and its instructions (ONBUILD triggers run under their FROM step). */
size_t build_plan_step_count(const struct build_plan *p);

/* The stage a --from value or FROM name refers to, looked up by name
 * (case-insensitive) or, for all digits, by index; -1 when it names no
 * stage (an image then). Only stages before `before` count for indexes. */
int build_plan_stage_ref(const struct build_plan *p, const char *ref, size_t before);

/* --build-arg names that no ARG consumed (proxy and platform ARGs never
 * count), sorted; and Docker's warning line for them (NULL if none):
 * "[Warning] One or more build-args [A B] were not consumed". Call after
 * the stages' steps were produced: ARGs of ONBUILD triggers count too. */
char **build_plan_unused_args(const struct build_plan *p);
char *build_plan_unused_warning(const struct build_plan *p);

/* The config of the image a stage starts from. */
struct build_base {
	char *const *env;     /* Config.Env, "K=V" */
	char *const *onbuild; /* Config.OnBuild triggers (spliced first) */
	const char *workdir;  /* Config.WorkingDir ("" or NULL: none) */
};

struct build_step {
	/* The instruction with its arguments expanded as Docker does for its
	 * kind (see df_instruction_expand); ARG: kvs hold the resolved values
	 * (NULL when the ARG stays unset); COPY --from expanded with the
	 * global ARGs; EXPOSE: args are "PORT/PROTO" keys (see
	 * build_expose_normalize). ins->line is the Dockerfile line (for
	 * triggers: the line within the trigger text, 1). */
	struct df_instruction *ins;
	bool trigger;	     /* spliced from the base image's ONBUILD */
	char **env;	     /* what the step sees: config env + ARGs (ENV wins) */
	char **config_env;   /* the image's Config.Env after the step */
	char **run_args;     /* ARG values visible to RUN, not overridden by ENV,
				sorted "K=V" (Docker's "|N K=V ..." RUN prefix in
				history and cache keys); proxy values given with
				--build-arg are included: Docker keeps undeclared
				ones out of the history text only */
	char *workdir;	     /* WORKDIR after the step, absolute; "" if never set */
	int from_stage;	     /* COPY --from: the stage, -1 for an image or the context */
	int *mount_stages;   /* RUN: per ins->run.mounts[i], the from= stage or -1 */
	struct df_run_cmd run; /* RUN: the command, heredocs resolved */
};

/* Steps for stage `stage` given its base's config (base may be NULL for
 * scratch). Also records the ARGs consumed for the unused warning. */
int build_stage_steps(struct build_plan *p, size_t stage, const struct build_base *base,
		      struct build_step **ret, size_t *ret_n, struct scow_error **err);
void build_steps_free(struct build_step *steps, size_t n);

/* EXPOSE arguments (expanded) to "PORT/PROTO" keys: /tcp by default,
 * ranges expanded, an ip:host: prefix dropped, duplicates removed. Errors:
 * "invalid proto: x", "invalid containerPort: x". build_stage_steps()
 * applies it to EXPOSE steps' args. */
int build_expose_normalize(char *const *ports, char ***ret, struct scow_error **err);
/* STOPSIGNAL check (after expansion): "invalid signal: X". The value is
 * kept as written ("SIGKILL", "9"), as Docker stores it. */
int build_signal_check(const char *raw, struct scow_error **err);

/* Docker's WORKDIR rule: relative paths join the current one; cleaned. */
char *build_workdir_join(const char *current, const char *requested);
