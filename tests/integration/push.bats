#!/usr/bin/env bats
# push against real docker-registries on 127.0.0.1, with skopeo and podman
# on the other side (isolated: see peers.bash).

load helpers
load peers

setup_file() {
	setup_peers "$BATS_FILE_TMPDIR/peers"
	# the source: the fixture images, pushed by skopeo
	local kind
	for kind in plain basic token; do
		mkdir -p "$BATS_FILE_TMPDIR/reg-$kind"
		"$FIXTURES/registry.sh" start "$kind" "$BATS_FILE_TMPDIR/reg-$kind" >/dev/null
	done
	peers_push_fixtures "$BATS_FILE_TMPDIR/reg-plain" --only busybox,layers >/dev/null
	# an empty destination
	mkdir -p "$BATS_FILE_TMPDIR/reg-dst"
	"$FIXTURES/registry.sh" start plain "$BATS_FILE_TMPDIR/reg-dst" >/dev/null
	SRC=$(. "$BATS_FILE_TMPDIR/reg-plain/env" && echo "$REGISTRY")
	DST=$(. "$BATS_FILE_TMPDIR/reg-dst/env" && echo "$REGISTRY")
	export SRC DST
}

teardown_file() {
	local kind
	for kind in plain basic token dst; do
		"$FIXTURES/registry.sh" stop "$BATS_FILE_TMPDIR/reg-$kind" >/dev/null 2>&1 || true
	done
	teardown_peers
}

setup() {
	setup_scow
}

teardown() {
	teardown_scow
}

use_registry() {
	# shellcheck disable=SC1090
	. "$BATS_FILE_TMPDIR/reg-$1/env"
}

# the diff_ids of a registry image's config, one per line
remote_diff_ids() {
	skopeo_ inspect --tls-verify=false --config "docker://$1" | python3 -c '
import json, sys
print("\n".join(json.load(sys.stdin)["rootfs"]["diff_ids"]))'
}

local_diff_ids() {
	scow image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' "$1" | sed '/^$/d'
}

remote_digest() {
	skopeo_ inspect --tls-verify=false --format '{{.Digest}}' "docker://$1"
}

@test "tag + push to 127.0.0.1:PORT: Docker's output, the registry has the image with its diff_ids" {
	run scow pull -q "$SRC/busybox:latest"
	assert_success
	run scow tag "$SRC/busybox:latest" "$DST/mybox:1"
	assert_success
	run scow push "$DST/mybox:1"
	assert_success
	assert_equal "${lines[0]}" "The push refers to repository [$DST/mybox]"
	assert_output_contains ": Preparing"
	assert_output_contains ": Pushed"
	[[ "${lines[-1]}" =~ ^1:\ digest:\ sha256:[0-9a-f]{64}\ size:\ [0-9]+$ ]]
	digest=$(echo "${lines[-1]}" | cut -d' ' -f3)
	assert_equal "$(remote_digest "$DST/mybox:1")" "$digest"
	# the pushed image is the local one: same diff_ids, same config (= id)
	assert_equal "$(remote_diff_ids "$DST/mybox:1")" "$(local_diff_ids "$DST/mybox:1")"
	config=$(skopeo_ inspect --tls-verify=false --raw "docker://$DST/mybox:1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["config"]["digest"])')
	assert_equal "$config" "$(scow image inspect --format '{{.Id}}' "$DST/mybox:1")"
	# Docker records the pushed digest
	run scow image inspect --format '{{json .RepoDigests}}' "$DST/mybox:1"
	assert_output_contains "$DST/mybox@$digest"
	# a push without a tag pushes :latest
	run scow tag "$SRC/busybox:latest" "$DST/mybox"
	run scow push "$DST/mybox"
	assert_success
	assert_equal "${lines[0]}" "Using default tag: latest"
	assert_output_contains "Layer already exists"
}

@test "pushed images run in podman (whiteouts, opaque dirs, hardlinks, xattrs survive)" {
	run scow pull -q "$SRC/layers:docker"
	assert_success
	run scow push "$SRC/layers:docker" "$DST/layers:scow"
	assert_success
	run podman_ pull -q --tls-verify=false "$DST/layers:scow"
	assert_success
	run podman_ run --rm "$DST/layers:scow" sh -c '
		test ! -e /fx/gone && test ! -e /fx/d/a && cat /fx/d/new /fx/hl/b /fx/dirtofile &&
		readlink /fx/f && stat -c "%u:%g %a" /fx/owned && stat -c %a /fx/suid'
	assert_success
	assert_output_contains "new-layer2"
	assert_output_contains "hardlink"
	assert_output_contains "now a file"
	assert_output_contains "1234:5678 640"
	assert_output_contains "4755"
	# skopeo reads the same image, and its digest is ours
	run skopeo_ inspect --tls-verify=false "docker://$DST/layers:scow"
	assert_success
	assert_output_contains '"scow.fixture": "layers"'
}

@test "an image pulled and pushed unchanged keeps its layers: HEAD, cross-repository mount, original manifest" {
	run scow pull -q "$SRC/layers:oci"
	assert_success
	orig=$(remote_digest "$SRC/layers:oci")
	# same registry, another repository: every blob mounted, the manifest byte for byte
	run scow push "$SRC/layers:oci" "$SRC/copy:oci"
	assert_success
	[ "$(grep -c "Mounted from layers" <<<"$output")" -eq 4 ]
	refute_output_contains ": Pushed"
	assert_equal "$(remote_digest "$SRC/copy:oci")" "$orig"
	# same repository: the registry has everything
	run scow push "$SRC/layers:oci" "$SRC/layers:again"
	assert_success
	[ "$(grep -c "Layer already exists" <<<"$output")" -eq 4 ]
	assert_output_contains "again: digest: $orig"
	# another registry: recompressed, diff_ids (so the image id) kept
	run scow push "$SRC/layers:oci" "$DST/l:1"
	assert_success
	[ "$(grep -c ": Pushed" <<<"$output")" -eq 4 ]
	assert_equal "$(remote_diff_ids "$DST/l:1")" "$(local_diff_ids "$SRC/layers:oci")"
	# pushed once: the next push uploads nothing, mounts from the first
	run scow push "$SRC/layers:oci" "$DST/l:2"
	assert_success
	[ "$(grep -c "Layer already exists" <<<"$output")" -eq 4 ]
	run scow push "$SRC/layers:oci" "$DST/other:1"
	assert_success
	[ "$(grep -c "Mounted from l" <<<"$output")" -eq 4 ]
}

@test "push --format oci, --compression-format zstd, --digestfile, -q" {
	run scow pull -q "$SRC/busybox:latest"
	run scow push -q --digestfile "$TEST_TMP/digest" --format oci "$SRC/busybox:latest" "$DST/fmt:oci"
	assert_success
	assert_equal "$output" "$DST/fmt:oci"
	assert_equal "$(cat "$TEST_TMP/digest")" "$(remote_digest "$DST/fmt:oci")"
	run skopeo_ inspect --tls-verify=false --raw "docker://$DST/fmt:oci"
	assert_output_contains "application/vnd.oci.image.manifest.v1+json"
	assert_output_contains "application/vnd.oci.image.layer.v1.tar+gzip"
	run scow push --compression-format zstd "$SRC/busybox:latest" "$DST/fmt:zstd"
	assert_success
	run skopeo_ inspect --tls-verify=false --raw "docker://$DST/fmt:zstd"
	assert_output_contains "application/vnd.oci.image.layer.v1.tar+zstd"
	run scow push --compression-format zstd --format v2s2 "$SRC/busybox:latest" "$DST/fmt:bad"
	assert_failure
	assert_output_contains "zstd layers need the OCI manifest format"
	# scow and podman read the zstd image back
	run "$SCOW" --root "$TEST_TMP/r2" --runroot "$TEST_TMP/rr2" pull -q "$DST/fmt:zstd"
	assert_success
	run podman_ run --rm --pull always --tls-verify=false "$DST/fmt:zstd" cat /etc/group
	assert_success
	assert_output_contains "extra:x:1001:user"
}

@test "chunked uploads (PATCH with Content-Range) and monolithic config uploads" {
	run scow pull -q "$SRC/busybox:latest"
	use_registry dst
	: >"$REGISTRY_LOG.mark"
	lines_before=$(wc -l <"$REGISTRY_LOG")
	run scow push --chunk-size 256k --force-compression "$SRC/busybox:latest" "$DST/chunked:1"
	assert_success
	patches=$(tail -n +"$((lines_before + 1))" "$REGISTRY_LOG" | grep -c '"PATCH /v2/chunked/blobs/uploads/' || true)
	[ "$patches" -ge 3 ]
	run "$SCOW" --root "$TEST_TMP/r3" --runroot "$TEST_TMP/rr3" pull "$DST/chunked:1"
	assert_success
	assert_equal "$("$SCOW" --root "$TEST_TMP/r3" --runroot "$TEST_TMP/rr3" image inspect --format '{{.Id}}' "$DST/chunked:1")" \
		"$(scow image inspect --format '{{.Id}}' "$SRC/busybox:latest")"
}

@test "podman push and skopeo copy -> scow pull -> scow run" {
	run podman_ pull -q --tls-verify=false "$SRC/busybox:oci"
	assert_success
	run podman_ push -q --tls-verify=false "$SRC/busybox:oci" "docker://$DST/frompodman:1"
	assert_success
	run scow pull -q "$DST/frompodman:1"
	assert_success
	run scow run --rm "$DST/frompodman:1" cat /etc/passwd
	assert_success
	assert_output_contains "user:x:1000:1000"
	run skopeo_ copy -q --dest-tls-verify=false "oci:$("$FIXTURES/images.sh" path layers):latest" \
		"docker://$DST/fromskopeo:1"
	assert_success
	run scow pull -q "$DST/fromskopeo:1"
	assert_success
	run scow run --rm "$DST/fromskopeo:1" cat /fx/d/new
	assert_success
	assert_equal "$output" "new-layer2"
}

@test "push to basic-auth and token-auth registries: refused without credentials, --creds and login work" {
	run scow pull -q "$SRC/busybox:latest"
	for kind in basic token; do
		use_registry "$kind"
		run scow push "$SRC/busybox:latest" "$REGISTRY/busybox:pushed"
		assert_failure 1
		assert_output_contains "401 Unauthorized"
		run scow push --creds "$REGISTRY_USER:$REGISTRY_PASS" "$SRC/busybox:latest" "$REGISTRY/busybox:pushed"
		assert_success
		assert_output_contains ": Pushed"
		run scow login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"$REGISTRY_PASS"
		assert_success
		run scow push "$SRC/busybox:latest" "$REGISTRY/busybox:again"
		assert_success
		assert_output_contains "Layer already exists"
		run skopeo_ inspect --tls-verify=false --authfile "$REGISTRY_AUTHFILE" "docker://$REGISTRY/busybox:again"
		assert_success
		run "$SCOW" --root "$TEST_TMP/r-$kind" --runroot "$TEST_TMP/rr-$kind" pull -q "$REGISTRY/busybox:pushed"
		assert_success
	done
	grep -q "auth=basic user=$REGISTRY_USER status=200 granted=repository:busybox:pull,push" "$TOKEN_LOG"
}

@test "a layer without a tar-split record: pushed with a new diff_id, and a warning" {
	run scow pull -q "$SRC/busybox:latest"
	rm "$TEST_ROOT"/layers/*/tar-split
	run scow push --force-compression "$SRC/busybox:latest" "$DST/nosplit:1"
	assert_success
	assert_output_contains "WARNING: some layers had no record of their original tar"
	[ "$(remote_diff_ids "$DST/nosplit:1")" != "$(local_diff_ids "$SRC/busybox:latest")" ]
	# still a consistent image that others can use
	run podman_ run --rm --pull always --tls-verify=false "$DST/nosplit:1" cat /etc/group
	assert_success
	assert_output_contains "extra:x:1001:user"
}

@test "push errors: unknown image, a digest destination, an unknown format" {
	run scow push "$DST/nothing:1"
	assert_failure 1
	assert_output_contains "An image does not exist locally with the tag: $DST/nothing:1"
	run scow pull -q "$SRC/busybox:latest"
	run scow push "$SRC/busybox:latest" "$DST/x@sha256:$(printf '%064d' 0)"
	assert_failure
	run scow push --format v1 "$SRC/busybox:latest" "$DST/x:1"
	assert_failure
	assert_output_contains "unknown manifest format"
	run scow push "$SRC/busybox:latest" "oci-archive:$TEST_TMP/x.tar"
	assert_failure
	assert_output_contains "use scow save"
}
