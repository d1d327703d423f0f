// Package spool is the temporary file a package writer spools a member to
// (the rpm's payload, the deb's data.tar.gz) while it takes the sizes and
// digests that the headers before that member carry. The writer removes it
// when it is done, on success or failure.
package spool

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// File is a spooled member.
type File struct {
	*os.File
	what string // the member, for errors
}

// Create makes the temporary file for member what, in $TMPDIR, its name
// starting with prefix.
func Create(what, prefix string) (*File, error) {
	f, err := os.CreateTemp("", prefix)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &File{File: f, what: what}, nil
}

// Rewind goes back to the start, to read the member again.
func (f *File) Rewind() error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("%s: %w", f.what, err)
	}
	return nil
}

// Remove closes and removes the file.
func (f *File) Remove() {
	f.Close()
	os.Remove(f.Name())
}

// Body is what a writer reads a file entry's bytes from: data when it is
// not nil, else the regular file at path, opened once so that its size
// and bytes agree. close releases the file.
func Body(data []byte, path string) (r io.ReaderAt, size int64, close func() error, err error) {
	if data != nil {
		return bytes.NewReader(data), int64(len(data)), func() error { return nil }, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err != nil {
		f.Close()
		return nil, 0, nil, err
	}
	return f, st.Size(), f.Close, nil
}
