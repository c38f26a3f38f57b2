#!/usr/bin/env bats
# pull and the image store against a real docker-registry on 127.0.0.1.

load helpers

setup_file() {
	start_registry plain
	export REGISTRY
}

teardown_file() {
	stop_registry plain
}

setup() {
	setup_scow
}

teardown() {
	teardown_scow
}

# The layer directories of an image, top first, as overlay's lowerdir wants.
lowerdirs() {
	local upper lower
	upper=$(scow image inspect --format '{{.GraphDriver.Data.UpperDir}}' "$1")
	lower=$(scow image inspect --format '{{if .GraphDriver.Data.LowerDir}}{{.GraphDriver.Data.LowerDir}}{{end}}' "$1")
	echo "$upper${lower:+:$lower}"
}

@test "pull prints Docker's lines and stores the image" {
	run scow pull "$REGISTRY/busybox:latest"
	assert_success
	assert_output_contains "latest: Pulling from busybox"
	assert_output_contains ": Pulling fs layer"
	assert_output_contains ": Pull complete"
	assert_output_contains "Digest: sha256:"
	assert_output_contains "Status: Downloaded newer image for $REGISTRY/busybox:latest"
	assert_equal "${lines[-1]}" "$REGISTRY/busybox:latest"
	run scow images --format '{{.Repository}}:{{.Tag}}'
	assert_success
	assert_equal "$output" "$REGISTRY/busybox:latest"
	[ "$(image_count)" -eq 1 ]
	[ "$(layer_count)" -eq 1 ]

	run scow pull "$REGISTRY/busybox:latest"
	assert_success
	assert_output_contains "Already exists"
	assert_output_contains "Status: Image is up to date for $REGISTRY/busybox:latest"
	assert_store_clean
}

@test "pull without a tag uses latest; -q prints only the reference" {
	run scow pull "$REGISTRY/busybox"
	assert_success
	assert_equal "${lines[0]}" "Using default tag: latest"
	run scow pull -q "$REGISTRY/busybox:oci"
	assert_success
	assert_equal "$output" "$REGISTRY/busybox:oci"
}

@test "the extracted busybox layer is complete and its digest verified" {
	run scow pull "$REGISTRY/busybox:latest"
	assert_success
	dir=$(lowerdirs "$REGISTRY/busybox")
	[ -x "$dir/bin/busybox" ]
	[ -L "$dir/bin/sh" ]
	[ "$(stat -c %a "$dir/tmp")" = 1777 ]
	grep -q '^user:x:1000:1000' "$dir/etc/passwd"
	# diff_id of the stored layer equals the config's
	diffid=$(scow image inspect --format '{{index .RootFS.Layers 0}}' "$REGISTRY/busybox")
	grep -q "\"diff_id\": \"$diffid\"" "$TEST_ROOT"/layers/*/layer.json
}

@test "multi-layer image: whiteouts, opaque dir, symlinks, hardlinks, pax, xattrs (docker and OCI)" {
	for tag in docker oci; do
		run scow pull "$REGISTRY/layers:$tag"
		assert_success
	done
	# Both forms carry the same layers: the second pull reuses them.
	[ "$(layer_count)" -eq 4 ]
	mnt=$TEST_TMP/mnt
	mkdir -p "$mnt"
	mount -t overlay overlay -o "ro,lowerdir=$(lowerdirs "$REGISTRY/layers:oci")" "$mnt"
	local rc=0 L
	L=$(printf 'L%.0s' $(seq 150))
	(
		set -e
		cd "$mnt/fx"
		[ ! -e gone ]
		[ "$(ls d | tr '\n' ' ')" = "l3 new " ]
		[ "$(cat dirtofile)" = "now a file" ]
		[ "$(readlink f)" = "d/new" ]
		[ "$(cat f)" = "new-layer2" ]
		[ "$(stat -c %a emptydir)" = 755 ]
		[ ! -e hl/a ]
		[ "$(cat hl/b)" = "hardlink" ]
		[ "$(cat "long/$L")" = long ]
		[ "$(readlink longlink)" = "long/$L" ]
		[ "$(readlink link-abs)" = "/fx/d/b" ]
		[ "$(stat -c '%u:%g %a' owned)" = "1234:5678 640" ]
		[ "$(stat -c '%a' suid)" = 4755 ]
		[ "$(stat -c '%g %a' sgid)" = "1001 2775" ]
		[ "$(stat -c %Y mtime)" = 1000000000 ]
		getcap cap/ping | grep -q 'cap_net_raw[=+]ep'
	) || rc=$?
	umount "$mnt"
	[ "$rc" -eq 0 ]
	# The store holds whiteouts the way overlayfs reads them.
	found_wh=$(find "$TEST_ROOT/layers" -path '*/diff/fx/gone' -type c)
	[ -n "$found_wh" ]
	[ "$(stat -c '%t:%T' "$found_wh")" = "0:0" ]
	opq=$(find "$TEST_ROOT/layers" -path '*/diff/fx/d' -type d -exec getfattr --absolute-names -n trusted.overlay.opaque --only-values {} \; 2>/dev/null)
	[ "$opq" = y ]
	! find "$TEST_ROOT/layers" -name '.wh.*' | grep -q .
}

@test "gzip, zstd and uncompressed layers give the same content" {
	for tag in latest zstd uncompressed; do
		run "$SCOW" --root "$TEST_TMP/r-$tag" --runroot "$TEST_TMP/rr-$tag" pull "$REGISTRY/busybox:$tag"
		assert_success
		id=$("$SCOW" --root "$TEST_TMP/r-$tag" image inspect -f '{{.Id}}' "$REGISTRY/busybox:$tag")
		echo "$id" >>"$TEST_TMP/ids"
		[ -x "$TEST_TMP"/r-$tag/layers/*/diff/bin/busybox ]
	done
	[ "$(sort -u "$TEST_TMP/ids" | wc -l)" -eq 1 ]
}

@test "multi-platform index: this host's entry by default, --platform picks another" {
	run scow pull "$REGISTRY/multiarch:latest"
	assert_success
	run scow image inspect --format '{{.Os}}/{{.Architecture}}' "$REGISTRY/multiarch"
	assert_equal "$output" "linux/amd64"
	run scow pull --platform linux/arm64 "$REGISTRY/multiarch:v2s2"
	assert_success
	run scow image inspect --format '{{.Architecture}}' "$REGISTRY/multiarch:v2s2"
	assert_equal "$output" "arm64"
	run scow pull --platform linux/s390x "$REGISTRY/multiarch:latest"
	assert_failure 1
	assert_output_contains "no matching manifest for linux/s390x"
	run scow pull --platform bogus "$REGISTRY/multiarch:latest"
	assert_failure
	assert_output_contains "invalid platform"
}

@test "bad references and missing images are clear errors that create nothing" {
	run scow pull "$REGISTRY/Busybox"
	assert_failure
	assert_output_contains "invalid reference format: repository name must be lowercase"
	run scow pull 'busybox@sha256:../../x'
	assert_failure
	assert_output_contains "invalid reference format"
	run scow pull "$REGISTRY/busybox:nope"
	assert_failure 1
	assert_output_contains "manifest unknown"
	[ "$(image_count)" -eq 0 ]
	[ "$(layer_count)" -eq 0 ]
	assert_store_clean
}

@test "mirrors: docker.io names resolve through a configured mirror, offline" {
	skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
		"docker://$REGISTRY/busybox:latest" "docker://$REGISTRY/library/busybox:latest"
	printf '{"mirrors": {"docker.io": ["%s"]}}\n' "$REGISTRY" >"$SCOW_REGISTRIES_CONF"
	run scow pull busybox
	assert_success
	assert_output_contains "latest: Pulling from library/busybox"
	assert_output_contains "Status: Downloaded newer image for busybox:latest"
	assert_equal "${lines[-1]}" "docker.io/library/busybox:latest"
	run scow images --format '{{.Repository}} {{.Tag}}'
	assert_equal "$output" "busybox latest"
	run scow image inspect -f '{{index .RepoDigests 0}}' busybox
	assert_output_contains "busybox@sha256:"
}

@test "eight processes pulling the same image at once leave one consistent store" {
	for i in $(seq 8); do
		scow pull -q "$REGISTRY/layers:oci" >"$TEST_TMP/out.$i" 2>&1 &
	done
	fail=0
	for job in $(jobs -p); do
		wait "$job" || fail=1
	done
	cat "$TEST_TMP"/out.* >&2
	[ "$fail" -eq 0 ]
	[ "$(image_count)" -eq 1 ]
	[ "$(layer_count)" -eq 4 ]
	assert_store_clean
	run scow images -q
	[ "${#lines[@]}" -eq 1 ]
}

@test "SCOW_ROOT and SCOW_RUNROOT select the store" {
	SCOW_ROOT=$TEST_TMP/envroot SCOW_RUNROOT=$TEST_TMP/envrun run "$SCOW" pull -q "$REGISTRY/busybox"
	assert_success
	[ -d "$TEST_TMP/envroot/layers" ]
	SCOW_ROOT=$TEST_TMP/envroot run "$SCOW" images -q
	[ "${#lines[@]}" -eq 1 ]
}

@test "pull --all-tags pulls every tag the registry lists" {
	run scow pull -a -q "$REGISTRY/busybox"
	assert_success
	run scow images --format '{{.Tag}}' "$REGISTRY/busybox"
	assert_success
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "latest oci uncompressed v2s2 zstd "
	run scow pull -a "$REGISTRY/busybox:latest"
	assert_failure 1
	assert_output_contains "tag can't be used with --all-tags/-a"
	run scow pull -a "$REGISTRY/nosuchrepo"
	assert_failure 1
}
