#!/usr/bin/env bats
# scow export (a container's file system as a tar), import (a tar, file, URL
# or stdin, into a one-layer image; --change, -m; hostile tars as a pull's)
# and commit (a container's changes as a new layer, whiteouts and opaque
# dirs included, scow's own stubs left out; --change, -m, -a, --pause).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	start_registry plain --only busybox,layers
	export REGISTRY
	IMG=$REGISTRY/busybox
	LIMG=$REGISTRY/layers:oci
	export IMG LIMG
}

teardown_file() {
	stop_registry plain
}

setup() {
	setup_scow
	scow pull -q "$IMG" >/dev/null
	HTTP_PID=
}

teardown() {
	if [[ -n "${HTTP_PID:-}" ]]; then
		kill "$HTTP_PID" 2>/dev/null || true
		wait "$HTTP_PID" 2>/dev/null || true
	fi
	local ids
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f -v $ids >/dev/null 2>&1 || true
	teardown_scow
}

# The names in a tar, one per line, sorted.
tar_names() {
	tar -tf "$1" | sort
}

# A runnable tree: the busybox image's files, in $1.
busybox_tree() {
	mkdir -p "$1"
	scow create --name tree-src "$IMG" true >/dev/null
	scow export tree-src | tar -C "$1" -xf -
	scow rm tree-src >/dev/null
}

# The layer tar of diff_id $2 of image $1 (from save), to stdout.
layer_tar() {
	scow save -o "$TEST_TMP/save.tar" "$1"
	tar -xOf "$TEST_TMP/save.tar" "${2#sha256:}.tar"
	rm -f "$TEST_TMP/save.tar"
}

top_diff_id() {
	scow image inspect -f '{{range .RootFS.Layers}}{{.}} {{end}}' "$1" | awk '{ print $NF }'
}

no_test_mounts() {
	! grep -q " $TEST_TMP" /proc/self/mountinfo
}

# ---- export ---------------------------------------------------------------------------

@test "export: a stopped container's tree with its changes, to stdout and with -o" {
	scow run --name c1 "$IMG" sh -c 'echo hello >/newfile; rm /bin/ls; echo more >>/etc/passwd; mkdir -p /d/e && echo x >/d/e/f'
	scow export c1 >"$TEST_TMP/out.tar"
	tar_names "$TEST_TMP/out.tar" >"$TEST_TMP/names"
	grep -qx newfile "$TEST_TMP/names"
	grep -qx bin/busybox "$TEST_TMP/names"
	grep -qx d/e/f "$TEST_TMP/names"
	! grep -qx bin/ls "$TEST_TMP/names" || false
	! grep -q '\.wh\.' "$TEST_TMP/names" || false
	assert_equal "$(tar -xOf "$TEST_TMP/out.tar" newfile)" hello
	assert_equal "$(tar -xOf "$TEST_TMP/out.tar" etc/passwd | tail -1)" more
	# the mount points scow made are there, empty, as Docker's init layer has them
	grep -qx etc/hosts "$TEST_TMP/names"
	assert_equal "$(tar -xOf "$TEST_TMP/out.tar" etc/hosts | wc -c)" 0
	# -o: the same bytes (the tar is deterministic), no temporary file left
	run scow container export -o "$TEST_TMP/o.tar" c1
	assert_success
	assert_equal "$output" ""
	cmp "$TEST_TMP/out.tar" "$TEST_TMP/o.tar"
	[ -z "$(find "$TEST_TMP" -maxdepth 1 -name 'o.tar.tmp-*')" ]
	no_test_mounts
}

@test "export: the image's whiteouts and opaque dirs and the container's own" {
	scow pull -q "$LIMG" >/dev/null
	scow run --name c1 "$LIMG" sh -c 'rm -rf /fx/d && mkdir /fx/d && touch /fx/d/n; rm /fx/l3'
	scow export -o "$TEST_TMP/out.tar" c1
	tar_names "$TEST_TMP/out.tar" >"$TEST_TMP/names"
	assert_equal "$(grep '^fx/d/' "$TEST_TMP/names")" "fx/d/
fx/d/n"
	! grep -qx fx/gone "$TEST_TMP/names" || false  # whited out by the image's layer 2
	! grep -qx fx/l3 "$TEST_TMP/names" || false    # removed by the container
	grep -qx fx/hl/b "$TEST_TMP/names"
	! grep -q '\.wh\.' "$TEST_TMP/names" || false
}

@test "export: a running container without its volumes, /proc or /sys; nothing stays mounted" {
	scow run -d --name c1 -v /vol "$IMG" sleep 1000 >/dev/null
	scow exec c1 sh -c 'echo in-vol >/vol/x; echo in-tmp >/tmp/y'
	scow export -o "$TEST_TMP/out.tar" c1
	tar_names "$TEST_TMP/out.tar" >"$TEST_TMP/names"
	assert_equal "$(tar -xOf "$TEST_TMP/out.tar" tmp/y)" in-tmp
	grep -qx vol/ "$TEST_TMP/names"
	! grep -q '^vol/.' "$TEST_TMP/names" || false
	! grep -q '^proc/.' "$TEST_TMP/names" || false
	! grep -q '^sys/.' "$TEST_TMP/names" || false
	no_test_mounts
	assert_equal "$(scow inspect -f '{{.State.Status}}' c1)" running
	# and once stopped: the same files
	scow stop -t 0 c1 >/dev/null
	scow export c1 | tar -tf - | sort >"$TEST_TMP/names2"
	diff "$TEST_TMP/names" "$TEST_TMP/names2"
}

@test "export: a created container is its image; refuses a terminal; errors" {
	scow create --name c1 "$IMG" true >/dev/null
	scow export c1 | tar -tf - | grep -qx bin/busybox
	run python3 "$FIXTURES/ptyrun.py" -- "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" export c1
	assert_failure 1
	assert_output_contains "cowardly refusing to save to a terminal. Use the -o flag or redirect"
	run scow export nosuch
	assert_failure 1
	assert_output_contains "No such container: nosuch"
	run scow export -o "$TEST_TMP/no/such/dir/x.tar" c1
	assert_failure 1
	[ ! -e "$TEST_TMP/no" ]
	run scow export
	assert_failure 125
}

# ---- import ---------------------------------------------------------------------------

@test "import: a directory's tar becomes a runnable one-layer image (Docker's config)" {
	busybox_tree "$TEST_TMP/tree"
	echo "imported file" >"$TEST_TMP/tree/file"
	tar -C "$TEST_TMP/tree" -cf "$TEST_TMP/t.tar" .
	run scow import "$TEST_TMP/t.tar" imp:1
	assert_success
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	assert_equal "$output" "$(scow images -q --no-trunc imp:1)"
	run scow run --rm imp:1 cat /file
	assert_success
	assert_equal "$output" "imported file"
	assert_equal "$(scow image inspect -f '{{.Comment}} {{.Os}} {{len .RootFS.Layers}}' imp:1)" \
		"Imported from - linux 1"
	assert_equal "$(scow image inspect -f '{{.Architecture}}' imp:1)" \
		"$(scow image inspect -f '{{.Architecture}}' "$IMG")"
	assert_equal "$(top_diff_id imp:1)" "sha256:$(sha256sum "$TEST_TMP/t.tar" | cut -d' ' -f1)"
	assert_equal "$(scow history --format '{{.Comment}}|{{.CreatedBy}}' imp:1)" "Imported from -|"
	# the layer is stored with its tar-split: save gives the same tar back
	layer_tar imp:1 "$(top_diff_id imp:1)" | cmp - "$TEST_TMP/t.tar"
	# from stdin, through the image sub-command
	run scow image import - < "$TEST_TMP/t.tar"
	assert_success
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	assert_store_clean
}

@test "import: gzip, zstd, bzip2 and xz inputs give the plain tar's layer" {
	busybox_tree "$TEST_TMP/tree"
	tar -C "$TEST_TMP/tree" -cf "$TEST_TMP/t.tar" .
	local want
	want="sha256:$(sha256sum "$TEST_TMP/t.tar" | cut -d' ' -f1)"
	gzip -c "$TEST_TMP/t.tar" >"$TEST_TMP/t.tar.gz"
	zstd -q -c "$TEST_TMP/t.tar" >"$TEST_TMP/t.tar.zst"
	bzip2 -c "$TEST_TMP/t.tar" >"$TEST_TMP/t.tar.bz2"
	xz -c "$TEST_TMP/t.tar" >"$TEST_TMP/t.tar.xz"
	local ext
	for ext in gz zst bz2 xz; do
		run scow import "$TEST_TMP/t.tar.$ext" "imp:$ext"
		assert_success
		assert_equal "$(top_diff_id "imp:$ext")" "$want"
	done
	cat "$TEST_TMP/t.tar.gz" | scow import - imp:pipe >/dev/null
	assert_equal "$(top_diff_id imp:pipe)" "$want"
	run scow run --rm imp:xz cat /etc/passwd
	assert_success
	# a corrupt stream: exit 1, nothing stored
	head -c 100000 "$TEST_TMP/t.tar.gz" >"$TEST_TMP/cut.gz"
	local layers
	layers=$(layer_count)
	run scow import "$TEST_TMP/cut.gz" cut:1
	assert_failure 1
	[ "$(layer_count)" -eq "$layers" ]
	assert_store_clean
}

@test "import: --change and -m show in inspect and take effect" {
	busybox_tree "$TEST_TMP/tree"
	echo "x content" >"$TEST_TMP/tree/x"
	tar -C "$TEST_TMP/tree" -cf "$TEST_TMP/t.tar" .
	run scow import -c 'CMD ["cat","/x"]' -c 'ENV A=b' -c 'ENV C="with space" D=$A-d' \
		-c 'WORKDIR /w' -c 'WORKDIR sub' -c 'EXPOSE 80 90-91/udp' -c 'LABEL k=v' \
		-c 'USER 0:0' -c 'STOPSIGNAL SIGUSR1' -c 'ONBUILD RUN true' \
		-m 'my message' "$TEST_TMP/t.tar" chg:1
	assert_success
	run scow run --rm chg:1
	assert_success
	assert_equal "$output" "x content"
	run scow run --rm chg:1 sh -c 'echo "$A|$C|$D|$(pwd)"'
	assert_equal "$output" "b|with space|b-d|/w/sub"
	assert_equal "$(scow image inspect -f '{{json .Config.Cmd}} {{json .Config.Env}}' chg:1)" \
		'["cat","/x"] ["A=b","C=with space","D=b-d"]'
	assert_equal "$(scow image inspect -f '{{json .Config.ExposedPorts}} {{json .Config.Labels}} {{.Config.User}} {{.Config.StopSignal}} {{json .Config.OnBuild}}' chg:1)" \
		'{"80/tcp":{},"90/udp":{},"91/udp":{}} {"k":"v"} 0:0 SIGUSR1 ["RUN true"]'
	assert_equal "$(scow image inspect -f '{{.Comment}}' chg:1)" "my message"
	assert_equal "$(scow history --format '{{.Comment}}' chg:1)" "my message"
	# the shell form, and ENTRYPOINT dropping a CMD not given with it
	scow import -c 'CMD cat /x' "$TEST_TMP/t.tar" chg:2 >/dev/null
	assert_equal "$(scow image inspect -f '{{json .Config.Cmd}}' chg:2)" '["/bin/sh","-c","cat /x"]'
	scow import -c 'ENTRYPOINT ["cat"]' -c 'CMD ["/x"]' "$TEST_TMP/t.tar" chg:3 >/dev/null
	assert_equal "$(scow run --rm chg:3)" "x content"
	scow import -c 'HEALTHCHECK --interval=5s --retries=2 CMD true' -c 'VOLUME /data /d2' \
		"$TEST_TMP/t.tar" chg:4 >/dev/null
	assert_equal "$(scow image inspect -f '{{json .Config.Healthcheck}} {{json .Config.Volumes}}' chg:4)" \
		'{"Interval":5000000000,"Retries":2,"Test":["CMD-SHELL","true"]} {"/d2":{},"/data":{}}'
}

@test "import: a bad --change is exit 1 with Docker's message, and nothing is imported" {
	busybox_tree "$TEST_TMP/tree"
	tar -C "$TEST_TMP/tree" -cf "$TEST_TMP/t.tar" .
	local images layers
	images=$(image_count)
	layers=$(layer_count)
	run scow import -c 'RUN echo hi' "$TEST_TMP/t.tar" bad:1
	assert_failure 1
	assert_output_contains "run is not a valid change command"
	run scow import -c 'ENV' "$TEST_TMP/t.tar" bad:1
	assert_failure 1
	assert_output_contains "ENV requires at least one argument"
	run scow import -c 'ENV a=b c' "$TEST_TMP/t.tar" bad:1
	assert_failure 1
	assert_output_contains "can't find = in \"c\""
	run scow import -c 'EXPOSE nope' "$TEST_TMP/t.tar" bad:1
	assert_failure 1
	assert_output_contains "invalid containerPort: nope"
	run scow import -c 'STOPSIGNAL SIGNOPE' "$TEST_TMP/t.tar" bad:1
	assert_failure 1
	run scow import -c 'HEALTHCHECK --interval=1x CMD true' "$TEST_TMP/t.tar" bad:1
	assert_failure 1
	run scow import "$TEST_TMP/t.tar" 'Bad:Name'
	assert_failure 1
	run scow import --platform linux/s390x-not-this-host "$TEST_TMP/t.tar" bad:1
	assert_failure 1
	assert_output_contains "only this host's platform"
	run scow import "$TEST_TMP/nosuch.tar"
	assert_failure 1
	assert_output_contains "No such file or directory"
	echo "not a tar" >"$TEST_TMP/junk"
	run scow import "$TEST_TMP/junk"
	assert_failure 1
	[ "$(image_count)" -eq "$images" ]
	[ "$(layer_count)" -eq "$layers" ]
	run scow images bad
	[ "${#lines[@]}" -eq 1 ]
	assert_store_clean
}

# A python http.server on 127.0.0.1 serving $1; sets HTTP_PORT.
start_http() {
	python3 - "$1" "$TEST_TMP/http.port" 3>&- <<'EOF' >"$TEST_TMP/http.log" 2>&1 &
import functools, http.server, os, sys
d, pf = sys.argv[1], sys.argv[2]
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=d)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
with open(pf + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(pf + ".tmp", pf)
s.serve_forever()
EOF
	HTTP_PID=$!
	local i
	for i in $(seq 100); do
		[[ -s "$TEST_TMP/http.port" ]] && break
		sleep 0.1
	done
	HTTP_PORT=$(cat "$TEST_TMP/http.port")
}

@test "import: from a URL (http on 127.0.0.1), with the URL in the comment" {
	busybox_tree "$TEST_TMP/tree"
	echo from-url >"$TEST_TMP/tree/file"
	mkdir -p "$TEST_TMP/www"
	tar -C "$TEST_TMP/tree" -czf "$TEST_TMP/www/t.tar.gz" .
	start_http "$TEST_TMP/www"
	local url=http://127.0.0.1:$HTTP_PORT/t.tar.gz
	run scow import "$url" url:1
	assert_success
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	assert_equal "$(scow run --rm url:1 cat /file)" from-url
	assert_equal "$(scow image inspect -f '{{.Comment}}' url:1)" "Imported from $url"
	local images
	images=$(image_count)
	run scow import "http://127.0.0.1:$HTTP_PORT/missing.tar" url:2
	assert_failure 1
	assert_output_contains "HTTP status 404"
	[ "$(image_count)" -eq "$images" ]
	assert_store_clean
}

# hostile_tar NAME OUT: a tar attacking an extractor (aimed at $CANARY).
hostile_tar() {
	python3 - "$1" "$2" "$CANARY" <<'EOF'
import io, sys, tarfile
case, out, canary = sys.argv[1:4]
def add(tw, name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items():
        setattr(ti, k, v)
    if ti.type == tarfile.REGTYPE:
        ti.size = len(data)
        tw.addfile(ti, io.BytesIO(data))
    else:
        tw.addfile(ti)
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tw:
    if case == "dotdot":
        add(tw, "../../escaped", b"x")
    elif case == "symlink":
        add(tw, "link", type=tarfile.SYMTYPE, linkname=canary)
        add(tw, "link/evil", b"evil")
        add(tw, "rel", type=tarfile.SYMTYPE, linkname="../../../../../../.." + canary)
        add(tw, "rel/evil2", b"evil")
        add(tw, canary + "/abs-name", b"abs")
    elif case == "devices":
        add(tw, "dev/", type=tarfile.DIRTYPE, mode=0o755)
        add(tw, "dev/hostile-null", type=tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
        add(tw, "dev/hostile-sda", type=tarfile.BLKTYPE, devmajor=8, devminor=0, mode=0o600)
    elif case == "hardlink":
        add(tw, "h", type=tarfile.LNKTYPE, linkname=canary + "/passwd")
EOF
}

@test "import: hostile tars are handled as a pull's extraction handles them" {
	CANARY=$TEST_TMP/canary
	mkdir -p "$CANARY"
	echo "root:x:0:0:canary:/root:/bin/sh" >"$CANARY/passwd"
	local before
	before=$(cd "$CANARY" && find . -printf '%p %m %n %s\n' | sort)
	local images
	images=$(image_count)
	hostile_tar dotdot "$TEST_TMP/dotdot.tar"
	run scow import "$TEST_TMP/dotdot.tar" h:dotdot
	assert_failure 1
	assert_output_contains '".."'
	[ "$(image_count)" -eq "$images" ]
	[ ! -e "$TEST_TMP/escaped" ]
	[ ! -e "$TEST_ROOT/escaped" ]
	[ ! -e /escaped ]
	hostile_tar hardlink "$TEST_TMP/hardlink.tar"
	run scow import "$TEST_TMP/hardlink.tar" h:hardlink
	assert_failure 1
	[ "$(image_count)" -eq "$images" ]
	# writes through symlinks and absolute names land inside the layer
	hostile_tar symlink "$TEST_TMP/symlink.tar"
	run scow import "$TEST_TMP/symlink.tar" h:symlink
	assert_success
	scow create --name hs h:symlink true >/dev/null
	scow export hs | tar -tf - | sort >"$TEST_TMP/names"
	grep -qx "${CANARY#/}/evil" "$TEST_TMP/names"
	grep -qx "${CANARY#/}/evil2" "$TEST_TMP/names"
	grep -qx "${CANARY#/}/abs-name" "$TEST_TMP/names"
	# device nodes are made (rootful), inside the layer only
	hostile_tar devices "$TEST_TMP/devices.tar"
	run scow import "$TEST_TMP/devices.tar" h:devices
	assert_success
	scow create --name hd h:devices true >/dev/null
	scow export -o "$TEST_TMP/dev.tar" hd
	tar -tvf "$TEST_TMP/dev.tar" | grep -q '^crw-rw-rw- 0/0 *1,3 .* dev/hostile-null$'
	tar -tvf "$TEST_TMP/dev.tar" | grep -q '^brw------- 0/0 *8,0 .* dev/hostile-sda$'
	assert_equal "$(cd "$CANARY" && find . -printf '%p %m %n %s\n' | sort)" "$before"
	assert_store_clean
}

# ---- commit ---------------------------------------------------------------------------

@test "commit: added, changed and deleted files, whiteouts and opaque dirs; the image runs" {
	scow pull -q "$LIMG" >/dev/null
	scow run --name c1 "$LIMG" sh -c '
		echo added >/fx/added
		echo changed >>/fx/mtime
		rm /fx/l3 /fx/hl/b
		rm -rf /fx/d && mkdir /fx/d && echo n >/fx/d/n'
	run scow commit c1 committed:1
	assert_success
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	assert_equal "$output" "$(scow images -q --no-trunc committed:1)"
	run scow run --rm committed:1 sh -c 'cat /fx/added; tail -1 /fx/mtime; ls /fx/d; ls /fx/l3 /fx/hl/b 2>&1 | wc -l; ls /fx/gone 2>/dev/null | wc -l'
	assert_success
	assert_equal "$output" "added
changed
n
2
0"
	# the new layer: OCI whiteouts, the opaque marker, no stubs of scow's
	assert_equal "$(scow image inspect -f '{{len .RootFS.Layers}}' committed:1)" \
		$(($(scow image inspect -f '{{len .RootFS.Layers}}' "$LIMG") + 1))
	layer_tar committed:1 "$(top_diff_id committed:1)" | tar -tf - | sort >"$TEST_TMP/names"
	grep -qx fx/.wh.l3 "$TEST_TMP/names"
	grep -qx fx/hl/.wh.b "$TEST_TMP/names"
	grep -qx fx/d/.wh..wh..opq "$TEST_TMP/names"
	grep -qx fx/added "$TEST_TMP/names"
	! grep -q '^etc/' "$TEST_TMP/names" || false
	! grep -qE '^(dev|proc|sys)/' "$TEST_TMP/names" || false
	# the committed layer keeps its diff_id through save
	assert_equal "sha256:$(layer_tar committed:1 "$(top_diff_id committed:1)" | sha256sum | cut -d' ' -f1)" \
		"$(top_diff_id committed:1)"
}

@test "commit: scow's /etc stubs are left out, the container's /etc changes kept" {
	# busybox lacks /etc/hosts etc.: scow made them in the upper dir
	scow run --name c1 "$IMG" sh -c 'touch /etc/new; echo x >/new-top'
	[ -f "$TEST_ROOT/containers/$(scow inspect -f '{{.Id}}' c1)/upper/etc/hosts" ]
	scow commit c1 stubs:1 >/dev/null
	layer_tar stubs:1 "$(top_diff_id stubs:1)" | tar -tf - | sort >"$TEST_TMP/names"
	assert_equal "$(cat "$TEST_TMP/names")" "etc/
etc/new
new-top"
	# a container that changed nothing: no layer, an empty_layer history entry
	scow run --name c2 "$IMG" true
	scow commit c2 same:1 >/dev/null
	assert_equal "$(scow image inspect -f '{{json .RootFS.Layers}}' same:1)" \
		"$(scow image inspect -f '{{json .RootFS.Layers}}' "$IMG")"
	assert_equal "$(scow history --format '{{.CreatedBy}}|{{.Size}}' same:1 | head -1)" "true|0B"
	run scow diff c2
	assert_equal "$output" ""
	# never started: no upper dir at all
	scow create --name c3 "$IMG" true >/dev/null
	scow commit c3 created:1 >/dev/null
	assert_equal "$(scow image inspect -f '{{json .RootFS.Layers}}' created:1)" \
		"$(scow image inspect -f '{{json .RootFS.Layers}}' "$IMG")"
}

@test "commit: -c, -m and -a show in inspect and history, and take effect" {
	scow run --name c1 -e FROMRUN=1 "$IMG" sh -c 'echo hi >/x'
	run scow container commit -a 'A. Author <a@example.com>' -m 'the message' \
		-c 'CMD ["cat","/x"]' -c 'ENV A=b' -c 'LABEL l=1' c1 withchg:1
	assert_success
	assert_equal "$(scow run --rm withchg:1)" hi
	assert_equal "$(scow run --rm withchg:1 sh -c 'echo $A$FROMRUN')" b1
	assert_equal "$(scow image inspect -f '{{.Author}}|{{json .Config.Cmd}}|{{index .Config.Labels "l"}}' withchg:1)" \
		'A. Author <a@example.com>|["cat","/x"]|1'
	assert_equal "$(scow history --no-trunc --format '{{.CreatedBy}}|{{.Comment}}' withchg:1 | head -1)" \
		"sh -c echo hi >/x|the message"
	# without -c the container's command is the image's
	scow commit c1 plain:1 >/dev/null
	assert_equal "$(scow image inspect -f '{{json .Config.Cmd}}' plain:1)" '["sh","-c","echo hi >/x"]'
	# anonymous volumes become VOLUMEs, named ones do not (Docker's rule)
	scow run --name c2 -v /anon -v named:/named "$IMG" true
	scow commit c2 vols:1 >/dev/null
	assert_equal "$(scow image inspect -f '{{json .Config.Volumes}}' vols:1)" '{"/anon":{}}'
	# a bad change: exit 1, no image
	local images
	images=$(image_count)
	run scow commit -c 'FROM busybox' c1 bad:1
	assert_failure 1
	assert_output_contains "from is not a valid change command"
	run scow commit c1 'Bad:Name'
	assert_failure 1
	run scow commit nosuch
	assert_failure 1
	assert_output_contains "No such container: nosuch"
	[ "$(image_count)" -eq "$images" ]
	assert_store_clean
}

@test "commit: a running container is paused meanwhile and runs on; --pause=false" {
	scow run -d --name c1 "$IMG" sh -c 'echo started >/s; sleep 1000' >/dev/null
	scow exec c1 sh -c 'echo live >/live'
	run scow commit c1 running:1
	assert_success
	assert_equal "$(scow inspect -f '{{.State.Status}}' c1)" running
	assert_equal "$(scow run --rm running:1 cat /s /live)" "started
live"
	run scow commit --pause=false c1 running:2
	assert_success
	assert_equal "$(scow inspect -f '{{.State.Status}}' c1)" running
	# a container the user paused stays paused
	scow pause c1 >/dev/null
	run scow commit c1 running:3
	assert_success
	assert_equal "$(scow inspect -f '{{.State.Status}}' c1)" paused
	scow unpause c1 >/dev/null
}

@test "commit: push the committed image and pull it into a fresh root: the same id" {
	scow run --name c1 "$IMG" sh -c 'echo pushed >/p; rm /bin/ls'
	local id
	id=$(scow commit c1 "$REGISTRY/committed:1")
	run scow push "$REGISTRY/committed:1"
	assert_success
	local other=$TEST_TMP/other
	run "$SCOW" --root "$other/root" --runroot "$other/run" pull -q "$REGISTRY/committed:1"
	assert_success
	assert_equal "$("$SCOW" --root "$other/root" --runroot "$other/run" images -q --no-trunc "$REGISTRY/committed:1")" "$id"
	run "$SCOW" --root "$other/root" --runroot "$other/run" run --rm "$REGISTRY/committed:1" sh -c 'cat /p; ls /bin/ls 2>&1'
	assert_output_contains pushed
	assert_output_contains "No such file"
}
