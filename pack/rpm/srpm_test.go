package rpm

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/rpmspec"
	"github.com/packyard/packyard/pack/sign"
	"github.com/packyard/packyard/pack/splice"
)

// releaseTarball writes a source release of backplane at version v, as the
// source stage names and lays it out, and returns its path.
func releaseTarball(t *testing.T, v string) string {
	t.Helper()
	dir := t.TempDir()
	top := "backplane-" + v
	if err := os.MkdirAll(filepath.Join(dir, top), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, top, ".version"), []byte(v+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(dir, top+".tar.gz")
	packtest.Run(t, nil, "tar", "-C", dir, "-czf", tarball, top)
	return tarball
}

// writeSource writes the srpm of info with the release tarball into dir
// and returns its path.
func writeSource(t *testing.T, info *pack.Info, tarball, dir string) string {
	t.Helper()
	top, err := rpmspec.Render(info, tarball)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := (Packager{}).Source(info, top, &b); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, (Packager{}).SourceFileName(info))
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// rpmbuildSource writes the top dir of info with rpmspec.Write and runs
// rpmbuild -bs (the command Packyard used before) on it; it returns the
// top dir, the spec and the srpm.
func rpmbuildSource(t *testing.T, info *pack.Info, tarball string) (top, spec, srpm string) {
	t.Helper()
	packtest.Need(t, "rpmbuild")
	top = t.TempDir()
	spec, err := rpmspec.Write(info, tarball, top)
	if err != nil {
		t.Fatal(err)
	}
	argv := rpmspec.Argv("-bs", top, spec, info.Arch)
	packtest.Run(t, nil, argv[0], argv[1:]...)
	return top, spec, filepath.Join(top, "SRPMS", (Packager{}).SourceFileName(info))
}

// srpmQueries are the rpm queries whose answers must not tell Packyard's
// srpm from rpmbuild -bs's.
var srpmQueries = [][]string{
	{"-qpi"},
	{"-qpl"},
	{"-qp", "--requires"},
	{"-qp", "--provides"},
	{"-qp", "--changelog"},
	{"-qp", "--qf", `[%{FILENAMES} %{FILEFLAGS} %{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILESIZES} %{FILEMTIMES} %{FILEDIGESTS}\n]`},
	{"-qp", "--qf", `%{SOURCEPACKAGE} %{SOURCERPM} %{ARCH} %{EXCLUSIVEARCH} %{OS} %{EPOCH} [%{SOURCE} ]\n`},
	{"-qp", "--qf", `%{BUILDTIME} %{BUILDHOST} %{COOKIE} %{GROUP} %{URL} %{VENDOR} %{PACKAGER} %{SIZE}\n`},
	{"-qp", "--qf", `%{PAYLOADFORMAT} %{PAYLOADCOMPRESSOR} %{PAYLOADFLAGS} %{FILEDIGESTALGO} %{ENCODING}\n`},
}

// srpmCases are the packages the srpm tests build: the example's el8
// package, the el9 one with a service user and /usr/bin, and a noarch
// package with an epoch and a pre-release version.
var srpmCases = []struct {
	name, tmpl, version string
	props               map[string]string
}{
	{"el8", "el/el8", "0.26.0acme", map[string]string{"url": "https://acme.example/backplane"}},
	{"el9 user", "el/el9", "1.0", map[string]string{"bindir": "/usr/bin", "user": "backplane", "manage_server_preset": "1"}},
	{"noarch epoch rc", "el/el8", "1.2.0~rc1", map[string]string{"target_arch": "noarch", "epoch": "2"}},
}

func TestSourceMatchesRPMBuild(t *testing.T) {
	for _, tt := range srpmCases {
		t.Run(tt.name, func(t *testing.T) {
			info := render(t, tt.tmpl, tt.version, "", tt.props)
			tarball := releaseTarball(t, tt.version)
			_, _, want := rpmbuildSource(t, info, tarball)
			got := writeSource(t, info, tarball, t.TempDir())
			for _, q := range srpmQueries {
				g := packtest.Run(t, nil, "rpm", append(q, got)...)
				w := packtest.Run(t, nil, "rpm", append(q, want)...)
				if g != w {
					t.Errorf("rpm %s:\n%s\nrpmbuild -bs:\n%s", strings.Join(q, " "), g, w)
				}
			}
			if q := packtest.Run(t, nil, "rpm", "-qp", "--qf", `%{SOURCEPACKAGE} %{SOURCERPM}`, got); q != "1 (none)" {
				t.Errorf("SOURCEPACKAGE SOURCERPM = %q, want a source package", q)
			}
			if k := packtest.Run(t, nil, "rpm", "-Kv", got); strings.Count(k, ": OK") != 4 || strings.Contains(k, "NOT OK") {
				t.Errorf("rpm -Kv: want the header sha1 and sha256, payload sha256 and md5 digests OK:\n%s", k)
			}
			// The payload: the spec and the sources, flat, as rpm2cpio
			// lists rpmbuild's.
			list := func(p string) string {
				return packtest.Run(t, nil, "sh", "-c", `rpm2cpio "$1" | cpio -t --quiet`, "sh", p)
			}
			if g, w := list(got), list(want); g != w {
				t.Errorf("payload: %s, rpmbuild's %s", g, w)
			}
		})
	}
}

func TestSourceRpmlint(t *testing.T) {
	cfgFile := lintConfig(t, "el/el8")
	env := packtest.RpmlintEnv(t)
	for _, tt := range srpmCases {
		t.Run(tt.name, func(t *testing.T) {
			info := render(t, tt.tmpl, tt.version, "", tt.props)
			p := writeSource(t, info, releaseTarball(t, tt.version), t.TempDir())
			if out := packtest.Run(t, env, "rpmlint", "-c", cfgFile, p); !strings.Contains(out, " 0 errors,") {
				t.Errorf("rpmlint:\n%s", out)
			}
		})
	}
}

// TestSourceRebuild rebuilds Packyard's srpm with rpmbuild --rebuild: the
// binary rpm must have the files, modes, flags and scriptlets of the one
// rpmbuild -ba builds from the original spec.
func TestSourceRebuild(t *testing.T) {
	packtest.Need(t, "rpmbuild")
	for _, tt := range srpmCases[:2] {
		t.Run(tt.name, func(t *testing.T) {
			info := render(t, tt.tmpl, tt.version, "", tt.props)
			tarball := releaseTarball(t, tt.version)
			top, spec, _ := rpmbuildSource(t, info, tarball)
			argv := rpmspec.Argv("-ba", top, spec, info.Arch)
			packtest.Run(t, nil, argv[0], argv[1:]...)
			want := filepath.Join(top, "RPMS", info.Arch, FileName(info))

			srpm := writeSource(t, info, tarball, t.TempDir())
			re := t.TempDir()
			packtest.Run(t, nil, "rpmbuild", "--rebuild", "--define", "_topdir "+re, "--target", info.Arch, srpm)
			got := filepath.Join(re, "RPMS", info.Arch, FileName(info))
			for _, q := range [][]string{
				{"-qp", "--qf", `[%{FILENAMES} %{FILEFLAGS:fflags} %{FILEMODES:octal} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILESIZES} %{FILEDIGESTS}\n]`},
				{"-qp", "--scripts"},
				{"-qp", "--requires"},
				{"-qp", "--qf", `%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{SOURCERPM} %{SUMMARY}\n`},
			} {
				if g, w := packtest.Run(t, nil, "rpm", append(q, got)...), packtest.Run(t, nil, "rpm", append(q, want)...); g != w {
					t.Errorf("rpm %s: rebuilt srpm:\n%s\nrpmbuild -ba:\n%s", strings.Join(q, " "), g, w)
				}
			}
		})
	}
}

// FileName is the binary rpm's name.
func FileName(info *pack.Info) string { return (Packager{}).FileName(info) }

func TestSourceReproducible(t *testing.T) {
	info := render(t, "el/el8", "0.26.0acme", "", nil)
	tarball := releaseTarball(t, "0.26.0acme")
	a, err := os.ReadFile(writeSource(t, info, tarball, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(writeSource(t, info, tarball, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("two writes of one srpm differ")
	}
}

func TestSourceSigned(t *testing.T) {
	key := packtest.GPGKey(t, "s3cret")
	info := render(t, "el/el8", "0.26.0acme", "", nil)
	tarball := releaseTarball(t, "0.26.0acme")

	// Signed by the writer, as the binary rpm is.
	info.Signing = &pack.Signing{KeyFile: key.Private, Passphrase: "s3cret"}
	signed := writeSource(t, info, tarball, t.TempDir())
	packtest.VerifyRPMSignatures(t, key.Public, signed)

	// Signed afterwards with rpmsign, as a user may.
	info.Signing = nil
	unsigned := writeSource(t, info, tarball, t.TempDir())
	k, err := sign.FromSigning(&pack.Signing{KeyFile: key.Private, Passphrase: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if err := sign.SignRPMFile(context.Background(), k.WithTime(info.MTime), unsigned); err != nil {
		t.Fatal(err)
	}
	packtest.VerifyRPMSignatures(t, key.Public, unsigned)

	info.Signing = &pack.Signing{KeyFile: key.Private, Passphrase: "not-the-passphrase-42"}
	top, err := rpmspec.Render(info, tarball)
	if err != nil {
		t.Fatal(err)
	}
	err = (Packager{}).Source(info, top, &bytes.Buffer{})
	if err == nil {
		t.Fatal("signing with a wrong passphrase succeeded")
	}
	if strings.Contains(err.Error(), "not-the-passphrase-42") {
		t.Errorf("error shows the passphrase: %v", err)
	}
}

func TestSourceBadInput(t *testing.T) {
	info := render(t, "el/el8", "0.26.0acme", "", nil)
	tarball := releaseTarball(t, "0.26.0acme")
	good := func() *rpmspec.Top {
		top, err := rpmspec.Render(info, tarball)
		if err != nil {
			t.Fatal(err)
		}
		return top
	}
	tests := []struct {
		name string
		edit func(*rpmspec.Top)
		want string
	}{
		{"no top", nil, "no spec and sources"},
		{"missing source", func(top *rpmspec.Top) { top.Sources[0].Path = filepath.Join(t.TempDir(), "gone.tar.gz") }, "no such file"},
		{"source is a dir", func(top *rpmspec.Top) { top.Sources[0].Path = t.TempDir() }, "not a regular file"},
		{"no bytes", func(top *rpmspec.Top) { top.Sources[1].Data, top.Sources[1].Path = nil, "" }, "no data and no path"},
		{"twice", func(top *rpmspec.Top) { top.Sources[2].Name = top.Sources[1].Name }, "given twice"},
		{"path name", func(top *rpmspec.Top) { top.Sources[1].Name = "../x" }, "not a plain file name"},
		{"spec name clash", func(top *rpmspec.Top) { top.Sources[1].Name = top.SpecName }, "given twice"},
		{"changelog", func(top *rpmspec.Top) { top.Changelog = "- no header\n" }, "does not start with '*'"},
		{"changelog date", func(top *rpmspec.Top) { top.Changelog = "* Someday eng - 1\n- x\n" }, "want '* Www Mmm DD YYYY NAME'"},
		{"not utf-8", func(top *rpmspec.Top) { top.Summary = "caf\xe9" }, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var top *rpmspec.Top
			if tt.edit != nil {
				top = good()
				tt.edit(top)
			}
			err := (Packager{}).Source(info, top, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
	bad := *info
	bad.Version = "1.2-rc1"
	if err := (Packager{}).Source(&bad, good(), &bytes.Buffer{}); err == nil {
		t.Error("a version with '-' was accepted")
	}
}

func TestParseChangelog(t *testing.T) {
	noon := func(y, m, d int) uint32 {
		return uint32(packtest.CommitTime().AddDate(y-2024, m-3, d-1).Unix())
	}
	tests := []struct {
		in   string
		want []changelogEntry
		err  string
	}{
		{"* Fri Mar 01 2024 Eng <e@x> - 1.0-1\n- Release 1.0\n", []changelogEntry{{noon(2024, 3, 1), "Eng <e@x> - 1.0-1", "- Release 1.0"}}, ""},
		{"\n* Fri Mar  1 2024   Eng  \n\n- a\n  more\n\n* Thu Feb 29 2024 Old\n- b\n", []changelogEntry{
			{noon(2024, 3, 1), "Eng", "- a\n  more"}, {noon(2024, 2, 29), "Old", "- b"}}, ""},
		{"", nil, ""},
		{"* Fri Mar 01 2024 Eng", nil, "has no text"},
		{"* Fri Mar 01 2024 Eng\n\n", nil, "has no text"},
		{"* Fri Mar 01 2024\n- x\n", nil, "want '* Www Mmm DD YYYY NAME'"},
		{"* Mon Dec 01 1969 Eng\n- x\n", nil, "bad date"},
		{"* Fri Foo 01 2024 Eng\n- x\n", nil, "bad date"},
	}
	for _, tt := range tests {
		got, err := parseChangelog(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseChangelog(%q): error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseChangelog(%q): %v", tt.in, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("parseChangelog(%q) = %+v, want %+v", tt.in, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("parseChangelog(%q)[%d] = %+v, want %+v", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

// TestSourceNoRPMBuild writes the srpm with no rpm tool on PATH: the
// default builder needs none.
func TestSourceNoRPMBuild(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := exec.LookPath("rpmbuild"); err == nil {
		t.Fatal("rpmbuild still on PATH")
	}
	info := render(t, "el/el8", "0.26.0acme", "", nil)
	dir := t.TempDir()
	// A tarball needs no tar: the writer only reads its bytes.
	tarball := filepath.Join(dir, "backplane-0.26.0acme.tar.gz")
	if err := os.WriteFile(tarball, []byte("not really gzip"), 0o644); err != nil {
		t.Fatal(err)
	}
	top, err := rpmspec.Render(info, tarball)
	if err != nil {
		t.Fatal(err)
	}
	if err := (Packager{}).Source(info, top, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
}

// TestSourceSharesCache writes the rpm and then the srpm through one
// splice cache: the srpm splices in the binary's blocks the rpm
// compressed (one cache entry for both) and is the same srpm as without
// a cache.
func TestSourceSharesCache(t *testing.T) {
	info := render(t, "el/el8", "0.26.0acme", "", nil)
	top, err := rpmspec.Render(info, releaseTarball(t, "0.26.0acme"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := Packager{Cache: splice.NewCache(dir)}
	if err := p.Package(info, io.Discard); err != nil {
		t.Fatal(err)
	}
	var shared, alone bytes.Buffer
	if err := p.Source(info, top, &shared); err != nil {
		t.Fatal(err)
	}
	if err := (Packager{}).Source(info, top, &alone); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(shared.Bytes(), alone.Bytes()) {
		t.Error("the srpm through the rpm's cache differs from the srpm without one")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	if len(names) != 1 {
		t.Fatalf("cache holds %v, want the binary's blocks once", names)
	}
	// The srpm reads the blocks from the cache: changed there, they fail
	// it (the cache checks what it copies).
	if err := os.WriteFile(filepath.Join(dir, names[0]), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.Source(info, top, io.Discard); err == nil || !strings.Contains(err.Error(), "changed on disk") {
		t.Errorf("srpm from a changed cache entry: %v, want the cache's error", err)
	}
}

// TestSourceNoTempFileLeft checks that the srpm's spooled payload is
// removed, after a package and after a failure.
func TestSourceNoTempFileLeft(t *testing.T) {
	tarball := releaseTarball(t, "1")
	packtest.NoTempFileLeft(t, "x86_64", func(info *pack.Info, w io.Writer) error {
		top, err := rpmspec.Render(info, tarball)
		if err != nil {
			return err
		}
		return Packager{}.Source(info, top, w)
	})
}
