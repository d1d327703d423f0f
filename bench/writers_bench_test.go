package bench

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/packyard/packyard/bench/payload"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/deb"
	"github.com/packyard/packyard/pack/rpkg"
	"github.com/packyard/packyard/pack/rpm"
	"github.com/packyard/packyard/pack/rpmspec"
	"github.com/packyard/packyard/pack/tarball"
)

// BenchmarkWriters writes one 8 MiB Go-binary payload (read from disk, as
// the package stage gives it) with each writer in process.
// bench/run-packaging.sh measures 64 MiB, one process per writer, beside
// the native tools. The rpmspec case is Packyard's own share of the
// rpmbuild builder: the spec and SOURCES; rpmbuild runs in the script.
func BenchmarkWriters(b *testing.B) {
	tmp := b.TempDir()
	src := filepath.Join(tmp, "payload")
	const size = 8 << 20
	if err := payload.WriteFile(src, size); err != nil {
		b.Fatal(err)
	}
	release := filepath.Join(tmp, PayloadName+"-"+PayloadVersion+".tar.gz")
	if err := os.WriteFile(release, []byte("stand-in source release"), 0o644); err != nil {
		b.Fatal(err)
	}
	mtime := time.Unix(1700000000, 0)
	writers := []struct {
		format string
		w      pack.Packager
	}{
		{"rpm", rpm.Packager{}},
		{"deb", deb.Packager{}},
		{"rpkg", rpkg.Writer{TempDir: tmp}},
		{"tarball", tarball.Packager{}},
	}
	for _, tt := range writers {
		b.Run(tt.format, func(b *testing.B) {
			info := PayloadInfo(tt.format, src, mtime)
			b.SetBytes(size)
			for b.Loop() {
				if err := tt.w.Package(info, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("rpmspec", func(b *testing.B) {
		info := PayloadInfo("rpmspec", src, mtime)
		b.SetBytes(size)
		for b.Loop() {
			top := b.TempDir()
			if _, err := rpmspec.Write(info, release, top); err != nil {
				b.Fatal(err)
			}
		}
	})
}
