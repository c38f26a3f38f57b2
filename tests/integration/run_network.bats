#!/usr/bin/env bats
# Containers on networks: the default bridge, published ports, user
# networks with names and aliases, none/host, the options' errors. Traffic
# goes only to loopback and to the addresses of the bridges these tests
# make (each test has its own bridge and subnets: helpers.bash).

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
	PORT=$((20000 + RANDOM % 20000))
}

teardown() {
	local ids
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f $ids >/dev/null 2>&1 || true
	teardown_scow
}

subnet_prefix() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["DefaultBridge"]["Subnet"].rsplit(".", 1)[0])' \
		"$TEST_ROOT/network.json"
}

# A web server answering "hello NAME" on port 80.
web() {
	local name=$1
	shift
	scow run -d --name "$name" "$@" "$IMG" sh -c \
		"mkdir /www && echo hello $name >/www/index.html && exec httpd -f -p 80 -h /www" >/dev/null
}

# fetch URL: from the host, with a deadline (the server may still start).
fetch() {
	local i
	for i in $(seq 50); do
		curl -s --max-time 2 "$1" && return 0
		sleep 0.1
	done
	return 1
}

@test "the default bridge: an address in the bridge's subnet, a default route, hosts and resolv.conf" {
	local pfx
	pfx=$(subnet_prefix)
	run scow run --rm "$IMG" sh -c 'ip -4 addr show eth0; ip route; cat /etc/hosts /etc/resolv.conf; hostname'
	assert_success
	assert_output_contains "inet $pfx."
	assert_output_contains "default via $pfx.1 dev eth0"
	# the container's own name in its hosts file, after the localhost block
	local host
	host=$(echo "$output" | tail -1)
	assert_output_contains "	$host"
	refute_output_contains "nameserver 127."
	# its veth goes with the container (right after the answer: deleting
	# a net device waits for RCU grace periods, not the caller)
	local i
	for i in $(seq 100); do
		[ -z "$(ip -o link show type veth master "$TEST_BRIDGE" 2>/dev/null)" ] && break
		sleep 0.02
	done
	[ -z "$(ip -o link show type veth master "$TEST_BRIDGE" 2>/dev/null)" ]
}

@test "inspect, ps and port show the network and published ports" {
	web w1 -p "127.0.0.1:$PORT:80"
	run fetch "http://127.0.0.1:$PORT/"
	assert_success
	assert_equal "$output" "hello w1"
	run scow inspect -f '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}} {{json .NetworkSettings.Ports}}' w1
	assert_output_contains "$(subnet_prefix)."
	assert_output_contains "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$PORT\"}]}"
	run scow inspect -f '{{json .HostConfig.PortBindings}}' w1
	assert_equal "$output" "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"$PORT\"}]}"
	run scow ps --format '{{.Ports}}|{{.Networks}}'
	assert_equal "$output" "127.0.0.1:$PORT->80/tcp|bridge"
	run scow port w1
	assert_equal "$output" "80/tcp -> 127.0.0.1:$PORT"
	run scow port w1 80/tcp
	assert_equal "$output" "127.0.0.1:$PORT"
	run scow port w1 81
	assert_failure 1
	assert_output_contains "No public port '81/tcp' published for w1"
	# another container reaches it through the bridge
	local ip
	ip=$(scow inspect -f '{{.NetworkSettings.IPAddress}}' w1)
	run scow run --rm "$IMG" wget -q -O - "http://$ip/"
	assert_equal "$output" "hello w1"
	scow rm -f w1 >/dev/null
	# the mapping is gone with it
	run curl -s --max-time 1 "http://127.0.0.1:$PORT/"
	assert_failure
	! nft list table inet scow 2>/dev/null | grep -q ":$PORT\b\| $PORT " || false
}

@test "-p without a host port and -P pick free ports; the port answers" {
	web w2 -p 127.0.0.1::80
	local hp
	hp=$(scow port w2 80 | sed 's/.*://')
	[[ "$hp" =~ ^[0-9]+$ ]]
	run fetch "http://127.0.0.1:$hp/"
	assert_equal "$output" "hello w2"
	web w3 -P --expose 80
	run scow port w3
	[[ "$output" =~ ^"80/tcp -> 0.0.0.0:"[0-9]+$ ]]
	hp=${output##*:}
	run fetch "http://127.0.0.1:$hp/"
	assert_equal "$output" "hello w3"
}

@test "a user network: members find each other by name and alias; --ip" {
	run scow network create --subnet 10.$((150 + RANDOM % 10)).$((RANDOM % 250)).0/24 appnet
	assert_success
	local pfx
	pfx=$(scow network inspect -f '{{(index .IPAM.Config 0).Subnet}}' appnet | cut -d. -f1-3)
	web db --network appnet --network-alias database --ip "$pfx.77"
	run scow inspect -f '{{.NetworkSettings.Networks.appnet.IPAddress}}' db
	assert_equal "$output" "$pfx.77"
	run scow run --rm --network appnet "$IMG" sh -c 'wget -q -O - http://db/ && wget -q -O - http://database/'
	assert_success
	assert_equal "$output" $'hello db\nhello db'
	# the default bridge does not see it by name (busybox wget's -T
	# crashes, which would pass for a failure: timeout bounds it instead)
	run scow run --rm "$IMG" sh -c 'timeout 3 wget -q -O - http://db/; echo "rc=$?"'
	assert_success
	[[ $output != *"hello db"* && $output != *"rc=0"* && $output != *"rc=139"* ]]
	run scow network rm appnet
	assert_failure 1
	assert_output_contains "has active endpoints"
	scow rm -f db >/dev/null
	scow network rm appnet >/dev/null
}

@test "--network none has only lo; host shares the host's network namespace" {
	run scow run --rm --network none "$IMG" sh -c 'ls /sys/class/net'
	assert_equal "$output" "lo"
	run scow run --rm --network host "$IMG" readlink /proc/self/ns/net
	assert_equal "$output" "$(readlink /proc/self/ns/net)"
	# published ports mean nothing there: Docker's warning
	run scow run --rm --network host -p 80:80 "$IMG" true
	assert_success
	assert_output_contains "Published ports are discarded when using host network mode"
}

@test "--add-host, --dns, --dns-search, --dns-option" {
	run scow run --rm --add-host db.local:10.1.2.3 --add-host gw:host-gateway --dns 192.0.2.53 \
		--dns-search example.test --dns-option ndots:2 "$IMG" sh -c 'cat /etc/hosts /etc/resolv.conf'
	assert_success
	assert_output_contains "10.1.2.3	db.local"
	assert_output_contains "$(subnet_prefix).1	gw"
	assert_output_contains "nameserver 192.0.2.53"
	assert_output_contains "search example.test"
	assert_output_contains "options ndots:2"
}

@test "bad network options: exit 125, Docker's messages, nothing created" {
	run scow run --rm --network nosuch "$IMG" true
	assert_failure 125
	assert_output_contains "network nosuch not found"
	run scow run --rm --ip 10.9.9.9 "$IMG" true
	assert_failure 125
	assert_output_contains "user specified IP address is supported on user defined networks only"
	run scow run --rm --network-alias x "$IMG" true
	assert_failure 125
	run scow run --rm --network none --network host "$IMG" true
	assert_failure 125
	assert_output_contains "conflicting options"
	for p in 99999:80 80:x 1.2.3:80:80 '80/bogus'; do
		run scow run --rm -p "$p" "$IMG" true
		assert_failure 125
	done
	run scow run --rm --dns not-an-ip "$IMG" true
	assert_failure 125
	run scow run --rm --add-host nocolon "$IMG" true
	assert_failure 125
	[ -z "$(ls -A "$TEST_ROOT/containers")" ]
}

@test "a published port already taken is refused; nothing is left of the failed container" {
	web w4 -p "127.0.0.1:$PORT:80"
	run scow run -d --name w5 -p "127.0.0.1:$PORT:80" "$IMG" sleep 30
	assert_failure 125
	run scow inspect -f '{{.State.Status}}' w5
	assert_equal "$output" "created"
	[ "$(ip -o link show master "$TEST_BRIDGE" type veth | wc -l)" -eq 1 ]
	run fetch "http://127.0.0.1:$PORT/"
	assert_equal "$output" "hello w4"
}
