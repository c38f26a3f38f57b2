#!/usr/bin/env bash
# scow's main job, end to end and offline: build scow, start a local
# registry holding a busybox image made from Debian's busybox-static, pull
# the image with scow, list it and run containers from it (foreground,
# detached with logs, stop, rm), build an image from a Dockerfile and serve
# it on a user network with a published port. Everything lives in a
# temporary directory that is removed at the end, and the demo's network
# goes with `network rm`. Run as root on Debian 12.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/install-deps.sh"

cmake -S "$top" -B "$top/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$(nproc)" --target scow >/dev/null
scow="$top/build/scow"

work=$(mktemp -d /tmp/scow-demo.XXXXXX)
cleanup() {
	"$scow" rm -f demo web >/dev/null 2>&1 || true
	"$scow" network rm demonet >/dev/null 2>&1 || true
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
img=$REGISTRY/busybox
set -x
"$scow" version
"$scow" pull "$REGISTRY/busybox:latest"
"$scow" images
"$scow" image inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} {{json .Config.Cmd}}' "$REGISTRY/busybox"
# --network none: the default bridge would stay behind on the host (as
# Docker's docker0 does); the demo's own network below is removed.
"$scow" run --rm --network none "$img" sh -c 'echo "hello from $(hostname), pid $$"; id'
"$scow" run -d --network none --name demo "$img" sh -c 'for i in 1 2 3; do echo tick $i; sleep 0.2; done; sleep 30'
sleep 1
"$scow" ps
"$scow" logs demo
"$scow" stop -t 1 demo
"$scow" ps -a
"$scow" rm demo

mkdir "$work/ctx"
printf '%s\n' "FROM $img" 'RUN mkdir /www && echo "hello from a scow build" >/www/index.html' \
	'EXPOSE 80' 'CMD ["httpd", "-f", "-p", "80", "-h", "/www"]' >"$work/ctx/Dockerfile"
"$scow" build --network none -t demo-web "$work/ctx"
"$scow" network create demonet
"$scow" run -d --name web --network demonet -p 127.0.0.1::80 demo-web
"$scow" port web
"$scow" run --rm --network demonet "$img" wget -qO- http://web/
port=$("$scow" port web 80/tcp | head -n1)
port=${port##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET / HTTP/1.0\r\n\r\n' >&3
tail -n1 <&3
exec 3<&-
"$scow" rm -f web
"$scow" network rm demonet
