#!/usr/bin/env bats
# scow cp: Docker's path rules both ways, running and stopped containers,
# ownership (-a), -L, tar streams, errors, and hostile containers whose
# symlinks (in place or swapped in during the copy) point at host paths
# (SECURITY.md case 18, CVE-2018-15664).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	start_registry plain --only busybox,layers
	export REGISTRY
	IMG=$REGISTRY/busybox
	LIMG=$REGISTRY/layers:oci
	export IMG LIMG
}

teardown_file() {
	stop_registry plain
}

setup() {
	setup_scow
	scow pull -q "$IMG" >/dev/null
	OUT=$TEST_TMP/out
	SRC=$TEST_TMP/src
	mkdir -p "$OUT" "$SRC/dir/sub"
	echo top >"$SRC/file"
	echo hello >"$SRC/dir/sub/f"
	echo a >"$SRC/dir/a"
	chown -R 1000:1000 "$SRC"
	# Host files a hostile container aims at: they must never change.
	CANARY=$TEST_TMP/canary
	mkdir -p "$CANARY/sub"
	echo HOST-SECRET >"$CANARY/secret"
	echo HOST-SECRET >"$CANARY/sub/secret"
	CANARY_SUM=$(canary_sum)
	OVERLAYS=$(overlay_count)
}

teardown() {
	local ids
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f $ids >/dev/null 2>&1 || true
	teardown_scow
}

canary_sum() {
	find "$CANARY" -printf '%p %y %s %m %u:%g %T@\n' | sort | md5sum
	cat "$CANARY/secret" "$CANARY/sub/secret" | md5sum
}

overlay_count() {
	grep -c ' - overlay ' /proc/self/mountinfo || true
}

# No copy left anything mounted (the stopped containers' overlays are
# detached mounts) and the canary is as it was.
assert_clean() {
	assert_equal "$(overlay_count)" "$OVERLAYS"
	assert_equal "$(canary_sum)" "$CANARY_SUM"
}

running() {
	scow run -d --name "$1" "${2:-$IMG}" sleep 1000 >/dev/null
}

@test "cp out of a running container: file, directory, into a directory, SRC/. contents" {
	running c1
	scow exec c1 sh -c 'mkdir -p /data/sub && echo one >/data/f && echo two >/data/sub/g'
	run scow cp c1:/etc/passwd "$OUT/passwd"
	assert_success
	assert_equal "$output" ""
	grep -q '^user:x:1000:1000:test user' "$OUT/passwd"
	# a file into an existing directory keeps its name; relative container paths
	run scow cp c1:etc/group "$OUT"
	assert_success
	grep -q '^extra:x:1001:user' "$OUT/group"
	# a file onto an existing file overwrites it
	echo old >"$OUT/over"
	scow cp c1:/data/f "$OUT/over"
	assert_equal "$(cat "$OUT/over")" "one"
	# a directory to a new path becomes that path
	scow cp c1:/data "$OUT/d1"
	assert_equal "$(cat "$OUT/d1/f" "$OUT/d1/sub/g")" $'one\ntwo'
	# a directory to an existing directory goes inside it
	scow cp c1:/data "$OUT/d1"
	assert_equal "$(cat "$OUT/d1/data/sub/g")" "two"
	# DIR/. copies what is inside
	mkdir "$OUT/d2"
	scow cp c1:/data/. "$OUT/d2"
	assert_equal "$(ls "$OUT/d2")" $'f\nsub'
	# a running container's volumes are seen
	scow run -d --name c2 -v vol:/vol "$IMG" sh -c 'echo in-volume >/vol/v; exec sleep 1000' >/dev/null
	for i in $(seq 50); do scow exec c2 test -s /vol/v && break; sleep 0.1; done
	scow cp c2:/vol/v "$OUT/v"
	assert_equal "$(cat "$OUT/v")" "in-volume"
	# the whole root: its /proc and /sys come out empty, as from Docker
	scow cp c1:/ "$OUT/root"
	grep -q 'test user' "$OUT/root/etc/passwd"
	[ -d "$OUT/root/proc" ] && [ -z "$(ls -A "$OUT/root/proc")" ] && [ -z "$(ls -A "$OUT/root/sys")" ]
	run bash -c "'$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' cp c1:/ - | tar -tf -"
	assert_success
	assert_output_contains "./etc/passwd"
	refute_output_contains "./proc/1"
	# container cp is the same command
	run scow container cp c1:/data/f "$OUT/alias"
	assert_success
	assert_equal "$(cat "$OUT/alias")" "one"
	assert_clean
}

@test "cp into a running container: file, directory, into a directory, contents, overwrite" {
	running c1
	scow cp "$SRC/file" c1:/tmp/
	scow cp "$SRC/file" c1:/tmp/renamed
	scow cp "$SRC/dir" c1:/tmp/newdir
	scow exec c1 mkdir /tmp/exists
	scow cp "$SRC/dir" c1:/tmp/exists
	scow exec c1 mkdir /tmp/contents
	scow cp "$SRC/dir/." c1:/tmp/contents
	run scow exec c1 sh -c 'cat /tmp/file /tmp/renamed /tmp/newdir/sub/f /tmp/exists/dir/sub/f; ls /tmp/contents'
	assert_success
	assert_equal "$output" $'top\ntop\nhello\nhello\na\nsub'
	# overwrite an existing file; the mode comes from the source
	scow exec c1 sh -c 'echo old >/tmp/over; chmod 600 /tmp/over'
	chmod 0640 "$SRC/file"
	scow cp "$SRC/file" c1:/tmp/over
	run scow exec c1 stat -c '%a %s' /tmp/over
	assert_equal "$output" "640 4"
	# a symlink as DEST is followed inside the container
	scow exec c1 ln -s /tmp/exists /tmp/link
	scow cp "$SRC/file" c1:/tmp/link
	run scow exec c1 cat /tmp/exists/file
	assert_equal "$output" "top"
	# mounts in the container are written to (a tmpfs here)
	scow rm -f c1 >/dev/null
	scow run -d --name c2 --tmpfs /scratch "$IMG" sleep 1000 >/dev/null
	scow cp "$SRC/file" c2:/scratch/
	run scow exec c2 cat /scratch/file
	assert_equal "$output" "top"
	assert_clean
}

@test "cp with stopped containers: created and exited, through a detached overlay" {
	scow pull -q "$LIMG" >/dev/null
	scow create --name s1 "$LIMG" cat /tmp/file /fx/d/new >/dev/null
	# out of a container that never ran: the image's layers, whiteouts applied
	scow cp s1:/fx "$OUT/fx"
	assert_equal "$(cat "$OUT/fx/l3" "$OUT/fx/d/new")" $'layer3\nnew-layer2'
	[ ! -e "$OUT/fx/gone" ]
	[ ! -e "$OUT/fx/d/a" ]
	[ -L "$OUT/fx/f" ]
	assert_equal "$(stat -c '%Y' "$OUT/fx/mtime")" "1000000000"
	# into it: written to its upper dir, seen when it starts
	scow cp "$SRC/file" s1:/tmp/file
	echo changed >"$SRC/new"
	scow cp "$SRC/new" s1:/fx/d/new
	[ -f "$TEST_ROOT/containers/$(scow inspect -f '{{.Id}}' s1)/upper/tmp/file" ]
	run scow start -a s1
	assert_success
	assert_equal "$output" $'top\nchanged'
	# out of an exited container: what it wrote, over the image
	scow run --name s2 "$IMG" sh -c 'echo written >/tmp/w; rm -f /etc/group' >/dev/null
	scow cp s2:/tmp/w "$OUT/w"
	assert_equal "$(cat "$OUT/w")" "written"
	run scow cp s2:/etc/group "$OUT/group"
	assert_failure 1
	assert_equal "$output" "Error response from daemon: Could not find the file /etc/group in container s2"
	# the container still starts afterwards (the lock and the mount are gone)
	run scow start -a s2
	assert_success
	assert_clean
}

@test "a stopped container cannot start while cp holds it" {
	scow create --name s1 "$IMG" true >/dev/null
	local id fifo=$TEST_TMP/fifo
	id=$(scow inspect -f '{{.Id}}' s1)
	mkfifo "$fifo"
	exec 7<>"$fifo" # (fd 3 is bats' own)
	scow cp - s1:/tmp <"$fifo" &
	local pid=$! i
	for i in $(seq 100); do
		flock -n "$TEST_ROOT/containers/$id/supervisor.lock" true 2>/dev/null || break
		sleep 0.1
	done
	# (start sees it busy as if it ran: Docker's "already started" answer)
	scow start s1 >/dev/null || true
	assert_equal "$(scow inspect -f '{{.State.Status}}' s1)" "created"
	tar -C "$SRC" -cf - file >&7
	exec 7>&-
	wait "$pid"
	run scow start -a s1
	assert_success
	scow cp s1:/tmp/file "$OUT/file"
	assert_equal "$(cat "$OUT/file")" "top"
	assert_clean
}

@test "ownership: the container's root in, the caller out; -a keeps the source's" {
	running c1
	scow cp "$SRC/dir" c1:/tmp/plain
	scow cp -a "$SRC/dir" c1:/tmp/kept
	run scow exec c1 stat -c '%u:%g' /tmp/plain /tmp/plain/sub/f /tmp/kept /tmp/kept/sub/f
	assert_equal "$output" $'0:0\n0:0\n1000:1000\n1000:1000'
	scow exec c1 sh -c 'mkdir /o && echo x >/o/f && chown -R 1234:5678 /o && chmod 640 /o/f'
	scow cp c1:/o "$OUT/plain"
	scow cp --archive c1:/o "$OUT/kept"
	assert_equal "$(stat -c '%u:%g %a' "$OUT/plain" "$OUT/plain/f")" $'0:0 755\n0:0 640'
	assert_equal "$(stat -c '%u:%g %a' "$OUT/kept" "$OUT/kept/f")" $'1234:5678 755\n1234:5678 640'
	# a stopped container the same way
	scow stop -t 0 c1 >/dev/null
	scow cp "$SRC/file" c1:/tmp/s-plain
	scow cp -a "$SRC/file" c1:/tmp/s-kept
	scow cp -a c1:/tmp/s-plain "$OUT/s-plain"
	scow cp -a c1:/tmp/s-kept "$OUT/s-kept"
	assert_equal "$(stat -c '%u:%g' "$OUT/s-plain" "$OUT/s-kept")" $'0:0\n1000:1000'
	assert_clean
}

@test "-L follows a symlink in SRC_PATH; without it the link itself is copied" {
	running c1
	scow exec c1 sh -c 'ln -s /etc/passwd /tmp/pl; ln -s /etc /tmp/el'
	scow cp c1:/tmp/pl "$OUT/nolink"
	[ -L "$OUT/nolink" ]
	assert_equal "$(readlink "$OUT/nolink")" "/etc/passwd"
	scow cp -L c1:/tmp/pl "$OUT/followed"
	[ -f "$OUT/followed" ] && [ ! -L "$OUT/followed" ]
	grep -q 'test user' "$OUT/followed"
	# into a directory it keeps the link's name
	mkdir "$OUT/d"
	scow cp --follow-link c1:/tmp/pl "$OUT/d"
	grep -q 'test user' "$OUT/d/pl"
	# DIR/ follows the link to a directory (the container's /etc)
	scow cp c1:/tmp/el/ "$OUT/etc"
	grep -q 'test user' "$OUT/etc/passwd"
	# host side: a symlink as SRC is copied as a link unless -L
	ln -s "$SRC/file" "$TEST_TMP/hostlink"
	scow cp "$TEST_TMP/hostlink" c1:/tmp/hl1
	scow cp -L "$TEST_TMP/hostlink" c1:/tmp/hl2
	run scow exec c1 sh -c 'readlink /tmp/hl1; cat /tmp/hl2'
	assert_equal "$output" "$SRC/file"$'\ntop'
	assert_clean
}

@test "tar streams: cp CTR:PATH - and cp - CTR:DIR" {
	running c1
	scow exec c1 sh -c 'mkdir -p /data/sub && echo one >/data/f && echo two >/data/sub/g && ln -s f /data/l'
	scow cp c1:/data - >"$OUT/data.tar"
	assert_equal "$(tar -tf "$OUT/data.tar")" $'data/\ndata/f\ndata/l\ndata/sub/\ndata/sub/g'
	scow cp c1:/data/f - >"$OUT/f.tar"
	assert_equal "$(tar -tf "$OUT/f.tar")" "f"
	assert_equal "$(tar -xOf "$OUT/f.tar" f)" "one"
	# a symlink with -L: the target's content under the link's name
	scow cp -L c1:/data/l - >"$OUT/l.tar"
	assert_equal "$(tar -tvf "$OUT/l.tar" | cut -c1)" "-"
	assert_equal "$(tar -xOf "$OUT/l.tar" l)" "one"
	# from stdin into a directory, owned by root unless -a
	scow exec c1 mkdir /in
	tar -C "$SRC" -cf - dir file | scow cp - c1:/in
	run scow exec c1 sh -c 'cat /in/file /in/dir/sub/f; stat -c %u:%g /in/dir/sub/f'
	assert_equal "$output" $'top\nhello\n0:0'
	tar -C "$SRC" -cf - dir | scow cp -a - c1:/in/
	run scow exec c1 stat -c %u:%g /in/dir/sub/f
	assert_equal "$output" "1000:1000"
	# what cp writes, cp reads back (a stopped container too)
	scow stop -t 0 c1 >/dev/null
	scow cp c1:/data - | scow cp - c1:/in
	scow cp c1:/in/data/sub/g "$OUT/g"
	assert_equal "$(cat "$OUT/g")" "two"
	# the destination of a stream must be a directory
	run scow cp - c1:/in/file </dev/null
	assert_failure 1
	assert_output_contains 'destination "c1:/in/file" must be a directory'
	assert_clean
}

@test "errors: missing paths and containers, bad arguments, Docker's messages and exit codes" {
	running c1
	run scow cp c1:/nope "$OUT/x"
	assert_failure 1
	assert_equal "$output" "Error response from daemon: Could not find the file /nope in container c1"
	run scow cp nosuch:/etc/passwd "$OUT/x"
	assert_failure 1
	assert_equal "$output" "Error response from daemon: No such container: nosuch"
	run scow cp "$SRC/file" nosuch:/tmp
	assert_failure 1
	assert_output_contains "No such container: nosuch"
	run scow cp "$SRC/nope" c1:/tmp
	assert_failure 1
	assert_output_contains "lstat $SRC/nope: No such file or directory"
	run scow cp "$SRC/file" c1:/nodir/x
	assert_failure 1
	assert_output_contains "Could not find the file /nodir in container c1"
	# DEST ending in / must be an existing directory for a file
	run scow cp "$SRC/file" c1:/tmp/newdir/
	assert_failure 1
	assert_output_contains "no such directory"
	run scow cp c1:/etc/passwd "$OUT/newdir/"
	assert_failure 1
	assert_output_contains "no such directory"
	run scow cp c1:/etc/passwd "$OUT/a/b"
	assert_failure 1
	assert_output_contains "invalid output path: directory \"$OUT/a\" does not exist"
	# a directory onto a file
	echo x >"$OUT/file"
	run scow cp c1:/etc "$OUT/file"
	assert_failure 1
	assert_output_contains "cannot copy directory"
	run scow cp "$SRC/dir" c1:/etc/passwd
	assert_failure 1
	assert_output_contains "cannot copy directory"
	# arguments
	run scow cp "$SRC/file" "$OUT/x"
	assert_failure 1
	assert_output_contains "must specify at least one container source"
	run scow cp c1:/a c1:/b
	assert_failure 1
	assert_output_contains "copying between containers is not supported"
	run scow cp c1:/a
	assert_failure 125
	assert_output_contains '"scow cp" requires exactly 2 arguments'
	# a read-only root: refused (its volumes are still writable)
	scow run -d --name ro --read-only -v vol:/data "$IMG" sleep 1000 >/dev/null
	run scow cp "$SRC/file" ro:/tmp/
	assert_failure 1
	assert_equal "$output" "Error response from daemon: container rootfs is marked read-only"
	run scow cp "$SRC/file" ro:/data/
	assert_success
	assert_clean
}

# A container's symlinks resolve inside the container, whatever they
# point at: the host's /etc and the canary are never read or written.
hostile_checks() {
	local c=$1 marker=scow-cp-marker-$$-$RANDOM
	# read through a symlinked component: the container's file, not the host's
	run scow cp "$c:/tmp/etc/passwd" "$OUT/passwd-$c"
	assert_success
	grep -q 'test user' "$OUT/passwd-$c"
	run scow cp "$c:/tmp/evil/secret" "$OUT/secret-$c"
	assert_failure 1
	assert_output_contains "Could not find the file /tmp/evil/secret in container $c"
	[ ! -e "$OUT/secret-$c" ]
	run scow cp -L "$c:/tmp/evil" "$OUT/evil-$c"
	assert_failure 1
	run scow cp "$c:/tmp/rel/" - </dev/null
	assert_failure 1
	# a symlink as the target is copied as a link (it points nowhere on the host's side of the copy)
	scow cp "$c:/tmp/evil" "$OUT/link-$c"
	[ -L "$OUT/link-$c" ]
	# writes through symlinks to /etc land in the container's /etc
	cp "$SRC/file" "$TEST_TMP/$marker"
	scow cp "$TEST_TMP/$marker" "$c:/tmp/etc/"
	[ ! -e "/etc/$marker" ]
	scow cp "$c:/etc/$marker" "$OUT/$marker"
	assert_equal "$(cat "$OUT/$marker")" "top"
	# writes into or onto a link to the canary fail (no such path in the container)
	run scow cp "$SRC/file" "$c:/tmp/evil/"
	assert_failure 1
	run scow cp "$SRC/file" "$c:/tmp/evil"
	assert_failure 1
	run scow cp "$SRC/dir" "$c:/tmp/rel/sub"
	assert_failure 1
	tar -C "$SRC" -cf - file | scow cp - "$c:/tmp/evil" || true
	assert_clean
}

hostile_setup='ln -s "$1" /tmp/evil; ln -s /etc /tmp/etc; ln -s "../../../../../../../..$1" /tmp/rel'

@test "hostile: symlinks to host paths in a running container never reach the host" {
	scow run -d --name h1 "$IMG" sh -c "$hostile_setup; exec sleep 1000" sh "$CANARY" >/dev/null
	hostile_checks h1
	# once the container has such a directory itself, that is where writes go
	scow exec h1 sh -c "mkdir -p $CANARY/sub && echo container >$CANARY/secret"
	scow cp "$SRC/file" h1:/tmp/evil/sub/
	run scow exec h1 cat "$CANARY/sub/file"
	assert_equal "$output" "top"
	scow cp h1:/tmp/rel/secret "$OUT/rel-secret"
	assert_equal "$(cat "$OUT/rel-secret")" "container"
	scow cp -L h1:/tmp/evil "$OUT/evil-dir"
	assert_equal "$(cat "$OUT/evil-dir/secret")" "container"
	assert_clean
}

@test "hostile: symlinks to host paths in a stopped container never reach the host" {
	scow run --name h2 "$IMG" sh -c "$hostile_setup" sh "$CANARY"
	hostile_checks h2
	assert_clean
}

@test "hostile: a tar stream cannot climb out or write through a symlink to the host" {
	running c1
	scow exec c1 sh -c "mkdir /in && ln -s $CANARY /in/evil"
	python3 - "$TEST_TMP" "$CANARY" <<'EOF'
import io, sys, tarfile
tmp, canary = sys.argv[1], sys.argv[2]
def tar(name, entries):
    with tarfile.open(f"{tmp}/{name}.tar", "w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            ti = tarfile.TarInfo(e[0])
            if e[1] == "file":
                data = b"PWNED\n"
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            elif e[1] == "sym":
                ti.type, ti.linkname = tarfile.SYMTYPE, e[2]
                t.addfile(ti)
            elif e[1] == "hard":
                ti.type, ti.linkname = tarfile.LNKTYPE, e[2]
                t.addfile(ti)
tar("up", [("../../../../../.." + canary + "/pwned", "file")])
tar("through", [("evil/pwned", "file")])
tar("newlink", [("lnk", "sym", canary), ("lnk/pwned", "file")])
tar("hard", [("h", "hard", "../../../../.." + canary + "/secret")])
tar("abs", [(canary + "/pwned", "file")])
EOF
	local t
	for t in up through newlink hard; do
		run scow cp - c1:/in <"$TEST_TMP/$t.tar"
		assert_failure 1
	done
	# an absolute name is taken inside the destination, as Docker does
	scow cp - c1:/in <"$TEST_TMP/abs.tar"
	run scow exec c1 cat "/in$CANARY/pwned"
	assert_equal "$output" "PWNED"
	[ ! -e "$CANARY/pwned" ]
	assert_clean
}

@test "hostile: symlinks swapped during copies never make cp read or write host paths" {
	# The container flips /tmp/sw between a real directory and a symlink to
	# the canary as fast as it can, while cp copies in and out through it.
	scow run -d --name sw "$IMG" sh -c '
		while :; do
			rm -rf /tmp/sw; mkdir -p /tmp/sw/sub
			echo container >/tmp/sw/secret; echo container >/tmp/sw/sub/secret
			rm -rf /tmp/sw; ln -s "$1" /tmp/sw
			rm -f /tmp/ff; echo container >/tmp/ff; rm -f /tmp/ff; mkfifo /tmp/ff
		done' sh "$CANARY" >/dev/null
	local i ok=0
	for i in $(seq 60); do
		# a fifo swapped in for a file is never opened (that would hang)
		run timeout 20 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" cp sw:/tmp/ff "$OUT/ff$i"
		[ "$status" -ne 124 ]
		run timeout 20 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" cp sw:/tmp/ff -
		[ "$status" -ne 124 ]
		scow cp sw:/tmp/sw "$OUT/o$i" 2>/dev/null && ok=$((ok + 1)) || true
		scow cp -L sw:/tmp/sw/secret "$OUT/s$i" 2>/dev/null || true
		scow cp sw:/tmp/sw/sub/ - 2>/dev/null >"$OUT/t$i.tar" || true
		scow cp "$SRC/dir" sw:/tmp/sw/ 2>/dev/null || true
		scow cp "$SRC/file" sw:/tmp/sw/sub/secret 2>/dev/null || true
		tar -C "$SRC" -cf - file | scow cp - sw:/tmp/sw/sub 2>/dev/null || true
		assert_equal "$(canary_sum)" "$CANARY_SUM"
	done
	# something was copied, and never the host's secret
	[ "$ok" -gt 0 ]
	# (the tar streams are in $OUT too, their contents uncompressed)
	run grep -rl -D skip HOST-SECRET "$OUT"
	assert_failure 1
	assert_clean
}
