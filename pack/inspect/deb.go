package inspect

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/blakesmith/ar"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// maxData bounds the decompressed data.tar read for md5sums checks.
const maxData = 16 << 30

// debParts is what readDeb gathers, for File and Verify alike.
type debParts struct {
	members   []string          // ar member names, in order
	binary    string            // debian-binary content
	control   map[string]string // control.tar files (control, md5sums, scripts…)
	fields    map[string]string // parsed control file
	dataMD5   map[string]string // path (no leading /) -> md5 of regular files
	findings  []Finding
	conffiles map[string]bool
}

// decompress wraps r according to the member name's extension.
func decompress(name string, r io.Reader) (io.Reader, func(), error) {
	nop := func() {}
	switch {
	case strings.HasSuffix(name, ".tar"):
		return r, nop, nil
	case strings.HasSuffix(name, ".gz"):
		z, err := gzip.NewReader(r)
		if err != nil {
			return nil, nop, err
		}
		return z, func() { z.Close() }, nil
	case strings.HasSuffix(name, ".xz"):
		z, err := xz.NewReader(r)
		return z, nop, err
	case strings.HasSuffix(name, ".zst"):
		z, err := zstd.NewReader(r, zstd.WithDecoderMaxMemory(maxHeader*4))
		if err != nil {
			return nil, nop, err
		}
		return z, z.Close, nil
	case strings.HasSuffix(name, ".bz2"):
		return bzip2.NewReader(r), nop, nil
	}
	return nil, nop, fmt.Errorf("member %s: unknown compression", name)
}

// readDeb reads the ar members of a deb. With verify, format problems
// become findings (and md5sums are checked) instead of errors.
func readDeb(f *os.File, verify bool) (*Report, *debParts, error) {
	d := &debParts{control: map[string]string{}, conffiles: map[string]bool{}, dataMD5: map[string]string{}}
	r := &Report{Format: "deb", Depends: []string{}, Files: []Entry{}}
	problem := func(format string, a ...any) error {
		msg := fmt.Sprintf(format, a...)
		if verify {
			d.findings = append(d.findings, Finding{Error, msg})
			return nil
		}
		return fmt.Errorf("%s", msg)
	}
	arr := ar.NewReader(f)
	sawData := false
	for {
		hdr, err := arr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, d, fmt.Errorf("ar: %w", err)
		}
		name := strings.TrimSuffix(strings.TrimSpace(hdr.Name), "/")
		d.members = append(d.members, name)
		switch {
		case name == "debian-binary":
			b, err := io.ReadAll(io.LimitReader(arr, 64))
			if err != nil {
				return nil, d, fmt.Errorf("debian-binary: %w", err)
			}
			d.binary = string(b)
		case strings.HasPrefix(name, "control.tar"):
			if err := readControl(name, arr, d); err != nil {
				return nil, d, err
			}
		case strings.HasPrefix(name, "data.tar"):
			sawData = true
			if err := readData(name, arr, r, d, verify); err != nil {
				if verify {
					d.findings = append(d.findings, Finding{Error, err.Error()})
					continue
				}
				return nil, d, err
			}
		}
	}
	if d.fields == nil {
		if err := problem("no control.tar member"); err != nil {
			return nil, d, err
		}
	}
	if !sawData {
		if err := problem("no data.tar member"); err != nil {
			return nil, d, err
		}
	}
	fl := d.fields
	r.Name = fl["Package"]
	r.Arch = fl["Architecture"]
	r.Maintainer = fl["Maintainer"]
	r.Homepage = fl["Homepage"]
	r.Epoch, r.Version, r.Release = splitDebVersion(fl["Version"])
	r.Summary, r.Description, _ = strings.Cut(fl["Description"], "\n")
	if dep := fl["Depends"]; dep != "" {
		for _, p := range strings.Split(dep, ",") {
			if p = strings.TrimSpace(p); p != "" {
				r.Depends = append(r.Depends, p)
			}
		}
	}
	r.Scripts = Scripts{
		PreInstall: d.control["preinst"], PostInstall: d.control["postinst"],
		PreRemove: d.control["prerm"], PostRemove: d.control["postrm"],
	}
	for i := range r.Files {
		r.Files[i].Config = d.conffiles[r.Files[i].Path]
	}
	sort.Slice(r.Files, func(i, j int) bool { return r.Files[i].Path < r.Files[j].Path })
	return r, d, nil
}

// splitDebVersion splits [epoch:]upstream[-revision].
func splitDebVersion(v string) (epoch, upstream, revision string) {
	if e, rest, ok := strings.Cut(v, ":"); ok {
		epoch, v = e, rest
	}
	if i := strings.LastIndex(v, "-"); i >= 0 {
		return epoch, v[:i], v[i+1:]
	}
	return epoch, v, ""
}

func readControl(name string, r io.Reader, d *debParts) error {
	z, closeZ, err := decompress(name, r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer closeZ()
	tr := tar.NewReader(io.LimitReader(z, maxHeader))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		p, err := entryPath(h.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxMember+1))
		if err != nil {
			return fmt.Errorf("%s: %s: %w", name, p, err)
		}
		if len(b) > maxMember {
			return fmt.Errorf("%s: %s: larger than %d bytes", name, p, maxMember)
		}
		d.control[strings.TrimPrefix(p, "/")] = string(b)
	}
	c, ok := d.control["control"]
	if !ok {
		return fmt.Errorf("%s: no control file", name)
	}
	if d.fields, err = parseControl(c); err != nil {
		return fmt.Errorf("%s: control: %w", name, err)
	}
	for _, l := range strings.Split(d.control["conffiles"], "\n") {
		if l = strings.TrimSpace(l); l != "" {
			d.conffiles[l] = true
		}
	}
	return nil
}

// parseControl reads one deb822 paragraph; continuation lines join their
// field with a newline, as Description's long text does.
func parseControl(s string) (map[string]string, error) {
	fields := map[string]string{}
	last := ""
	sc := bufio.NewScanner(strings.NewReader(s))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case l == "":
			continue
		case l[0] == ' ' || l[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("line %d: continuation before any field", n)
			}
			fields[last] += "\n" + strings.TrimSpace(l)
		default:
			k, v, ok := strings.Cut(l, ":")
			if !ok {
				return nil, fmt.Errorf("line %d: %q is not a field", n, l)
			}
			last = k
			fields[k] = strings.TrimSpace(v)
		}
	}
	return fields, sc.Err()
}

func readData(name string, r io.Reader, rep *Report, d *debParts, verify bool) error {
	z, closeZ, err := decompress(name, r)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	defer closeZ()
	tr := tar.NewReader(io.LimitReader(z, maxData))
	for n := 0; ; n++ {
		if n > maxEntries {
			return fmt.Errorf("%s: more than %d entries", name, maxEntries)
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		p, err := entryPath(h.Name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if p == "/" {
			continue
		}
		perm := uint32(h.Mode) & 0o7777
		f := Entry{Path: p, Size: h.Size, Owner: h.Uname, Group: h.Gname}
		if f.Owner == "" {
			f.Owner = strconv.Itoa(h.Uid)
		}
		if f.Group == "" {
			f.Group = strconv.Itoa(h.Gid)
		}
		var mode uint32
		switch h.Typeflag {
		case tar.TypeReg:
			mode = 0o100000 | perm
		case tar.TypeDir:
			mode = 0o040000 | perm
		case tar.TypeSymlink:
			mode = 0o120000 | perm
			f.Link = h.Linkname
			if linkEscapes(p, h.Linkname) {
				if err := fmt.Errorf("%s: symlink %s -> %s leaves the root", name, p, h.Linkname); !verify {
					return err
				} else {
					d.findings = append(d.findings, Finding{Error, err.Error()})
				}
			}
		case tar.TypeLink:
			mode = 0o100000 | perm
			t, err := entryPath(h.Linkname)
			if err != nil {
				return fmt.Errorf("%s: hard link %s: %w", name, p, err)
			}
			f.Link = t
		default:
			mode = perm
		}
		f.Mode = modeString(mode)
		f.Type = fileType(mode)
		if h.Typeflag == tar.TypeLink {
			f.Type = "hardlink"
		}
		rep.Files = append(rep.Files, f)
		if verify && h.Typeflag == tar.TypeReg {
			sum := md5.New()
			if _, err := io.Copy(sum, tr); err != nil {
				return fmt.Errorf("%s: %s: %w", name, p, err)
			}
			d.dataMD5[strings.TrimPrefix(p, "/")] = hex.EncodeToString(sum.Sum(nil))
		}
	}
}

func verifyDeb(f *os.File) []Finding {
	_, d, err := readDeb(f, true)
	if err != nil {
		return append(d.findings, Finding{Error, err.Error()})
	}
	out := d.findings
	if len(d.members) == 0 || d.members[0] != "debian-binary" {
		out = append(out, Finding{Error, fmt.Sprintf("first member is %q, want debian-binary", first(d.members))})
	} else if d.binary != "2.0\n" {
		out = append(out, Finding{Error, fmt.Sprintf("debian-binary is %q, want \"2.0\\n\"", d.binary)})
	}
	if len(d.members) < 3 || !strings.HasPrefix(d.members[1], "control.tar") || !strings.HasPrefix(d.members[2], "data.tar") {
		out = append(out, Finding{Error, fmt.Sprintf("members %v: want debian-binary, control.tar.*, data.tar.*", d.members)})
	}
	for _, m := range d.members[min(3, len(d.members)):] {
		if !strings.HasPrefix(m, "_") {
			out = append(out, Finding{Error, fmt.Sprintf("unexpected member %q after data.tar (only _-prefixed members may follow)", m)})
		}
	}
	for _, k := range []string{"Package", "Version", "Architecture", "Maintainer", "Description"} {
		if d.fields != nil && strings.TrimSpace(d.fields[k]) == "" {
			out = append(out, Finding{Error, "control: field " + k + " missing or empty"})
		}
	}
	sums, ok := d.control["md5sums"]
	if !ok {
		return append(out, Finding{Warning, "no md5sums in control.tar: dpkg --verify cannot check the files"})
	}
	listed := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader([]byte(sums)))
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if l == "" {
			continue
		}
		sum, p, ok := strings.Cut(l, "  ")
		if !ok || len(sum) != 32 {
			out = append(out, Finding{Error, fmt.Sprintf("md5sums line %d: %q is not \"MD5  PATH\"", n, l)})
			continue
		}
		p = strings.TrimPrefix(p, "./")
		listed[p] = true
		switch got, ok := d.dataMD5[p]; {
		case !ok:
			out = append(out, Finding{Error, fmt.Sprintf("md5sums line %d: %s is not a regular file in data.tar", n, p)})
		case got != sum:
			out = append(out, Finding{Error, fmt.Sprintf("md5sums line %d: %s has md5 %s, data.tar has %s", n, p, sum, got)})
		}
	}
	var unlisted []string
	for p := range d.dataMD5 {
		if !listed[p] && !d.conffiles["/"+p] {
			unlisted = append(unlisted, p)
		}
	}
	sort.Strings(unlisted)
	for _, p := range unlisted {
		out = append(out, Finding{Warning, fmt.Sprintf("md5sums: %s is not listed", p)})
	}
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
