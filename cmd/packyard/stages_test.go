package main

import (
	"os"
	"path/filepath"
	"testing"
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
	for _, f := range []string{
		"backplane-0.26.0acme.tar.gz",
		"binaries/backplane-0.26.0acme-linux-amd64",
		acmeDeb, acmeRpkg, acmeEL8,
		"srpm/backplane-0.26.0acme-1.el8.src.rpm",
	} {
		if a, b := sha256File(t, filepath.Join(want, f)), sha256File(t, filepath.Join(out, f)); a != b {
			t.Errorf("%s: build gives %s, the stages one by one %s", f, a, b)
		}
	}
}
