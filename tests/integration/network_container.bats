#!/usr/bin/env bats
# --network container:NAME|ID: a container in the network namespace of
# another, running, container. Traffic goes only to loopback inside the
# shared namespace and to addresses on this test's own bridge
# (helpers.bash gives every test a bridge and subnets of its own).

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
}

teardown() {
	local ids
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f $ids >/dev/null 2>&1 || true
	teardown_scow
}

# target NAME [run options]: a detached container that sleeps.
target() {
	local name=$1
	shift
	scow run -d --name "$name" "$@" "$IMG" sleep 300 >/dev/null
}

# netns_of NAME: the network namespace of the container's first process.
netns_of() {
	readlink "/proc/$(scow inspect -f '{{.State.Pid}}' "$1")/ns/net"
}

veths_on_bridge() {
	ip -o link show master "$TEST_BRIDGE" type veth 2>/dev/null | wc -l
}

# The containers' directories in the store (a refused run must add none).
containers_in_store() {
	ls -A "$TEST_ROOT/containers" | grep -v '^\.' | wc -l
}

@test "a joiner has the target's interfaces and address and reaches its loopback server" {
	# The server listens on 127.0.0.1 only: only its own namespace reaches it.
	scow run -d --name srv "$IMG" sh -c \
		'mkdir /www && echo hello srv >/www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www' >/dev/null
	local ip ns
	ip=$(scow inspect -f '{{.NetworkSettings.IPAddress}}' srv)
	[[ "$ip" =~ ^10\. ]]
	ns=$(netns_of srv)
	run scow run --rm --network container:srv "$IMG" sh -c \
		'readlink /proc/self/ns/net; ip -4 addr show eth0; cat /proc/net/dev;
		 for i in $(seq 50); do wget -q -O - http://127.0.0.1:8080/ && exit 0; sleep 0.1; done; exit 1'
	assert_success
	[[ "${lines[0]}" == "$ns" ]]
	assert_output_contains "inet $ip/"
	assert_output_contains "eth0:"
	assert_output_contains "hello srv"
	# a container of its own namespace does not reach it
	run scow run --rm "$IMG" wget -q -O - http://127.0.0.1:8080/
	assert_failure
	refute_output_contains "hello srv"
	# the joiner added no veth: only the target's is on the bridge
	[ "$(veths_on_bridge)" -eq 1 ]
}

@test "by name, by id prefix, through another joiner; inspect, ps and port" {
	target t1 -p 127.0.0.1::80
	local id ns
	id=$(scow inspect -f '{{.Id}}' t1)
	ns=$(netns_of t1)
	scow run -d --name byname --network container:t1 "$IMG" sleep 300 >/dev/null
	scow run -d --name byid --network "container:${id:0:12}" "$IMG" sleep 300 >/dev/null
	scow run -d --name chained --network container:byname "$IMG" sleep 300 >/dev/null
	local c
	for c in byname byid chained; do
		[[ "$(netns_of "$c")" == "$ns" ]]
	done
	# Docker stores the target's full id
	run scow inspect -f '{{.HostConfig.NetworkMode}}' byname
	assert_equal "$output" "container:$id"
	run scow inspect -f '{{.HostConfig.NetworkMode}}' byid
	assert_equal "$output" "container:$id"
	run scow inspect -f '{{json .NetworkSettings.Networks}}|{{.NetworkSettings.IPAddress}}|{{json .NetworkSettings.Ports}}' byname
	assert_equal "$output" '{}||{}'
	# the target's published port is the target's, not the joiner's
	run scow port byname
	assert_success
	assert_equal "$output" ""
	run scow ps --filter name=byname --format '{{.Names}}|{{.Ports}}|{{.Networks}}'
	assert_equal "$output" "byname||"
	run scow ps --filter name=t1 --format '{{.Names}}|{{.Networks}}'
	assert_equal "$output" "t1|bridge"
	[ "$(veths_on_bridge)" -eq 1 ]
}

@test "the joiner shares the target's hostname, /etc/hosts and /etc/resolv.conf, kept current" {
	run scow network create --subnet "10.$((150 + RANDOM % 10)).$((RANDOM % 250)).0/24" cnet
	assert_success
	target t2 -h tgt.host --network cnet --add-host db.test:10.1.2.3 --dns 192.0.2.53
	scow run -d --name j2 --network container:t2 "$IMG" sleep 300 >/dev/null
	run scow exec j2 sh -c 'hostname; echo "$HOSTNAME"; cat /etc/hosts /etc/resolv.conf'
	assert_success
	[[ "${lines[0]}" == "tgt.host" ]]
	[[ "${lines[1]}" == "tgt.host" ]]
	assert_output_contains "10.1.2.3	db.test"
	assert_output_contains "nameserver 192.0.2.53"
	run scow inspect -f '{{.Config.Hostname}}' j2
	assert_equal "$output" "tgt.host"
	# inspect shows the target's files, as Docker does
	run scow inspect -f '{{.HostsPath}} {{.ResolvConfPath}} {{.HostnamePath}}' j2
	assert_equal "$output" "$(scow inspect -f '{{.HostsPath}} {{.ResolvConfPath}} {{.HostnamePath}}' t2)"
	# a joiner cannot be connected to a network of its own
	run scow network connect cnet j2
	assert_failure
	assert_output_contains "container sharing network namespace with another container or host cannot be connected to any other network"
	# the same files as the target's
	[[ "$(scow exec j2 cat /etc/hosts)" == "$(scow exec t2 cat /etc/hosts)" ]]
	[[ "$(scow exec j2 cat /etc/resolv.conf)" == "$(scow exec t2 cat /etc/resolv.conf)" ]]
	# a member that comes later is in the shared hosts file, and reachable
	scow run -d --name later --network cnet "$IMG" sh -c \
		'mkdir /www && echo hello later >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
	run scow exec j2 cat /etc/hosts
	assert_output_contains "	later"
	run scow exec j2 sh -c 'for i in $(seq 50); do wget -q -O - http://later/ && exit 0; sleep 0.1; done; exit 1'
	assert_success
	assert_output_contains "hello later"
	scow rm -f later j2 t2 >/dev/null
	scow network rm cnet >/dev/null
}

@test "conflicting options: exit 125, Docker's messages, nothing created" {
	target t3
	local before
	before=$(containers_in_store)
	local -a cases=(
		"-h x|conflicting options: hostname and the network mode"
		"--hostname=x|conflicting options: hostname and the network mode"
		"-p 8080:80|conflicting options: port publishing and the container type network mode"
		"-P|conflicting options: port publishing and the container type network mode"
		"--expose 80|conflicting options: port exposing and the container type network mode"
		"--dns 192.0.2.1|conflicting options: dns and the network mode"
		"--dns-search example.test|conflicting options: dns and the network mode"
		"--dns-option ndots:2|conflicting options: dns and the network mode"
		"--add-host a:10.1.1.1|conflicting options: custom host-to-IP mapping and the network mode"
		"--mac-address 02:42:0a:00:00:09|conflicting options: mac-address and the network mode"
		"--network-alias x|network-scoped alias is supported only for containers in user defined networks"
		"--ip 10.1.1.1|user specified IP address is supported on user defined networks only"
		"--link t3:x|conflicting options: container type network can't be used with links"
		"--network bridge|conflicting options: cannot attach both user-defined and non-user-defined network-modes"
		"--network none|conflicting options: cannot attach both user-defined and non-user-defined network-modes"
	)
	local c opts msg cmd
	for c in "${cases[@]}"; do
		opts=${c%%|*}
		msg=${c#*|}
		for cmd in run create; do
			# shellcheck disable=SC2086
			run scow $cmd --network container:t3 $opts "$IMG" true
			assert_failure 125
			assert_output_contains "$msg"
		done
	done
	run scow run --rm --network container: "$IMG" true
	assert_failure 125
	assert_output_contains "invalid container format container:<name|id>"
	[ "$(containers_in_store)" -eq "$before" ]
	[ "$(scow ps -a -q | wc -l)" -eq 1 ]
	[ "$(veths_on_bridge)" -eq 1 ]
}

@test "a missing or stopped target is refused; start re-resolves the target; not its own namespace" {
	run scow run --rm --network container:nosuch "$IMG" true
	assert_failure 125
	assert_output_contains "No such container: nosuch"
	run scow create --network container:nosuch "$IMG" true
	assert_failure 125
	assert_output_contains "No such container: nosuch"
	scow create --name stopped "$IMG" sleep 300 >/dev/null
	run scow run --rm --network container:stopped "$IMG" true
	assert_failure 125
	assert_output_contains "cannot join network namespace of a non running container: container stopped is created"
	scow start stopped >/dev/null
	scow stop -t 0 stopped >/dev/null
	run scow run -d --network container:stopped "$IMG" true
	assert_failure 125
	assert_output_contains "cannot join network namespace of a non running container: container stopped is exited"
	[ "$(containers_in_store)" -eq 1 ]
	# create does not need it running (Docker's), start does
	run scow create --name j5 --network container:stopped "$IMG" sleep 300
	assert_success
	run scow start j5
	assert_failure 1
	assert_output_contains "cannot join network namespace of a non running container: container stopped is exited"
	run scow inspect -f '{{.State.Status}}' j5
	assert_equal "$output" "created"
	scow start stopped >/dev/null
	run scow start j5
	assert_success
	[[ "$(netns_of j5)" == "$(netns_of stopped)" ]]
	# a record that names the container itself (hand-edited) is refused
	scow stop -t 0 j5 >/dev/null
	local id
	id=$(scow inspect -f '{{.Id}}' j5)
	python3 - "$TEST_ROOT/containers/$id/config.json" "$id" <<-'EOF'
		import json, sys
		p, cid = sys.argv[1], sys.argv[2]
		c = json.load(open(p))
		c["HostConfig"]["NetworkMode"] = "container:" + cid
		json.dump(c, open(p, "w"))
	EOF
	run scow start j5
	assert_failure 1
	assert_output_contains "cannot join own network namespace"
}

@test "the joiner survives the target's stop and rm; nothing of the network is left" {
	target t6
	local tid ns
	tid=$(scow inspect -f '{{.Id}}' t6)
	ns=$(netns_of t6)
	scow run -d --name j6 --network container:t6 "$IMG" sleep 300 >/dev/null
	local jid
	jid=$(scow inspect -f '{{.Id}}' j6)
	[ "$(veths_on_bridge)" -eq 1 ]
	grep -rq "$tid" "$TEST_RUNROOT/networks"
	! grep -rq "$jid" "$TEST_RUNROOT/networks"
	scow stop -t 0 t6 >/dev/null
	# the target's veth and address are gone; the joiner keeps the namespace
	[ "$(veths_on_bridge)" -eq 0 ]
	! grep -rq "$tid" "$TEST_RUNROOT/networks"
	run scow inspect -f '{{.State.Status}}' j6
	assert_equal "$output" "running"
	[[ "$(netns_of j6)" == "$ns" ]]
	run scow exec j6 cat /proc/net/dev
	assert_success
	assert_output_contains "lo:"
	refute_output_contains "eth0:"
	# restarting it needs the target running
	run scow restart -t 0 j6
	assert_failure 1
	assert_output_contains "cannot join network namespace of a non running container"
	scow start t6 >/dev/null
	scow start j6 >/dev/null
	# (the old namespace died with the failed restart's stop: its inode
	# number may well be the new one's, so only sameness is checked)
	[[ "$(netns_of j6)" == "$(netns_of t6)" ]]
	ns=$(netns_of t6)
	# rm of the target while the joiner runs: allowed, as in Docker
	run scow rm -f t6
	assert_success
	run scow inspect -f '{{.State.Status}}' j6
	assert_equal "$output" "running"
	[[ "$(netns_of j6)" == "$ns" ]]
	run scow exec j6 hostname
	assert_success
	scow rm -f j6 >/dev/null
	# no veth, no allocation, no process left in that namespace
	[ "$(veths_on_bridge)" -eq 0 ]
	! grep -rqE "$tid|$jid" "$TEST_RUNROOT/networks"
	local p
	for p in /proc/[0-9]*; do
		[[ "$(readlink "$p/ns/net" 2>/dev/null)" != "$ns" ]]
	done
	[ "$(scow ps -a -q | wc -l)" -eq 0 ]
}
