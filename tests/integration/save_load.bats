#!/usr/bin/env bats
# save and load: round trips, compressed archives, OCI layouts, podman and
# skopeo on the other side (isolated: see peers.bash), hostile archives.

load helpers
load peers

setup_file() {
	setup_peers "$BATS_FILE_TMPDIR/peers"
	mkdir -p "$BATS_FILE_TMPDIR/reg"
	"$FIXTURES/registry.sh" start plain "$BATS_FILE_TMPDIR/reg" >/dev/null
	peers_push_fixtures "$BATS_FILE_TMPDIR/reg" --only busybox,layers >/dev/null
	REG=$(. "$BATS_FILE_TMPDIR/reg/env" && echo "$REGISTRY")
	export REG
	write_hostile_py
}

teardown_file() {
	"$FIXTURES/registry.sh" stop "$BATS_FILE_TMPDIR/reg" >/dev/null 2>&1 || true
	teardown_peers
}

setup() {
	setup_scow
}

teardown() {
	teardown_scow
}

# a second, empty store
scow2() {
	"$SCOW" --root "$TEST_TMP/root2" --runroot "$TEST_TMP/run2" "$@"
}

id_of() {
	scow image inspect --format '{{.Id}}' "$1"
}

@test "docker-archive round trip: several images, same ids and tags, the loaded image runs" {
	run scow pull -q "$REG/busybox:latest"
	run scow pull -q "$REG/layers:docker"
	run scow save -o "$TEST_TMP/a.tar" "$REG/busybox:latest" "$REG/layers:docker"
	assert_success
	assert_equal "$output" ""
	# Docker's layout: manifest.json, repositories, <id>.json, <diff_id>.tar
	run tar -tf "$TEST_TMP/a.tar"
	assert_output_contains "manifest.json"
	assert_output_contains "repositories"
	assert_output_contains "$(id_of "$REG/busybox:latest" | cut -c8-).json"
	[ "$(grep -c '\.tar$' <<<"$output")" -eq 4 ] # busybox's layer is shared
	run scow2 load -i "$TEST_TMP/a.tar"
	assert_success
	assert_output_contains "Loaded image: $REG/busybox:latest"
	assert_output_contains "Loaded image: $REG/layers:docker"
	assert_equal "$(scow2 image inspect --format '{{.Id}}' "$REG/layers:docker")" "$(id_of "$REG/layers:docker")"
	run scow2 run --rm "$REG/layers:docker" sh -c 'test ! -e /fx/gone && cat /fx/d/new /fx/hl/b'
	assert_success
	assert_equal "${lines[0]}" "new-layer2"
	# loading again changes nothing, and extracts nothing (the metadata comes first)
	run scow2 --log-level debug load -q -i "$TEST_TMP/a.tar"
	assert_success
	assert_output_contains "Loaded image: $REG/busybox:latest"
	assert_output_contains "exists, not extracted"
	# an image saved by id only: no tag
	run scow save "$(id_of "$REG/busybox:latest")" -o "$TEST_TMP/byid.tar"
	assert_success
	run "$SCOW" --root "$TEST_TMP/root3" --runroot "$TEST_TMP/run3" load -i "$TEST_TMP/byid.tar"
	assert_success
	assert_equal "$output" "Loaded image ID: $(id_of "$REG/busybox:latest")"
}

@test "save to stdout, load from stdin: plain, gzip and zstd archives" {
	run scow pull -q "$REG/busybox:latest"
	scow save "$REG/busybox:latest" >"$TEST_TMP/s.tar"
	gzip -c "$TEST_TMP/s.tar" >"$TEST_TMP/s.tar.gz"
	zstd -q -c "$TEST_TMP/s.tar" >"$TEST_TMP/s.tar.zst"
	for f in s.tar s.tar.gz s.tar.zst; do
		rm -rf "$TEST_TMP/root2" "$TEST_TMP/run2"
		run scow2 load <"$TEST_TMP/$f"
		assert_success
		assert_equal "$output" "Loaded image: $REG/busybox:latest"
		assert_equal "$(scow2 image inspect --format '{{.Id}}' "$REG/busybox:latest")" "$(id_of "$REG/busybox:latest")"
	done
	# through a pipe, without a temporary copy
	rm -rf "$TEST_TMP/root2" "$TEST_TMP/run2"
	run bash -c "'$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' save '$REG/busybox:latest' | zstd -q -c | '$SCOW' --root '$TEST_TMP/root2' --runroot '$TEST_TMP/run2' load"
	assert_success
	assert_output_contains "Loaded image: $REG/busybox:latest"
	# never to or from a terminal
	run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" save "$REG/busybox:latest"
	assert_failure
	assert_output_contains "cowardly refusing to save to a terminal"
}

@test "oci-archive and oci-dir: skopeo reads them, scow loads them back" {
	run scow pull -q "$REG/layers:oci"
	run scow save --format oci-archive -o "$TEST_TMP/o.tar" "$REG/layers:oci"
	assert_success
	run skopeo_ inspect "oci-archive:$TEST_TMP/o.tar"
	assert_success
	assert_output_contains '"scow.fixture": "layers"'
	run scow save --format oci-dir -o "$TEST_TMP/odir" "$REG/layers:oci"
	assert_success
	[ -f "$TEST_TMP/odir/oci-layout" ] && [ -f "$TEST_TMP/odir/index.json" ]
	run skopeo_ copy -q "oci:$TEST_TMP/odir:$REG/layers:oci" "dir:$TEST_TMP/skdir"
	assert_success
	run scow2 load -i "$TEST_TMP/odir"
	assert_success
	assert_equal "$output" "Loaded image: $REG/layers:oci"
	rm -rf "$TEST_TMP/root2" "$TEST_TMP/run2"
	run scow2 load -i "$TEST_TMP/o.tar"
	assert_success
	assert_equal "$(scow2 image inspect --format '{{.Id}}' "$REG/layers:oci")" "$(id_of "$REG/layers:oci")"
	# oci-dir needs a new or empty directory
	run scow save --format oci-dir -o "$TEST_TMP/odir" "$REG/layers:oci"
	assert_failure
	assert_output_contains "not empty"
}

@test "scow save -> podman load -> podman run; skopeo copy docker-archive: and oci-archive:" {
	run scow pull -q "$REG/layers:docker"
	run scow save -o "$TEST_TMP/d.tar" "$REG/layers:docker"
	assert_success
	run podman_ load -q -i "$TEST_TMP/d.tar"
	assert_success
	assert_output_contains "$REG/layers:docker"
	run podman_ run --rm "$REG/layers:docker" cat /fx/d/new
	assert_success
	assert_equal "$output" "new-layer2"
	run podman_ image inspect --format '{{.Id}}' "$REG/layers:docker"
	assert_equal "sha256:$output" "$(id_of "$REG/layers:docker")"
	run scow save --format oci-archive -o "$TEST_TMP/o.tar" "$REG/layers:docker"
	assert_success
	run podman_ load -q -i "$TEST_TMP/o.tar"
	assert_success
	run skopeo_ copy -q --dest-tls-verify=false "docker-archive:$TEST_TMP/d.tar" "docker://$REG/fromarchive:d"
	assert_success
	run skopeo_ copy -q --dest-tls-verify=false "oci-archive:$TEST_TMP/o.tar" "docker://$REG/fromarchive:o"
	assert_success
	for t in d o; do
		run scow2 pull -q "$REG/fromarchive:$t"
		assert_success
		run scow2 run --rm "$REG/fromarchive:$t" cat /fx/l3
		assert_success
		assert_equal "$output" "layer3"
	done
}

@test "podman save (docker-archive, oci-archive, multi-image) -> scow load -> scow run" {
	run podman_ pull -q --tls-verify=false "$REG/layers:oci"
	run podman_ pull -q --tls-verify=false "$REG/busybox:latest"
	run podman_ save -q --format docker-archive -o "$TEST_TMP/p-d.tar" "$REG/layers:oci"
	assert_success
	run podman_ save -q --format oci-archive -o "$TEST_TMP/p-o.tar" "$REG/layers:oci"
	assert_success
	run podman_ save -q -m -o "$TEST_TMP/p-m.tar" "$REG/layers:oci" "$REG/busybox:latest"
	assert_success
	for f in p-d p-o; do
		rm -rf "$TEST_ROOT" "$TEST_RUNROOT"
		run scow load -i "$TEST_TMP/$f.tar"
		assert_success
		assert_output_contains "Loaded image: $REG/layers:oci"
		run scow run --rm "$REG/layers:oci" sh -c 'cat /fx/d/new; test ! -e /fx/gone'
		assert_success
		assert_equal "$output" "new-layer2"
	done
	run scow load -i "$TEST_TMP/p-m.tar"
	assert_success
	assert_output_contains "Loaded image: $REG/busybox:latest"
	run scow run --rm "$REG/busybox:latest" cat /etc/group
	assert_success
}

# ---- hostile archives ------------------------------------------------------------------

write_hostile_py() {
	cat >"$BATS_FILE_TMPDIR/hostile_archive.py" <<'EOF'
import hashlib, io, json, sys, tarfile
case, out, canary = sys.argv[1], sys.argv[2], sys.argv[3]

def layer_tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in entries:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()

good = layer_tar([("etc/hostname", b"hostile\n")])
def config(diff_ids):
    return json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                       "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()

members = []  # (name, bytes or ("sym", target))
def add(name, data): members.append((name, data))
diff = "sha256:" + hashlib.sha256(good).hexdigest()
cfg = config([diff])
cname = hashlib.sha256(cfg).hexdigest() + ".json"
manifest = json.dumps([{"Config": cname, "RepoTags": ["hostile:" + case], "Layers": ["l.tar"]}]).encode()
if case == "dotdot":
    add("../escape", b"x"); add(cname, cfg); add("l.tar", good); add("manifest.json", manifest)
elif case == "absolute":
    add(canary + "/abs", b"x"); add(cname, cfg); add("l.tar", good); add("manifest.json", manifest)
elif case == "manifest-symlink-abs":
    add(cname, cfg); add("l.tar", good); add("manifest.json", ("sym", canary + "/manifest.json"))
elif case == "manifest-symlink-up":
    add(cname, cfg); add("l.tar", good); add("manifest.json", ("sym", "../../../../../../../../.." + canary + "/manifest.json"))
elif case == "huge-manifest":
    add(cname, cfg); add("l.tar", good)
    add("manifest.json", b"[" + b" " * (5 << 20) + manifest[1:])
elif case == "diff-mismatch":
    bad = config(["sha256:" + "0" * 64])
    bname = hashlib.sha256(bad).hexdigest() + ".json"
    add(bname, bad); add("l.tar", good)
    add("manifest.json", json.dumps([{"Config": bname, "RepoTags": ["hostile:x"], "Layers": ["l.tar"]}]).encode())
elif case == "evil-layer":
    evil = layer_tar([("../../../../../../../.." + canary + "/evil", b"x")])
    d = "sha256:" + hashlib.sha256(evil).hexdigest()
    c = config([d]); n = hashlib.sha256(c).hexdigest() + ".json"
    add(n, c); add("l.tar", evil)
    add("manifest.json", json.dumps([{"Config": n, "RepoTags": ["hostile:x"], "Layers": ["l.tar"]}]).encode())
elif case == "symlinked-layer-ok":
    add(cname, cfg); add("abc/layer.tar", good); add("l.tar", ("sym", "abc/layer.tar"))
    add("manifest.json", manifest)
with tarfile.open(out, "w") as t:
    for name, data in members:
        ti = tarfile.TarInfo(name)
        if isinstance(data, tuple):
            ti.type = tarfile.SYMTYPE; ti.linkname = data[1]
            t.addfile(ti)
        else:
            ti.size = len(data); t.addfile(ti, io.BytesIO(data))
EOF
}

hostile() {
	python3 "$BATS_FILE_TMPDIR/hostile_archive.py" "$1" "$TEST_TMP/$1.tar" "$CANARY"
}

@test "hostile archives are refused; nothing outside the store is touched, nothing left in it" {
	CANARY=$TEST_TMP/canary
	mkdir -p "$CANARY"
	echo '[]' >"$CANARY/manifest.json"
	before=$(find "$CANARY" -printf '%p %m %s %T@ %n\n')
	for c in dotdot absolute manifest-symlink-abs manifest-symlink-up huge-manifest diff-mismatch evil-layer; do
		hostile "$c"
		run scow load -i "$TEST_TMP/$c.tar"
		echo "case $c: $output"
		assert_failure 1
		case $c in
		dotdot) assert_output_contains '".."' ;;
		absolute) assert_output_contains "absolute name" ;;
		manifest-symlink-*) assert_output_contains "refusing the link" ;;
		huge-manifest) assert_output_contains "larger than" ;;
		diff-mismatch) assert_output_contains "diff_id mismatch" ;;
		evil-layer) assert_output_contains "not a layer tar" ;;
		esac
		[ "$(image_count)" -eq 0 ]
		[ "$(layer_count)" -eq 0 ]
		assert_store_clean
	done
	assert_equal "$(find "$CANARY" -printf '%p %m %s %T@ %n\n')" "$before"
	[ ! -e "$TEST_TMP/escape" ] && [ ! -e "$CANARY/evil" ] && [ ! -e "$CANARY/abs" ]
	# a symlink inside the archive, to a member of it, is fine
	hostile symlinked-layer-ok
	run scow load -i "$TEST_TMP/symlinked-layer-ok.tar"
	assert_success
	assert_output_contains "Loaded image: hostile:symlinked-layer-ok"
}

@test "load: not an archive, a terminal, a missing file" {
	head -c 100000 /dev/urandom >"$TEST_TMP/junk"
	run scow load -i "$TEST_TMP/junk"
	assert_failure 1
	assert_output_contains "not an image archive"
	run scow load -i "$TEST_TMP/missing.tar"
	assert_failure 1
	run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" load
	assert_failure
	assert_output_contains "requested load from stdin, but stdin is empty"
	assert_store_clean
}
