// Package payload makes the package payload of Packyard's packaging
// benchmarks: the Go toolchain's own tool binaries (compile, link, vet, …)
// in name order, repeated as needed and cut at the size asked for. That is
// compressible the way a Go daemon is, and the same bytes for a given Go
// release, without committing a large file.
package payload

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// ToolDir is the directory of the Go tool binaries of the go command on
// PATH, $(go env GOROOT)/pkg/tool/$(go env GOHOSTOS)_$(go env GOHOSTARCH).
func ToolDir() (string, error) {
	out, err := exec.Command("go", "env", "GOROOT", "GOHOSTOS", "GOHOSTARCH").Output()
	if err != nil {
		return "", fmt.Errorf("payload: go env: %w", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 {
		return "", fmt.Errorf("payload: go env printed %q, want GOROOT, GOHOSTOS and GOHOSTARCH", out)
	}
	return filepath.Join(f[0], "pkg", "tool", f[1]+"_"+f[2]), nil
}

// Write writes size bytes of payload to w.
func Write(w io.Writer, size int64) error {
	if size < 0 {
		return fmt.Errorf("payload: negative size %d", size)
	}
	dir, err := ToolDir()
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return fmt.Errorf("payload: no tool binaries in %s", dir)
	}
	for left := size; left > 0; {
		for _, n := range names {
			if left == 0 {
				break
			}
			f, err := os.Open(filepath.Join(dir, n))
			if err != nil {
				return fmt.Errorf("payload: %w", err)
			}
			k, err := io.Copy(w, io.LimitReader(f, left))
			f.Close()
			if err != nil {
				return fmt.Errorf("payload: %s: %w", n, err)
			}
			left -= k
		}
	}
	return nil
}

// Bytes returns size bytes of payload.
func Bytes(size int64) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(int(size))
	if err := Write(&b, size); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// WriteFile writes size bytes of payload to name, mode 0755, through a
// temporary file in the same directory.
func WriteFile(name string, size int64) (err error) {
	f, err := os.CreateTemp(filepath.Dir(name), ".payload-*")
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := Write(f, size); err != nil {
		return err
	}
	if err := f.Chmod(0o755); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	return nil
}
