#!/usr/bin/env bats
# scow top (the container's processes through the host's ps, Docker's
# filtering and column layout) and scow diff (the container's file-system
# changes against its image, including the image's own whiteouts and opaque
# directories, hostile names and symlinks).

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
	scow pull -q "$LIMG" >/dev/null
}

teardown() {
	local ids
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f -v $ids >/dev/null 2>&1 || true
	teardown_scow
}

# The PIDs (second column) of top's output rows, sorted.
row_pids() {
	local col=$1
	printf '%s\n' "${lines[@]:1}" | awk -v c="$col" '{ print $c }' | sort -n | tr '\n' ' '
}

# The container's processes as the kernel sees them (its cgroup), sorted.
cgroup_pids() {
	local id procs
	id=$(scow inspect -f '{{.Id}}' "$1")
	procs=$(find /sys/fs/cgroup -path "*/scow/$id/cgroup.procs" 2>/dev/null | head -n1)
	sort -n "$procs" | tr '\n' ' '
}

@test "top: ps -ef's header and the container's processes only, in Docker's columns" {
	scow run -d --name c1 "$IMG" sh -c 'sleep 1001 & exec sleep 1000' >/dev/null
	local pid
	pid=$(scow inspect -f '{{.State.Pid}}' c1)
	# wait until sh has become "sleep 1000" next to "sleep 1001"
	for _ in $(seq 100); do
		run scow top c1
		[[ "$output" == *"sleep 1000"* && "$output" == *"sleep 1001"* ]] && break
		sleep 0.1
	done
	run scow top c1
	assert_success
	assert_equal "${lines[0]}" "UID                 PID                 PPID                C                   STIME               TTY                 TIME                CMD"
	assert_equal "${#lines[@]}" 3
	assert_equal "$(row_pids 2)" "$(cgroup_pids c1)"
	assert_output_contains "sleep 1000"
	assert_output_contains "sleep 1001"
	# no host process: not the host's init, not scow's supervisor
	local sup
	sup=$(awk '{ print $4 }' "/proc/$pid/stat")
	run scow top c1
	[[ "$(row_pids 2)" != *" $sup "* && "$(row_pids 2)" != "$sup "* ]]
	[[ "$(row_pids 2)" != "1 "* ]]
	# the init row, column by column: 20 wide each, CMD with its arguments
	local row
	row=$(printf '%s\n' "${lines[@]}" | grep 'sleep 1000$')
	[[ "$row" =~ ^root\ {16}$pid\ +[0-9]+\ +[0-9]+\ +[0-9:A-Za-z]+\ +\?\ +[0-9:]+\ +sleep\ 1000$ ]]
	assert_equal "${row:20:${#pid}}" "$pid"
	assert_equal "${row:20+${#pid}:20-${#pid}}" "$(printf '%*s' $((20 - ${#pid})) '')"
}

@test "top: ps options (aux, -o, thread lines) and the container top spelling" {
	scow run -d --name c1 "$IMG" sleep 1000 >/dev/null
	local pid
	pid=$(scow inspect -f '{{.State.Pid}}' c1)
	run scow top c1 aux
	assert_success
	[[ "${lines[0]}" =~ ^USER\ {16}PID\ {17}%CPU\ {16}%MEM\ {16}VSZ ]]
	assert_equal "${#lines[@]}" 2
	[[ "${lines[1]}" =~ ^root\ {16}$pid\ .*sleep\ 1000$ ]]
	run scow container top c1 -o pid,comm
	assert_success
	assert_equal "$output" "$(printf '%-20s%s\n%-20s%s' PID COMMAND "$pid" sleep)"
	# BSD "m": thread lines (PID "-") follow their process and are kept
	run scow top c1 -e m -o pid,tid,comm
	assert_success
	assert_equal "${lines[1]}" "$(printf '%-20s%-20s%s' "$pid" - sleep)"
	assert_equal "${lines[2]}" "$(printf '%-20s%-20s%s' - "$pid" -)"
	assert_equal "${#lines[@]}" 3
	# a forest listing refuses -q: scow retries without it, as Docker does
	run scow top c1 axf -o pid,args
	assert_success
	assert_equal "${#lines[@]}" 2
	[[ "${lines[1]}" =~ ^$pid\ +.*sleep\ 1000$ ]]
}

@test "top: errors (not running, no such container, no PID column, PID renamed, ps failing)" {
	scow run --name stopped "$IMG" true
	run scow top stopped
	assert_failure 1
	assert_output_contains "container $(scow inspect -f '{{.Id}}' stopped) is not running"
	run scow top nosuch
	assert_failure 1
	assert_output_contains "No such container: nosuch"
	scow run -d --name c1 "$IMG" sleep 1000 >/dev/null
	run scow top c1 -o comm
	assert_failure 1
	assert_output_contains "Couldn't find PID field in ps output"
	run scow top c1 -o user=PID
	assert_failure 1
	assert_output_contains 'specifying "user=PID" is not allowed'
	run scow top c1 -o nonsense
	assert_failure 1
	assert_output_contains 'ps: error: unknown user-defined format specifier "nonsense"'
	run scow top
	assert_failure 125
}

@test "diff: a fresh container shows nothing (scow's own mount points are not changes)" {
	scow run --name f1 "$IMG" true
	run scow diff f1
	assert_success
	assert_equal "$output" ""
	scow run --name f2 "$LIMG" true
	run scow container diff f2
	assert_success
	assert_equal "$output" ""
	# what scow made for /etc/hosts etc. is in the upper dir, yet hidden
	[ -f "$TEST_ROOT/containers/$(scow inspect -f '{{.Id}}' f1)/upper/etc/hosts" ]
	# created, never started
	scow create --name f3 "$IMG" true >/dev/null
	run scow diff f3
	assert_success
	assert_equal "$output" ""
}

@test "diff: added, changed and deleted entries against the image's merged layers" {
	# In the image, /fx/d is opaque (layer 2 hides a, b, sub/), /fx/gone is
	# whited out (layer 2), /fx/f is a symlink (layer 2), /fx/hl/a is whited
	# out (layer 3); see tests/fixtures/README.md.
	scow run --name c1 "$LIMG" sh -c '
		echo x >>/fx/cap/ping          # copy-up of fx/ and fx/cap/ with their times
		echo a >/fx/d/a                # a: only in a layer the image hides
		rm /fx/f                       # the symlink
		echo back >/fx/gone            # deleted by layer 2, made again
		rm /fx/hl/b
		mkdir -p /fx/new/deep && touch /fx/new/deep/file
		rm -rf /fx/dirtofile && mkdir /fx/dirtofile && touch /fx/dirtofile/in
		chmod 0700 /fx/long            # a directory whose mode changed
		touch /fx/d/new                # changed; fx/d itself looks unchanged
	'
	run scow diff c1
	assert_success
	assert_equal "$output" "C /fx
C /fx/cap/ping
C /fx/d
A /fx/d/a
C /fx/d/new
D /fx/dirtofile
A /fx/dirtofile/in
D /fx/f
A /fx/gone
C /fx/hl
D /fx/hl/b
C /fx/long
A /fx/new
A /fx/new/deep
A /fx/new/deep/file"
}

@test "diff: a directory removed and made again is D, its new contents A" {
	scow run --name c1 "$LIMG" sh -c 'rm -rf /fx/emptydir && mkdir /fx/emptydir && touch /fx/emptydir/n'
	run scow diff c1
	assert_success
	assert_equal "$output" "C /fx
D /fx/emptydir
A /fx/emptydir/n"
}

@test "diff: /etc, the mount points' parent, only when an entry in it was added or removed" {
	scow run --name c1 "$IMG" sh -c 'echo >>/etc/passwd'
	run scow diff c1
	assert_success
	assert_equal "$output" "C /etc/passwd"
	scow run --name c2 "$IMG" sh -c 'touch /etc/new; rm /etc/group'
	run scow diff c2
	assert_success
	assert_equal "$output" "C /etc
D /etc/group
A /etc/new"
	scow run --name c3 "$IMG" chmod 0700 /etc
	run scow diff c3
	assert_success
	assert_equal "$output" "C /etc"
}

@test "diff: a running container, volume and workdir mount points" {
	scow run -d --name c1 -v /newvol -w /wd "$IMG" sleep 1000 >/dev/null
	scow exec c1 sh -c 'mkdir /tmp/x && touch /tmp/x/f && echo hi >/newvol/in-volume'
	run scow diff c1
	assert_success
	assert_equal "$output" "A /newvol
C /tmp
A /tmp/x
A /tmp/x/f
A /wd"
	# and once it stopped
	scow stop -t 0 c1 >/dev/null
	run scow diff c1
	assert_success
	assert_equal "$output" "A /newvol
C /tmp
A /tmp/x
A /tmp/x/f
A /wd"
}

@test "diff: hostile names and symlinks are reported, never followed" {
	scow run --name c1 "$LIMG" sh -c '
		rm -rf /fx/cap && ln -s / /fx/cap     # a directory replaced by a symlink to /
		ln -s /etc /fx/etc-link
		mkdir "/fx/new
line" /fx/-x
		d=/fx/deep; for i in $(seq 200); do d=$d/d; done; mkdir -p $d && touch $d/f
	'
	run scow diff c1
	assert_success
	# symlinks are leaves: nothing of the host's / or /etc is listed
	refute_output_contains "/fx/cap/"
	refute_output_contains "/fx/etc-link/"
	assert_equal "${lines[0]}" "C /fx"
	assert_equal "${lines[1]}" "A /fx/-x"
	assert_equal "${lines[2]}" "C /fx/cap"
	assert_equal "${lines[3]}" "A /fx/deep"
	local deep=/fx/deep
	for _ in $(seq 200); do deep=$deep/d; done
	assert_equal "${lines[203]}" "A $deep"
	assert_equal "${lines[204]}" "A $deep/f"
	assert_equal "${lines[205]}" "A /fx/etc-link"
	# a name with a newline is printed as it is when not on a terminal
	assert_equal "${lines[206]}" "A /fx/new"
	assert_equal "${lines[207]}" "line"
	assert_equal "${#lines[@]}" 208
}

@test "diff: a tree deeper than the fd limit (no fd held per level)" {
	scow run --name c1 "$IMG" sh -c 'cd /tmp && for i in $(seq 1500); do mkdir d && cd d || exit 1; done; touch f'
	run bash -c 'ulimit -n 256 && exec "$@"' - "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" diff c1
	assert_success
	assert_equal "${#lines[@]}" 1502
	assert_equal "${lines[0]}" "C /tmp"
	assert_equal "${lines[1]}" "A /tmp/d"
	[[ "${lines[1501]}" == "A /tmp/d/d/"*"/d/f" ]]
	assert_equal "${#lines[1501]}" $((2 + 4 + 1500 * 2 + 2))
}

@test "diff: no such container" {
	run scow diff nosuch
	assert_failure 1
	assert_output_contains "No such container: nosuch"
	run scow container diff
	assert_failure 125
}
