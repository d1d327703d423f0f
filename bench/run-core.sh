#!/usr/bin/env bash
# run-core.sh measures the "core" issue: plan and codegen on a generated
# project (50 compile targets, 200 packages, 200 plugins), in-process (Go
# benchmarks) and through the packyard CLI, then the engine-less build of
# examples/backplane, cold (empty GOCACHE and GOMODCACHE) and warm (the
# same caches, second run).
#
# Usage: bench/run-core.sh
#
# Environment: COLD_RUNS (default 2), WARM_RUNS (default 5), BENCHTIME
# (go test -benchtime, default 1s), SKIP_BUILD=1 to measure plan and
# codegen only.
#
# Needs: go, hyperfine (apt-get install hyperfine), and the tools the
# example's build uses (rpmbuild for its srpms). Everything is written under
# one temporary directory, removed on exit; the user's Go caches are not
# touched. Not part of go test.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cold_runs=${COLD_RUNS:-2}
warm_runs=${WARM_RUNS:-5}
benchtime=${BENCHTIME:-1s}

for tool in go hyperfine; do
	command -v "$tool" >/dev/null || {
		echo "$0: $tool not found" >&2
		exit 2
	}
done

work=$(mktemp -d "${TMPDIR:-/tmp}/corebench.XXXXXX")
# Module cache files are read-only: make them writable to remove them.
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "== building packyard and genproject into $work/bin" >&2
(cd "$repo" && go build -o "$work/bin/packyard" ./cmd/packyard && go build -o "$work/bin/genproject" ./bench/cmd/genproject)
# The example's pre commands run `packyard codegen`.
export PATH=$work/bin:$PATH
# The generated project has no .git: packyard refuses to guess its time.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct)}

echo
# Other work on the machine shows in every figure: record the load.
echo "Core benchmarks, $(nproc) CPUs, $(date -u +%Y-%m-%d), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "### In-process (go test -bench, -benchtime $benchtime)"
echo
echo '```'
(cd "$repo" && go test -run '^$' -bench 'BenchmarkPlan|BenchmarkGenerate|BenchmarkCodegenManifest' \
	-benchtime "$benchtime" -benchmem ./buildspec ./plugins ./bench) |
	grep -E '^(Benchmark|ok|FAIL)'
echo '```'

proj=$work/project
genproject -targets 50 -packages 200 -plugins 200 "$proj"
echo
echo "### CLI on the generated project (50 targets, 200 packages, 200 plugins)"
echo
hyperfine --style none --warmup 1 --runs 10 --export-markdown "$work/cli.md" \
	-n "packyard plan" "packyard --source $proj --version 1.0.0 plan" \
	-n "packyard codegen" "packyard --source $proj codegen" >&2
cat "$work/cli.md"

[ "${SKIP_BUILD:-}" = 1 ] && exit 0

# The engine-less build without its stage cache: these rows measure the
# stages themselves (run-vs-goreleaser.sh measures the cache).
export PACKYARD_NO_CACHE=1
# The build reads the example in place (it works in its own copy) and
# replaces --out as a whole on every run.
build="packyard build --source $repo/examples/backplane --build acme --version 0.26.0acme --out $work/dist"
cold=$work/cold
warm=$work/warm
mkdir -p "$warm/build" "$warm/mod"
echo
echo "### Engine-less build of examples/backplane (acme: 2 targets, el8+el9 rpm/srpm, deb, rpkg)"
echo
hyperfine --style none --runs "$cold_runs" --export-markdown "$work/cold.md" \
	--prepare "chmod -R u+w $cold 2>/dev/null; rm -rf $cold; mkdir -p $cold/build $cold/mod" \
	-n "cold (empty GOCACHE, GOMODCACHE)" "GOCACHE=$cold/build GOMODCACHE=$cold/mod $build" >&2
hyperfine --style none --warmup 1 --runs "$warm_runs" --export-markdown "$work/warm.md" \
	-n "warm (second run, same caches)" "GOCACHE=$warm/build GOMODCACHE=$warm/mod $build" >&2
cat "$work/cold.md"
tail -n +3 "$work/warm.md"
