package tarball

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/packyard/packyard/pack"
)

func zipInfo() *pack.Info {
	return &pack.Info{
		Name: "backplane", Version: "0.29.0", Arch: "amd64", Platform: "windows",
		MTime: time.Date(2024, 3, 1, 12, 0, 1, 0, time.UTC),
		Contents: []pack.Content{
			{Destination: "/README", Data: []byte("read me\n"), Mode: 0o644},
			{Destination: "/bin/backplane.exe", Data: []byte("MZ binary"), Mode: 0o755},
		},
	}
}

// TestZipReproducible writes the same zip twice and reads it back: same
// bytes, entries sorted under the prefix with their directories, the
// fixed time (to the MS-DOS field's 2 seconds), modes kept, and no extra
// fields, which is where archive/zip would put a clock or owner ids.
func TestZipReproducible(t *testing.T) {
	var a, b bytes.Buffer
	p := ZipPackager{}
	if err := p.Package(zipInfo(), &a); err != nil {
		t.Fatal(err)
	}
	if err := p.Package(zipInfo(), &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two writes differ")
	}
	if got := p.FileName(zipInfo()); got != "backplane-0.29.0-windows-amd64.zip" {
		t.Errorf("FileName = %s", got)
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if len(f.Extra) != 0 {
			t.Errorf("%s has extra fields %x", f.Name, f.Extra)
		}
		if want := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC); !f.Modified.Equal(want) {
			t.Errorf("%s modified %v, want %v", f.Name, f.Modified, want)
		}
	}
	want := []string{"backplane-0.29.0-windows-amd64/", "backplane-0.29.0-windows-amd64/README",
		"backplane-0.29.0-windows-amd64/bin/", "backplane-0.29.0-windows-amd64/bin/backplane.exe"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("entries %v, want %v", names, want)
	}
	exe := zr.File[3]
	if exe.Mode().Perm() != 0o755 {
		t.Errorf("exe mode %v", exe.Mode())
	}
	rc, err := exe.Open()
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(rc)
	rc.Close()
	if string(data) != "MZ binary" {
		t.Errorf("exe data %q", data)
	}
	if _, err := exec.LookPath("zipinfo"); err == nil {
		f := t.TempDir() + "/x.zip"
		if err := writeFile(f, a.Bytes()); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("unzip", "-tq", f).CombinedOutput()
		if err != nil {
			t.Errorf("unzip -t: %v\n%s", err, out)
		}
		out, _ = exec.Command("zipinfo", f).CombinedOutput()
		if !strings.Contains(string(out), "-rwxr-xr-x") || !strings.Contains(string(out), "24-Mar-01 12:00") {
			t.Errorf("zipinfo:\n%s", out)
		}
	}
}

func TestMsDosTimeClamps(t *testing.T) {
	d, tm := msDosTime(time.Unix(0, 0))
	if d != 1<<5|1 || tm != 0 {
		t.Errorf("1970 -> date %x time %x, want 1980-01-01 00:00", d, tm)
	}
}

func writeFile(name string, b []byte) error { return os.WriteFile(name, b, 0o644) }
