#!/usr/bin/env bats
# scow build, the rest: --squash (Docker's legacy one), COPY/ADD --link and
# --chmod, the config-only instructions (MAINTAINER, STOPSIGNAL,
# HEALTHCHECK, SHELL, VOLUME, EXPOSE), the syntax directive, --platform,
# --pull and --progress.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	start_registry plain --only busybox
	export REGISTRY
	BASE=$REGISTRY/busybox
	export BASE
}

teardown_file() {
	stop_registry plain
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

build() {
	scow build --network none "$@"
}

# config IMAGE: the image's config JSON (as `scow save` writes it).
config() {
	local tar=$TEST_TMP/save.tar
	scow save -o "$tar" "$1" || return 1
	python3 - "$tar" <<-'EOF'
		import json, sys, tarfile
		t = tarfile.open(sys.argv[1])
		m = json.load(t.extractfile("manifest.json"))
		print(t.extractfile(m[0]["Config"]).read().decode())
	EOF
}

# jq-less field access: cfgq IMAGE PYTHON-EXPR (c is the config)
cfgq() {
	config "$1" | python3 -c 'import json, sys; c = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

squash_context() {
	mkdir -p "$CTX/tree/sub"
	echo one >"$CTX/one.txt"
	echo a >"$CTX/tree/a"
	echo b >"$CTX/tree/sub/b"
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		RUN echo first > /first && echo temp > /temp && mkdir -p /data/keep && echo k > /data/keep/k
		COPY one.txt /one.txt
		COPY tree /tree/
		RUN rm /temp /bin/vi && rm -rf /home/user && echo second >> /first && ln /first /first-hl
		RUN rm -rf /tree/sub && mkdir /tree/sub && echo new > /tree/sub/n && chmod 700 /data
		RUN rm -rf /usr/sbin && mkdir /usr/sbin && echo only > /usr/sbin/only
		ENV FOO=bar
		LABEL stage=final
		CMD ["cat", "/first"]
	EOF
}

@test "--squash: the build's layers become one on the base's; deletions, opaque dirs, hardlinks kept; history and config; cache" {
	squash_context
	run build -t plain "$CTX"
	assert_success
	run build --squash -t sq "$CTX"
	assert_success
	# every step came from the cache of the plain build
	assert_equal "$(grep -c -- '---> Using cache' <<<"$output")" 9
	assert_output_contains "Successfully tagged sq:latest"
	run scow image inspect -f '{{len .RootFS.Layers}}' plain
	assert_equal "$output" 7
	run scow image inspect -f '{{len .RootFS.Layers}}' sq
	assert_equal "$output" 2
	base_layer=$(scow image inspect -f '{{index .RootFS.Layers 0}}' "$BASE")
	run scow image inspect -f '{{index .RootFS.Layers 0}}' sq
	assert_equal "$output" "$base_layer"
	# the squashed image: what the plain one has, nothing the build removed
	script='for p in /temp /bin/vi /home/user /tree/sub/b /usr/sbin/chroot; do [ -e $p ] && echo "present $p"; done
		cat /first /one.txt /tree/a /tree/sub/n /data/keep/k; ls /tree/sub; ls /usr/sbin; stat -c %a /data
		[ "$(stat -c %i /first)" = "$(stat -c %i /first-hl)" ] && echo hardlinked; echo $FOO; ls /bin/ls'
	run scow run --rm --network none sq sh -c "$script"
	assert_success
	plain_out=$(scow run --rm --network none plain sh -c "$script")
	assert_equal "$output" "$plain_out"
	refute_output_contains present
	assert_equal "${lines[0]}" first
	assert_equal "${lines[1]}" second
	assert_output_contains $'one\na\nnew\nk\nn\nonly\n700\nhardlinked\nbar\n/bin/ls'
	# CMD, ENV, LABEL as built
	run scow run --rm --network none sq
	assert_equal "$output" $'first\nsecond'
	run scow image inspect -f '{{.Config.Labels.stage}} {{json .Config.Env}}' sq
	assert_output_contains 'final ["PATH='
	# history: the plain one's entries, those of the build empty, one more
	sq_id=$(scow image inspect -f '{{.Id}}' sq)
	plain_id=$(scow image inspect -f '{{.Id}}' plain)
	base_id=$(scow image inspect -f '{{.Id}}' "$BASE")
	run cfgq sq '[(h.get("created_by", ""), h.get("empty_layer", False)) for h in c["history"]]'
	assert_success
	hist=$output
	run cfgq plain 'len(c["history"])'
	assert_equal "$output" 10
	run python3 -c '
import ast, sys
h = ast.literal_eval(sys.argv[1])
assert len(h) == 11, h
assert h[0] == ("scow fixture: busybox", False), h[0]
assert all(e for _, e in h[1:10]), h
assert h[10] == ("", False), h[10]
assert "ENV FOO=bar" in h[7][0], h' "$hist"
	assert_success
	run cfgq sq 'c["history"][-1]["comment"]'
	assert_equal "$output" "merge $plain_id to $base_id"
	run cfgq sq 'len(c["rootfs"]["diff_ids"])'
	assert_equal "$output" 2
	# the squashed layer holds whiteouts for what the build removed of the base
	run scow save -o "$TEST_TMP/sq.tar" sq
	assert_success
	layer=$(python3 -c '
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
print(json.load(t.extractfile("manifest.json"))[0]["Layers"][1])' "$TEST_TMP/sq.tar")
	run bash -c "tar -xOf '$TEST_TMP/sq.tar' '$layer' | tar -t | sort"
	assert_success
	assert_output_contains "bin/.wh.vi"
	assert_output_contains "home/.wh.user"
	refute_output_contains ".wh.temp"
	refute_output_contains "usr/sbin/chroot"
	# a rebuild squashes again from the cache: the same layers
	run build --squash -t sq2 "$CTX"
	assert_success
	assert_equal "$(grep -c -- '---> Using cache' <<<"$output")" 9
	run scow image inspect -f '{{json .RootFS.Layers}}' sq sq2
	assert_equal "${lines[0]}" "${lines[1]}"
	# no squash work dir left in the build cache
	run bash -c "ls '$TEST_ROOT/build-cache' | grep squash"
	assert_failure
}

@test "--squash: FROM scratch gives one layer; FROM an earlier stage squashes onto that stage; SOURCE_DATE_EPOCH reproducible" {
	echo x >"$CTX/x"
	cat >"$CTX/Dockerfile" <<-'EOF'
		FROM scratch
		COPY x /a/x
		COPY x /b/x
	EOF
	run build --squash -t scr "$CTX"
	assert_success
	run scow image inspect -f '{{len .RootFS.Layers}}' scr
	assert_equal "$output" 1
	id=$(scow image inspect -f '{{.Id}}' scr)
	run cfgq scr '[h.get("empty_layer", False) for h in c["history"]]'
	assert_equal "$output" "[True, True, False]"
	run cfgq scr 'c["history"][-1]["comment"]'
	assert_output_contains "create new from sha256:"
	run scow save -o "$TEST_TMP/scr.tar" scr
	assert_success
	run bash -c "tar -xOf '$TEST_TMP/scr.tar' --wildcards '*.tar' | tar -t | sort"
	assert_equal "$output" $'a/\na/x\nb/\nb/x'

	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE AS base
		RUN echo base > /base
		FROM base
		RUN echo top > /top
		COPY x /x
	EOF
	run build --squash -t st "$CTX"
	assert_success
	run scow image inspect -f '{{len .RootFS.Layers}}' st
	assert_equal "$output" 3
	run scow run --rm st cat /base /top /x
	assert_equal "$output" $'base\ntop\nx'

	run env SOURCE_DATE_EPOCH=1700000000 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		build -q --network none --squash --no-cache "$CTX"
	assert_success
	first=$output
	run env SOURCE_DATE_EPOCH=1700000000 "$SCOW" --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" \
		build -q --network none --squash --no-cache "$CTX"
	assert_success
	assert_equal "$output" "$first"
}

@test "COPY --link and ADD --link copy as COPY and ADD do (a tar.gz extracted)" {
	mkdir -p "$CTX/tree/sub"
	echo f >"$CTX/f"
	echo a >"$CTX/tree/a"
	echo b >"$CTX/tree/sub/b"
	chmod 0644 "$CTX/f" "$CTX/tree/a" "$CTX/tree/sub/b"
	chmod 0750 "$CTX/tree/sub"
	tar -czf "$CTX/t.tgz" -C "$CTX" tree
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		RUN mkdir /existing && echo old > /existing/old
		COPY --link f /linked/f
		COPY --link tree /linked/tree/
		COPY --link f tree/a /existing/
		ADD --link t.tgz /linked/x/
		ADD --link f /linked/added
	EOF
	run build -t lk "$CTX"
	assert_success
	run scow run --rm lk sh -c 'cd / && find linked existing | sort | xargs stat -c "%a %n"; cat linked/f linked/tree/sub/b linked/x/tree/a existing/old existing/f linked/added'
	assert_success
	assert_equal "$output" "755 existing
644 existing/a
644 existing/f
644 existing/old
755 linked
644 linked/added
644 linked/f
755 linked/tree
644 linked/tree/a
750 linked/tree/sub
644 linked/tree/sub/b
755 linked/x
755 linked/x/tree
644 linked/x/tree/a
750 linked/x/tree/sub
644 linked/x/tree/sub/b
f
b
a
old
f
f"
}

@test "COPY --chmod and ADD --chmod: files and directories get the mode, as BuildKit does; a bad mode fails" {
	mkdir -p "$CTX/tree/sub"
	echo f >"$CTX/f"
	echo a >"$CTX/tree/a"
	echo b >"$CTX/tree/sub/b"
	chmod 0644 "$CTX/f" "$CTX/tree/a" "$CTX/tree/sub/b"
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		COPY --chmod=0600 f /m/f
		COPY --chmod=751 tree /m/tree/
		ADD --chmod=0640 f /m/added
		COPY --link --chmod=0700 --chown=1000:1000 f /m/both
		COPY f /m/plain
	EOF
	run build -t ch "$CTX"
	assert_success
	run scow run --rm ch sh -c 'cd /m && find . | sort | xargs stat -c "%a %u %n"'
	assert_success
	assert_equal "$output" "755 0 .
640 0 ./added
700 1000 ./both
600 0 ./f
644 0 ./plain
751 0 ./tree
751 0 ./tree/a
751 0 ./tree/sub
751 0 ./tree/sub/b"
	printf 'FROM %s\nCOPY --chmod=0999 f /f\n' "$BASE" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_failure 1
	assert_output_contains "chmod"
}

@test "config instructions: MAINTAINER is the Author, STOPSIGNAL, HEALTHCHECK in nanoseconds, VOLUME, EXPOSE; Docker's history texts" {
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		MAINTAINER Jane Doe <jane@example.com>
		STOPSIGNAL SIGQUIT
		HEALTHCHECK --interval=30s --timeout=5s --start-period=1m30s --start-interval=2s --retries=4 CMD wget -q -O- http://localhost/ || exit 1
		VOLUME /data /logs
		VOLUME ["/cache"]
		EXPOSE 80/tcp 443 53/udp
	EOF
	run build -t cfg "$CTX"
	assert_success
	run scow image inspect -f '{{.Author}}|{{.Config.StopSignal}}|{{json .Config.Healthcheck}}' cfg
	assert_success
	assert_equal "$output" 'Jane Doe <jane@example.com>|SIGQUIT|{"Interval":30000000000,"Retries":4,"StartInterval":2000000000,"StartPeriod":90000000000,"Test":["CMD-SHELL","wget -q -O- http://localhost/ || exit 1"],"Timeout":5000000000}'
	run scow image inspect -f '{{json .Config.Volumes}} {{json .Config.ExposedPorts}}' cfg
	assert_equal "$output" '{"/cache":{},"/data":{},"/logs":{}} {"443/tcp":{},"53/udp":{},"80/tcp":{}}'
	run cfgq cfg '"\n".join(h["created_by"] + "|" + h.get("author", "") for h in c["history"][1:])'
	assert_success
	assert_equal "$output" '/bin/sh -c #(nop)  MAINTAINER Jane Doe <jane@example.com>|Jane Doe <jane@example.com>
/bin/sh -c #(nop)  STOPSIGNAL SIGQUIT|Jane Doe <jane@example.com>
/bin/sh -c #(nop)  HEALTHCHECK &{["CMD-SHELL" "wget -q -O- http://localhost/ || exit 1"] "30s" "5s" "1m30s" "2s" '"'"'\x04'"'"'}|Jane Doe <jane@example.com>
/bin/sh -c #(nop)  VOLUME [/data /logs]|Jane Doe <jane@example.com>
/bin/sh -c #(nop)  VOLUME [/cache]|Jane Doe <jane@example.com>
/bin/sh -c #(nop)  EXPOSE 443/tcp 53/udp 80/tcp|Jane Doe <jane@example.com>'
	# a container of it: the stop signal and the volumes
	run scow create --name c1 cfg
	assert_success
	run scow inspect -f '{{.Config.StopSignal}} {{len .Mounts}}' c1
	assert_equal "$output" "SIGQUIT 3"
	scow rm -v c1 >/dev/null
	# HEALTHCHECK NONE and the exec form in a child
	printf 'FROM cfg\nHEALTHCHECK --interval=1m CMD ["/bin/true", "x"]\n' >"$CTX/Dockerfile"
	run build -t cfg2 "$CTX"
	assert_success
	run scow image inspect -f '{{json .Config.Healthcheck}}' cfg2
	assert_equal "$output" '{"Interval":60000000000,"Test":["CMD","/bin/true","x"]}'
	printf 'FROM cfg\nHEALTHCHECK NONE\n' >"$CTX/Dockerfile"
	run build -t cfg3 "$CTX"
	assert_success
	run scow image inspect -f '{{json .Config.Healthcheck}}' cfg3
	assert_equal "$output" '{"Test":["NONE"]}'
	printf 'FROM %s\nHEALTHCHECK --interval=bogus CMD true\n' "$BASE" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_failure 1
}

@test "SHELL: later shell-form RUN, CMD and ENTRYPOINT use it; exec forms do not; the config keeps it" {
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		RUN echo "\$0" > /before
		SHELL ["/bin/sh", "-x", "-c"]
		RUN echo traced > /after
		RUN ["/bin/sh", "-c", "echo \$0 > /exec"]
		SHELL ["/bin/busybox", "ash", "-c"]
		RUN echo "\$0" > /ash
		CMD echo cmd-from-ash
	EOF
	run build -t sh1 "$CTX"
	assert_success
	# sh -x traces the command on stderr, which the build shows
	assert_output_contains "+ echo traced"
	run scow run --rm sh1 cat /before /after /exec /ash
	assert_success
	assert_equal "$output" $'/bin/sh\ntraced\n/bin/sh\nash'
	run scow image inspect -f '{{json .Config.Shell}} {{json .Config.Cmd}}' sh1
	assert_equal "$output" '["/bin/busybox","ash","-c"] ["/bin/busybox","ash","-c","echo cmd-from-ash"]'
	run scow run --rm sh1
	assert_equal "$output" cmd-from-ash
	run cfgq sh1 'c["history"][-2]["created_by"]'
	assert_equal "$output" '/bin/busybox ash -c echo "$0" > /ash'
	printf 'FROM %s\nSHELL /bin/sh -c\n' "$BASE" >"$CTX/Dockerfile"
	run build "$CTX"
	assert_failure 1
	assert_output_contains "SHELL requires the arguments to be in JSON form"
}

@test "the syntax directive is accepted with escape; after an instruction it is a comment" {
	cat >"$CTX/Dockerfile" <<-'EOF'
		# syntax=docker/dockerfile:1.7
		# escape=`
		FROM BASE
		RUN echo a`
		    b > /out
		# syntax=something/else
		RUN cat /out
	EOF
	sed -i "s|^FROM BASE|FROM $BASE|" "$CTX/Dockerfile"
	run build -t syn "$CTX"
	assert_success
	refute_output_contains "syntax"
	run scow run --rm syn cat /out
	assert_equal "$output" "a b"
	# a syntax directive alone says nothing about the rest
	printf '# syntax=docker/dockerfile:1\n' >"$CTX/Dockerfile"
	run build "$CTX"
	assert_failure 1
}

@test "--platform: the host platform builds; another is a clear error (the option 125, FROM --platform 1); BUILDPLATFORM and TARGETARCH" {
	host=linux/$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
	other=linux/arm64
	[[ $host != "$other" ]] || other=linux/amd64
	printf 'FROM %s\nRUN echo hi > /hi\n' "$BASE" >"$CTX/Dockerfile"
	run build --platform "$host" -t p1 "$CTX"
	assert_success
	run build --platform "$other" -t p2 "$CTX"
	assert_failure 125
	assert_output_contains "$other"
	assert_output_contains "only the host platform"
	run scow image inspect p2
	assert_failure
	printf 'FROM --platform=%s %s\nRUN true\n' "$other" "$BASE" >"$CTX/Dockerfile"
	run build -t p3 "$CTX"
	assert_failure 1
	assert_output_contains "platform $other"
	run scow ps -a -q
	assert_equal "$output" ""
	cat >"$CTX/Dockerfile" <<-EOF
		FROM --platform=\$BUILDPLATFORM $BASE
		ARG TARGETPLATFORM
		ARG TARGETARCH
		RUN echo \$TARGETPLATFORM \$TARGETARCH > /p
	EOF
	run build -t p4 "$CTX"
	assert_success
	run scow run --rm p4 cat /p
	assert_equal "$output" "$host ${host#linux/}"
}

@test "--pull: a base tag that changed in the registry is pulled again; without it the local image is used" {
	repo=$REGISTRY/pullbase-$BATS_TEST_NUMBER-$$
	printf 'FROM %s\nRUN echo v1 > /version\n' "$BASE" >"$CTX/Dockerfile"
	run build -t "$repo:latest" "$CTX"
	assert_success
	run scow push "$repo:latest"
	assert_success
	scow rmi "$repo:latest" >/dev/null
	printf 'FROM %s\nRUN cat /version > /seen\n' "$repo" >"$CTX/app.Dockerfile"
	run build -f "$CTX/app.Dockerfile" -t app "$CTX"
	assert_success
	assert_output_contains "Pulling from"
	run scow run --rm app cat /seen
	assert_equal "$output" v1
	# v2 goes to the same tag from another store
	other_root=$TEST_TMP/other
	printf 'FROM %s\nRUN echo v2 > /version\n' "$BASE" >"$CTX/v2.Dockerfile"
	run "$SCOW" --root "$other_root/root" --runroot "$other_root/run" build --network none \
		-f "$CTX/v2.Dockerfile" -t "$repo:latest" "$CTX"
	assert_success
	run "$SCOW" --root "$other_root/root" --runroot "$other_root/run" push "$repo:latest"
	assert_success
	# without --pull: the local base, every step from the cache
	run build -f "$CTX/app.Dockerfile" -t app "$CTX"
	assert_success
	refute_output_contains "Pulling from"
	assert_output_contains "Using cache"
	run scow run --rm app cat /seen
	assert_equal "$output" v1
	# --pull: the new base, so the RUN step runs again
	run build --pull -f "$CTX/app.Dockerfile" -t app "$CTX"
	assert_success
	assert_output_contains "Pulling from"
	assert_output_contains "Downloaded newer image for $repo:latest"
	refute_output_contains "Using cache"
	run scow run --rm app cat /seen
	assert_equal "$output" v2
	rm -rf "$other_root"
}

@test "--progress plain: the steps and each RUN's output, stdout and stderr; a bad value exits 125" {
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		RUN echo to-stdout && echo to-stderr >&2
		ENV X=1
	EOF
	run --separate-stderr build --progress plain "$CTX"
	assert_success
	assert_equal "${lines[0]}" "Step 1/3 : FROM $BASE"
	assert_output_contains $'Step 2/3 : RUN echo to-stdout && echo to-stderr >&2\n ---> Running in '
	assert_output_contains "to-stdout"
	assert_output_contains "Step 3/3 : ENV X=1"
	assert_output_contains "Successfully built "
	[[ $stderr == *to-stderr* ]] || [[ $output == *to-stderr* ]]
	run build --progress tty -q "$CTX"
	assert_success
	[[ $output == sha256:* ]]
	run build --progress bogus "$CTX"
	assert_failure 125
	assert_output_contains "bogus"
}
