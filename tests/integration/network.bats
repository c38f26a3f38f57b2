#!/usr/bin/env bats
# Networking: `scow network ...` and the networking library (src/net) on
# test "containers": processes in network (and mount) namespaces of their
# own, connected by scow-nettest (tests/nettest.c) the way run's supervisor
# connects a container. Traffic goes only to addresses on the bridges these
# tests create, to loopback, and to an "outside" host in a network namespace
# made here (198.51.100.0/24, TEST-NET-2, on a veth pair made here).
#
# Every test has its own store with its own default bridge (sb<tag>) and
# subnets, so it shares nothing with real use or with other test files; the
# table inet scow is shared: only this test's elements are added and
# removed.

bats_require_minimum_version 1.5.0
load helpers

NETTEST=${SCOW_NETTEST:-$SCOW_SRC/build/tests/scow-nettest}

setup() {
	setup_scow
	TAG=$(printf '%04x' $((RANDOM % 65536)))
	# 10.<200..239>.0.0/16: the default bridge; 10.<240..254>.<x>.0/24:
	# user networks.
	local a=$((200 + RANDOM % 40)) b=$((240 + RANDOM % 15))
	DEF_BR=sb$TAG
	DEF_NET=10.$a.0
	mkdir -p "$TEST_ROOT"
	cat >"$TEST_ROOT/network.json" <<-EOF
		{"DefaultBridge": {"Bridge": "$DEF_BR", "Subnet": "$DEF_NET.0/16"},
		 "DefaultAddressPools": [{"Base": "10.$b.0.0/16", "Size": 24}]}
	EOF
	CTR_PIDS=()
	OUT_PID=
	OUT_VETH=
}

teardown() {
	local p
	for p in "${CTR_PIDS[@]}" $OUT_PID; do
		kill -9 "$p" 2>/dev/null || true
	done
	for p in "${CTR_PIDS[@]}" $OUT_PID; do
		while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
	done
	[[ -z "$OUT_VETH" ]] || ip link del "$OUT_VETH" 2>/dev/null || true
	if [[ -d "$TEST_ROOT/networks" ]]; then
		scow network prune -f >/dev/null 2>&1 || true
		nettest drop-default >/dev/null 2>&1 || true
	fi
	teardown_scow
}

nettest() {
	"$NETTEST" "$TEST_ROOT" "$TEST_RUNROOT" "$@"
}

# ctr NAME: a "container": sleep in new network and mount namespaces, with
# $TEST_TMP/NAME.hosts bound at /etc/hosts; sets NAME_PID via CPID.
ctr() {
	local name=$1 hosts=$TEST_TMP/$1.hosts
	printf '127.0.0.1\tlocalhost\n' >"$hosts"
	unshare -n -m --propagation private sh -c \
		"mount --bind '$hosts' /etc/hosts && exec sleep 600" </dev/null >/dev/null 2>&1 &
	CPID=$!
	disown
	CTR_PIDS+=("$CPID")
	local i
	for i in $(seq 50); do
		[[ "$(readlink /proc/$CPID/ns/net)" != "$(readlink /proc/self/ns/net)" &&
			"$(readlink /proc/$CPID/exe)" == */sleep ]] && break
		sleep 0.02
	done
	eval "PID_$name=$CPID"
}

# inside NAME CMD...: runs CMD in the container's namespaces.
inside() {
	local v=PID_$1
	shift
	timeout 10 nsenter -t "${!v}" -n -m -- "$@"
}

# attach NAME [nettest setup options]: connects NAME (id "id-NAME").
attach() {
	local name=$1 v=PID_$1
	shift
	nettest setup "id-$name" "$name" "${!v}" "$TEST_TMP/$name.hosts" "$@"
}

# httpd NAME TEXT [PORT]: busybox httpd in the container, serving TEXT
# (in the foreground, killed in teardown).
httpd() {
	local v=PID_$1 dir=$TEST_TMP/www-$1-${3:-80}
	mkdir -p "$dir"
	echo "$2" >"$dir/index.html"
	nsenter -t "${!v}" -n -m -- busybox httpd -f -p "${3:-80}" -h "$dir" </dev/null >/dev/null 2>&1 &
	CTR_PIDS+=("$!")
	disown
	local i
	for i in $(seq 50); do
		nsenter -t "${!v}" -n ss -ltn | grep -q ":${3:-80} " && break
		sleep 0.05
	done
}

# busybox wget's -T crashes (1.35): timeout bounds it instead.
fetch() { # fetch NAME URL: wget from inside NAME
	local v=PID_$1
	timeout 4 nsenter -t "${!v}" -n -m -- busybox wget -q -O- "$2"
}

host_fetch() {
	timeout 4 busybox wget -q -O- "$1"
}

ip_of() { # ip_of NAME NETWORK
	nettest settings "id-$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['Networks']['$2']['IPAddress'])"
}

# The outside host: a netns behind the host, 198.51.100.2, the host's end
# 198.51.100.1.
outside() {
	unshare -n sleep 600 </dev/null >/dev/null 2>&1 &
	OUT_PID=$!
	disown
	local i
	for i in $(seq 50); do
		[[ "$(readlink /proc/$OUT_PID/ns/net)" != "$(readlink /proc/self/ns/net)" ]] && break
		sleep 0.02
	done
	OUT_VETH=so$TAG
	ip link add "$OUT_VETH" type veth peer name eth0 netns "$OUT_PID"
	ip addr add 198.51.100.1/24 dev "$OUT_VETH"
	ip link set "$OUT_VETH" up
	nsenter -t "$OUT_PID" -n ip addr add 198.51.100.2/24 dev eth0
	nsenter -t "$OUT_PID" -n ip link set eth0 up
	nsenter -t "$OUT_PID" -n ip link set lo up
}

# A TCP server on the outside host that answers with the peer's address.
outside_whoami() {
	nsenter -t "$OUT_PID" -n python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.2", 7777)); s.listen(5); s.settimeout(20)
for _ in range(3):
    try:
        c, a = s.accept()
    except OSError:
        break
    c.settimeout(5); c.recv(4096)  # the request first: closing with it unread is a reset
    c.sendall(("HTTP/1.0 200 OK\r\n\r\n%s\n" % a[0]).encode())
    c.shutdown(socket.SHUT_WR); c.recv(4096); c.close()
' </dev/null >/dev/null 2>&1 &
	CTR_PIDS+=("$!")
	disown
	sleep 0.3
}

# veths on this test's bridges (other test files run containers meanwhile)
veth_count() {
	local brs
	brs=$(scow network ls -q | while read -r n; do
		scow network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$n"
	done | grep -v '^$\|<no value>' | paste -sd'|')
	[[ -n $brs ]] || { echo 0; return; }
	ip -o link show type veth | grep -cE "master ($brs) " || true
}

our_elements() { # nft elements that mention this test's subnets or bridges
	nettest nft | grep -E "$DEF_BR|$DEF_NET\.|10\.2[4-5][0-9]\." | grep -E '\. [0-9]+ :|"|/' || true
}

# ---- network commands --------------------------------------------------------------------

@test "network ls shows the predefined networks; create, inspect, rm" {
	run scow network ls
	assert_success
	assert_equal "${lines[0]}" "NETWORK ID     NAME      DRIVER    SCOPE"
	assert_output_contains "bridge    bridge    local"
	assert_output_contains "host      host      local"
	assert_output_contains "none      null      local"
	run scow network create --label team=a -o com.docker.network.driver.mtu=1400 mynet
	assert_success
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	local id=$output
	run scow network inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Internal}} {{.Labels.team}} {{index .Options "com.docker.network.driver.mtu"}}' mynet
	assert_equal "$output" "mynet bridge local false a 1400"
	run scow network inspect -f '{{.Id}}' "${id:0:5}"
	assert_equal "$output" "$id"
	# Docker's shape: the fields in Docker's order, Containers empty.
	run scow network inspect mynet
	assert_success
	python3 -c 'import json,sys; n=json.load(sys.stdin)[0]; assert list(n)[:6]==["Name","Id","Created","Scope","Driver","EnableIPv6"], list(n); assert n["Containers"]=={}; assert n["IPAM"]["Config"][0]["Subnet"].startswith("10.2")' <<<"$output"
	local br=br-${id:0:12}
	ip link show "$br" | grep -q 'mtu 1400'
	subnet=$(scow network inspect -f '{{(index .IPAM.Config 0).Subnet}}' mynet)
	ip -4 addr show "$br" | grep -q "inet ${subnet%.0/24}.1/24"
	nettest nft | grep -q "\"$br\""
	run scow network create mynet
	assert_failure 1
	assert_output_contains "network with name mynet already exists"
	run scow network rm mynet
	assert_success
	assert_equal "$output" "mynet"
	! ip link show "$br" 2>/dev/null
	! nettest nft | grep -q "\"$br\""
	run scow network rm mynet
	assert_failure 1
	assert_output_contains "network mynet not found"
	run scow network rm bridge
	assert_failure 1
	assert_output_contains "bridge is a pre-defined network and cannot be removed"
}

@test "network create: --subnet/--gateway/--ip-range checks, drivers, pools" {
	run scow network create --subnet 10.251.7.0/24 --gateway 10.251.7.254 --ip-range 10.251.7.128/25 --internal n1
	assert_success
	run scow network inspect -f '{{json .IPAM.Config}} {{.Internal}}' n1
	assert_equal "$output" '[{"Gateway":"10.251.7.254","IPRange":"10.251.7.128/25","Subnet":"10.251.7.0/24"}] true'
	run scow network create --subnet 10.251.7.128/25 n2
	assert_failure 1
	assert_output_contains "Pool overlaps with other one on this address space"
	run scow network create --subnet 10.251.8.0/24 --gateway 10.251.9.1 n2
	assert_output_contains "no matching subnet for gateway 10.251.9.1"
	run scow network create --subnet 10.251.8.0/24 --ip-range 10.251.9.0/25 n2
	assert_output_contains "no matching subnet for range 10.251.9.0/25"
	run scow network create --gateway 10.251.9.1 n2
	assert_output_contains "--gateway requires --subnet"
	run scow network create --subnet 300.1.1.0/24 n2
	assert_output_contains "invalid CIDR address: 300.1.1.0/24"
	run scow network create -d overlay n2
	assert_output_contains 'plugin "overlay" not found'
	run scow network create -d host n2
	assert_output_contains 'only one instance of "host" network is allowed'
	run scow network create 'bad name'
	assert_output_contains 'invalid network name'
	# Without --subnet: the first /24 of the pool that no route of the host
	# uses: occupy the first one with a test bridge's route.
	local pool
	pool=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["DefaultAddressPools"][0]["Base"])' "$TEST_ROOT/network.json")
	local first=${pool%.0.0/16}.0
	ip link add "st$TAG" type bridge
	ip addr add "$first.1/24" dev "st$TAG"
	ip link set "st$TAG" up
	run scow network create auto1
	local s1
	s1=$(scow network inspect -f '{{(index .IPAM.Config 0).Subnet}}' auto1)
	ip link del "st$TAG"
	assert_equal "$s1" "${pool%.0.0/16}.1.0/24"
	run scow network create auto2
	assert_equal "$(scow network inspect -f '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}' auto2)" "$first.0/24 $first.1"
}

@test "network ls: -q, --format, --no-trunc, filters; prune" {
	scow network create --label env=prod a1 >/dev/null
	scow network create --label env=dev b1 >/dev/null
	run scow network ls -q
	assert_equal "${#lines[@]}" 5
	[[ "${lines[0]}" =~ ^[0-9a-f]{12}$ ]]
	run scow network ls --no-trunc -q -f name=a1
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	run scow network ls --format '{{.Name}}' -f type=custom
	assert_equal "$output" $'a1\nb1'
	run scow network ls --format '{{.Name}}' -f type=builtin
	assert_equal "$output" $'bridge\nhost\nnone'
	run scow network ls --format '{{.Name}}' -f label=env=dev
	assert_equal "$output" "b1"
	run scow network ls --format '{{.Name}}' -f label=env
	assert_equal "$output" $'a1\nb1'
	run scow network ls --format '{{.Name}}' -f driver=null
	assert_equal "$output" "none"
	run scow network ls --format '{{.Name}}' -f name=1 -f name=none
	assert_equal "$output" $'none\na1\nb1'
	run scow network ls --format '{{.Name}}' -f dangling=true
	assert_equal "$output" $'a1\nb1'
	run scow network ls --format '{{.Name}} {{.Driver}} {{.Internal}} {{.Labels}}' -f name=a1
	assert_equal "$output" "a1 bridge false env=prod"
	run scow network ls --format json -f name=b1
	python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); assert r["Name"]=="b1" and r["Scope"]=="local"' <<<"$output"
	run scow network ls -f bogus=1
	assert_failure 125
	assert_output_contains "invalid filter 'bogus'"
	# prune: unused custom networks only, with label filters.
	run scow network prune -f --filter label=env=prod
	assert_equal "$output" $'Deleted Networks:\na1'
	ctr c1
	attach c1 --net b1 >/dev/null
	run scow network prune -f
	assert_success
	assert_equal "$output" ""
	run scow network ls --format '{{.Name}}' -f dangling=true
	assert_equal "$output" ""
	run scow network rm b1
	assert_failure 1
	assert_output_contains "has active endpoints"
}

# ---- containers on networks ---------------------------------------------------------------------

@test "default bridge: address, route, MAC, hosts file; --link; teardown releases everything" {
	ctr c1
	run attach c1
	assert_success
	run inside c1 ip -4 -o addr show eth0
	assert_output_contains "inet $DEF_NET.2/16"
	run inside c1 ip route
	assert_output_contains "default via $DEF_NET.1 dev eth0"
	run inside c1 ip -o link show eth0
	local a=${DEF_NET#10.}
	assert_output_contains "link/ether $(printf '02:42:0a:%02x:00:02' "${a%.0}")"
	run inside c1 cat /etc/hosts
	assert_output_contains $'127.0.0.1\tlocalhost'
	assert_output_contains "$DEF_NET.2	id-c1"
	ip link show "$DEF_BR" >/dev/null
	[[ "$(cat /proc/sys/net/ipv4/ip_forward)" == 1 ]]
	[[ "$(cat /proc/sys/net/ipv4/conf/$DEF_BR/route_localnet)" == 1 ]]
	httpd c1 "hello c1"
	ctr c2
	attach c2 --link c1:web >/dev/null
	run inside c2 cat /etc/hosts
	assert_output_contains "$DEF_NET.2	web id-c1 c1"
	run fetch c2 http://web/
	assert_equal "$output" "hello c1"
	# No names on the default bridge without links.
	run fetch c1 http://c2/
	assert_failure
	# --link to a container that is not there.
	ctr c3
	run attach c3 --link nothere
	assert_failure
	assert_output_contains "could not get container for nothere"
	# teardown: veth, address, hosts entries of others.
	local before
	before=$(veth_count)
	run nettest teardown id-c1
	assert_success
	[[ "$(veth_count)" -eq $((before - 1)) ]]
	run scow network inspect -f '{{len .Containers}}' bridge
	assert_equal "$output" "1"
	# The address is free again.
	ctr c4
	run attach c4
	run inside c4 ip -4 -o addr show eth0
	assert_output_contains "inet $DEF_NET.2/16"
}

@test "user networks: names and aliases in every member's /etc/hosts, also for later members and after disconnect" {
	scow network create app >/dev/null
	ctr web
	attach web --net app,alias=www,alias=frontend >/dev/null
	httpd web "hello web"
	ctr cli
	attach cli --net app >/dev/null
	run fetch cli http://web/
	assert_equal "$output" "hello web"
	run fetch cli http://www/
	assert_equal "$output" "hello web"
	run fetch cli http://frontend/
	assert_equal "$output" "hello web"
	run fetch cli http://id-web/
	assert_equal "$output" "hello web"
	# The earlier member learnt about the later one.
	run inside web cat /etc/hosts
	assert_output_contains "	cli id-cli"
	# A container on two networks: connect adds eth1 and names on both.
	scow network create other >/dev/null
	ctr db
	attach db --net other >/dev/null
	httpd db "hello db"
	run nettest connect id-cli cli "$PID_cli" "$TEST_TMP/cli.hosts" other alias=client
	assert_success
	run inside cli ip -4 -o addr show eth1
	assert_success
	run fetch cli http://db/
	assert_equal "$output" "hello db"
	run inside db cat /etc/hosts
	assert_output_contains "	cli id-cli client"
	# disconnect: the interface, the address and the names go.
	run nettest disconnect id-cli other
	assert_success
	run inside cli ip link show eth1
	assert_failure
	run inside db cat /etc/hosts
	refute_output_contains "cli"
	run inside cli cat /etc/hosts
	refute_output_contains "db"
	# A member that dies (kill -9) disappears from the others' files at the
	# next network operation.
	kill -9 "$PID_web"
	while kill -0 "$PID_web" 2>/dev/null; do sleep 0.05; done
	scow network ls >/dev/null
	run inside cli cat /etc/hosts
	refute_output_contains "web"
	# Lines above the marker (localhost, --add-host) are kept.
	grep -q $'^127.0.0.1\tlocalhost' "$TEST_TMP/cli.hosts"
	# network-scoped aliases and --ip need a user network.
	ctr x
	run attach x --net bridge,alias=foo
	assert_output_contains "network-scoped alias is supported only for containers in user defined networks"
	run attach x --net app,ip=10.1.2.3
	assert_output_contains "user specified IP address is supported only when connecting to networks with user configured subnets"
}

@test "--ip, --mac-address, --ip-range, duplicate address" {
	scow network create --subnet 10.252.3.0/24 --ip-range 10.252.3.64/26 fixed >/dev/null
	ctr a
	attach a --net fixed,ip=10.252.3.10,mac=02:00:00:00:00:aa >/dev/null
	run inside a ip -4 -o addr show eth0
	assert_output_contains "inet 10.252.3.10/24"
	run inside a ip -o link show eth0
	assert_output_contains "link/ether 02:00:00:00:00:aa"
	ctr b
	run attach b --net fixed,ip=10.252.3.10
	assert_failure
	assert_output_contains "Address already in use: 10.252.3.10"
	run attach b --net fixed,ip=10.252.4.10
	assert_output_contains "does not belong to subnet 10.252.3.0/24"
	run attach b --net fixed,mac=01:00:00:00:00:01
	assert_output_contains "invalid MAC address"
	attach b --net fixed >/dev/null
	run inside b ip -4 -o addr show eth0
	assert_output_contains "inet 10.252.3.64/24"
	run scow network inspect -f '{{range .Containers}}{{.Name}}={{.IPv4Address}} {{end}}' fixed
	assert_output_contains "a=10.252.3.10/24"
	assert_output_contains "b=10.252.3.64/24"
	# A failed setup leaves nothing behind.
	ctr c
	local before
	before=$(veth_count)
	run attach c --net fixed --net nosuchnet
	assert_failure
	assert_output_contains "network nosuchnet not found"
	[[ "$(veth_count)" -eq "$before" ]]
	run inside c ip link show eth0
	assert_failure
}

@test "isolation: user networks cannot reach each other; --internal has no way out" {
	scow network create n1 >/dev/null
	scow network create n2 >/dev/null
	scow network create --internal inner >/dev/null
	ctr a
	attach a --net n1 >/dev/null
	ctr b
	attach b --net n2 >/dev/null
	httpd b "hello b"
	ctr i
	attach i --net inner >/dev/null
	local ipb
	ipb=$(ip_of b n2)
	# b is reachable from the host, not from n1.
	run host_fetch "http://$ipb/"
	assert_equal "$output" "hello b"
	run fetch a "http://$ipb/"
	assert_failure
	# The internal network: no default route, and forwarding is dropped
	# even with one.
	outside
	outside_whoami
	run inside i ip route
	refute_output_contains default
	run fetch i http://198.51.100.2:7777/
	assert_failure
	local gw
	gw=$(scow network inspect -f '{{(index .IPAM.Config 0).Gateway}}' inner)
	inside i ip route add default via "$gw"
	run fetch i http://198.51.100.2:7777/
	assert_failure
	run fetch i "http://$ipb/"
	assert_failure
	# ... while a container on n1 gets out.
	run fetch a http://198.51.100.2:7777/
	assert_success
}

@test "outbound NAT: the outside host sees the host's address" {
	outside
	outside_whoami
	ctr c1
	attach c1 >/dev/null
	run fetch c1 http://198.51.100.2:7777/
	assert_success
	assert_equal "$output" "198.51.100.1"
	scow network create usernet >/dev/null
	ctr c2
	attach c2 --net usernet >/dev/null
	run fetch c2 http://198.51.100.2:7777/
	assert_equal "$output" "198.51.100.1"
	# Without masquerade (-o ...enable_ip_masquerade=false) the container's
	# own address arrives.
	scow network create -o com.docker.network.bridge.enable_ip_masquerade=false plain >/dev/null
	ctr c3
	attach c3 --net plain >/dev/null
	nsenter -t "$OUT_PID" -n ip route add 10.0.0.0/8 via 198.51.100.1
	run fetch c3 http://198.51.100.2:7777/
	assert_equal "$output" "$(ip_of c3 plain)"
}

@test "published ports: from the host (127.0.0.1, gateway), other containers, another host; udp; host ip; ranges; conflicts" {
	outside
	ctr c1
	local p1=$((20000 + RANDOM % 10000))
	run attach c1 -p "$p1:80" -p "127.0.0.1:$((p1 + 1)):81" -p "$((p1 + 2))-$((p1 + 3)):82-83" -p 84 -p "$((p1 + 4)):85/udp"
	assert_success
	local settings=$output
	httpd c1 "port 80"
	httpd c1 "port 81" 81
	httpd c1 "port 83" 83
	run host_fetch "http://127.0.0.1:$p1/"
	assert_equal "$output" "port 80"
	run host_fetch "http://$DEF_NET.1:$p1/"
	assert_equal "$output" "port 80"
	run host_fetch "http://127.0.0.1:$((p1 + 1))/"
	assert_equal "$output" "port 81"
	# 127.0.0.1 only: not through the gateway address.
	run host_fetch "http://$DEF_NET.1:$((p1 + 1))/"
	assert_failure
	run host_fetch "http://127.0.0.1:$((p1 + 3))/"
	assert_equal "$output" "port 83"
	# A random host port for 84.
	local rp
	rp=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Ports"]["84/tcp"][0]["HostPort"])' <<<"$settings")
	[[ "$rp" -gt 0 ]]
	# From another container, through the gateway (hairpin), and to itself.
	ctr c2
	attach c2 >/dev/null
	run fetch c2 "http://$DEF_NET.1:$p1/"
	assert_equal "$output" "port 80"
	run fetch c1 "http://$DEF_NET.1:$p1/"
	assert_equal "$output" "port 80"
	# From a container on a user network.
	scow network create pubnet >/dev/null
	ctr c3
	attach c3 --net pubnet >/dev/null
	local gw3
	gw3=$(scow network inspect -f '{{(index .IPAM.Config 0).Gateway}}' pubnet)
	run fetch c3 "http://$gw3:$p1/"
	assert_equal "$output" "port 80"
	# From another host.
	run timeout 4 nsenter -t "$OUT_PID" -n busybox wget -q -O- "http://198.51.100.1:$p1/"
	assert_equal "$output" "port 80"
	# udp (busybox nc has no -u here)
	nsenter -t "$PID_c1" -n -m -- python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 85)); s.settimeout(10)
open(sys.argv[1], "wb").write(s.recv(100))' "$TEST_TMP/udp.out" </dev/null &
	CTR_PIDS+=("$!")
	sleep 0.5
	python3 -c 'import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"datagram", ("127.0.0.1", int(sys.argv[1])))' "$((p1 + 4))"
	local i
	for i in $(seq 40); do [[ -s "$TEST_TMP/udp.out" ]] && break; sleep 0.05; done
	grep -q datagram "$TEST_TMP/udp.out"
	# The same host port again: refused, with Docker's message.
	ctr c4
	run attach c4 -p "$p1:80"
	assert_failure
	assert_output_contains "Bind for 0.0.0.0:$p1 failed: port is already allocated"
	# A port a host process listens on is refused too.
	python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(); time.sleep(5)' "$((p1 + 10))" &
	local lp=$! i
	for i in $(seq 100); do
		ss -Hltn "sport = :$((p1 + 10))" | grep -q . && break
		sleep 0.05
	done
	run attach c4 -p "$((p1 + 10)):80"
	kill "$lp"
	assert_failure
	assert_output_contains "port is already allocated"
	# teardown unpublishes exactly.
	nettest teardown id-c1
	! nettest nft | grep -q ": $DEF_NET.2 \."
	run host_fetch "http://127.0.0.1:$p1/"
	assert_failure
}

@test "cleanup: kill -9 of a container is reconciled by the next network operation" {
	scow network create cl >/dev/null
	ctr a
	attach a --net cl -p 80 >/dev/null
	ctr b
	attach b -p 81 >/dev/null
	local va vb
	va=$(nettest settings id-a | python3 -c 'import json,sys; print(json.load(sys.stdin)["Networks"]["cl"]["EndpointID"][:9])')
	ip link show "veth$va" >/dev/null
	[[ -n "$(our_elements | grep -E ': 10\.')" ]]
	kill -9 "$PID_a" "$PID_b"
	while kill -0 "$PID_a" 2>/dev/null || kill -0 "$PID_b" 2>/dev/null; do sleep 0.05; done
	run scow network inspect -f '{{len .Containers}}' cl
	assert_equal "$output" "0"
	! ip link show "veth$va" 2>/dev/null
	[[ -z "$(ls "$TEST_RUNROOT/networks")" ]]
	[[ -z "$(nettest nft | grep -E ': 10\.(2[0-5][0-9])\.')" ]]
	run scow network rm cl
	assert_success
}

@test "100 containers come and go: no veth, address, rule or allocation left" {
	scow network create churn >/dev/null
	local before i p
	before=$(veth_count)
	for i in $(seq 100); do
		ctr "c$i"
		p=$((30000 + i))
		if ((i % 2)); then
			attach "c$i" --net churn -p "$p:80" >/dev/null
		else
			attach "c$i" -p "$p:80/udp" >/dev/null
		fi
		if ((i % 3 == 0)); then
			nettest teardown "id-c$i"
		fi
		local v=PID_c$i
		kill -9 "${!v}"
		while kill -0 "${!v}" 2>/dev/null; do sleep 0.01; done
	done
	scow network ls >/dev/null
	[[ "$(veth_count)" -eq "$before" ]]
	[[ -z "$(ls "$TEST_RUNROOT/networks")" ]]
	run scow network inspect -f '{{len .Containers}}' churn
	assert_equal "$output" "0"
	run scow network inspect -f '{{len .Containers}}' bridge
	assert_equal "$output" "0"
	[[ -z "$(nettest nft | grep -E ' : 10\.')" ]] || [[ -z "$(nettest nft | grep -E ': ('"$DEF_NET"'|10\.2[4-5][0-9])\.')" ]]
}

@test "resolv.conf and --add-host" {
	cat >"$TEST_TMP/resolv" <<-EOF
		nameserver 127.0.0.53
		nameserver 192.0.2.53
		search example.org
		options edns0
	EOF
	run nettest resolv "$TEST_TMP/resolv"
	assert_equal "$output" $'nameserver 192.0.2.53\nsearch example.org\noptions edns0'
	run nettest resolv "$TEST_TMP/resolv" --dns 9.9.9.9 --dns-search a.test --dns-search b.test --dns-option ndots:2
	assert_equal "$output" $'nameserver 9.9.9.9\nsearch a.test b.test\noptions ndots:2'
	run nettest resolv "$TEST_TMP/resolv" --dns-search .
	assert_equal "$output" $'nameserver 192.0.2.53\noptions edns0'
	printf 'nameserver 127.0.0.1\n' >"$TEST_TMP/resolv"
	run nettest resolv "$TEST_TMP/resolv"
	assert_equal "$output" $'nameserver 8.8.8.8\nnameserver 8.8.4.4'
	run nettest add-hosts db:10.1.2.3 gw:host-gateway v6:::1 'e=10.0.0.9'
	assert_equal "$output" "10.1.2.3	db
$DEF_NET.1	gw
::1	v6
10.0.0.9	e"
	run nettest add-hosts db:nope
	assert_failure
	assert_output_contains 'invalid IP address in add-host: "nope"'
	run nettest add-hosts justname
	assert_output_contains 'bad format for add-host'
}
