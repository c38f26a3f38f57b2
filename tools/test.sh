#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds scow twice (release
# and ASan/UBSan), and runs the unit tests (cmocka) and the integration
# tests (bats, as root, against local fixtures) with CTest on both builds.
#   tools/test.sh            everything
#   tools/test.sh -R regex   only the CTest tests matching regex
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/tools/install-deps.sh"
if [[ $(id -u) -ne 0 ]]; then
	echo "test.sh: the integration tests run containers and registries: run as root" >&2
	exit 1
fi
jobs=$(nproc)
status=0
for cfg in release asan; do
	dir="$top/build-test-$cfg"
	flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
	[[ $cfg == asan ]] && flags=(-DCMAKE_BUILD_TYPE=Debug -DSCOW_SANITIZE=ON)
	echo "== $cfg build" >&2
	cmake -S "$top" -B "$dir" "${flags[@]}" >/dev/null
	cmake --build "$dir" -j"$jobs" >/dev/null
	echo "== $cfg tests" >&2
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
	if ! (cd "$dir" && ctest --output-on-failure -j"$jobs" "$@"); then
		status=1
	fi
done
exit $status
