package payload

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestBytes(t *testing.T) {
	dir, err := ToolDir()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	tests := []struct {
		name string
		size int64
	}{
		{"empty", 0},
		{"one KiB", 1 << 10},
		// Past the end of the tool binaries: they repeat.
		{"longer than the tools", total + 4096},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Bytes(tt.size)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(got)) != tt.size {
				t.Fatalf("%d bytes, want %d", len(got), tt.size)
			}
			if tt.size > 4 && !bytes.HasPrefix(got, []byte("\x7fELF")) {
				t.Errorf("payload starts %q, want an ELF binary", got[:4])
			}
			if tt.size > total && !bytes.Equal(got[total:], got[:tt.size-total]) {
				t.Error("the tools are not repeated after the first round")
			}
		})
	}
}

func TestWriteFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "payload")
	if err := WriteFile(name, 1<<20); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 1<<20 || fi.Mode().Perm() != 0o755 {
		t.Errorf("size %d mode %v, want %d and 0755", fi.Size(), fi.Mode(), 1<<20)
	}
	if err := WriteFile(name, -1); err == nil {
		t.Error("a negative size was accepted")
	}
}
