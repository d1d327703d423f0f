// Package tarball writes reproducible gzip-compressed tar archives: the
// source release and the binary tarballs of the tarball/basic template.
//
// Reproducible means the same entries give the same bytes on any machine
// at any time: entries are sorted, every timestamp is the one given, owners
// are root:root with numeric ids 0, modes are normalised, and the gzip
// header carries neither a name nor a time.
package tarball

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/packyard/packyard/pack"
)

// Entry is one member of an archive.
type Entry struct {
	// Name is the slash-separated path inside the archive, without the
	// prefix; directories may end in "/".
	Name string
	// Source is the host file holding the bytes (regular files), unless
	// Data is set.
	Source string
	Data   []byte
	// Link is the target of a symbolic link; it makes the entry a link.
	Link string
	Dir  bool
	Mode fs.FileMode
}

// Archive describes one tar.gz to write.
type Archive struct {
	// Prefix, when set, is a directory every entry is placed under, as
	// in backplane-0.26.0acme/.
	Prefix  string
	Entries []Entry
	MTime   time.Time
}

// Write writes a as a tar.gz to w. Parent directories of every entry are
// added so that the archive unpacks with sane modes, and each path appears
// once.
func Write(w io.Writer, a Archive) error {
	entries, err := normalise(a)
	if err != nil {
		return err
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	// A zero ModTime and no Name keep the gzip header free of the clock.
	gz.Header = gzip.Header{OS: 255}
	tw := tar.NewWriter(gz)
	mtime := a.MTime.UTC().Truncate(time.Second)
	for _, e := range entries {
		if err := writeEntry(tw, e, mtime); err != nil {
			return fmt.Errorf("tarball %s: %w", e.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func normalise(a Archive) ([]Entry, error) {
	prefix := strings.Trim(a.Prefix, "/")
	seen := map[string]bool{}
	var out []Entry
	add := func(e Entry) error {
		clean := path.Clean(strings.TrimSuffix(e.Name, "/"))
		if clean == "." || strings.HasPrefix(clean, "../") || clean == ".." || path.IsAbs(clean) {
			return fmt.Errorf("tarball: bad entry name %q", e.Name)
		}
		if prefix != "" {
			clean = prefix + "/" + clean
		}
		if seen[clean] {
			return fmt.Errorf("tarball: %s appears twice", clean)
		}
		seen[clean] = true
		e.Name = clean
		out = append(out, e)
		return nil
	}
	if prefix != "" {
		seen[prefix] = true
		out = append(out, Entry{Name: prefix, Dir: true, Mode: 0o755})
	}
	for _, e := range a.Entries {
		if err := add(e); err != nil {
			return nil, err
		}
	}
	// Add missing parents after the fact so that an explicit directory
	// entry keeps the mode it was given.
	for _, e := range append([]Entry(nil), out...) {
		for dir := path.Dir(e.Name); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if !seen[dir] {
				seen[dir] = true
				out = append(out, Entry{Name: dir, Dir: true, Mode: 0o755})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func writeEntry(tw *tar.Writer, e Entry, mtime time.Time) error {
	h := &tar.Header{
		Name:    e.Name,
		ModTime: mtime,
		Uname:   "root",
		Gname:   "root",
		Format:  tar.FormatPAX,
	}
	switch {
	case e.Dir:
		h.Typeflag = tar.TypeDir
		h.Name += "/"
		h.Mode = int64(modeOr(e.Mode, 0o755))
		return tw.WriteHeader(h)
	case e.Link != "":
		h.Typeflag = tar.TypeSymlink
		h.Linkname = e.Link
		h.Mode = 0o777
		return tw.WriteHeader(h)
	}
	h.Typeflag = tar.TypeReg
	h.Mode = int64(modeOr(e.Mode, 0o644))
	if e.Data != nil {
		h.Size = int64(len(e.Data))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(e.Data)
		return err
	}
	f, err := os.Open(e.Source)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h.Size = st.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	n, err := io.Copy(tw, f)
	if err == nil && n != h.Size {
		err = fmt.Errorf("%s changed while being read", e.Source)
	}
	return err
}

func modeOr(m, def fs.FileMode) fs.FileMode {
	if m.Perm() == 0 {
		return def
	}
	return m.Perm()
}

// Packager writes the tar format of the tarball/basic template: the
// package's contents, by destination, under NAME-VERSION-OS-ARCH/.
type Packager struct{}

// FileName is NAME-VERSION-PLATFORM-ARCH.tar.gz.
func (Packager) FileName(info *pack.Info) string {
	return fmt.Sprintf("%s-%s-%s-%s.tar.gz", info.Name, info.Version, platform(info), info.Arch)
}

// Package writes info's contents as a tar.gz. Destinations become paths
// relative to the archive's prefix directory.
func (p Packager) Package(info *pack.Info, w io.Writer) error {
	return Write(w, archiveOf(info, strings.TrimSuffix(p.FileName(info), ".tar.gz")))
}

// archiveOf is info's contents by destination, under prefix.
func archiveOf(info *pack.Info, prefix string) Archive {
	a := Archive{Prefix: prefix, MTime: info.MTime}
	for _, c := range info.Contents {
		e := Entry{Name: strings.TrimPrefix(c.Destination, "/"), Source: c.Source, Data: c.Data, Mode: c.Mode}
		switch c.Type {
		case pack.Dir:
			e.Dir = true
		case pack.Symlink:
			e.Link, e.Source = c.Source, ""
		}
		a.Entries = append(a.Entries, e)
	}
	return a
}

func platform(info *pack.Info) string {
	if info.Platform == "" {
		return "linux"
	}
	return info.Platform
}
