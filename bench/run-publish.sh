#!/usr/bin/env bash
# run-publish.sh builds the examples/backplane acme dist once, signed with
# a throwaway key, starts local servers on 127.0.0.1 (nginx with WebDAV
# PUT/DELETE and Basic auth, as the tests run it, and `aptly api serve`)
# and publishes the dist with `packyard publish` to one target of each
# type: http, yum, apt and rudder on nginx, aptly through its API, a
# file:// download area, and oci on Debian's docker-registry (the two
# linux targets under one index, on a stand-in two-platform base that
# bench/cmd/ocibase pushes there first). It then publishes the same dist
# again.
#
# It prints, per target and run, the wall time, requests and bytes sent
# and files uploaded (packyard's own table), and the requests the servers
# saw in the second run (nginx's access log, aptly's request log), and
# fails unless that run uploaded nothing: no PUT on nginx, no upload to
# aptly, no file written under file://, only reads of the indexes and
# the packages' HEADs (and aptly's publish-point update, by design).
#
# Usage: bench/run-publish.sh
#
# Needs: go, nginx (nginx-light), aptly, createrepo_c, dpkg-scanpackages,
# apt-ftparchive, gpg, docker-registry, and what the example's
# build needs. Everything is written under one temporary directory, removed
# on exit, and the servers listen on 127.0.0.1 only and are stopped on
# exit. Not part of go test.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)

for tool in go nginx aptly createrepo_c dpkg-scanpackages apt-ftparchive gpg docker-registry; do
	command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
		echo "$0: $tool not found" >&2
		exit 2
	}
done
nginx=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d "${TMPDIR:-/tmp}/publishbench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	gpgconf --homedir "$work/gnupg" --kill all 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# free_port prints a TCP port on 127.0.0.1 that nothing listens on now,
# from 20000-39999 (clear of the ports other tools here use).
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	echo "$0: no free port found" >&2
	exit 1
}

# wait_port PORT: until something listens there (10 s at most).
wait_port() {
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "$0: nothing listens on 127.0.0.1:$1" >&2
	exit 1
}

echo "== building packyard into $work/bin" >&2
(cd "$repo" && go build -o "$work/bin/packyard" ./cmd/packyard)
# The example's pre commands run `packyard codegen`.
export PATH=$work/bin:$PATH NO_COLOR=1

# A throwaway signing key without a passphrase: it signs the build and
# the indexes packyard writes, and aptly signs its publication with it.
export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch -q --passphrase '' --quick-gen-key "Packyard Bench <bench@packyard.example>" rsa2048 sign never 2>/dev/null
gpg --batch -q --armor --export-secret-keys >"$work/key.asc"

echo "== building the acme dist once" >&2
dist=$work/dist
PACKYARD_NO_CACHE=1 packyard build --source "$repo/examples/backplane" --build acme --version 0.26.0acme \
	--out "$dist" --key-file "$work/key.asc" >"$work/build.log" 2>&1 || {
	tail -n 30 "$work/build.log" >&2
	exit 1
}

echo "== starting nginx and aptly on 127.0.0.1" >&2
user=uploader pass=bench-Pa55
mkdir -p "$work/nginx/root" "$work/nginx/tmp" "$work/nginx/logs"
echo "$user:{PLAIN}$pass" >"$work/nginx/htpasswd"
nport=$(free_port)
cat >"$work/nginx/nginx.conf" <<EOF
master_process off;
daemon off;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log info;
events { worker_connections 64; }
http {
  log_format bench '\$request_method \$status \$request_length \$uri';
  access_log $work/nginx/logs/access.log bench;
  client_body_temp_path $work/nginx/tmp/body;
  proxy_temp_path $work/nginx/tmp/proxy;
  fastcgi_temp_path $work/nginx/tmp/fastcgi;
  uwsgi_temp_path $work/nginx/tmp/uwsgi;
  scgi_temp_path $work/nginx/tmp/scgi;
  client_max_body_size 0;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$nport;
    root $work/nginx/root;
    location / {
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      limit_except GET HEAD {
        auth_basic "packyard bench";
        auth_basic_user_file $work/nginx/htpasswd;
      }
    }
  }
}
EOF
"$nginx" -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/logs/error.log" >"$work/nginx/out.log" 2>&1 &
pids+=($!)
wait_port "$nport"

aport=$(free_port)
cat >"$work/aptly.conf" <<EOF
{"rootDir": "$work/aptly", "gpgProvider": "gpg", "architectures": ["amd64"]}
EOF
aptly -config="$work/aptly.conf" repo create -distribution=bookworm -component=main backplane >/dev/null
aptly -config="$work/aptly.conf" publish repo -architectures=amd64 -batch backplane >/dev/null 2>&1
aptly -config="$work/aptly.conf" api serve -listen="127.0.0.1:$aport" -no-lock >"$work/aptly.log" 2>&1 &
pids+=($!)
wait_port "$aport"

rport=$(free_port)
mkdir -p "$work/registry"
cat >"$work/registry/config.yml" <<EOF
version: 0.1
log: {level: info}
storage: {filesystem: {rootdirectory: $work/registry/data}}
http: {addr: 127.0.0.1:$rport}
EOF
docker-registry serve "$work/registry/config.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
wait_port "$rport"
(cd "$repo" && go run ./bench/cmd/ocibase "127.0.0.1:$rport/bench/base:multi") >/dev/null

# The example's spec with one target of each type.
spec=$work/buildspec.yaml
base=http://127.0.0.1:$nport/
{
	cat "$repo/examples/backplane/packager/buildspec.yaml"
	cat <<EOF
  publish:
    http: {type: http, url: "${base}files/{{version}}", username_env: BENCH_USER, password_env: BENCH_PASS}
    yum: {type: yum, url: "${base}el/{{dist}}/{{arch}}", packages: [el8_64, el9_64], username_env: BENCH_USER, password_env: BENCH_PASS}
    apt: {type: apt, url: "${base}debian", suite: bookworm, packages: [bookworm_64], username_env: BENCH_USER, password_env: BENCH_PASS}
    aptly: {type: aptly, url: "http://127.0.0.1:$aport", repo: backplane, suite: bookworm, packages: [bookworm_64]}
    rudder: {type: rudder, url: "${base}rudder-plugins", username_env: BENCH_USER, password_env: BENCH_PASS}
    file: {type: http, url: "file://$work/file/{{version}}"}
    oci: {type: oci, image: "127.0.0.1:$rport/bench/backplane", base: "127.0.0.1:$rport/bench/base:multi", tags: ["{{version}}", latest]}
EOF
} >"$spec"
export BENCH_USER=$user BENCH_PASS=$pass
targets=(http yum apt aptly rudder file oci)

# publish RUN: every target, one packyard publish each, its table row
# kept; the servers' request logs are cut per run.
declare -A row wall
publish() {
	local run=$1 t start end
	: >"$work/nginx/logs/access.log"
	kill -USR1 "${pids[0]}" 2>/dev/null || true # nginx reopens its log
	: >"$work/aptly.log"
	: >"$work/registry.log"
	for t in "${targets[@]}"; do
		start=$(date +%s.%N)
		packyard publish --source "$repo/examples/backplane" --spec "$spec" --build acme --dist "$dist" \
			--target "$t" --key-file "$work/key.asc" >"$work/out.$run.$t" 2>"$work/err.$run.$t" || {
			echo "$0: publish $t (run $run) failed:" >&2
			cat "$work/out.$run.$t" "$work/err.$run.$t" >&2
			exit 1
		}
		end=$(date +%s.%N)
		wall[$run.$t]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
		# target type uploaded unchanged requests bytes time result
		row[$run.$t]=$(awk -v t="$t" '$1 == t { print; exit }' "$work/out.$run.$t")
	done
	sleep 0.2 # nginx writes a request's log line after its response
	cp "$work/nginx/logs/access.log" "$work/access.$run"
	cp "$work/aptly.log" "$work/aptly.$run"
	cp "$work/registry.log" "$work/registry.$run"
}

echo "== run 1: publish to empty repositories" >&2
publish 1
echo "== run 2: the same dist again" >&2
find "$work/file" -type f -printf '%p %T@\n' | sort >"$work/file.before"
publish 2
find "$work/file" -type f -printf '%p %T@\n' | sort >"$work/file.after"

field() { echo "${row[$1]}" | awk -v n="$2" '{ print $n }'; }
echo
# Other work on the machine shows in every figure: record the load.
echo "Publishing the acme dist ($(find "$dist" -type f | wc -l) files, $(du -sb "$dist" | cut -f1) bytes), $(nproc) CPUs, $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| target | type | run 1: s (process s) | requests | bytes sent | files uploaded | run 2: s (process s) | requests | bytes sent | files uploaded |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
fail=0
for t in "${targets[@]}"; do
	printf '| %s | %s | %s (%s) | %s | %s | %s | %s (%s) | %s | %s | %s |\n' "$t" "$(field "1.$t" 2)" \
		"$(field "1.$t" 7 | tr -d s)" "${wall[1.$t]}" "$(field "1.$t" 5)" "$(field "1.$t" 6)" "$(field "1.$t" 3)" \
		"$(field "2.$t" 7 | tr -d s)" "${wall[2.$t]}" "$(field "2.$t" 5)" "$(field "2.$t" 6)" "$(field "2.$t" 3)"
	if [ "$(field "2.$t" 3)" != 0 ]; then
		echo "FAIL: run 2 uploaded $(field "2.$t" 3) file(s) to $t" >&2
		fail=1
	fi
done
echo
echo "s is the publish's own time (packyard's table), process s the wall time of the whole packyard publish process (start, spec and key loading, the publish); requests and bytes sent are packyard's counts (every try of a request; for file://, files read or written and bytes written)."
echo
echo "Run 2, what the servers saw:"
echo
echo '```'
echo "nginx: $(awk '{ n[$1" "$2]++ } END { for (k in n) printf "%s %d, ", k, n[k] }' "$work/access.2" | sed 's/, $//')"
awk '$1 == "GET" { print "  GET " $4 }' "$work/access.2" | sort | uniq -c | sed 's/^/  /'
echo "registry: $(grep -aoE '"(GET|HEAD|POST|PUT|PATCH|DELETE) /v2/[^ ]*' "$work/registry.2" | sed -E 's/^"//; s#/(blobs|manifests)/[^ ]*#/\1/…#' | sort | uniq -c | awk '{ printf "%s %s x%d, ", $2, $3, $1 }' | sed 's/, $//')"
echo "aptly: $(grep -aoE '(GET|POST|PUT|DELETE) +"?/api/[^ "?]*' "$work/aptly.2" | sed -E 's/ +"?/ /' | sort | uniq -c | awk '{ printf "%s %s x%d, ", $2, $3, $1 }' | sed 's/, $//')"
echo '```'
if grep -q '^PUT ' "$work/access.2"; then
	echo "FAIL: run 2 sent PUT requests to nginx" >&2
	fail=1
fi
if grep -aqE '"(PUT|PATCH|POST) /v2/' "$work/registry.2"; then
	echo "FAIL: run 2 pushed to the registry" >&2
	fail=1
fi
if grep -aqE 'POST +"?/api/files' "$work/aptly.2"; then
	echo "FAIL: run 2 uploaded files to aptly" >&2
	fail=1
fi
if ! cmp -s "$work/file.before" "$work/file.after"; then
	echo "FAIL: run 2 wrote files under file://" >&2
	fail=1
fi
if [ "$fail" = 0 ]; then
	echo
	echo "Check passed: run 2 uploaded no file (no PUT on nginx, no upload to aptly, no push to the registry, nothing written under file://); its requests are the GETs of the indexes listed above, HEADs of the packages and tags, the base image's reads, and aptly's publish-point update."
fi
exit "$fail"
