#!/usr/bin/env bats
# scow build: the Dockerfile fixtures (tests/fixtures/dockerfiles/README.md
# says what each must produce), Docker's classic-builder output, the cache,
# contexts (directory, stdin tar, stdin Dockerfile), ADD archives and URLs,
# context escapes, SOURCE_DATE_EPOCH, builder prune, and podman on the
# other side (isolated: see peers.bash).

bats_require_minimum_version 1.5.0
load helpers
load peers

setup_file() {
	DF=$(dockerfile_fixtures)
	export DF
	start_registry plain --only busybox
	export REGISTRY
	BASE=$REGISTRY/busybox
	export BASE
}

teardown_file() {
	stop_registry plain
	stop_http
	teardown_peers
}

setup() {
	setup_scow
	CTX=$TEST_TMP/ctx
	mkdir -p "$CTX"
}

teardown() {
	local ids
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f $ids >/dev/null 2>&1 || true
	teardown_scow
}

# build ARGS...: scow build with RUN steps off the network unless asked.
build() {
	scow build --network none "$@"
}

# A python http.server on 127.0.0.1 serving $1; sets HTTP (host:port).
start_http() {
	local dir=$1 portfile=$BATS_FILE_TMPDIR/http.port
	rm -f "$portfile"
	(cd "$dir" && exec python3 -c '
import http.server, socketserver, sys
class S(socketserver.TCPServer):
    allow_reuse_address = True
h = http.server.SimpleHTTPRequestHandler
h.log_message = lambda *a: None
with S(("127.0.0.1", 0), h) as s:
    open(sys.argv[1], "w").write(str(s.server_address[1]))
    s.serve_forever()' "$portfile") 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/http.pid"
	local i
	for i in $(seq 100); do
		[[ -s $portfile ]] && break
		sleep 0.05
	done
	HTTP=127.0.0.1:$(cat "$portfile")
}

stop_http() {
	local f=$BATS_FILE_TMPDIR/http.pid
	[[ -f $f ]] || return 0
	kill "$(cat "$f")" 2>/dev/null || true
	rm -f "$f"
}

@test "basic fixture: Docker's step output, the image's config, ENTRYPOINT + CMD, CMD overridden at run" {
	run build --build-arg BASE="$BASE" -t basic-img "$DF/basic"
	assert_success
	assert_equal "${lines[0]}" "Step 1/17 : ARG BASE=busybox"
	assert_equal "${lines[1]}" "Step 2/17 : FROM \${BASE}"
	assert_output_contains "Step 9/17 : RUN mkdir -p /srv/app/state && echo \"\$GREETING\" > /srv/app/state/greeting"
	assert_output_contains " ---> Running in "
	assert_output_contains "Removing intermediate container "
	assert_output_contains "Successfully tagged basic-img:latest"
	[[ "$output" =~ Successfully\ built\ ([0-9a-f]{12}) ]]
	local short=${BASH_REMATCH[1]}
	run scow image inspect --format '{{.Id}}' basic-img
	[[ $output == sha256:$short* ]]
	# the intermediate containers are gone
	run scow ps -a -q
	assert_equal "$output" ""

	run scow run --rm --network none basic-img
	assert_success
	assert_equal "${lines[0]}" "run.sh: default-arg"
	assert_equal "${lines[1]}" "hello from the context"
	run scow run --rm --network none basic-img other
	assert_equal "${lines[0]}" "run.sh: other"

	run scow image inspect --format '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{.Config.WorkingDir}} {{.Config.User}} {{.Config.StopSignal}}' basic-img
	assert_equal "$output" '["/usr/local/bin/run.sh"] ["default-arg"] /srv/app 1000:1000 SIGINT'
	run scow image inspect --format '{{json .Config.ExposedPorts}} {{json .Config.Volumes}}' basic-img
	assert_equal "$output" '{"8080/tcp":{},"9090/udp":{}} {"/srv/app/state":{}}'
	run scow image inspect --format '{{json .Config.Labels}}' basic-img
	assert_equal "$output" '{"maintainer":"tests","org.example.title":"scow basic","org.example.version":"1.0"}'
	run scow image inspect --format '{{json .Config.Healthcheck}}' basic-img
	assert_equal "$output" '{"Interval":30000000000,"Retries":2,"Test":["CMD-SHELL","test -f /srv/app/hello.txt"],"Timeout":3000000000}'
	run scow image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' basic-img
	assert_output_contains "APP_HOME=/srv/app"
	assert_output_contains "GREETING=hello world"
	# history: Docker's created_by texts, empty layers for config steps
	run scow history --no-trunc --format '{{.CreatedBy}}|{{.Size}}' basic-img
	assert_equal "${lines[0]}" '/bin/sh -c #(nop)  CMD ["default-arg"]|0B'
	assert_output_contains '/bin/sh -c #(nop)  EXPOSE 8080/tcp 9090/udp|0B'
	assert_output_contains '/bin/sh -c #(nop)  VOLUME [/srv/app/state]|0B'
	assert_output_contains '/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "test -f /srv/app/hello.txt"] "30s" "3s" "0s" "0s" '"'"'\x02'"'"'}|0B'
	assert_output_contains '/bin/sh -c #(nop) WORKDIR /srv/app'
	assert_output_contains '/bin/sh -c echo exec form > /srv/app/state/exec|10B'
	[[ "$output" =~ /bin/sh\ -c\ \#\(nop\)\ COPY\ file:[0-9a-f]{64}\ in\ ./\ \| ]]
	[[ "$output" =~ /bin/sh\ -c\ \#\(nop\)\ ADD\ dir:[0-9a-f]{64}\ in\ ./data/\ \| ]]
	# the files: modes, owners, mtimes as in the context
	run scow run --rm --network none --entrypoint sh basic-img -c \
		'stat -c "%a %u:%g %n" /usr/local/bin/run.sh /srv/app/hello.txt /srv/app/data/sub/two.txt; cat /srv/app/state/greeting /srv/app/state/exec; stat -c %Y /srv/app/hello.txt'
	assert_equal "${lines[0]}" "755 0:0 /usr/local/bin/run.sh"
	assert_equal "${lines[1]}" "644 0:0 /srv/app/hello.txt"
	assert_equal "${lines[2]}" "644 0:0 /srv/app/data/sub/two.txt"
	assert_equal "${lines[3]}" "hello world"
	assert_equal "${lines[4]}" "exec form"
	assert_equal "${lines[5]}" "$(stat -c %Y "$DF/basic/hello.txt")"
}

@test "multistage fixture: COPY --from by name and index; unused stages not built; --target" {
	run build --build-arg BASE="$BASE" -t ms "$DF/multistage"
	assert_success
	refute_output_contains "this stage must not run"
	run scow run --rm --network none ms
	assert_equal "$output" "part one
part two"
	run scow run --rm --network none ms cat /app/version
	assert_equal "$output" "version=1.2.3"

	run build --build-arg BASE="$BASE" --target tested -t ms-tested "$DF/multistage"
	assert_success
	refute_output_contains "this stage must not run"
	refute_output_contains "COPY --from=builder"
	assert_output_contains "RUN grep -q version=1.2.3 /out/version"
	run scow run --rm --network none ms-tested cat /out/combined.txt
	assert_success
	run build --build-arg BASE="$BASE" --target nosuch "$DF/multistage"
	assert_failure 1
}

@test "onbuild fixture: the parent's triggers run in the child build, after its FROM" {
	run build --build-arg BASE="$BASE" -t scow-onbuild-parent "$DF/onbuild"
	assert_success
	run scow image inspect --format '{{json .Config.OnBuild}}' scow-onbuild-parent
	assert_equal "$output" '["COPY . /app/","RUN ls /app > /app/listing","ARG CHILD_ARG=default","RUN echo \"child arg: $CHILD_ARG\" > /app/child_arg"]'
	run build -f "$DF/onbuild/child.Dockerfile" -t onbuild-child "$DF/onbuild"
	assert_success
	assert_output_contains "# Executing 4 build triggers"
	run scow run --rm --network none onbuild-child
	assert_output_contains "child.txt"
	run scow run --rm --network none onbuild-child cat /app/child_arg
	assert_equal "$output" "child arg: default"
	# the child does not pass the triggers on
	run scow image inspect --format '{{json .Config.OnBuild}}' onbuild-child
	assert_equal "$output" "null"
}

@test "heredoc fixture: RUN and COPY heredocs" {
	run build --build-arg BASE="$BASE" -t hd "$DF/heredoc"
	assert_success
	run scow run --rm --network none hd sh -c 'cat /out/a /out/b /out/copied /out/literal /out/tabs /out/script /out/shebang'
	assert_equal "$output" 'first doc scow
second doc $NAME
copied with scow
literal $NAME
tabs stripped
script heredoc
shebang'
}

@test "dockerignore fixture: patterns and exceptions; excluded sources do not exist" {
	run build --build-arg BASE="$BASE" -t di "$DF/dockerignore"
	assert_success
	run scow run --rm --network none di
	assert_equal "$output" "$(cat "$DF/dockerignore/expected.txt")"
	cp -r "$DF/dockerignore/." "$CTX/"
	printf 'FROM %s\nCOPY secret/key /k\n' "$BASE" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_failure 1
	assert_output_contains "file not found in build context or excluded by .dockerignore"
	# an excluded directory with an exception below it holds only that
	printf 'FROM %s\nCOPY docs /d\nRUN find /d | sort\n' "$BASE" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_success
	assert_output_contains "/d/README.md"
	refute_output_contains "guide.md"
}

@test "args fixture: ARG before FROM, scoping, --build-arg, ENV over ARG; unused build-arg warning" {
	run build --build-arg BASE="$BASE" -t args-img "$DF/args"
	assert_success
	run scow run --rm --network none args-img
	assert_equal "$output" "GLOBAL=global-default LOCAL=local-default FROM_LOCAL=local-default-derived OVERRIDDEN=from-env"
	run build --build-arg BASE="$BASE" --build-arg GLOBAL=given --build-arg LOCAL=mine --build-arg NOPE=1 -t args-img2 "$DF/args"
	assert_success
	assert_output_contains "[Warning] One or more build-args [NOPE] were not consumed"
	run scow run --rm --network none args-img2
	assert_equal "$output" "GLOBAL=given LOCAL=mine FROM_LOCAL=mine-derived OVERRIDDEN=from-env"
	# build args reach RUN, not the image
	run scow image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' args-img2
	refute_output_contains "LOCAL=mine"
	assert_output_contains "SAVED=mine"
	run scow history --no-trunc --format '{{.CreatedBy}}' args-img2
	assert_output_contains "|3 FROM_LOCAL=mine-derived GLOBAL=given LOCAL=mine /bin/sh -c echo"
}

@test "escape fixture: backtick escapes, COPY JSON form with a space" {
	run build --build-arg BASE="$BASE" -t esc "$DF/escape"
	assert_success
	run scow run --rm --network none esc sh -c 'cat /joined; echo "$WINPATH"; cat "/dir with space/hello.txt"'
	assert_equal "$output" 'one two three
C:\Users\scow
hi'
}

@test "ADD: tar archives (gzip, bzip2, xz, zstd) are extracted; other files and COPY are not" {
	mkdir -p "$CTX/src/sub"
	echo one >"$CTX/src/one"
	echo two >"$CTX/src/sub/two"
	tar -C "$CTX/src" -czf "$CTX/a.tar.gz" .
	tar -C "$CTX/src" -cjf "$CTX/a.tar.bz2" one
	tar -C "$CTX/src" -cJf "$CTX/a.tar.xz" sub
	tar -C "$CTX/src" -cf - one | zstd -q >"$CTX/a.tar.zst"
	echo "not a tar" | gzip >"$CTX/plain.gz"
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		ADD a.tar.gz /gz/
		ADD a.tar.bz2 /bz2
		ADD a.tar.xz a.tar.zst /multi/
		ADD plain.gz /p/
		COPY a.tar.gz /copied/
	EOF
	run build -t adds "$CTX"
	assert_success
	run scow run --rm --network none adds sh -c 'cat /gz/one /gz/sub/two /bz2/one /multi/sub/two /multi/one; ls /p; ls /copied'
	assert_equal "$output" "one
two
one
two
one
plain.gz
a.tar.gz"
}

@test "ADD of http URLs: downloaded (0600, named after the URL), not extracted; a 404 fails" {
	mkdir -p "$TEST_TMP/www"
	echo served >"$TEST_TMP/www/file.txt"
	tar -C "$TEST_TMP/www" -czf "$TEST_TMP/www/t.tar.gz" file.txt
	start_http "$TEST_TMP/www"
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		ADD http://$HTTP/file.txt /dl/
		ADD http://$HTTP/t.tar.gz /dl/
		ADD http://$HTTP/file.txt /renamed
	EOF
	run build -t urls "$CTX"
	assert_success
	run scow run --rm --network none urls sh -c 'stat -c "%a %n" /dl/file.txt /dl/t.tar.gz /renamed; cat /renamed'
	assert_equal "$output" "600 /dl/file.txt
600 /dl/t.tar.gz
600 /renamed
served"
	# downloaded again for the cache key: the same content hits, a change misses
	run build -t urls "$CTX"
	assert_equal "$(grep -c 'Using cache' <<<"$output")" 3
	echo changed >"$TEST_TMP/www/file.txt"
	run build -t urls "$CTX"
	assert_success
	refute_output_contains "Using cache"
	run scow run --rm --network none urls cat /renamed
	assert_equal "$output" "changed"
	printf 'FROM %s\nADD http://%s/nosuch /x\n' "$BASE" "$HTTP" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_failure 1
	assert_output_contains "404"
	stop_http
}

@test "USER affects RUN; WORKDIR is created; COPY --chown; COPY --from an image" {
	echo data >"$CTX/f"
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		WORKDIR /made/here
		RUN pwd > /tmp/pwd
		COPY --chown=1234:5678 f /owned/
		COPY --chown=nobody f /byname
		COPY --from=$BASE /bin/busybox /copied-busybox
		USER 1000:1000
		RUN id -u && id -u > /tmp/uid
	EOF
	run build -t user-img "$CTX"
	assert_success
	assert_output_contains "1000"
	run scow run --rm --network none user-img sh -c 'cat /tmp/pwd /tmp/uid; stat -c "%u:%g" /owned /owned/f /byname; test -x /copied-busybox && echo copied'
	assert_equal "$output" "/made/here
1000
1234:5678
1234:5678
65534:65534
copied"
}

@test "cache: a rebuild uses it for every step; a changed file reruns from its COPY on; --no-cache" {
	mkdir -p "$CTX/app"
	echo v1 >"$CTX/app/a"
	echo same >"$CTX/app/b"
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		ENV X=1
		RUN echo first > /first
		COPY app /app
		RUN cat /app/a > /copied
		CMD ["cat", "/copied"]
	EOF
	run build -t cached "$CTX"
	assert_success
	refute_output_contains "Using cache"
	local id1
	id1=$(scow image inspect --format '{{.Id}}' cached)
	run build -t cached "$CTX"
	assert_success
	assert_equal "$(grep -c ' ---> Using cache' <<<"$output")" 5
	refute_output_contains "Running in"
	assert_equal "$(scow image inspect --format '{{.Id}}' cached)" "$id1"
	# mtimes are not in the key (as Docker); contents are
	touch -d '2001-01-01' "$CTX/app/b"
	run build -t cached "$CTX"
	assert_equal "$(grep -c ' ---> Using cache' <<<"$output")" 5
	echo v2 >"$CTX/app/a"
	run build -t cached "$CTX"
	assert_success
	assert_equal "$(grep -c ' ---> Using cache' <<<"$output")" 2
	assert_equal "$(grep -c ' ---> Running in' <<<"$output")" 1
	run scow run --rm --network none cached
	assert_equal "$output" "v2"
	# the cache survives between builds and other contexts: the old content hits again
	echo v1 >"$CTX/app/a"
	run build -t cached "$CTX"
	assert_equal "$(grep -c ' ---> Using cache' <<<"$output")" 5
	run build --no-cache -t cached "$CTX"
	assert_success
	refute_output_contains "Using cache"
	assert_equal "$(grep -c ' ---> Running in' <<<"$output")" 2
}

@test "a failing RUN: exit 1, Docker's message, no tag moved; the container kept as Docker does, gone with --force-rm" {
	printf 'FROM %s\nRUN echo ok > /ok\n' "$BASE" >"$CTX/Dockerfile"
	run build -t keep-me "$CTX"
	assert_success
	local before
	before=$(scow image inspect --format '{{.Id}}' keep-me)
	printf 'FROM %s\nRUN echo ok > /ok\nRUN echo failing && false\nRUN echo never\n' "$BASE" >"$CTX/Dockerfile"
	run build -t keep-me -t new-tag "$CTX"
	assert_failure 1
	assert_output_contains "failing"
	assert_output_contains "The command '/bin/sh -c echo failing && false' returned a non-zero code: 1"
	refute_output_contains "never"
	assert_equal "$(scow image inspect --format '{{.Id}}' keep-me)" "$before"
	run scow image inspect new-tag
	assert_failure
	# Docker's classic builder keeps the failed step's container (--rm is
	# for successful builds)
	run scow ps -a -q
	assert_equal "${#lines[@]}" 1
	scow rm -f "${lines[0]}" >/dev/null
	run build --force-rm -t keep-me "$CTX"
	assert_failure 1
	run scow ps -a -q
	assert_equal "$output" ""
	# --rm=false keeps the intermediate containers of a good build
	printf 'FROM %s\nRUN true\nRUN true\n' "$BASE" >"$CTX/Dockerfile"
	run build --rm=false "$CTX"
	assert_success
	run scow ps -a -q
	assert_equal "${#lines[@]}" 2
}

@test "context escapes are refused: ../, absolute paths and symlinks resolve inside the context" {
	mkdir -p "$TEST_TMP/outside" "$CTX/dir"
	echo SECRET >"$TEST_TMP/outside/secret"
	echo inside >"$CTX/in"
	ln -s "$TEST_TMP/outside/secret" "$CTX/abs-link"
	ln -s ../outside/secret "$CTX/rel-link"
	ln -s ../../../../../../../.. "$CTX/root-link"
	ln -s "$TEST_TMP/outside/secret" "$CTX/dir/evil"
	local src
	for src in ../outside/secret abs-link rel-link "root-link${TEST_TMP}/outside/secret" "$TEST_TMP/outside/secret" 'rel-*'; do
		printf 'FROM %s\nCOPY %s /x\n' "$BASE" "$src" >"$CTX/Dockerfile"
		run build "$CTX"
		assert_failure 1
		refute_output_contains "SECRET"
	done
	printf 'FROM %s\nCOPY ../outside/secret /x\n' "$BASE" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_output_contains "forbidden path outside the build context: ../outside/secret"
	# an absolute source is relative to the context
	printf 'FROM %s\nCOPY /in /x\n' "$BASE" >"$CTX/Dockerfile"
	run build -t abs-in "$CTX"
	assert_success
	# a symlink below a copied directory is copied as a link, never read
	printf 'FROM %s\nCOPY dir /d\nRUN readlink /d/evil; cat /d/evil || true\n' "$BASE" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_success
	assert_output_contains "$TEST_TMP/outside/secret"
	refute_output_contains "SECRET"
	# a symlink source that points at a file inside the context is followed
	ln -s in "$CTX/good-link"
	printf 'FROM %s\nCOPY good-link /g\nRUN cat /g\n' "$BASE" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_success
	assert_output_contains "inside"
}

@test "SOURCE_DATE_EPOCH: the same Dockerfile and context give the same image id" {
	echo data >"$CTX/f"
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		COPY f /f
		RUN echo built > /built && mkdir -p /d/e
		ENV A=b
		WORKDIR /w
	EOF
	local a b c
	a=$(SOURCE_DATE_EPOCH=1700000000 scow build -q --no-cache --network none "$CTX")
	sleep 1.1
	touch "$CTX/f"
	b=$(SOURCE_DATE_EPOCH=1700000000 scow build -q --no-cache --network none "$CTX")
	assert_equal "$a" "$b"
	[[ $a == sha256:* ]]
	run scow image inspect --format '{{.Created}}' "$a"
	assert_equal "$output" "2023-11-14T22:13:20Z"
	run scow run --rm --network none "$a" stat -c %Y /built /d /f
	assert_equal "${lines[0]}" 1700000000
	assert_equal "${lines[1]}" 1700000000
	c=$(scow build -q --no-cache --network none "$CTX")
	[[ $c != "$a" ]]
	# The cache keeps builds with and without it apart: after a build
	# without, one with it (cache allowed) still gives the same id.
	b=$(SOURCE_DATE_EPOCH=1700000000 scow build -q --network none "$CTX")
	assert_equal "$b" "$a"
	c=$(scow build -q --network none "$CTX")
	b=$(SOURCE_DATE_EPOCH=1700000001 scow build -q --network none "$CTX")
	[[ $b != "$a" && $b != "$c" ]]
}

@test "contexts from stdin: a tar (plain or gzip), a Dockerfile alone; -q and --iidfile" {
	echo from-tar >"$CTX/f"
	printf 'FROM %s\nCOPY f /f\nCMD ["cat", "/f"]\n' "$BASE" >"$CTX/Dockerfile"
	run bash -c "tar -C '$CTX' -cf - . | '$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' build -q --network none --iidfile '$TEST_TMP/iid' -t tarctx -"
	assert_success
	[[ $output =~ ^sha256:[0-9a-f]{64}$ ]]
	assert_equal "$(cat "$TEST_TMP/iid")" "$output"
	run scow run --rm --network none tarctx
	assert_equal "$output" "from-tar"
	run bash -c "tar -C '$CTX' -czf - . | '$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' build --network none -t tarctx2 -"
	assert_success
	assert_output_contains "Using cache"
	run bash -c "printf 'FROM %s\nRUN echo dockerfile-on-stdin\n' '$BASE' | '$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' build --network none -"
	assert_success
	assert_output_contains "dockerfile-on-stdin"
	# without a context, COPY has nothing to read
	run bash -c "printf 'FROM %s\nCOPY f /f\n' '$BASE' | '$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' build --network none -"
	assert_failure 1
	# -f - with a context directory
	run bash -c "printf 'FROM %s\nCOPY f /g\n' '$BASE' | '$SCOW' --root '$TEST_ROOT' --runroot '$TEST_RUNROOT' build --network none -f - -t stdin-df '$CTX'"
	assert_success
	run ls "$TEST_ROOT/build-cache/contexts"
	refute_output_contains "ctx-"
}

@test "Dockerfile errors: line numbers, exit 1; bad options exit 125" {
	printf 'FROM %s\nFORM x\n' "$BASE" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_failure 1
	assert_output_contains "line 2"
	assert_output_contains "unknown instruction"
	run build "$TEST_TMP/nosuchdir"
	assert_failure 1
	assert_output_contains "not found"
	printf 'FROM %s\n' "$BASE" >"$CTX/Dockerfile"
	run build --platform linux/s390x "$CTX"
	assert_failure
	assert_output_contains "only the host platform"
	run build --progress fancy "$CTX"
	assert_failure 125
}

@test "--label, RUN --mount=type=cache persists, RUN --mount=type=bind of the context" {
	echo bound >"$CTX/bound.txt"
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		ARG N=0
		RUN --mount=type=cache,target=/var/cache/x echo "run \$N" >> /var/cache/x/log && wc -l < /var/cache/x/log
		RUN --mount=type=bind,target=/ctx cat /ctx/bound.txt > /bound
		RUN --mount=type=tmpfs,target=/scratch touch /scratch/t && test ! -e /var/cache/x/log
	EOF
	run build --label a.b=c -t mounts "$CTX"
	assert_success
	assert_output_contains "Step 6/6 : LABEL a.b=c"
	run scow image inspect --format '{{index .Config.Labels "a.b"}}' mounts
	assert_equal "$output" "c"
	run build --build-arg N=1 -t mounts "$CTX"
	assert_success
	assert_output_contains "2"
	run scow run --rm --network none mounts sh -c 'cat /bound; ls /var/cache/x 2>&1 | wc -l'
	assert_equal "${lines[0]}" "bound"
	assert_equal "${lines[1]}" "0"
}

@test "builder prune: the cache and the intermediate images go, tagged images stay" {
	printf 'FROM %s\nRUN echo a > /a\nENV B=c\n' "$BASE" >"$CTX/Dockerfile"
	run build -t pruned "$CTX"
	assert_success
	local n_before
	n_before=$(scow images -q | wc -l)
	[ "$n_before" -ge 3 ]
	run scow builder prune -f
	assert_success
	assert_output_contains "Deleted build cache objects:"
	assert_output_contains "Total reclaimed space:"
	run scow images -q
	assert_equal "${#lines[@]}" 2 # busybox and pruned
	run scow run --rm --network none pruned cat /a
	assert_equal "$output" "a"
	run build -t pruned "$CTX"
	refute_output_contains "Using cache"
}

@test "an interrupted build leaves a consistent store: no tag, a later build works" {
	printf 'FROM %s\nRUN echo started; sleep 30\n' "$BASE" >"$CTX/Dockerfile"
	"$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" build --network none -t interrupted "$CTX" >"$TEST_TMP/out" 2>&1 &
	local pid=$! i
	for i in $(seq 100); do
		grep -qx started "$TEST_TMP/out" && break
		sleep 0.1
	done
	kill -INT "$pid"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -ne 0 ]
	run scow image inspect interrupted
	assert_failure
	run scow ps -a -q
	[ -z "$output" ] || scow rm -f $output >/dev/null
	# Interrupted while the RUN step is being set up (before its
	# container runs): the build stops too, at the latest after the step.
	printf 'FROM %s\nRUN sleep 2\n' "$BASE" >"$CTX/Dockerfile"
	"$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" build --network none -t interrupted "$CTX" >"$TEST_TMP/out" 2>&1 &
	pid=$!
	for i in $(seq 100); do
		grep -q '^Step 2/2' "$TEST_TMP/out" && break
		sleep 0.01
	done
	kill -INT "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -ne 0 ]
	run scow image inspect interrupted
	assert_failure
	run scow ps -a -q
	[ -z "$output" ] || scow rm -f $output >/dev/null
	printf 'FROM %s\nRUN echo again\n' "$BASE" >"$CTX/Dockerfile"
	run build -t interrupted "$CTX"
	assert_success
}

@test "images built by scow run under podman; images built by podman build run under scow" {
	setup_peers "$BATS_FILE_TMPDIR/peers"
	printf 'FROM %s\nRUN echo scow-built > /marker\nCMD ["cat", "/marker"]\n' "$BASE" >"$CTX/Dockerfile"
	run build -t "$REGISTRY/scowbuilt:1" "$CTX"
	assert_success
	run scow push "$REGISTRY/scowbuilt:1"
	assert_success
	run podman_ run --rm --network none --pull always --tls-verify=false "$REGISTRY/scowbuilt:1"
	assert_success
	assert_output_contains "scow-built"

	mkdir -p "$TEST_TMP/pctx"
	printf 'FROM %s\nRUN echo podman-built > /marker\nCMD ["cat", "/marker"]\n' "$BASE" >"$TEST_TMP/pctx/Dockerfile"
	run podman_ build --tls-verify=false --network none -t "$REGISTRY/podbuilt:1" "$TEST_TMP/pctx"
	assert_success
	run podman_ push --tls-verify=false "$REGISTRY/podbuilt:1"
	assert_success
	run scow run --rm --network none "$REGISTRY/podbuilt:1"
	assert_success
	assert_output_contains "podman-built"
	# and scow builds on top of it
	printf 'FROM %s\nRUN cat /marker\n' "$REGISTRY/podbuilt:1" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_success
	assert_output_contains "podman-built"
}
