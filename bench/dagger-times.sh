#!/usr/bin/env bash
# bench/dagger-times.sh [--cold]: wall times of the Dagger module's build on
# the local engine (../shared/engine), in a clean clone of HEAD:
#
#   cold       the first build after the engine's cache was pruned (--cold)
#              or the first in this clone (warm engine) otherwise
#   cached     the same call again: no change
#   bump       --version 0.26.1acme: only what takes the version re-runs
#   acme       --source examples/backplane --build acme, after the above
#
# and the engine-less `packyard build` of the same inputs for comparison.
# A benchmark, not a test: it prints a table (TSV with --tsv).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=${PACKYARD_SHARED:-$repo/../shared}
cold=0
[ "${1:-}" = --cold ] && cold=1

eval "$("$shared/engine/ensure.sh" "$repo")"
export DAGGER_NO_NAG=1
work=$(mktemp -d "${TMPDIR:-/tmp}/packyard-dagger-times.XXXXXX")
trap 'rm -rf "$work"' EXIT
# packyard build's stage cache, fresh for this script (its rows are then
# empty cache, no change, version bump), not the user's.
export PACKYARD_CACHE_DIR=$work/stagecache
git clone -q --no-local "$repo" "$work/clone"
cd "$work/clone"

if [ "$cold" = 1 ]; then
	dagger core engine local-cache prune >/dev/null 2>&1
fi

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
row() {
	local label=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>>"$work/log"
	t1=$(date +%s.%N)
	printf '%s\t%s\n' "$label" "$(secs "$t0" "$t1")"
}
dg() { dagger --progress=plain call --goproxy file:///goproxy "$@"; }

printf 'load\t%s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
row "dagger build root ($([ "$cold" = 1 ] && echo cold || echo first))" dg build --version 0.26.0acme export --path "$work/d1"
row "dagger build root (no change)" dg build --version 0.26.0acme export --path "$work/d2"
row "dagger build root (--version 0.26.1acme)" dg build --version 0.26.1acme export --path "$work/d3"
row "dagger build acme (after root)" dg --source examples/backplane build --build acme --version 0.26.0acme export --path "$work/d4"
go build -o "$work/packyard" ./cmd/packyard
row "packyard build root" "$work/packyard" build --version 0.26.0acme --out "$work/h1"
row "packyard build root (no change)" "$work/packyard" build --version 0.26.0acme --out "$work/h2"
row "packyard build root (--version 0.26.1acme)" "$work/packyard" build --version 0.26.1acme --out "$work/h3"
