# podman and skopeo as interop peers, isolated from the host.
#
# As root, podman and skopeo write /var/lib/containers/cache/ whatever
# --root says, and podman reads /etc/containers/*.conf. So every call runs in
# a private mount namespace (unshare -m) where /var/lib is an overlay whose
# upper layer is under $PEERS (as bench/pull does), podman gets private
# CONTAINERS_CONF / _REGISTRIES_CONF / _STORAGE_CONF files and a store under
# $PEERS, and containers run with runc, cgroupfs, no events and no network.
# Mounts podman makes (its overlay store) live and die in that namespace.
# The host's /var/lib/containers, /run/libpod and /etc/cni are never
# touched.
#
#   setup_peers DIR      in setup_file
#   podman_ ARGS...      podman with the private store
#   skopeo_ ARGS...      skopeo
#   peers_push_fixtures REGDIR [OPTS]   tests/fixtures' registry.sh push, isolated too
#   teardown_peers       in teardown_file

setup_peers() {
	PEERS=$1
	mkdir -p "$PEERS/varlib/upper" "$PEERS/varlib/work" "$PEERS/tmp" "$PEERS/net" \
		"$PEERS/store" "$PEERS/run"
	# podman as root gives containers RLIMIT_NOFILE and RLIMIT_NPROC of
	# 1048576, which runc cannot set where the hard limits are lower and
	# CAP_SYS_RESOURCE is missing: the limits we have, NPROC at most 32768
	# (what conmon runs with here), as bench/run does
	local nproc_soft nproc_hard
	nproc_soft=$(ulimit -Su) nproc_hard=$(ulimit -Hu)
	[[ $nproc_hard == unlimited || $nproc_hard -gt 32768 ]] && nproc_hard=32768
	[[ $nproc_soft == unlimited || $nproc_soft -gt $nproc_hard ]] && nproc_soft=$nproc_hard
	cat >"$PEERS/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Sn):$(ulimit -Hn)", "nproc=$nproc_soft:$nproc_hard"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
runtime = "runc"
tmp_dir = "$PEERS/tmp"
image_copy_tmp_dir = "$PEERS/tmp"
[network]
network_config_dir = "$PEERS/net"
default_network = "none"
EOF
	cat >"$PEERS/registries.conf" <<EOF
unqualified-search-registries = []
EOF
	cat >"$PEERS/storage.conf" <<EOF
[storage]
driver = "overlay"
runroot = "$PEERS/run"
graphroot = "$PEERS/store"
EOF
	export PEERS
	export CONTAINERS_CONF=$PEERS/containers.conf
	export CONTAINERS_REGISTRIES_CONF=$PEERS/registries.conf
	export CONTAINERS_STORAGE_CONF=$PEERS/storage.conf
}

in_peer_ns() {
	# setup_scow's DOCKER_CONFIG names a directory that may not exist: podman
	# then fails; the peers use their own auth files (--authfile, --creds).
	env -u DOCKER_CONFIG -u REGISTRY_AUTH_FILE \
		unshare -m --propagation private bash -c '
		mount -t overlay overlay -o "lowerdir=/var/lib,upperdir=$0/varlib/upper,workdir=$0/varlib/work" /var/lib || exit 99
		exec "$@"' "$PEERS" "$@"
}

podman_() {
	in_peer_ns podman --root "$PEERS/store" --runroot "$PEERS/run" --storage-driver overlay \
		--runtime runc --cgroup-manager cgroupfs --events-backend none "$@"
}

skopeo_() {
	in_peer_ns skopeo "$@"
}

peers_push_fixtures() {
	in_peer_ns "$FIXTURES/registry.sh" push "$@"
}

teardown_peers() {
	[[ -n ${PEERS:-} && -d $PEERS ]] || return 0
	# podman's own layer files may be immutable-free but read-only: rm -rf copes
	rm -rf "$PEERS"
}
