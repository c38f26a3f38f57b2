#!/usr/bin/env bats
# scow build of the seeds' kinds of Dockerfile (nginx-, Python- and
# Tomcat-like: tests/fixtures/dockerfiles/debian-*) FROM a debootstrap
# Debian (the `debian` fixture image: bookworm minbase, no network inside
# the containers), and the results run.
#
# The Debian image comes from `images.sh build-debian`, which reuses the
# bench image's debootstrap (cached in tests/fixtures/cache; the first
# build downloads from Debian's archive, about a minute).

bats_require_minimum_version 1.5.0
load helpers


setup_file() {
	DF=$(dockerfile_fixtures)
	export DF
	if ! "$FIXTURES/images.sh" build-debian >"$BATS_FILE_TMPDIR/debian.log" 2>&1; then
		cat "$BATS_FILE_TMPDIR/debian.log" >&2
		echo "the debian fixture could not be built (debootstrap)" >&2
		return 1
	fi
	start_registry plain --only debian
	export REGISTRY
	DEBIAN=$REGISTRY/debian:bookworm
	export DEBIAN
}

teardown_file() {
	stop_registry plain
}

setup() {
	setup_scow
	CTX=$TEST_TMP/ctx
}

teardown() {
	local ids
	ids=$(scow ps -a -q --no-trunc 2>/dev/null || true)
	[ -z "$ids" ] || scow rm -f $ids >/dev/null 2>&1 || true
	teardown_scow
}

# build ARGS...: RUN steps off the network, FROM the Debian image.
build() {
	scow build --network none --build-arg BASE="$DEBIAN" "$@"
}

# context NAME: a private copy of the fixture's context in $CTX.
context() {
	cp -a "$DF/$1" "$CTX"
}

@test "debian web server (nginx-like): system user, WORKDIR, config, EXPOSE, STOPSIGNAL, USER; serves on its published port" {
	context debian-web
	run build -t tinyweb "$CTX"
	assert_success
	assert_output_contains "Successfully tagged tinyweb:latest"
	run scow image inspect -f '{{.Config.User}}|{{.Config.WorkingDir}}|{{json .Config.ExposedPorts}}|{{.Config.StopSignal}}|{{json .Config.Cmd}}' tinyweb
	assert_equal "$output" 'tinyweb|/usr/share/tinyweb/html|{"8080/tcp":{}}|SIGQUIT|["tinyweb","-c","/etc/tinyweb/tinyweb.conf"]'
	run scow run --rm tinyweb sh -c 'id; pwd; ls; stat -c "%U %a" /var/log/tinyweb /usr/local/sbin/tinyweb; cat /etc/tinyweb/perl-version'
	assert_success
	assert_equal "${lines[0]}" "uid=101(tinyweb) gid=101(tinyweb) groups=101(tinyweb)"
	assert_equal "${lines[1]}" /usr/share/tinyweb/html
	assert_equal "${lines[2]}" css
	assert_equal "${lines[3]}" index.html
	assert_equal "${lines[4]}" "tinyweb 755"
	assert_equal "${lines[5]}" "root 755"
	[[ ${lines[6]} == 5.36* ]]

	run scow run -d --name web1 -p 127.0.0.1::8080 tinyweb
	assert_success
	hostport=$(scow port web1 8080/tcp)
	[[ $hostport == 127.0.0.1:* ]]
	local i body=""
	for i in $(seq 100); do
		body=$(curl -fsS "http://$hostport/" 2>/dev/null) && break
		sleep 0.1
	done
	assert_equal "$body" "$(cat "$DF/debian-web/site/index.html")"
	run curl -sS -D - -o /dev/null "http://$hostport/css/site.css"
	assert_output_contains "HTTP/1.0 200 OK"
	assert_output_contains "Server: tinyweb"
	assert_output_contains "Content-Type: text/css"
	run curl -s -o /dev/null -w '%{http_code}' "http://$hostport/missing.html"
	assert_equal "$output" 404
	# the log the server writes as its user
	run scow exec web1 cat /var/log/tinyweb/access.log
	assert_success
	assert_equal "$output" $'GET /index.html 200\nGET /css/site.css 200\nGET /missing.html 404'
	# stop sends the image's STOPSIGNAL: the graceful shutdown
	run scow stop web1
	assert_success
	run scow logs web1
	assert_output_contains "tinyweb: serving /usr/share/tinyweb/html on port 8080 as uid 101"
	assert_output_contains "tinyweb: graceful shutdown"
	run scow inspect -f '{{.State.ExitCode}}' web1
	assert_equal "$output" 0
	scow rm web1 >/dev/null
}

@test "debian Python-like app: ARG/ENV, requirements, .dockerignore, multi-stage COPY --from, a non-root user; the cache after an app change" {
	context debian-python
	mkdir -p "$CTX/app/__pycache__" "$CTX/app/pkg/__pycache__" "$CTX/.git"
	echo bytecode >"$CTX/app/__pycache__/main.cpython-311.pyc"
	echo bytecode >"$CTX/app/pkg/__pycache__/__init__.cpython-311.pyc"
	echo bytecode >"$CTX/app/stray.pyc"
	echo 'ref: refs/heads/main' >"$CTX/.git/HEAD"
	run build --build-arg APP_VERSION=1.4.2 -t pyapp "$CTX"
	assert_success
	run scow run --rm pyapp
	assert_success
	assert_equal "$output" "app 1.4.2 as app (1000) in /home/app
files: ./VERSION ./main.py ./pkg/__init__.py 
flask=3.0.0
gunicorn=21.2.0
requests=2.31.0"
	run scow run --rm pyapp sh -c 'echo $PATH; echo $PYTHONUNBUFFERED; cat installed.txt manifest.txt; stat -c "%U %n" app app/main.py /opt/venv/bin/app-run; ls / | grep -x build || echo no-build-dir'
	assert_success
	assert_equal "${lines[0]}" "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	assert_equal "${lines[1]}" 1
	assert_equal "${lines[2]}" "flask-3.0.0.dist-info"
	assert_equal "${lines[5]}" "app/VERSION"
	assert_equal "${lines[6]}" "app/main.py"
	assert_equal "${lines[7]}" "app/pkg/__init__.py"
	assert_equal "${lines[8]}" "app app"
	assert_equal "${lines[9]}" "app app/main.py"
	assert_equal "${lines[10]}" "root /opt/venv/bin/app-run"
	assert_equal "${lines[11]}" "no-build-dir"
	run scow image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}} {{.Config.User}}' pyapp
	assert_equal "$output" "1.4.2 app"
	# only the app changed: the requirements step comes from the cache
	echo '# changed' >>"$CTX/app/main.py"
	run build --build-arg APP_VERSION=1.4.2 -t pyapp "$CTX"
	assert_success
	run awk '/^Step [0-9]+\/[0-9]+ : RUN set -e; /{s=1; next} s && /^ --->/{print; s=0}' <<<"$output"
	assert_equal "$output" " ---> Using cache"
	run scow run --rm pyapp cat app/main.py
	assert_output_contains "# changed"
	# a requirement that is not pinned fails the build in its RUN step
	echo 'numpy==1.26.0' >>"$CTX/requirements.txt"
	run build -t pyapp-bad "$CTX"
	assert_failure 1
	assert_output_contains "numpy not pinned"
	assert_output_contains "returned a non-zero code: 1"
	run scow image inspect pyapp-bad
	assert_failure
}

@test "debian Tomcat-like server: ADD of a tar.gz extracts, ENV PATH, ENTRYPOINT + CMD (overridden), USER owning its dirs" {
	context debian-java
	tar -czf "$CTX/apache-tomcat-lite.tar.gz" --owner=0 --group=0 --numeric-owner \
		--transform 's,^tomcat,apache-tomcat-lite,' -C "$CTX" tomcat
	run build -t tomcat "$CTX"
	assert_success
	run scow image inspect -f '{{json .Config.Entrypoint}}|{{json .Config.Cmd}}|{{.Config.User}}|{{.Config.WorkingDir}}|{{json .Config.ExposedPorts}}' tomcat
	assert_equal "$output" '["catalina.sh"]|["run"]|tomcat|/usr/local/tomcat|{"8080/tcp":{}}'
	run scow image inspect -f '{{range .Config.Env}}{{println .}}{{end}}' tomcat
	assert_output_contains "PATH=/usr/local/tomcat/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	assert_output_contains "TOMCAT_VERSION=10.1.16"
	# the default command: catalina.sh run
	run scow run --rm tomcat
	assert_success
	assert_equal "$output" 'Using CATALINA_HOME:   /usr/local/tomcat
Server version:        Apache Tomcat-lite/10.1.16
Running as:            tomcat
Deploying web application directory [/usr/local/tomcat/webapps/ROOT]
Deploying web application directory [/usr/local/tomcat/webapps/app]
Starting ProtocolHandler ["http-nio-8080"]
Server startup complete'
	# CMD overridden, the ENTRYPOINT kept
	run scow run --rm tomcat version
	assert_success
	assert_equal "$output" "Server version: Apache Tomcat-lite/10.1.16"
	run scow run --rm tomcat bogus
	assert_failure 1
	assert_output_contains "Usage: catalina.sh"
	run scow run --rm --entrypoint sh tomcat -c 'command -v catalina.sh; stat -c "%U:%G %a %n" logs conf conf/server.xml webapps/app/index.html lib/servlet-api.jar; ls /usr/local; ls webapps'
	assert_success
	assert_equal "$output" "/usr/local/tomcat/bin/catalina.sh
tomcat:tomcat 755 logs
root:tomcat 750 conf
root:tomcat 644 conf/server.xml
tomcat:tomcat 644 webapps/app/index.html
root:root 644 lib/servlet-api.jar
bin
etc
games
include
lib
man
sbin
share
src
tomcat
ROOT
app"
	# a build argument changes the version from its step on
	run build --build-arg TOMCAT_MAJOR=9 -t tomcat9 "$CTX"
	assert_success
	run scow run --rm tomcat9 version
	assert_equal "$output" "Server version: Apache Tomcat-lite/9.1.16"
}

@test "debian: --squash of a build that changes the distribution (dpkg, users, removed docs) gives base + 1 layer that runs the same" {
	mkdir -p "$CTX"
	cat >"$CTX/Dockerfile" <<-'EOF'
		ARG BASE
		FROM ${BASE}
		RUN useradd --create-home builder && rm -rf /usr/share/doc/* /usr/share/man
		RUN dpkg-query -W -f='${Package}\n' > /installed && rm /usr/bin/tac
		USER builder
		RUN echo hi > ~/note
	EOF
	run build -t deb-plain "$CTX"
	assert_success
	run build --squash -t deb-sq "$CTX"
	assert_success
	run scow image inspect -f '{{len .RootFS.Layers}}' deb-plain
	assert_equal "$output" 4
	run scow image inspect -f '{{len .RootFS.Layers}}' deb-sq
	assert_equal "$output" 2
	script='id -un; cat ~/note; ls /usr/share/doc | wc -l; test -e /usr/share/man || echo no-man; test -e /usr/bin/tac || echo no-tac; grep -c . /installed; dpkg-query -W -f="\${Status}\n" perl-base'
	run scow run --rm deb-sq sh -c "$script"
	assert_success
	sq_out=$output
	assert_equal "${lines[0]}" builder
	assert_equal "${lines[1]}" hi
	assert_equal "${lines[2]}" 0
	assert_equal "${lines[3]}" no-man
	assert_equal "${lines[4]}" no-tac
	[[ ${lines[5]} -gt 50 ]]
	assert_equal "${lines[6]}" "install ok installed"
	run scow run --rm deb-plain sh -c "$script"
	assert_equal "$output" "$sq_out"
}
