package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack/checksums"
	"github.com/packyard/packyard/pack/rpkg"
	"github.com/packyard/packyard/templates"
)

// rudderRelease writes a dist/ holding the example's Rudder plugin
// package at version v, with its manifest.
func rudderRelease(t *testing.T, v string) string {
	t.Helper()
	dist := t.TempDir()
	b := packtest.Backplane{Template: "rudder/plugin", Format: templates.FormatRpkg, Arch: "x86_64", Binary: binary}
	info := b.Render(t, v, "", map[string]string{"rudder_version": "8.1.0", "description": "Backplane agent"})
	os.MkdirAll(filepath.Join(dist, "rpkg"), 0o755)
	f := packtest.Write(t, rpkg.Writer{}, info, filepath.Join(dist, "rpkg"))
	arts := []checksums.Artifact{{Path: "rpkg/" + filepath.Base(f), Stage: "package/rudder"}}
	if err := checksums.Write(dist, arts, nil); err != nil {
		t.Fatal(err)
	}
	return dist
}

// TestRudderRepository publishes two plugin versions to nginx and then
// does what Rudder's installer does: read X.Y/rpkg.index, download each
// package by its path, and check it against SHA512SUMS from the same
// directory (sha512sum -c) whose SHA512SUMS.asc gpg verifies. An entry
// the index had before is kept, and a rerun uploads nothing.
func TestRudderRepository(t *testing.T) {
	packtest.Need(t, "sha512sum", "gpg")
	ctx := context.Background()
	srv := startNginx(t)
	counter := startFaultyProxy(t, srv.URL, 0)
	gpg, key := repoKey(t)
	target := &buildspec.PublishTarget{Name: "plugins", Type: buildspec.PublishRudder, URL: counter.URL + "plugins/",
		Channel: "release", UsernameEnv: "U", PasswordEnv: "P"}
	fl := testFlavour(target)
	fl.Packages = append(fl.Packages, &buildspec.Package{Name: "rudder", Template: "rudder/plugin",
		Properties: map[string]string{"rudder_version": "8.1.0"}})
	var log []string
	publish := func(dist string) error {
		log = nil
		_, err := Publish(ctx, Options{
			Spec: &buildspec.Spec{File: "buildspec.yaml"}, Flavour: fl, Dist: dist, Version: "x", Key: key,
			Getenv:    func(k string) string { return map[string]string{"U": srv.User, "P": srv.Pass}[k] },
			Logf:      func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)); t.Logf(f, a...) },
			Transport: &Transport{Backoff: 1, MaxBackoff: 1},
		})
		return err
	}
	// Someone else's plugin is in the index already.
	foreign := `{"name":"rudder-plugin-other","version":"8.1.0-1.0","path":"./8.1/other/release/rudder-plugin-other-8.1.0-1.0.rpkg"}`
	os.MkdirAll(filepath.Join(srv.Root, "plugins", "8.1"), 0o755)
	os.WriteFile(filepath.Join(srv.Root, "plugins", "8.1", "rpkg.index"), []byte("["+foreign+"]\n"), 0o644)

	for _, v := range []string{"0.26.0acme", "0.27.0acme"} {
		if err := publish(rudderRelease(t, v)); err != nil {
			t.Fatal(err)
		}
	}
	puts := counter.requests("PUT")
	if err := publish(rudderRelease(t, "0.27.0acme")); err != nil {
		t.Fatal(err)
	}
	if n := counter.requests("PUT"); n != puts {
		t.Errorf("the rerun sent %d PUTs:\n%s", n-puts, strings.Join(log, "\n"))
	}

	// The installer's side.
	get := func(rel string) []byte {
		t.Helper()
		resp, err := http.Get(srv.URL + "plugins/" + rel)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %s", rel, resp.Status)
		}
		return b
	}
	var index []map[string]any
	if err := json.Unmarshal(get("8.1/rpkg.index"), &index); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range index {
		paths = append(paths, fmt.Sprint(e["path"]))
	}
	want := []string{"./8.1/other/release/rudder-plugin-other-8.1.0-1.0.rpkg",
		"./8.1/backplane/release/rudder-plugin-backplane-8.1.0-0.26.rpkg",
		"./8.1/backplane/release/rudder-plugin-backplane-8.1.0-0.27.rpkg"}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Fatalf("index paths %q, want %q", paths, want)
	}
	for _, e := range index[1:] {
		if e["name"] != "rudder-plugin-backplane" || e["type"] != "plugin" || e["build-commit"] == nil {
			t.Errorf("index entry %v lacks the package's metadata", e)
		}
		dir := t.TempDir()
		rel := strings.TrimPrefix(fmt.Sprint(e["path"]), "./")
		for _, f := range []string{rel, path.Dir(rel) + "/SHA512SUMS", path.Dir(rel) + "/SHA512SUMS.asc"} {
			os.WriteFile(filepath.Join(dir, path.Base(f)), get(f), 0o644)
		}
		r := packtest.Exec(t, dir, nil, "sha512sum", "--ignore-missing", "-c", "SHA512SUMS")
		if r.Code != 0 || !strings.Contains(r.Stdout, path.Base(rel)+": OK") {
			t.Errorf("sha512sum -c: %s%s", r.Stdout, r.Stderr)
		}
		v := packtest.Exec(t, dir, gpg.Env(), "gpg", "--batch", "--verify", "SHA512SUMS.asc", "SHA512SUMS")
		if v.Code != 0 || !strings.Contains(v.Stderr, "Good signature") {
			t.Errorf("gpg --verify SHA512SUMS.asc: %s", v.Stderr)
		}
	}
}
