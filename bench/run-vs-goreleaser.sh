#!/usr/bin/env bash
# run-vs-goreleaser.sh measures Packyard and GoReleaser v2 (+ nFPM) side by
# side on the same project: examples/backplane's acme flavour, two linux
# targets (amd64, arm64), an el8 rpm and a Debian deb of the amd64 binary,
# the bare binaries, a source tar.gz and SHA256SUMS. GoReleaser's config is
# bench/goreleaser/.goreleaser.yaml; Packyard's, the flavour vsgoreleaser
# (bench/goreleaser/packyard-flavour.yaml: acme's targets, el8_64 and
# bookworm_64), appended to the copy's spec. Packyard also writes the
# srpm (in Go, since 2026-11-29; rpmbuild -bs before) and verifies its
# packages; GoReleaser does neither.
# Three scenarios, each tool the same
# Go build cache (the user's, warmed first):
#
#   cold     empty dist/ (and, for Packyard, an empty stage cache)
#   rerun    nothing changed since the last build
#   bump     a new version (Packyard: the stage cache holds the old one)
#
# and the floor: both targets' bare `go build` in parallel, then gzip -9 of
# what the packages and the source release compress (the amd64 binary
# twice, the source tar once).
#
# The commands run in rounds (ROUNDS, default 5), each round one hyperfine
# invocation running every command once, so that the tools alternate and
# share the machine's load; a first round warms up and is not counted.
#
# Usage: bench/run-vs-goreleaser.sh
#
# Needs: go, git, hyperfine, python3, rpm (rpm2cpio), cpio, dpkg-deb, and
# the Go module proxy once, to build GoReleaser (GORELEASER_VERSION,
# default v2.15.1) into the work dir. Everything is written under one
# temporary directory ($TMPDIR, default /tmp), removed on exit; the Go
# build and module caches are the user's. Not part of go test.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-5}
gr_version=${GORELEASER_VERSION:-v2.15.1}
v1=0.26.0acme
v2=0.26.1acme

for tool in go git hyperfine python3 rpm2cpio cpio dpkg-deb rpm; do
	command -v "$tool" >/dev/null || {
		echo "$0: $tool not found" >&2
		exit 2
	}
done

work=$(mktemp -d "${TMPDIR:-/tmp}/vsgoreleaser.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "== building packyard and GoReleaser $gr_version into $work/bin" >&2
(cd "$repo" && go build -o "$work/bin/packyard" ./cmd/packyard)
# Outside any module, so that go install takes GoReleaser's own go.mod.
(cd "$work" && GOBIN="$work/bin" GOFLAGS= go install "github.com/goreleaser/goreleaser/v2@$gr_version")
# The example's go:generate directive and pre commands call packyard.
export PATH=$work/bin:$PATH

# project DIR: the example as a git repository of its own, one commit at
# a fixed time tagged v0.26.0, so that both tools see the same commit.
project() {
	cp -a "$repo/examples/backplane" "$1"
	rm -rf "$1/dist"
	cat "$repo/bench/goreleaser/packyard-flavour.yaml" >>"$1/packager/buildspec.yaml"
	git -C "$1" init -q
	git -C "$1" add -A
	GIT_AUTHOR_DATE=2026-11-01T00:00:00Z GIT_COMMITTER_DATE=2026-11-01T00:00:00Z \
		git -C "$1" -c user.name=bench -c user.email=bench@localhost commit -qm "backplane"
	git -C "$1" tag v0.26.0
	# GoReleaser reads the commit only when a remote is set (never used).
	git -C "$1" remote add origin https://git.example.invalid/acme/backplane.git
}
py=$work/py/backplane
gr=$work/gr/backplane
fl=$work/floor/backplane
mkdir -p "$work/py" "$work/gr" "$work/floor"
project "$py"
project "$gr"
project "$fl"

pybuild() { # VERSION OUT
	echo "packyard build --source $py --build vsgoreleaser --version $1 --out $2"
}

# Packyard's packages once, without the cache: GoReleaser's nfpm packages
# the files they hold (.pkgfiles/, unpacked from them).
echo "== reference build and GoReleaser's package files" >&2
$(pybuild $v1 "$work/ref") --no-cache >/dev/null 2>&1
pf=$gr/.pkgfiles
mkdir -p "$pf/rpm" "$pf/deb" "$pf/deb-control" "$pf/rpm-scripts"
# nfpm's cpio names are absolute: --no-absolute-filenames keeps them
# under .pkgfiles/rpm instead of /.
# rpm2cpio 4.18 exited 1 on the rpms Packyard wrote through nfpm (a wrong
# PAYLOADSIZE, fixed 2026-11-29), after writing the whole archive: check
# for the last file instead, so that older revisions can be measured too.
(rpm2cpio "$work"/ref/rpm/*.el8.x86_64.rpm || true) | (cd "$pf/rpm" && cpio -idm --quiet --no-absolute-filenames 2>/dev/null)
[ -f "$pf/rpm/usr/lib/systemd/system/backplane-server.service" ]
dpkg-deb -x "$work"/ref/deb/*.deb "$pf/deb"
dpkg-deb -e "$work"/ref/deb/*.deb "$pf/deb-control"
rpm -qp --scripts "$work"/ref/rpm/*.el8.x86_64.rpm | awk -v d="$pf/rpm-scripts" '
	/^postinstall scriptlet/ { f = d "/postinstall"; next }
	/^preuninstall scriptlet/ { f = d "/preremove"; next }
	/^postuninstall scriptlet/ { f = d "/postremove"; next }
	f { print > f }'
cp "$repo/bench/goreleaser/.goreleaser.yaml" "$gr/.goreleaser.yaml"
# Untracked, so not in GoReleaser's source archive (git archive).
printf '.pkgfiles/\n.goreleaser.yaml\ndist/\n' >>"$gr/.git/info/exclude"

# The floor's inputs: the generated plugin files, and the same -ldflags.
(cd "$fl" && go generate --run plugin)
commit=$(git -C "$fl" rev-parse HEAD)
ldflags="-s -w -X github.com/acme/backplane/build.BuildDate=2026-11-01T00:00:00Z"
ldflags+=" -X github.com/acme/backplane/build.ConfigDir=/etc/acme/backplane"
ldflags+=" -X github.com/acme/backplane/build.ProvisionJWTFile=/etc/acme/backplane/provisioning.jwt"
ldflags+=" -X github.com/acme/backplane/build.SHA=$commit"
ldflags_unversioned=$ldflags
ldflags+=" -X github.com/acme/backplane/build.Version=$v1"
cat >"$work/floor.sh" <<EOF
#!/bin/sh
set -e
cd "$fl"
for arch in amd64 arm64; do
	CGO_ENABLED=0 GOOS=linux GOARCH=\$arch GOAMD64=v1 go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$work/floor/bin-\$arch" . &
done
wait
gzip -9c "$work/floor/bin-amd64" >/dev/null
gzip -9c "$work/floor/bin-amd64" >/dev/null
git archive --format=tar HEAD | gzip -9 >/dev/null
EOF
chmod +x "$work/floor.sh"
# The bump's floor: what any version bump must do before packaging, both
# targets linked again (in parallel) with only -X …Version changed. A new
# version on every run, or go build finds its output up to date.
cat >"$work/link.sh" <<EOF
#!/bin/sh
set -e
cd "$fl"
v=0.26.\$(date +%s%N)acme
for arch in amd64 arm64; do
	CGO_ENABLED=0 GOOS=linux GOARCH=\$arch GOAMD64=v1 go build -trimpath -buildvcs=false -ldflags "$ldflags_unversioned -X github.com/acme/backplane/build.Version=\$v" -o "$work/floor/link-\$arch" . &
done
wait
EOF
chmod +x "$work/link.sh"

cache=$work/stagecache
grcmd() { # VERSION
	echo "cd $gr && VERSION=$1 goreleaser release --snapshot --clean --skip=publish"
}
# The stage cache as it is after building v1: the starting point of every
# Packyard version bump.
PACKYARD_CACHE_DIR=$work/cache-v1 $(pybuild $v1 "$work/dist-snap") >/dev/null 2>&1
echo "== GoReleaser once (warms its go generate and module downloads)" >&2
if ! (eval "$(grcmd $v1)") >"$work/goreleaser.log" 2>&1; then
	tail -n 40 "$work/goreleaser.log" >&2
	exit 1
fi
ls -R "$gr/dist" | head -n 40 >&2

names=(packyard-cold goreleaser-cold packyard-rerun goreleaser-rerun packyard-bump goreleaser-bump floor link)
run_round() { # JSON
	hyperfine --style none --runs 1 --export-json "$1" \
		--prepare "rm -rf $cache $work/dist" -n packyard-cold "PACKYARD_CACHE_DIR=$cache $(pybuild $v1 "$work/dist")" \
		--prepare "true" -n goreleaser-cold "$(grcmd $v1)" \
		--prepare "true" -n packyard-rerun "PACKYARD_CACHE_DIR=$cache $(pybuild $v1 "$work/dist")" \
		--prepare "true" -n goreleaser-rerun "$(grcmd $v1)" \
		--prepare "rm -rf $cache && cp -a $work/cache-v1 $cache" -n packyard-bump "PACKYARD_CACHE_DIR=$cache $(pybuild $v2 "$work/dist")" \
		--prepare "true" -n goreleaser-bump "$(grcmd $v2)" \
		--prepare "rm -f $work/floor/bin-*" -n floor "$work/floor.sh" \
		--prepare "true" -n link "$work/link.sh" >&2
}
echo "== warm-up round" >&2
run_round "$work/warmup.json"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$rounds"); do
	echo "== round $i of $rounds" >&2
	run_round "$work/round-$i.json"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "Packyard vs GoReleaser $gr_version on examples/backplane (acme: linux amd64+arm64, el8 rpm + deb, binaries, source tar.gz, SHA256SUMS)"
echo "$(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ), $(go version | cut -d' ' -f3), packyard at $(git -C "$repo" rev-parse --short HEAD), $rounds rounds, load average $load_before before, $load_after after"
echo
python3 - "$work" "$rounds" <<'EOF'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
times, cpu = {}, {}
for i in range(1, rounds + 1):
    for r in json.load(open(f"{work}/round-{i}.json"))["results"]:
        times.setdefault(r["command"], []).extend(r["times"])
        # --runs 1: user and system are that run's, children included.
        cpu.setdefault(r["command"], []).append(r["user"] + r["system"])
mean = {k: statistics.mean(v) for k, v in times.items()}
def cell(k):
    v = times[k]
    sd = statistics.stdev(v) if len(v) > 1 else 0
    return f"{mean[k]:.2f} ± {sd:.2f} s (min {min(v):.2f})"
print("| scenario | Packyard | GoReleaser | floor | Packyard / GoReleaser | Packyard / floor |")
print("|---|---:|---:|---:|---:|---:|")
for s in ("cold", "rerun", "bump"):
    p, g = f"packyard-{s}", f"goreleaser-{s}"
    print(f"| {s} | {cell(p)} | {cell(g)} | {cell('floor')} | {mean[p]/mean[g]:.3f} | {mean[p]/mean['floor']:.2f} |")
print()
print(f"Packyard bump / Packyard cold: {mean['packyard-bump']/mean['packyard-cold']:.2f}")
# No bump can take less than linking the targets again.
print(f"Link alone (both targets, only the version changed): {cell('link')}, {mean['link']/mean['packyard-cold']:.2f}× Packyard's cold build")
# CPU time moves far less with the machine's load than wall time does: on
# a busy machine each command's wall time tends to its CPU time divided
# by its share of the cores.
cmean = {k: statistics.mean(v) for k, v in cpu.items()}
print()
print("CPU time (user + system, children included), mean over the rounds:")
print()
print("| scenario | Packyard | GoReleaser | floor | Packyard / GoReleaser | Packyard / floor |")
print("|---|---:|---:|---:|---:|---:|")
for s in ("cold", "rerun", "bump"):
    p, g = f"packyard-{s}", f"goreleaser-{s}"
    print(f"| {s} | {cmean[p]:.2f} s | {cmean[g]:.2f} s | {cmean['floor']:.2f} s | {cmean[p]/cmean[g]:.3f} | {cmean[p]/cmean['floor']:.2f} |")
EOF
