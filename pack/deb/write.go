package deb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5" //nolint:gosec // md5sums is dpkg's format, not a security check
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
	"github.com/packyard/packyard/pack/internal/spool"
	"github.com/packyard/packyard/pack/sign"
	"github.com/packyard/packyard/pack/splice"
)

// debianBinary is the first member of every deb: the format's version.
var debianBinary = []byte("2.0\n")

// archToDebian spells Go's and rpm's architecture names as Debian does,
// for an Info whose Arch was not mapped yet (nfpm did the same).
var archToDebian = map[string]string{
	"386": "i386", "arm5": "armel", "arm6": "armhf", "arm7": "armhf", "mips64le": "mips64el",
	"mipsle": "mipsel", "ppc64le": "ppc64el", "s390": "s390x", "x86_64": "amd64", "aarch64": "arm64",
}

// writePackage writes the deb: data.tar.gz to a temporary file first
// (control.tar.gz, which precedes it, holds the md5sums and the installed
// size taken while writing it, and an ar member's size comes before its
// bytes), then the ar archive to w.
func writePackage(info *pack.Info, cache *splice.Cache, w io.Writer) error {
	var signer *sign.Key
	if info.Signing != nil {
		// Loaded before the payload is written, so that a wrong
		// passphrase fails at once; signed as of the package's time, not
		// the clock's, so that the same key gives the same bytes on every
		// run.
		k, err := sign.FromSigning(info.Signing)
		if err != nil {
			return err
		}
		signer = k.WithTime(info.MTime)
	}
	var changelog []byte
	if info.ChangelogText != "" {
		var err error
		if changelog, err = changelogGz(info); err != nil {
			return err
		}
	}
	es, err := entries(info, changelog)
	if err != nil {
		return err
	}
	d, err := spoolData(es, info.MTime, cache)
	if err != nil {
		return err
	}
	defer d.f.Remove()
	control, err := controlTarGz(info, es, d)
	if err != nil {
		return err
	}

	var sig bytes.Buffer
	if signer != nil {
		// debsign's _gpgorigin: an armored detached signature of the
		// three members' bytes concatenated, which debsig-verify checks.
		if err := d.f.Rewind(); err != nil {
			return err
		}
		if err := signer.DetachArmored(io.MultiReader(bytes.NewReader(debianBinary), bytes.NewReader(control), d.f), &sig); err != nil {
			return fmt.Errorf("_gpgorigin: %w", err)
		}
	}
	if err := d.f.Rewind(); err != nil {
		return err
	}
	a := &arWriter{w: w, mtime: info.MTime.Unix()}
	a.global()
	a.member("debian-binary", int64(len(debianBinary)), bytes.NewReader(debianBinary))
	a.member("control.tar.gz", int64(len(control)), bytes.NewReader(control))
	a.member("data.tar.gz", d.size, d.f)
	if signer != nil {
		a.member("_gpgorigin", int64(sig.Len()), &sig)
	}
	return a.err
}

// release is the Debian revision: the Info's release, 1 by default.
func release(info *pack.Info) string {
	return nfpmutil.OrDefault(info.Release, "1")
}

// arWriter writes a deb's ar archive: the common format's member headers
// (name, mtime, uid and gid 0, mode 100644 in octal, size), each member
// padded to an even length with a newline. The first error is kept and
// stops everything after it.
type arWriter struct {
	w     io.Writer
	mtime int64
	err   error
}

func (a *arWriter) global() {
	if _, err := io.WriteString(a.w, "!<arch>\n"); err != nil {
		a.err = fmt.Errorf("ar header: %w", err)
	}
}

func (a *arWriter) member(name string, size int64, r io.Reader) {
	if a.err != nil {
		return
	}
	hdr := fmt.Sprintf("%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, a.mtime, 0, 0, "100644", size)
	if len(hdr) != 60 {
		a.err = fmt.Errorf("ar member %s: header of %d bytes, not 60", name, len(hdr))
		return
	}
	if _, err := io.WriteString(a.w, hdr); err != nil {
		a.err = fmt.Errorf("ar member %s: %w", name, err)
		return
	}
	if n, err := io.Copy(a.w, r); err != nil {
		a.err = fmt.Errorf("ar member %s: %w", name, err)
		return
	} else if n != size {
		a.err = fmt.Errorf("ar member %s: wrote %d of %d bytes", name, n, size)
		return
	}
	if size%2 == 1 {
		if _, err := io.WriteString(a.w, "\n"); err != nil {
			a.err = fmt.Errorf("ar member %s: %w", name, err)
		}
	}
}

// data is data.tar.gz, spooled to a temporary file, with what
// control.tar.gz needs to know of it.
type data struct {
	f         *spool.File
	size      int64  // compressed bytes
	md5sums   []byte // dpkg's md5sums file: "HEX  path" for each regular file
	installed int64  // bytes of the regular files
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// spoolData writes es as data.tar through splice's gzip into a temporary
// file, in the dir pack/rpm spools its payload to, taking each regular
// file's md5 on the way. Each file is read once; its bytes go to the
// compressor, or come compressed from cache when another package of the
// build already carried them.
func spoolData(es []*entry, mtime time.Time, cache *splice.Cache) (_ *data, err error) {
	tmp, err := spool.Create("data.tar.gz", "packyard-deb-data-")
	if err != nil {
		return nil, err
	}
	d := &data{f: tmp}
	defer func() {
		if err != nil {
			d.f.Remove()
		}
	}()
	// Buffered: splice writes the inline bytes around each file in small
	// pieces (tar headers, padding).
	buf := bufio.NewWriterSize(tmp, 256<<10)
	cw := &countingWriter{w: buf}
	z := splice.NewWriter(cw, cache)
	var md5sums bytes.Buffer
	for _, e := range es {
		if err := writeEntry(z, e, mtime, &md5sums, &d.installed); err != nil {
			return nil, fmt.Errorf("%s: %w", strings.TrimSuffix(e.key, "/"), err)
		}
	}
	// The end of a tar archive: two zero blocks.
	if _, err := z.Write(make([]byte, 2*512)); err != nil {
		return nil, fmt.Errorf("data.tar.gz: %w", err)
	}
	if err := z.Close(); err != nil {
		return nil, fmt.Errorf("data.tar.gz: %w", err)
	}
	if err := buf.Flush(); err != nil {
		return nil, fmt.Errorf("data.tar.gz: %w", err)
	}
	d.size, d.md5sums = cw.n, md5sums.Bytes()
	return d, nil
}

// writeEntry writes e's tar header and, for a regular file, its bytes
// (through z.File, so that a large one is spliced) and padding; a regular
// file's md5sums line and size are added to md5sums and installed.
func writeEntry(z *splice.Writer, e *entry, mtime time.Time, md5sums *bytes.Buffer, installed *int64) error {
	hdr := &tar.Header{
		Name:    tarName(e.key),
		Mode:    tarMode(e.mode),
		Uname:   e.owner,
		Gname:   e.group,
		ModTime: mtime,
		Format:  tar.FormatGNU,
	}
	var body io.ReaderAt
	switch e.kind {
	case kindDir, kindImplicitDir:
		hdr.Typeflag = tar.TypeDir
	case kindSymlink:
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, e.linkTo
	case kindChangelog:
		// The changelog's header names no owner, as nfpm wrote it; dpkg
		// installs it as root:root.
		hdr.Typeflag, hdr.Size, hdr.Uname, hdr.Gname = tar.TypeReg, int64(len(e.data)), "", ""
		body = bytes.NewReader(e.data)
	case kindFile:
		hdr.Typeflag = tar.TypeReg
		data := e.data
		if e.source == "" && data == nil {
			data = []byte{} // an empty rendered file
		}
		r, size, closeBody, err := spool.Body(data, e.source)
		if err != nil {
			return err
		}
		defer closeBody()
		hdr.Size, body = size, r
	}
	if err := writeTarHeader(z, hdr); err != nil {
		return err
	}
	if body == nil {
		return nil
	}
	sum := md5.New() //nolint:gosec // dpkg's md5sums
	// File fails when the source has fewer bytes than the header says
	// (a file that shrank since it was opened).
	if _, err := z.File(body, hdr.Size, sum); err != nil {
		if e.source != "" {
			return fmt.Errorf("reading %s: %w", e.source, err)
		}
		return err
	}
	if pad := (512 - hdr.Size%512) % 512; pad > 0 {
		if _, err := z.Write(make([]byte, pad)); err != nil {
			return err
		}
	}
	fmt.Fprintf(md5sums, "%x  %s\n", sum.Sum(nil), strings.TrimLeft(path.Clean(e.key), "/"))
	*installed += hdr.Size
	return nil
}

// writeTarHeader writes hdr's blocks as archive/tar encodes them (with
// GNU long-name and long-link blocks when a name needs them) to z. The
// body is not written through archive/tar, which would refuse to go on
// after an entry whose bytes it did not see, so each header comes from a
// Writer of its own.
func writeTarHeader(z io.Writer, hdr *tar.Header) error {
	var b bytes.Buffer
	if err := tar.NewWriter(&b).WriteHeader(hdr); err != nil {
		return err
	}
	_, err := z.Write(b.Bytes())
	return err
}

// controlTarGz writes control.tar.gz: control, md5sums, conffiles when
// there are config files, and the maintainer scripts in name order —
// compressed with Go's default gzip level, as nfpm did, so that it is the
// same bytes.
func controlTarGz(info *pack.Info, es []*entry, d *data) ([]byte, error) {
	var conffiles []string
	for _, e := range es {
		if e.conffile {
			conffiles = append(conffiles, e.key)
		}
	}
	type member struct {
		name string
		body []byte
		mode int64
	}
	members := []member{
		{"control", controlFile(info, d.installed), 0o644},
		{"md5sums", d.md5sums, 0o644},
	}
	if len(conffiles) > 0 {
		members = append(members, member{"conffiles", []byte(strings.Join(conffiles, "\n") + "\n"), 0o644})
	}
	for _, s := range []member{
		{"postinst", []byte(info.Scripts.PostInstall), 0o755},
		{"postrm", []byte(info.Scripts.PostRemove), 0o755},
		{"preinst", []byte(info.Scripts.PreInstall), 0o755},
		{"prerm", []byte(info.Scripts.PreRemove), 0o755},
	} {
		// An empty script is no script: dpkg runs none.
		if len(s.body) > 0 {
			members = append(members, s)
		}
	}
	var b bytes.Buffer
	z := gzip.NewWriter(&b)
	tw := tar.NewWriter(z)
	for _, m := range members {
		hdr := &tar.Header{
			Name: "./" + m.name, Size: int64(len(m.body)), Mode: m.mode,
			ModTime: info.MTime, Typeflag: tar.TypeReg, Format: tar.FormatGNU,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("control.tar.gz: %s: %w", m.name, err)
		}
		if _, err := tw.Write(m.body); err != nil {
			return nil, fmt.Errorf("control.tar.gz: %s: %w", m.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("control.tar.gz: %w", err)
	}
	if err := z.Close(); err != nil {
		return nil, fmt.Errorf("control.tar.gz: %w", err)
	}
	return b.Bytes(), nil
}

// controlFile is the package's control file. Its fields and their order
// are those nfpm wrote, Section included when empty.
func controlFile(info *pack.Info, installed int64) []byte {
	var b strings.Builder
	field := func(name, value string) { b.WriteString(name + ": " + value + "\n") }
	list := func(name string, items []string) {
		if len(items) > 0 {
			field(name, strings.Trim(strings.Join(items, ", "), " "))
		}
	}
	version := info.Version + "-" + release(info)
	if info.Epoch != "" {
		version = info.Epoch + ":" + version
	}
	arch := info.Arch
	if a, ok := archToDebian[arch]; ok {
		arch = a
	}
	if p := nfpmutil.OrDefault(info.Platform, "linux"); p != "linux" {
		arch = p + "-" + arch
	}
	field("Package", info.Name)
	field("Version", version)
	field("Section", info.Section)
	field("Priority", nfpmutil.OrDefault(info.Priority, "optional"))
	field("Architecture", arch)
	field("Maintainer", nfpmutil.OrDefault(info.Maintainer, "Unset Maintainer <unset@localhost>"))
	field("Installed-Size", strconv.FormatInt(installed/1024, 10))
	list("Replaces", info.Replaces)
	var provides []string
	for _, p := range info.Provides {
		if p = strings.TrimSpace(p); p != "" {
			provides = append(provides, p)
		}
	}
	list("Provides", provides)
	list("Depends", info.Depends)
	list("Recommends", info.Recommends)
	list("Conflicts", info.Conflicts)
	if info.Homepage != "" {
		field("Homepage", info.Homepage)
	}
	field("Description", multiline(description(info)))
	return []byte(b.String())
}

// multiline formats a control field's value over several lines: each line
// trimmed, continuation lines indented by a space, an empty one written
// as " ." (deb-control(5)).
func multiline(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	var b strings.Builder
	b.WriteString(strings.TrimSpace(lines[0]))
	for _, l := range lines[1:] {
		b.WriteString("\n ")
		if l = strings.TrimSpace(l); l == "" {
			l = "."
		}
		b.WriteString(l)
	}
	return b.String()
}

// description is the control file's Description: the summary as the
// synopsis line, then the long description.
func description(info *pack.Info) string {
	switch {
	case info.Summary == "":
		return info.Description
	case info.Description == "":
		return info.Summary
	}
	return info.Summary + "\n" + info.Description
}

// changelogGz is /usr/share/doc/NAME/changelog.Debian.gz: info's one
// entry in Debian's changelog format (the first line of the text as the
// item, the other non-blank lines as sub-items), compressed as gzip -9n
// (no name, no time), which lintian asks for.
func changelogGz(info *pack.Info) ([]byte, error) {
	lines := strings.Split(info.ChangelogText, "\n")
	var text strings.Builder
	fmt.Fprintf(&text, "%s (%s-%s) unstable; urgency=medium\n  * %s", info.Name, info.Version, release(info), lines[0])
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) != "" {
			text.WriteString("\n   - " + l)
		}
	}
	fmt.Fprintf(&text, "\n\n -- %s  %s", nfpmutil.OrDefault(info.Maintainer, "packyard"),
		info.MTime.UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))

	var b bytes.Buffer
	z, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("changelog: %w", err)
	}
	if _, err := io.WriteString(z, strings.TrimSpace(text.String())+"\n"); err != nil {
		return nil, fmt.Errorf("changelog: %w", err)
	}
	if err := z.Close(); err != nil {
		return nil, fmt.Errorf("changelog: %w", err)
	}
	return b.Bytes(), nil
}
