package rpkg

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// tarFile is one entry to write into a .txz.
type tarFile struct {
	Path     string // relative to the destination; directories end in "/"
	Type     byte   // tar.TypeReg, tar.TypeDir or tar.TypeSymlink
	Mode     int64  // permission and set-id bits
	Linkname string
	// A regular file's bytes are Data, or, when Source is set, the Size
	// bytes of that host file, streamed when the tarball is written so
	// that a large payload is never in memory whole.
	Data   []byte
	Source string
	Size   int64
}

// size is the length of a regular file's data.
func (f tarFile) size() int64 {
	if f.Source == "" {
		return int64(len(f.Data))
	}
	return f.Size
}

// maxDictCap is the largest LZMA2 dictionary the writer uses: xz -6's, and
// ulikunitz/xz's default. With its HashTable4 matcher an encoder costs
// about six times its dictionary (the window, a uint32 per position, the
// hash table), so it bounds the writer's memory; a larger one wins little
// on Go binaries (3% at 16 MiB, 64 MiB of payload) for much more memory.
const maxDictCap = 8 << 20

// dictCapFor sizes the dictionary to a tarball of at most n bytes: a
// dictionary larger than the input finds no more matches, it only costs
// memory (in the encoder, and in every decoder, which allocates what the
// header asks for).
func dictCapFor(n int64) int {
	switch {
	case n < lzma.MinDictCap:
		return lzma.MinDictCap
	case n > maxDictCap:
		return maxDictCap
	}
	return int(n)
}

// tarSizeBound is an upper bound of the tar stream writeTXZ makes of
// files: per entry a header block, room for a PAX extended header with
// long names, and the data padded to a block; then the two end blocks.
func tarSizeBound(files []tarFile) int64 {
	n := int64(2 * blockSize)
	for _, f := range files {
		n += 3*blockSize + int64(len(f.Path)+len(f.Linkname))
		if f.Type == tar.TypeReg {
			n += (f.size() + blockSize - 1) / blockSize * blockSize
		}
	}
	return n
}

const blockSize = 512 // tar's

// writeTXZ writes files, sorted by path, as a PAX tar inside one xz stream
// (LZMA2, CRC64), with root ownership and mtime everywhere, so the same
// input always yields the same bytes. File sources are streamed; one that
// no longer has the size it had when placed is an error, not a short or
// truncated entry.
func writeTXZ(w io.Writer, files []tarFile, mtime time.Time) error {
	sorted := append([]tarFile(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })

	cfg := xz.WriterConfig{CheckSum: xz.CRC64, DictCap: dictCapFor(tarSizeBound(sorted))}
	xw, err := cfg.NewWriter(w)
	if err != nil {
		return fmt.Errorf("xz: %w", err)
	}
	tw := tar.NewWriter(xw)
	mt := mtime.UTC().Truncate(time.Second)
	for _, f := range sorted {
		h := &tar.Header{
			Typeflag: f.Type,
			Name:     f.Path,
			Linkname: f.Linkname,
			Mode:     f.Mode,
			Uid:      0,
			Gid:      0,
			Uname:    "root",
			Gname:    "root",
			ModTime:  mt,
			Format:   tar.FormatPAX,
		}
		if f.Type == tar.TypeReg {
			h.Size = f.size()
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar %s: %w", f.Path, err)
		}
		if f.Type == tar.TypeReg {
			if err := writeTarData(tw, f); err != nil {
				return fmt.Errorf("tar %s: %w", f.Path, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("tar: %w", err)
	}
	if err := xw.Close(); err != nil {
		return fmt.Errorf("xz: %w", err)
	}
	return nil
}

// writeTarData writes the bytes of the regular file f after its header.
func writeTarData(tw *tar.Writer, f tarFile) error {
	if f.Source == "" {
		_, err := tw.Write(f.Data)
		return err
	}
	src, err := os.Open(f.Source)
	if err != nil {
		return fmt.Errorf("read source: %w", err)
	}
	defer src.Close()
	// The tar writer refuses bytes past the header's size, so a source
	// that grew fails here, and one that shrank fails on the count.
	n, err := io.Copy(tw, src)
	switch {
	case errors.Is(err, tar.ErrWriteTooLong):
		return fmt.Errorf("read source %s: it grew past the %d bytes it had when packaging started", f.Source, f.Size)
	case err != nil:
		return fmt.Errorf("read source %s: %w", f.Source, err)
	case n != f.Size:
		return fmt.Errorf("read source %s: read %d bytes, but it had %d when packaging started", f.Source, n, f.Size)
	}
	return nil
}

// Entry is one entry of a tarball as read.
type Entry struct {
	// Path as stored: relative to the tarball's destination, directories
	// ending in "/".
	Path     string      `json:"path"`
	Type     string      `json:"type"` // file, dir, symlink, hardlink or the tar type flag
	Mode     fs.FileMode `json:"mode"` // permission and set-id bits, in io/fs form
	Size     int64       `json:"size"`
	Linkname string      `json:"linkname,omitempty"`
	UID      int         `json:"uid"`
	GID      int         `json:"gid"`
	Uname    string      `json:"uname,omitempty"`
	Gname    string      `json:"gname,omitempty"`
	MTime    time.Time   `json:"mtime"`
}

func entryType(flag byte) string {
	switch flag {
	case tar.TypeReg, tar.TypeRegA:
		return "file"
	case tar.TypeDir:
		return "dir"
	case tar.TypeSymlink:
		return "symlink"
	case tar.TypeLink:
		return "hardlink"
	case tar.TypeChar:
		return "char"
	case tar.TypeBlock:
		return "block"
	case tar.TypeFifo:
		return "fifo"
	}
	return fmt.Sprintf("type-%q", flag)
}

// tarMode converts tar mode bits to io/fs form.
func tarMode(m int64) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// budget counts uncompressed bytes against the reader's limit, shared by
// every tarball of a package.
type budget struct {
	left int64
	max  int64
}

var errBudget = errors.New("size limit exceeded")

type limitedReader struct {
	r io.Reader
	b *budget
}

func (l *limitedReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.b.left -= int64(n)
	if l.b.left < 0 {
		return n, fmt.Errorf("uncompressed data past %d bytes: %w", l.b.max, errBudget)
	}
	return n, err
}

// scriptNames are the maintainer scripts an installer runs from scripts.txz.
var scriptNames = []string{"preinst", "postinst", "prerm", "postrm"}

func isScriptName(s string) bool {
	for _, n := range scriptNames {
		if s == n {
			return true
		}
	}
	return false
}

// maxScript bounds a script body kept in memory for Inspect.
const maxScript = 1 << 20

// readTXZ lists one tarball; readXZInfo has already checked the layout of
// its xz streams, so the decoder may accept several. Rule violations go to fs; the error return is
// for data that cannot be listed safely (bad xz or tar, a path escaping the
// destination, limits), which Open refuses.
func readTXZ(r io.Reader, member string, lim Limits, b *budget, entries *int, fs *findings) ([]Entry, map[string][]byte, error) {
	xr, err := xz.NewReader(r)
	if err != nil {
		return nil, nil, fmt.Errorf("xz: %w", err)
	}
	lr := &limitedReader{r: xr, b: b}
	tr := tar.NewReader(lr)
	var (
		list    []Entry
		scripts map[string][]byte
		seen    = map[string]bool{}
		links   = map[string]bool{} // symlinks: nothing may be placed below one
	)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return list, scripts, fmt.Errorf("tar: %w", err)
		}
		*entries++
		if *entries > lim.MaxEntries {
			return list, scripts, fmt.Errorf("more than %d tar entries", lim.MaxEntries)
		}
		e := Entry{
			Path: h.Name, Type: entryType(h.Typeflag), Mode: tarMode(h.Mode), Size: h.Size,
			Linkname: h.Linkname, UID: h.Uid, GID: h.Gid, Uname: h.Uname, Gname: h.Gname, MTime: h.ModTime.UTC(),
		}
		if err := checkEntryPath(member, e, seen, links, fs); err != nil {
			return list, scripts, err
		}
		list = append(list, e)
		if member == scriptsMember && e.Type == "file" && isScriptName(e.Path) {
			if e.Mode&0o111 == 0 {
				fs.add(Error, RuleScript, member, e.Path, fmt.Sprintf("script mode %04o is not executable", e.Mode.Perm()))
			}
			if e.Size <= maxScript {
				body, err := io.ReadAll(tr)
				if err != nil {
					return list, scripts, fmt.Errorf("tar %s: %w", e.Path, err)
				}
				if scripts == nil {
					scripts = map[string][]byte{}
				}
				scripts[e.Path] = body
			}
		} else if member == scriptsMember && !(e.Type == "dir" && e.Path == "./") {
			fs.add(Warning, RuleScript, member, e.Path, "not one of preinst, postinst, prerm, postrm: installers ignore it")
		}
	}
	// Read the rest of the stream so that its check is verified too; the
	// stream layout itself was checked by readXZInfo.
	if _, err := io.Copy(io.Discard, lr); err != nil {
		return list, scripts, fmt.Errorf("xz: %w", err)
	}
	return list, scripts, nil
}

// checkEntryPath applies the path rules of rpkg-format.md to one entry.
func checkEntryPath(member string, e Entry, seen, links map[string]bool, fs *findings) error {
	p := e.Path
	switch {
	case p == "":
		return errors.New("tar entry with an empty path")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("tar entry %q: absolute path", p)
	case hasDotDot(p):
		return fmt.Errorf("tar entry %q: \"..\" in path", p)
	}
	if strings.HasPrefix(p, "./") || p == "." {
		fs.add(Error, RuleTarPath, member, p, "path starts with \"./\"; paths are relative to the destination without it")
	}
	if e.Type == "dir" && !strings.HasSuffix(p, "/") {
		fs.add(Error, RuleTarPath, member, p, "directory path does not end in \"/\"")
	}
	if e.Type != "dir" && strings.HasSuffix(p, "/") {
		fs.add(Error, RuleTarPath, member, p, "non-directory path ends in \"/\"")
	}
	clean := path.Clean(p)
	for dir := path.Dir(clean); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if links[dir] {
			return fmt.Errorf("tar entry %q: path goes through symlink %q", p, dir)
		}
	}
	if seen[clean] {
		fs.add(Error, RuleTarDuplicate, member, p, "path appears more than once")
	}
	seen[clean] = true
	switch e.Type {
	case "file", "dir":
	case "hardlink":
		if strings.HasPrefix(e.Linkname, "/") || hasDotDot(e.Linkname) {
			return fmt.Errorf("tar entry %q: hardlink target %q escapes the destination", p, e.Linkname)
		}
		fs.add(Error, RuleTarHardlink, member, p, fmt.Sprintf("hardlink to %q: installers refuse hardlinks", e.Linkname))
	case "symlink":
		links[clean] = true
		if strings.HasPrefix(e.Linkname, "/") {
			fs.add(Warning, RuleTarLink, member, p, fmt.Sprintf("symlink to absolute path %q", e.Linkname))
		} else if t := path.Join(path.Dir(clean), e.Linkname); t == ".." || strings.HasPrefix(t, "../") {
			fs.add(Error, RuleTarLink, member, p, fmt.Sprintf("symlink target %q escapes the destination", e.Linkname))
		}
	default:
		fs.add(Error, RuleTarType, member, p, fmt.Sprintf("entry type %s is not allowed (files, directories and symlinks only)", e.Type))
	}
	return nil
}

func hasDotDot(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// readAll reads a whole section, bounded by the budget.
func readAll(r io.Reader, n int64, b *budget) ([]byte, error) {
	b.left -= n
	if b.left < 0 {
		return nil, fmt.Errorf("data past %d bytes: %w", b.max, errBudget)
	}
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, n); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
