// Package rpmspec turns a *pack.Info into an rpmbuild top directory (a
// spec plus its SOURCES) and builds it with rpmbuild, mock-style: the same
// command runs on the host and in an EL container of the package's dist.
//
// The spec installs exactly Info.Contents with their modes, owners and
// config flags and carries Info.Scripts verbatim, so that the rpmbuild rpm
// and the nfpm rpm of one Info list the same files and scriptlets.
package rpmspec

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/packyard/packyard/pack"
)

// Payload compression of both the binary rpm and the srpm. gzip -9 is what
// nfpm writes by default, so both builders give the same kind of file.
const payload = "w9.gzdio"

// safePath is what a destination or source name may hold. Spaces, quotes,
// globs and % would each need their own quoting in %install (shell) and
// %files (rpm's glob and macro expansion); refusing them keeps the spec
// obviously right.
var safePath = regexp.MustCompile(`^/[A-Za-z0-9._+@,:=~/-]*$`)

// safeID is a user or group name as %attr can carry it.
var safeID = regexp.MustCompile(`^[A-Za-z0-9._][A-Za-z0-9._-]*$`)

// source is one file copied into SOURCES.
type source struct {
	name string // file name in SOURCES
	data []byte // nil: copy from path
	path string
	mode fs.FileMode // the source file's own mode, for copying
}

// entry is a validated content entry with its SOURCES slot.
type entry struct {
	typ   pack.ContentType
	dest  string
	mode  fs.FileMode
	owner string
	group string
	link  string // symlink target
	src   int    // SourceN number for files
}

// Top is the rpmbuild top directory of a package as Write lays it out,
// held in memory: what a source rpm carries (the spec and SOURCES) and the
// values rpm reads from the spec for its header. pack/rpm writes the srpm
// from it without rpmbuild and without copying the sources first.
type Top struct {
	SpecName string // NAME.spec
	Spec     []byte
	// Sources are the files of SOURCES in SourceN order, the release
	// tarball (Source0) first.
	Sources []Source
	// Summary and Description are the spec's, as rpm reads them back:
	// the Summary defaults to the Description's first line and the
	// other way round.
	Summary, Description string
	// Changelog is the %changelog section's text after rpm's macro
	// expansion, i.e. without the spec's %% escapes.
	Changelog string
}

// Source is one file of SOURCES: its name there, and its bytes (Data) or
// the host file that holds them (Path). Mode is the permission the file
// has in SOURCES, which rpmbuild records in the srpm.
type Source struct {
	Name string
	Data []byte
	Path string
	Mode fs.FileMode
}

// Render lays out info's top directory in memory, checking info as Write
// does; tarball is the source release (Source0).
func Render(info *pack.Info, tarball string) (*Top, error) {
	if info == nil {
		return nil, errors.New("rpmspec: nil package info")
	}
	spec, sources, err := render(info, tarball)
	if err != nil {
		return nil, fmt.Errorf("rpmspec %s: %w", info.Name, err)
	}
	summary, description := texts(info)
	// rpm trims a preamble tag's value.
	t := &Top{SpecName: info.Name + ".spec", Spec: spec, Summary: strings.TrimSpace(summary), Description: description, Changelog: Changelog(info)}
	for _, s := range sources {
		t.Sources = append(t.Sources, Source{Name: s.name, Data: s.data, Path: s.path, Mode: s.mode})
	}
	return t, nil
}

// texts are the Summary and the Description the spec gives.
func texts(info *pack.Info) (summary, description string) {
	summary = info.Summary
	if summary == "" {
		summary, _, _ = strings.Cut(strings.TrimSpace(info.Description), "\n")
	}
	description = strings.TrimSpace(info.Description)
	if description == "" {
		description = summary
	}
	return summary, description
}

// Write generates TOPDIR/SPECS/NAME.spec and TOPDIR/SOURCES for info:
// Source0 is tarball (the source release, which the srpm carries and %prep
// unpacks) and Source1.. are the file contents of info, named after their
// destination's base name (the full path, flattened, where two share one).
// Every file is written atomically. It returns the spec's path.
func Write(info *pack.Info, tarball string, topdir string) (specPath string, err error) {
	if info == nil {
		return "", errors.New("rpmspec: nil package info")
	}
	spec, sources, err := render(info, tarball)
	if err != nil {
		return "", fmt.Errorf("rpmspec %s: %w", info.Name, err)
	}
	srcDir := filepath.Join(topdir, "SOURCES")
	specDir := filepath.Join(topdir, "SPECS")
	for _, d := range []string{srcDir, specDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("rpmspec %s: %w", info.Name, err)
		}
	}
	for _, s := range sources {
		if err := s.copyTo(filepath.Join(srcDir, s.name)); err != nil {
			return "", fmt.Errorf("rpmspec %s: %w", info.Name, err)
		}
	}
	specPath = filepath.Join(specDir, info.Name+".spec")
	if err := writeAtomic(specPath, bytes.NewReader(spec), 0o644); err != nil {
		return "", fmt.Errorf("rpmspec %s: %w", info.Name, err)
	}
	return specPath, nil
}

// Release is the rpm Release of info: Info.Release (default 1) with
// ".DIST" appended, spelled out rather than through %{?dist} so the file
// name does not depend on the build host's macros and matches nfpm's.
func Release(info *pack.Info) string {
	r := info.Release
	if r == "" {
		r = "1"
	}
	if info.Dist != "" {
		r += "." + info.Dist
	}
	return r
}

// FileName is the binary rpm's conventional name, NAME-VERSION-RELEASE.ARCH.rpm.
func FileName(info *pack.Info) string {
	return fmt.Sprintf("%s-%s-%s.%s.rpm", info.Name, info.Version, Release(info), info.Arch)
}

// esc makes text literal for rpm's macro expander.
func esc(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// tarballDir is the top directory of a source release, its file name
// without the archive extension (backplane-0.26.0acme.tar.gz holds
// backplane-0.26.0acme/).
func tarballDir(name string) (string, error) {
	for _, ext := range []string{".tar.gz", ".tgz", ".tar.xz", ".tar.bz2", ".tar.zst", ".tar"} {
		if d, ok := strings.CutSuffix(name, ext); ok && d != "" {
			return d, nil
		}
	}
	return "", fmt.Errorf("tarball %q: not a .tar.gz/.tgz/.tar.xz/.tar.bz2/.tar.zst/.tar", name)
}

func checkLine(field, v string) error {
	if strings.ContainsAny(v, "\n\r") {
		return fmt.Errorf("%s %q: must be one line", field, v)
	}
	return nil
}

// render builds the spec text and the list of SOURCES.
func render(info *pack.Info, tarball string) ([]byte, []source, error) {
	if err := checkInfo(info); err != nil {
		return nil, nil, err
	}
	tarName := filepath.Base(tarball)
	topDir, err := tarballDir(tarName)
	if err != nil {
		return nil, nil, err
	}
	if !safePath.MatchString("/" + tarName) {
		return nil, nil, fmt.Errorf("tarball %q: name has characters the spec cannot carry", tarName)
	}
	if fi, err := os.Stat(tarball); err != nil {
		return nil, nil, fmt.Errorf("tarball: %w", err)
	} else if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("tarball %s: not a regular file", tarball)
	}
	sources := []source{{name: tarName, path: tarball, mode: 0o644}}
	entries, files, err := contents(info.Contents, tarName)
	if err != nil {
		return nil, nil, err
	}
	sources = append(sources, files...)

	summary, description := texts(info)
	if summary == "" {
		return nil, nil, errors.New("Summary: empty, and no Description to take it from")
	}

	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Generated by packyard from the package's declarative contents.\n")
	p("# Build: rpmbuild -ba --define \"_topdir TOPDIR\" TOPDIR/SPECS/%s.spec\n\n", info.Name)
	p("# Reproducible: every time is SOURCE_DATE_EPOCH, set here so that the\n")
	p("# spec alone gives the same rpm on any host.\n")
	p("%%{lua: posix.setenv(\"SOURCE_DATE_EPOCH\", \"%d\")}\n", info.MTime.Unix())
	p("%%define source_date_epoch_from_changelog 0\n")
	p("%%define use_source_date_epoch_as_buildtime 1\n")
	p("%%define clamp_mtime_to_source_date_epoch 1\n")
	p("%%define _buildhost packyard\n")
	p("%%define _binary_payload %s\n", payload)
	p("%%define _source_payload %s\n", payload)
	p("# Go binaries ship as built: no debuginfo, stripping, build-id links,\n")
	p("# or distro post-install rewriting (shebang mangling, bytecompiling).\n")
	p("%%global debug_package %%{nil}\n")
	p("%%define __strip /bin/true\n")
	p("%%define __os_install_post %%{nil}\n")
	p("%%define _build_id_links none\n")
	p("# Only what the contents say is %%%%doc: rpmbuild would flag /usr/share/doc\n")
	p("# files by itself, nfpm does not.\n")
	p("%%define __docdir_path %%{nil}\n\n")

	p("Name: %s\n", info.Name)
	if info.Epoch != "" {
		p("Epoch: %s\n", info.Epoch)
	}
	p("Version: %s\n", info.Version)
	p("Release: %s\n", Release(info))
	p("Summary: %s\n", esc(summary))
	p("License: %s\n", esc(info.License))
	for _, kv := range [][2]string{{"Group", info.Group}, {"URL", info.Homepage}, {"Packager", info.Maintainer}, {"Vendor", info.Vendor}} {
		if kv[1] != "" {
			p("%s: %s\n", kv[0], esc(kv[1]))
		}
	}
	if info.Arch == "noarch" {
		p("BuildArch: noarch\n")
	} else {
		// rpmbuild refuses "BuildArch: aarch64" on an x86_64 host even with
		// --target; without BuildArch, --target ARCH (which Build passes)
		// builds for any arch, and ExclusiveArch stops a plain rpmbuild on
		// the wrong host from mislabelling the prebuilt binaries.
		p("ExclusiveArch: %s\n", info.Arch)
	}
	p("# Dependencies are the declared ones only, as nfpm writes them.\n")
	p("AutoReqProv: no\n")
	for i, s := range sources {
		p("Source%d: %s\n", i, s.name)
	}
	for _, d := range []struct {
		tag  string
		list []string
	}{{"Requires", info.Depends}, {"Recommends", info.Recommends}, {"Provides", info.Provides},
		{"Conflicts", info.Conflicts}, {"Obsoletes", info.Replaces}} {
		for _, v := range d.list {
			p("%s: %s\n", d.tag, esc(v))
		}
	}
	p("\n%%description\n%s\n\n", esc(description))
	// What %setup -q -n DIR does, but through the variables rpmbuild
	// exports instead of macros: rpm stores the expanded spec in the srpm,
	// and %setup would put the absolute _topdir there, making the srpm (and
	// so every rpm's SOURCEPKGID) differ between build directories.
	p("%%prep\nrm -rf '%s'\ntar -xof \"$RPM_SOURCE_DIR/%s\"\ncd '%s'\n\n", topDir, tarName, topDir)
	p("%%build\n# The binaries come prebuilt from packyard's compile stage.\n\n")

	// Shell variables, not %{SOURCEn}/%{buildroot}, for the same reason
	// as in %prep.
	p("%%install\n")
	for _, e := range entries {
		switch e.typ {
		case pack.Dir:
			p("mkdir -p \"$RPM_BUILD_ROOT%s\"\n", e.dest)
		case pack.Symlink:
			p("mkdir -p \"$RPM_BUILD_ROOT%s\"\n", path.Dir(e.dest))
			p("ln -s '%s' \"$RPM_BUILD_ROOT%s\"\n", esc(e.link), e.dest)
		default:
			p("install -D -m %04o \"$RPM_SOURCE_DIR/%s\" \"$RPM_BUILD_ROOT%s\"\n", unixPerm(e.mode), sources[e.src].name, e.dest)
		}
	}
	p("\n")

	for _, s := range []struct{ section, body string }{
		{"pre", info.Scripts.PreInstall}, {"post", info.Scripts.PostInstall},
		{"preun", info.Scripts.PreRemove}, {"postun", info.Scripts.PostRemove},
		{"posttrans", info.Scripts.PostTrans},
	} {
		if s.body == "" {
			continue
		}
		body := esc(s.body)
		if !strings.HasSuffix(body, "\n") {
			body += "\n"
		}
		p("%%%s\n%s\n", s.section, body)
	}

	p("%%files\n")
	for _, e := range entries {
		switch e.typ {
		case pack.Dir:
			p("%%dir %%attr(%04o,%s,%s) %s\n", unixPerm(e.mode), e.owner, e.group, e.dest)
		case pack.Symlink:
			p("%%attr(-,%s,%s) %s\n", e.owner, e.group, e.dest)
		case pack.Config:
			p("%%config %%attr(%04o,%s,%s) %s\n", unixPerm(e.mode), e.owner, e.group, e.dest)
		case pack.ConfigNoReplace:
			p("%%config(noreplace) %%attr(%04o,%s,%s) %s\n", unixPerm(e.mode), e.owner, e.group, e.dest)
		default:
			p("%%attr(%04o,%s,%s) %s\n", unixPerm(e.mode), e.owner, e.group, e.dest)
		}
	}
	p("\n%%changelog\n%s", esc(Changelog(info)))
	return []byte(b.String()), sources, nil
}

func checkInfo(info *pack.Info) error {
	req := []struct{ field, v string }{{"Name", info.Name}, {"Version", info.Version}, {"Arch", info.Arch}, {"License", info.License}}
	for _, r := range req {
		if r.v == "" {
			return fmt.Errorf("%s: empty (rpmbuild requires it)", r.field)
		}
	}
	if info.MTime.IsZero() {
		return errors.New("MTime: zero; set it from SOURCE_DATE_EPOCH")
	}
	// A name may hold '-' (rudder-agent, python3-foo); the fields that
	// rpm joins with '-' into NAME-VERSION-RELEASE may not.
	if strings.ContainsAny(info.Name, " \t\n\r%/") {
		return fmt.Errorf("Name %q: must not hold '/', '%%' or white space", info.Name)
	}
	for _, f := range []struct{ field, v string }{{"Version", info.Version}, {"Release", info.Release}, {"Dist", info.Dist}, {"Arch", info.Arch}, {"Epoch", info.Epoch}} {
		if strings.ContainsAny(f.v, "- \t\n\r%/") {
			return fmt.Errorf("%s %q: must not hold '-', '/', '%%' or white space", f.field, f.v)
		}
	}
	for _, f := range []struct{ field, v string }{{"Summary", info.Summary}, {"License", info.License}, {"Group", info.Group},
		{"Homepage", info.Homepage}, {"Maintainer", info.Maintainer}, {"Vendor", info.Vendor}} {
		if err := checkLine(f.field, f.v); err != nil {
			return err
		}
	}
	for _, d := range [][]string{info.Depends, info.Recommends, info.Provides, info.Conflicts, info.Replaces} {
		for _, v := range d {
			if err := checkLine("dependency", v); err != nil {
				return err
			}
		}
	}
	return nil
}

// contents validates info's contents, sorts them by destination and
// assigns each file its SourceN (from 1; 0 is the tarball).
func contents(cs []pack.Content, tarName string) ([]entry, []source, error) {
	sorted := make([]pack.Content, len(cs))
	copy(sorted, cs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Destination < sorted[j].Destination })

	var entries []entry
	var sources []source
	names := map[string]bool{tarName: true}
	seen := map[string]bool{}
	for _, c := range sorted {
		field := fmt.Sprintf("Contents[%s]", c.Destination)
		if !safePath.MatchString(c.Destination) || path.Clean(c.Destination) != c.Destination || c.Destination == "/" {
			return nil, nil, fmt.Errorf("%s: destination must be a clean absolute path of [A-Za-z0-9._+@,:=~/-]", field)
		}
		if seen[c.Destination] {
			return nil, nil, fmt.Errorf("%s: destination listed twice", field)
		}
		seen[c.Destination] = true
		e := entry{typ: c.Type, dest: c.Destination, mode: c.Mode, owner: c.Owner, group: c.Group}
		if e.owner == "" {
			e.owner = "root"
		}
		if e.group == "" {
			e.group = "root"
		}
		for _, id := range []string{e.owner, e.group} {
			if !safeID.MatchString(id) {
				return nil, nil, fmt.Errorf("%s: owner/group %q is not a user or group name", field, id)
			}
		}
		switch c.Type {
		case pack.Dir:
			if e.mode == 0 {
				e.mode = 0o755
			}
		case pack.Symlink:
			if c.Source == "" || strings.ContainsAny(c.Source, " \t\n\r'\"\\$`%*?[]{}()<>|&;") {
				return nil, nil, fmt.Errorf("%s: symlink target %q is empty or holds characters the spec cannot carry", field, c.Source)
			}
			e.link = c.Source
		case pack.File, pack.Config, pack.ConfigNoReplace, "":
			if c.Type == "" {
				e.typ = pack.File
			}
			s := source{data: c.Data, path: c.Source, mode: 0o644}
			if c.Data == nil {
				fi, err := os.Stat(c.Source)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: source: %w", field, err)
				}
				if !fi.Mode().IsRegular() {
					return nil, nil, fmt.Errorf("%s: source %s is not a regular file", field, c.Source)
				}
				s.mode = fi.Mode().Perm()
				if e.mode == 0 {
					e.mode = fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
				}
			} else if e.mode == 0 {
				e.mode = 0o644
			}
			s.name = path.Base(c.Destination)
			if names[s.name] {
				s.name = strings.ReplaceAll(strings.TrimPrefix(c.Destination, "/"), "/", "_")
			}
			if names[s.name] {
				return nil, nil, fmt.Errorf("%s: source name %s already taken", field, s.name)
			}
			names[s.name] = true
			sources = append(sources, s)
			e.src = len(sources)
		default:
			return nil, nil, fmt.Errorf("%s: unknown content type %q", field, c.Type)
		}
		entries = append(entries, e)
	}
	return entries, sources, nil
}

// unixPerm is the permission word rpm writes: Go keeps setuid, setgid and
// sticky outside the low bits.
func unixPerm(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// Changelog is the %changelog section of info's spec, as rpm reads it
// (render escapes it for the spec): Info.ChangelogText when it is already
// an rpm changelog (starts with "* "), otherwise one entry dated MTime
// wrapping the text.
func Changelog(info *pack.Info) string {
	text := strings.TrimSpace(info.ChangelogText)
	if strings.HasPrefix(text, "* ") {
		return text + "\n"
	}
	who := info.Maintainer
	if who == "" {
		who = "packyard"
	}
	evr := info.Version + "-" + Release(info)
	if info.Epoch != "" {
		evr = info.Epoch + ":" + evr
	}
	var b strings.Builder
	fmt.Fprintf(&b, "* %s %s - %s\n", info.MTime.UTC().Format("Mon Jan 02 2006"), who, evr)
	if text == "" {
		text = "Release " + info.Version
	}
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if !strings.HasPrefix(l, "-") {
			l = "- " + l
		}
		fmt.Fprintf(&b, "%s\n", l)
	}
	return b.String()
}

// Build runs `rpmbuild -ba --define "_topdir TOPDIR" SPEC` (env nil: the
// current environment) and returns the paths of the binary rpm and the
// srpm it wrote. On failure the error carries the end of rpmbuild's output.
func Build(ctx context.Context, topdir, specPath string, env []string) (rpm, srpm string, err error) {
	abs, err := filepath.Abs(topdir)
	if err != nil {
		return "", "", fmt.Errorf("rpmbuild %s: %w", specPath, err)
	}
	arch, err := buildArch(specPath)
	if err != nil {
		return "", "", fmt.Errorf("rpmbuild %s: %w", specPath, err)
	}
	argv := Argv("-ba", abs, specPath, arch)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", "", fmt.Errorf("rpmbuild %s: %w\n%s", specPath, err, tail(out, 40))
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		p, ok := strings.CutPrefix(sc.Text(), "Wrote: ")
		if !ok {
			continue
		}
		if strings.HasSuffix(p, ".src.rpm") {
			srpm = p
		} else if strings.HasSuffix(p, ".rpm") {
			rpm = p
		}
	}
	if rpm == "" || srpm == "" {
		return "", "", fmt.Errorf("rpmbuild %s: no rpm and srpm in its output\n%s", specPath, tail(out, 40))
	}
	return rpm, srpm, nil
}

// Argv is the rpmbuild command line for a top dir written by Write: mode
// is -ba (rpm and srpm) or -bs (srpm only), arch the package's
// architecture. The Dagger module runs this same command in the dist's EL
// container; everything else that pins the build (build host, times,
// payload) is in the spec itself.
func Argv(mode, topdir, specPath, arch string) []string {
	args := []string{"rpmbuild", mode, "--define", "_topdir " + topdir}
	// The payload is prebuilt, so building "for" another arch than the
	// host's is harmless; --target makes rpmbuild label it so.
	if arch != "" && arch != "noarch" && mode != "-bs" {
		args = append(args, "--target", arch)
	}
	return append(args, specPath)
}

// buildArch reads the arch a generated spec is for (BuildArch or
// ExclusiveArch).
func buildArch(specPath string) (string, error) {
	f, err := os.Open(specPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		for _, tag := range []string{"BuildArch:", "ExclusiveArch:"} {
			if v, ok := strings.CutPrefix(sc.Text(), tag); ok {
				return strings.TrimSpace(v), nil
			}
		}
	}
	return "", sc.Err()
}

// tail is the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// copyTo writes s to dst. A file is streamed, not read whole: a package's
// binary may be hundreds of MiB, and rpmbuild, which runs next, streams.
func (s source) copyTo(dst string) error {
	if s.data != nil {
		return writeAtomic(dst, bytes.NewReader(s.data), s.mode)
	}
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer f.Close()
	return writeAtomic(dst, f, s.mode)
}

// writeAtomic writes r's bytes beside name and renames them into place.
func writeAtomic(name string, r io.Reader, mode fs.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
