#!/usr/bin/env bash
# scow's main job, end to end and offline: build scow, start a local
# registry holding a busybox image made from Debian's busybox-static, pull
# the image with scow, list it and run containers from it (foreground,
# detached with logs, stop, rm). Everything lives in a temporary directory
# that is removed at the end. Run as root on Debian 12.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/install-deps.sh"

cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$(nproc)" --target scow >/dev/null
scow="$top/build/scow"

work=$(mktemp -d /tmp/scow-demo.XXXXXX)
cleanup() {
	"$top/tests/fixtures/registry.sh" stop "$work/registry" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/registry"
"$top/tests/fixtures/registry.sh" start plain "$work/registry" >/dev/null
# shellcheck disable=SC1091
. "$work/registry/env"
"$top/tests/fixtures/images.sh" push "$REGISTRY" --tls-verify=false --only busybox >/dev/null

export SCOW_ROOT="$work/root" SCOW_RUNROOT="$work/run"
set -x
"$scow" version
"$scow" pull "$REGISTRY/busybox:latest"
"$scow" images
"$scow" image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{json .Config.Cmd}}' "$REGISTRY/busybox"
"$scow" run --rm "$REGISTRY/busybox" sh -c 'echo "hello from $(hostname), pid $$"; id'
"$scow" run -d --name demo "$REGISTRY/busybox" sh -c 'for i in 1 2 3; do echo tick $i; sleep 0.2; done; sleep 30'
sleep 1
"$scow" ps
"$scow" logs demo
"$scow" stop -t 1 demo
"$scow" ps -a
"$scow" rm demo
