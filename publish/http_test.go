package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packyard/packyard/buildspec"
)

// TestHTTPPublish publishes a release's every file under a versioned URL
// on nginx: a dry run writes nothing, a real run sends the artifacts
// before SHA256SUMS and manifest.json, a rerun sends nothing, and a
// different release under the same version is a conflict.
func TestHTTPPublish(t *testing.T) {
	ctx := context.Background()
	srv := startNginx(t)
	counter := startFaultyProxy(t, srv.URL, 0)
	target := &buildspec.PublishTarget{Name: "files", Type: buildspec.PublishHTTP,
		URL: counter.URL + "releases/{{version}}", UsernameEnv: "U", PasswordEnv: "P"}
	fl := testFlavour(target)
	var log []string
	publish := func(dist string, dry bool, getenv func(string) string) error {
		log = nil
		_, err := Publish(ctx, Options{
			Spec: &buildspec.Spec{File: "buildspec.yaml"}, Flavour: fl, Dist: dist, Version: "0.26.0acme",
			DryRun: dry, Getenv: getenv,
			Logf:      func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)) },
			Transport: &Transport{Backoff: 1, MaxBackoff: 1},
		})
		return err
	}
	env := func(k string) string { return map[string]string{"U": srv.User, "P": srv.Pass}[k] }
	dist := release(t, "0.26.0acme", nil)

	err := publish(dist, false, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "$U is not set") {
		t.Errorf("without credentials: %v", err)
	}
	if err := publish(dist, true, env); err != nil {
		t.Fatal(err)
	}
	if n := counter.requests("PUT"); n != 0 {
		t.Errorf("the dry run sent %d PUTs", n)
	}
	if len(log) == 0 || !strings.Contains(log[0], "would upload") {
		t.Errorf("the dry run says %q", log)
	}
	if err := publish(dist, false, env); err != nil {
		t.Fatal(err)
	}
	want := []string{"backplane-0.26.0acme.tar.gz", "deb/backplane_0.26.0acme-1_amd64.deb",
		"rpm/backplane-0.26.0acme-1.el8.x86_64.rpm", "SHA256SUMS", "manifest.json"}
	var order []string
	for _, l := range log {
		if rel, ok := strings.CutPrefix(l, "publish files: upload "+counter.URL+"releases/0.26.0acme/"); ok {
			order = append(order, strings.Fields(rel)[0])
		}
	}
	if !slices.Equal(order, want) {
		t.Errorf("upload order %q, want %q", order, want)
	}
	for _, f := range want {
		a, _ := os.ReadFile(filepath.Join(dist, f))
		b, err := os.ReadFile(filepath.Join(srv.Root, "releases", "0.26.0acme", f))
		if err != nil || string(a) != string(b) {
			t.Errorf("%s on the server differs (%v)", f, err)
		}
	}
	puts := counter.requests("PUT")
	if err := publish(dist, false, env); err != nil {
		t.Fatal(err)
	}
	if n := counter.requests("PUT"); n != puts {
		t.Errorf("the rerun sent %d PUTs", n-puts)
	}
	other := release(t, "0.26.0acme", nil)
	os.WriteFile(filepath.Join(other, "backplane-0.26.0acme.tar.gz"), []byte("another source"), 0o644)
	err = publish(other, false, env)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "backplane-0.26.0acme.tar.gz") {
		t.Errorf("a different file under a published name: %v", err)
	}
}
