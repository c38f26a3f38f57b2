#!/usr/bin/env bats
# SECURITY.md cases 19-26 (and the pull part of 29): a registry that lies,
# drops connections, redirects and rate-limits, served by the fault
# registry on 127.0.0.1.

load helpers

setup_file() {
	"$FIXTURES/images.sh" build >/dev/null
	BUSYBOX=$("$FIXTURES/images.sh" path busybox)
	LAYERS=$("$FIXTURES/images.sh" path layers)
	export BUSYBOX LAYERS
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1,DNS:localhost \
		-keyout "$BATS_FILE_TMPDIR/key.pem" -out "$BATS_FILE_TMPDIR/cert.pem" 2>/dev/null
	start_fake main --repo "busybox=$BUSYBOX" --repo "layers=$LAYERS" \
		--second-port-file "$BATS_FILE_TMPDIR/fake-main/port2"
	export FAKE FAKE_LOG FAKE_FAULTS
	FAKE2=127.0.0.1:$(cat "$BATS_FILE_TMPDIR/fake-main/port2")
	export FAKE2
	start_fake tls --repo "busybox=$BUSYBOX" --tls "$BATS_FILE_TMPDIR/cert.pem" "$BATS_FILE_TMPDIR/key.pem" \
		--second-port-file "$BATS_FILE_TMPDIR/fake-tls/port2"
	FAKE_TLS=$FAKE FAKE_TLS_FAULTS=$FAKE_FAULTS
	export FAKE_TLS FAKE_TLS_FAULTS
	# restore the main one's variables
	FAKE=127.0.0.1:$(cat "$BATS_FILE_TMPDIR/fake-main/port")
	FAKE_LOG=$BATS_FILE_TMPDIR/fake-main/log
	FAKE_FAULTS=$BATS_FILE_TMPDIR/fake-main/faults.json
	export FAKE FAKE_LOG FAKE_FAULTS
}

teardown_file() {
	stop_fake main
	stop_fake tls
}

setup() {
	setup_scow
	faults '[]'
	: >"$FAKE_LOG"
}

teardown() {
	faults '[]'
	teardown_scow
}

faults() {
	printf '%s' "$1" >"$FAKE_FAULTS.tmp" && mv "$FAKE_FAULTS.tmp" "$FAKE_FAULTS"
}

# log lines (JSON) matching a jq-free python filter expression on `r`
log_count() {
	python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "method" in r and eval(sys.argv[2]):
        n += 1
print(n)' "$FAKE_LOG" "$1"
}

nothing_stored() {
	[ "$(image_count)" -eq 0 ]
	[ "$(layer_count)" -eq 0 ]
	assert_store_clean
}

@test "19: a corrupt blob fails the pull and nothing is stored" {
	faults '[{"type": "blob_corrupt"}]'
	run scow pull "$FAKE/busybox:latest"
	assert_failure 1
	assert_output_contains "digest mismatch"
	nothing_stored
}

@test "19: a manifest that does not match the digest asked for is refused" {
	digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"])' "$BUSYBOX")
	faults '[{"type": "manifest_corrupt", "mode": "reformat"}]'
	run scow pull "$FAKE/busybox@$digest"
	assert_failure 1
	assert_output_contains "digest mismatch"
	nothing_stored
	faults '[]'
	run scow pull "$FAKE/busybox@$digest"
	assert_success
}

@test "19: Docker-Content-Digest is never trusted; sizes are checked" {
	digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]+"/index.json"))["manifests"][0]["digest"])' "$BUSYBOX")
	faults '[{"type": "wrong_content_digest_header", "target": "any"}]'
	run scow pull "$FAKE/busybox:latest"
	assert_success
	assert_output_contains "Digest: $digest"
	scow rmi "$FAKE/busybox:latest" >/dev/null
	for target in layer config; do
		faults "[{\"type\": \"size_lie\", \"target\": \"$target\", \"delta\": -1}]"
		run scow pull "$FAKE/busybox:latest"
		assert_failure 1
		echo "$target: $output" >&2
		nothing_stored
	done
	faults '[{"type": "size_lie", "target": "layer", "delta": 1}]'
	run scow pull "$FAKE/busybox:latest"
	assert_failure 1
	nothing_stored
}

@test "20: manifests and configs over 4 MiB, token bodies over 1 MiB are refused" {
	for f in huge_manifest huge_config; do
		faults "[{\"type\": \"$f\"}]"
		run scow pull "$FAKE/busybox:latest"
		assert_failure 1
		assert_output_contains "larger than 4194304 bytes"
		nothing_stored
	done
	faults '[{"type": "auth_bearer"}, {"type": "huge_token"}]'
	run scow pull "$FAKE/busybox:latest"
	assert_failure 1
	assert_output_contains "larger than 1048576 bytes"
	nothing_stored
}

@test "21: a body that is both an index and a manifest is refused; schema1 is unsupported" {
	for mt in manifest index; do
		faults "[{\"type\": \"ambiguous_manifest\", \"media_type\": \"$mt\"}]"
		run scow pull "$FAKE/busybox:latest"
		assert_failure 1
		assert_output_contains "both an index and an image manifest"
	done
	faults '[{"type": "schema1"}]'
	run scow pull "$FAKE/busybox:latest"
	assert_failure 1
	assert_output_contains "unsupported manifest format: Docker schema 1"
	nothing_stored
}

@test "22: digests like sha256:../../x are refused before any path is built" {
	evil=$TEST_TMP/evil
	cp -r "$BUSYBOX" "$evil"
	python3 - "$evil" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
idx = json.load(open(d + "/index.json"))
m_digest = idx["manifests"][0]["digest"]
m = json.load(open(d + "/blobs/sha256/" + m_digest[7:]))
m["layers"][0]["digest"] = "sha256:../../../../etc/passwd"
body = json.dumps(m).encode()
h = hashlib.sha256(body).hexdigest()
open(d + "/blobs/sha256/" + h, "wb").write(body)
idx["manifests"][0]["digest"] = "sha256:" + h
idx["manifests"][0]["size"] = len(body)
json.dump(idx, open(d + "/index.json", "w"))
PY
	start_fake evil --repo "evil=$evil"
	run scow pull "$FAKE/evil:latest"
	stop_fake evil
	assert_failure 1
	assert_output_contains 'invalid digest "sha256:../../../../etc/passwd"'
	nothing_stored
	! grep -q 'etc/passwd' "$BATS_FILE_TMPDIR/fake-evil/log"
	run scow pull 'busybox@sha256:../../x'
	assert_failure
}

@test "23: a redirect to another port never carries the Authorization header" {
	faults "[{\"type\": \"auth_bearer\"}, {\"type\": \"redirect_blobs\", \"to\": \"http://127.0.0.1:{second_port}\"}]"
	run scow pull "$FAKE/busybox:latest"
	assert_success
	[ "$(log_count 'r["listener"] == "second"')" -ge 2 ]
	[ "$(log_count 'r["listener"] == "second" and r["auth"]')" -eq 0 ]
	[ "$(log_count 'r["listener"] == "main" and "/manifests/" in r["path"] and r["auth"]')" -ge 1 ]
}

@test "23: https->http redirects and more than 10 hops are refused" {
	faults '[{"type": "redirect_loop", "hops": 11}]'
	run scow pull "$FAKE/busybox:latest"
	assert_failure 1
	assert_output_contains "stopped after 10 redirects"
	nothing_stored
	faults '[{"type": "redirect_loop", "hops": 10}]'
	run scow pull "$FAKE/busybox:latest"
	assert_success
	printf '[{"type": "https_to_http"}]' >"$FAKE_TLS_FAULTS"
	run scow pull --tls-verify=false "$FAKE_TLS/busybox:latest"
	assert_failure 1
	assert_output_contains "refusing redirect from https to http"
}

@test "24: a TLS error on a loopback registry is not a reason to use plain HTTP" {
	printf '[]' >"$FAKE_TLS_FAULTS"
	run scow pull "$FAKE_TLS/busybox:latest"
	assert_failure 1
	assert_output_contains "certificate"
	[ "$(grep -c '"listener": "second"' "$BATS_FILE_TMPDIR/fake-tls/log" || true)" -eq 0 ]
	mkdir -p "$TEST_TMP/certs"
	cp "$BATS_FILE_TMPDIR/cert.pem" "$TEST_TMP/certs/ca.crt"
	run scow pull --cert-dir "$TEST_TMP/certs" "$FAKE_TLS/busybox:latest"
	assert_success
}

@test "25: a dropped connection resumes with Range" {
	layer=$(python3 -c 'import json,sys
d = sys.argv[1]
i = json.load(open(d + "/index.json"))["manifests"][0]["digest"]
print(json.load(open(d + "/blobs/sha256/" + i[7:]))["layers"][0]["digest"])' "$BUSYBOX")
	faults "[{\"type\": \"drop_after_bytes\", \"bytes\": 100000, \"count\": 2, \"digest\": \"$layer\"}]"
	run scow pull "$FAKE/busybox:latest"
	assert_success
	[ "$(log_count '"/blobs/" in r["path"] and (r["range"] or "").startswith("bytes=100000-")')" -ge 1 ]
	[ "$(log_count '"/blobs/" in r["path"] and (r["range"] or "").startswith("bytes=200000-")')" -ge 1 ]
}

@test "25: a wrong Content-Range or an ignored Range is never spliced in" {
	for mode in start_zero shifted wrong_total missing wrong_body; do
		rm -rf "$TEST_ROOT"
		: >"$FAKE_LOG"
		faults "[{\"type\": \"drop_after_bytes\", \"bytes\": 50000, \"count\": 1, \"id\": \"d-$mode\"}, {\"type\": \"range_bad\", \"mode\": \"$mode\", \"count\": 1, \"id\": \"r-$mode\"}]"
		run scow pull "$FAKE/busybox:latest"
		echo "$mode: $output" >&2
		assert_success
	done
	faults '[{"type": "drop_after_bytes", "bytes": 50000, "count": 1, "id": "d-ign"}, {"type": "range_ignored"}]'
	rm -rf "$TEST_ROOT"
	run scow pull "$FAKE/busybox:latest"
	assert_success
}

@test "25: 429 and 5xx are retried with backoff; five tries at most" {
	faults '[{"type": "status", "code": 429, "retry_after": 1, "path": "/blobs/", "count": 2}]'
	start=$(date +%s)
	run scow pull "$FAKE/busybox:latest"
	assert_success
	[ $(($(date +%s) - start)) -ge 2 ]
	scow rmi "$FAKE/busybox:latest" >/dev/null
	: >"$FAKE_LOG"
	faults '[{"type": "status", "code": 503, "path": "/manifests/"}]'
	run scow pull "$FAKE/busybox:latest"
	assert_failure 1
	assert_output_contains "503"
	[ "$(log_count '"/manifests/" in r["path"]')" -eq 5 ]
	nothing_stored
}

@test "bearer auth: credentials, access_token, and re-authentication mid-pull" {
	faults '[{"type": "auth_bearer", "user": "alice", "password": "s3cret", "token_field": "access_token", "token_expire_after": 2}]'
	run scow pull "$FAKE/layers:latest"
	assert_failure 1
	assert_output_contains "401"
	run scow pull --creds alice:s3cret "$FAKE/layers:latest"
	assert_success
	[ "$(log_count 'r["path"] == "/token"')" -ge 3 ]
	faults '[{"type": "auth_basic", "user": "bob", "password": "pw"}]'
	run scow pull --creds bob:pw "$FAKE/busybox:latest"
	assert_success
}

@test "26: killing one of several pulls mid-layer does not hurt the others" {
	faults '[{"type": "slow_blob", "rate": 300000, "path": "/blobs/"}]'
	for i in 1 2 3; do
		scow pull -q "$FAKE/busybox:latest" >"$TEST_TMP/out.$i" 2>&1 &
		eval "pid$i=$!"
	done
	sleep 1.5
	kill -9 "$pid2"
	wait "$pid1"
	wait "$pid3"
	wait "$pid2" || true
	faults '[]'
	[ "$(image_count)" -eq 1 ]
	[ "$(layer_count)" -eq 1 ]
	run scow images -q
	[ "${#lines[@]}" -eq 1 ]
	assert_store_clean
}

@test "29: a pull killed with SIGKILL mid-layer leaves nothing a later command trips over" {
	faults '[{"type": "slow_blob", "rate": 200000, "path": "/blobs/"}]'
	scow pull -q "$FAKE/busybox:latest" >/dev/null 2>&1 &
	pid=$!
	sleep 1.5
	kill -9 "$pid"
	wait "$pid" || true
	ls "$TEST_ROOT/layers" | grep -q '\.tmp$'
	faults '[]'
	run scow pull "$FAKE/busybox:latest"
	assert_success
	assert_store_clean
	run scow images -q
	[ "${#lines[@]}" -eq 1 ]
}
