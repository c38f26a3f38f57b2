#!/usr/bin/env bats
# Container state under races, crashes, reboots, corrupt records and a full
# disk (SECURITY.md cases 27-34), and the lifecycle commands' round trips.
#
# Every test cleans up in teardown, even when it fails: `scow rm -f` of every
# container it made, then kill -9 (by pid) of whatever is left (supervisors,
# whose command line names the test's private directory, and the processes in
# the containers' cgroups), rmdir of those cgroups, umount of its tmpfs.

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
	start_registry plain --only busybox
	export REGISTRY
}

teardown_file() {
	stop_registry plain
}

setup() {
	setup_scow
	IMG=$REGISTRY/busybox
	echo "$TEST_ROOT" >"$TEST_TMP/roots"
	ls /run/netns 2>/dev/null | sort >"$TEST_TMP/netns.before"
	run scow pull -q "$IMG"
	assert_success
}

teardown() {
	cleanup_everything
	teardown_scow
}

# Every scow command has a deadline: nothing may hang.
scow() {
	timeout -k 5 "${SCOW_TIMEOUT:-60}" "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@"
}

# scow_bg ARGS...: scow in the background, $! is scow itself (not a subshell),
# with no stdio and no bats fd 3.
scow_bg() {
	"$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@" </dev/null >/dev/null 2>&1 3>&- &
}

# par_start N ARGS...: scow in the background; its stdout, stderr and status
# go to $TEST_TMP/par/N.{out,err,rc}. `wait` for all of them.
par_start() {
	local n=$1
	shift
	mkdir -p "$TEST_TMP/par"
	(
		rc=0
		scow "$@" >"$TEST_TMP/par/$n.out" 2>"$TEST_TMP/par/$n.err" </dev/null || rc=$?
		echo "$rc" >"$TEST_TMP/par/$n.rc"
	) 3>&- &
}

fail() {
	echo "$*" >&2
	return 1
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s.
wait_until() {
	local tries=$(($1 * 10))
	shift
	until "$@"; do
		((tries-- > 0)) || return 1
		sleep 0.1
	done
}

track() {
	echo "$1" >>"$TEST_TMP/ids"
}

# The container ids this test may have made: directories, cidfiles, ids
# recorded with track, runtime records.
known_ids() {
	local r
	{
		while read -r r; do
			ls -A "$r/containers" 2>/dev/null | sed 's/^\.del-//'
		done <"$TEST_TMP/roots"
		ls -A "$TEST_RUNROOT/containers" 2>/dev/null
		cat "$TEST_TMP/ids" 2>/dev/null
		for f in "$TEST_TMP"/cid/*; do
			[[ -f $f ]] && { cat "$f"; echo; }
		done
	} | grep -oE '^[0-9a-f]{64}' | sort -u
}

cleanup_everything() {
	[[ -n "${TEST_TMP:-}" && -d "$TEST_TMP" ]] || return 0
	local ids id r pid cg mine i m
	ids=$(known_ids)
	while read -r r; do
		mine=$(ls -A "$r/containers" 2>/dev/null | grep -E '^[0-9a-f]{64}$' || true)
		[[ -z $mine ]] ||
			timeout -k 5 120 "$SCOW" --root "$r" --runroot "$TEST_RUNROOT" rm -f $mine \
				>/dev/null 2>&1 3>&- || true
	done <"$TEST_TMP/roots"
	# Supervisors (and any scow still running) name our directory.
	for pid in $(pgrep -f -- "$TEST_TMP/"); do
		kill -9 "$pid" 2>/dev/null || true
	done
	for id in $ids; do
		for cg in /sys/fs/cgroup/*/scow/"$id"; do
			[[ -f $cg/cgroup.procs ]] || continue
			for pid in $(cat "$cg/cgroup.procs"); do
				kill -9 "$pid" 2>/dev/null || true
			done
		done
	done
	for id in $ids; do
		for cg in /sys/fs/cgroup/*/scow/"$id"; do
			[[ -d $cg ]] || continue
			for i in $(seq 50); do
				rmdir "$cg" 2>/dev/null && break
				sleep 0.1
			done
		done
	done
	if [[ -f $TEST_TMP/mounts ]]; then
		while read -r m; do
			umount -l "$m" 2>/dev/null || true
		done <"$TEST_TMP/mounts"
	fi
}

# ---- inspection helpers ----------------------------------------------------------

hex_entries() {
	ls -A "$TEST_ROOT/containers" 2>/dev/null | grep -E '^[0-9a-f]{64}$' || true
}

id_of() {
	readlink "$TEST_ROOT/names/$1"
}

# rt ID FIELD: a number from the container's runtime.json.
rt() {
	grep -oE "\"$2\": *[0-9]+" "$TEST_RUNROOT/containers/$1/runtime.json" | grep -oE '[0-9]+$'
}

has_runtime() {
	local id
	id=$(id_of "$1") && [[ -s $TEST_RUNROOT/containers/$id/runtime.json ]]
}

# Field 22 of /proc/PID/stat (after the command name, which may hold spaces).
start_time() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $20 }'
}

proc_state() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $1 }'
}

ppid_of() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $2 }'
}

alive() {
	local s
	s=$(proc_state "$1")
	[[ -n $s && $s != Z && $s != X ]]
}

gone() {
	! alive "$1"
}

# kill9 PID START: only the process that was started at START.
kill9() {
	[[ "$(start_time "$1")" == "$2" ]] && kill -9 "$1"
}

cgroups_of() {
	local id
	for id in "$@"; do
		compgen -G "/sys/fs/cgroup/*/scow/$id" || true
	done
}

status_of() {
	scow ps -a --filter "name=^$1\$" --format '{{.Status}}'
}

status_is() {
	[[ "$(status_of "$1")" == "$2"* ]]
}

logs_have() {
	[[ "$(scow logs "$1" 2>&1)" == *"$2"* ]]
}

# leaks IDS...: what is left of the test's containers (nothing when clean).
# With ALLOW_DEL=1, a ROOT/containers/.del-<id> (a removal whose remover was
# killed, finished later by any lister) is not counted.
leaks() {
	local id cg entries
	entries=$(ls -A "$TEST_ROOT/containers" 2>/dev/null)
	[[ ${ALLOW_DEL:-0} == 1 ]] && entries=$(grep -v '^\.del-' <<<"$entries" || true)
	[[ -z $entries ]] || echo "ROOT/containers:" $entries
	[[ -z "$(ls "$TEST_ROOT/names" 2>/dev/null)" ]] || echo "ROOT/names:" $(ls "$TEST_ROOT/names")
	[[ -z "$(ls -A "$TEST_RUNROOT/containers" 2>/dev/null)" ]] ||
		echo "RUNROOT/containers:" $(ls -A "$TEST_RUNROOT/containers")
	# (the small tmpfs data root of the ENOSPC tests is not a leak)
	awk -v p="$TEST_TMP/" -v s="${SMALL:-}" 'index($5, p) == 1 && $5 != s { print "mount: " $0 }' \
		/proc/self/mountinfo
	pgrep -af -- "$TEST_TMP/" | sed 's/^/process: /' || true
	comm -13 "$TEST_TMP/netns.before" <(ls /run/netns 2>/dev/null | sort) | sed 's/^/netns: /'
	for id in "$@"; do
		for cg in $(cgroups_of "$id"); do
			echo "cgroup: $cg ($(wc -l <"$cg/cgroup.procs" 2>/dev/null) processes)"
		done
	done
}

no_leaks() {
	[[ -z "$(leaks "$@")" ]]
}

# assert_no_leaks IDS...: waits up to 5 s for supervisors to finish.
assert_no_leaks() {
	wait_until 5 no_leaks "$@" && return 0
	echo "left behind:" >&2
	leaks "$@" >&2
	return 1
}

random_id() {
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# ---- 27: names --------------------------------------------------------------------

@test "27: ten racing run --name x: exactly one wins, the others get Docker's conflict (125)" {
	local i rc winner="" wins=0
	for i in $(seq 10); do
		par_start "$i" run -d --name x "$IMG" sleep 300
	done
	wait
	for i in $(seq 10); do
		rc=$(cat "$TEST_TMP/par/$i.rc")
		if [[ $rc == 0 ]]; then
			wins=$((wins + 1))
			winner=$(cat "$TEST_TMP/par/$i.out")
			track "$winner"
		fi
	done
	[ "$wins" -eq 1 ] || fail "$wins winners"
	for i in $(seq 10); do
		rc=$(cat "$TEST_TMP/par/$i.rc")
		[[ $rc == 0 ]] && continue
		[[ $rc == 125 ]] || fail "loser $i: status $rc: $(cat "$TEST_TMP/par/$i.err")"
		grep -qF "Conflict. The container name \"/x\" is already in use by container \"$winner\"" \
			"$TEST_TMP/par/$i.err" || fail "loser $i: $(cat "$TEST_TMP/par/$i.err")"
		[[ ! -s $TEST_TMP/par/$i.out ]] || fail "loser $i printed: $(cat "$TEST_TMP/par/$i.out")"
	done
	# The losers left nothing: no directory, no name, no runtime record.
	assert_equal "$(ls -A "$TEST_ROOT/containers")" "$winner"
	assert_equal "$(ls "$TEST_ROOT/names")" "x"
	assert_equal "$(id_of x)" "$winner"
	assert_equal "$(ls -A "$TEST_RUNROOT/containers")" "$winner"
	run scow ps -a --format '{{.ID}} {{.Names}} {{.State}}'
	assert_success
	assert_equal "$output" "${winner:0:12} x running"

	run scow rm -f x
	assert_success
	assert_no_leaks "$winner"
}

@test "27: racing create --name y and rename to one name: exactly one wins each time" {
	local i rc wins=0
	for i in $(seq 10); do
		par_start "$i" create --name y "$IMG" true
	done
	wait
	for i in $(seq 10); do
		rc=$(cat "$TEST_TMP/par/$i.rc")
		if [[ $rc == 0 ]]; then
			wins=$((wins + 1))
		else
			[[ $rc == 125 ]] || fail "create $i: status $rc"
			grep -qF 'Conflict. The container name "/y" is already in use' "$TEST_TMP/par/$i.err"
		fi
	done
	[ "$wins" -eq 1 ]
	[ "$(hex_entries | wc -l)" -eq 1 ]

	for i in $(seq 6); do
		run scow create --name "c$i" "$IMG" true
		assert_success
	done
	rm -rf "$TEST_TMP/par"
	for i in $(seq 6); do
		par_start "$i" rename "c$i" z
	done
	wait
	wins=0
	for i in $(seq 6); do
		rc=$(cat "$TEST_TMP/par/$i.rc")
		if [[ $rc == 0 ]]; then
			wins=$((wins + 1))
		else
			grep -qF 'Conflict. The container name "/z" is already in use' "$TEST_TMP/par/$i.err" ||
				fail "rename $i: status $rc: $(cat "$TEST_TMP/par/$i.err")"
		fi
	done
	[ "$wins" -eq 1 ]
	# Every container has exactly one name, the same in ps and in the store.
	run scow ps -a --format '{{.Names}}'
	assert_success
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "$(ls "$TEST_ROOT/names" | sort | tr '\n' ' ')"
	[ "${#lines[@]}" -eq 7 ]
	[ "$(ls "$TEST_ROOT/names" | wc -l)" -eq 7 ]
	run scow rm -f $(hex_entries)
	assert_success
	assert_no_leaks
}

# ---- 28: parallel run --rm ------------------------------------------------------------

@test "28: 50 parallel run --rm: right exit codes, then no mounts, cgroups, netns, records or processes left" {
	local i want got ids before after new f
	before=$(ls -d /sys/fs/cgroup/*/scow/*/ 2>/dev/null | sort)
	mkdir -p "$TEST_TMP/cid"
	for i in $(seq 50); do
		if ((i % 10 == 0)); then
			par_start "$i" run --rm --cidfile "$TEST_TMP/cid/$i" "$IMG" sh -c 'exit 3'
		else
			par_start "$i" run --rm --cidfile "$TEST_TMP/cid/$i" "$IMG" true
		fi
	done
	wait
	for i in $(seq 50); do
		want=0
		((i % 10 == 0)) && want=3
		got=$(cat "$TEST_TMP/par/$i.rc")
		[[ $got == "$want" ]] || fail "run $i: status $got, want $want: $(cat "$TEST_TMP/par/$i.err")"
	done
	ids=$(for f in "$TEST_TMP"/cid/*; do cat "$f"; echo; done)
	[ "$(grep -cE '^[0-9a-f]{64}$' <<<"$ids")" -eq 50 ]
	[ "$(sort -u <<<"$ids" | wc -l)" -eq 50 ]
	assert_no_leaks $ids
	after=$(ls -d /sys/fs/cgroup/*/scow/*/ 2>/dev/null | sort)
	new=$(comm -13 <(echo "$before") <(echo "$after") | grep -F -f <(echo "$ids") || true)
	[[ -z $new ]] || fail "new cgroups: $new"
	run scow ps -a -q
	assert_success
	assert_equal "$output" ""
}

# ---- 29: kill -9 of scow ----------------------------------------------------------------

@test "29: kill -9 of the foreground client: the container runs on under its supervisor; stop and rm -f work" {
	local n client id sup pid ids="" pids=""
	for n in fg1 fg2; do
		"$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --name "$n" "$IMG" sleep 300 \
			</dev/null >"$TEST_TMP/$n.out" 2>&1 3>&- &
		client=$!
		wait_until 10 has_runtime "$n"
		id=$(id_of "$n")
		ids+=" $id"
		sup=$(rt "$id" SupervisorPid)
		pid=$(rt "$id" Pid)
		pids+=" $pid"
		assert_equal "$(ppid_of "$sup")" "$client"
		kill -9 "$client"
		wait "$client" || true
		alive "$sup"
		alive "$pid"
		status_is "$n" "Up" || fail "$n: $(status_of "$n")"
		run scow inspect -f '{{.State.Running}} {{.State.Pid}}' "$n"
		assert_success
		assert_equal "$output" "true $pid"
	done
	run scow stop -t 1 fg1
	assert_success
	assert_equal "$output" "fg1"
	run scow inspect -f '{{.State.Status}} {{.State.ExitCode}}' fg1
	assert_equal "$output" "exited 137"
	run scow rm -f fg2
	assert_success
	run scow rm fg1
	assert_success
	for pid in $pids; do
		wait_until 5 gone "$pid"
	done
	assert_no_leaks $ids
}

# After a killed command: `rm -f NAME` settles it, and the store is consistent:
# NAME is gone from ps -a, no container directory is invisible to ps -a, and
# the rest can be removed by id without leaving anything.
check_reconciles() {
	local name=$1 id
	run scow rm -f "$name"
	[[ $status -eq 0 || $output == *"No such container: $name"* ]] || fail "rm -f $name: $output"
	local said=$output
	run --separate-stderr scow ps -a --format '{{.ID}} {{.Names}}'
	assert_success
	[[ $'\n'$output$'\n' != *" $name"$'\n'* ]] ||
		fail "rm -f $name said \"$said\", but ps -a still shows it: $output"
	local seen="$output $stderr"
	for id in $(hex_entries); do
		[[ $seen == *"${id:0:12}"* ]] ||
			fail "container directory $id is invisible to ps -a: $(ls -A "$TEST_ROOT/containers/$id")"
		track "$id"
		run scow rm -f "$id"
		assert_success
	done
	ALLOW_DEL=1 assert_no_leaks $(known_ids)
}

@test "29: kill -9 of run -d at random points: the next rm -f cleans up, the store stays consistent" {
	local d p
	for d in 0 1 2 3 4 5 6 8 10 12 15 20 25 30 40; do
		scow_bg run -d --name k "$IMG" sleep 300
		p=$!
		sleep "$(printf '0.%03d' "$d")"
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		check_reconciles k
		run scow run -d --name k "$IMG" true
		assert_success
		track "$output"
		run scow rm -f k
		assert_success
	done
}

@test "29: kill -9 of rm -f at random points: the next rm -f cleans up, the store stays consistent" {
	local d p
	for d in 0 1 2 3 4 5 6 8 10 12 15 20 25 30 40; do
		run scow run -d --name k "$IMG" sleep 300
		assert_success
		track "$output"
		scow_bg rm -f k
		p=$!
		sleep "$(printf '0.%03d' "$d")"
		kill -9 "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
		check_reconciles k
	done
}

@test "29: crash mid-create (directory without config.json): ps -a reports or removes it, rm -f removes it" {
	local ok half
	run scow create --name ok "$IMG" true
	assert_success
	ok=$output
	# What a create killed between its state.json and config.json writes
	# leaves, some time ago.
	half=$(random_id)
	mkdir -m 700 "$TEST_ROOT/containers/$half"
	cp "$TEST_ROOT/containers/$ok/state.json" "$TEST_ROOT/containers/$half/"
	head -c 300 "$TEST_ROOT/containers/$ok/config.json" \
		>"$TEST_ROOT/containers/$half/.config.json.tmp-0123456789abcdef"
	touch -d '-10 minutes' "$TEST_ROOT/containers/$half"/.c* "$TEST_ROOT/containers/$half"/* \
		"$TEST_ROOT/containers/$half"

	run --separate-stderr scow ps -a --format '{{.ID}} {{.Names}}'
	assert_success
	assert_equal "$output" "${ok:0:12} ok"
	if [[ -d $TEST_ROOT/containers/$half ]]; then
		[[ $stderr == *"${half:0:12}"* ]] ||
			fail "half-created container $half is invisible: ps -a stderr: '$stderr'"
		run scow rm -f "$half"
		assert_success
		[ ! -e "$TEST_ROOT/containers/$half" ]
	fi
	run scow rm ok
	assert_success
	assert_no_leaks "$ok" "$half"
}

@test "29: truncated config.json and a stale name: ps -a warns and goes on, rm -f cleans, the name is taken over" {
	local ok torn stale
	run scow create --name ok "$IMG" true
	assert_success
	ok=$output
	torn=$(random_id)
	mkdir -m 700 "$TEST_ROOT/containers/$torn"
	cp "$TEST_ROOT/containers/$ok/state.json" "$TEST_ROOT/containers/$torn/"
	head -c 200 "$TEST_ROOT/containers/$ok/config.json" >"$TEST_ROOT/containers/$torn/config.json"
	# A name whose container never got (or no longer has) a directory.
	stale=$(random_id)
	ln -s "$stale" "$TEST_ROOT/names/x"

	run --separate-stderr scow ps -a --format '{{.ID}} {{.Names}}'
	assert_success
	assert_equal "$output" "${ok:0:12} ok"
	[[ $stderr == *"warning"*"${torn:0:12}"* ]] || fail "no warning about $torn: '$stderr'"

	run scow rm -f "$torn"
	assert_success
	[ ! -e "$TEST_ROOT/containers/$torn" ]

	# rm -f of that name: no such container, and the name goes (a create
	# killed between its name and its directory leaves just this)
	ln -s "$(random_id)" "$TEST_ROOT/names/y"
	run scow rm -f y
	assert_output_contains "No such container: y"
	[ ! -L "$TEST_ROOT/names/y" ]

	run scow run --name x "$IMG" true
	assert_success
	id=$(id_of x)
	[[ $id != "$stale" && -d $TEST_ROOT/containers/$id ]]
	run --separate-stderr scow ps -a --format '{{.Names}}'
	assert_success
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "ok x "
	assert_equal "$stderr" ""
	run scow rm ok x
	assert_success
	assert_no_leaks "$ok" "$id"
}

@test "29: a record left without its name (kill between record and name): rm -f NAME removes what ps -a calls NAME" {
	local id
	run scow create --name k "$IMG" true
	assert_success
	id=$output
	# create reserves the name after writing the record, rm releases it
	# before renaming the record away: a kill -9 in between leaves this.
	rm "$TEST_ROOT/names/k"
	run scow ps -a --format '{{.Names}}'
	assert_success
	if [[ $output == k ]]; then
		run scow rm -f k
		assert_success
	fi
	run scow ps -a --format '{{.Names}}'
	assert_success
	[[ $output != *k* ]] || fail "ps -a still shows k after rm -f k: $output"
	run scow run -d --name k "$IMG" sleep 300
	assert_success
	track "$output"
	run scow ps -a --format '{{.Names}}'
	[ "$(grep -cx k <<<"$output")" -eq 1 ] || fail "ps -a shows k more than once: $output"
	run scow rm -f k
	assert_success
	run scow rm -f "$id"
	assert_no_leaks "$id"
}

# ---- 30: kill -9 of a supervisor ------------------------------------------------------

# lose_supervisor NAME: kill -9 the supervisor of the running container NAME
# and wait until it is gone. Sets ID, PID, PST (the container's pid and start).
lose_supervisor() {
	local sup sst
	ID=$(id_of "$1")
	sup=$(rt "$ID" SupervisorPid) sst=$(rt "$ID" SupervisorStart)
	PID=$(rt "$ID" Pid) PST=$(rt "$ID" PidStart)
	kill9 "$sup" "$sst"
	wait_until 5 gone "$sup"
	alive "$PID"
}

# run_s: a detached container "s" that logs a line, then sleeps (as pid 1,
# so it ignores SIGTERM).
run_s() {
	run scow run -d --name s "$IMG" sh -c 'echo hello from s; exec sleep 300'
	assert_success
	track "$output"
	wait_until 5 logs_have s "hello from s"
}

@test "30: kill -9 of a supervisor: ps, inspect and logs show the container still running" {
	run_s
	lose_supervisor s
	run scow ps --format '{{.Names}} {{.Status}}'
	assert_success
	[[ $output == "s Up"* ]] || fail "$output"
	run scow inspect -f '{{.State.Status}} {{.State.Running}} {{.State.Pid}}' s
	assert_equal "$output" "running true $PID"
	run scow logs s
	assert_success
	assert_equal "$output" "hello from s"
	# The truth once the container process is gone too (rm -f and stop
	# without a supervisor have tests of their own below).
	kill9 "$PID" "$PST"
	wait_until 5 gone "$PID"
	wait_until 5 status_is s "Exited (255)" || fail "$(status_of s)"
	run scow rm s
	assert_success
	assert_no_leaks "$ID"
}

@test "30: kill -9 of a supervisor, then stop: Exited (137) as soon as stop returns, no cgroup left" {
	run_s
	lose_supervisor s
	# SIGTERM is ignored by sleep as pid 1: SIGKILL after 1 s.
	run scow stop -t 1 s
	assert_success
	assert_equal "$output" "s"
	run scow ps -a --format '{{.Names}} {{.Status}}'
	[[ $output == "s Exited (137)"* ]] || fail "right after stop: $output"
	run scow inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}' s
	assert_equal "$output" "exited 137 false"
	[[ -z "$(cgroups_of "$ID")" ]] || fail "cgroup left: $(cgroups_of "$ID")"
	run scow logs s
	assert_success
	assert_output_contains "hello from s"
	run scow rm s
	assert_success
	assert_no_leaks "$ID"
}

@test "30: kill -9 of a supervisor, then restart: a new container process and supervisor" {
	run_s
	lose_supervisor s
	run scow restart -t 1 s
	assert_success
	wait_until 5 gone "$PID"
	local pid2
	pid2=$(rt "$ID" Pid)
	[[ $pid2 != "$PID" ]]
	alive "$pid2"
	alive "$(rt "$ID" SupervisorPid)"
	status_is s "Up" || fail "after restart: $(status_of s)"
	run scow logs s
	[ "$(grep -c 'hello from s' <<<"$output")" -eq 2 ]
	run scow rm -f s
	assert_success
	wait_until 5 gone "$pid2"
	assert_no_leaks "$ID"
}

@test "30: kill -9 of a supervisor and of its container: Exited (255), cgroup removed, start works again" {
	run_s
	lose_supervisor s
	kill9 "$PID" "$PST"
	wait_until 5 gone "$PID"
	wait_until 5 status_is s "Exited (255)" || fail "$(status_of s)"
	run scow inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}' s
	assert_equal "$output" "exited 255 false"
	[[ -z "$(cgroups_of "$ID")" ]] || fail "cgroup left: $(cgroups_of "$ID")"
	run scow start s
	assert_success
	status_is s "Up" || fail "$(status_of s)"
	run scow stop -t 1 s
	assert_success
	run scow rm s
	assert_success
	assert_no_leaks "$ID"
}

@test "30: kill -9 of a supervisor, then rm -f: container killed, nothing left" {
	run_s
	lose_supervisor s
	run scow rm -f s
	assert_success
	wait_until 5 gone "$PID"
	assert_no_leaks "$ID"
}

# ---- 31: reboot -----------------------------------------------------------------------

@test "31: reboot (runroot wiped): a running container becomes Exited (255), start works again, nothing hangs" {
	local rb sup sst pid pst
	run scow run -d --name rb "$IMG" sleep 300
	assert_success
	rb=$output
	run scow create --name cr "$IMG" true
	assert_success
	run scow run --name ex "$IMG" sh -c 'exit 4'
	assert_failure 4
	sup=$(rt "$rb" SupervisorPid) sst=$(rt "$rb" SupervisorStart)
	pid=$(rt "$rb" Pid) pst=$(rt "$rb" PidStart)
	kill9 "$sup" "$sst"
	kill9 "$pid" "$pst"
	wait_until 5 gone "$sup"
	wait_until 5 gone "$pid"
	rm -rf "$TEST_RUNROOT"

	run scow ps -a --format '{{.Names}} {{.Status}}'
	assert_success
	[[ $output == *"rb Exited (255)"* ]] || fail "$output"
	assert_output_contains "cr Created"
	assert_output_contains "ex Exited (4)"
	run scow ps -q
	assert_equal "$output" ""
	run scow inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}' rb
	assert_equal "$output" "exited 255 false"
	run scow wait rb
	assert_success
	assert_equal "$output" "255"

	run scow start rb cr
	assert_success
	status_is rb "Up" || fail "$(status_of rb)"
	run scow stop -t 1 rb
	assert_success
	run scow start -a ex
	assert_failure 4
	run scow rm -f rb cr ex
	assert_success
	assert_no_leaks "$rb"
}

@test "31: a runroot from another boot (boot_id changed) is discarded" {
	local id fake sup sst pid pst
	run scow run -d --name b "$IMG" sleep 300
	assert_success
	id=$output
	sup=$(rt "$id" SupervisorPid) sst=$(rt "$id" SupervisorStart)
	pid=$(rt "$id" Pid) pst=$(rt "$id" PidStart)
	kill9 "$sup" "$sst"
	kill9 "$pid" "$pst"
	wait_until 5 gone "$sup"
	wait_until 5 gone "$pid"
	[ -s "$TEST_RUNROOT/boot_id" ]
	fake=$(random_id)
	mkdir -p "$TEST_RUNROOT/containers/$fake"
	echo stale >"$TEST_RUNROOT/containers/$fake/runtime.json"
	echo 00000000-0000-4000-8000-000000000000 >"$TEST_RUNROOT/boot_id"

	run scow ps -a --format '{{.Names}} {{.Status}}'
	assert_success
	[[ $output == "b Exited (255)"* ]] || fail "$output"
	[ ! -e "$TEST_RUNROOT/containers/$fake" ]
	[ ! -e "$TEST_RUNROOT/containers/$id" ]
	assert_equal "$(cat "$TEST_RUNROOT/boot_id")" "$(cat /proc/sys/kernel/random/boot_id)"
	run scow start b
	assert_success
	status_is b "Up"
	run scow rm -f b
	assert_success
	assert_no_leaks "$id"
}

# ---- 32: torn and corrupt records ------------------------------------------------------

@test "32: a torn state.json or config.json breaks only its own container, with a clear error naming it" {
	local good1 good2 bad f size
	run scow run -d --name good1 "$IMG" sh -c 'echo good1 up; exec sleep 300'
	assert_success
	good1=$output
	run scow create --name good2 "$IMG" true
	assert_success
	good2=$output
	declare -A bad
	for f in state config; do
		run scow create --name "bad_$f" "$IMG" true
		assert_success
		bad[$f]=$output
		size=$(stat -c %s "$TEST_ROOT/containers/${bad[$f]}/$f.json")
		head -c $((size / 2)) "$TEST_ROOT/containers/${bad[$f]}/$f.json" >"$TEST_TMP/torn"
		cat "$TEST_TMP/torn" >"$TEST_ROOT/containers/${bad[$f]}/$f.json"
	done
	# A write torn by kill -9 leaves its temp file: the previous version stands.
	printf '{"Status": "runn' >"$TEST_ROOT/containers/$good2/.state.json.tmp"
	printf '{"Status": "runn' >"$TEST_ROOT/containers/$good2/.state.json.tmp-0123456789abcdef"

	run --separate-stderr scow ps -a --format '{{.Names}} {{.State}}'
	assert_success
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "good1 running good2 created "
	local ps_stderr=$stderr
	for f in state config; do
		[[ $ps_stderr == *"warning"*"${bad[$f]:0:12}"* ]] ||
			fail "ps -a does not warn about bad_$f: '$ps_stderr'"
		run --separate-stderr scow inspect "bad_$f"
		[ "$status" -ne 0 ] && [ "$status" -lt 126 ] || fail "inspect bad_$f: status $status"
		[[ $stderr == *"${bad[$f]:0:12}"* && $stderr == *"$f.json"* ]] ||
			fail "inspect bad_$f: unclear error: '$stderr'"
		run --separate-stderr scow start "bad_$f"
		[ "$status" -ne 0 ] && [ "$status" -lt 126 ] || fail "start bad_$f: status $status"
		[[ $stderr == *"${bad[$f]:0:12}"* ]] || fail "start bad_$f: unclear error: '$stderr'"
	done

	# The others keep working.
	run scow inspect -f '{{.State.Status}}' good2
	assert_success
	assert_equal "$output" "created"
	run scow start good2
	assert_success
	run scow logs good1
	assert_success
	assert_output_contains "good1 up"
	run scow stop -t 1 good1
	assert_success
	run scow wait good2
	assert_success
	assert_equal "$output" "0"

	run scow rm -f bad_state bad_config
	assert_success
	[ ! -e "$TEST_ROOT/containers/${bad[state]}" ]
	[ ! -e "$TEST_ROOT/containers/${bad[config]}" ]
	run --separate-stderr scow ps -a --format '{{.Names}}'
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(ls "$TEST_ROOT/names" | tr '\n' ' ')" "good1 good2 "
	run scow rm -f good1 good2
	assert_success
	assert_no_leaks "$good1" "$good2"
}

@test "32: a config.json or state.json of the wrong shape is an error, never a crash" {
	local f content id
	run scow create --name good "$IMG" true
	assert_success
	track "$output"
	for f in config state; do
		for content in '{}' '[]' '{"Name":5,"Config":[],"HostConfig":"x","Args":{},"Scow":7}' \
			'{"Status":42,"Pid":"x","StartedAt":[]}'; do
			run scow create "$IMG" true
			assert_success
			id=$output
			printf '%s' "$content" >"$TEST_ROOT/containers/$id/$f.json"
			for cmd in "ps -a" "inspect $id" "start $id" "logs $id" "stop $id" "wait $id"; do
				run --separate-stderr scow $cmd
				[ "$status" -lt 126 ] ||
					fail "$f.json '$content': scow $cmd: status $status, stderr: $stderr"
			done
			run scow rm -f "$id"
			assert_success
			[ ! -e "$TEST_ROOT/containers/$id" ]
		done
	done
	run scow ps -a --format '{{.Names}}'
	assert_equal "$output" "good"
	run scow rm good
	assert_no_leaks $(known_ids)
}

# ---- 33: rmi and containers -------------------------------------------------------------

@test "33: rmi of an image in use: Docker's conflicts, -f only untags, removable after rm" {
	local cid iid
	run scow run -d --name user "$IMG" sleep 300
	assert_success
	cid=$output
	iid=$(scow image inspect -f '{{.Id}}' "$IMG")
	[ "$(layer_count)" -eq 1 ]

	# running
	run scow rmi "$IMG"
	assert_failure 1
	assert_output_contains "conflict: unable to remove repository reference \"$IMG\" (must force) - container ${cid:0:12} is using its referenced image ${iid:7:12}"
	run scow rmi "${iid:7:12}"
	assert_failure 1
	assert_output_contains "conflict: unable to delete ${iid:7:12} (cannot be forced) - image is being used by running container ${cid:0:12}"
	run scow rmi -f "${iid:7:12}"
	assert_failure 1
	assert_output_contains "(cannot be forced)"
	run scow images -q
	assert_equal "$output" "${iid:7:12}"

	# stopped
	run scow stop -t 1 user
	assert_success
	run scow rmi "${iid:7:12}"
	assert_failure 1
	assert_output_contains "conflict: unable to delete ${iid:7:12} (must be forced) - image is being used by stopped container ${cid:0:12}"
	run scow rmi "$IMG"
	assert_failure 1
	assert_output_contains "(must force) - container ${cid:0:12} is using its referenced image"

	# forced: untagged only; the image and its layers stay for the container
	run scow rmi -f "$IMG"
	assert_success
	assert_output_contains "Untagged: $IMG:latest"
	refute_output_contains "Deleted"
	run scow images -a -q
	assert_equal "$output" "${iid:7:12}"
	[ "$(layer_count)" -eq 1 ]
	[ "$(image_count)" -eq 1 ]
	run scow image prune -a -f
	assert_success
	[ "$(layer_count)" -eq 1 ]
	run scow start user
	assert_success
	status_is user "Up"
	run scow rm -f user
	assert_success

	run scow rmi "${iid:7:12}"
	assert_success
	assert_output_contains "Deleted: $iid"
	[ "$(layer_count)" -eq 0 ]
	[ "$(image_count)" -eq 0 ]
	[ -z "$(ls -A "$TEST_ROOT/layers" | grep -vE '^\.|^locks$' || true)" ] ||
		fail "ROOT/layers: $(ls -A "$TEST_ROOT/layers")"
	assert_store_clean
	assert_no_leaks "$cid"
}

@test "33: rmi racing with create never leaves a container pointing at missing layers" {
	local i j t id ids
	for i in $(seq 15); do
		run scow pull -q "$IMG"
		assert_success
		rm -rf "$TEST_TMP/par"
		for j in 1 2 3; do
			par_start "$j" create --pull never "$IMG" true
		done
		for t in $(seq 30); do
			scow rmi "$IMG" >/dev/null 2>&1 && break
		done
		wait
		for j in 1 2 3; do
			[[ $(cat "$TEST_TMP/par/$j.rc") == 0 ]] || continue
			id=$(cat "$TEST_TMP/par/$j.out")
			track "$id"
			run scow start "$id"
			[ "$status" -eq 0 ] ||
				fail "round $i: create succeeded ($id) but rmi removed its image meanwhile: $output"
		done
		ids=$(hex_entries)
		[[ -z $ids ]] || scow rm -f $ids >/dev/null
	done
	assert_no_leaks $(known_ids)
}

# ---- 34: ENOSPC ---------------------------------------------------------------------------

# use_small_root MiB: the data root becomes a fresh tmpfs of that size.
use_small_root() {
	SMALL=$TEST_TMP/small
	mkdir -p "$SMALL"
	mount -t tmpfs -o size="$1"m scow-test-small "$SMALL"
	echo "$SMALL" >>"$TEST_TMP/mounts"
	TEST_ROOT=$SMALL/root
	echo "$TEST_ROOT" >>"$TEST_TMP/roots"
	run scow pull -q "$IMG"
	assert_success
}

# fill_leaving KiB: a file takes all but KiB of the small root.
fill_leaving() {
	local bs avail
	rm -f "$SMALL/fill"
	bs=$(stat -f -c %S "$SMALL")
	avail=$(stat -f -c %a "$SMALL")
	dd if=/dev/zero of="$SMALL/fill" bs="$bs" count=$((avail - $1 * 1024 / bs)) 2>/dev/null || true
}

@test "34: ENOSPC in the data root: run/create fail cleanly (125), nothing half-made; all works once space is freed" {
	local cmd kib id
	use_small_root 16
	fill_leaving 0
	for cmd in create "run -d" "run --rm" run; do
		run --separate-stderr scow $cmd --name full "$IMG" true
		assert_failure 125
		[[ $stderr == *"No space left on device"* ]] || fail "$cmd: '$stderr'"
		[[ -z "$(ls -A "$TEST_ROOT/containers")" ]] || fail "$cmd left: $(ls -A "$TEST_ROOT/containers")"
		[[ -z "$(ls "$TEST_ROOT/names")" ]] || fail "$cmd left the name"
		[[ -z "$(ls -A "$TEST_RUNROOT/containers")" ]]
	done

	# Each amount of free space: either a complete container or a clean error.
	for kib in 4 8 12 16 20 24 28 32 40 48 64; do
		for cmd in create "run -d"; do
			fill_leaving "$kib"
			run --separate-stderr scow $cmd --name lv "$IMG" true
			if [ "$status" -ne 0 ]; then
				[ "$status" -eq 125 ] || fail "$kib KiB free, $cmd: status $status: $stderr"
				[[ $stderr == *"No space left on device"* ]] || fail "$kib KiB, $cmd: '$stderr'"
			fi
			run --separate-stderr scow ps -a --format '{{.Names}} {{.State}}'
			assert_success
			assert_equal "$stderr" ""
			if [[ -n $(hex_entries) ]]; then
				# Docker keeps a container whose start failed: it must be whole.
				[[ $output == "lv "* ]] || fail "$kib KiB, $cmd: a container not listed as lv: $output"
				id=$(id_of lv)
				[[ -n $id && -d $TEST_ROOT/containers/$id ]] || fail "$kib KiB, $cmd: no name"
				run scow inspect -f '{{.Name}}' lv
				assert_success
				assert_equal "$output" "/lv"
			else
				[[ -z $output ]]
				[[ -z "$(ls "$TEST_ROOT/names")" ]] || fail "$kib KiB, $cmd: name without container"
			fi
			rm -f "$SMALL/fill"
			run scow rm -f $(hex_entries)
			ALLOW_DEL=0 assert_no_leaks $(known_ids)
		done
	done

	# Space again: everything works.
	rm -f "$SMALL/fill"
	run scow run --rm "$IMG" sh -c 'echo fine'
	assert_success
	assert_equal "$output" "fine"
	run scow run -d --name after "$IMG" sleep 300
	assert_success
	run scow stop -t 1 after
	assert_success
	run scow rm after
	assert_success
	assert_no_leaks $(known_ids)
}

# A container that writes until the data root is full, then exits 7.
flood() {
	use_small_root 16
	run scow run --name flood "$IMG" sh -c 'yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx | head -c 40000000; exit 7'
	[ "$status" -eq 7 ] || fail "run: status $status"
	[ "$(stat -f -c %a "$SMALL")" -eq 0 ] || fail "the disk did not fill up"
	track "$(id_of flood)"
}

@test "34: a container whose log fills the data root: ps -a and inspect still show it on the full disk" {
	flood
	run --separate-stderr scow ps -a --format '{{.Names}} {{.Status}}'
	assert_success
	[[ $output == "flood Exited"* ]] || fail "ps -a on a full disk: '$output', stderr: '$stderr'"
	run --separate-stderr scow inspect -f '{{.State.Status}}' flood
	assert_success
	assert_equal "$output" "exited"
	run scow rm flood
	assert_success
	assert_no_leaks $(known_ids)
}

@test "34: a container whose log fills the data root: its exit code is kept" {
	flood
	: >"$TEST_ROOT/containers/$(id_of flood)/ctr.log"
	run scow inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Error}}' flood
	assert_success
	assert_equal "$output" "exited 7 "
	run scow wait flood
	assert_equal "$output" "7"
	run scow rm flood
	assert_success
	assert_no_leaks $(known_ids)
}

# ---- lifecycle round trips -----------------------------------------------------------------

@test "wait, kill -s, restart, rename, stop, start round trips on detached containers" {
	local id p1 p2
	run scow run -d --name w "$IMG" sh -c 'sleep 0.3; exit 42'
	assert_success
	track "$output"
	run scow wait w
	assert_success
	assert_equal "$output" "42"
	run scow wait w
	assert_equal "$output" "42"
	status_is w "Exited (42)"

	run scow run -d --name lc "$IMG" sh -c \
		'trap "echo got USR1" USR1; trap "echo got TERM; exit 0" TERM; echo started; while :; do sleep 0.1; done'
	assert_success
	id=$output
	wait_until 5 logs_have lc started
	run scow kill -s USR1 lc
	assert_success
	assert_equal "$output" "lc"
	wait_until 5 logs_have lc "got USR1"
	status_is lc "Up"

	p1=$(scow inspect -f '{{.State.Pid}}' lc)
	run scow restart lc
	assert_success
	assert_equal "$output" "lc"
	p2=$(scow inspect -f '{{.State.Pid}}' lc)
	[[ $p1 != "$p2" && $p2 -gt 0 ]] || fail "pid $p1 -> $p2"
	gone "$p1"
	alive "$p2"
	wait_until 5 logs_have lc "got TERM"
	run scow logs lc
	[ "$(grep -c started <<<"$output")" -eq 2 ]

	run scow rename lc lc2
	assert_success
	run scow inspect -f '{{.Id}} {{.Name}} {{.State.Running}}' lc2
	assert_equal "$output" "$id /lc2 true"
	run scow inspect lc
	assert_failure
	[ ! -e "$TEST_ROOT/names/lc" ]
	assert_equal "$(id_of lc2)" "$id"
	run scow rename lc2 w
	assert_failure
	assert_output_contains 'Conflict. The container name "/w" is already in use'
	assert_equal "$(id_of lc2)" "$id"

	run scow stop lc2
	assert_success
	run scow inspect -f '{{.State.Status}} {{.State.ExitCode}}' lc2
	assert_equal "$output" "exited 0"
	run scow kill lc2
	assert_failure 1
	assert_output_contains "is not running"
	run scow start lc2
	assert_success
	run scow start lc2
	assert_success
	run scow kill lc2
	assert_success
	run scow wait lc2
	assert_equal "$output" "137"
	run scow rm lc2 w
	assert_success
	assert_no_leaks $(known_ids)
}

@test "a detached container's supervisor keeps none of the invoker's other file descriptors" {
	local id sup
	run scow run -d --name fd "$IMG" sleep 300 7>"$TEST_TMP/fd7"
	assert_success
	id=$output
	sup=$(rt "$id" SupervisorPid)
	run ls -l "/proc/$sup/fd"
	assert_success
	refute_output_contains "$TEST_TMP/fd7"
	run scow rm -f fd
	assert_success
	assert_no_leaks "$id"
}

# ---- many containers -------------------------------------------------------------------------

@test "ps -a with 1000 containers" {
	local t0 t1
	t0=$(date +%s%N)
	seq 1000 | xargs -P 4 -I{} timeout 60 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		create --name c{} "$IMG" true >/dev/null 3>&-
	t1=$(date +%s%N)
	echo "# create x1000 (4 in parallel): $(((t1 - t0) / 1000000)) ms" >&3
	t0=$(date +%s%N)
	run scow ps -a
	t1=$(date +%s%N)
	echo "# ps -a with 1000 containers: $(((t1 - t0) / 1000000)) ms" >&3
	assert_success
	[ "${#lines[@]}" -eq 1001 ]
	run scow ps -a --format '{{.Names}}'
	[ "$(sort -u <<<"$output" | wc -l)" -eq 1000 ]
	t0=$(date +%s%N)
	run scow rm $(hex_entries)
	t1=$(date +%s%N)
	echo "# rm of 1000 containers: $(((t1 - t0) / 1000000)) ms" >&3
	assert_success
	assert_no_leaks
}

@test "27: parallel creates without --name never fail on a generated name another create took" {
	# 600 generated names from a pool of ~5000: collisions are certain
	# (birthday bound); each must be resolved by choosing another name.
	seq 600 | xargs -P 8 -I{} timeout 60 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		create "$IMG" true >/dev/null 3>&-
	run scow ps -a --format '{{.Names}}'
	assert_success
	[ "${#lines[@]}" -eq 600 ]
	[ "$(sort -u <<<"$output" | wc -l)" -eq 600 ]
	# every name resolves to the container that shows it
	local name id
	for name in $(head -20 <<<"$output"); do
		id=$(scow inspect -f '{{.Name}}' "$name")
		assert_equal "$id" "/$name"
	done
	run scow rm $(hex_entries)
	assert_success
	assert_no_leaks
}
