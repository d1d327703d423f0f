package plugins

import (
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// copyTree copies the checked-in example to dst, leaving out what a build
// writes (generated plugin files, binaries), so that the checked-in tree is
// never modified.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if rel == "backplane" || filepath.Dir(rel) == "." && strings.HasPrefix(rel, "plugin_") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCodegenBackplane(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example product")
	}
	dir := t.TempDir()
	copyTree(t, filepath.Join("..", "examples", "backplane"), dir)

	if err := Codegen(context.Background(), dir, ".", goEnv()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"plugin_health.go", "plugin_ping.go", "plugin_rpcagent.go"} {
		if got := readFile(t, filepath.Join(dir, name)); !strings.HasPrefix(got, Header+"\npackage main\n") && !strings.HasPrefix(got, Header+"\n\npackage main\n") {
			t.Errorf("%s:\n%s", name, got)
		}
	}
	gomod := readFile(t, filepath.Join(dir, "go.mod"))
	for _, want := range []string{"require github.com/acme/backplane-rpcagent v0.3.0", "replace github.com/acme/backplane-rpcagent => ./contrib/rpcagent"} {
		if !strings.Contains(gomod, want) {
			t.Errorf("go.mod lacks %q:\n%s", want, gomod)
		}
	}

	bin := filepath.Join(t.TempDir(), "backplane")
	goCmd(t, dir, "build", "-o", bin,
		"-ldflags", "-X github.com/acme/backplane/build.Version=1.2.3 -X github.com/acme/backplane/build.ProvisionJWTFile=/etc/acme/backplane/provisioning.jwt", ".")

	out, err := exec.Command(bin, "buildinfo", "--json").Output()
	if err != nil {
		t.Fatalf("buildinfo: %v", err)
	}
	var info struct {
		Version string
		Flags   []struct{ Name, Value string }
		Plugins []struct{ Name, Package, Module, Version, Replace string }
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("buildinfo --json: %v\n%s", err, out)
	}
	if info.Version != "1.2.3" {
		t.Errorf("version %q, want 1.2.3", info.Version)
	}
	flags := map[string]string{}
	for _, f := range info.Flags {
		flags[f.Name] = f.Value
	}
	if flags["ProvisionJWTFile"] != "/etc/acme/backplane/provisioning.jwt" {
		t.Errorf("flags %v", flags)
	}
	type want struct{ pkg, module, version, replace string }
	wants := map[string]want{
		"health":   {"github.com/acme/backplane/plugins/health", "github.com/acme/backplane", "(devel)", ""},
		"ping":     {"github.com/acme/backplane/plugins/ping", "github.com/acme/backplane", "(devel)", ""},
		"rpcagent": {"github.com/acme/backplane-rpcagent", "github.com/acme/backplane-rpcagent", "v0.3.0", "./contrib/rpcagent"},
	}
	if len(info.Plugins) != len(wants) {
		t.Errorf("plugins %+v, want %d", info.Plugins, len(wants))
	}
	for _, p := range info.Plugins {
		w, ok := wants[p.Name]
		if !ok {
			t.Errorf("unexpected plugin %+v", p)
			continue
		}
		if got := (want{p.Package, p.Module, p.Version, p.Replace}); got != w {
			t.Errorf("plugin %s = %+v, want %+v", p.Name, got, w)
		}
	}

	text, err := exec.Command(bin, "buildinfo").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "Backplane 1.2.3\n") ||
		!strings.Contains(string(text), "rpcagent  github.com/acme/backplane-rpcagent") {
		t.Errorf("buildinfo:\n%s", text)
	}

	versionM := goCmd(t, dir, "version", "-m", bin)
	if !strings.Contains(versionM, "dep\tgithub.com/acme/backplane-rpcagent\tv0.3.0") {
		t.Errorf("go version -m lacks the agent module:\n%s", versionM)
	}
}
