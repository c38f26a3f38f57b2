#!/usr/bin/env bats
# images, tag, rmi, inspect, history, image prune: Docker's output and rules.

load helpers

setup_file() {
	start_registry plain --only busybox,layers
	export REGISTRY
}

teardown_file() {
	stop_registry plain
}

setup() {
	setup_scow
	scow pull -q "$REGISTRY/busybox:latest" >/dev/null
}

teardown() {
	teardown_scow
}

@test "images: Docker's columns, -q, --no-trunc, --digests, --format, json" {
	run scow images
	assert_success
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
	[[ "${lines[1]}" =~ ^$REGISTRY/busybox\ +latest\ +[0-9a-f]{12}\ +[0-9]+\ (years|months|weeks|days)\ ago\ +[0-9.]+MB$ ]]
	# tabwriter: columns start where the header's do
	hdr=${lines[0]%%TAG*}
	[ "${#hdr}" -eq $((${#REGISTRY} + 8 + 3)) ]
	id=$(scow images -q)
	[[ "$id" =~ ^[0-9a-f]{12}$ ]]
	run scow images --no-trunc --format '{{.ID}}'
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	run scow images --digests
	[[ "${lines[0]}" =~ DIGEST ]]
	[[ "${lines[1]}" =~ sha256:[0-9a-f]{64} ]]
	run scow images --format 'table {{.Repository}}\t{{.Tag}}'
	[[ "${lines[0]}" =~ ^REPOSITORY\ +TAG$ ]]
	run scow images --format json
	echo "$output" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); assert d["Tag"]=="latest", d'
	run scow images "$REGISTRY/busybox:latest" -q
	[ "$output" = "$id" ]
	run scow images "$REGISTRY/nothere"
	[ "${#lines[@]}" -eq 1 ]
}

@test "images filters: reference, dangling, label, before/since; bad filters fail" {
	scow pull -q "$REGISTRY/layers:oci" >/dev/null
	run scow images --filter "reference=*/layers" --format '{{.Tag}}'
	assert_equal "$output" "oci"
	run scow images --filter label=scow.fixture=layers --format '{{.Repository}}'
	assert_equal "$output" "$REGISTRY/layers"
	run scow images --filter dangling=true -q
	assert_equal "$output" ""
	run scow images --filter bogus=1
	assert_failure
	assert_output_contains "invalid filter 'bogus'"
}

@test "tag, then rmi untags first and deletes with the last name" {
	id=$(scow images -q)
	run scow tag "$REGISTRY/busybox" mine/box:v1
	assert_success
	run scow images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	assert_output_contains "mine/box:v1 $id"
	run scow rmi "$id"
	assert_failure 1
	assert_output_contains "image is referenced in multiple repositories"
	run scow rmi mine/box:v1
	assert_success
	assert_equal "$output" "Untagged: mine/box:v1"
	[ "$(layer_count)" -eq 1 ]
	run scow rmi "$REGISTRY/busybox"
	assert_success
	assert_output_contains "Untagged: $REGISTRY/busybox:latest"
	assert_output_contains "Untagged: $REGISTRY/busybox@sha256:"
	assert_output_contains "Deleted: sha256:"
	[ "$(image_count)" -eq 0 ]
	[ "$(layer_count)" -eq 0 ]
	run scow rmi nothere
	assert_failure 1
	assert_output_contains "No such image: nothere"
	run scow tag nothere x
	assert_failure
	run scow tag "$id" 'Bad/Name'
	assert_failure
	assert_output_contains "invalid reference format"
}

@test "rmi keeps layers another image still uses; rmi -f removes every tag" {
	scow pull -q "$REGISTRY/layers:oci" >/dev/null
	[ "$(layer_count)" -eq 4 ]
	scow tag "$REGISTRY/layers:oci" other:1
	run scow rmi -f "$(scow images -q "$REGISTRY/layers:oci")"
	assert_success
	assert_output_contains "Untagged: other:1"
	# the busybox layer is shared with busybox:latest
	[ "$(layer_count)" -eq 1 ]
	[ -x "$(scow image inspect -f '{{.GraphDriver.Data.UpperDir}}' "$REGISTRY/busybox")/bin/busybox" ]
}

@test "inspect: Docker's shape, --format, short ids, digests" {
	run scow image inspect "$REGISTRY/busybox"
	assert_success
	echo "$output" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert isinstance(d, list) and len(d) == 1
i = d[0]
for k in ("Id", "RepoTags", "RepoDigests", "Created", "Config", "Architecture", "Os", "Size", "RootFS", "GraphDriver"):
    assert k in i, k
assert i["Config"]["Cmd"] == ["sh"], i["Config"]
assert i["Config"]["Entrypoint"] is None
assert i["RootFS"]["Type"] == "layers"
'
	id=$(scow images -q)
	run scow inspect -f '{{.Config.Cmd}} {{index .RepoTags 0}}' "$id"
	assert_equal "$output" "[sh] $REGISTRY/busybox:latest"
	digest=$(scow image inspect -f '{{index .RepoDigests 0}}' "$REGISTRY/busybox")
	run scow image inspect -f '{{.Id}}' "$digest"
	assert_success
	[[ "$output" == sha256:$id* ]]
	# Docker's words: the generic inspect looks for any object
	run scow inspect nothere
	assert_failure 1
	assert_output_contains "No such object: nothere"
	run scow image inspect nothere
	assert_failure 1
	assert_output_contains "No such image: nothere"
}

@test "history lists the config's history newest first" {
	run scow history "$REGISTRY/busybox"
	assert_success
	[[ "${lines[0]}" =~ ^IMAGE\ +CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]]
	[[ "${lines[1]}" =~ ^[0-9a-f]{12}\  ]]
	run scow history -q "$REGISTRY/busybox"
	[[ "${lines[0]}" =~ ^[0-9a-f]{12}$ ]]
}

@test "image prune removes dangling images; -a removes all unused" {
	scow pull -q "$REGISTRY/layers:oci" >/dev/null
	scow tag "$REGISTRY/layers:oci" "$REGISTRY/busybox:latest"
	# busybox's image is now dangling (its tag moved)
	run scow images --filter dangling=true -q
	[ "${#lines[@]}" -eq 1 ]
	run scow image prune -f
	assert_success
	assert_output_contains "Deleted Images:"
	assert_output_contains "deleted: sha256:"
	assert_output_contains "Total reclaimed space:"
	[ "$(image_count)" -eq 1 ]
	run scow image prune -f -a
	assert_success
	[ "$(image_count)" -eq 0 ]
	[ "$(layer_count)" -eq 0 ]
	echo n | scow image prune >/dev/null
}

@test "help, version and usage errors" {
	run scow --help
	assert_success
	assert_output_contains "Usage:  scow [OPTIONS] COMMAND"
	run scow pull --help
	assert_success
	assert_output_contains "Usage:  scow pull [OPTIONS] NAME[:TAG|@DIGEST]"
	assert_output_contains "--platform string"
	run scow image --help
	assert_success
	assert_output_contains "ls"
	run scow version
	assert_success
	assert_output_contains "Version:"
	run scow version --format '{{.Client.Version}} {{.Client.Os}}'
	assert_success
	[[ $output =~ ^[0-9]+\.[0-9]+\.[0-9]+\ linux$ ]]
	run scow version -f '{{json .Server}}'
	assert_equal "$output" "null"
	run scow pull
	assert_failure 125
	assert_output_contains '"scow pull" requires exactly 1 argument.'
	run scow images --bogus
	assert_failure 125
	assert_output_contains "unknown flag: --bogus"
	run scow nosuchcommand
	assert_failure 125
	run scow --log-level nope images
	assert_failure 125
}
