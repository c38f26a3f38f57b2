#!/usr/bin/env bats
# The security defaults of a plain `scow run` and the runtime cases 11-17 of
# SECURITY.md, checked from inside real containers of the busybox fixture.
#
# Fixtures used here (tests/fixtures/):
#   secprobe.c   a small static probe for what busybox cannot do (TIOCSTI,
#                clone3, 32-bit/x32 syscalls, AF_ALG/AF_VSOCK sockets,
#                personality, ptrace, open modes). setup_file compiles it with
#                `gcc -static`; tests needing it are skipped without gcc/libc.a.
#                It is bind-mounted read-only into the container at /probe.
#   ptyrun.py    runs a command on a fresh pty (its controlling terminal) and
#                prints what reached the terminal: the "host terminal" for
#                -t and for case 17.
#   rootimg.py   writes an OCI layout: the busybox rootfs tar + one layer of
#                hand-written entries (symlinks, FIFOs, big files) and config
#                (WorkingDir, StopSignal). setup_file builds the hostile
#                images below and pushes them with skopeo to the registry:
#                  evil-proc   /proc -> /etc
#                  evil-dev    /dev  -> $CANARY (a host directory)
#                  evil-esc    /etc/escape -> $CANARY, /etc/escrel -> ../../..$CANARY
#                  evil-wd     WORKDIR /wd7, /wdN -> /proc/self/fd/N (N = 3..20),
#                              /dw7 -> /dev/fd/7, /tw7 -> /proc/1/task/1/fd/7
#                  evil-pw     /etc/passwd a FIFO
#                  stopsig     STOPSIGNAL SIGUSR1
#
# Every test pulls busybox into its private root in setup; teardown removes
# whatever containers are left and teardown_scow checks for leaked mounts.

load helpers

bats_require_minimum_version 1.5.0

setup_file() {
	start_registry plain --only busybox
	export REGISTRY
	export CANARY=$BATS_FILE_TMPDIR/canary
	mkdir -p "$CANARY"
	echo "host canary" >"$CANARY/passwd"
	canary_state >"$BATS_FILE_TMPDIR/canary.before"

	export PROBE=
	if command -v gcc >/dev/null &&
		gcc -static -O2 -o "$BATS_FILE_TMPDIR/secprobe" "$FIXTURES/secprobe.c" 2>/dev/null; then
		PROBE=$BATS_FILE_TMPDIR/secprobe
	fi

	local base img
	base=$("$FIXTURES/images.sh" path busybox-tar)
	img=$BATS_FILE_TMPDIR/img
	build_push() { # NAME ROOTIMG-ARGS...
		local name=$1
		shift
		python3 "$FIXTURES/rootimg.py" "$img/$name" --base-tar "$base" "$@" >/dev/null
		skopeo copy -q --dest-tls-verify=false --dest-no-creds \
			"oci:$img/$name:latest" "docker://$REGISTRY/$name:latest" >/dev/null
	}
	build_push evil-proc "symlink:proc=/etc"
	build_push evil-dev "symlink:dev=$CANARY"
	build_push evil-esc "symlink:etc/escape=$CANARY" "symlink:etc/escrel=../../../../../../../..$CANARY"
	local wdlinks=() n
	for n in $(seq 3 20); do wdlinks+=("symlink:wd$n=/proc/self/fd/$n"); done
	build_push evil-wd --workdir /wd7 "${wdlinks[@]}" "symlink:dw7=/dev/fd/7" \
		"symlink:tw7=/proc/1/task/1/fd/7"
	build_push evil-pw "fifo:etc/passwd"
	build_push stopsig --stop-signal SIGUSR1
}

teardown_file() {
	stop_registry plain
}

setup() {
	setup_scow
	IMG=$REGISTRY/busybox
	scow pull -q "$IMG" >/dev/null
}

teardown() {
	local c
	for c in $(scow ps -a -q 2>/dev/null); do
		scow rm -f "$c" >/dev/null 2>&1 || true
	done
	teardown_scow
}

# ---- helpers -----------------------------------------------------------------------

canary_state() {
	find "$CANARY" -printf '%P %y %m %s %n\n' | sort
	cat "$CANARY/passwd"
}

assert_canary_untouched() {
	canary_state | diff "$BATS_FILE_TMPDIR/canary.before" - >&2
	if grep -q " $CANARY" /proc/self/mountinfo; then
		echo "something is mounted on the canary:" >&2
		grep " $CANARY" /proc/self/mountinfo >&2
		return 1
	fi
}

need_probe() {
	[[ -n $PROBE ]] || skip "secprobe could not be built (gcc -static)"
}

# Nothing may be left after a refused run.
assert_nothing_created() {
	local out
	out=$(scow ps -a -q)
	assert_equal "$out" ""
}

# value of a /proc/PID/status field in $output ("CapEff" -> 00000000a80425fb)
status_field() {
	printf '%s\n' "$output" | awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ +/, ""); print; exit }'
}

# From mountinfo text on stdin: "OPTS FSTYPE SUPEROPTS DEV" of the top mount at $1.
mnt_info() {
	awk -v mp="$1" '$5 == mp { i = 7; while ($i != "-") i++; line = $6 " " $(i + 1) " " $(i + 3) " " $3 }
		END { if (line) print line }'
}

has_opt() { # OPTLIST OPT
	[[ ",$1," == *",$2,"* ]]
}

# the host capability bounding set scow runs with
host_capbnd() {
	awk '$1 == "CapBnd:" { print $2 }' /proc/self/status
}

DEFAULT_CAPS=00000000a80425fb
PROBE_MNT=()
probe_mnt() {
	PROBE_MNT=(-v "$PROBE:/probe:ro")
}

# ---- capabilities -----------------------------------------------------------------

@test "defaults: root gets a80425fb as effective, permitted and bounding; no inheritable, no ambient" {
	run scow run --rm "$IMG" cat /proc/self/status
	assert_success
	assert_equal "$(status_field CapEff)" $DEFAULT_CAPS
	assert_equal "$(status_field CapPrm)" $DEFAULT_CAPS
	assert_equal "$(status_field CapBnd)" $DEFAULT_CAPS
	assert_equal "$(status_field CapInh)" 0000000000000000
	assert_equal "$(status_field CapAmb)" 0000000000000000
}

@test "defaults: a non-root user (-u 1000, -u nobody, with --cap-add too) has no effective/permitted caps, the bounding set stays" {
	for u in 1000 nobody user:extra; do
		run scow run --rm -u "$u" "$IMG" cat /proc/self/status
		assert_success
		assert_equal "$(status_field CapEff)" 0000000000000000
		assert_equal "$(status_field CapPrm)" 0000000000000000
		assert_equal "$(status_field CapInh)" 0000000000000000
		assert_equal "$(status_field CapAmb)" 0000000000000000
		assert_equal "$(status_field CapBnd)" $DEFAULT_CAPS
	done
	run scow run --rm -u 1000 --cap-add NET_ADMIN "$IMG" cat /proc/self/status
	assert_success
	assert_equal "$(status_field CapEff)" 0000000000000000
	assert_equal "$(status_field CapAmb)" 0000000000000000
	assert_equal "$(status_field CapBnd)" 00000000a80435fb
}

@test "defaults: --cap-add / --cap-drop / ALL combinations; an unknown name is exit 125 with nothing created" {
	local all
	all=$(host_capbnd)
	check_caps() { # WANT ARGS...
		local want=$1
		shift
		run scow run --rm "$@" "$IMG" cat /proc/self/status
		assert_success
		assert_equal "$(status_field CapEff)" "$want"
		assert_equal "$(status_field CapPrm)" "$want"
		assert_equal "$(status_field CapBnd)" "$want"
	}
	# + SYS_ADMIN (bit 21) - NET_RAW (bit 13)
	check_caps 00000000a82405fb --cap-add SYS_ADMIN --cap-drop NET_RAW
	# Docker spellings: CAP_ prefix, lower case
	check_caps 00000000a82425fb --cap-add cap_sys_admin
	check_caps 0000000000000001 --cap-drop ALL --cap-add CHOWN
	check_caps 0000000000000000 --cap-drop all
	check_caps "$all" --cap-add ALL
	# ALL minus KILL (bit 5)
	check_caps "$(printf '%016x' $((0x$all & ~(1 << 5))))" --cap-add ALL --cap-drop KILL

	run scow run --rm --cap-add BOGUS "$IMG" true
	assert_failure 125
	assert_output_contains "BOGUS"
	run scow run --cap-drop CAP_NOPE "$IMG" true
	assert_failure 125
	assert_nothing_created
}

@test "defaults: --privileged has every cap scow holds, no seccomp, rw /sys, no masks, host devices" {
	local hostdev="" d
	for d in /dev/kmsg /dev/loop-control /dev/fuse /dev/mem /dev/kvm; do
		if [[ -c $d ]]; then hostdev=$d && break; fi
	done
	run scow run --rm --privileged "$IMG" sh -c \
		'cat /proc/self/status; echo ===; cat /proc/self/mountinfo; echo ===; ls /dev'
	assert_success
	assert_equal "$(status_field CapEff)" "$(host_capbnd)"
	assert_equal "$(status_field CapPrm)" "$(host_capbnd)"
	assert_equal "$(status_field CapBnd)" "$(host_capbnd)"
	assert_equal "$(status_field Seccomp)" 0
	local mi sys
	mi=$(printf '%s\n' "$output" | awk '/^===$/ { n++; next } n == 1')
	sys=$(mnt_info /sys <<<"$mi")
	has_opt "${sys%% *}" rw
	# no masking and no read-only sub-mounts
	for p in /proc/keys /proc/timer_list /proc/interrupts /proc/acpi /sys/firmware /proc/sys /proc/bus; do
		[ -z "$(mnt_info $p <<<"$mi")" ] || {
			echo "$p is masked/read-only under --privileged" >&2
			return 1
		}
	done
	if [[ -n $hostdev ]]; then
		printf '%s\n' "$output" | awk '/^===$/ { n++; next } n == 2' | grep -qx "${hostdev#/dev/}"
	fi
}

# ---- seccomp ---------------------------------------------------------------------------

@test "seccomp: mode 2 by default; namespaced and dangerous calls refused (clone3 ENOSYS, AF_ALG/AF_VSOCK, personality, x86/x32 sub-architectures)" {
	need_probe
	probe_mnt
	local probes='for a in clone3 unshare_user i386_getpid i386_unshare_user x32_unshare_user "socket alg" "socket vsock" "socket unix" "personality 0" "personality 8" "personality ffffffff" "personality 400000"; do eval /probe $a; done; grep -E "^Seccomp" /proc/self/status; mount -t tmpfs x /tmp 2>&1; :'
	run scow run --rm "${PROBE_MNT[@]}" --security-opt seccomp=unconfined "$IMG" sh -c "$probes"
	assert_success
	local unconfined=$output
	run scow run --rm "${PROBE_MNT[@]}" "$IMG" sh -c "$probes"
	assert_success
	echo "default: $output" >&2
	echo "unconfined: $unconfined" >&2
	assert_equal "$(status_field Seccomp)" 2
	[ "$(status_field Seccomp_filters)" -ge 1 ]
	assert_output_contains "clone3=ENOSYS"
	assert_output_contains "unshare_user=EPERM"
	assert_output_contains "socket_unix=OK"
	assert_output_contains "socket_alg=EPERM"
	assert_output_contains "socket_vsock=EPERM"
	assert_output_contains "personality_0=OK"
	assert_output_contains "personality_8=OK"
	assert_output_contains "personality_ffffffff=OK"
	assert_output_contains "personality_400000=EPERM"
	assert_output_contains "mount: permission denied"
	# 32-bit calls are filtered too (the x86 sub-architecture is in the
	# filter: allowed calls work, gated ones are refused, nothing is killed)
	if [[ $unconfined == *"i386_getpid=OK"* ]]; then
		assert_output_contains "i386_getpid=OK"
		assert_output_contains "i386_unshare_user=EPERM"
	fi
	refute_output_contains "x32_unshare_user=OK"
	# the probes have teeth: without seccomp they go through
	[[ $unconfined == *"clone3=EINVAL"* && $unconfined == *"unshare_user=OK"* ]]
	[[ $unconfined == *"personality_400000=OK"* ]]
}

@test "seccomp: --security-opt seccomp=unconfined gives Seccomp 0" {
	run scow run --rm --security-opt seccomp=unconfined "$IMG" cat /proc/self/status
	assert_success
	assert_equal "$(status_field Seccomp)" 0
	# and the userns probe busybox can do: unshare -U works without seccomp
	run scow run --rm --security-opt seccomp=unconfined "$IMG" unshare -U true
	assert_success
	run scow run --rm "$IMG" unshare -U true
	assert_failure
	assert_output_contains "Operation not permitted"
}

@test "seccomp: a Docker-format profile file is applied (mkdir denied with errnoRet)" {
	cat >"$TEST_TMP/profile.json" <<-'EOF'
		{
		  "defaultAction": "SCMP_ACT_ALLOW",
		  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
		  "syscalls": [
		    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 122}
		  ]
		}
	EOF
	run scow run --rm --security-opt "seccomp=$TEST_TMP/profile.json" "$IMG" \
		sh -c 'grep ^Seccomp: /proc/self/status; mkdir /tmp/x; echo rc=$?; touch /tmp/y && echo touched'
	assert_success
	assert_output_contains "Seccomp:	2"
	# errno 122 is EDQUOT
	assert_output_contains "mkdir: can't create directory '/tmp/x': Disk quota exceeded"
	assert_output_contains "rc=1"
	assert_output_contains "touched"
}

@test "seccomp: a malformed or missing profile is exit 125 with a clear message, nothing created" {
	printf '{"defaultAction": ' >"$TEST_TMP/bad.json"
	run scow run --security-opt "seccomp=$TEST_TMP/bad.json" "$IMG" true
	assert_failure 125
	assert_output_contains "seccomp"
	assert_output_contains "bad.json"
	assert_nothing_created
	echo '{"defaultAction": "SCMP_ACT_BOGUS"}' >"$TEST_TMP/bad2.json"
	run scow run --security-opt "seccomp=$TEST_TMP/bad2.json" "$IMG" true
	assert_failure 125
	assert_output_contains "seccomp"
	assert_nothing_created
	run scow run --security-opt "seccomp=$TEST_TMP/missing.json" "$IMG" true
	assert_failure 125
	assert_output_contains "missing.json"
	assert_nothing_created
	run scow run --security-opt bogus=1 "$IMG" true
	assert_failure 125
	assert_nothing_created
}

@test "defaults: NoNewPrivs 0 by default, 1 with --security-opt no-new-privileges" {
	run scow run --rm "$IMG" cat /proc/self/status
	assert_equal "$(status_field NoNewPrivs)" 0
	for o in no-new-privileges no-new-privileges=true no-new-privileges:true; do
		run scow run --rm --security-opt "$o" "$IMG" cat /proc/self/status
		assert_success
		assert_equal "$(status_field NoNewPrivs)" 1
	done
}

# ---- masked and read-only paths ---------------------------------------------------------

MASKED="/proc/acpi /proc/asound /proc/interrupts /proc/kcore /proc/keys /proc/latency_stats /proc/sched_debug /proc/scsi /proc/timer_list /proc/timer_stats /sys/devices/virtual/powercap /sys/firmware"
READONLY="/proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger"

@test "14: every masked path that exists is masked (file: char 1:3 bind, empty; dir: empty read-only tmpfs), none skipped" {
	# what exists in this kernel's fresh /proc and /sys, unmasked
	run scow run --rm --privileged "$IMG" sh -c "for p in $MASKED; do [ -e \$p ] && echo \$p; done; :"
	assert_success
	local present
	present=$(echo $output)
	echo "present on this kernel: $present" >&2
	[ -n "$present" ]
	run scow run --rm "$IMG" sh -c "for p in $present; do
		if [ -d \$p ]; then echo \"\$p dir \$(ls -A \$p | wc -l)\"; touch \$p/x 2>/dev/null && echo \"\$p writable\";
		elif [ -e \$p ]; then echo \"\$p file \$(stat -c %t:%T \$p) \$(wc -c <\$p)\";
		else echo \"\$p gone\"; fi; done; echo ===; cat /proc/self/mountinfo"
	assert_success
	local mi p info
	mi=$(printf '%s\n' "$output" | sed -n '/^===$/,$p')
	for p in $present; do
		info=$(mnt_info "$p" <<<"$mi")
		if [[ $output == *"$p dir "* ]]; then
			assert_output_contains "$p dir 0"
			refute_output_contains "$p writable"
			[[ $info == *" tmpfs "* ]] && has_opt "${info%% *}" ro || {
				echo "$p: not a read-only tmpfs: $info" >&2
				return 1
			}
		else
			assert_output_contains "$p file 1:3 0"
			[ -n "$info" ] || {
				echo "$p: no mount on it" >&2
				return 1
			}
		fi
	done
}

@test "defaults: read-only paths (/proc/sys, /proc/bus, ...) are read-only mounts; writes fail with EROFS" {
	run scow run --rm --privileged "$IMG" sh -c "for p in $READONLY; do [ -e \$p ] && echo \$p; done; :"
	assert_success
	local present p info
	present=$(echo $output)
	[ -n "$present" ]
	run scow run --rm "$IMG" sh -c 'cat /proc/self/mountinfo; echo ===; echo x >/proc/sys/kernel/hostname; echo x > /proc/sys/net/ipv4/ip_forward'
	assert_failure
	for p in $present; do
		info=$(mnt_info "$p" <<<"$output")
		has_opt "${info%% *}" ro || {
			echo "$p is not a read-only mount: '$info'" >&2
			return 1
		}
	done
	assert_output_contains "/proc/sys/kernel/hostname: Read-only file system"
	assert_output_contains "/proc/sys/net/ipv4/ip_forward: Read-only file system"
	# --privileged: writable (the UTS hostname is the container's own)
	run scow run --rm --privileged "$IMG" sh -c 'echo changed >/proc/sys/kernel/hostname && hostname'
	assert_success
	assert_equal "$output" changed
}

# ---- mounts and devices -----------------------------------------------------------------

@test "defaults: mount options of /proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup" {
	run scow run --rm "$IMG" sh -c 'cat /proc/self/mountinfo; echo "shm $(stat -c %a /dev/shm)"'
	assert_success
	local mi=$output i o
	i=$(mnt_info /proc <<<"$mi")
	echo "/proc: $i" >&2
	[[ $i == *" proc "* ]]
	for o in nosuid noexec nodev; do has_opt "${i%% *}" $o; done

	i=$(mnt_info /dev <<<"$mi")
	echo "/dev: $i" >&2
	[[ $i == *" tmpfs "* ]]
	has_opt "${i%% *}" nosuid
	o=$(awk '{ print $3 }' <<<"$i")
	has_opt "$o" mode=755
	has_opt "$o" size=65536k

	i=$(mnt_info /dev/pts <<<"$mi")
	echo "/dev/pts: $i" >&2
	[[ $i == *" devpts "* ]]
	has_opt "${i%% *}" nosuid
	has_opt "${i%% *}" noexec
	o=$(awk '{ print $3 }' <<<"$i")
	has_opt "$o" gid=5
	has_opt "$o" mode=620
	has_opt "$o" ptmxmode=666
	# newinstance: not the host's devpts
	local hostpts
	hostpts=$(mnt_info /dev/pts </proc/self/mountinfo | awk '{ print $4 }')
	[[ -z $hostpts || $(awk '{ print $4 }' <<<"$i") != "$hostpts" ]]

	i=$(mnt_info /dev/shm <<<"$mi")
	echo "/dev/shm: $i" >&2
	[[ $i == *" tmpfs "* ]]
	for o in nosuid noexec nodev; do has_opt "${i%% *}" $o; done
	has_opt "$(awk '{ print $3 }' <<<"$i")" size=65536k
	assert_output_contains "shm 1777"

	i=$(mnt_info /dev/mqueue <<<"$mi")
	echo "/dev/mqueue: $i" >&2
	[[ $i == *" mqueue "* ]]

	i=$(mnt_info /sys <<<"$mi")
	echo "/sys: $i" >&2
	[[ $i == *" sysfs "* ]]
	has_opt "${i%% *}" ro

	i=$(mnt_info /sys/fs/cgroup <<<"$mi")
	echo "/sys/fs/cgroup: $i" >&2
	[ -n "$i" ]
	has_opt "${i%% *}" ro
}

@test "defaults: /dev holds exactly null zero full random urandom tty, ptmx -> pts/ptmx and the fd symlinks" {
	run scow run --rm "$IMG" sh -c 'ls -A /dev | tr "\n" " "; echo; for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done; for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done'
	assert_success
	assert_equal "${lines[0]}" "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero "
	assert_output_contains "/dev/null character special file 1:3 666"
	assert_output_contains "/dev/zero character special file 1:5 666"
	assert_output_contains "/dev/full character special file 1:7 666"
	assert_output_contains "/dev/random character special file 1:8 666"
	assert_output_contains "/dev/urandom character special file 1:9 666"
	assert_output_contains "/dev/tty character special file 5:0 666"
	assert_output_contains "fd -> /proc/self/fd"
	assert_output_contains "stdin -> /proc/self/fd/0"
	assert_output_contains "stdout -> /proc/self/fd/1"
	assert_output_contains "stderr -> /proc/self/fd/2"
	assert_output_contains "ptmx -> pts/ptmx"
	# with -t, /dev/console too
	run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		run -t --rm "$IMG" sh -c 'ls -A /dev | tr "\n" " "'
	assert_success
	assert_output_contains "console fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero "
}

@test "defaults: the device cgroup denies unlisted devices (mknod works with CAP_MKNOD, open is EPERM); ptmx opens" {
	run scow run --rm "$IMG" sh -c 'mknod /dev/sda b 8 0 && echo mknod-b-ok; head -c1 /dev/sda; mknod /dev/mem c 1 1 && echo mknod-c-ok; head -c1 /dev/mem; exec 3<>/dev/ptmx && echo ptmx-ok; echo "zero-bytes=$(head -c4 /dev/zero | wc -c)"'
	assert_success
	assert_output_contains "mknod-b-ok"
	assert_output_contains "mknod-c-ok"
	assert_output_contains "head: /dev/sda: Operation not permitted"
	assert_output_contains "head: /dev/mem: Operation not permitted"
	assert_output_contains "ptmx-ok"
	assert_output_contains "zero-bytes=4"
}

@test "defaults: --device /dev/fuse appears and opens; :r is read-only through the device cgroup" {
	[[ -c /dev/fuse ]] || skip "no /dev/fuse on this host"
	run scow run --rm --device /dev/fuse "$IMG" sh -c 'stat -c "%F %t:%T" /dev/fuse; exec 3<>/dev/fuse && echo opened'
	assert_success
	assert_output_contains "character special file a:e5"
	assert_output_contains "opened"
	run scow run --rm --device /dev/fuse:/dev/myfuse:r "$IMG" sh -c 'exec 3</dev/myfuse && echo read-ok; (exec 4<>/dev/myfuse) && echo rw-ok; :'
	assert_success
	assert_output_contains "read-ok"
	refute_output_contains "rw-ok"
	assert_output_contains "Operation not permitted"
}

# ---- namespaces, network, sysctls ------------------------------------------------------

@test "defaults: own mnt uts ipc pid net namespaces; pid 1 is the command; hostname is the 12-char id" {
	run scow run --rm --cidfile "$TEST_TMP/cid" "$IMG" sh -c 'for n in mnt uts ipc pid net; do echo "$n $(readlink /proc/self/ns/$n)"; done; echo "pid $$"; echo "host $(hostname)"'
	assert_success
	local n
	for n in mnt uts ipc pid net; do
		local inside
		inside=$(printf '%s\n' "$output" | awk -v n="$n" '$1 == n { print $2 }')
		[ -n "$inside" ]
		if [[ $inside == "$(readlink /proc/$$/ns/$n)" ]]; then
			echo "the container shares the host's $n namespace ($inside)" >&2
			return 1
		fi
	done
	assert_output_contains "pid 1"
	assert_output_contains "host $(cut -c1-12 "$TEST_TMP/cid")"
}

@test "defaults: --network none has only lo, up; the default adds eth0; --network host shares the host netns" {
	run scow run --rm --network none "$IMG" sh -c 'ip -o link | cut -d: -f2 | tr -d " "; ip -o link show lo'
	assert_success
	assert_equal "${lines[0]}" lo
	assert_equal "${#lines[@]}" 2
	assert_output_contains "UP"
	# the default: a private namespace on the bridge, lo and eth0
	run scow run --rm "$IMG" sh -c 'ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d " "'
	assert_success
	assert_equal "$output" $'lo\neth0'
	run scow run --rm --network host "$IMG" readlink /proc/self/ns/net
	assert_success
	assert_equal "$output" "$(readlink /proc/$$/ns/net)"
}

@test "defaults: sysctls of the private netns (unprivileged ports from 0, ping for all groups); --sysctl applied" {
	run scow run --rm "$IMG" cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/ping_group_range
	assert_success
	assert_equal "${lines[0]}" 0
	assert_equal "$(echo ${lines[1]})" "0 2147483647"
	local hostfwd
	hostfwd=$(cat /proc/sys/net/ipv4/ip_forward)
	run scow run --rm --sysctl net.ipv4.ip_forward=1 --sysctl kernel.shmmax=1000000 "$IMG" \
		cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax
	assert_success
	assert_equal "${lines[0]}" 1
	assert_equal "${lines[1]}" 1000000
	# the host's value is untouched
	assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$hostfwd"
}

@test "defaults: non-namespaced --sysctl (kernel.core_pattern, net.* with --network host) is exit 125, nothing created" {
	local before
	before=$(cat /proc/sys/kernel/core_pattern)
	run scow run --sysctl kernel.core_pattern=x "$IMG" true
	assert_failure 125
	assert_output_contains "kernel.core_pattern"
	assert_nothing_created
	run scow run --network host --sysctl net.ipv4.ip_forward=1 "$IMG" true
	assert_failure 125
	assert_nothing_created
	run scow run --sysctl 'net.ipv4.../../../kernel/core_pattern=x' "$IMG" true
	assert_failure 125
	assert_nothing_created
	assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$before"
}

# ---- stop and exit codes ---------------------------------------------------------------

ms_now() { echo $(($(date +%s%N) / 1000000)); }

@test "stop: SIGTERM, then SIGKILL after -t 1 (a TERM handler that sleeps 30 s): ~1 s, exit 137" {
	run scow run -d "$IMG" sh -c 'trap "sleep 30" TERM; sleep 30 & wait; sleep 30'
	assert_success
	local id=$output t0 t1
	sleep 0.3
	t0=$(ms_now)
	run scow stop -t 1 "$id"
	t1=$(ms_now)
	assert_success
	echo "stop took $((t1 - t0)) ms" >&2
	[ $((t1 - t0)) -ge 900 ]
	[ $((t1 - t0)) -lt 4000 ]
	run scow inspect --format '{{.State.ExitCode}}' "$id"
	assert_equal "$output" 137
	run scow wait "$id"
	assert_equal "$output" 137
}

@test "stop: --stop-timeout is the default timeout of stop" {
	run scow run -d --stop-timeout 1 "$IMG" sleep 30
	assert_success
	local id=$output t0 t1
	sleep 0.3
	t0=$(ms_now)
	run scow stop "$id"
	t1=$(ms_now)
	assert_success
	echo "stop took $((t1 - t0)) ms" >&2
	[ $((t1 - t0)) -lt 4000 ]
	run scow inspect --format '{{.State.ExitCode}}' "$id"
	assert_equal "$output" 137
}

@test "stop: SIGTERM reaches a handler; --stop-signal and the image's STOPSIGNAL are honoured" {
	stop_quickly() { # EXPECTED-CODE RUN-ARGS...
		local want=$1 id t0 t1
		shift
		run scow run -d "$@"
		assert_success
		id=$output
		sleep 0.3
		t0=$(ms_now)
		run scow stop -t 8 "$id"
		t1=$(ms_now)
		assert_success
		echo "stop took $((t1 - t0)) ms" >&2
		[ $((t1 - t0)) -lt 4000 ]
		run scow inspect --format '{{.State.ExitCode}}' "$id"
		assert_equal "$output" "$want"
	}
	stop_quickly 3 "$IMG" sh -c 'trap "exit 3" TERM; sleep 30 & wait'
	stop_quickly 42 --stop-signal USR1 "$IMG" sh -c 'trap "exit 42" USR1; sleep 30 & wait'
	stop_quickly 43 --stop-signal SIGUSR2 "$IMG" sh -c 'trap "exit 43" USR2; sleep 30 & wait'
	scow pull -q "$REGISTRY/stopsig" >/dev/null
	stop_quickly 44 "$REGISTRY/stopsig" sh -c 'trap "exit 44" USR1; sleep 30 & wait'
}

@test "exit codes: 127 not found, 126 not executable, 125 scow's own errors, else the container's" {
	run -127 scow run --rm "$IMG" no-such-command
	assert_failure 127
	assert_output_contains 'executable file not found in $PATH'
	run -127 scow run --rm "$IMG" /no/such/file
	assert_failure 127
	run scow run --rm "$IMG" /etc/passwd
	assert_failure 126
	assert_output_contains "permission denied"
	run scow run --rm "$IMG" /etc
	assert_failure 126
	run scow run --rm --no-such-flag "$IMG" true
	assert_failure 125
	run scow run --rm --ulimit nofile=10:5 "$IMG" true
	assert_failure 125
	run scow run --rm "$IMG" sh -c 'exit 3'
	assert_failure 3
	run scow run --rm "$IMG" false
	assert_failure 1
	run scow run --rm "$IMG" true
	assert_success
	assert_nothing_created
}

@test "exit codes: 128+N after signal N (--init; kill -KILL \$\$ -> 137, scow kill -s TERM -> 143)" {
	run scow run --rm --init "$IMG" sh -c 'kill -KILL $$'
	assert_failure 137
	run scow run --rm --init "$IMG" sh -c 'kill -USR1 $$'
	assert_failure 138
	run scow run -d --init "$IMG" sleep 30
	assert_success
	local id=$output
	sleep 0.3
	run scow kill -s TERM "$id"
	assert_success
	run scow wait "$id"
	assert_equal "$output" 143
}

# ---- case 11: file descriptors and the working directory --------------------------------

# the fds of pid 1 (sh, which stays pid 1 because of the trailing ':')
FDS_CMD='ls /proc/1/fd; :'

@test "11: pid 1 holds only fds 0-2 (plain, -i, -t, after create + start), with an extra fd open in the caller" {
	exec 7</etc/hostname 8>"$TEST_TMP/fd8"
	run scow run --rm "$IMG" sh -c "$FDS_CMD"
	assert_success
	assert_equal "$(echo $output)" "0 1 2"
	run scow run --rm -i "$IMG" sh -c "$FDS_CMD" </dev/null
	assert_success
	assert_equal "$(echo $output)" "0 1 2"
	run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		run -t --rm "$IMG" sh -c "$FDS_CMD"
	assert_success
	assert_equal "$(echo ${output//$'\r'/})" "0 1 2"
	run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		run -it --rm "$IMG" sh -c "$FDS_CMD"
	assert_success
	assert_equal "$(echo ${output//$'\r'/})" "0 1 2"
	run scow create "$IMG" sh -c "$FDS_CMD"
	assert_success
	local id=$output
	run scow start -a "$id"
	assert_success
	assert_equal "$(echo $output)" "0 1 2"
	run scow start "$id"
	assert_success
	run scow wait "$id"
	run scow logs "$id"
	# two runs logged
	assert_equal "$(echo $output)" "0 1 2 0 1 2"
	exec 7<&- 8>&-
}

@test "11: a detached container's process holds only fds 0-2 (seen from the host)" {
	exec 7</etc/hostname
	run scow run -d "$IMG" sleep 30
	assert_success
	local pid
	pid=$(scow inspect --format '{{.State.Pid}}' "$output")
	ls -l /proc/"$pid"/fd >&2
	assert_equal "$(ls /proc/"$pid"/fd | sort -n | tr '\n' ' ')" "0 1 2 "
	exec 7<&-
}

@test "11: with --init, pid 1 (scow-init) holds only fds 0-2: no host fds (cgroup dirs, store dirs, the caller's fds)" {
	exec 7</etc/hostname
	run scow run --rm --init "$IMG" sh -c 'ls /proc/1/fd; echo ===; ls /proc/$$/fd; :'
	assert_success
	echo "$output" >&2
	local init_fds cmd_fds
	init_fds=$(printf '%s\n' "$output" | sed '/^===$/,$d' | sort -n | tr '\n' ' ')
	cmd_fds=$(printf '%s\n' "$output" | sed '1,/^===$/d' | sort -n | tr '\n' ' ')
	assert_equal "$cmd_fds" "0 1 2 "
	# from the host: what the init holds
	run scow run -d --init "$IMG" sleep 30
	assert_success
	local pid
	pid=$(scow inspect --format '{{.State.Pid}}' "$output")
	ls -l /proc/"$pid"/fd >&2
	assert_equal "$init_fds" "0 1 2 "
	assert_equal "$(ls /proc/"$pid"/fd | sort -n | tr '\n' ' ')" "0 1 2 "
	exec 7<&-
}

# Runs the container with -w $1 (and the rest), which must be refused (125)
# and never leave the container with a working directory outside its root.
# The check: from a host directory, ../../.. climbs to the host's / where
# $TEST_TMP/host-marker exists; from inside the rootfs it cannot.
refuse_workdir() {
	local w=$1
	shift
	run scow run --rm -w "$w" "$@" sh -c "$ESCAPE_CHECK"
	echo "-w $w: status $status: $output" >&2
	refute_output_contains ESCAPED-TO-HOST
	assert_failure 125
}

# fd 7 of the caller: a host directory (scow must not let it become the cwd)
open_host_dir_fd7() {
	touch "$TEST_TMP/host-marker"
	ESCAPE_CHECK="pwd; if [ -e ../../../../../../../../../../..$TEST_TMP/host-marker ]; then echo ESCAPED-TO-HOST; fi"
	exec 7<"$TEST_TMP"
}

@test "11: --workdir /proc/self/fd/N, /proc/1/cwd, /proc/self/root, /proc/thread-self/fd/N are refused (CVE-2024-21626)" {
	open_host_dir_fd7
	local w
	for w in /proc/self/fd/3 /proc/self/fd/4 /proc/self/fd/7 /proc/1/cwd /proc/self/cwd /proc/self/root \
		/proc/thread-self/fd/7 //proc/self/fd/7 /proc/../proc/self/fd/7 /proc/1/fd/7; do
		refuse_workdir "$w" "$IMG"
	done
	assert_nothing_created
	exec 7<&-
}

@test "11: --workdir /proc/1/task/1/fd/N (the caller's fd 7 a host dir, and scow's own fds) is refused, never a host cwd" {
	open_host_dir_fd7
	refuse_workdir /proc/1/task/1/fd/7 "$IMG"
	refuse_workdir /proc/self/task/1/cwd "$IMG"
	local n
	for n in $(seq 3 20); do
		refuse_workdir /proc/1/task/1/fd/$n "$IMG"
	done
	exec 7<&-
}

@test "11: --workdir /dev/fd/N (a symlink into /proc/self/fd) is refused, never a host cwd" {
	open_host_dir_fd7
	refuse_workdir /dev/fd/7 "$IMG"
	local n
	for n in $(seq 3 20); do
		refuse_workdir /dev/fd/$n "$IMG"
	done
	exec 7<&-
}

@test "11: an image WORKDIR (or -w) that is a symlink to /proc/self/fd/7 never gives a host cwd" {
	scow pull -q "$REGISTRY/evil-wd" >/dev/null
	open_host_dir_fd7
	# WorkingDir /wd7 -> /proc/self/fd/7
	run scow run --rm "$REGISTRY/evil-wd" sh -c "$ESCAPE_CHECK"
	echo "image WORKDIR /wd7: status $status: $output" >&2
	refute_output_contains ESCAPED-TO-HOST
	assert_failure 125
	refuse_workdir /wd7 "$REGISTRY/evil-wd"
	refuse_workdir /dw7 "$REGISTRY/evil-wd"
	refuse_workdir /tw7 "$REGISTRY/evil-wd"
	exec 7<&-
}

@test "11: image symlinks to /proc/self/fd/N (no help from the caller) never give a host cwd" {
	scow pull -q "$REGISTRY/evil-wd" >/dev/null
	touch "$TEST_TMP/host-marker"
	ESCAPE_CHECK="pwd; if [ -e ../../../../../../../../../../..$TEST_TMP/host-marker ]; then echo ESCAPED-TO-HOST; fi"
	local n
	for n in $(seq 3 20); do
		refuse_workdir /wd$n "$REGISTRY/evil-wd"
	done
}

# ---- case 12: the scow binary ----------------------------------------------------------

@test "12: scow-init (pid 1 with --init) is not dumpable: environ, exe, mem, root closed; no ptrace; cmdline is only scow-init" {
	need_probe
	probe_mnt
	run scow run --rm --init "${PROBE_MNT[@]}" "$IMG" sh -c '
		echo "cmdline=[$(tr -d "\0" </proc/1/cmdline)]"
		cat /proc/1/environ >/dev/null && echo ENVIRON-READ
		/probe open /proc/1/environ r
		/probe open /proc/1/exe r
		/probe open /proc/1/exe w
		/probe open /proc/1/exe path
		/probe open /proc/1/mem r
		ls /proc/1/root/ >/dev/null 2>&1 && echo ROOT-LISTED
		readlink /proc/1/exe && echo EXE-READLINK
		/probe ptrace 1
		echo "own=$(/probe open /proc/$$/environ r)"'
	assert_success
	echo "$output" >&2
	assert_output_contains "cmdline=[scow-init]"
	refute_output_contains "ENVIRON-READ"
	refute_output_contains "ROOT-LISTED"
	refute_output_contains "EXE-READLINK"
	assert_equal "$(printf '%s\n' "$output" | grep -c '^open_.*=OK$')" 0
	assert_output_contains "ptrace=EPERM"
	# the probes have teeth: the shell (pid 2, dumpable) is readable
	assert_output_contains "own=open_r=OK"
}

@test "12: the scow binary is unchanged after a container attacks /proc/1/exe" {
	local before after
	before=$(sha256sum "$SCOW" | cut -d' ' -f1)$(stat -c %Y.%s "$SCOW")
	run scow run --rm --init "$IMG" sh -c '
		echo x >/proc/1/exe
		cat /bin/busybox >/proc/1/exe
		cp /bin/busybox /proc/1/exe
		exec 3<>/proc/1/exe
		:'
	echo "$output" >&2
	after=$(sha256sum "$SCOW" | cut -d' ' -f1)$(stat -c %Y.%s "$SCOW")
	assert_equal "$after" "$before"
}

# ---- case 13: mount targets inside the rootfs ------------------------------------------

@test "13: an image whose /proc is a symlink (/proc -> /etc) is refused, nothing mounted outside" {
	scow pull -q "$REGISTRY/evil-proc" >/dev/null
	run scow run --rm "$REGISTRY/evil-proc" true
	echo "$output" >&2
	assert_failure 125
	assert_nothing_created
	# the host's /etc did not get a proc mount (nothing propagates either)
	! awk '$5 == "/etc" { found = 1 } END { exit !found }' /proc/self/mountinfo
}

@test "13: an image whose /dev is a symlink to a host directory is refused; the host dir is untouched" {
	scow pull -q "$REGISTRY/evil-dev" >/dev/null
	run scow run --rm "$REGISTRY/evil-dev" true
	echo "$output" >&2
	assert_failure 125
	assert_nothing_created
	assert_canary_untouched
}

@test "13: -v/--tmpfs/--device targets behind a symlink out of the rootfs never reach the host dir" {
	scow pull -q "$REGISTRY/evil-esc" >/dev/null
	mkdir -p "$TEST_TMP/src"
	echo from-src >"$TEST_TMP/src/f"
	local t
	for t in /etc/escape /etc/escrel /etc/escape/newdir /etc/escrel/a/b; do
		run scow run --rm -v "$TEST_TMP/src:$t" "$REGISTRY/evil-esc" sh -c "cat $t/f; touch $t/from-container"
		echo "-v $t: $status $output" >&2
		# refused, or mounted inside the rootfs (then the container sees it)
		[[ $status -eq 125 || $output == *from-src* ]]
		assert_canary_untouched
		[ ! -e "$TEST_TMP/src/from-container" ] || [ "$status" -eq 0 ]
		rm -f "$TEST_TMP/src/from-container"
	done
	run scow run --rm --tmpfs /etc/escape/tmp "$REGISTRY/evil-esc" true
	echo "--tmpfs: $status $output" >&2
	assert_canary_untouched
	if [[ -c /dev/fuse ]]; then
		run scow run --rm --device /dev/fuse:/etc/escape/fuse "$REGISTRY/evil-esc" true
		echo "--device: $status $output" >&2
		assert_canary_untouched
	fi
}

# ---- case 14: masking and the console ---------------------------------------------------

@test "14: a /dev/null that is not char 1:3 is refused for masking (-v FILE:/dev/null, --device /dev/zero:/dev/null)" {
	echo host-secret >"$TEST_TMP/notnull"
	run scow run --rm -v "$TEST_TMP/notnull:/dev/null" "$IMG" cat /proc/keys
	echo "$output" >&2
	refute_output_contains host-secret
	assert_failure 125
	run scow run --rm --device /dev/zero:/dev/null "$IMG" sh -c 'head -c 4 /proc/keys | wc -c'
	echo "$output" >&2
	assert_failure 125
	assert_nothing_created
}

@test "14: with -t, /dev/console is the container's own pty (char 136:N, its devpts, same as tty); no console without -t" {
	run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		run -t --rm "$IMG" sh -c 'echo "tty=$(tty)"; stat -c "console %F %t:%T %d" /dev/console; stat -c "slave %F %t:%T %d" $(tty); stat -c "pts %d" /dev/pts/ptmx'
	assert_success
	output=${output//$'\r'/}
	echo "$output" >&2
	local tty console slave pts
	tty=$(printf '%s\n' "$output" | sed -n 's/^tty=//p')
	[[ $tty == /dev/pts/* ]]
	console=$(printf '%s\n' "$output" | sed -n 's/^console //p')
	slave=$(printf '%s\n' "$output" | sed -n 's/^slave //p')
	pts=$(printf '%s\n' "$output" | sed -n 's/^pts //p')
	# 136 = 0x88: a Unix98 pty slave
	[[ $console == "character special file 88:"* ]]
	assert_equal "$console" "$slave"
	# on the container's devpts instance, not the host's
	assert_equal "${console##* }" "$pts"
	run scow run --rm "$IMG" sh -c '[ -e /dev/console ] && echo CONSOLE; :'
	assert_success
	refute_output_contains CONSOLE
}

@test "-t on a host terminal: the container's exit code comes back (never a spurious 125), its output once, plain LF line ends" {
	# a short-lived container shows the race best: run it many times
	local i
	for i in $(seq 25); do
		run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
			run -t --rm "$IMG" true
		[[ $status -eq 0 && -z $output ]] || {
			echo "run $i: status $status, output: $output" >&2
			return 1
		}
	done
	for i in $(seq 5); do
		run -3 python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
			run -t --rm "$IMG" sh -c 'echo out; exit 3'
		# ptyrun turns CRLF into LF: a CR left over means the terminal was
		# not raw while the container's output was copied to it
		assert_equal "$output" "out"
	done
	assert_nothing_created
}

# ---- case 15: cgroups ----------------------------------------------------------------------

@test "15: /sys/fs/cgroup is read-only; cgroup mounts and unshare -Urm fail in a default container" {
	# busybox's unshare has no -C (cgroup ns); -Urm is the userns + mount step of CVE-2022-0492
	run scow run --rm "$IMG" sh -c 'mkdir /sys/fs/cgroup/x; mount -t cgroup -o memory cgroup /tmp && echo MOUNTED; mount -t cgroup2 none /tmp && echo MOUNTED2; unshare -Urm sh -c "mount -t cgroup -o memory cgroup /tmp && echo MOUNTED3"; :'
	assert_success
	echo "$output" >&2
	assert_output_contains "mkdir: can't create directory '/sys/fs/cgroup/x': Read-only file system"
	refute_output_contains MOUNTED
	assert_output_contains "unshare: unshare(0x10020000): Operation not permitted"
}

# ---- case 16: users and groups ----------------------------------------------------------------

@test "16: -u user reads the container's /etc/passwd and /etc/group: uid 1000 gid 1000, member of extra (1001)" {
	for u in user 1000; do
		run scow run --rm -u "$u" "$IMG" cat /proc/self/status
		assert_success
		assert_equal "$(status_field Uid)" "1000 1000 1000 1000"
		assert_equal "$(status_field Gid)" "1000 1000 1000 1000"
		[[ " $(status_field Groups) " == *" 1001 "* ]]
		[[ " $(status_field Groups) " != *" 0 "* ]]
	done
	run scow run --rm -u user "$IMG" sh -c 'echo $HOME'
	assert_equal "$output" /home/user
}

@test "16: the primary gid is among the supplementary groups (-u user -> 1000,1001; -u 1000:extra -> 1001; nobody -> 65534) (CVE-2022-36109)" {
	run scow run --rm -u user "$IMG" cat /proc/self/status
	assert_success
	assert_equal "$(status_field Groups)" "1000 1001"
	run scow run --rm -u 1000:extra "$IMG" cat /proc/self/status
	assert_success
	assert_equal "$(status_field Groups)" "1001"
	run scow run --rm -u nobody "$IMG" cat /proc/self/status
	assert_success
	assert_equal "$(status_field Groups)" "65534"
}

@test "16: -u 1000:extra, -u nobody, --group-add: ids from the container's files, no root group left over" {
	run scow run --rm -u 1000:extra "$IMG" cat /proc/self/status
	assert_success
	assert_equal "$(status_field Uid)" "1000 1000 1000 1000"
	assert_equal "$(status_field Gid)" "1001 1001 1001 1001"
	[[ " $(status_field Groups) " != *" 0 "* ]]
	run scow run --rm -u nobody "$IMG" cat /proc/self/status
	assert_success
	assert_equal "$(status_field Uid)" "65534 65534 65534 65534"
	assert_equal "$(status_field Gid)" "65534 65534 65534 65534"
	[[ " $(status_field Groups) " != *" 0 "* ]]
	run scow run --rm -u user --group-add tty --group-add 4242 "$IMG" cat /proc/self/status
	assert_success
	local g=" $(status_field Groups) "
	[[ $g == *" 5 "* && $g == *" 4242 "* && $g == *" 1001 "* ]]
	run scow run --rm --group-add ghost "$IMG" true
	assert_failure 125
	assert_output_contains "ghost"
	assert_nothing_created
}

@test "16: -u 2147483648 and other out-of-range ids are refused (exit 125), never uid 0; missing names are clear errors" {
	for u in 2147483648 4294967295 4294967296 1000:2147483648 -1; do
		run scow run --rm -u "$u" "$IMG" id -u
		echo "-u $u: $status $output" >&2
		assert_failure 125
		refute_output_contains "uid=0"
		[[ ${lines[-1]} != 0 ]]
	done
	run scow run --rm -u 2147483647 "$IMG" id -u
	assert_success
	assert_equal "$output" 2147483647
	run scow run --rm -u ghost "$IMG" true
	assert_failure 125
	assert_output_contains "unable to find user ghost"
	run scow run --rm -u user:ghost "$IMG" true
	assert_failure 125
	assert_output_contains "unable to find group ghost"
	assert_nothing_created
}

@test "16: an /etc/passwd or /etc/group that is a FIFO, /dev/zero or over 4 MiB is a clear error, no hang" {
	mkfifo "$TEST_TMP/fifo"
	head -c 5000000 /dev/zero | tr '\0' '#' >"$TEST_TMP/huge"
	local t0 spec
	for spec in "$TEST_TMP/fifo:/etc/passwd" "$TEST_TMP/fifo:/etc/group" \
		"$TEST_TMP/huge:/etc/passwd:ro" "$TEST_TMP/huge:/etc/group:ro" "/dev/zero:/etc/passwd"; do
		t0=$(ms_now)
		run timeout 20 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --rm -v "$spec" -u user "$IMG" id
		echo "-v $spec: $status $output ($(($(ms_now) - t0)) ms)" >&2
		assert_failure 125
		[[ $output == *"/etc/passwd"* || $output == *"/etc/group"* ]]
		[ $(($(ms_now) - t0)) -lt 5000 ]
	done
	# an image whose /etc/passwd is a FIFO
	scow pull -q "$REGISTRY/evil-pw" >/dev/null
	run timeout 20 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" run --rm -u user "$REGISTRY/evil-pw" id
	echo "evil-pw: $status $output" >&2
	assert_failure 125
	assert_output_contains "/etc/passwd"
}

# ---- case 17: the host terminal -------------------------------------------------------------

@test "17: -i without -t on a host terminal: no container fd is the terminal, TIOCSTI cannot inject" {
	need_probe
	probe_mnt
	# the probe has teeth: on a terminal it injects (the echo shows it)
	run python3 "$FIXTURES/ptyrun.py" -- "$PROBE" tiocsti "INJ-HOST-1"
	assert_success
	assert_output_contains "INJ-HOST-1"
	run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		run -i --rm "${PROBE_MNT[@]}" "$IMG" sh -c '/probe tty; /probe tiocsti "INJ-CTR-2"; [ -t 0 ] && echo STDIN-IS-TTY; :'
	assert_success
	echo "$output" >&2
	assert_output_contains "fd0=notty"
	assert_output_contains "fd1=notty"
	assert_output_contains "fd2=notty"
	refute_output_contains "=OK"
	refute_output_contains "STDIN-IS-TTY"
	refute_output_contains "INJ-CTR-2"
	# same without -i
	run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		run --rm "${PROBE_MNT[@]}" "$IMG" /probe tiocsti "INJ-CTR-3"
	assert_success
	refute_output_contains "INJ-CTR-3"
}

@test "17: -i with a pipe: stdin is the pipe's content" {
	run bash -c "printf 'line1\nline2\n' | \"$SCOW\" --root \"$TEST_ROOT\" --runroot \"$TEST_RUNROOT\" run -i --rm \"$IMG\" sh -c 'cat; [ -t 0 ] || echo not-a-tty'"
	assert_success
	assert_equal "$output" "line1
line2
not-a-tty"
	# without -i, stdin is /dev/null
	run bash -c "echo secret | \"$SCOW\" --root \"$TEST_ROOT\" --runroot \"$TEST_RUNROOT\" run --rm \"$IMG\" cat"
	assert_success
	assert_equal "$output" ""
}

# ---- error reporting -----------------------------------------------------------------------------

@test "errors in the container's setup are reported as such, never as 'start the container: Broken pipe'" {
	scow pull -q "$REGISTRY/evil-proc" >/dev/null
	echo x >"$TEST_TMP/notnull"
	local i
	for i in 1 2 3 4 5 6; do
		run scow run --rm --sysctl net.ipv4.no_such_sysctl=1 "$IMG" true
		assert_failure 125
		refute_output_contains "Broken pipe"
		assert_output_contains "no_such_sysctl"
		run scow run --rm "$REGISTRY/evil-proc" true
		assert_failure 125
		refute_output_contains "Broken pipe"
		assert_output_contains "/proc"
		run scow run --rm -v "$TEST_TMP/notnull:/dev/null" "$IMG" true
		assert_failure 125
		refute_output_contains "Broken pipe"
		assert_output_contains "/dev/null"
	done
}
