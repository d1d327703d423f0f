package deb

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
)

// kind is what an entry of data.tar is.
type kind int

const (
	kindImplicitDir kind = iota // a parent directory no content names
	kindDir
	kindSymlink
	kindFile      // a regular file from Source or Data
	kindChangelog // changelog.Debian.gz, written by this package
)

// entry is one member of data.tar.
type entry struct {
	// key is the entry's absolute, clean path, with a trailing slash for
	// directories: the order of data.tar and md5sums is the keys' byte
	// order, as it was with nfpm ("/etc/demo.conf" before "/etc/demo/").
	key          string
	kind         kind
	mode         fs.FileMode // permissions as given; see tarMode
	owner, group string
	linkTo       string // symlinks
	source       string // regular files read from disk
	data         []byte // regular files given as bytes, and the changelog
	conffile     bool
}

// tarName is the entry's name in data.tar: "./" and the path relative to
// the root, a directory's with a trailing slash — except a directory whose
// relative path is one character long ("./x"), a quirk of nfpm kept so
// that no package changed with the writer.
func tarName(key string) string {
	rel := strings.TrimLeft(path.Clean(key), "/")
	if len(rel) > 1 && strings.HasSuffix(key, "/") {
		rel += "/"
	}
	return "./" + rel
}

// tarMode is the mode written in a tar header: the permission bits, and
// setuid, setgid and sticky whether given as Go's flags or as raw bits.
func tarMode(m fs.FileMode) int64 {
	mode := int64(m & 0o7777)
	for flag, bit := range map[fs.FileMode]int64{fs.ModeSetuid: 0o4000, fs.ModeSetgid: 0o2000, fs.ModeSticky: 0o1000} {
		if m&flag != 0 {
			mode |= bit
		}
	}
	return mode
}

// fileKey and dirKey are the keys of a file (or symlink) and of a
// directory at dst: "" and "/" make the root directory "//", whose tar
// name is "./".
func fileKey(dst string) string { return path.Clean("/" + dst) }
func dirKey(dst string) string  { return path.Clean("/"+strings.TrimRight(dst, "/")) + "/" }

// entries maps info's contents to data.tar's members in their order: every
// parent directory is a member (dpkg needs none of them, but a package
// that omits them lists no owner for them), the changelog is added under
// /usr/share/doc/NAME/ when info has one, and the directory "/" is kept
// only when named. A parent directory nobody names gets the owner and
// group of the first file placed in it, unless it is a directory of the
// base system (ownedBySystem) — what nfpm did, so that the same Info
// gives the same data.tar.
//
// It refuses what the install would trip over: an entry given twice, a
// file whose parent is not a directory, a source that is not a regular
// file, a symlink without a target.
func entries(info *pack.Info, changelog []byte) ([]*entry, error) {
	byKey := map[string]*entry{}
	// parents adds dst's parent directories, outermost first; an existing
	// directory stays as it is.
	parents := func(dst string, owner, group string) error {
		var dirs []string
		for d := path.Dir(strings.Trim(path.Clean("/"+dst), "/")); d != "." && d != "/"; d = path.Dir(d) {
			dirs = append(dirs, d)
		}
		slices.Reverse(dirs)
		for _, d := range dirs {
			k := dirKey(d)
			if e, ok := byKey[k]; ok {
				if e.kind != kindDir && e.kind != kindImplicitDir {
					return fmt.Errorf("%s: its parent %s is not a directory", dst, strings.TrimSuffix(k, "/"))
				}
				continue
			}
			if _, ok := byKey[fileKey(d)]; ok {
				return fmt.Errorf("%s: its parent %s is not a directory", dst, fileKey(d))
			}
			e := &entry{key: k, kind: kindImplicitDir, mode: 0o755, owner: "root", group: "root"}
			if owner != "" && !ownedBySystem(fileKey(d)) {
				e.owner, e.group = owner, group
			}
			byKey[k] = e
		}
		return nil
	}
	twice := func(dst string) error { return fmt.Errorf("%s: in the package twice", fileKey(dst)) }

	for _, c := range info.Contents {
		e := &entry{
			owner: nfpmutil.OrDefault(c.Owner, "root"),
			group: nfpmutil.OrDefault(c.Group, "root"),
			mode:  c.Mode,
		}
		switch c.Type {
		case pack.Dir:
			e.key, e.kind = dirKey(c.Destination), kindDir
			if old, ok := byKey[e.key]; ok && old.kind != kindImplicitDir {
				return nil, twice(c.Destination)
			}
			if e.mode == 0 {
				e.mode = 0o755
			}
			if err := parents(c.Destination, "", ""); err != nil {
				return nil, err
			}
		case pack.Symlink:
			if c.Source == "" {
				return nil, fmt.Errorf("%s: symlink without a target", c.Destination)
			}
			// nfpm gave a symlink the permissions of its target when the
			// target happened to exist on the build host; dpkg ignores a
			// symlink's mode, and a package must not depend on the host,
			// so it is always 0 here (nfpm's value for any target the host
			// lacks).
			e.key, e.kind, e.mode, e.linkTo = fileKey(c.Destination), kindSymlink, 0, path.Clean(c.Source)
			if _, ok := byKey[e.key]; ok {
				return nil, twice(c.Destination)
			}
			if err := parents(c.Destination, "", ""); err != nil {
				return nil, err
			}
		case pack.File, pack.Config, pack.ConfigNoReplace, "":
			e.key, e.kind = fileKey(c.Destination), kindFile
			e.conffile = c.Type == pack.Config || c.Type == pack.ConfigNoReplace
			if e.mode == 0 {
				e.mode = 0o644
			}
			if err := c.CheckBody(); err != nil {
				return nil, err
			}
			if e.data = c.Data; e.data == nil {
				e.source = c.Source
			}
			if _, ok := byKey[e.key]; ok {
				return nil, twice(c.Destination)
			}
			if err := parents(c.Destination, e.owner, e.group); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%s: unknown content type %q", c.Destination, c.Type)
		}
		byKey[e.key] = e
	}
	if changelog != nil {
		dst := "/usr/share/doc/" + info.Name + "/changelog.Debian.gz"
		if _, ok := byKey[dst]; ok {
			return nil, fmt.Errorf("%s: in the package twice (the deb writer makes it from the changelog text)", dst)
		}
		if err := parents(dst, "", ""); err != nil {
			return nil, err
		}
		byKey[dst] = &entry{key: dst, kind: kindChangelog, mode: 0o644, data: changelog}
	}

	out := make([]*entry, 0, len(byKey))
	for k, e := range byKey {
		// A directory and a file at the same path: nfpm wrote both, and
		// dpkg would refuse the package.
		if strings.HasSuffix(k, "/") && k != "//" {
			if _, ok := byKey[strings.TrimSuffix(k, "/")]; ok {
				return nil, twice(k)
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int { return strings.Compare(a.key, b.key) })
	return out, nil
}
