package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// distFiles maps every file under dist to its sha256.
func distFiles(t *testing.T, dist string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dist, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		r, err := filepath.Rel(dist, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(r)] = sha256File(t, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// sameDist fails unless got holds exactly want's files, byte for byte.
func sameDist(t *testing.T, what string, want, got map[string]string) {
	t.Helper()
	for name, sum := range want {
		if got[name] != sum {
			t.Errorf("%s: %s differs (%.12s, want %.12s)", what, name, got[name], sum)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: extra file %s", what, name)
		}
	}
}

// progressOf returns the progress lines of a run keyed by stage: the
// verb (start, done, cached, skip, note) of each stage's last line.
func progressOf(stderr string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] != "start" {
			out[f[1]] = f[0]
		}
	}
	return out
}

// TestBuildStageCache builds the example with the stage cache in an empty
// directory, then again: every stage restored, dist/ byte-identical. Then
// with --no-cache (identical, nothing cached), with a new version (the
// stages that take the version run again), and after damaging a cached
// binary (detected, rebuilt, identical). Each build is also compared with
// the shared build made without the cache.
func TestBuildStageCache(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example five times")
	}
	root := repoRoot(t)
	want := distFiles(t, acmeDist(t).dist)
	cacheDir := t.TempDir()
	// PACKYARD_NO_CACHE empty undoes the tests' default (packyardEnv).
	env := []string{"PACKYARD_NO_CACHE=", "PACKYARD_CACHE_DIR=" + cacheDir}
	runs := map[string]string{}
	buildInto := func(name, version string, extra ...string) (map[string]string, map[string]string, string) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "dist")
		args := append([]string{"build", "--source", "examples/backplane", "--build", "acme", "--version", version, "--out", out}, extra...)
		r := packyard(t, root, env, args...)
		if r.code != 0 {
			t.Fatalf("%s: packyard %s: exit %d\n%s", name, strings.Join(args, " "), r.code, r.stderr)
		}
		runs[name] = r.stderr
		return distFiles(t, out), progressOf(r.stderr), r.stderr
	}

	stages := []string{"source", "codegen", "compile", "compile/64bit_linux", "compile/arm64_linux",
		"package", "package/el8_64", "package/el9_64", "package/bookworm_64", "package/rudder", "verify"}

	// 1. Empty cache: everything runs, and is stored.
	first, p, stderr := buildInto("empty cache", "0.26.0acme")
	sameDist(t, "empty cache", want, first)
	for _, s := range stages {
		if p[s] != "done" {
			t.Errorf("empty cache: %s %q, want done\n%s", s, p[s], stderr)
		}
	}

	// 2. No change: every stage restored; checksums always run.
	second, p, stderr := buildInto("no change", "0.26.0acme")
	sameDist(t, "no change", want, second)
	for _, s := range stages {
		if p[s] != "cached" {
			t.Errorf("no change: %s %q, want cached\n%s", s, p[s], stderr)
		}
	}

	// 3. --no-cache: nothing read from the cache, same bytes.
	third, p, stderr := buildInto("--no-cache", "0.26.0acme", "--no-cache")
	sameDist(t, "--no-cache", want, third)
	if strings.Contains(stderr, "cached") {
		t.Errorf("--no-cache restored a stage:\n%s", stderr)
	}

	// 4. A new version: the release, the binaries (the version is linked
	// in), the packages and checksums are made again; codegen, which does
	// not take the version, is restored.
	_, p, stderr = buildInto("version bump", "0.26.1acme")
	if p["codegen"] != "cached" {
		t.Errorf("version bump: codegen %q, want cached\n%s", p["codegen"], stderr)
	}
	for _, s := range []string{"source", "compile/64bit_linux", "compile/arm64_linux", "package/el8_64", "package/bookworm_64", "package/rudder", "checksums"} {
		if p[s] != "done" {
			t.Errorf("version bump: %s %q, want done\n%s", s, p[s], stderr)
		}
	}

	// 5. A cached binary truncated on disk: detected by its hash, rebuilt,
	// never shipped; the rest still comes from the cache.
	binary := "binaries/backplane-0.26.0acme-linux-amd64"
	blob := findCached(t, cacheDir, binary)
	if err := os.Truncate(blob, 1000); err != nil {
		t.Fatal(err)
	}
	fifth, p, stderr := buildInto("damaged entry", "0.26.0acme")
	sameDist(t, "damaged entry", want, fifth)
	if p["compile/64bit_linux"] != "done" || p["compile/arm64_linux"] != "cached" || p["package/el8_64"] != "cached" {
		t.Errorf("damaged entry: compile/64bit_linux %q (want done), arm64 %q, package/el8_64 %q (want cached)\n%s",
			p["compile/64bit_linux"], p["compile/arm64_linux"], p["package/el8_64"], stderr)
	}
	if !strings.Contains(stderr, "note  stage cache: entry ") || !strings.Contains(stderr, "damaged") {
		t.Errorf("damaged entry not reported:\n%s", stderr)
	}
	// ... and stored again: the next build restores it.
	_, p, _ = buildInto("after repair", "0.26.0acme")
	if p["compile/64bit_linux"] != "cached" {
		t.Errorf("after repair: compile/64bit_linux %q, want cached", p["compile/64bit_linux"])
	}
	if t.Failed() {
		for _, name := range slices.Sorted(maps.Keys(runs)) {
			t.Logf("== %s\n%s", name, runs[name])
		}
	}
}

// findCached returns the stored blob of the cache entry holding file name.
func findCached(t *testing.T, cacheDir, name string) string {
	t.Helper()
	indexes, err := filepath.Glob(filepath.Join(cacheDir, "entries", "*", "*", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range indexes {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var idx struct {
			Files []struct{ Name string }
		}
		if err := json.Unmarshal(b, &idx); err != nil {
			t.Fatal(err)
		}
		for i, f := range idx.Files {
			if f.Name == name {
				return filepath.Join(filepath.Dir(p), "files", fmt.Sprint(i))
			}
		}
	}
	t.Fatalf("no cache entry holds %s", name)
	return ""
}

// TestStageCommandsUseNoCache runs a stage subcommand, as the Dagger
// module does, with a cache directory set: it must not create it.
func TestStageCommandsUseNoCache(t *testing.T) {
	cacheDir := filepath.Join(t.TempDir(), "cache")
	env := []string{"PACKYARD_NO_CACHE=", "PACKYARD_CACHE_DIR=" + cacheDir}
	r := packyard(t, repoRoot(t), env, "source", "--source", "examples/backplane", "--build", "acme",
		"--version", "0.26.0acme", "--out", t.TempDir())
	if r.code != 0 {
		t.Fatalf("source: %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(cacheDir); err == nil {
		t.Errorf("packyard source created the stage cache %s", cacheDir)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", 0, false},
		{"2GiB", 2 << 30, false},
		{"500MiB", 500 << 20, false},
		{"1.5G", 3 << 29, false},
		{"1GB", 1e9, false},
		{"1048576", 1 << 20, false},
		{"12 KiB", 12 << 10, false},
		{"lots", 0, true},
		{"-1GiB", 0, true},
		{"0", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestCacheSizeFlagError(t *testing.T) {
	r := packyard(t, t.TempDir(), []string{"PACKYARD_NO_CACHE="}, "build", "--cache-size", "lots")
	if r.code != 2 || !strings.Contains(r.stderr, "--cache-size") {
		t.Errorf("--cache-size lots: exit %d\n%s", r.code, r.stderr)
	}
}
