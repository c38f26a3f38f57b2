#!/usr/bin/env bats
# login / logout against basic-auth and token-auth registries, and search
# (a registry's catalog, a v1 search API served by a small stub, neither).

load helpers

setup_file() {
	local kind
	for kind in plain basic token; do
		start_registry "$kind" --only busybox
	done
	write_search_stub
	start_stub v1 && start_stub none
}

teardown_file() {
	local kind
	for kind in plain basic token; do
		stop_registry "$kind"
	done
	local s
	for s in v1 none; do
		[[ -f $BATS_FILE_TMPDIR/stub-$s.pid ]] && kill "$(cat "$BATS_FILE_TMPDIR/stub-$s.pid")" 2>/dev/null
	done
	true
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

# A registry stub on 127.0.0.1: "v1" answers /v1/search like Docker Hub,
# "none" has neither /v1/search nor /v2/_catalog.
write_search_stub() {
	cat >"$BATS_FILE_TMPDIR/search_stub.py" <<'EOF'
import http.server, json, sys, urllib.parse
mode, portfile = sys.argv[1], sys.argv[2]
RESULTS = [
    {"name": "library/busybox", "description": "Busybox base image.", "star_count": 3000,
     "is_official": True, "is_automated": False},
    {"name": "someone/busybox-tools", "description": "A very long description that goes on "
     "and on well beyond the forty-five characters Docker shows", "star_count": 12,
     "is_official": False, "is_automated": True},
    {"name": "other/alpine", "description": "not a match", "star_count": 1,
     "is_official": False, "is_automated": False},
]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path in ("/v2", "/v2/"):
            return self.send(200, {})
        if mode == "v1" and u.path == "/v1/search":
            term = q.get("q", [""])[0]
            n = int(q.get("n", ["25"])[0])
            res = [r for r in RESULTS if term in r["name"]][:n]
            return self.send(200, {"num_results": len(res), "query": term, "results": res})
        return self.send(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os; os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
EOF
}

start_stub() {
	local p=$BATS_FILE_TMPDIR/stub-$1
	python3 "$BATS_FILE_TMPDIR/search_stub.py" "$1" "$p.port" >/dev/null 2>&1 3>&- &
	echo $! >"$p.pid"
	local i
	for i in $(seq 100); do
		[[ -s $p.port ]] && return 0
		sleep 0.1
	done
	return 1
}

stub() {
	echo "127.0.0.1:$(cat "$BATS_FILE_TMPDIR/stub-$1.port")"
}

@test "login (basic): bad credentials are Docker's 'unauthorized', good ones stored 0600, then used" {
	use_registry basic
	run scow login -u "$REGISTRY_USER" -p wrong "$REGISTRY"
	assert_failure 1
	assert_output_contains "WARNING! Using --password via the CLI is insecure"
	assert_output_contains "Error response from daemon: Get \"http://$REGISTRY/v2/\": unauthorized"
	[ ! -e "$SCOW_AUTH_FILE" ]
	run scow login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"$REGISTRY_PASS"
	assert_success
	assert_equal "$output" "Login Succeeded"
	[ "$(stat -c %a "$SCOW_AUTH_FILE")" = 600 ]
	want=$(printf '%s:%s' "$REGISTRY_USER" "$REGISTRY_PASS" | base64 -w0)
	grep -q "\"auth\": \"$want\"" "$SCOW_AUTH_FILE"
	! grep -q "$REGISTRY_PASS" "$SCOW_AUTH_FILE"
	ls -a "$(dirname "$SCOW_AUTH_FILE")" | { ! grep -q '\.tmp'; }
	run scow pull -q "$REGISTRY/busybox:latest"
	assert_success
	# stored credentials are checked again without asking
	run scow login "$REGISTRY" </dev/null
	assert_success
	assert_output_contains "Login Succeeded"
	run scow logout "$REGISTRY"
	assert_success
	assert_equal "$output" "Removing login credentials for $REGISTRY"
	run scow pull -q "$REGISTRY/busybox:oci"
	assert_failure
	run scow logout "$REGISTRY"
	assert_success
	assert_equal "$output" "Not logged in to $REGISTRY"
}

@test "login (token): the token server gets the credentials; wrong ones are refused" {
	use_registry token
	run scow login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"wrong"
	assert_failure 1
	assert_output_contains "unauthorized"
	run scow login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"$REGISTRY_PASS"
	assert_success
	assert_output_contains "Login Succeeded"
	grep -q "auth=basic user=$REGISTRY_USER status=200" "$TOKEN_LOG"
	run scow pull -q "$REGISTRY/busybox:latest"
	assert_success
	run scow tag "$REGISTRY/busybox:latest" "$REGISTRY/pushed:1"
	run scow push "$REGISTRY/pushed:1"
	assert_success
	assert_output_contains "Mounted from busybox"
}

@test "login: prompts only on a terminal; option errors; --authfile; logout --all" {
	use_registry basic
	run scow login "$REGISTRY" </dev/null
	assert_failure
	assert_output_contains "Cannot perform an interactive login from a non TTY device"
	run scow login --password-stdin "$REGISTRY" <<<"x"
	assert_failure
	assert_output_contains "Must provide --username with --password-stdin"
	run scow login -u a -p b --password-stdin "$REGISTRY" <<<"x"
	assert_failure
	assert_output_contains "mutually exclusive"
	# on a terminal: asked for both
	run python3 "$FIXTURES/ptyrun.py" --input "$REGISTRY_USER\n$REGISTRY_PASS\n" -- \
		"$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" login "$REGISTRY"
	assert_success
	assert_output_contains "Username: "
	assert_output_contains "Password: "
	assert_output_contains "Login Succeeded"
	run scow login --authfile "$TEST_TMP/other/auth.json" -u "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"$REGISTRY_PASS"
	assert_success
	[ "$(stat -c %a "$TEST_TMP/other/auth.json")" = 600 ]
	use_registry token
	run scow login -u "$REGISTRY_USER" --password-stdin "$REGISTRY" <<<"$REGISTRY_PASS"
	assert_success
	run scow logout --all
	assert_success
	run python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["auths"]))' "$SCOW_AUTH_FILE"
	assert_equal "$output" "0"
}

@test "Docker's ~/.docker/config.json is honoured for reading, never written" {
	use_registry basic
	mkdir -p "$DOCKER_CONFIG"
	cp "$REGISTRY_AUTHFILE" "$DOCKER_CONFIG/config.json"
	before=$(sha256sum "$DOCKER_CONFIG/config.json")
	run scow pull -q "$REGISTRY/busybox:latest"
	assert_success
	run scow login "$REGISTRY" </dev/null
	assert_success
	run scow logout "$REGISTRY"
	assert_failure 1
	assert_output_contains "docker logout"
	assert_equal "$(sha256sum "$DOCKER_CONFIG/config.json")" "$before"
}

@test "search a registry's catalog: Docker's columns, --limit, --format, --filter" {
	use_registry plain
	run scow search "$REGISTRY/busy"
	assert_success
	[[ "${lines[0]}" =~ ^NAME\ +DESCRIPTION\ +STARS\ +OFFICIAL\ +AUTOMATED$ ]]
	assert_output_contains "$REGISTRY/busybox"
	run scow search --format '{{.Name}}' "$REGISTRY/nothing-like-this"
	assert_success
	assert_equal "$output" ""
	run scow search --format '{{.Name}} {{.StarCount}}' --limit 1 "$REGISTRY/b"
	assert_success
	assert_equal "$output" "$REGISTRY/busybox 0"
	run scow search --filter stars=1 --format '{{.Name}}' "$REGISTRY/busy"
	assert_equal "$output" ""
	run scow search --filter bogus=1 "$REGISTRY/busy"
	assert_failure
	run scow search --limit 101 "$REGISTRY/busy"
	assert_failure
	# the token registry's catalog needs registry:catalog:*
	use_registry token
	run scow search --creds "$REGISTRY_USER:$REGISTRY_PASS" --format '{{.Name}}' "$REGISTRY/busybox"
	assert_success
	assert_equal "$output" "$REGISTRY/busybox"
	grep -q 'registry:catalog:\*' "$TOKEN_LOG"
}

@test "search the v1 API: stars, official, automated, truncation, filters" {
	r=$(stub v1)
	run scow search "$r/busybox"
	assert_success
	assert_output_contains "library/busybox"
	assert_output_contains "[OK]"
	assert_output_contains "A very long description that goes on and on …"
	refute_output_contains "other/alpine"
	run scow search --no-trunc "$r/busybox"
	assert_output_contains "beyond the forty-five characters Docker shows"
	run scow search --filter is-official=true --format '{{.Name}}' "$r/busybox"
	assert_equal "$output" "library/busybox"
	run scow search --filter is-automated=true --filter stars=10 --format '{{.Name}}:{{.IsAutomated}}' "$r/busybox"
	assert_equal "$output" "someone/busybox-tools:[OK]"
	run scow search --format '{{.Name}}' --limit 1 "$r/busybox"
	assert_equal "$output" "library/busybox"
}

@test "search a registry with neither API: a clear error" {
	r=$(stub none)
	run scow search "$r/busybox"
	assert_failure 1
	assert_output_contains "supports neither the search API (/v1/search) nor the catalog"
}
