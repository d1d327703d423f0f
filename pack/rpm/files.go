package rpm

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
)

// rpm's file flags (RPMFILE_*) that pack's content types map to.
const (
	flagConfig    = 1 << 0
	flagNoReplace = 1 << 4
)

// The file type bits of an rpm (and cpio) mode.
const (
	modeDir     = 0o040000
	modeRegular = 0o100000
	modeSymlink = 0o120000
)

// file is one entry of the package, as the header and the payload need
// it. size and digest of a regular file are known once it is written to
// the payload.
type file struct {
	name         string // absolute, clean
	mode         uint16 // permissions and type bits
	owner, group string
	flags        uint32
	linkTo       string // symlinks
	source       string // regular files read from disk
	data         []byte // regular files given as bytes
	size         uint32
	digest       string // hex sha256 of a regular file's bytes
}

func (f *file) isDir() bool     { return f.mode&modeDir != 0 }
func (f *file) isSymlink() bool { return f.mode&modeSymlink == modeSymlink }

// files maps info's contents to the package's entries in name order, the
// order of the header's file arrays and of the payload. It checks what
// the install would trip over: an entry given twice, a file whose parent
// is not a directory, a source that is not a regular file. The root
// directory is not an entry (rpm refuses to own "/").
func files(contents []pack.Content) ([]*file, error) {
	byName := map[string]*file{}
	for _, c := range contents {
		f := &file{
			name:  path.Clean("/" + c.Destination),
			owner: nfpmutil.OrDefault(c.Owner, "root"),
			group: nfpmutil.OrDefault(c.Group, "root"),
		}
		// The raw mode bits, as nfpm passed them (setuid given as 0o4755
		// stays 0o4755).
		perm := uint16(uint32(c.Mode))
		switch c.Type {
		case pack.Dir:
			if c.Mode == 0 {
				perm = 0o755
			}
			f.mode = perm | modeDir
		case pack.Symlink:
			if c.Source == "" {
				return nil, fmt.Errorf("%s: symlink without a target", c.Destination)
			}
			f.mode = modeSymlink
			f.linkTo = c.Source
		case pack.File, pack.Config, pack.ConfigNoReplace, "":
			switch c.Type {
			case pack.Config:
				f.flags = flagConfig
			case pack.ConfigNoReplace:
				f.flags = flagConfig | flagNoReplace
			}
			if c.Mode == 0 {
				perm = 0o644
			}
			f.mode = perm | modeRegular
			if err := c.CheckBody(); err != nil {
				return nil, err
			}
			if f.data = c.Data; f.data == nil {
				f.source = c.Source
			}
		default:
			return nil, fmt.Errorf("%s: unknown content type %q", c.Destination, c.Type)
		}
		if f.name == "/" {
			continue
		}
		if _, dup := byName[f.name]; dup {
			return nil, fmt.Errorf("%s: in the package twice", f.name)
		}
		byName[f.name] = f
	}
	out := make([]*file, 0, len(byName))
	for _, f := range byName {
		for dir := path.Dir(f.name); dir != "/"; dir = path.Dir(dir) {
			if p, ok := byName[dir]; ok && !p.isDir() {
				return nil, fmt.Errorf("%s: its parent %s is not a directory", f.name, dir)
			}
		}
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *file) int { return strings.Compare(a.name, b.name) })
	return out, nil
}
