package tarball

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWriteIsReproducibleAndReadableByTar(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tool")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho hi\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	a := Archive{
		Prefix: "demo-1.0",
		MTime:  time.Unix(1700000000, 0),
		Entries: []Entry{
			{Name: "src/main.go", Data: []byte("package main\n")},
			{Name: "bin/tool", Source: bin, Mode: 0o755},
			{Name: "latest", Link: "bin/tool"},
			{Name: "empty", Dir: true, Mode: 0o750},
		},
	}
	var one, two bytes.Buffer
	if err := Write(&one, a); err != nil {
		t.Fatal(err)
	}
	// Reversed input order and a different clock must not change a byte.
	b := a
	b.Entries = []Entry{a.Entries[3], a.Entries[2], a.Entries[1], a.Entries[0]}
	if err := Write(&two, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(one.Bytes(), two.Bytes()) {
		t.Fatal("same entries in another order gave different bytes")
	}
	file := filepath.Join(dir, "demo.tar.gz")
	if err := os.WriteFile(file, one.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("tar", "--numeric-owner", "--full-time", "-tvzf", file).CombinedOutput()
	if err != nil {
		t.Fatalf("tar -tvzf: %v\n%s", err, out)
	}
	want := []string{
		"drwxr-xr-x 0/0 0 2023-11-14 22:13:20 demo-1.0/",
		"drwxr-xr-x 0/0 0 2023-11-14 22:13:20 demo-1.0/bin/",
		"-rwxr-xr-x 0/0 18 2023-11-14 22:13:20 demo-1.0/bin/tool",
		"drwxr-x--- 0/0 0 2023-11-14 22:13:20 demo-1.0/empty/",
		"lrwxrwxrwx 0/0 0 2023-11-14 22:13:20 demo-1.0/latest -> bin/tool",
		"drwxr-xr-x 0/0 0 2023-11-14 22:13:20 demo-1.0/src/",
		"-rw-r--r-- 0/0 13 2023-11-14 22:13:20 demo-1.0/src/main.go",
	}
	got := strings.Split(strings.TrimSpace(squeeze(string(out))), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tar -tv:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// gzip -l reads the header: no name, no time.
	hdr := one.Bytes()[:10]
	if hdr[3] != 0 || !bytes.Equal(hdr[4:8], []byte{0, 0, 0, 0}) {
		t.Errorf("gzip header carries flags or a time: % x", hdr)
	}
}

func squeeze(s string) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, "\n")
}

func TestWriteRejectsBadNames(t *testing.T) {
	for _, name := range []string{"../escape", "/abs/../../x", ".", "a/../../b"} {
		err := Write(&bytes.Buffer{}, Archive{Entries: []Entry{{Name: name, Data: []byte("x")}}})
		if err == nil {
			t.Errorf("%q: want an error", name)
		}
	}
	err := Write(&bytes.Buffer{}, Archive{Entries: []Entry{{Name: "a", Data: nil}, {Name: "a/", Dir: true}}})
	if err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate: got %v", err)
	}
}
