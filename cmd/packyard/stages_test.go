package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack/rpmspec"
)

// TestStagesOneByOne runs the stages as separate subcommands, the way the
// Dagger module runs them in separate containers: the source release
// first, then compile and package each given only the spec and the
// release. Every file must equal what packyard build made in one go.
func TestStagesOneByOne(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
	want := acmeDist(t).dist
	root := repoRoot(t)
	out := t.TempDir()
	globals := []string{"--build", "acme", "--version", "0.26.0acme"}

	r := packyard(t, root, nil, append([]string{"source", "--source", "examples/backplane", "--out", out}, globals...)...)
	if r.code != 0 {
		t.Fatalf("source: %d\n%s", r.code, r.stderr)
	}
	tarball := filepath.Join(out, "backplane-0.26.0acme.tar.gz")

	// What a stage container holds besides the release: the spec alone,
	// no .git and no sources.
	spec := filepath.Join(t.TempDir(), "project")
	if err := os.MkdirAll(filepath.Join(spec, "packager"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyDir(t, filepath.Join(root, "examples/backplane/packager/buildspec.yaml"), filepath.Join(spec, "packager"))

	steps := [][]string{
		{"compile", "--tarball", tarball, "--target", "64bit_linux", "--out", out},
		{"package", "--package", "bookworm_64", "--binaries", filepath.Join(out, "binaries"), "--tarball", tarball, "--out", out},
		{"package", "--package", "rudder", "--binaries", filepath.Join(out, "binaries"), "--tarball", tarball, "--out", out},
		{"package", "--package", "el8_64", "--binaries", filepath.Join(out, "binaries"), "--tarball", tarball, "--out", out},
	}
	for _, s := range steps {
		args := append(append(s[:1:1], "--source", spec), append(globals, s[1:]...)...)
		if r := packyard(t, t.TempDir(), nil, args...); r.code != 0 {
			t.Fatalf("%v: %d\n%s", args, r.code, r.stderr)
		}
	}
	// The mock-style rpm of the Dagger module: packyard rpmspec, then the
	// one rpmbuild command line (in the module, inside the EL container).
	top := filepath.Join(t.TempDir(), "top")
	args := append(append([]string{"rpmspec", "--source", spec}, globals...), "--package", "el8_64",
		"--binaries", filepath.Join(out, "binaries"), "--tarball", tarball, "--out", top)
	if r := packyard(t, t.TempDir(), nil, args...); r.code != 0 {
		t.Fatalf("%v: %d\n%s", args, r.code, r.stderr)
	}
	argv := rpmspec.Argv("-ba", top, filepath.Join(top, "SPECS", "backplane.spec"), "x86_64")
	if b, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%q: %v\n%s", argv, err, b)
	}
	// The default builder writes the srpm in Go, not with rpmbuild: its
	// bytes differ from rpmbuild's, what rpm reads from it must not.
	for _, q := range [][]string{
		{"-qpi"}, {"-qp", "--requires", "--provides", "--changelog"},
		{"-qp", "--qf", `[%{FILENAMES} %{FILEFLAGS} %{FILEMODES:octal} %{FILESIZES} %{FILEDIGESTS}\n]`},
	} {
		a := packtest.Output(t, nil, "rpm", append(q, filepath.Join(want, "srpm/x86_64/backplane-0.26.0acme-1.el8.src.rpm"))...)
		b := packtest.Output(t, nil, "rpm", append(q, filepath.Join(top, "SRPMS/backplane-0.26.0acme-1.el8.src.rpm"))...)
		if a != b {
			t.Errorf("srpm: rpm %s: build gives\n%s\nrpmspec + rpmbuild\n%s", strings.Join(q, " "), a, b)
		}
	}
	if _, err := os.Stat(filepath.Join(top, "RPMS/x86_64/backplane-0.26.0acme-1.el8.x86_64.rpm")); err != nil {
		t.Error(err)
	}

	for _, f := range []string{
		"backplane-0.26.0acme.tar.gz",
		"binaries/backplane-0.26.0acme-linux-amd64",
		acmeDeb, acmeRpkg, acmeEL8,
		"srpm/x86_64/backplane-0.26.0acme-1.el8.src.rpm",
	} {
		if a, b := sha256File(t, filepath.Join(want, f)), sha256File(t, filepath.Join(out, f)); a != b {
			t.Errorf("%s: build gives %s, the stages one by one %s", f, a, b)
		}
	}
}

// TestPreCommandsFindPackyard compiles the example with packyard on no
// PATH, as `go run ./cmd/packyard` does: the spec's go generate directive
// calls packyard, and must run this binary.
func TestPreCommandsFindPackyard(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Dir(goBin) + ":/usr/bin:/bin"
	out := t.TempDir()
	r := packyard(t, repoRoot(t), []string{"PATH=" + path}, "compile", "--source", "examples/backplane",
		"--build", "acme", "--version", "0.26.0acme", "--target", "64bit_linux", "--out", out)
	if r.code != 0 {
		t.Fatalf("compile with PATH=%s: %d\n%s", path, r.code, r.stderr)
	}
	b, err := exec.Command(filepath.Join(out, "binaries/backplane-0.26.0acme-linux-amd64"), "buildinfo").CombinedOutput()
	if err != nil || !strings.Contains(string(b), "rpcagent") {
		t.Errorf("buildinfo: %v\n%s", err, b)
	}
}

// TestChecksumsOfADist runs packyard checksums on a dist/ made by the
// stages elsewhere (as the Dagger module does): SHA256SUMS and
// manifest.json must be those packyard build writes.
func TestChecksumsOfADist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the example")
	}
	want := acmeDist(t).dist
	dist := filepath.Join(t.TempDir(), "dist")
	copyDir(t, want, dist)
	for _, f := range []string{"SHA256SUMS", "manifest.json"} {
		if err := os.Remove(filepath.Join(dist, f)); err != nil {
			t.Fatal(err)
		}
	}
	r := packyard(t, repoRoot(t), nil, "checksums", "--source", "examples/backplane", "--build", "acme",
		"--version", "0.26.0acme", "--dist", dist)
	if r.code != 0 {
		t.Fatalf("checksums: %d\n%s", r.code, r.stderr)
	}
	for _, f := range []string{"SHA256SUMS", "manifest.json"} {
		if a, b := sha256File(t, filepath.Join(want, f)), sha256File(t, filepath.Join(dist, f)); a != b {
			w, _ := os.ReadFile(filepath.Join(want, f))
			g, _ := os.ReadFile(filepath.Join(dist, f))
			t.Errorf("%s differs from build's:\n%s\nwant:\n%s", f, g, w)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dist), ".dist.tmp-*")); len(left) != 0 {
		t.Errorf("staging left behind: %v", left)
	}
}

// TestSharedPreCommands builds three targets: two whose pre commands and
// env are the same share one run of them, the third (its own env) runs
// them itself; every binary holds what the pre commands generated.
func TestSharedPreCommands(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/pre\n\ngo 1.26\n",
		"main.go": "package main\n\nvar version string\n\nfunc main() { println(gen, version) }\n",
		"packager/buildspec.yaml": `flags_map:
  Version: main.version
foss:
  compile_targets:
    defaults:
      output: pre-{{version}}-{{os}}-{{arch}}
      pre:
        - echo "run${EXTRA:+ $EXTRA}" >> "$PRE_LOG"
        - printf 'package main\n\nconst gen = "generated"\n' > gen.go
    a: {os: linux, arch: amd64}
    b: {os: linux, arch: arm64}
    c: {os: linux, arch: "386", env: [EXTRA=1]}
`,
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log := filepath.Join(t.TempDir(), "pre.log")
	dist := filepath.Join(t.TempDir(), "dist")
	r := packyard(t, src, []string{"SOURCE_DATE_EPOCH=1709294400", "PRE_LOG=" + log, "GOFLAGS=-mod=mod", "GOPROXY=off"},
		"build", "--version", "1.0.0", "--out", dist)
	if r.code != 0 {
		t.Fatalf("packyard build: exit %d\n%s", r.code, r.stderr)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	runs := strings.Split(strings.TrimSpace(string(b)), "\n")
	slices.Sort(runs)
	if want := []string{"run", "run 1"}; !slices.Equal(runs, want) {
		t.Errorf("pre commands ran as %q, want %q (once for a and b, once for c)", runs, want)
	}
	for _, arch := range []string{"amd64", "arm64", "386"} {
		bin, err := os.ReadFile(filepath.Join(dist, "binaries", "pre-1.0.0-linux-"+arch))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(bin), "generated") {
			t.Errorf("%s binary lacks what the pre commands generated", arch)
		}
	}
}
