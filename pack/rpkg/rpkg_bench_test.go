package rpkg_test

import (
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/packyard/packyard/bench/payload"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/rpkg"
)

// BenchmarkPackageGoBinary writes an rpkg of one 8 MiB Go-binary payload
// (read from disk, as the package stage gives it): xz in pure Go, which
// bench/run-packaging.sh measures at 64 MiB against tar cJ.
func BenchmarkPackageGoBinary(b *testing.B) {
	src := filepath.Join(b.TempDir(), "payload")
	const size = 8 << 20
	if err := payload.WriteFile(src, size); err != nil {
		b.Fatal(err)
	}
	dir := "/opt/rudder/share/plugins/bench"
	info := &pack.Info{
		Name: "rudder-plugin-bench", Version: "8.1.0-1.0", Arch: "amd64", MTime: time.Unix(1700000000, 0),
		Contents: []pack.Content{{Type: pack.File, Source: src, Destination: dir + "/bin/bench", Mode: 0o755}},
		Properties: map[string]string{
			rpkg.PropBuildCommit:     "0000000000000000000000000000000000000000",
			rpkg.PropContent:         "files.txz:" + dir,
			rpkg.PropRequiresLicense: "false",
		},
	}
	b.SetBytes(size)
	for b.Loop() {
		if err := (rpkg.Writer{}).Package(info, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
