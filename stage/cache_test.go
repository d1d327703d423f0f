package stage

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFileSum checks the run's memo of file sums: a file is read once
// while its size and mtime stay, and read again when either changes.
func TestFileSum(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	write := func(body string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	sumOf := func(body string) string {
		s := sha256.Sum256([]byte(body))
		return hex.EncodeToString(s[:])
	}
	t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	c := &Context{cache: &runCache{sums: map[string]fileSum{}}}
	tests := []struct {
		name  string
		edit  func()
		want  string
		fresh bool // the sum must be read from the file, not the memo
	}{
		{"first read", func() { write("one", t0) }, sumOf("one"), true},
		{"unchanged: from the memo", func() {}, "memo", false},
		{"same size, new mtime: read again", func() { write("two", t0.Add(time.Second)) }, sumOf("two"), true},
		{"new size, same mtime: read again", func() { write("three", t0.Add(time.Second)) }, sumOf("three"), true},
	}
	for _, tt := range tests {
		tt.edit()
		if !tt.fresh {
			// A sum the file cannot have shows that it was not read.
			m := c.cache.sums[p]
			m.sum = "memo"
			c.cache.sums[p] = m
		}
		got, _, err := c.fileSum(p)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got != tt.want {
			t.Errorf("%s: sum %s, want %s", tt.name, got, tt.want)
		}
	}
	if _, _, err := c.fileSum(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: err = %v", err)
	}
	// Without the stage cache nothing is remembered.
	nc := &Context{}
	if got, size, err := nc.fileSum(p); err != nil || got != sumOf("three") || size != 5 {
		t.Errorf("no cache: %s %d %v", got, size, err)
	}
}
