#!/usr/bin/env bats
# SECURITY.md cases 1-10: hostile layers, served by the fault registry and
# pulled for real. Every escape aims at a canary directory, which must be
# unchanged afterwards; a refused layer must leave nothing in the store.

load helpers

# Cases scaled down from SECURITY.md's figures to keep CI within its time;
# the code paths (streaming, bounded memory, ENOSPC) are the same.
export HOSTILE_BOMB_BYTES=$((512 << 20))
export HOSTILE_MANY_ENTRIES=200000
export HOSTILE_DEEP_DEPTH=5000

setup_file() {
	CANARY=$BATS_FILE_TMPDIR/canary
	mkdir -p "$CANARY"
	echo "root:x:0:0:canary:/root:/bin/sh" >"$CANARY/passwd"
	chmod 0644 "$CANARY/passwd"
	export CANARY HOSTILE_TARGET_DIR=$CANARY
	local repos=() c
	for c in $(python3 "$FIXTURES/hostile.py" list); do
		if python3 "$FIXTURES/hostile.py" build "$c" "$BATS_FILE_TMPDIR/layouts/$c" >/dev/null; then
			repos+=(--repo "hostile/$c=$BATS_FILE_TMPDIR/layouts/$c")
		fi
	done
	start_fake hostile "${repos[@]}"
	export FAKE
	canary_state >"$BATS_FILE_TMPDIR/canary.before"
}

teardown_file() {
	stop_fake hostile
}

canary_state() {
	(cd "$CANARY" && find . -printf '%p %m %u:%g %n %s\n' | sort && sha256sum passwd)
}

setup() {
	setup_scow
}

teardown() {
	local bad=0
	canary_state | diff "$BATS_FILE_TMPDIR/canary.before" - >&2 || bad=1
	[[ ! -e /abs ]] || bad=1
	teardown_scow || bad=1
	return $bad
}

pull_case() {
	run scow pull "$FAKE/hostile/$1:latest"
}

# The merged view of a pulled image, mounted read-only at $MNT.
mount_image() {
	local upper lower
	upper=$(scow image inspect --format '{{.GraphDriver.Data.UpperDir}}' "$FAKE/hostile/$1")
	lower=$(scow image inspect --format '{{if .GraphDriver.Data.LowerDir}}{{.GraphDriver.Data.LowerDir}}{{end}}' "$FAKE/hostile/$1")
	MNT=$TEST_TMP/mnt
	mkdir -p "$MNT"
	mount -t overlay overlay -o "ro,lowerdir=$upper${lower:+:$lower}" "$MNT"
}

refused() {
	assert_failure 1
	[ "$(image_count)" -eq 0 ]
	assert_store_clean
}

@test "1: ../ names never leave the layer" {
	pull_case dotdot
	refused
	assert_output_contains '".."'
	[ ! -e "$TEST_ROOT/x" ] && [ ! -e "$TEST_ROOT/layers/x" ] && [ ! -e "$TEST_TMP/y" ]
}

@test "1: absolute names land inside the layer" {
	pull_case absolute
	assert_success
	mount_image absolute
	[ -f "$MNT/abs/x" ] && [ -f "$MNT$CANARY/evil" ]
	umount "$MNT"
	[ ! -e "$CANARY/evil" ]
}

@test "2: writes through symlinks stay inside the layer (absolute, relative, chained, replaced dir)" {
	for c in symlink_abs symlink_rel symlink_chain dir_then_symlink; do
		run scow pull "$FAKE/hostile/$c:latest"
		echo "$c: $status $output" >&2
		# either written inside the layer or refused; never outside (teardown)
		if [ "$status" -ne 0 ]; then assert_store_clean; fi
	done
	[ ! -e "$TEST_TMP/x" ]
}

@test "3: hardlinks to outside paths are refused" {
	for c in hardlink_abs hardlink_rel hardlink_via_symlink; do
		run scow pull "$FAKE/hostile/$c:latest"
		echo "$c: $output" >&2
		refused
	done
	[ "$(stat -c %h "$CANARY/passwd")" -eq 1 ]
}

@test "3: a hardlink to a symlink then chmod never changes the host file" {
	pull_case hardlink_to_symlink_chmod
	if [ "$status" -eq 0 ]; then
		mount_image hardlink_to_symlink_chmod
		local h
		h=$(stat -c '%F %a %s' "$MNT/h")
		umount "$MNT"
		[ "$h" = "regular empty file 777 0" ]
	else
		assert_store_clean
	fi
}

@test "4: whiteouts and opaque dirs have overlay semantics; same-layer content wins" {
	pull_case whiteouts_ok
	assert_success
	mount_image whiteouts_ok
	local data opq
	data=$(ls "$MNT/data" | tr '\n' ' ')
	opq=$(ls "$MNT/opq" | tr '\n' ' ')
	umount "$MNT"
	[ "$data" = "keep new " ]
	[ "$opq" = "new " ]
	pull_case whiteout_same_layer
	assert_success
	mount_image whiteout_same_layer
	local both
	both=$(cat "$MNT/data/both")
	umount "$MNT"
	[ "$both" = layer2 ]
}

@test "4: whiteouts through symlinked parents or named .wh.. are refused" {
	pull_case whiteout_via_symlink
	refused
	pull_case whiteout_dotdot
	refused
}

@test "5: device nodes created rootful in a 0700 store; setuid bits kept" {
	pull_case devices
	assert_success
	mount_image devices
	local null sda fifo sock
	null=$(stat -c '%F %t:%T' "$MNT/dev/hostile-null")
	sda=$(stat -c '%F %t:%T' "$MNT/dev/hostile-sda")
	fifo=$(stat -c '%F' "$MNT/dev/hostile-fifo")
	sock=$(stat -c '%F' "$MNT/dev/hostile-sock" 2>/dev/null || echo absent)
	umount "$MNT"
	[ "$null" = "character special file 1:3" ]
	[ "$sda" = "block special file 8:0" ]
	[ "$fifo" = "fifo" ]
	[ "$sock" != socket ]
	pull_case setuid
	assert_success
	mount_image setuid
	local modes
	modes=$(stat -c '%a' "$MNT/usr/bin/suid" "$MNT/usr/bin/sgid" "$MNT/usr/bin/both" "$MNT/sticky" | tr '\n' ' ')
	umount "$MNT"
	[ "$modes" = "4755 2755 6755 1777 " ]
	[ "$(stat -c %a "$TEST_ROOT")" = 700 ]
	[ "$(stat -c %a "$TEST_ROOT/layers")" = 700 ]
}

@test "6: security.capability is kept; overlay xattrs from the tar are refused" {
	pull_case security_capability
	assert_success
	mount_image security_capability
	local caps
	caps=$(getcap "$MNT/usr/bin/netraw")
	umount "$MNT"
	[[ "$caps" == *cap_net_raw[=+]ep* ]]
	scow rmi "$FAKE/hostile/security_capability" >/dev/null
	pull_case overlay_xattr
	refused
	assert_output_contains "overlay"
}

@test "7: a gzip bomb runs into ENOSPC cleanly with bounded memory" {
	small=$TEST_TMP/small
	mkdir -p "$small"
	mount -t tmpfs -o size=64m tmpfs "$small"
	run /usr/bin/time -f 'maxrss=%M' "$SCOW" --root "$small/root" --runroot "$TEST_RUNROOT" pull "$FAKE/hostile/gzip_bomb:latest"
	local junk
	junk=$(find "$small/root/layers" -maxdepth 1 -name '*.tmp' 2>/dev/null)
	umount "$small"
	assert_failure 1
	assert_output_contains "No space left on device"
	[ -z "$junk" ]
	rss=$(echo "$output" | sed -n 's/^maxrss=//p')
	echo "maxrss ${rss} KiB" >&2
	[ "$rss" -lt 204800 ]
}

@test "7: many entries and deep directories: bounded memory; removable again" {
	run /usr/bin/time -f 'maxrss=%M' "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" pull "$FAKE/hostile/many_entries:latest"
	assert_success
	rss=$(echo "$output" | sed -n 's/^maxrss=//p')
	echo "many_entries maxrss ${rss} KiB" >&2
	[ "$rss" -lt 204800 ]
	run scow rmi "$FAKE/hostile/many_entries:latest"
	assert_success
	[ "$(layer_count)" -eq 0 ]
	pull_case deep_dirs
	echo "$output" >&2
	if [ "$status" -eq 0 ]; then
		run scow rmi "$FAKE/hostile/deep_dirs:latest"
		assert_success
	fi
	assert_store_clean
	[ "$(layer_count)" -eq 0 ]
}

@test "7: names over PATH_MAX and absurd sparse sizes are clean errors" {
	pull_case long_name
	refused
	assert_output_contains "name longer than 4095 bytes"
	for c in sparse_absurd sparse_absurd_gnu; do
		run timeout 60 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" pull "$FAKE/hostile/$c:latest"
		echo "$c: $output" >&2
		refused
	done
}

@test "8: truncated streams and trailing garbage fail cleanly" {
	for c in truncated truncated_gzip trailing_garbage; do
		run scow pull "$FAKE/hostile/$c:latest"
		echo "$c: $output" >&2
		refused
	done
}

@test "9: a diff_id mismatch keeps nothing" {
	pull_case diffid_mismatch
	refused
	assert_output_contains "diff_id mismatch"
	[ "$(layer_count)" -eq 0 ]
}

@test "10: uid 4294967295 is refused, uid 2^31 is kept exactly" {
	pull_case uid_max
	refused
	assert_output_contains "uid"
	pull_case uid_2_31
	assert_success
	mount_image uid_2_31
	local owner
	owner=$(stat -c '%u:%g %a' "$MNT/f_uid_2_31")
	umount "$MNT"
	[ "$owner" = "2147483648:2147483648 4755" ]
}

@test "zstd layers are verified and extracted" {
	pull_case zstd_layer
	assert_success
	mount_image zstd_layer
	[ -f "$MNT/zstd/hello" ]
	umount "$MNT"
}
