package rpmspec_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/packyard/packyard/bench/payload"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/rpmspec"
)

// BenchmarkWriteGoBinary is the part of the rpmbuild builder that is
// Packyard's own: render the spec and copy an 8 MiB Go-binary payload into
// SOURCES. rpmbuild itself is measured by bench/run-packaging.sh.
func BenchmarkWriteGoBinary(b *testing.B) {
	tmp := b.TempDir()
	src := filepath.Join(tmp, "payload")
	const size = 8 << 20
	if err := payload.WriteFile(src, size); err != nil {
		b.Fatal(err)
	}
	tarball := filepath.Join(tmp, "bench-1.0.0.tar.gz")
	if err := os.WriteFile(tarball, []byte("stand-in source release"), 0o644); err != nil {
		b.Fatal(err)
	}
	info := &pack.Info{
		Name: "bench", Version: "1.0.0", Release: "1", Arch: "x86_64", License: "Apache-2.0",
		Summary: "Benchmark payload", MTime: time.Unix(1700000000, 0),
		Contents: []pack.Content{{Type: pack.File, Source: src, Destination: "/usr/bin/bench", Mode: 0o755}},
	}
	top := filepath.Join(tmp, "top")
	b.SetBytes(size)
	for b.Loop() {
		if _, err := rpmspec.Write(info, tarball, top); err != nil {
			b.Fatal(err)
		}
	}
}
