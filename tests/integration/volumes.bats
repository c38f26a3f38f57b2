#!/usr/bin/env bats
# Volumes: the volume commands, named and anonymous volumes in containers,
# seeding from the image (copy-up), --mount type=volume, --volumes-from,
# driver options, removal with rm -v / --rm / prune.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	start_registry plain --only busybox,layers
	export REGISTRY
	IMG=$REGISTRY/busybox
	VIMG=$REGISTRY/layers:volumes
	export IMG VIMG
}

teardown_file() {
	stop_registry plain
}

setup() {
	setup_scow
	scow pull -q "$IMG" >/dev/null
}

teardown() {
	local ids
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f $ids >/dev/null 2>&1 || true
	teardown_scow
}

volume_count() {
	scow volume ls -q | wc -l
}

@test "volume create, ls, inspect, rm: Docker's output and exit codes" {
	run scow volume create data
	assert_success
	assert_equal "$output" "data"
	# creating an existing volume hands back the same one
	echo keep >"$TEST_ROOT/volumes/data/_data/f"
	run scow volume create data
	assert_success
	[ -f "$TEST_ROOT/volumes/data/_data/f" ]
	run scow volume create --label a=1 --label b=2 --name other
	assert_success
	run scow volume ls
	assert_success
	assert_equal "${lines[0]}" "DRIVER    VOLUME NAME"
	[[ "${lines[1]}" =~ ^local\ +data$ ]]
	[[ "${lines[2]}" =~ ^local\ +other$ ]]
	run scow volume ls --filter label=a=1 --format '{{.Name}} {{.Labels}} {{.Mountpoint}}'
	assert_equal "$output" "other a=1,b=2 $TEST_ROOT/volumes/other/_data"
	run scow volume inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Mountpoint}}' data
	assert_equal "$output" "data local local $TEST_ROOT/volumes/data/_data"
	run scow volume inspect data
	[[ "$(echo "$output" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Name"])')" == data ]]
	run scow volume inspect nosuch
	assert_failure 1
	assert_output_contains "No such volume: nosuch"
	run scow volume rm data other
	assert_success
	assert_equal "$output" $'data\nother'
	run scow volume rm data
	assert_failure 1
	assert_output_contains "no such volume"
	run scow volume rm -f data
	assert_success
	[ "$(volume_count)" -eq 0 ]
}

@test "volume create refuses bad names, drivers and options; nothing is created" {
	for bad in ../x a/b .hidden x 'a b' "$(printf 'x%.0s' {1..300})"; do
		run scow volume create "$bad"
		assert_failure 1
		assert_output_contains "includes invalid characters for a local volume name"
	done
	run scow volume create --driver nfs x1
	assert_failure 1
	assert_output_contains 'volume driver "nfs" is not available'
	run scow volume create --opt foo=bar x1
	assert_failure 1
	assert_output_contains 'invalid option key: "foo"'
	run scow volume create --name a1 b1
	assert_failure
	assert_output_contains "conflicting options"
	[ "$(volume_count)" -eq 0 ]
	[ -z "$(ls -A "$TEST_ROOT/volumes")" ]
}

@test "a named volume keeps data across containers; :ro refuses writes" {
	scow run --rm -v data:/data "$IMG" sh -c 'echo hello >/data/f'
	run scow run --rm -v data:/d "$IMG" cat /d/f
	assert_success
	assert_equal "$output" "hello"
	assert_equal "$(cat "$TEST_ROOT/volumes/data/_data/f")" "hello"
	run scow run --rm -v data:/d:ro "$IMG" sh -c 'echo x >/d/g'
	assert_failure
	assert_output_contains "Read-only file system"
	run scow run --rm --mount type=volume,source=data,target=/d,readonly "$IMG" touch /d/g
	assert_failure
	[ ! -e "$TEST_ROOT/volumes/data/_data/g" ]
	# named volumes outlive their containers, with or without -v
	scow run --name c1 -v data:/d "$IMG" true
	scow rm -v c1 >/dev/null
	run scow volume ls -q
	assert_equal "$output" "data"
}

@test "copy-up: an empty volume is seeded from the image, owners, modes and symlinks kept" {
	scow pull -q "$REGISTRY/layers:oci" >/dev/null
	scow run --rm -v fx:/fx "$REGISTRY/layers:oci" true
	local d=$TEST_ROOT/volumes/fx/_data
	assert_equal "$(cat "$d/l3")" "layer3"
	assert_equal "$(stat -c '%u:%g %a' "$d/owned")" "1234:5678 640"
	assert_equal "$(stat -c '%a %g' "$d/sgid")" "2775 1001"
	assert_equal "$(stat -c '%a' "$d/suid")" "4755"
	assert_equal "$(stat -c '%Y' "$d/mtime")" "1000000000"
	# symlinks are copied as symlinks, never followed (link-abs points
	# at /fx/d/b, which would be the host's path if it were followed)
	[ -L "$d/link-abs" ]
	assert_equal "$(readlink "$d/link-abs")" "/fx/d/b"
	[ -L "$d/f" ]
	# the volume root takes the image directory's owner and mode
	assert_equal "$(stat -c '%a' "$d")" "$(scow run --rm "$REGISTRY/layers:oci" stat -c %a /fx)"
	# seeded once: what the container changed stays, nothing is re-copied
	scow run --rm -v fx:/fx "$REGISTRY/layers:oci" sh -c 'rm /fx/l3; echo mine >/fx/f2'
	scow run --rm -v fx:/fx "$REGISTRY/layers:oci" true
	[ ! -e "$d/l3" ]
	assert_equal "$(cat "$d/f2")" "mine"
	# nocopy leaves a new volume empty
	scow run --rm -v empty:/fx:nocopy "$REGISTRY/layers:oci" true
	[ -z "$(ls -A "$TEST_ROOT/volumes/empty/_data")" ]
	scow run --rm --mount type=volume,src=empty2,dst=/fx,volume-nocopy "$REGISTRY/layers:oci" true
	[ -z "$(ls -A "$TEST_ROOT/volumes/empty2/_data")" ]
}

@test "copy-up never follows an image's symlinked volume target out of the root" {
	scow pull -q "$REGISTRY/layers:oci" >/dev/null
	# /fx/link-abs -> /fx/d/b, dangling in the image: resolved inside the
	# container root it leads nowhere; the host's /fx is never created
	run scow run --rm -v vv:/fx/link-abs "$REGISTRY/layers:oci" true
	assert_failure 125
	assert_output_contains "/fx/link-abs"
	[ ! -e /fx ]
	# /fx/f -> d/new, a file: not a directory to mount a volume on
	run scow run --rm -v vv:/fx/f "$REGISTRY/layers:oci" true
	assert_failure 125
	assert_output_contains "not a directory"
	# a relative symlink to a directory resolves inside the root: /fx/d
	scow run --rm "$REGISTRY/layers:oci" true
	run scow run --rm -v ww:/fx/../../../fx/d "$REGISTRY/layers:oci" ls /fx/d
	assert_success
	assert_output_contains "l3"
	[ -f "$TEST_ROOT/volumes/ww/_data/l3" ]
}

@test "anonymous volumes: -v /path and the image's VOLUMEs; rm -v removes them" {
	scow pull -q "$VIMG" >/dev/null
	scow create --name c1 -v /anon "$VIMG" >/dev/null
	run scow inspect -f '{{json .Config.Volumes}}' c1
	assert_equal "$output" '{"/anon":{},"/fx/d":{},"/fx/new":{}}'
	run scow inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}} {{.Driver}} {{.RW}}{{"\n"}}{{end}}' c1
	assert_output_contains "volume /fx/d local true"
	assert_output_contains "volume /fx/new local true"
	assert_output_contains "volume /anon local true"
	[ "$(volume_count)" -eq 3 ]
	# the image's /fx/d is seeded at start; /fx/new did not exist
	run scow start -a c1 </dev/null
	local dvol
	dvol=$(scow inspect -f '{{range .Mounts}}{{if eq .Destination "/fx/d"}}{{.Name}}{{end}}{{end}}' c1)
	[ -f "$TEST_ROOT/volumes/$dvol/_data/l3" ]
	# a user mount on an image VOLUME's target replaces the anonymous one
	scow create --name c2 -v named:/fx/d "$VIMG" >/dev/null
	[ "$(volume_count)" -eq 5 ]
	scow rm c2 >/dev/null
	[ "$(volume_count)" -eq 5 ]
	scow rm -v c1 >/dev/null
	[ "$(volume_count)" -eq 2 ] # named, and c2's anonymous /fx/new (no -v)
	[ -d "$TEST_ROOT/volumes/named" ]
}

@test "run --rm removes its anonymous volumes before it returns, not named ones" {
	scow run --rm -v /anon -v kept:/kept "$IMG" sh -c 'echo x >/anon/f; echo y >/kept/f'
	run scow volume ls -q
	assert_equal "$output" "kept"
	scow run -d --rm -v /anon2 "$IMG" true >/dev/null
	for _ in $(seq 100); do
		[ "$(volume_count)" -eq 1 ] && break
		sleep 0.05
	done
	[ "$(volume_count)" -eq 1 ]
}

@test "a volume in use cannot be removed; prune takes only unused ones" {
	scow volume create named >/dev/null
	scow create --name c1 -v named:/d -v /anon "$IMG" >/dev/null
	scow create --name c2 -v /anon2 "$IMG" >/dev/null
	scow rm c2 >/dev/null # its anonymous volume is left, now unused
	scow volume create idle >/dev/null
	run scow volume rm named
	assert_failure 1
	assert_output_contains "volume is in use"
	[ -d "$TEST_ROOT/volumes/named/_data" ]
	run scow volume ls -q --filter dangling=true
	assert_equal "$(echo "$output" | wc -l)" 2
	assert_output_contains "idle"
	# prune: anonymous and unused only
	run scow volume prune -f
	assert_success
	assert_output_contains "Deleted Volumes:"
	assert_output_contains "Total reclaimed space:"
	refute_output_contains "idle"
	[ "$(volume_count)" -eq 3 ]
	# -a: named ones too, still never one in use
	run scow volume prune -af
	assert_success
	assert_output_contains "idle"
	refute_output_contains "named"
	[ "$(volume_count)" -eq 2 ]
	scow rm c1 >/dev/null
	scow volume rm named >/dev/null
}

@test "--volumes-from shares another container's volumes, :ro makes them read-only" {
	scow create --name src -v data:/data -v /anon "$IMG" >/dev/null
	scow run --rm --volumes-from src "$IMG" sh -c 'echo a >/data/f; echo b >/anon/f'
	run scow run --rm --volumes-from src:ro "$IMG" sh -c 'cat /data/f /anon/f; touch /data/g'
	assert_failure
	assert_output_contains "a"
	assert_output_contains "Read-only file system"
	# a mount of one's own wins over the other container's on that target
	run scow run --rm -v other:/data --volumes-from src "$IMG" ls /data
	assert_success
	assert_equal "$output" ""
	# the borrowed anonymous volume is not removed with the borrower
	scow run --name b --volumes-from src "$IMG" true
	scow rm -v b >/dev/null
	[ "$(volume_count)" -eq 3 ]
	run scow run --rm --volumes-from nosuch "$IMG" true
	assert_failure 125
	assert_output_contains "No such container: nosuch"
}

@test "driver options: a tmpfs volume is mounted in the container only" {
	scow volume create --opt type=tmpfs --opt device=tmpfs --opt o=size=1m,noexec tv >/dev/null
	run scow run --rm -v tv:/t "$IMG" sh -c 'grep " /t " /proc/mounts'
	assert_success
	assert_output_contains "tmpfs /t tmpfs rw,noexec"
	assert_output_contains "size=1024k"
	run scow run --rm --mount type=volume,dst=/u,volume-opt=type=tmpfs,volume-opt=device=tmpfs "$IMG" sh -c 'grep " /u " /proc/mounts'
	assert_output_contains "tmpfs /u tmpfs"
	# a bind volume (type none, o=bind) shows the device directory
	mkdir "$TEST_TMP/dev" && echo hostfile >"$TEST_TMP/dev/f"
	scow volume create -o type=none -o o=bind -o device="$TEST_TMP/dev" bv >/dev/null
	run scow run --rm -v bv:/b "$IMG" cat /b/f
	assert_equal "$output" "hostfile"
	# nothing was mounted on the host
	! grep -q "$TEST_ROOT/volumes" /proc/self/mountinfo
}

@test "bad volume options fail with 125 and create nothing" {
	for spec in 'bad$name:/x' 'x:relative' 'x:/' 'x:/y:shared' 'x:/y:bogus'; do
		run scow run --rm -v "$spec" "$IMG" true
		assert_failure 125
	done
	run scow run --rm --mount type=volume,src=x,dst=/y,bind-propagation=shared "$IMG" true
	assert_failure 125
	run scow run --rm --mount type=volume,src=x,dst=/y,volume-driver=nfs "$IMG" true
	assert_failure 125
	assert_output_contains 'volume driver "nfs" is not available'
	run scow run --rm --mount type=bind,src=/tmp,dst=/y,volume-nocopy "$IMG" true
	assert_failure 125
	run scow run --rm --volumes-from nosuch:xx "$IMG" true
	assert_failure 125
	[ "$(volume_count)" -eq 0 ]
	[ -z "$(ls -A "$TEST_ROOT/containers")" ]
}
