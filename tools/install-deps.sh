#!/usr/bin/env bash
# Installs every Debian package that building scow, its tests and its
# benchmarks need. Idempotent: when everything is present it only checks.
#   tools/install-deps.sh          build + tests
#   tools/install-deps.sh --bench  also the benchmark tools (buildah, hyperfine, ...)
set -euo pipefail

build=(cmake make gcc clang pkg-config
       libjansson-dev libcurl4-openssl-dev libarchive-dev libssl-dev zlib1g-dev
       libisal-dev libzstd-dev libseccomp-dev libcap-dev libmnl-dev libnftables-dev
       libyaml-dev libcmocka-dev)
tests=(bats docker-registry skopeo umoci openssl python3 busybox-static zstd
       libcap2-bin attr apache2-utils iproute2 nftables util-linux tmux procps psmisc
       curl ca-certificates valgrind uidmap time podman runc debootstrap groff-base)
bench=(buildah hyperfine iperf3 netavark aardvark-dns)

want=("${build[@]}" "${tests[@]}")
if [[ "${1:-}" == "--bench" ]]; then
	want+=("${bench[@]}")
fi

missing=()
for p in "${want[@]}"; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
	echo "install-deps: need root to install: ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
