package tarball_test

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/packyard/packyard/bench/payload"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/tarball"
)

// BenchmarkPackageGoBinary writes a tar.gz of one 8 MiB Go-binary payload
// (read from disk, as the package stage gives it); bench/run-packaging.sh
// measures 64 MiB against tar and gzip -9.
func BenchmarkPackageGoBinary(b *testing.B) {
	src := filepath.Join(b.TempDir(), "payload")
	const size = 8 << 20
	if err := payload.WriteFile(src, size); err != nil {
		b.Fatal(err)
	}
	info := &pack.Info{
		Name: "bench", Version: "1.0.0", Release: "1", Arch: "amd64", License: "Apache-2.0",
		Summary: "Benchmark payload", MTime: time.Unix(1700000000, 0),
		Contents: []pack.Content{{Type: pack.File, Source: src, Destination: "/usr/bin/bench", Mode: 0o755}},
	}
	b.SetBytes(size)
	for b.Loop() {
		if err := (tarball.Packager{}).Package(info, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
