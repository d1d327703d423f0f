package publish

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/packtest"
)

// startAptly runs a real aptly API server on 127.0.0.1 with a local repo
// "backplane" published once for bookworm (amd64), signed with key, and
// returns the API's URL and the directory aptly publishes into.
func startAptly(t *testing.T, key packtest.Key) (api, public string) {
	t.Helper()
	packtest.Need(t, "aptly")
	dir := t.TempDir()
	conf := filepath.Join(dir, "aptly.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`{"rootDir": %q, "gpgProvider": "gpg", "architectures": ["amd64"]}`, filepath.Join(dir, "root"))), 0o644)
	aptly := func(args ...string) {
		t.Helper()
		packtest.Run(t, key.Env(), "aptly", append([]string{"-config=" + conf}, args...)...)
	}
	aptly("repo", "create", "-distribution=bookworm", "-component=main", "backplane")
	aptly("publish", "repo", "-architectures=amd64", "-batch", "backplane")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command("aptly", "-config="+conf, "api", "serve", "-listen="+addr, "-no-lock")
	cmd.Env = append(os.Environ(), key.Env()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test binary
	log := filepath.Join(dir, "api.log")
	f, _ := os.Create(log)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); f.Close() })
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log)
			t.Fatalf("aptly api serve did not listen:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://" + addr + "/", filepath.Join(dir, "root", "public")
}

// TestAptlyAPI publishes two releases through a real aptly server, then
// reads what aptly published with apt-get (signed-by the server's key):
// both versions are there; a rerun uploads no deb, and a different deb
// of a published version is a conflict.
func TestAptlyAPI(t *testing.T) {
	packtest.Need(t, "apt-get")
	ctx := context.Background()
	key := packtest.GPGKey(t, "")
	api, public := startAptly(t, key)
	counter := startFaultyProxy(t, api, 0)
	target := &buildspec.PublishTarget{Name: "aptly", Type: buildspec.PublishAptly, URL: counter.URL,
		Packages: []string{"bookworm_64"}, Repo: "backplane", Suite: "{{dist}}", Prefix: "."}
	fl := testFlavour(target)
	var log []string
	publish := func(dist string, overwrite bool) error {
		log = nil
		_, err := Publish(ctx, Options{
			Spec: &buildspec.Spec{File: "buildspec.yaml"}, Flavour: fl, Dist: dist, Version: "x", Overwrite: overwrite,
			Logf:      func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)); t.Logf(f, a...) },
			Transport: &Transport{Backoff: 1, MaxBackoff: 1},
		})
		return err
	}
	if err := publish(release(t, "0.26.0acme", nil), false); err != nil {
		t.Fatal(err)
	}
	v2 := release(t, "0.26.1acme", nil)
	if err := publish(v2, false); err != nil {
		t.Fatal(err)
	}
	posts := counter.requests("POST")
	if err := publish(v2, false); err != nil {
		t.Fatal(err)
	}
	if n := counter.requests("POST"); n != posts {
		t.Errorf("the rerun sent %d POSTs:\n%s", n-posts, strings.Join(log, "\n"))
	}

	root := t.TempDir()
	for _, d := range []string{"etc/apt/preferences.d", "etc/apt/sources.list.d", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644)
	os.WriteFile(filepath.Join(root, "etc/apt/sources.list"),
		[]byte(fmt.Sprintf("deb [arch=amd64 signed-by=%s] file:%s bookworm main\n", key.Public, public)), 0o644)
	opts := []string{"-o", "Dir=" + root, "-o", "Dir::State::status=" + filepath.Join(root, "var/lib/dpkg/status"),
		"-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1", "-o", "APT::Architecture=amd64"}
	if out := packtest.Run(t, nil, "apt-get", append(opts, "update")...); strings.Contains(out, "W:") || strings.Contains(out, "E:") {
		t.Errorf("apt-get update:\n%s", out)
	}
	madison := packtest.Output(t, nil, "apt-cache", append(opts, "madison", "backplane")...)
	if !strings.Contains(madison, "0.26.0acme-1") || !strings.Contains(madison, "0.26.1acme-1") {
		t.Errorf("apt-cache madison:\n%s", madison)
	}

	// Another build of 0.26.1acme (unsigned vs. signed: other bytes).
	other := release(t, "0.26.1acme", func() *packtest.Key { k := packtest.GPGKey(t, "x"); return &k }())
	err := publish(other, false)
	if err == nil || !strings.Contains(err.Error(), "a different file already exists there") {
		t.Errorf("a different deb of a published version: %v", err)
	}
	if err := publish(other, true); err != nil {
		t.Errorf("--overwrite: %v", err)
	}
	// A publish point that does not exist says what to do.
	target.Suite = "trixie"
	err = publish(other, false)
	if err == nil || !strings.Contains(err.Error(), "publish the repo once with aptly first") || !strings.Contains(err.Error(), "not found") {
		t.Errorf("no publish point: %v", err)
	}
}
