/* Image manifests and indexes: Docker schema2, Docker manifest list, OCI
 * manifest, OCI index. Schema1 and bodies that claim to be both an index
 * and a manifest are refused (SECURITY.md case 21). */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "util/digest.h"
#include "util/error.h"

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_SCHEMA1 "application/vnd.docker.distribution.manifest.v1+json"
#define MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define MT_DOCKER_LAYER "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"

/* What we ask registries for. */
#define MANIFEST_ACCEPT                                                                            \
	MT_OCI_INDEX ", " MT_DOCKER_LIST ", " MT_OCI_MANIFEST ", " MT_DOCKER_MANIFEST                \
		     ", " MT_DOCKER_SCHEMA1_SIGNED ", " MT_DOCKER_SCHEMA1

#define MANIFEST_MAX_LAYERS 1024

enum manifest_kind { MANIFEST_IMAGE, MANIFEST_INDEX };

struct descriptor {
	char *media_type;
	char digest[DIGEST_STR_LEN + 1];
	int64_t size;
	/* platform (index entries only) */
	char *os, *arch, *variant;
};

struct manifest {
	enum manifest_kind kind;
	char *media_type;
	struct descriptor config;
	struct descriptor *layers;
	size_t n_layers;
	struct descriptor *manifests;
	size_t n_manifests;
};

/* content_type is the response's header (may be NULL). */
int manifest_parse(const char *body, size_t len, const char *content_type, struct manifest *ret,
		   struct scow_error **err);
void manifest_release(struct manifest *m);

struct platform {
	char os[32], arch[32], variant[32];
};

/* "os/arch[/variant]"; NULL or "" gives this host's platform. */
int platform_parse(const char *s, struct platform *ret, struct scow_error **err);
/* The Go architecture name of this host: amd64, arm64, ... */
const char *platform_host_arch(void);
/* The index entry for p, or NULL with Docker's "no matching manifest". */
const struct descriptor *manifest_select(const struct manifest *index, const struct platform *p,
					 struct scow_error **err);
