package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// buildCLI builds the real packyard command from the root module.
func buildCLI(t *testing.T) string {
	t.Helper()
	need(t, "go")
	bin := filepath.Join(t.TempDir(), "packyard")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/packyard")
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/packyard: %v\n%s", err, out)
	}
	return bin
}

// TestArgvAgainstCLI runs the real packyard: every flag the module passes
// must be one the subcommand accepts, and the read-only stages must run
// with the module's argv on the repository's example.
func TestArgvAgainstCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/packyard")
	}
	bin := buildCLI(t)
	flagRE := regexp.MustCompile(`--[a-z][a-z-]*`)
	for _, a := range toolArgvs() {
		out, err := exec.Command(bin, a[1], "--help").CombinedOutput()
		if err != nil {
			t.Errorf("packyard %s --help: %v\n%s", a[1], err, out)
			continue
		}
		known := map[string]bool{}
		for _, f := range flagRE.FindAllString(string(out), -1) {
			known[f] = true
		}
		for _, f := range a[2:] {
			if strings.HasPrefix(f, "--") && !known[f] {
				t.Errorf("%q: packyard %s has no %s", a, a[1], f)
			}
		}
	}

	example := filepath.Join(repoRoot(t), "examples", "backplane")
	g := globals{Source: example, Flavour: "acme", Version: "0.26.0acme"}
	for _, tt := range []struct {
		argv []string
		want string
	}{
		{versionJSONArgv(g), `"product": "0.26.0acme"`},
		{planArgv(g, true), "el8_64"},
	} {
		out, err := exec.Command(bin, tt.argv[1:]...).CombinedOutput()
		if err != nil {
			t.Errorf("%q: %v\n%s", tt.argv, err, out)
			continue
		}
		if !strings.Contains(string(out), tt.want) {
			t.Errorf("%q: output lacks %q:\n%s", tt.argv, tt.want, out)
		}
	}
}
