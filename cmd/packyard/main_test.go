package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
)

// packyardBin is the packyard binary the acceptance tests run, built once
// by TestMain: pre commands call it through go generate, so it must be a
// real executable on PATH.
var packyardBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "packyard-bin-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	packyardBin = filepath.Join(dir, "packyard")
	out, err := exec.Command("go", "build", "-o", packyardBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building packyard: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// repoRoot is the root of this repository.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// result is how a packyard run ended, with the field names the CLI's
// tests read.
type result struct {
	code           int
	stdout, stderr string
}

// packyardEnv is the environment packyard runs in, besides the test's:
// PATH leads to the binary, so that the pre commands it runs find it too,
// progress lines are plain, and packyard build neither reads nor writes
// the user's stage cache, so that every build the tests compare really
// runs (the cache's own tests turn it on in a directory of their own).
func packyardEnv() []string {
	return []string{"PATH=" + filepath.Dir(packyardBin) + string(os.PathListSeparator) + os.Getenv("PATH"), "NO_COLOR=1", "PACKYARD_NO_CACHE=1"}
}

// packyard runs the binary in dir with env added to packyardEnv.
func packyard(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	r := packtest.Exec(t, dir, append(packyardEnv(), env...), packyardBin, args...)
	return result{r.Code, r.Stdout, r.Stderr}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// copyDir copies src to dst with cp -a, the way a user copies a tree.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	packtest.Run(t, nil, "cp", "-a", src, dst)
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range []string{"build", "plan", "codegen", "compile", "source", "version", "package", "rpmspec", "checksums", "verify", "inspect"} {
		r := packyard(t, t.TempDir(), nil, c, "--help")
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "packyard "+c) {
			t.Errorf("%s --help: code %d\n%s%s", c, r.code, r.stdout, r.stderr)
		}
	}
}

func TestProgressLines(t *testing.T) {
	dir := t.TempDir()
	r := packyard(t, repoRoot(t), nil, "source", "--source", "examples/backplane", "--build", "acme", "--version", "0.26.0acme", "--out", dir)
	if r.code != 0 {
		t.Fatalf("source: %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "start source\n") || !strings.Contains(r.stderr, "done  source (") {
		t.Errorf("progress lines missing:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "\x1b[") {
		t.Errorf("colour with NO_COLOR set:\n%q", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "backplane-0.26.0acme.tar.gz")); err != nil {
		t.Error(err)
	}
}

// buildAcme runs the engine-less build of the example and returns dist/.
func buildAcme(t *testing.T, cwd, source string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "dist")
	args := append([]string{"build", "--source", source, "--build", "acme", "--version", "0.26.0acme", "--out", out}, extra...)
	r := packyard(t, cwd, nil, args...)
	if r.code != 0 {
		t.Fatalf("packyard %s: exit %d\n%s\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return out
}

func TestBuildExampleAcme(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
	// The build the package tests share (acmeDist), not one more.
	shared := acmeDist(t)
	dist := shared.dist

	for _, f := range []string{
		"backplane-0.26.0acme.tar.gz",
		"binaries/backplane-0.26.0acme-linux-amd64",
		"binaries/backplane-0.26.0acme-linux-arm64",
	} {
		if _, err := os.Stat(filepath.Join(dist, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	bin := filepath.Join(dist, "binaries/backplane-0.26.0acme-linux-amd64")
	if runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		out := packtest.Run(t, nil, bin, "buildinfo")
		// The commit the build saw: HEAD moves when someone commits meanwhile.
		if !slices.Contains(shared.heads[:], shared.commit) {
			t.Errorf("the build saw commit %s, HEAD was %s then %s", shared.commit, shared.heads[0], shared.heads[1])
		}
		for _, want := range []string{"0.26.0acme", shared.commit, "/etc/acme/backplane/provisioning.jwt", "rpcagent", "github.com/acme/backplane-rpcagent", "ping", "health"} {
			if !strings.Contains(out, want) {
				t.Errorf("buildinfo lacks %q:\n%s", want, out)
			}
		}
	}
	mod := packtest.Run(t, nil, "go", "version", "-m", bin)
	if !strings.Contains(mod, "github.com/acme/backplane-rpcagent") {
		t.Errorf("go version -m lacks the agent module:\n%s", mod)
	}
	if !strings.Contains(mod, "-trimpath=true") {
		t.Errorf("not built with -trimpath:\n%s", mod)
	}
}

// TestBuildIsReproducible builds the example from the repository, from a
// clone elsewhere, and from its own unpacked source release (no .git):
// every artifact (binaries, tarball, rpm, srpm, deb, rpkg) and SHA256SUMS
// must be byte-identical. The repository build is the one the package
// tests share (acmeDist).
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example three times")
	}
	root := repoRoot(t)
	shared := acmeDist(t)
	first := shared.dist

	// A clone in another directory, built later, at the commit the first
	// build saw (HEAD may have moved since).
	clone := filepath.Join(t.TempDir(), "elsewhere")
	packtest.Run(t, nil, "git", "clone", "-q", root, clone)
	packtest.Run(t, nil, "git", "-C", clone, "checkout", "-q", shared.commit)
	second := buildAcme(t, t.TempDir(), filepath.Join(clone, "examples/backplane"))

	// The unpacked source release, with no .git and no --version.
	unpacked := t.TempDir()
	packtest.Run(t, nil, "tar", "-xzf", filepath.Join(first, "backplane-0.26.0acme.tar.gz"), "-C", unpacked)
	third := filepath.Join(t.TempDir(), "dist")
	r := packyard(t, filepath.Join(unpacked, "backplane-0.26.0acme"), nil, "build", "--build", "acme", "--out", third)
	if r.code != 0 {
		t.Fatalf("build from the release: %d\n%s", r.code, r.stderr)
	}

	sums, err := os.ReadFile(filepath.Join(first, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"SHA256SUMS"}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			files = append(files, f[1])
		}
	}
	for _, want := range []string{
		"backplane-0.26.0acme.tar.gz",
		"binaries/backplane-0.26.0acme-linux-amd64",
		"binaries/backplane-0.26.0acme-linux-arm64",
		"rpm/backplane-0.26.0acme-1.el8.x86_64.rpm",
		"srpm/x86_64/backplane-0.26.0acme-1.el8.src.rpm",
		"deb/backplane_0.26.0acme-1_amd64.deb",
		"rpkg/rudder-plugin-backplane-8.1.0-0.26.rpkg",
	} {
		if !slices.Contains(files, want) {
			t.Errorf("SHA256SUMS does not list %s:\n%s", want, sums)
		}
	}
	for _, f := range files {
		a, b, c := sha256File(t, filepath.Join(first, f)), sha256File(t, filepath.Join(second, f)), sha256File(t, filepath.Join(third, f))
		if a != b || a != c {
			t.Errorf("%s differs: repo %s, clone %s, release %s", f, a, b, c)
		}
	}
}

// TestSelfPlan checks that Packyard's own packager/ plans at the
// repository root with no --source: the CLI for linux and darwin, amd64
// and arm64, as rpm, deb and tarballs.
func TestSelfPlan(t *testing.T) {
	r := packyard(t, repoRoot(t), nil, "plan", "--version", "1.0.0", "--json")
	if r.code != 0 {
		t.Fatalf("plan: %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		`"binaries/packyard-1.0.0-darwin-arm64"`, `"binaries/packyard-1.0.0-linux-amd64"`,
		`"rpm/packyard-1.0.0-1.el9.x86_64.rpm"`, `"srpm/x86_64/packyard-1.0.0-1.el9.src.rpm"`,
		`"deb/packyard_1.0.0-1_arm64.deb"`, `"tarball/packyard-1.0.0-darwin-amd64.tar.gz"`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %s", want)
		}
	}
}
