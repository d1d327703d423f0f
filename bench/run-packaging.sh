#!/usr/bin/env bash
# run-packaging.sh packages one payload (default 64 MiB of concatenated Go
# tool binaries) with each of Packyard's package writers and with the
# native tools, each as its own process under /usr/bin/time -v, and prints
# a table: wall time, peak RSS, output size and the ratios to the native
# tool for the same format.
#
# Usage: bench/run-packaging.sh [SIZE_MiB]
#
# Needs: go, /usr/bin/time (apt-get install time), rpmbuild, dpkg-deb, tar,
# gzip, xz, and the Go module proxy once, to build nfpm's CLI into the
# work dir. Everything is written under one temporary directory (in
# $TMPDIR, default /tmp) that is removed on exit. Not part of go test.
#
# Every row compresses the same way as the row it is compared with: the
# rpm and deb writers (nfpm) and rpmbuild/dpkg-deb here all use gzip -9;
# rpkg is xz inside ar, compared with tar cJ (xz -6).
set -euo pipefail

size_mib=${1:-64}
case $size_mib in '' | *[!0-9]*)
	echo "usage: $0 [SIZE_MiB]" >&2
	exit 2
	;;
esac
repo=$(cd "$(dirname "$0")/.." && pwd)

for tool in go /usr/bin/time rpmbuild dpkg-deb tar gzip xz; do
	command -v "$tool" >/dev/null || {
		echo "$0: $tool not found" >&2
		exit 2
	}
done

work=$(mktemp -d "${TMPDIR:-/tmp}/packbench.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The same time in every package, so sizes do not move between runs.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)}

echo "== building packbench and nfpm v2.45.2 into $work/bin" >&2
(cd "$repo" && go build -o "$work/bin/packbench" ./bench/cmd/packbench)
# Outside any module, so that go install takes nfpm's own go.mod.
(cd "$work" && GOBIN="$work/bin" GOFLAGS= go install github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2)

# The payload: the Go tool binaries (compile, link, vet, ...) in name order,
# repeated as needed and cut at SIZE: compressible like a Go binary and the
# same bytes for a given Go release (package bench/payload).
bytes=$((size_mib * 1024 * 1024))
payload=$work/payload
"$work/bin/packbench" -make-payload "$size_mib" -payload "$payload"
echo "== payload: $size_mib MiB, sha256 $(sha256sum "$payload" | cut -c1-16)…" >&2

# The native tools' inputs, written before any timing starts.
name=bench-payload
mkdir -p "$work/tree/DEBIAN" "$work/tree/usr/bin" "$work/src"
cp "$payload" "$work/tree/usr/bin/$name"
cp "$payload" "$work/src/$name"
cat >"$work/tree/DEBIAN/control" <<EOF
Package: $name
Version: 1.0.0-1
Architecture: amd64
Maintainer: Packyard <packyard@localhost>
Installed-Size: $((bytes / 1024))
Section: misc
Priority: optional
Description: Payload of Packyard's packaging benchmark
 A large binary packaged to measure the package writers.
EOF
# The same spec header as pack/rpmspec writes: gzip -9 payloads, no
# stripping, debuginfo or post-install rewriting of the prebuilt binary.
cat >"$work/$name.spec" <<EOF
%define _binary_payload w9.gzdio
%define _source_payload w9.gzdio
%define use_source_date_epoch_as_buildtime 1
%define clamp_mtime_to_source_date_epoch 1
%define _buildhost packyard
%global debug_package %{nil}
%define __strip /bin/true
%define __os_install_post %{nil}
%define _build_id_links none
Name: $name
Version: 1.0.0
Release: 1
Summary: Payload of Packyard's packaging benchmark
License: Apache-2.0
Group: System Environment/Base
AutoReqProv: no
Source0: $name

%description
A large binary packaged to measure the package writers.

%install
install -D -m 0755 "\$RPM_SOURCE_DIR/$name" "\$RPM_BUILD_ROOT/usr/bin/$name"

%files
%attr(0755,root,root) /usr/bin/$name
EOF
cat >"$work/nfpm.yaml" <<EOF
name: $name
arch: amd64
platform: linux
version: 1.0.0
release: 1
version_schema: none
maintainer: Packyard <packyard@localhost>
description: A large binary packaged to measure the package writers.
license: Apache-2.0
contents:
  - src: $payload
    dst: /usr/bin/$name
    file_info: {mode: 0755}
EOF
tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner "--mtime=@$SOURCE_DATE_EPOCH" -C "$work/tree")

declare -A wall rss size
rows=()

# measure LABEL OUTPUT-GLOB COMMAND...: runs COMMAND in a fresh output
# directory $out under /usr/bin/time -v and records its wall time, peak
# RSS and the size of the file OUTPUT-GLOB (relative to $out) names.
measure() {
	local label=$1 glob=$2
	shift 2
	out=$work/out/$label
	mkdir -p "$out"
	echo "== $label" >&2
	# Read once so that every row starts with the payload in the page cache.
	cat "$payload" >/dev/null
	if ! /usr/bin/time -v -o "$work/time.$label" "$@" >"$work/log.$label" 2>&1; then
		echo "$0: $label failed:" >&2
		tail -n 30 "$work/log.$label" >&2
		exit 1
	fi
	wall[$label]=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		printf "%.2f", s }' "$work/time.$label")
	rss[$label]=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$work/time.$label")
	local files=("$out"/$glob)
	[ -f "${files[0]}" ] || {
		echo "$0: $label wrote no $glob in $out" >&2
		exit 1
	}
	size[$label]=$(stat -c %s "${files[0]}")
	rows+=("$label")
}

pb=$work/bin/packbench
# Native tools first, then the writers measured against them.
measure rpmbuild-bb 'RPMS/x86_64/*.rpm' \
	rpmbuild -bb --define "_topdir $work/out/rpmbuild-bb" --define "_sourcedir $work/src" "$work/$name.spec"
measure rpmbuild-ba 'RPMS/x86_64/*.rpm' \
	rpmbuild -ba --define "_topdir $work/out/rpmbuild-ba" --define "_sourcedir $work/src" "$work/$name.spec"
measure dpkg-deb '*.deb' \
	dpkg-deb --root-owner-group -Zgzip -z9 --build "$work/tree" "$work/out/dpkg-deb/${name}_1.0.0-1_amd64.deb"
measure tar-cJ '*.tar.xz' tar "${tar_flags[@]}" -cJf "$work/out/tar-cJ/$name.tar.xz" usr
measure tar-cz '*.tar.gz' tar "${tar_flags[@]}" -I 'gzip -9n' -cf "$work/out/tar-cz/$name.tar.gz" usr
measure nfpm-cli-rpm '*.x86_64.rpm' "$work/bin/nfpm" pkg --config "$work/nfpm.yaml" --packager rpm --target "$work/out/nfpm-cli-rpm/"
measure nfpm-cli-deb '*.deb' "$work/bin/nfpm" pkg --config "$work/nfpm.yaml" --packager deb --target "$work/out/nfpm-cli-deb/"
for f in rpm:'*.x86_64.rpm' rpm+srpm:'*.x86_64.rpm' rpmspec:'*.x86_64.rpm' deb:'*.deb' rpkg:'*.rpkg' tarball:'*.tar.gz'; do
	measure "packyard-${f%%:*}" "${f#*:}" "$pb" -format "${f%%:*}" -payload "$payload" -out "$work/out/packyard-${f%%:*}"
done

declare -A native=(
	[packyard-rpm]=rpmbuild-bb [packyard-rpm+srpm]=rpmbuild-ba [packyard-rpmspec]=rpmbuild-ba [nfpm-cli-rpm]=rpmbuild-bb
	[packyard-deb]=dpkg-deb [nfpm-cli-deb]=dpkg-deb
	[packyard-rpkg]=tar-cJ [packyard-tarball]=tar-cz
)
declare -A what=(
	[rpmbuild-bb]="rpm, rpmbuild -bb" [rpmbuild-ba]="rpm+srpm, rpmbuild -ba"
	[dpkg-deb]="deb, dpkg-deb --build" [tar-cJ]="tar.xz, tar cJ (xz -6)" [tar-cz]="tar.gz, tar + gzip -9"
	[nfpm-cli-rpm]="rpm, nfpm v2.45.2 CLI" [nfpm-cli-deb]="deb, nfpm v2.45.2 CLI"
	[packyard-rpm]="rpm, pack/rpm" [packyard-rpm+srpm]="rpm+srpm, pack/rpm, one splice cache" [packyard-rpmspec]="rpm+srpm, pack/rpmspec + rpmbuild -ba"
	[packyard-deb]="deb, pack/deb" [packyard-rpkg]="rpkg, pack/rpkg" [packyard-tarball]="tar.gz, pack/tarball"
)

echo
# Other work on the machine shows in every figure: record the load.
echo "Packaging a $size_mib MiB payload, $(nproc) CPUs, $(date -u +%Y-%m-%d), $(go version | cut -d' ' -f3), load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
echo
printf '| %-16s | %-38s | %7s | %8s | %8s | %-24s |\n' row "format, tool" "wall s" "RSS MiB" "out MiB" "vs native: wall, RSS"
printf '|%s|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..18})" "$(printf -- '-%.0s' {1..40})" \
	"$(printf -- '-%.0s' {1..9})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..10})" "$(printf -- '-%.0s' {1..26})"
for r in "${rows[@]}"; do
	ratio=native
	if n=${native[$r]:-}; [ -n "$n" ]; then
		ratio=$(awk -v a="${wall[$r]}" -v b="${wall[$n]}" -v c="${rss[$r]}" -v d="${rss[$n]}" -v n="$n" \
			'BEGIN { printf "%.2fx, %.2fx %s", (b > 0 ? a / b : 0), (d > 0 ? c / d : 0), n }')
	fi
	printf '| %-16s | %-38s | %7s | %8s | %8.1f | %-24s |\n' "$r" "${what[$r]}" "${wall[$r]}" "${rss[$r]}" \
		"$(awk -v s="${size[$r]}" 'BEGIN { print s / 1048576 }')" "$ratio"
done
