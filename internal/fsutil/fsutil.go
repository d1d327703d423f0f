// Package fsutil holds the file-system helpers that make Packyard's
// outputs appear atomically: a file is written beside its destination and
// renamed into place, a directory is filled in a sibling and swapped in.
package fsutil

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile creates path by calling write on a temporary file in the same
// directory and renaming it into place once write and Close succeed.
// On any error the temporary file is removed and path is left untouched.
func WriteFile(path string, mode os.FileMode, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// StagingDir is a directory filled beside its final place and swapped in
// by Commit. Until Commit, the final place is untouched; Discard removes
// the staging directory.
type StagingDir struct {
	Final string
	Path  string
}

// NewStagingDir creates an empty staging directory next to final.
func NewStagingDir(final string) (*StagingDir, error) {
	final, err := filepath.Abs(final)
	if err != nil {
		return nil, err
	}
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	p, err := os.MkdirTemp(parent, "."+filepath.Base(final)+".tmp-*")
	if err != nil {
		return nil, err
	}
	return &StagingDir{Final: final, Path: p}, nil
}

// Commit replaces Final with the staging directory. An existing Final is
// moved aside first and removed only once the new one is in place.
func (s *StagingDir) Commit() error {
	if err := os.Chmod(s.Path, 0o755); err != nil {
		return err
	}
	var old string
	if _, err := os.Lstat(s.Final); err == nil {
		old = s.Path + ".old"
		if err := os.Rename(s.Final, old); err != nil {
			return fmt.Errorf("moving the previous %s aside: %w", s.Final, err)
		}
	}
	if err := os.Rename(s.Path, s.Final); err != nil {
		if old != "" {
			os.Rename(old, s.Final)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// Discard removes the staging directory and everything in it.
func (s *StagingDir) Discard() error { return os.RemoveAll(s.Path) }

// CopyFile copies src to dst with mode, atomically as WriteFile writes.
func CopyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	return WriteFile(dst, mode, func(w io.Writer) error {
		if _, err := io.Copy(w, in); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		return nil
	})
}
