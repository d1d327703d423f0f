package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/sign"
)

// TestAptGet publishes two releases into a static apt repository on
// nginx and reads it with apt-get update (signed-by the key, so InRelease
// must verify) and apt-cache: both versions are there, a rerun uploads
// nothing, and apt-get download fetches the debs.
func TestAptGet(t *testing.T) {
	packtest.Need(t, "dpkg-scanpackages", "apt-ftparchive", "apt-get")
	ctx := context.Background()
	srv := startNginx(t)
	counter := startFaultyProxy(t, srv.URL, 0)
	gpg, key := repoKey(t)
	target := &buildspec.PublishTarget{Name: "debian", Type: buildspec.PublishApt,
		URL: counter.URL + "apt", Packages: []string{"bookworm_64"}, Suite: "{{dist}}", Component: "main",
		UsernameEnv: "REPO_USER", PasswordEnv: "REPO_PASSWORD"}
	fl := testFlavour(target)
	env := map[string]string{"REPO_USER": srv.User, "REPO_PASSWORD": srv.Pass}
	var log []string
	publish := func(dist, v string) error {
		log = nil
		_, err := Publish(ctx, Options{
			Spec: &buildspec.Spec{File: "buildspec.yaml"}, Flavour: fl, Dist: dist, Version: v, Key: key,
			Getenv:    func(k string) string { return env[k] },
			Logf:      func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)); t.Logf(f, a...) },
			Transport: &Transport{Backoff: 1, MaxBackoff: 1},
		})
		return err
	}
	// The suite has an arm64 index already, gzipped only, listing another
	// package: it must stay, and Release must match the files served.
	seed := filepath.Join(srv.Root, "apt", "dists", "bookworm")
	os.MkdirAll(filepath.Join(seed, "main", "binary-arm64"), 0o755)
	os.WriteFile(filepath.Join(seed, "Release"), []byte("Suite: bookworm\nArchitectures: arm64\nComponents: main\n"), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("Package: other\nVersion: 1.0\nArchitecture: arm64\nMaintainer: x <x@example.com>\n" +
		"Filename: pool/main/o/other/other_1.0_arm64.deb\nSize: 1\nSHA256: " + strings.Repeat("0", 64) + "\nDescription: other\n"))
	zw.Close()
	os.WriteFile(filepath.Join(seed, "main", "binary-arm64", "Packages.gz"), gz.Bytes(), 0o644)

	v1, v2 := release(t, "0.26.0acme", nil), release(t, "0.26.1acme", nil)
	if err := publish(v1, "0.26.0acme"); err != nil {
		t.Fatal(err)
	}
	if err := publish(v2, "0.26.1acme"); err != nil {
		t.Fatal(err)
	}
	puts := counter.requests("PUT")
	if err := publish(v2, "0.26.1acme"); err != nil {
		t.Fatal(err)
	}
	if n := counter.requests("PUT"); n != puts {
		t.Errorf("republishing the same release sent %d PUTs:\n%s", n-puts, strings.Join(log, "\n"))
	}

	root := t.TempDir()
	for _, d := range []string{"etc/apt/sources.list.d", "etc/apt/preferences.d", "var/lib/apt/lists/partial",
		"var/cache/apt/archives/partial", "var/lib/dpkg", "download"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644)
	sources := fmt.Sprintf("deb [arch=amd64,arm64 signed-by=%s] %sapt bookworm main\n", gpg.Public, srv.URL)
	os.WriteFile(filepath.Join(root, "etc/apt/sources.list"), []byte(sources), 0o644)
	opts := []string{"-o", "Dir=" + root, "-o", "Dir::State::status=" + filepath.Join(root, "var/lib/dpkg/status"),
		"-o", "Dir::Etc::trustedparts=" + filepath.Join(root, "etc/apt/trusted.gpg.d"),
		"-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1", "-o", "APT::Architecture=amd64",
		"-o", "APT::Architectures=amd64,arm64"}
	out := packtest.Run(t, nil, "apt-get", append(opts, "update")...)
	if strings.Contains(out, "W:") || strings.Contains(out, "E:") {
		t.Errorf("apt-get update warned:\n%s", out)
	}
	madison := packtest.Output(t, nil, "apt-cache", append(opts, "madison", "backplane")...)
	for _, v := range []string{"0.26.0acme-1", "0.26.1acme-1"} {
		if !strings.Contains(madison, v) {
			t.Errorf("apt-cache madison lacks %s:\n%s", v, madison)
		}
	}
	if other := packtest.Output(t, nil, "apt-cache", append(opts, "madison", "other:arm64")...); !strings.Contains(other, "1.0") {
		t.Errorf("the arm64 index lost its package:\n%s", other)
	}
	dl := packtest.Exec(t, filepath.Join(root, "download"), nil, "apt-get", append(opts, "download", "backplane=0.26.0acme-1")...)
	if dl.Code != 0 {
		t.Fatalf("apt-get download: %s%s", dl.Stdout, dl.Stderr)
	}
	debs, _ := filepath.Glob(filepath.Join(root, "download", "*.deb"))
	if len(debs) != 1 {
		t.Errorf("apt-get download fetched %v", debs)
	}

	// A Release whose InRelease is signed by another key fails update.
	other := packtest.GPGKey(t, "other")
	otherKey, err := sign.FromSigning(&pack.Signing{KeyFile: other.Private, Passphrase: "other"})
	if err != nil {
		t.Fatal(err)
	}
	dists := filepath.Join(srv.Root, "apt", "dists", "bookworm")
	if err := clearsignFile(&Job{Key: otherKey}, filepath.Join(dists, "Release"), filepath.Join(dists, "InRelease")); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(root, "var/lib/apt/lists"))
	os.MkdirAll(filepath.Join(root, "var/lib/apt/lists/partial"), 0o755)
	r := packtest.Exec(t, "", nil, "apt-get", append(opts, "update")...)
	if !strings.Contains(r.Stdout+r.Stderr, "NO_PUBKEY") && !strings.Contains(r.Stdout+r.Stderr, "not signed") {
		t.Errorf("apt-get update took an InRelease signed by another key:\n%s%s", r.Stdout, r.Stderr)
	}
}
