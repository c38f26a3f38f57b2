#!/usr/bin/env bats
# Resource limits (issue 5): the run/create flags as Docker records them,
# their enforcement on this host's cgroups (OOM kill, a fork bomb held by
# --pids-limit, CPU quota files, device access), pause/unpause, update,
# stats, and SECURITY.md cases 35 and 36.
#
# Enforcement is checked on the v1 (hybrid) hierarchy this machine has; the
# v2 driver's files are checked on fake trees by tests/unit/test_cgroup_limits.c.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	start_registry plain --only busybox
	export REGISTRY
	IMG=$REGISTRY/busybox
	export IMG
}

teardown_file() {
	stop_registry plain
}

setup() {
	setup_scow
	scow pull -q "$IMG" >/dev/null
	PARENT=scow-limits-$$
}

teardown() {
	local ids d
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f $ids >/dev/null 2>&1 || true
	# --cgroup-parent directories are left in place (as Docker does).
	for d in /sys/fs/cgroup/*/"$PARENT" /sys/fs/cgroup/"$PARENT"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	teardown_scow
}

need_v1() {
	[ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/pids ] ||
		skip "needs the v1 controllers of a v1 or hybrid host"
}

# cg CONTROLLER ID: the container's directory in that v1 hierarchy, from
# the CgroupPath its supervisor recorded.
cg() {
	local path
	path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["CgroupPath"])' \
		"$TEST_RUNROOT/containers/$2/runtime.json")
	echo "/sys/fs/cgroup/$1/$path"
}

# hc ID FIELD: a HostConfig field as JSON.
hc() {
	scow inspect --format "{{json .HostConfig.$2}}" "$1"
}

# wait_for CMD...: retries for up to 10 s.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

logs_are() { # ID TEXT
	[ "$(scow logs "$1" 2>/dev/null)" = "$2" ]
}

counter_above() { # ID N
	[ "$(counter "$1")" -gt "$2" ]
}

nothing_created() {
	[ -z "$(scow ps -a -q)" ] || return 1
	[ -z "$(ls -A "$TEST_ROOT/containers" 2>/dev/null)" ]
}

@test "run/create: the limit flags are recorded with Docker's names and values" {
	run scow create --name plain "$IMG" true
	assert_success
	assert_equal "$(hc plain Memory) $(hc plain MemorySwap) $(hc plain NanoCpus)" "0 0 0"
	assert_equal "$(hc plain PidsLimit) $(hc plain CpusetCpus) $(hc plain BlkioWeight)" 'null "" 0'
	assert_equal "$(hc plain DeviceCgroupRules) $(hc plain BlkioDeviceReadBps)" "null []"
	assert_equal "$(hc plain CgroupParent)" '""'
	run scow create --name lim -m 64m --memory-reservation 32m -c 512 --cpus 1.5 \
		--pids-limit 50 --cpuset-cpus 0 --cpuset-mems 0 --blkio-weight 300 \
		--oom-score-adj 500 --device-cgroup-rule 'c 1:11 w' --cgroupns private \
		--cgroup-parent "/$PARENT" "$IMG" true
	assert_success
	assert_equal "$(hc lim Memory) $(hc lim MemorySwap) $(hc lim MemoryReservation)" \
		"67108864 134217728 33554432"
	assert_equal "$(hc lim NanoCpus) $(hc lim CpuShares) $(hc lim CpuPeriod) $(hc lim CpuQuota)" \
		"1500000000 512 0 0"
	assert_equal "$(hc lim PidsLimit) $(hc lim CpusetCpus) $(hc lim CpusetMems)" '50 "0" "0"'
	assert_equal "$(hc lim OomScoreAdj) $(hc lim DeviceCgroupRules)" '500 ["c 1:11 w"]'
	assert_equal "$(hc lim CgroupnsMode) $(hc lim CgroupParent)" "\"private\" \"/$PARENT\""
	# --memory-swap -1: unlimited; given: kept as is.
	run scow create --name sw -m 32m --memory-swap -1 --cpu-period 50000 --cpu-quota 25000 "$IMG" true
	assert_success
	assert_equal "$(hc sw Memory) $(hc sw MemorySwap) $(hc sw CpuPeriod) $(hc sw CpuQuota)" \
		"33554432 -1 50000 25000"
	run scow create --name sw2 -m 32m --memory-swap 48m "$IMG" true
	assert_equal "$(hc sw2 MemorySwap)" "50331648"
	# A block device for the throttles: the one / lives on.
	local dev
	dev=$(lsblk -dnpo NAME,TYPE | awk '$2 == "disk" { print $1; exit }')
	if [ -b "$dev" ]; then
		run scow create --name io --device-read-bps "$dev:1mb" --device-write-iops "$dev:100" "$IMG" true
		assert_success
		assert_equal "$(hc io BlkioDeviceReadBps)" "[{\"Path\":\"$dev\",\"Rate\":1048576}]"
		assert_equal "$(hc io BlkioDeviceWriteIOps)" "[{\"Path\":\"$dev\",\"Rate\":100}]"
	fi
}

@test "the limits are in the container's cgroup files before it runs" {
	need_v1
	local id dev rate
	dev=$(lsblk -dnpo NAME,TYPE | awk '$2 == "disk" { print $1; exit }')
	id=$(scow run -d -m 64m --memory-reservation 32m -c 512 --cpus 1.5 --pids-limit 50 \
		--cpuset-cpus 0 --oom-score-adj 500 --device-read-bps "$dev:1mb" "$IMG" \
		sh -c 'cat /proc/self/oom_score_adj; sleep 1000')
	[ -n "$id" ]
	assert_equal "$(cat "$(cg memory "$id")/memory.limit_in_bytes")" 67108864
	if [ -f "$(cg memory "$id")/memory.memsw.limit_in_bytes" ]; then
		assert_equal "$(cat "$(cg memory "$id")/memory.memsw.limit_in_bytes")" 134217728
	fi
	assert_equal "$(cat "$(cg memory "$id")/memory.soft_limit_in_bytes")" 33554432
	assert_equal "$(cat "$(cg cpu "$id")/cpu.cfs_quota_us")" 150000
	assert_equal "$(cat "$(cg cpu "$id")/cpu.cfs_period_us")" 100000
	assert_equal "$(cat "$(cg cpu "$id")/cpu.shares")" 512
	assert_equal "$(cat "$(cg pids "$id")/pids.max")" 50
	assert_equal "$(cat "$(cg cpuset "$id")/cpuset.cpus")" 0
	rate=$(cat "$(cg blkio "$id")/blkio.throttle.read_bps_device")
	assert_equal "$rate" "$(stat -c '%t:%T' "$dev" | python3 -c 'import sys; a,b=sys.stdin.read().split(":"); print("%d:%d 1048576" % (int(a,16), int(b,16)))')"
	# --oom-score-adj reaches the container's first process (and so all).
	wait_for logs_are "$id" 500
	# cpu period and quota given directly
	id=$(scow run -d --cpu-period 50000 --cpu-quota 25000 "$IMG" sleep 1000)
	assert_equal "$(cat "$(cg cpu "$id")/cpu.cfs_period_us")" 50000
	assert_equal "$(cat "$(cg cpu "$id")/cpu.cfs_quota_us")" 25000
	# nothing asked, nothing written: the kernel's defaults stay
	id=$(scow run -d "$IMG" sleep 1000)
	assert_equal "$(cat "$(cg cpu "$id")/cpu.cfs_quota_us")" -1
	assert_equal "$(cat "$(cg pids "$id")/pids.max")" max
}

@test "SECURITY 35: -m OOM-kills with exit 137 and OOMKilled=true" {
	need_v1
	run scow run --name oom -m 64m "$IMG" tail /dev/zero
	assert_failure 137
	assert_equal "$(scow inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}} {{.State.Status}}' oom)" \
		"true 137 exited"
	run scow run --rm -m 16m "$IMG" sh -c 'x=$(head -c 64m /dev/zero | tr "\0" a); echo $x'
	assert_failure 137
	# a container that stays within its limit is not marked
	run scow run --name fine -m 64m "$IMG" true
	assert_success
	assert_equal "$(scow inspect -f '{{.State.OOMKilled}}' fine)" false
}

@test "--oom-kill-disable: the container waits at its limit instead of being killed" {
	need_v1
	[ -f /sys/fs/cgroup/memory/memory.oom_control ] || skip "no memory.oom_control"
	local id
	# awk's doubling string faults its pages in from user space: there the
	# kernel waits for memory (a charge inside a system call, tail's
	# read(), would fail with ENOMEM instead).
	id=$(scow run -d -m 16m --oom-kill-disable "$IMG" awk 'BEGIN { s = "a"; while (1) s = s s }')
	under_oom() { grep -q '^under_oom 1' "$(cg memory "$id")/memory.oom_control"; }
	wait_for under_oom
	grep -q '^oom_kill_disable 1' "$(cg memory "$id")/memory.oom_control"
	assert_equal "$(scow inspect -f '{{.State.Running}}' "$id")" true
	run scow rm -f "$id"
	assert_success
	[ -z "$(scow ps -a -q)" ]
}

@test "SECURITY 35: --pids-limit holds a fork bomb" {
	need_v1
	local id
	id=$(scow run -d --pids-limit 20 "$IMG" \
		sh -c 'for i in $(seq 100); do (sleep 1000 &) 2>/dev/null; done; echo spawned; sleep 1000')
	wait_for logs_are "$id" spawned
	local cur
	cur=$(cat "$(cg pids "$id")/pids.current")
	[ "$cur" -le 20 ] || { echo "pids.current $cur > 20" >&2; return 1; }
	[ "$cur" -ge 10 ] # the loop did fork up to the limit
	grep -Eq '^max [1-9]' "$(cg pids "$id")/pids.events"
	run scow rm -f "$id"
	assert_success
}

@test "device nodes: denied by default, allowed by --device-cgroup-rule" {
	need_v1
	# /dev/kmsg (c 1:11) is not in the default list; opening it write-only
	# needs no capability, so only the device cgroup stands in the way.
	run scow run --rm "$IMG" sh -c 'mknod /dev/k c 1 11 && : >/dev/k && echo opened'
	assert_failure
	assert_output_contains "Operation not permitted"
	run scow run --rm --device-cgroup-rule 'c 1:11 w' "$IMG" \
		sh -c 'mknod /dev/k c 1 11 && : >/dev/k && echo opened'
	assert_success
	assert_equal "$output" opened
	# the rule gives write only
	run scow run --rm --device-cgroup-rule 'c 1:11 w' "$IMG" \
		sh -c 'mknod /dev/k c 1 11 && cat /dev/k'
	assert_failure
	assert_output_contains "Operation not permitted"
}

@test "--cgroupns and --cgroup-parent" {
	need_v1
	run scow run --rm --cgroupns private "$IMG" cat /proc/self/cgroup
	assert_success
	# every hierarchy is rooted at the container's own cgroup
	[ -z "$(echo "$output" | grep -v ':/$')" ]
	run scow run --rm --cgroupns host "$IMG" cat /proc/self/cgroup
	assert_success
	assert_output_contains ":memory:/scow/"
	local id
	id=$(scow run -d --cgroup-parent "/$PARENT/sub" "$IMG" sleep 1000)
	[ -d "/sys/fs/cgroup/memory/$PARENT/sub/$id" ]
	[ -d "/sys/fs/cgroup/pids/$PARENT/sub/$id" ]
	scow rm -f "$id" >/dev/null
	[ ! -d "/sys/fs/cgroup/memory/$PARENT/sub/$id" ]
	local d
	for d in /sys/fs/cgroup/*/"$PARENT"/sub /sys/fs/cgroup/"$PARENT"/sub; do
		[ -d "$d" ] && rmdir "$d"
	done
	true
}

# counter ID: the number the container's loop last wrote (its upper dir).
counter() {
	cat "$TEST_ROOT/containers/$1/upper/tmp/c" 2>/dev/null || echo 0
}

@test "pause freezes every process, unpause resumes; ps, inspect, stop and rm -f" {
	need_v1
	local id a b
	id=$(scow run -d --name p "$IMG" sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c; sleep 0.05; done')
	wait_for counter_above "$id" 2
	run scow pause p
	assert_success
	assert_equal "$output" p
	grep -q FROZEN "$(cg freezer "$id")/freezer.state"
	a=$(counter "$id")
	sleep 0.5
	b=$(counter "$id")
	assert_equal "$b" "$a"
	run scow ps --format '{{.Names}} {{.Status}} {{.State}}'
	[[ "$output" =~ ^p\ Up\ .*\(Paused\)\ paused$ ]]
	assert_equal "$(scow inspect -f '{{.State.Status}} {{.State.Paused}} {{.State.Running}}' p)" \
		"paused true true"
	run scow pause p
	assert_failure 1
	assert_output_contains "is already paused"
	run scow exec p true
	assert_failure
	run scow unpause p
	assert_success
	wait_for counter_above "$id" "$b"
	assert_equal "$(scow inspect -f '{{.State.Status}}' p)" running
	run scow unpause p
	assert_failure 1
	assert_output_contains "is not paused"
	# stop of a paused container: thawed, then signalled
	scow pause p >/dev/null
	run scow stop -t 1 p
	assert_success
	assert_equal "$(scow inspect -f '{{.State.Status}}' p)" exited
	run scow pause p
	assert_failure 1
	assert_output_contains "is not running"
	# rm -f of a paused container
	local dir
	id=$(scow run -d "$IMG" sleep 1000)
	dir=$(cg freezer "$id")
	scow pause "$id" >/dev/null
	run scow rm -f "$id"
	assert_success
	[ ! -d "$dir" ]
	run scow inspect "$id"
	assert_failure 1
	# kill of a paused container
	id=$(scow run -d "$IMG" sleep 1000)
	scow pause "$id" >/dev/null
	run scow kill "$id"
	assert_success
	run scow wait "$id"
	assert_equal "$output" 137
}

@test "update: a running container's cgroup files, a stopped one's record" {
	need_v1
	local id
	id=$(scow run -d --name u -m 64m --cpus 1 --pids-limit 100 "$IMG" sleep 1000)
	run scow update -m 128m --memory-swap 256m --cpus 0.5 --pids-limit 200 -c 256 \
		--memory-reservation 20m --cpuset-cpus 0 --restart on-failure:3 u
	assert_success
	assert_equal "$output" u
	assert_equal "$(cat "$(cg memory "$id")/memory.limit_in_bytes")" 134217728
	assert_equal "$(cat "$(cg memory "$id")/memory.soft_limit_in_bytes")" 20971520
	assert_equal "$(cat "$(cg cpu "$id")/cpu.cfs_quota_us")" 50000
	assert_equal "$(cat "$(cg cpu "$id")/cpu.shares")" 256
	assert_equal "$(cat "$(cg pids "$id")/pids.max")" 200
	assert_equal "$(cat "$(cg cpuset "$id")/cpuset.cpus")" 0
	assert_equal "$(hc u Memory) $(hc u MemorySwap) $(hc u NanoCpus) $(hc u PidsLimit)" \
		"134217728 268435456 500000000 200"
	assert_equal "$(hc u RestartPolicy)" '{"MaximumRetryCount":3,"Name":"on-failure"}'
	run scow update --pids-limit -1 u
	assert_success
	assert_equal "$(cat "$(cg pids "$id")/pids.max")" max
	assert_equal "$(hc u PidsLimit)" null
	# Docker's update rules
	run scow update -m 512m u
	assert_failure 1
	assert_output_contains "Memory limit should be smaller than already set memoryswap limit"
	run scow update --cpu-quota 20000 u
	assert_failure 1
	assert_output_contains "Conflicting options"
	run scow update -m 1 u
	assert_failure 125
	assert_output_contains "Minimum memory limit allowed is 6MB"
	run scow update u
	assert_failure 125
	run scow update --pids-limit 5 nosuch
	assert_failure 1
	assert_output_contains "No such container: nosuch"
	assert_equal "$(cat "$(cg memory "$id")/memory.limit_in_bytes")" 134217728
	# no memory limit yet: -m alone gets Docker's default swap (twice)
	scow rm -f u >/dev/null
	id=$(scow run -d --name u "$IMG" sleep 1000)
	run scow update -m 32m u
	assert_success
	assert_equal "$(hc u Memory) $(hc u MemorySwap)" "33554432 67108864"
	assert_equal "$(cat "$(cg memory "$id")/memory.limit_in_bytes")" 33554432
	# a stopped container: the record now, the cgroup at its next start
	scow rm -f u >/dev/null
	scow create --name s --pids-limit 10 "$IMG" sleep 1000 >/dev/null
	run scow update --pids-limit 30 -m 32m s
	assert_success
	assert_equal "$(hc s PidsLimit) $(hc s Memory)" "30 33554432"
	scow start s >/dev/null
	id=$(scow inspect -f '{{.Id}}' s)
	assert_equal "$(cat "$(cg pids "$id")/pids.max")" 30
	assert_equal "$(cat "$(cg memory "$id")/memory.limit_in_bytes")" 33554432
}

@test "SECURITY 36: bad limit values are clear errors, exit 125, nothing created" {
	local bad
	while IFS= read -r bad; do
		run scow create $bad "$IMG" true
		if [ "$status" -ne 125 ]; then
			echo "scow create $bad: status $status: $output" >&2
			return 1
		fi
		[ -n "$output" ] || { echo "scow create $bad: no message" >&2; return 1; }
		nothing_created || { echo "scow create $bad: left a container" >&2; return 1; }
		run scow run --rm $bad "$IMG" true
		assert_failure 125
		nothing_created
	done <<'EOF'
--cpuset-cpus 1-9223372036854775807
--cpuset-cpus 0-99999
--cpuset-cpus x
--cpuset-mems 1-9223372036854775807
-m 1
-m 5m
-m 1x
-m -5
--cpus -1
--cpus 999
--cpus abc
--cpus 0.0000000001
--cpus 1 --cpu-quota 50000
--memory-swap 64m
-m 64m --memory-swap 32m
--memory-reservation 1m
-m 16m --memory-reservation 32m
--cpu-period 10
--cpu-quota 10
--cpu-shares x
--blkio-weight 5
--blkio-weight 1001
--pids-limit x
--oom-score-adj 1001
--oom-score-adj -1001
--cgroup-parent ../x
--cgroup-parent a/../../x
--cgroup-parent a//b
--cgroupns bogus
--device-cgroup-rule x
--device-cgroup-rule c_1:3_rwm
--device-read-bps /dev/null:1mb
--device-read-bps /etc/passwd:1mb
--device-read-bps /dev/../etc/passwd:1mb
--device-write-iops /dev/sda:1k
EOF
	run scow create --cpuset-cpus 1-9223372036854775807 "$IMG" true
	assert_output_contains "Invalid value 1-9223372036854775807 for cpuset cpus"
	run scow create -m 1 "$IMG" true
	assert_output_contains "Minimum memory limit allowed is 6MB"
	run scow create --cpus -1 "$IMG" true
	assert_output_contains "Range of CPUs is from 0.01 to"
}

@test "stats --no-stream: Docker's columns and figures, --format, -a, --no-trunc" {
	need_v1
	local id
	id=$(scow run -d --name st -m 64m "$IMG" sh -c 'while :; do :; done')
	scow run -d --name st2 "$IMG" sleep 1000 >/dev/null
	scow create --name st3 "$IMG" true >/dev/null
	run scow stats --no-stream
	assert_success
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +NAME\ +CPU\ %\ +MEM\ USAGE\ /\ LIMIT\ +MEM\ %\ +NET\ I/O\ +BLOCK\ I/O\ +PIDS$ ]]
	assert_equal "${#lines[@]}" 3
	local row
	row=$(echo "$output" | grep ' st ')
	[[ "$row" =~ ^${id:0:12}\ +st\ +[0-9]+\.[0-9]{2}%\ +[0-9.]+[KMG]?i?B\ /\ 64MiB\ +[0-9]+\.[0-9]{2}%\ +[0-9.]+k?B\ /\ [0-9.]+k?B\ +[0-9.]+[kMG]?B\ /\ [0-9.]+[kMG]?B\ +1$ ]] ||
		{ echo "row: $row" >&2; return 1; }
	# a busy loop: CPU time is counted (a loaded machine may give it no
	# time in one short window; not in five)
	local try cpu=0.00%
	for try in 1 2 3 4 5; do
		cpu=$(scow stats --no-stream --format '{{.CPUPerc}}' st)
		[[ "$cpu" =~ ^[0-9]+\.[0-9]{2}%$ ]]
		[ "$cpu" != "0.00%" ] && break
	done
	[ "$cpu" != "0.00%" ]
	# json: Docker's keys, one object a line
	run scow stats --no-stream --format json
	assert_success
	echo "$output" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin if l.strip()]
assert len(rows) == 2, rows
keys = {"BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs"}
for r in rows:
    assert set(r) == keys, r
    assert len(r["ID"]) == 12
st = [r for r in rows if r["Name"] == "st"][0]
assert st["MemUsage"].endswith(" / 64MiB"), st
assert st["PIDs"] == "1", st
'
	run scow stats --no-stream --format '{{json .}}' st
	assert_success
	echo "$output" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r["Container"] == "st" and r["Name"] == "st", r'
	# -a: the created container with zeros; --no-trunc: full ids
	run scow stats --no-stream -a --no-trunc --format '{{.ID}} {{.Name}} {{.MemUsage}} {{.PIDs}}'
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_output_contains "st3 0B / 0B 0"
	assert_output_contains "$id st "
	run scow stats --no-stream nosuch
	assert_failure 1
	assert_output_contains "No such container: nosuch"
	# a paused container is still shown
	scow pause st >/dev/null
	run scow stats --no-stream --format '{{.Name}} {{.PIDs}}' st
	assert_success
	assert_equal "$output" "st 1"
}

@test "stats streams frames until stopped" {
	need_v1
	scow run -d --name live "$IMG" sleep 1000 >/dev/null
	# Not a terminal: frames follow one another, no screen clearing.
	timeout -s INT 4 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" stats \
		--format '{{.Name}}' >"$TEST_TMP/out" || true
	[ "$(grep -c '^live$' "$TEST_TMP/out")" -ge 2 ]
	! grep -q $'\033' "$TEST_TMP/out"
}
