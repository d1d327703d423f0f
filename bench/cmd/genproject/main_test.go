package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		args     func(dir string) []string
		code     int
		stderr   string
		manifest int // plugins expected in packager/plugins.yaml when code is 0
	}{
		{"defaults", func(dir string) []string { return []string{dir} }, 0, "", 200},
		{"small", func(dir string) []string { return []string{"-targets", "2", "-packages", "3", "-plugins", "4", dir} }, 0, "", 4},
		{"no dir", func(string) []string { return nil }, 2, "usage: genproject", 0},
		{"bad flag", func(dir string) []string { return []string{"-targets", "many", dir} }, 2, "invalid value", 0},
		{"no targets", func(dir string) []string { return []string{"-targets", "0", dir} }, 1, "at least one target", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "project")
			var stderr bytes.Buffer
			if code := run(tt.args(dir), &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d: %s", code, tt.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.stderr)
			}
			if tt.code != 0 {
				return
			}
			data, err := os.ReadFile(filepath.Join(dir, "packager", "plugins.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			// Every entry, short or long form, starts a line with "pNNN:".
			n := 0
			for _, l := range strings.Split(string(data), "\n") {
				if strings.HasPrefix(l, "p") && strings.Contains(l, ":") {
					n++
				}
			}
			if n != tt.manifest {
				t.Errorf("%d plugins in plugins.yaml, want %d", n, tt.manifest)
			}
		})
	}
}
