package rpm

import (
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
	"github.com/packyard/packyard/pack/internal/spool"
	"github.com/packyard/packyard/pack/rpmspec"
	"github.com/packyard/packyard/pack/splice"
)

// The tags a source rpm has and a binary one has not (rpm's rpmtag.h).
const (
	tagSource        = 1018
	tagExclusiveArch = 1061
	tagCookie        = 1094
	tagSourcePackage = 1106
	tagEncoding      = 5062

	sigTagSHA1 = 269  // hex sha1 of the header
	sigTagMD5  = 1004 // md5 of header + compressed payload

	typeI18NString = 9

	// RPMFILE_SPECFILE: the file that --rebuild and rpm -i put in SPECS.
	flagSpecFile = 1 << 5

	// RPMSENSE_RPMLIB|RPMSENSE_LESS|RPMSENSE_EQUAL: "rpmlib(X) <= V".
	senseRPMLib = 1<<24 | 1<<1 | 1<<3
	senseEqual  = 1 << 3
)

// rpmlibNeeds are the rpmlib() requirements rpmbuild -bs records in every
// source rpm: the file names are stored as dir + base name, and the file
// digests are sha256 rather than md5.
var rpmlibNeeds = [][2]string{
	{"rpmlib(CompressedFileNames)", "3.0.4-1"},
	{"rpmlib(FileDigests)", "4.6.0-1"},
}

// SourceFileName is the source rpm's name, NAME-VERSION-RELEASE.src.rpm,
// the one every binary rpm of info names in its SOURCERPM tag.
func (Packager) SourceFileName(info *pack.Info) string {
	return info.Name + "-" + info.Version + "-" + release(info) + ".src.rpm"
}

// Source writes the source rpm of info to w: the spec and SOURCES of top
// (rpmspec.Render of the same info) as `rpmbuild -bs` writes them — lead
// of type source, signature header, a header with the tags rpm reads
// from the spec, and a gzip'd cpio payload of the spec and the sources
// under their flat names. Writing it in Go rather than with rpmbuild
// means no rpmbuild on the host, the same bytes on every machine whatever
// its rpm version, arch or time zone, and the binary's compression
// shared with the binary rpm. When info.Signing is set the srpm is signed
// as the binary rpm is.
func (p Packager) Source(info *pack.Info, top *rpmspec.Top, w io.Writer) error {
	if err := check(info); err != nil {
		return err
	}
	if top == nil {
		return fmt.Errorf("srpm %s: no spec and sources (rpmspec.Render)", info.Name)
	}
	if err := p.writeSource(info, top, w); err != nil {
		return fmt.Errorf("srpm %s: %w", info.Name, err)
	}
	return nil
}

// srcFile is one file of a source rpm: the spec or a source.
type srcFile struct {
	name   string
	mode   uint16
	flags  uint32
	data   []byte // nil: read path
	path   string
	size   uint32
	digest string // hex sha256, once written to the payload
}

// sourceFiles are the spec and the sources of top in name order, the
// order of the header's arrays and of the payload, as rpmbuild has them.
func sourceFiles(top *rpmspec.Top) ([]*srcFile, error) {
	fs := []*srcFile{{name: top.SpecName, mode: modeRegular | 0o644, flags: flagSpecFile, data: top.Spec}}
	if fs[0].data == nil {
		fs[0].data = []byte{}
	}
	for _, s := range top.Sources {
		f := &srcFile{name: s.Name, mode: modeRegular | uint16(s.Mode.Perm()), data: s.Data, path: s.Path}
		if f.data == nil && f.path == "" {
			return nil, fmt.Errorf("source %s: no data and no path", s.Name)
		}
		fs = append(fs, f)
	}
	slices.SortFunc(fs, func(a, b *srcFile) int { return strings.Compare(a.name, b.name) })
	for i, f := range fs {
		// The srpm's files are flat: rpm -i puts them in SOURCES and SPECS
		// by name alone.
		if f.name == "" || f.name == "." || f.name == ".." || strings.ContainsAny(f.name, "/\x00") {
			return nil, fmt.Errorf("source name %q: not a plain file name", f.name)
		}
		if i > 0 && fs[i-1].name == f.name {
			return nil, fmt.Errorf("source name %s: given twice", f.name)
		}
	}
	return fs, nil
}

func (p Packager) writeSource(info *pack.Info, top *rpmspec.Top, w io.Writer) error {
	fs, err := sourceFiles(top)
	if err != nil {
		return err
	}
	signer, err := signerOf(info)
	if err != nil {
		return err
	}
	pl, err := spoolSourcePayload(fs, uint32(info.MTime.Unix()), p.Cache)
	if err != nil {
		return err
	}
	defer pl.f.Remove()
	h, err := sourceHeader(info, top, fs, pl)
	if err != nil {
		return err
	}
	return assemble(w, info, h, pl, signer, true)
}

// i18n is a string of the header's i18n table's one locale ("C"), the
// type rpmbuild gives Summary, Description and Group.
func i18n(s string) entry {
	e := str(s)
	e.typ = typeI18NString
	return e
}

// sourceHeader is the srpm's header: the tags rpmbuild -bs records for a
// spec written by rpmspec from info. It differs from a binary rpm's in
// what rpm uses to tell the two apart (SOURCEPACKAGE, no SOURCERPM), in
// its dependencies (the spec's build requirements, none here, and the
// rpmlib() features of the format: the package's Requires are its binary
// rpm's) and in its files (flat names, the spec flagged as such).
func sourceHeader(info *pack.Info, top *rpmspec.Top, fs []*srcFile, pl *payload) (*header, error) {
	h := newHeader(regionImmutable)
	rel := release(info)
	for _, v := range []struct{ field, s string }{
		{"Summary", top.Summary}, {"Description", top.Description}, {"License", info.License}, {"Group", info.Group},
		{"Homepage", info.Homepage}, {"Maintainer", info.Maintainer}, {"Vendor", info.Vendor}, {"changelog", top.Changelog},
	} {
		// The header says its strings are UTF-8 (ENCODING), as rpmbuild
		// checks before it says so.
		if !utf8.ValidString(v.s) {
			return nil, fmt.Errorf("%s: not valid UTF-8", v.field)
		}
	}
	h.set(tagHeaderI18NTable, strs("C"))
	h.set(tagName, str(info.Name))
	h.set(tagVersion, str(info.Version))
	h.set(tagRelease, str(rel))
	evr := info.Version + "-" + rel
	if info.Epoch != "" {
		e, err := strconv.ParseUint(info.Epoch, 10, 32)
		if err != nil || e == math.MaxUint32 {
			return nil, fmt.Errorf("epoch %q is not a 32-bit unsigned number", info.Epoch)
		}
		h.set(tagEpoch, int32s(uint32(e)))
		evr = info.Epoch + ":" + evr
	}
	h.set(tagSummary, i18n(top.Summary))
	h.set(tagDescription, i18n(top.Description))
	buildTime := uint32(info.MTime.Unix())
	h.set(tagBuildTime, int32s(buildTime))
	h.set(tagBuildHost, str(BuildHost))
	// rpm's cookie is BUILDHOST BUILDTIME, the two pinned values.
	h.set(tagCookie, str(BuildHost+" "+strconv.FormatUint(uint64(buildTime), 10)))
	h.set(tagSize, int32s(pl.filesSize))
	h.set(tagLicense, str(info.License))
	if info.Group != "" {
		h.set(tagGroup, i18n(info.Group))
	}
	for tag, v := range map[uint32]string{tagVendor: info.Vendor, tagPackager: info.Maintainer, tagURL: info.Homepage} {
		if v != "" {
			h.set(tag, str(v))
		}
	}
	// SourceN names, last first, as rpmbuild lists them.
	names := make([]string, 0, len(top.Sources))
	for i := len(top.Sources) - 1; i >= 0; i-- {
		names = append(names, top.Sources[i].Name)
	}
	if len(names) > 0 {
		h.set(tagSource, strs(names...))
	}
	h.set(tagOS, str(nfpmutil.OrDefault(info.Platform, "linux")))
	// rpmbuild -bs records the build host's arch, unless the spec says
	// BuildArch: noarch; the package's arch instead keeps the srpm the
	// same on every host, and is the host arch of a native build.
	h.set(tagArch, str(info.Arch))
	if info.Arch != "noarch" {
		h.set(tagExclusiveArch, strs(info.Arch)) // the spec's ExclusiveArch
	}
	h.set(tagSourcePackage, int32s(1))

	n := len(fs)
	var (
		base, digests, empty, owners       = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		sizes, mtimes, flags, inodes, ones = make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n)
		dirIdx, verify                     = make([]uint32, n), make([]uint32, n)
		modes, rdevs                       = make([]uint16, n), make([]uint16, n)
	)
	for i, f := range fs {
		base[i], digests[i], owners[i] = f.name, f.digest, "root"
		sizes[i], mtimes[i], flags[i], inodes[i], ones[i], verify[i] = f.size, buildTime, f.flags, uint32(i+1), 1, math.MaxUint32
		modes[i] = f.mode
	}
	h.set(tagFileSizes, int32s(sizes...))
	h.set(tagFileModes, int16s(modes...))
	h.set(tagFileRDevs, int16s(rdevs...))
	h.set(tagFileMTimes, int32s(mtimes...))
	h.set(tagFileDigests, strs(digests...))
	h.set(tagFileLinkTos, strs(empty...))
	h.set(tagFileFlags, int32s(flags...))
	h.set(tagFileUserName, strs(owners...))
	h.set(tagFileGroupName, strs(owners...))
	h.set(tagFileVerifyFlags, int32s(verify...))
	h.set(tagFileDevices, int32s(ones...))
	h.set(tagFileINodes, int32s(inodes...))
	h.set(tagFileLangs, strs(empty...))
	h.set(tagDirIndexes, int32s(dirIdx...))
	h.set(tagBaseNames, strs(base...))
	h.set(tagDirNames, strs(""))
	h.set(tagFileDigestAlgo, int32s(digestSHA256))

	// The package provides itself, as rpmbuild records it for the srpm.
	h.set(tagProvideName, strs(info.Name))
	h.set(tagProvideFlags, int32s(senseEqual))
	h.set(tagProvideVersion, strs(evr))
	var rn, rv []string
	var rf []uint32
	for _, r := range rpmlibNeeds {
		rn, rv, rf = append(rn, r[0]), append(rv, r[1]), append(rf, senseRPMLib)
	}
	h.set(tagRequireName, strs(rn...))
	h.set(tagRequireVersion, strs(rv...))
	h.set(tagRequireFlags, int32s(rf...))

	entries, err := parseChangelog(top.Changelog)
	if err != nil {
		return nil, fmt.Errorf("changelog: %w", err)
	}
	if len(entries) > 0 {
		times, who, texts := make([]uint32, len(entries)), make([]string, len(entries)), make([]string, len(entries))
		for i, e := range entries {
			times[i], who[i], texts[i] = e.time, e.name, e.text
		}
		h.set(tagChangelogTime, int32s(times...))
		h.set(tagChangelogName, strs(who...))
		h.set(tagChangelogText, strs(texts...))
	}

	h.set(tagPayloadFormat, str("cpio"))
	h.set(tagPayloadCompress, str("gzip"))
	h.set(tagPayloadFlags, str("9"))
	h.set(tagEncoding, str("utf-8"))
	h.set(tagPayloadDigest, strs(hex.EncodeToString(pl.digest)))
	h.set(tagPayloadDigestAl, int32s(digestSHA256))
	return h, nil
}

// changelogEntry is one %changelog entry as rpm stores it.
type changelogEntry struct {
	time       uint32
	name, text string
}

// parseChangelog splits a %changelog section as rpmbuild does: each entry
// is a "* Www Mmm DD YYYY NAME" line, dated noon UTC of that day (rpm's
// choice, so that the day shows right in every time zone), and the text
// up to the next line starting with '*', trimmed of white space.
func parseChangelog(s string) ([]changelogEntry, error) {
	var out []changelogEntry
	s = strings.TrimLeft(s, " \t\r\n\f\v")
	for s != "" {
		if s[0] != '*' {
			return nil, fmt.Errorf("entry %q does not start with '*'", firstLine(s))
		}
		line, rest, ok := strings.Cut(s, "\n")
		if !ok {
			return nil, fmt.Errorf("entry %q has no text", line)
		}
		fields := strings.Fields(line[1:])
		if len(fields) < 5 {
			return nil, fmt.Errorf("entry %q: want '* Www Mmm DD YYYY NAME'", line)
		}
		day, err := time.Parse("Mon Jan 2 2006", strings.Join(fields[:4], " "))
		// rpmbuild takes any day from 1970 (SOURCE_DATE_EPOCH=0 gives one);
		// the entry's time must fit rpm's 32-bit tag.
		if err != nil || day.Year() < 1970 || day.Unix()+12*3600 > math.MaxUint32 {
			return nil, fmt.Errorf("entry %q: bad date (want Www Mmm DD YYYY)", line)
		}
		// The name is the rest of the line after the date's four words.
		name := line[1:]
		for range 4 {
			name = strings.TrimLeft(name, " \t")
			name = name[strings.IndexAny(name, " \t"):]
		}
		name = strings.TrimSpace(name)
		// The text runs to the next line that starts with '*'.
		text, next := rest, ""
		if i := strings.Index(rest, "\n*"); i >= 0 {
			text, next = rest[:i+1], rest[i+1:]
		}
		text = strings.TrimSpace(text)
		if text == "" {
			return nil, fmt.Errorf("entry %q has no text", line)
		}
		out = append(out, changelogEntry{time: uint32(day.Add(12 * time.Hour).Unix()), name: name, text: text})
		s = next
	}
	return out, nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// spoolSourcePayload writes fs as a newc cpio archive (mtime the
// package's time, as rpmbuild's) through splice's gzip -9 into a temporary
// file, taking each file's size and digest. The sources' large files (the
// binary) are spliced in from c, which the binary rpm of the same build
// fills: the srpm does not compress the binary again.
func spoolSourcePayload(fs []*srcFile, mtime uint32, c *splice.Cache) (*payload, error) {
	return spoolArchive("srpm", mtime, c, func(arch *newc, z *splice.Writer) (uint64, error) {
		var total uint64
		for _, f := range fs {
			if err := addSource(arch, z, f); err != nil {
				return 0, fmt.Errorf("%s: %w", f.name, err)
			}
			total += uint64(f.size)
		}
		return total, nil
	})
}

// addSource writes f's cpio entry and sets f's size and digest.
func addSource(arch *newc, z *splice.Writer, f *srcFile) error {
	r, size, closeBody, err := spool.Body(f.data, f.path)
	if err != nil {
		return err
	}
	defer closeBody()
	if size > math.MaxInt32 {
		return fmt.Errorf("%d bytes; rpm's 32-bit file sizes stop at 2 GiB", size)
	}
	if err := arch.header(f.name, uint32(f.mode), 1, size); err != nil {
		return err
	}
	// Counted, so that a file that shrank since its stat is an error
	// rather than an archive whose header promises more bytes.
	var n countingWriter
	d, err := z.File(r, size, &n)
	if err == nil && int64(n) != size {
		err = fmt.Errorf("read %d of %d bytes", n, size)
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", nfpmutil.OrDefault(f.path, f.name), err)
	}
	f.size, f.digest = uint32(size), hex.EncodeToString(d[:])
	return nil
}

// countingWriter counts the bytes written to it.
type countingWriter int64

func (c *countingWriter) Write(b []byte) (int, error) {
	*c += countingWriter(len(b))
	return len(b), nil
}
