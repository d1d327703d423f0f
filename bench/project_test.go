package bench

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packyard/packyard/plugins"
	"github.com/packyard/packyard/stage"
)

// TestIssueProject checks that the generated project is what the
// benchmarks claim to measure: a plan of 50 compiles and 200 packages,
// 200 generated plugin files, and a project that then builds.
func TestIssueProject(t *testing.T) {
	// The generated project has no .git to give the build's time.
	t.Setenv("SOURCE_DATE_EPOCH", "1709294400")
	dir := t.TempDir()
	if err := Issue.Write(dir); err != nil {
		t.Fatal(err)
	}
	c, err := stage.Load(context.Background(), stage.Options{Source: dir, Version: "1.0.0", Out: t.TempDir()})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	kinds := map[string]int{}
	for _, s := range c.Plan.Stages {
		kind, _, _ := strings.Cut(s.ID, "/")
		kinds[kind]++
	}
	for kind, want := range map[string]int{"compile": Issue.Targets, "package": Issue.Packages} {
		if kinds[kind] != want {
			t.Errorf("%d %s stages, want %d (all: %v)", kinds[kind], kind, want, kinds)
		}
	}

	if err := plugins.Codegen(context.Background(), dir, "", nil); err != nil {
		t.Fatalf("codegen: %v", err)
	}
	gen, err := filepath.Glob(filepath.Join(dir, "plugin_*.go"))
	if err != nil {
		t.Fatal(err)
	}
	if len(gen) != Issue.Plugins {
		t.Errorf("%d plugin_*.go files, want %d", len(gen), Issue.Plugins)
	}
	if testing.Short() {
		return
	}
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go run: %v\n%s", err, out)
	}
	// Half the plugins register through the registry; the others only
	// need to be linked in.
	if got, want := strings.TrimSpace(string(out)), "devel 100"; got != want {
		t.Errorf("the generated project printed %q, want %q", got, want)
	}
}

func TestWriteRefuses(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		project Project
		dir     string
		want    string
	}{
		{"no targets", Project{Packages: 1}, t.TempDir(), "at least one target"},
		{"negative plugins", Project{Targets: 1, Plugins: -1}, t.TempDir(), "no negative counts"},
		{"not empty", Issue, full, "is not empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.project.Write(tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// BenchmarkPlanProject is `packyard plan` in-process on the issue's
// project: load and validate the spec, resolve the version and render
// every package's template to name its outputs.
func BenchmarkPlanProject(b *testing.B) {
	b.Setenv("SOURCE_DATE_EPOCH", "1709294400")
	dir := b.TempDir()
	if err := Issue.Write(dir); err != nil {
		b.Fatal(err)
	}
	opts := stage.Options{Source: dir, Version: "1.0.0", Out: b.TempDir()}
	for b.Loop() {
		if _, err := stage.Load(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCodegenManifest is `packyard codegen` in-process on the issue's
// project: read the 200-entry manifest, pin (nothing to pin: every plugin
// is in the main module) and rewrite the plugin files. BenchmarkGenerate in
// package plugins measures the last step alone.
func BenchmarkCodegenManifest(b *testing.B) {
	dir := b.TempDir()
	if err := Issue.Write(dir); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := plugins.Codegen(context.Background(), dir, "", nil); err != nil {
			b.Fatal(err)
		}
	}
}
