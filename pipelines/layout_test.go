package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// daggerJSON is the part of dagger.json the engine reads.
type daggerJSON struct {
	Name          string `json:"name"`
	EngineVersion string `json:"engineVersion"`
	SDK           struct {
		Source string `json:"source"`
	} `json:"sdk"`
	Source  string   `json:"source"`
	Include []string `json:"include"`
}

func TestDaggerJSON(t *testing.T) {
	var dj daggerJSON
	if err := json.Unmarshal(readRepoFile(t, "dagger.json"), &dj); err != nil {
		t.Fatalf("dagger.json: %v", err)
	}
	if dj.Name != "packyard" || dj.EngineVersion != "v0.21.8" || dj.SDK.Source != "go" || dj.Source != "pipelines" {
		t.Fatalf("dagger.json: %+v", dj)
	}
	// The engine must be the SDK version go.mod pins.
	if !strings.Contains(string(readFile(t, "go.mod")), "dagger.io/dagger "+dj.EngineVersion) {
		t.Errorf("pipelines/go.mod does not require dagger.io/dagger %s", dj.EngineVersion)
	}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rootDeps lists the directories, relative to the root module, of the
// root module's packages that pkgs (run in dir) import.
func rootDeps(t *testing.T, dir string, pkgs ...string) []string {
	t.Helper()
	need(t, "go")
	root := repoRoot(t)
	args := append([]string{"list", "-e", "-deps", "-f", `{{with .Module}}{{if eq .Path "github.com/packyard/packyard"}}{{$.Dir}}{{end}}{{end}}`}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list in %s: %v", dir, err)
	}
	var rel []string
	for _, d := range strings.Fields(string(out)) {
		r, err := filepath.Rel(root, d)
		if err != nil {
			t.Fatal(err)
		}
		rel = append(rel, filepath.ToSlash(r))
	}
	return rel
}

// matchGlob matches the glob forms dagger.json and +ignore use here:
// "**", "DIR/**", "**/NAME", "**/DIR/**" and plain path.Match patterns.
func matchGlob(pattern, name string) bool {
	switch {
	case pattern == "**":
		return true
	case strings.HasPrefix(pattern, "**/") && strings.HasSuffix(pattern, "/**"):
		mid := strings.TrimSuffix(strings.TrimPrefix(pattern, "**/"), "/**")
		return strings.HasPrefix(name, mid+"/") || strings.Contains(name, "/"+mid+"/")
	case strings.HasPrefix(pattern, "**/"):
		ok, _ := path.Match(strings.TrimPrefix(pattern, "**/"), path.Base(name))
		return ok
	case strings.HasSuffix(pattern, "/**"):
		return strings.HasPrefix(name, strings.TrimSuffix(pattern, "**"))
	}
	ok, _ := path.Match(pattern, name)
	return ok
}

// ignored evaluates an +ignore list the way the engine does: the last
// matching pattern wins and "!" re-includes.
func ignored(patterns []string, name string) bool {
	out := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		if matchGlob(strings.TrimPrefix(p, "!"), name) {
			out = !neg
		}
	}
	return out
}

// toolIgnore reads the +ignore pragma of New's tool argument.
func toolIgnore(t *testing.T) []string {
	t.Helper()
	// The pragma of the tool argument: the last one before it.
	var list []string
	for _, line := range strings.Split(string(readFile(t, "main.go")), "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "// +ignore="); ok {
			list = nil
			if err := json.Unmarshal([]byte(v), &list); err != nil {
				t.Fatalf("+ignore pragma: %v", err)
			}
		}
		if line == "tool *dagger.Directory," {
			if list == nil {
				break
			}
			return list
		}
	}
	t.Fatal("main.go: no +ignore pragma on the tool argument")
	return nil
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"**", "a/b.go", true},
		{"cmd/**", "cmd/packyard/main.go", true},
		{"cmd/**", "cmdx/main.go", false},
		{"**/*_test.go", "pack/rpm/rpm_test.go", true},
		{"**/*_test.go", "pack/rpm/rpm.go", false},
		{"**/testdata/**", "pack/testdata/a.rpm", true},
		{"**/testdata/**", "testdata/a", true},
		{"go.mod", "go.mod", true},
		{"go.mod", "x/go.mod", false},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v", tt.pattern, tt.name, got)
		}
	}
}

// TestModuleLoadsWhatItCompiles checks that the engine will hand the
// module every root package it compiles: dagger.json's include list must
// cover the root packages the module imports (for the replace to build)
// and the tool's +ignore list must keep every package cmd/packyard
// imports, with go.mod and go.sum, and drop tests.
func TestModuleLoadsWhatItCompiles(t *testing.T) {
	var dj daggerJSON
	if err := json.Unmarshal(readRepoFile(t, "dagger.json"), &dj); err != nil {
		t.Fatal(err)
	}
	included := func(name string) bool {
		return slices.ContainsFunc(dj.Include, func(p string) bool { return matchGlob(p, name) })
	}
	ign := toolIgnore(t)
	for _, f := range []string{"go.mod", "go.sum"} {
		if !included(f) {
			t.Errorf("dagger.json include lacks %s", f)
		}
		if ignored(ign, f) {
			t.Errorf("tool +ignore drops %s", f)
		}
	}
	if !ignored(ign, "pack/rpm/rpm_test.go") || !ignored(ign, "examples/backplane/main.go") || !ignored(ign, "pipelines/main.go") {
		t.Error("tool +ignore keeps tests, examples or the module itself: needless tool rebuilds")
	}
	// The module's own imports of the root module.
	for _, d := range rootDeps(t, ".", ".") {
		if !included(d + "/x.go") {
			t.Errorf("the module imports %s, which dagger.json's include list does not load", d)
		}
	}
	// The tool's, when the CLI exists yet.
	if _, err := os.Stat(filepath.Join(repoRoot(t), "cmd/packyard/main.go")); err != nil {
		t.Skip("no cmd/packyard yet")
	}
	for _, d := range rootDeps(t, repoRoot(t), "./cmd/packyard") {
		if ignored(ign, d+"/x.go") {
			t.Errorf("cmd/packyard imports %s, which the tool's +ignore list drops", d)
		}
		if !included(d + "/x.go") {
			t.Errorf("cmd/packyard imports %s, which dagger.json's include list does not load", d)
		}
	}
}
