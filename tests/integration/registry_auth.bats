#!/usr/bin/env bats
# TLS, certificates and credentials against real registries on 127.0.0.1.

load helpers

setup_file() {
	local kind
	for kind in tls basic token tls-token; do
		start_registry "$kind" --only busybox
		# the env of each is kept in its directory; re-sourced per test
	done
}

teardown_file() {
	local kind
	for kind in tls basic token tls-token; do
		stop_registry "$kind"
	done
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

@test "TLS: an unknown CA is an error, never a fallback to http" {
	use_registry tls
	run scow pull "$REGISTRY/busybox:latest"
	assert_failure 1
	assert_output_contains "certificate"
	refute_output_contains "Pull complete"
	[ "$(image_count)" -eq 0 ]
}

@test "TLS: --cert-dir, certs.d from the configuration, and --tls-verify=false" {
	use_registry tls
	run scow pull --cert-dir "$REGISTRY_CERT_DIR" "$REGISTRY/busybox:latest"
	assert_success
	run scow rmi "$REGISTRY/busybox:latest"
	assert_success
	printf '{"cert_dirs": ["%s"]}\n' "$REGISTRY_CERTS_D" >"$SCOW_REGISTRIES_CONF"
	run scow pull "$REGISTRY/busybox:oci"
	assert_success
	rm "$SCOW_REGISTRIES_CONF"
	run scow pull --tls-verify=false "$REGISTRY/busybox:v2s2"
	assert_success
	printf '{"insecure_registries": ["%s"]}\n' "$REGISTRY" >"$SCOW_REGISTRIES_CONF"
	run scow pull "$REGISTRY/busybox:zstd"
	assert_success
}

@test "basic auth: refused without credentials; --creds, scow's and Docker's auth files work" {
	use_registry basic
	run scow pull "$REGISTRY/busybox:latest"
	assert_failure 1
	assert_output_contains "401 Unauthorized"
	run scow pull --creds "$REGISTRY_USER:wrong" "$REGISTRY/busybox:latest"
	assert_failure 1
	run scow pull --creds "$REGISTRY_USER:$REGISTRY_PASS" "$REGISTRY/busybox:latest"
	assert_success
	cp "$REGISTRY_AUTHFILE" "$SCOW_AUTH_FILE"
	run scow pull "$REGISTRY/busybox:oci"
	assert_success
	rm "$SCOW_AUTH_FILE"
	mkdir -p "$DOCKER_CONFIG"
	cp "$REGISTRY_AUTHFILE" "$DOCKER_CONFIG/config.json"
	run scow pull "$REGISTRY/busybox:v2s2"
	assert_success
	run scow --log-level debug pull "$REGISTRY/busybox:zstd"
	assert_success
	refute_output_contains "$REGISTRY_PASS"
}

@test "bearer tokens: fetched from the realm with the credentials, over http and https" {
	use_registry token
	run scow pull "$REGISTRY/busybox:latest"
	assert_failure 1
	run scow pull --creds "$REGISTRY_USER:$REGISTRY_PASS" "$REGISTRY/busybox:latest"
	assert_success
	grep -q 'auth=basic user=testuser status=200 granted=repository:busybox:pull' "$TOKEN_LOG"
	use_registry tls-token
	run scow pull --cert-dir "$REGISTRY_CERT_DIR" --creds "$REGISTRY_USER:$REGISTRY_PASS" \
		"$REGISTRY/busybox:oci"
	assert_success
}
