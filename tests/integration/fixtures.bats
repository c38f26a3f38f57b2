#!/usr/bin/env bats
# Self-test of tests/fixtures: every registry kind takes a skopeo push and
# gives the image back; the token server is really used; stop ends everything.
# Needs: docker-registry skopeo openssl python3 busybox-static zstd libcap2-bin.

setup_file() {
    export FIXTURES="$BATS_TEST_DIRNAME/../fixtures"
    FXTMP=$(mktemp -d "${TMPDIR:-/tmp}/scow-fixtures.XXXXXX")
    export FXTMP
    "$FIXTURES/images.sh" build
    local k
    for k in plain tls basic token tls-basic tls-token; do
        "$FIXTURES/registry.sh" start "$k" "$FXTMP/$k"
    done
}

teardown_file() {
    local d
    for d in "$FXTMP"/*/; do
        "$FIXTURES/registry.sh" stop "$d" || true
    done
    rm -rf "$FXTMP"
}

# gone PID: no such process (or only a zombie, whose cmdline is empty)
gone() {
    [ ! -e "/proc/$1" ] || [ "$(tr -d '\0' <"/proc/$1/cmdline" 2>/dev/null | wc -c)" -eq 0 ]
}

# roundtrip KIND: push busybox to the KIND registry, read it back with skopeo.
roundtrip() {
    local dir=$FXTMP/$1 args
    # shellcheck source=/dev/null
    source "$dir/env"
    run "$FIXTURES/registry.sh" push "$dir" --only busybox
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"pushed $REGISTRY/busybox:latest"* ]]
    [[ $output == *"pushed $REGISTRY/busybox:zstd"* ]]

    mapfile -t args < <("$FIXTURES/registry.sh" skopeo-args "$dir" src)
    local tag
    for tag in latest oci zstd uncompressed; do
        rm -rf "$FXTMP/out"
        skopeo copy -q "${args[@]}" "docker://$REGISTRY/busybox:$tag" "dir:$FXTMP/out"
        # the layer's diff_id is the same whatever the compression
        python3 - "$FXTMP/out" <<'EOF'
import json, sys, os
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
cfg = json.load(open(os.path.join(d, m["config"]["digest"].split(":")[1])))
assert cfg["config"]["Cmd"] == ["sh"], cfg
assert len(cfg["rootfs"]["diff_ids"]) == 1
print(m["layers"][0]["mediaType"], cfg["rootfs"]["diff_ids"][0])
EOF
    done
    rm -rf "$FXTMP/out"
}

@test "fixtures: images.sh build is idempotent and parallel-safe" {
    "$FIXTURES/images.sh" build &
    "$FIXTURES/images.sh" build
    wait $!
    run "$FIXTURES/images.sh" path layers
    [ "$status" -eq 0 ]
    [ -f "$output/index.json" ]
}

@test "fixtures: plain registry round trip" {
    roundtrip plain
    [ "$REGISTRY_URL_SCHEME" = http ]
}

@test "fixtures: tls registry round trip, and the CA is really needed" {
    roundtrip tls
    [ "$REGISTRY_URL_SCHEME" = https ]
    [ -f "$REGISTRY_CERTS_D/$REGISTRY/ca.crt" ]
    run skopeo inspect --tls-verify=true "docker://$REGISTRY/busybox:latest"
    [ "$status" -ne 0 ]
    [[ $output == *"certificate"* ]]
}

@test "fixtures: basic-auth registry round trip, bad or no creds refused" {
    roundtrip basic
    run skopeo inspect --tls-verify=false --creds "$REGISTRY_USER:wrong" "docker://$REGISTRY/busybox:latest"
    [ "$status" -ne 0 ]
    run skopeo inspect --tls-verify=false --no-creds "docker://$REGISTRY/busybox:latest"
    [ "$status" -ne 0 ]
    run skopeo inspect --tls-verify=false --authfile "$REGISTRY_AUTHFILE" "docker://$REGISTRY/busybox:latest"
    [ "$status" -eq 0 ]
}

@test "fixtures: token registry round trip through the token server" {
    roundtrip token
    grep -q "auth=basic user=$REGISTRY_USER status=200 granted=repository:busybox:pull,push" "$TOKEN_LOG"
    grep -q "auth=basic user=$REGISTRY_USER status=200 granted=repository:busybox:pull$" "$TOKEN_LOG"
    run skopeo inspect --tls-verify=false --no-creds "docker://$REGISTRY/busybox:latest"
    [ "$status" -ne 0 ]
    grep -q "auth=none user=- status=401" "$TOKEN_LOG"
    # the secret is never logged
    run grep -rqF -- "$REGISTRY_PASS" "$TOKEN_LOG" "$REGISTRY_LOG"
    [ "$status" -eq 1 ]
}

@test "fixtures: tls-basic and tls-token round trips" {
    roundtrip tls-basic
    roundtrip tls-token
    [[ $TOKEN_REALM == https://127.0.0.1:* ]]
    grep -q "auth=basic user=$REGISTRY_USER status=200" "$TOKEN_LOG"
}

@test "fixtures: layers image keeps its xattr, whiteouts and 4 layers" {
    local dir=$FXTMP/plain
    # shellcheck source=/dev/null
    source "$dir/env"
    "$FIXTURES/registry.sh" push "$dir" --only layers,multiarch
    rm -rf "$FXTMP/out"
    skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/layers:docker" "dir:$FXTMP/out"
    run python3 - "$FXTMP/out" <<'EOF'
import json, os, subprocess, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
assert m["mediaType"].startswith("application/vnd.docker"), m["mediaType"]
assert len(m["layers"]) == 4
for l in m["layers"]:
    blob = os.path.join(d, l["digest"].split(":")[1])
    subprocess.run(["tar", "-tzvf", blob], check=True)
    subprocess.run([sys.executable, os.environ["FIXTURES"] + "/mkimages.py", "list-xattrs", blob], check=True)
EOF
    [ "$status" -eq 0 ]
    [[ $output == *"fx/cap/ping security.capability=0100000200200000000000000000000000000000"* ]]
    [[ $output == *"fx/.wh.gone"* ]]
    [[ $output == *"fx/d/.wh..wh..opq"* ]]
    [[ $output == *"fx/hl/b link to fx/hl/a"* ]]
    rm -rf "$FXTMP/out"

    run skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/multiarch:latest"
    [ "$status" -eq 0 ]
    [[ $output == *'"architecture":"arm64"'* ]]
    [[ $output == *'"architecture":"amd64"'* ]]
}

@test "fixtures: stop ends the registry and the token server" {
    local dir=$FXTMP/stoptest
    "$FIXTURES/registry.sh" start token "$dir"
    # shellcheck source=/dev/null
    source "$dir/env"
    kill -0 "$REGISTRY_PID"
    kill -0 "$TOKEN_SERVER_PID"
    "$FIXTURES/registry.sh" stop "$dir"
    gone "$REGISTRY_PID"
    gone "$TOKEN_SERVER_PID"
    [ -d "$dir/storage" ]
}
