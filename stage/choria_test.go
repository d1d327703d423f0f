package stage

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packyard/packyard/version"
)

// TestChoriaTarball checks the tarball of a Choria-format template: as
// Choria's "tar -czf TARBALL NAME-VERSION", it holds NAME-VERSION/ with
// dist/ and the binary, modes kept, every entry dated the commit time.
func TestChoriaTarball(t *testing.T) {
	build := t.TempDir()
	top := "choria-0.29.0"
	for rel, mode := range map[string]os.FileMode{
		"dist/build.sh": 0o755, "dist/debian/control": 0o644, "choria-0.29.0-linux-amd64": 0o755,
	} {
		p := filepath.Join(build, top, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(rel), mode); err != nil {
			t.Fatal(err)
		}
	}
	mtime := time.Unix(1709294400, 0)
	c := &Context{Version: version.Version{Product: "0.29.0", Time: mtime}}
	name := "choria-0.29.0-linux-x86_64-linux-gnu.tgz"
	if err := c.choriaTarball(build, top, name); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(build, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(mtime) || h.Uid != 0 {
			t.Errorf("%s: mtime %v uid %d", h.Name, h.ModTime, h.Uid)
		}
		got = append(got, h.Name+" "+os.FileMode(h.Mode).Perm().String())
	}
	want := []string{
		"choria-0.29.0/ -rwxr-xr-x",
		"choria-0.29.0/choria-0.29.0-linux-amd64 -rwxr-xr-x",
		"choria-0.29.0/dist/ -rwxr-xr-x",
		"choria-0.29.0/dist/build.sh -rwxr-xr-x",
		"choria-0.29.0/dist/debian/ -rwxr-xr-x",
		"choria-0.29.0/dist/debian/control -rw-r--r--",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tarball:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
