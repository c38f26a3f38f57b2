#!/usr/bin/env bats
# run/create/start and the container lifecycle: Docker's options, output and
# exit codes, against real containers from the busybox fixture image.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	start_registry plain --only busybox,layers
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
}

teardown() {
	local ids
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f $ids >/dev/null 2>&1 || true
	teardown_scow
}

@test "run in the foreground: output, exit code, stdout and stderr kept apart" {
	run scow run --rm "$IMG" echo hello
	assert_success
	assert_equal "$output" "hello"
	run scow run --rm "$IMG" sh -c 'exit 42'
	assert_failure 42
	scow run --rm "$IMG" sh -c 'echo out; echo err >&2' >"$TEST_TMP/o" 2>"$TEST_TMP/e"
	assert_equal "$(cat "$TEST_TMP/o")" "out"
	assert_equal "$(cat "$TEST_TMP/e")" "err"
	[ -z "$(ls "$TEST_ROOT/containers")" ]
}

@test "exec failures: 127 not found, 126 not executable, 125 bad option values" {
	run -127 scow run --rm "$IMG" nosuchcommand
	assert_output_contains 'exec: "nosuchcommand": executable file not found in $PATH'
	run scow run --rm "$IMG" /etc/passwd
	assert_failure 126
	assert_output_contains 'permission denied'
	run -127 scow run --rm "$IMG" /nope/x
	run scow run --rm --stop-signal FOO "$IMG" true
	assert_failure 125
	assert_output_contains "invalid signal: FOO"
	run scow run --rm --bogus "$IMG" true
	assert_failure 125
	run scow run --rm -w relative "$IMG" true
	assert_failure 125
	assert_output_contains "needs to be an absolute path"
	run scow run --rm --pull never "$REGISTRY/nothere" true
	assert_failure 125
	[ -z "$(ls "$TEST_ROOT/containers")" ]
}

@test "a failed start leaves a Created container with the error (run without --rm)" {
	run -127 scow run --name broken "$IMG" nosuchcommand
	run scow ps -a --format '{{.Names}} {{.State}}'
	assert_equal "$output" "broken created"
	run scow inspect -f '{{.State.ExitCode}} {{.State.Error}}' broken
	assert_output_contains '127 exec: "nosuchcommand"'
}

@test "the image's Entrypoint/Cmd/Env/WorkingDir/User and Docker's override rules" {
	run scow run --rm "$IMG" sh -c 'echo $PATH; pwd; id -u; echo $HOME; echo $HOSTNAME'
	assert_success
	assert_equal "${lines[0]}" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	assert_equal "${lines[1]}" "/"
	assert_equal "${lines[2]}" "0"
	assert_equal "${lines[3]}" "/root"
	[ "${#lines[4]}" -eq 12 ]
	run scow run --rm --entrypoint echo "$IMG" a b
	assert_equal "$output" "a b"
	run scow run --rm --entrypoint /bin/pwd -w /tmp "$IMG"
	assert_equal "$output" "/tmp"
	scow pull -q "$REGISTRY/layers:oci" >/dev/null
	run scow run --rm "$REGISTRY/layers:oci" pwd
	assert_equal "$output" "/fx"
	run scow run --rm -e A=1 -e B "$IMG" sh -c 'echo "$A-${B:-unset}"'
	assert_equal "$output" "1-unset"
	B=fromhost run scow run --rm -e B "$IMG" sh -c 'echo $B'
	assert_equal "$output" "fromhost"
	printf 'X=1\n# comment\n\nY=two words\n' >"$TEST_TMP/env"
	run scow run --rm --env-file "$TEST_TMP/env" -e X=2 "$IMG" sh -c 'echo "$X $Y"'
	assert_equal "$output" "2 two words"
	printf 'A=1\0B=2' >"$TEST_TMP/nul.env"
	run scow run --rm --env-file "$TEST_TMP/nul.env" "$IMG" true
	assert_failure 125
	assert_output_contains "NUL"
	run scow run --rm -h myhost --domainname example.org "$IMG" sh -c 'hostname; cat /etc/hostname; domainname 2>/dev/null || cat /proc/sys/kernel/domainname'
	assert_equal "${lines[0]}" "myhost"
	assert_equal "${lines[1]}" "myhost"
	assert_equal "${lines[2]}" "example.org"
	run scow run --rm "$IMG"
	assert_success # Cmd ["sh"] with no stdin: exits at EOF
}

@test "users and groups from the image's own files" {
	run scow run --rm -u user "$IMG" id
	assert_equal "$output" "uid=1000(user) gid=1000(user) groups=1000(user),1001(extra)"
	run scow run --rm -u 1000:extra "$IMG" id
	assert_equal "$output" "uid=1000(user) gid=1001(extra) groups=1001(extra)"
	run scow run --rm -u nobody --group-add tty "$IMG" id -G
	assert_equal "$output" "65534 5"
	run scow run --rm -u 4242 "$IMG" id -u
	assert_equal "$output" "4242"
	run scow run --rm -u ghost "$IMG" true
	assert_failure 125
	assert_output_contains "unable to find user ghost"
	run scow run --rm -u 2147483648 "$IMG" id -u
	assert_failure 125
	assert_output_contains "out of range"
}

@test "volumes: bind mounts ro/rw, --mount, --tmpfs, --read-only" {
	mkdir -p "$TEST_TMP/data"
	echo host >"$TEST_TMP/data/f"
	run scow run --rm -v "$TEST_TMP/data:/data" "$IMG" sh -c 'cat /data/f; echo ctr > /data/g'
	assert_equal "$output" "host"
	assert_equal "$(cat "$TEST_TMP/data/g")" "ctr"
	run scow run --rm -v "$TEST_TMP/data:/data:ro" "$IMG" sh -c 'echo x > /data/h'
	assert_failure
	assert_output_contains "Read-only file system"
	run scow run --rm --mount "type=bind,source=$TEST_TMP/data,target=/m,readonly" "$IMG" cat /m/f
	assert_equal "$output" "host"
	run scow run --rm --mount "type=bind,source=$TEST_TMP/nothere,target=/m" "$IMG" true
	assert_failure 125
	assert_output_contains "bind source path does not exist"
	run scow run --rm -v "$TEST_TMP/created:/c" "$IMG" true
	assert_success
	[ -d "$TEST_TMP/created" ]
	run scow run --rm -v relative/path:/x "$IMG" true
	assert_failure 125
	run scow run --rm -v "$TEST_TMP/data:rel" "$IMG" true
	assert_failure 125
	assert_output_contains "must be absolute"
	run scow run --rm --tmpfs /scratch:size=1m,mode=1777 "$IMG" sh -c 'grep " /scratch " /proc/mounts; stat -c %a /scratch'
	assert_output_contains "tmpfs /scratch tmpfs"
	assert_output_contains "noexec"
	assert_equal "${lines[1]}" "1777"
	run scow run --rm --mount type=tmpfs,target=/t,tmpfs-size=1048576 "$IMG" df -k /t
	assert_output_contains "1024"
	run scow run --rm --read-only "$IMG" sh -c 'touch /x'
	assert_failure
	assert_output_contains "Read-only file system"
	run scow run --rm --read-only --tmpfs /tmp "$IMG" sh -c 'touch /tmp/x && echo ok'
	assert_equal "$output" "ok"
}

@test "ulimits, sysctls, devices, labels, capabilities" {
	run scow run --rm --ulimit nofile=100:200 "$IMG" sh -c 'ulimit -n; ulimit -Hn'
	assert_equal "${lines[0]}" "100"
	assert_equal "${lines[1]}" "200"
	run scow run --rm --ulimit nofile=10:5 "$IMG" true
	assert_failure 125
	run scow run --rm --sysctl net.ipv4.ip_forward=1 "$IMG" cat /proc/sys/net/ipv4/ip_forward
	assert_equal "$output" "1"
	run scow run --rm --sysctl kernel.core_pattern=x "$IMG" true
	assert_failure 125
	run scow run --rm --device /dev/fuse "$IMG" ls -l /dev/fuse
	assert_output_contains "10,"
	run scow run --rm --device /nonexistent "$IMG" true
	assert_failure 125
	run scow create --name lab -l a=1 -l b "$IMG" true
	assert_success
	run scow inspect -f '{{index .Config.Labels "a"}}|{{index .Config.Labels "b"}}' lab
	assert_equal "$output" "1|"
	run scow run --rm --cap-drop ALL --cap-add NET_RAW "$IMG" grep CapEff /proc/self/status
	assert_output_contains "0000000000002000"
	run scow run --rm --cap-add BOGUS "$IMG" true
	assert_failure 125
	assert_output_contains 'unknown capability: "BOGUS"'
}

@test "--init: pid 1 reaps zombies and forwards signals" {
	run scow run --rm --init "$IMG" sh -c 'echo $$; (sleep 0.1 &) ; sleep 0.3; ps -o pid,stat,comm | grep -c " Z " || true'
	assert_equal "${lines[0]}" "2"
	assert_equal "${lines[1]}" "0"
	scow run -d --init --name sig "$IMG" sh -c 'trap "echo got-term; exit 5" TERM; while :; do sleep 0.1; done' >/dev/null
	sleep 0.5
	scow kill -s TERM sig
	run scow wait sig
	assert_equal "$output" "5"
	run scow logs sig
	assert_output_contains "got-term"
}

@test "detached: prints the id once running; ps, logs, inspect, stop, start, restart, rm" {
	id=$(scow run -d --name web "$IMG" sh -c 'echo up; trap "echo down; exit 0" TERM; while :; do sleep 0.1; done')
	[[ "$id" =~ ^[0-9a-f]{64}$ ]]
	run scow ps --format '{{.ID}} {{.Names}} {{.State}}'
	assert_equal "$output" "${id:0:12} web running"
	run scow ps
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]]
	[[ "${lines[1]}" == *"\"sh -c 'echo up; tr…"* ]]
	[[ "${lines[1]}" =~ Up\  ]]
	sleep 0.3
	run scow logs web
	assert_equal "$output" "up"
	pid=$(scow inspect -f '{{.State.Pid}}' web)
	[ -d "/proc/$pid" ]
	run scow stop web
	assert_equal "$output" "web"
	run scow inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}' web
	assert_equal "$output" "exited 0 false"
	run scow logs web
	assert_equal "$output" "$(printf 'up\ndown')"
	run scow ps -q
	assert_equal "$output" ""
	run scow ps -a -q
	assert_equal "$output" "${id:0:12}"
	scow start web
	newpid=$(scow inspect -f '{{.State.Pid}}' web)
	[ "$newpid" != "$pid" ]
	scow restart -t 2 web
	[ "$(scow inspect -f '{{.State.Pid}}' web)" != "$newpid" ]
	run scow rm web
	assert_failure 1
	assert_output_contains "container is running"
	run scow rm -f web
	assert_success
	run scow ps -a -q
	assert_equal "$output" ""
	[ -z "$(ls "$TEST_ROOT/names")" ]
}

@test "kill, wait, rename, create/start -a, cidfile, container prune" {
	scow run -d --name k "$IMG" sleep 100 >/dev/null
	run scow kill k
	assert_equal "$output" "k"
	run scow wait k
	assert_equal "$output" "137"
	run scow kill k
	assert_failure 1
	assert_output_contains "is not running"
	run scow rename k k2
	assert_success
	run scow inspect -f '{{.Name}}' k2
	assert_equal "$output" "/k2"
	run scow inspect k
	assert_failure 1
	scow create --name c --cidfile "$TEST_TMP/cid" "$IMG" sh -c 'echo created-then-started; exit 4' >/dev/null
	[ -s "$TEST_TMP/cid" ]
	run scow ps -a --filter status=created --format '{{.Names}}'
	assert_equal "$output" "c"
	run scow start -a c
	assert_failure 4
	assert_equal "$output" "created-then-started"
	run scow container prune -f
	assert_success
	assert_output_contains "Deleted Containers:"
	run scow ps -a -q
	assert_equal "$output" ""
}

@test "ps: filters, -n/-l, --no-trunc, -s, --format table and json" {
	scow run -d --name a1 -l tier=front "$IMG" sleep 100 >/dev/null
	scow run --name a2 "$IMG" sh -c 'exit 3' || true
	scow create --name a3 "$IMG" true >/dev/null
	run scow ps -a --filter name=a1 --format '{{.Names}}'
	assert_equal "$output" "a1"
	run scow ps -a --filter label=tier=front --format '{{.Names}}'
	assert_equal "$output" "a1"
	run scow ps -a --filter exited=3 --format '{{.Names}}'
	assert_equal "$output" "a2"
	run scow ps -a --filter status=exited --format '{{.Names}}'
	assert_equal "$output" "a2"
	run scow ps -a --filter "ancestor=$IMG" -q
	[ "${#lines[@]}" -eq 3 ]
	run scow ps -l --format '{{.Names}}'
	assert_equal "$output" "a3"
	run scow ps -n 2 --format '{{.Names}}'
	assert_equal "$output" "$(printf 'a3\na2')"
	run scow ps --no-trunc -q
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	run scow ps -s --format '{{.Size}}'
	assert_output_contains "virtual"
	run scow ps --format 'table {{.Names}}\t{{.Status}}'
	[[ "${lines[0]}" =~ ^NAMES\ +STATUS$ ]]
	run scow ps --format json
	echo "$output" | python3 -c 'import json,sys; assert json.loads(sys.stdin.read())["Names"] == "a1"'
	run scow ps --filter bogus=1
	assert_failure 125
}

@test "inspect: Docker's container shape" {
	scow run -d --name insp -e K=V -v "$TEST_TMP:/mnt:ro" "$IMG" sleep 100 >/dev/null
	run scow inspect insp
	assert_success
	echo "$output" | python3 -c '
import json, sys
c = json.load(sys.stdin)[0]
for k in ("Id", "Created", "Path", "Args", "State", "Image", "Name", "RestartCount",
          "HostConfig", "Config", "Mounts", "NetworkSettings", "GraphDriver", "LogPath"):
    assert k in c, k
s = c["State"]
for k in ("Status", "Running", "Paused", "Restarting", "OOMKilled", "Dead", "Pid",
          "ExitCode", "Error", "StartedAt", "FinishedAt"):
    assert k in s, k
assert s["Status"] == "running" and s["Running"] and s["Pid"] > 0
assert c["Path"] == "sleep" and c["Args"] == ["100"]
assert c["Name"] == "/insp"
assert "K=V" in c["Config"]["Env"]
m = c["Mounts"][0]
assert m["Type"] == "bind" and m["Destination"] == "/mnt" and m["RW"] is False
assert c["Image"].startswith("sha256:")
'
	run scow inspect -f '{{.State.Pid}}' insp
	[[ "$output" =~ ^[0-9]+$ ]]
	run scow container inspect -f '{{json .HostConfig.Binds}}' insp
	assert_output_contains ":/mnt:ro"
}

@test "logs: -t, --tail, --since/--until, -f until the container exits; rotation" {
	scow run -d --name lg --log-opt max-size=2k --log-opt max-file=3 "$IMG" \
		sh -c 'i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done; sleep 1; echo last' >/dev/null
	run scow logs -f lg
	assert_equal "${lines[-1]}" "last"
	# rotated: at most 3 files, the oldest lines gone, no line cut
	[ "$(ls "$TEST_ROOT"/containers/*/ctr.log* | wc -l)" -le 3 ]
	run scow logs --tail 2 lg
	assert_equal "$output" "$(printf 'line 299\nlast')"
	run scow logs -t --tail 1 lg
	[[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\ last$ ]]
	run scow logs --until 1970-01-02 lg
	assert_equal "$output" ""
	run scow logs --since 10m lg
	assert_output_contains "last"
	scow run -d --name quiet --log-driver none "$IMG" echo hi >/dev/null
	run scow logs quiet
	assert_failure 1
	assert_output_contains "does not support reading"
}

@test "stdin: -i passes a pipe through; without -i the container gets /dev/null" {
	run bash -c "printf 'a\nb\n' | '$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' run --rm -i '$IMG' wc -l"
	assert_equal "$output" "2"
	run bash -c "echo x | '$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' run --rm '$IMG' cat"
	assert_equal "$output" ""
}

@test "a tty: -t gives a pty of the terminal's size, -it reads the terminal" {
	run script -qec "stty rows 33 cols 111; '$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' run --rm -t '$IMG' sh -c 'tty; stty size'" /dev/null
	assert_output_contains "/dev/pts/0"
	assert_output_contains "33 111"
	run bash -c "printf 'echo from-tty\nexit 7\n' | script -qec \"'$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' run --rm -it '$IMG' sh\" /dev/null"
	assert_output_contains "from-tty"
}

@test "signals reach a foreground container; sig-proxy off keeps them" {
	"$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --rm --name fg "$IMG" \
		sh -c 'trap "echo caught; exit 9" USR1; echo ready; while :; do sleep 0.1; done' >"$TEST_TMP/out" &
	client=$!
	for _ in $(seq 50); do grep -q ready "$TEST_TMP/out" && break; sleep 0.1; done
	kill -USR1 "$client"
	status=0
	wait "$client" || status=$?
	[ "$status" -eq 9 ]
	grep -q caught "$TEST_TMP/out"
}

@test "the client dying does not stop the container" {
	"$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --name survivor "$IMG" sleep 100 >/dev/null 2>&1 &
	client=$!
	for _ in $(seq 50); do scow ps -q | grep -q . && break; sleep 0.1; done
	kill -9 "$client"
	wait "$client" || true
	sleep 0.2
	run scow ps --format '{{.Names}} {{.State}}'
	assert_equal "$output" "survivor running"
	scow stop -t 0 survivor
}

@test "help and usage of the container commands" {
	run scow run --help
	assert_success
	assert_output_contains "Usage:  scow run [OPTIONS] IMAGE [COMMAND] [ARG...]"
	assert_output_contains "--detach"
	run scow container --help
	assert_output_contains "ls"
	run scow run
	assert_failure 125
	assert_output_contains '"scow run" requires at least 1 argument.'
	run scow stop nothere
	assert_failure 1
	assert_output_contains "No such container: nothere"
	# options after the image belong to the container's command
	run scow run --rm "$IMG" sh -c 'echo "[$0]"' -h
	assert_equal "$output" "[-h]"
}

@test "an image with 130 layers runs (overlay lowerdir+)" {
	python3 "$FIXTURES/manylayers.py" "$TEST_TMP/many" 130 "$("$FIXTURES/images.sh" path busybox-tar)"
	start_fake many --repo "many=$TEST_TMP/many"
	run scow pull -q "$FAKE/many:latest"
	stop_fake many
	assert_success
	[ "$(layer_count)" -ge 131 ]
	run scow run --rm "$FAKE/many:latest" sh -c 'cat /layers/top; ls /layers | wc -l; cat /layers/k001'
	assert_success
	assert_equal "$output" "$(printf '130\n131\n1')"
}
