package rpkg

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ulikunitz/xz"

	"github.com/packyard/packyard/pack"
)

// binaryPayload writes the first n bytes of the test binary itself (real
// machine code, compressible as a Go daemon is) to a file and returns its
// path and bytes.
func binaryPayload(t *testing.T, n int) (string, []byte) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, n)
	if _, err := io.ReadFull(f, data); err != nil {
		t.Fatalf("test binary shorter than %d bytes: %v", n, err)
	}
	src := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return src, data
}

// streamInfo is testInfo with a payload streamed from src.
func streamInfo(src string) *pack.Info {
	info := testInfo()
	info.Contents = append(info.Contents, pack.Content{Type: pack.File, Source: src,
		Destination: "/opt/rudder/share/plugins/backplane/bin/payload", Mode: 0o755})
	return info
}

// TestWriteStreamsSource packages a file given by Source (streamed, not
// read whole) and checks the result with the real tools: the bytes come
// back out, two writes are identical, and each tarball's dictionary is
// sized to it.
func TestWriteStreamsSource(t *testing.T) {
	const size = 2<<20 + 12345
	src, want := binaryPayload(t, size)
	info := streamInfo(src)

	dir := t.TempDir()
	p, err := (Writer{}).WriteFile(info, dir)
	if err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	a, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// Package to a writer gives the same bytes as WriteFile.
	var b bytes.Buffer
	if err := (Writer{TempDir: t.TempDir()}).Package(info, &b); err != nil {
		t.Fatalf("Package: %v", err)
	}
	if !bytes.Equal(a, b.Bytes()) {
		t.Fatal("WriteFile and Package of the same Info differ")
	}
	if fs := Verify(bytes.NewReader(a), int64(len(a))); len(fs) != 0 {
		t.Errorf("Verify: %v", fs)
	}

	f := filepath.Base(p)
	if got := string(run(t, dir, nil, "ar", "t", f)); got != "metadata\nagent-policy-techniques.txz\nfiles.txz\nscripts.txz\n" {
		t.Errorf("ar t = %q", got)
	}
	files := run(t, dir, nil, "ar", "p", f, "files.txz")
	if got := run(t, dir, files, "tar", "-xJO", "bin/payload"); !bytes.Equal(got, want) {
		t.Errorf("bin/payload out of tar -xJO: %d bytes, differ from the %d of the source", len(got), len(want))
	}

	// The dictionary is sized to each tarball (from a bound of its tar
	// size, which xz rounds up to 2^n or 3*2^(n-1)): 3 MiB for the 2 MiB
	// payload, a few KiB for the tiny ones, instead of 8 MiB each.
	for _, tt := range []struct {
		member  string
		maxDict int64
	}{
		{"files.txz", 3 << 20},
		{"scripts.txz", 8 << 10},
		{"agent-policy-techniques.txz", 8 << 10},
	} {
		data := run(t, dir, nil, "ar", "p", f, tt.member)
		tmp := filepath.Join(t.TempDir(), tt.member)
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		run(t, dir, nil, "xz", "-t", tmp)
		lv := string(run(t, dir, nil, "xz", "-lvv", tmp))
		m := dictRE.FindStringSubmatch(lv)
		if m == nil {
			t.Fatalf("xz -lvv %s names no LZMA2 dictionary:\n%s", tt.member, lv)
		}
		dict, _ := strconv.ParseInt(m[1], 10, 64)
		if m[2] == "KiB" {
			dict <<= 10
		} else {
			dict <<= 20
		}
		if dict > tt.maxDict {
			t.Errorf("xz -lvv %s: dictionary %s%s, want at most %d bytes", tt.member, m[1], m[2], tt.maxDict)
		}
	}
}

var dictRE = regexp.MustCompile(`--lzma2=dict=(\d+)(KiB|MiB)`)

func TestDictCapFor(t *testing.T) {
	tests := []struct {
		n    int64
		want int
	}{
		{0, 4096},
		{1024, 4096},
		{4096, 4096},
		{100000, 100000},
		{8 << 20, 8 << 20},
		{8<<20 + 1, 8 << 20},
		{1 << 40, 8 << 20},
	}
	for _, tt := range tests {
		if got := dictCapFor(tt.n); got != tt.want {
			t.Errorf("dictCapFor(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

// TestTarSizeBound checks the bound the dictionary is sized from against
// the tar stream writeTXZ really makes, long PAX names included.
func TestTarSizeBound(t *testing.T) {
	long := strings.Repeat("d/", 120) + "file"
	tests := []struct {
		name  string
		files []tarFile
	}{
		{"empty", nil},
		{"sizes around a block", []tarFile{
			{Path: "a", Type: tar.TypeReg, Mode: 0o644},
			{Path: "b", Type: tar.TypeReg, Mode: 0o644, Data: []byte("x")},
			{Path: "c", Type: tar.TypeReg, Mode: 0o644, Data: make([]byte, 512)},
			{Path: "d", Type: tar.TypeReg, Mode: 0o644, Data: make([]byte, 513)},
		}},
		{"long names", []tarFile{
			{Path: "d/", Type: tar.TypeDir, Mode: 0o755},
			{Path: long, Type: tar.TypeReg, Mode: 0o644, Data: []byte("long")},
			{Path: "l", Type: tar.TypeSymlink, Mode: 0o777, Linkname: long},
			{Path: "é/ü", Type: tar.TypeReg, Mode: 0o4755, Data: []byte("utf-8 name")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := writeTXZ(&b, tt.files, time.Unix(1700000000, 0)); err != nil {
				t.Fatalf("writeTXZ: %v", err)
			}
			xr, err := xz.NewReader(&b)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, xr)
			if err != nil {
				t.Fatal(err)
			}
			if bound := tarSizeBound(tt.files); n > bound {
				t.Errorf("tar stream is %d bytes, above the bound %d", n, bound)
			}
		})
	}
}

// TestWriteTXZSourceChanged: a source whose size differs from the one
// recorded when it was placed must fail, not give a short or cut entry.
func TestWriteTXZSourceChanged(t *testing.T) {
	src := filepath.Join(t.TempDir(), "bin")
	if err := os.WriteFile(src, bytes.Repeat([]byte("0123456789"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		source string
		size   int64
		want   string
	}{
		{"grew", src, 900, "it grew past the 900 bytes"},
		{"shrank", src, 1100, "read 1000 bytes, but it had 1100"},
		{"removed", src + ".gone", 10, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := []tarFile{{Path: "bin", Type: tar.TypeReg, Mode: 0o755, Source: tt.source, Size: tt.size}}
			err := writeTXZ(io.Discard, files, time.Unix(1700000000, 0))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestWriteSpoolCleanup: the temporary tarballs are removed whether the
// package is built or not, and a failure after some members were spooled
// writes nothing.
func TestWriteSpoolCleanup(t *testing.T) {
	src, _ := binaryPayload(t, 64<<10)
	// files.txz is spooled after agent-policy-techniques.txz; a NUL in one
	// of its paths fails in the tar writer, with a member already spooled.
	nul := func(i *pack.Info) {
		i.Contents = append(i.Contents, pack.Content{Type: pack.File, Data: []byte("x"),
			Destination: "/opt/rudder/share/plugins/backplane/a\x00b"})
	}
	tests := []struct {
		name   string
		change func(*pack.Info)
		want   string // error; "" for success
	}{
		{"success", func(*pack.Info) {}, ""},
		{"tar error in the second tarball", nul, "rpkg rudder-plugin-backplane: files.txz: tar a\x00b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := streamInfo(src)
			tt.change(info)

			spool := t.TempDir()
			var b bytes.Buffer
			err := (Writer{TempDir: spool}).Package(info, &b)
			checkErr(t, "Package", err, tt.want)
			if tt.want != "" && b.Len() != 0 {
				t.Errorf("Package wrote %d bytes despite the error", b.Len())
			}
			checkEmpty(t, spool)

			out := t.TempDir()
			p, err := (Writer{}).WriteFile(info, out)
			checkErr(t, "WriteFile", err, tt.want)
			entries, _ := os.ReadDir(out)
			switch {
			case tt.want != "" && len(entries) != 0:
				t.Errorf("WriteFile left %v in %s", entries, out)
			case tt.want == "" && (len(entries) != 1 || entries[0].Name() != filepath.Base(p)):
				t.Errorf("WriteFile left %v in %s, want only %s", entries, out, filepath.Base(p))
			}
		})
	}
}

func checkErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("%s: %v", what, err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("%s: err = %v, want it to contain %q", what, err, want)
	}
}

func checkEmpty(t *testing.T, dir string) {
	t.Helper()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("temporary files left in %s: %v", dir, entries)
	}
}
