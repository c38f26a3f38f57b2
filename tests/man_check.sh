#!/usr/bin/env bash
# The man pages in man/ are generated from scow's --help by tools/mkman.py.
# Fails if they are stale for this binary (a command, option or help text
# changed without regenerating them) or if a page does not render cleanly
# with groff (any warning counts) or has a NAME line whatis cannot read.
#   tests/man_check.sh SCOW_BINARY [SOURCE_DIR]
set -euo pipefail
scow=$(realpath "$1")
src=$(realpath "${2:-$(dirname "$0")/..}")

for tool in python3 groff; do
	if ! command -v "$tool" >/dev/null; then
		echo "man_check: $tool not found (tools/install-deps.sh installs it)" >&2
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/scow-man.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/committed" "$tmp/fresh"
shopt -s nullglob
committed=("$src"/man/*.1)
if ((${#committed[@]})); then
	cp -- "${committed[@]}" "$tmp/committed/"
fi
status=0

# (a) The committed pages are what this binary's --help gives. No date, as
# in the committed pages.
if ! env -u SOURCE_DATE_EPOCH python3 "$src/tools/mkman.py" "$scow" "$tmp/fresh" 2>"$tmp/mkman.err"; then
	cat "$tmp/mkman.err" >&2
	echo "man_check: tools/mkman.py failed on $scow" >&2
	exit 1
fi
if ! (cd "$tmp" && diff -ru committed fresh >diff.out); then
	n=$(cd "$tmp" && { diff -rq committed fresh || true; } | wc -l)
	head -n 80 "$tmp/diff.out" >&2
	echo "man_check: man/ is out of date ($n pages differ from this scow's --help):" \
		"run tools/mkman.py build/scow man" >&2
	status=1
fi

# (b) Every page, committed and fresh, renders without a single groff
# warning (-ww: all of them, -z: no output) and has a NAME section.
for page in "$tmp"/committed/*.1 "$tmp"/fresh/*.1; do
	name=${page#"$tmp"/}
	if [[ $name == fresh/* ]] && cmp -s "$page" "$tmp/committed/${name#fresh/}"; then
		continue # checked already
	fi
	warn=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1) || warn+=" (groff failed)"
	if [[ -n $warn ]]; then
		echo "man_check: $name: $warn" >&2
		status=1
	fi
	if ! grep -q '^\.SH NAME$' "$page"; then
		echo "man_check: $name: no NAME section" >&2
		status=1
	elif command -v lexgrog >/dev/null && ! lexgrog "$page" >/dev/null 2>&1; then
		echo "man_check: $name: whatis (lexgrog) cannot parse its NAME section" >&2
		status=1
	fi
done

if ((status == 0)); then
	echo "man_check: ${#committed[@]} pages up to date and clean"
fi
exit $status
