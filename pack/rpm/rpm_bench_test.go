package rpm_test

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/packyard/packyard/bench/payload"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/rpm"
)

// BenchmarkPackageGoBinary writes an rpm of one 8 MiB Go-binary payload
// (read from disk, as the package stage gives it); bench/run-packaging.sh
// measures 64 MiB against rpmbuild.
func BenchmarkPackageGoBinary(b *testing.B) {
	src := filepath.Join(b.TempDir(), "payload")
	const size = 8 << 20
	if err := payload.WriteFile(src, size); err != nil {
		b.Fatal(err)
	}
	info := &pack.Info{
		Name: "bench", Version: "1.0.0", Release: "1", Arch: "x86_64", License: "Apache-2.0",
		Summary: "Benchmark payload", MTime: time.Unix(1700000000, 0),
		Contents: []pack.Content{{Type: pack.File, Source: src, Destination: "/usr/bin/bench", Mode: 0o755}},
	}
	b.SetBytes(size)
	for b.Loop() {
		if err := (rpm.Packager{}).Package(info, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
