package stage

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/packyard/packyard/version"
)

// Unpack extracts the source release at tarball into dir, dropping its
// prefix directory, so that every build starts from exactly the files a
// user of the release gets. Entries that would land outside dir are refused.
func Unpack(tarball, dir string) error {
	f, err := os.Open(tarball)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("%s: %w", tarball, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tarball, err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		_, rest, found := strings.Cut(name, "/")
		if !found {
			continue // the prefix directory itself
		}
		target := filepath.Join(dir, filepath.FromSlash(rest))
		if !filepath.IsLocal(filepath.FromSlash(rest)) {
			return fmt.Errorf("%s: entry %q escapes the archive", tarball, h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, target); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := writeFrom(target, tr, fs.FileMode(h.Mode).Perm()); err != nil {
				return err
			}
		}
	}
}

func writeFrom(path string, r io.Reader, mode fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// CopyTree copies the directory src to dst (which must not exist),
// keeping modes and symbolic links.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.Mode().IsRegular():
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			return writeFrom(target, in, info.Mode().Perm())
		}
		return nil
	})
}

// releaseVersion resolves the version of a source release: flag, when
// given, for the version, and the release's .version for the commit and
// its time (and the version, without flag), so that a stage run on the
// release alone stamps what a build from the repository stamps.
func releaseVersion(tarball, flag string) (version.Version, error) {
	dir, err := os.MkdirTemp("", "packyard-release-*")
	if err != nil {
		return version.Version{}, err
	}
	defer os.RemoveAll(dir)
	f, err := os.Open(tarball)
	if err != nil {
		return version.Version{}, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return version.Version{}, fmt.Errorf("%s: %w", tarball, err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return version.Version{}, fmt.Errorf("%s: no %s in the release", tarball, VersionFile)
		}
		if err != nil {
			return version.Version{}, fmt.Errorf("%s: %w", tarball, err)
		}
		if _, rest, _ := strings.Cut(h.Name, "/"); rest != VersionFile || h.Typeflag != tar.TypeReg {
			continue
		}
		if err := writeFrom(filepath.Join(dir, VersionFile), io.LimitReader(tr, 1<<16), 0o644); err != nil {
			return version.Version{}, err
		}
		return version.Resolve(dir, flag)
	}
}
