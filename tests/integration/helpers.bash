# Shared set-up for the integration tests. Each test file sources this.
# Every test runs scow with a private --root/--runroot under a temporary
# directory and removes it afterwards (failing if a mount was left behind).

SCOW_SRC=${SCOW_SRC:-$(cd "$BATS_TEST_DIRNAME/../.." && pwd)}
SCOW=${SCOW:-$SCOW_SRC/build/scow}
FIXTURES=$SCOW_SRC/tests/fixtures

# scow with this test's private store.
scow() {
	"$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" "$@"
}

setup_scow() {
	TEST_TMP=$(mktemp -d /tmp/scow-test.XXXXXX)
	TEST_ROOT=$TEST_TMP/root
	TEST_RUNROOT=$TEST_TMP/run
	# Never read the host's registry configuration or credentials.
	export SCOW_REGISTRIES_CONF=$TEST_TMP/registries.json
	export SCOW_AUTH_FILE=$TEST_TMP/auth.json
	export DOCKER_CONFIG=$TEST_TMP/docker
	export HOME=$TEST_TMP/home
	mkdir -p "$HOME"
	# Containers get bridge networking by default: each test has a bridge
	# and subnets of its own, so that test files running in parallel
	# never share a bridge or hand out the same addresses.
	mkdir -m 0700 -p "$TEST_ROOT"
	TEST_BRIDGE=st$(printf '%04x' $((RANDOM % 65536)))
	cat >"$TEST_ROOT/network.json" <<-EOF
		{"DefaultBridge": {"Bridge": "$TEST_BRIDGE", "Subnet": "10.$((160 + RANDOM % 40)).$((RANDOM % 256)).0/24"},
		 "DefaultAddressPools": [{"Base": "10.$((150 + RANDOM % 10)).0.0/16", "Size": 24}]}
	EOF
}

# Removes the test's networks: user networks, then the default bridge and
# its nftables elements (scow keeps those between containers).
teardown_networks() {
	[[ -d "$TEST_ROOT/networks" ]] || return 0
	"$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" network prune -f >/dev/null 2>&1 || true
	local nettest=${SCOW_NETTEST:-$SCOW_SRC/build/tests/scow-nettest}
	if [[ -e "$TEST_ROOT/networks/bridge.json" && -x "$nettest" ]]; then
		"$nettest" "$TEST_ROOT" "$TEST_RUNROOT" drop-default >/dev/null 2>&1 || true
	fi
}

# The Dockerfile fixtures, copied with the modes a fresh clone gives them
# (0644, 0755 if executable) whatever the checkout's umask made them:
# tests check the modes COPY and ADD give. For setup_file; prints the path.
dockerfile_fixtures() {
	local d=$BATS_FILE_TMPDIR/dockerfiles
	if [[ ! -d $d ]]; then
		cp -r "$FIXTURES/dockerfiles" "$d"
		chmod -R u=rwX,go=rX "$d"
	fi
	echo "$d"
}

teardown_scow() {
	[[ -n "${TEST_TMP:-}" && -d "$TEST_TMP" ]] || return 0
	teardown_networks
	local leaked
	leaked=$(awk -v p="$TEST_TMP/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts)
	if [[ -n "$leaked" ]]; then
		echo "mounts left behind: $leaked" >&2
		awk -v p="$TEST_TMP/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts |
			sort -r | xargs -r -n1 umount -l
		rm -rf "$TEST_TMP"
		return 1
	fi
	rm -rf "$TEST_TMP"
}

# start_registry KIND: a docker-registry in $BATS_FILE_TMPDIR/reg-KIND with
# the fixture images pushed; exports its env (REGISTRY, ...).
start_registry() {
	local kind=$1 dir=$BATS_FILE_TMPDIR/reg-$1
	mkdir -p "$dir"
	"$FIXTURES/registry.sh" start "$kind" "$dir" >/dev/null
	# shellcheck disable=SC1091
	. "$dir/env"
	"$FIXTURES/registry.sh" push "$dir" "${@:2}" >/dev/null
}

stop_registry() {
	"$FIXTURES/registry.sh" stop "$BATS_FILE_TMPDIR/reg-$1" >/dev/null 2>&1 || true
}

# A fault-injecting registry serving OCI layouts (see fixtures/FAULTS.md).
# start_fake NAME --repo a=DIR ... ; sets FAKE (host:port) and FAKE_LOG.
start_fake() {
	local name=$1 dir=$BATS_FILE_TMPDIR/fake-$1
	shift
	mkdir -p "$dir"
	python3 "$FIXTURES/fake_registry.py" --port-file "$dir/port" --log "$dir/log" \
		--faults "$dir/faults.json" "$@" >"$dir/out" 2>&1 3>&- &
	echo $! >"$dir/pid"
	local i
	for i in $(seq 100); do
		[[ -s "$dir/port" ]] && break
		sleep 0.1
	done
	FAKE=127.0.0.1:$(cat "$dir/port")
	FAKE_LOG=$dir/log
	FAKE_FAULTS=$dir/faults.json
	[[ -f $FAKE_FAULTS ]] || echo '[]' >"$FAKE_FAULTS"
}

stop_fake() {
	local dir=$BATS_FILE_TMPDIR/fake-$1
	[[ -f $dir/pid ]] || return 0
	kill "$(cat "$dir/pid")" 2>/dev/null || true
	wait "$(cat "$dir/pid")" 2>/dev/null || true
}

# assertions with readable failure output
assert_success() {
	if [[ "$status" -ne 0 ]]; then
		echo "expected success, got status $status; output:" >&2
		echo "$output" >&2
		return 1
	fi
}

assert_failure() {
	local want=${1:-}
	if [[ "$status" -eq 0 ]]; then
		echo "expected failure, got success; output:" >&2
		echo "$output" >&2
		return 1
	fi
	if [[ -n "$want" && "$status" -ne "$want" ]]; then
		echo "expected status $want, got $status; output:" >&2
		echo "$output" >&2
		return 1
	fi
}

assert_output_contains() {
	if [[ "$output" != *"$1"* ]]; then
		echo "output lacks: $1" >&2
		echo "output was:" >&2
		echo "$output" >&2
		return 1
	fi
}

refute_output_contains() {
	if [[ "$output" == *"$1"* ]]; then
		echo "output should not contain: $1" >&2
		echo "$output" >&2
		return 1
	fi
}

assert_equal() {
	if [[ "$1" != "$2" ]]; then
		echo "expected: $2" >&2
		echo "actual:   $1" >&2
		return 1
	fi
}

# Nothing half-written may stay in the store after a failure.
assert_store_clean() {
	local junk
	junk=$(find "$TEST_ROOT/layers" "$TEST_ROOT/images" -maxdepth 1 \
		\( -name '*.tmp' -o -name '.del-*' \) 2>/dev/null)
	if [[ -n "$junk" ]]; then
		echo "left in the store: $junk" >&2
		return 1
	fi
}

layer_count() {
	find "$TEST_ROOT/layers" -mindepth 1 -maxdepth 1 -regextype egrep -regex '.*/[0-9a-f]{64}' 2>/dev/null | wc -l
}

image_count() {
	find "$TEST_ROOT/images" -mindepth 1 -maxdepth 1 -regextype egrep -regex '.*/[0-9a-f]{64}' 2>/dev/null | wc -l
}
