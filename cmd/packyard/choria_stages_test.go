package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestChoriaStagesOneByOne runs testdata/choria through the subcommands
// the Dagger module runs, each stage given only the spec and what it
// reads: every artifact must equal packyard build's, byte for byte.
func TestChoriaStagesOneByOne(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fixture twice")
	}
	t.Parallel()
	env := []string{"SOURCE_DATE_EPOCH=1709294400"}
	globals := []string{"--version", "0.29.0"}
	src := filepath.Join(t.TempDir(), "choria")
	copyDir(t, "testdata/choria", src)
	want := filepath.Join(t.TempDir(), "dist")
	if r := packyard(t, src, env, append([]string{"build", "--out", want}, globals...)...); r.code != 0 {
		t.Fatalf("build: %d\n%s", r.code, r.stderr)
	}

	out := t.TempDir()
	if r := packyard(t, src, env, append([]string{"source", "--out", out}, globals...)...); r.code != 0 {
		t.Fatalf("source: %d\n%s", r.code, r.stderr)
	}
	tarball := filepath.Join(out, "choria-0.29.0.tar.gz")
	spec := filepath.Join(t.TempDir(), "project")
	if err := os.MkdirAll(filepath.Join(spec, "packager"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyDir(t, filepath.Join(src, "packager/buildspec.yaml"), filepath.Join(spec, "packager"))

	var steps [][]string
	for _, target := range []string{"64bit_linux", "arm64_linux", "armv7_linux", "64bit_windows"} {
		steps = append(steps, []string{"compile", "--tarball", tarball, "--target", target, "--out", out})
	}
	for _, p := range []string{"el8_64", "el8_aarch64", "bookworm_64", "bookworm_armhf", "linux_64_tarball", "windows_64_zip"} {
		steps = append(steps, []string{"package", "--package", p, "--binaries", filepath.Join(out, "binaries"), "--tarball", tarball, "--out", out})
	}
	for _, s := range steps {
		args := append(append(s[:1:1], "--source", spec), append(globals, s[1:]...)...)
		if r := packyard(t, t.TempDir(), env, args...); r.code != 0 {
			t.Fatalf("%v: %d\n%s", args, r.code, r.stderr)
		}
	}
	for _, f := range []string{
		"choria-0.29.0.tar.gz",
		"binaries/choria-0.29.0-linux-amd64", "binaries/choria-0.29.0-linux-arm", "binaries/choria-0.29.0-windows-amd64",
		"deb/choria_0.29.0-1_amd64.deb", "deb/choria_0.29.0-1_armhf.deb",
		"rpm/choria-0.29.0-1.el8.x86_64.rpm", "rpm/choria-0.29.0-1.el8.aarch64.rpm",
		"srpm/x86_64/choria-0.29.0-1.el8.src.rpm", "srpm/aarch64/choria-0.29.0-1.el8.src.rpm",
		"tarball/choria-0.29.0-linux-amd64.tar.gz", "tarball/choria-0.29.0-windows-amd64.zip",
	} {
		if a, b := sha256File(t, filepath.Join(want, f)), sha256File(t, filepath.Join(out, f)); a != b {
			t.Errorf("%s: build gives %s, the stages one by one %s", f, a, b)
		}
	}
}
