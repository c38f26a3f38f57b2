#include "image/manifest.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"
#include "util/xalloc.h"

static const char *const layer_types[] = {
	"application/vnd.docker.image.rootfs.diff.tar.gzip",
	"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	"application/vnd.oci.image.layer.v1.tar",
	"application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+zstd",
	"application/vnd.oci.image.layer.nondistributable.v1.tar",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
};

static bool is_layer_type(const char *mt)
{
	for (size_t i = 0; i < ARRAY_SIZE(layer_types); i++)
		if (strcmp(mt, layer_types[i]) == 0)
			return true;
	return false;
}

static void descriptor_release(struct descriptor *d)
{
	free(d->media_type);
	free(d->os);
	free(d->arch);
	free(d->variant);
	memset(d, 0, sizeof(*d));
}

void manifest_release(struct manifest *m)
{
	free(m->media_type);
	descriptor_release(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		descriptor_release(&m->layers[i]);
	for (size_t i = 0; i < m->n_manifests; i++)
		descriptor_release(&m->manifests[i]);
	free(m->layers);
	free(m->manifests);
	memset(m, 0, sizeof(*m));
}

static int parse_descriptor(json_t *j, const char *what, struct descriptor *d,
			    struct scow_error **err)
{
	if (!json_is_object(j))
		return error_set(err, EINVAL, "%s: not an object", what);
	const char *digest = json_get_str(j, "digest");
	if (digest_check(digest, what, err) < 0)
		return -1;
	json_t *size = json_object_get(j, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return error_set(err, EINVAL, "%s: invalid size", what);
	const char *mt = json_get_str(j, "mediaType");
	d->media_type = xstrdup(mt ? mt : "");
	snprintf(d->digest, sizeof(d->digest), "%s", digest);
	d->size = json_integer_value(size);
	json_t *p = json_get_obj(j, "platform");
	if (p) {
		const char *os = json_get_str(p, "os"), *arch = json_get_str(p, "architecture");
		const char *variant = json_get_str(p, "variant");
		d->os = xstrdup(os ? os : "");
		d->arch = xstrdup(arch ? arch : "");
		d->variant = xstrdup(variant ? variant : "");
	}
	return 0;
}

static int parse_list(json_t *arr, const char *what, struct descriptor **ret, size_t *ret_n,
		      struct scow_error **err)
{
	if (!json_is_array(arr))
		return error_set(err, EINVAL, "manifest: \"%s\" is not a list", what);
	size_t n = json_array_size(arr);
	if (n > MANIFEST_MAX_LAYERS)
		return error_set(err, EINVAL, "manifest: more than %d %s", MANIFEST_MAX_LAYERS,
				 what);
	struct descriptor *v = xcalloc(n + 1, sizeof(*v));
	*ret = v;
	for (size_t i = 0; i < n; i++) {
		char label[64];
		snprintf(label, sizeof(label), "%s[%zu]", what, i);
		*ret_n = i + 1;
		if (parse_descriptor(json_array_get(arr, i), label, &v[i], err) < 0)
			return -1;
	}
	*ret_n = n;
	return 0;
}

static bool is_index_type(const char *mt)
{
	return str_eq(mt, MT_OCI_INDEX) || str_eq(mt, MT_DOCKER_LIST);
}

static bool is_image_type(const char *mt)
{
	return str_eq(mt, MT_OCI_MANIFEST) || str_eq(mt, MT_DOCKER_MANIFEST);
}

static bool is_schema1(const char *mt)
{
	return str_eq(mt, MT_DOCKER_SCHEMA1) || str_eq(mt, MT_DOCKER_SCHEMA1_SIGNED);
}

static int parse_image(json_t *j, struct manifest *m, struct scow_error **err)
{
	m->kind = MANIFEST_IMAGE;
	if (parse_descriptor(json_object_get(j, "config"), "config", &m->config, err) < 0)
		return -1;
	if (!str_eq(m->config.media_type, MT_DOCKER_CONFIG) &&
	    !str_eq(m->config.media_type, MT_OCI_CONFIG))
		return error_set(err, ENOTSUP,
				 "not a container image: config media type \"%s\" is unsupported",
				 m->config.media_type);
	if (parse_list(json_object_get(j, "layers"), "layers", &m->layers, &m->n_layers, err) < 0)
		return -1;
	for (size_t i = 0; i < m->n_layers; i++)
		if (!is_layer_type(m->layers[i].media_type))
			return error_set(err, ENOTSUP, "layer %zu: unsupported media type \"%s\"",
					 i, m->layers[i].media_type);
	return 0;
}

int manifest_parse(const char *body, size_t len, const char *content_type, struct manifest *ret,
		   struct scow_error **err)
{
	struct manifest m = {0};
	_cleanup_json_ json_t *j = json_parse_buf(body, len, "manifest", err);
	if (!j)
		return -1;
	if (!json_is_object(j))
		return error_set(err, EINVAL, "manifest: not a JSON object");
	_cleanup_free_ char *ct = NULL;
	if (content_type) /* drop "; charset=..." */
		ct = xstrndup(content_type, strcspn(content_type, "; "));
	const char *mt = json_get_str(j, "mediaType");
	long long schema = json_get_int(j, "schemaVersion", 0);
	if (is_schema1(mt) || is_schema1(ct) || schema == 1)
		return error_set(err, ENOTSUP,
				 "unsupported manifest format: Docker schema 1 (the image is too "
				 "old; push it again with a current tool)");
	bool has_index = json_object_get(j, "manifests") != NULL;
	bool has_image = json_object_get(j, "layers") || json_object_get(j, "config");
	if (has_index && has_image)
		return error_set(err, EINVAL,
				 "manifest claims to be both an index and an image manifest");
	if (mt && ct && (is_index_type(mt) || is_image_type(mt)) &&
	    (is_index_type(ct) || is_image_type(ct)) && is_index_type(mt) != is_index_type(ct))
		return error_set(err, EINVAL, "manifest media type \"%s\" contradicts \"%s\"", mt,
				 ct);
	const char *kind = mt ? mt : ct;
	bool index = kind && (is_index_type(kind) || is_image_type(kind)) ? is_index_type(kind)
									  : has_index;
	if (index ? has_image : has_index)
		return error_set(err, EINVAL, "manifest body does not match its media type");
	if (schema != 2)
		return error_set(err, ENOTSUP, "unsupported manifest schemaVersion %lld", schema);
	m.media_type = xstrdup(kind ? kind : index ? MT_OCI_INDEX : MT_OCI_MANIFEST);
	int r;
	if (index) {
		m.kind = MANIFEST_INDEX;
		r = parse_list(json_object_get(j, "manifests"), "manifests", &m.manifests,
			       &m.n_manifests, err);
	} else {
		r = parse_image(j, &m, err);
	}
	if (r < 0) {
		manifest_release(&m);
		return -1;
	}
	*ret = m;
	return 0;
}

const char *platform_host_arch(void)
{
	static const struct {
		const char *uname, *go;
	} map[] = {
		{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"armv7l", "arm"}, {"armv6l", "arm"},
		{"i686", "386"},     {"i386", "386"},	   {"ppc64le", "ppc64le"},
		{"s390x", "s390x"},  {"riscv64", "riscv64"},
	};
	struct utsname u;
	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (strcmp(u.machine, map[i].uname) == 0)
				return map[i].go;
	return "amd64";
}

int platform_parse(const char *s, struct platform *ret, struct scow_error **err)
{
	struct platform p = {0};
	if (!s || !*s) {
		snprintf(p.os, sizeof(p.os), "linux");
		snprintf(p.arch, sizeof(p.arch), "%s", platform_host_arch());
		*ret = p;
		return 0;
	}
	_cleanup_strv_ char **parts = strv_split(s, '/');
	size_t n = strv_len(parts);
	if (n < 2 || n > 3 || !*parts[0] || !*parts[1] || strlen(s) > 90)
		return error_set(err, EINVAL,
				 "invalid platform \"%s\": expected os/arch[/variant]", s);
	snprintf(p.os, sizeof(p.os), "%s", parts[0]);
	snprintf(p.arch, sizeof(p.arch), "%s", parts[1]);
	if (n == 3)
		snprintf(p.variant, sizeof(p.variant), "%s", parts[2]);
	/* Docker's normalisation of common aliases. */
	if (strcmp(p.arch, "x86_64") == 0 || strcmp(p.arch, "x86-64") == 0)
		snprintf(p.arch, sizeof(p.arch), "amd64");
	if (strcmp(p.arch, "aarch64") == 0)
		snprintf(p.arch, sizeof(p.arch), "arm64");
	*ret = p;
	return 0;
}

static bool variant_matches(const char *arch, const char *want, const char *have)
{
	if (!*want)
		return true;
	/* arm64 images usually omit their (only) variant v8. */
	if (strcmp(arch, "arm64") == 0 && strcmp(want, "v8") == 0 && !*have)
		return true;
	return strcmp(want, have) == 0;
}

const struct descriptor *manifest_select(const struct manifest *index, const struct platform *p,
					 struct scow_error **err)
{
	for (size_t i = 0; i < index->n_manifests; i++) {
		const struct descriptor *d = &index->manifests[i];
		if (!d->os || strcmp(d->os, p->os) != 0 || strcmp(d->arch, p->arch) != 0)
			continue;
		if (!variant_matches(p->arch, p->variant, d->variant ? d->variant : ""))
			continue;
		if (!is_image_type(d->media_type) && *d->media_type)
			continue;
		return d;
	}
	error_set(err, ENOENT, "no matching manifest for %s/%s%s%s in the manifest list entries",
		  p->os, p->arch, *p->variant ? "/" : "", p->variant);
	return NULL;
}
