package stage

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSeveralArchesOfOneDist plans el packages of one dist for three
// arches, as Choria builds them: each srpm carries its arch's binary, so
// each gets its own place (srpm/ARCH/), and the plan has no collision.
func TestSeveralArchesOfOneDist(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1709294400")
	dir := t.TempDir()
	spec := `
foss:
  compile_targets:
    64bit_linux: {os: linux, arch: amd64}
    arm64_linux: {os: linux, arch: arm64}
    ppc64le_linux: {os: linux, arch: ppc64le}
  packages:
    defaults: {template: el/el8, name: app, bindir: /usr/bin, etcdir: /etc/app, dist: el8}
    el8_64: {target_arch: x86_64-linux-gnu, binary: 64bit_linux}
    el8_aarch64: {target_arch: aarch64, binary: arm64_linux}
    el8_ppc64le: {binary: ppc64le_linux}
`
	if err := os.MkdirAll(filepath.Join(dir, "packager"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "packager/buildspec.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(context.Background(), Options{Source: dir, Version: "0.29.0", Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var outs []string
	for _, s := range c.Plan.Stages {
		if s.Kind == "package" {
			outs = append(outs, s.Outputs...)
		}
	}
	slices.Sort(outs)
	want := []string{
		"rpm/app-0.29.0-1.el8.aarch64.rpm", "rpm/app-0.29.0-1.el8.ppc64le.rpm", "rpm/app-0.29.0-1.el8.x86_64.rpm",
		"srpm/aarch64/app-0.29.0-1.el8.src.rpm", "srpm/ppc64le/app-0.29.0-1.el8.src.rpm", "srpm/x86_64/app-0.29.0-1.el8.src.rpm",
	}
	if !slices.Equal(outs, want) {
		t.Errorf("outputs\n got %v\nwant %v", outs, want)
	}
}
