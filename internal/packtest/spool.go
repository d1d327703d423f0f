package packtest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packyard/packyard/pack"
)

// FailingWriter fails every write with "disk full".
type FailingWriter struct{}

func (FailingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// NoTempFileLeft checks that a writer that spools to $TMPDIR (the rpm's
// payload, the srpm's, the deb's data.tar.gz) removes what it spooled:
// after a package, after the output fails, and after a missing source.
// write writes info's package (for arch) to w. The file is large enough
// (100 KiB) to be spliced, so the compression cache's path is taken too.
func NoTempFileLeft(t *testing.T, arch string, write func(info *pack.Info, w io.Writer) error) {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	info := &pack.Info{Name: "x", Version: "1", Arch: arch, MTime: CommitTime(), License: "MIT", Summary: "x", Description: "x",
		Contents: []pack.Content{{Type: pack.File, Data: bytes.Repeat([]byte("x"), 100<<10), Destination: "/x"}}}
	if err := write(info, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if err := write(info, FailingWriter{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("writing to a failing writer: %v", err)
	}
	info.Contents = append(info.Contents, pack.Content{Type: pack.File, Source: filepath.Join(tmp, "gone"), Destination: "/y"})
	if err := write(info, &bytes.Buffer{}); err == nil {
		t.Fatal("a missing source succeeded")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}
