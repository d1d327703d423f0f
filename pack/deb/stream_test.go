package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/sign"
	"github.com/packyard/packyard/pack/splice"
)

// arMember is one member of an ar archive: its 60-byte header and body.
type arMember struct {
	name   string
	header []byte
	body   []byte
}

// readAr splits a deb into its members, checking the framing as dpkg
// does: the global header, 60-byte member headers, even padding.
func readAr(t *testing.T, b []byte) []arMember {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("!<arch>\n")) {
		t.Fatalf("no ar global header: %q", b[:min(8, len(b))])
	}
	b = b[8:]
	var ms []arMember
	for len(b) > 0 {
		if len(b) < 60 || string(b[58:60]) != "`\n" {
			t.Fatalf("bad ar member header after %d members", len(ms))
		}
		size, err := strconv.ParseInt(strings.TrimSpace(string(b[48:58])), 10, 64)
		if err != nil || size > int64(len(b)-60) {
			t.Fatalf("bad ar member size %q", b[48:58])
		}
		ms = append(ms, arMember{name: strings.TrimSpace(string(b[:16])), header: b[:60], body: b[60 : 60+size]})
		b = b[60+size:]
		if size%2 == 1 {
			if len(b) == 0 || b[0] != '\n' {
				t.Fatal("odd ar member not padded with a newline")
			}
			b = b[1:]
		}
	}
	return ms
}

func gunzip(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	z.Multistream(false)
	out, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if rest, _ := io.ReadAll(z); len(rest) != 0 {
		t.Fatalf("%s: bytes after the gzip member", name)
	}
	return out
}

// oracleInfo is an Info with every kind of content: a file large enough
// to be spliced, rendered config files (one empty), directories with and
// without a mode and owner, symlinks, files owned by a service user in
// directories nobody names (whose implicit parents take that owner unless
// they are system directories), setuid and sticky modes in both
// spellings, single-letter directories, and names and link targets over
// tar's 100 bytes.
func oracleInfo(t *testing.T) *pack.Info {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	// Several of splice's 1 MiB blocks, and a tail that is not a multiple
	// of any block or buffer size.
	payload := bytes.Repeat([]byte("packyard streams the deb's data.tar.gz\n"), 150_001)
	if err := os.WriteFile(big, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("#!/bin/sh\necho small\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	long := "/opt/" + strings.Repeat("a-rather-long-directory-name/", 4) + "file-with-a-long-name.txt"
	return &pack.Info{
		Name: "demo", Version: "1.2.0~rc1.3+gabcd", Release: "2", Arch: "amd64",
		Summary: "A demo", Description: "A demo package.\n\nOn several lines,\n   indented.  \n", License: "MIT",
		Maintainer: "Demo Maintainers <demo@acme.example>",
		MTime:      packtest.CommitTime(),
		Contents: []pack.Content{
			{Type: pack.File, Source: big, Destination: "/usr/bin/demo", Mode: 0o755},
			{Type: pack.File, Source: small, Destination: "usr/libexec/demo/helper", Mode: 0o4755},
			{Type: pack.File, Source: small, Destination: "/usr/libexec/demo/helper2", Mode: fs.ModeSetgid | 0o755},
			{Type: pack.ConfigNoReplace, Data: []byte("a = 1\n"), Destination: "/etc/demo/demo.conf", Mode: 0o640, Group: "demo"},
			{Type: pack.Config, Data: []byte(""), Destination: "/etc/demo.conf"},
			{Type: pack.File, Data: []byte("state\n"), Destination: "/srv/demo/data/state", Owner: "demo", Group: "demo"},
			{Type: pack.File, Data: []byte("x\n"), Destination: "/x/y/z"},
			{Type: pack.Dir, Destination: "/var/lib/demo/", Mode: 0o750, Owner: "demo", Group: "demo"},
			{Type: pack.Dir, Destination: "/tmp/demo", Mode: fs.ModeSticky | 0o777},
			{Type: pack.Dir, Destination: "/var/log/demo"},
			{Type: pack.Symlink, Source: "/opt/demo-nonexistent/bin/demo", Destination: "/usr/sbin/demo"},
			{Type: pack.Symlink, Source: "../lib/demo-nonexistent/", Destination: "/usr/share/demo/lib"},
			{Type: pack.Symlink, Source: "/opt/demo-nonexistent" + long, Destination: "/usr/share/demo/long-link"},
			{Type: pack.File, Data: bytes.Repeat([]byte("long\n"), 20_000), Destination: long},
		},
	}
}

// TestSameContentsAsNFPM writes each Info with the streaming writer and
// with the nfpm writer it replaced: debian-binary, control.tar.gz and the
// uncompressed data.tar must be byte-identical, and so must the ar
// headers but data.tar.gz's (and the signature's) size. data.tar.gz's
// compressed bytes differ (splice's deflate blocks, not gzip -9's), and
// so does the signature over them, which must be the key's signature of
// this deb's members.
func TestSameContentsAsNFPM(t *testing.T) {
	key := packtest.GPGKey(t, "s3cret")
	tests := []struct {
		name string
		info func(*testing.T) *pack.Info
	}{
		{"files, dirs, symlinks, config", oracleInfo},
		{"every field", func(t *testing.T) *pack.Info {
			i := oracleInfo(t)
			i.Epoch, i.Vendor, i.Homepage = "2", "Acme", "https://acme.example"
			i.Section, i.Priority = "admin", "extra"
			i.Depends = []string{"libc6 (>= 2.34)", "systemd | sysvinit-core", "adduser"}
			i.Recommends = []string{"bash-completion"}
			i.Provides = []string{"demo-tool (= 1.2)", " ", "demo-api"}
			i.Conflicts = []string{"old-demo (<< 1.0)"}
			i.Replaces = []string{"demo-legacy (<= 0.9)"}
			i.Scripts = pack.Scripts{PreInstall: "#!/bin/sh\nset -e\n", PostInstall: "#!/bin/sh\nsystemctl daemon-reload || true\n",
				PreRemove: "#!/bin/sh\ntrue\n", PostRemove: "#!/bin/sh\n:\n", PostTrans: "ignored\n"}
			i.ChangelogText = "Release 1.2.0~rc1\n\n  * with a detail\n\t\nlast line  \n"
			return i
		}},
		{"empty description, no maintainer, rpm arch, other platform", func(t *testing.T) *pack.Info {
			i := oracleInfo(t)
			i.Summary, i.Description, i.Maintainer, i.Arch, i.Platform, i.Release = "", "", "", "x86_64", "darwin", ""
			i.Contents = append(i.Contents, pack.Content{Type: pack.Dir, Destination: "/"})
			i.ChangelogText = "One line"
			return i
		}},
		{"description only, no contents", func(*testing.T) *pack.Info {
			return &pack.Info{Name: "empty", Version: "3", Arch: "all", Description: "Nothing\ninside.", MTime: packtest.CommitTime()}
		}},
		{"scripts only", func(*testing.T) *pack.Info {
			return &pack.Info{Name: "meta", Version: "1", Arch: "arm64", Summary: "Meta", MTime: packtest.CommitTime(),
				Depends: []string{"demo"}, Scripts: pack.Scripts{PostInstall: "#!/bin/sh\necho hi\n"}}
		}},
		{"signed", func(t *testing.T) *pack.Info {
			i := oracleInfo(t)
			i.ChangelogText = "Signed release"
			i.Signing = &pack.Signing{KeyFile: key.Private, Passphrase: "s3cret"}
			return i
		}},
		{"backplane template", func(t *testing.T) *pack.Info { return render(t, "0.26.0acme", "", nil) }},
		{"backplane template with a service user", func(t *testing.T) *pack.Info {
			return render(t, "0.26.0acme", "", map[string]string{
				"name": "backplane-usr", "bindir": "/usr/bin", "user": "backplane", "manage_server_preset": "1",
			})
		}},
		{"command-line tool", func(t *testing.T) *pack.Info {
			return render(t, "0.26.0acme", "", map[string]string{
				"services": "", "name": "packyard", "display_name": "Packyard", "bindir": "/usr/bin", "etcdir": "/etc/packyard",
			})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := tt.info(t)
			var got bytes.Buffer
			if err := (Packager{}).Package(info, &got); err != nil {
				t.Fatal(err)
			}
			want, err := nfpmPackage(info)
			if err != nil {
				t.Fatal(err)
			}
			compareWithNFPM(t, info, got.Bytes(), want)
		})
	}
}

func compareWithNFPM(t *testing.T, info *pack.Info, got, want []byte) {
	t.Helper()
	g, w := readAr(t, got), readAr(t, want)
	var names []string
	for _, m := range w {
		names = append(names, m.name)
	}
	if len(g) != len(w) {
		t.Fatalf("%d ar members, nfpm wrote %d: %v", len(g), len(w), names)
	}
	for i := range w {
		gm, wm := g[i], w[i]
		switch gm.name {
		case "data.tar.gz", "_gpgorigin":
			// All but the size field (bytes 48-57).
			if !bytes.Equal(gm.header[:48], wm.header[:48]) || !bytes.Equal(gm.header[58:], wm.header[58:]) {
				t.Errorf("ar header of %s:\n%q\nnfpm:\n%q", gm.name, gm.header, wm.header)
			}
		default:
			if !bytes.Equal(gm.header, wm.header) {
				t.Errorf("ar header %d:\n%q\nnfpm:\n%q", i, gm.header, wm.header)
			}
		}
		switch gm.name {
		case "data.tar.gz":
			gt, wt := gunzip(t, "data.tar.gz", gm.body), gunzip(t, "nfpm's data.tar.gz", wm.body)
			if !bytes.Equal(gt, wt) {
				t.Errorf("data.tar: %d bytes, sha256 %x; nfpm's %d bytes, sha256 %x; first difference at byte %d\n%s",
					len(gt), sha256.Sum256(gt), len(wt), sha256.Sum256(wt), firstDiff(gt, wt), tarDiff(t, gt, wt))
			}
		case "_gpgorigin":
			k, err := sign.FromSigning(info.Signing)
			if err != nil {
				t.Fatal(err)
			}
			var sig bytes.Buffer
			signed := io.MultiReader(bytes.NewReader(g[0].body), bytes.NewReader(g[1].body), bytes.NewReader(g[2].body))
			if err := k.WithTime(info.MTime).DetachArmored(signed, &sig); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(gm.body, sig.Bytes()) {
				t.Errorf("_gpgorigin is not the key's signature of debian-binary, control.tar.gz and data.tar.gz:\n%s", gm.body)
			}
		default:
			if !bytes.Equal(gm.body, wm.body) {
				t.Errorf("%s: %d bytes, nfpm's %d; first difference at byte %d", gm.name, len(gm.body), len(wm.body), firstDiff(gm.body, wm.body))
				if gm.name == "control.tar.gz" {
					t.Errorf("control.tar:\n%s", tarDiff(t, gunzip(t, "control", gm.body), gunzip(t, "nfpm's control", wm.body)))
				}
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// tarDiff lists two tar archives side by side with tar tv, to show a
// difference to a human.
func tarDiff(t *testing.T, a, b []byte) string {
	t.Helper()
	list := func(x []byte) string {
		cmd := exec.Command("tar", "tvv", "--full-time")
		cmd.Stdin = bytes.NewReader(x)
		out, _ := cmd.CombinedOutput()
		return string(out)
	}
	return fmt.Sprintf("ours:\n%s\nnfpm's:\n%s", list(a), list(b))
}

// TestCacheSameBytes checks that a Packager with a Cache writes the same
// bytes as one without, whether the cache is cold or warm.
func TestCacheSameBytes(t *testing.T) {
	info := oracleInfo(t)
	info.ChangelogText = "Cached"
	var want bytes.Buffer
	if err := (Packager{}).Package(info, &want); err != nil {
		t.Fatal(err)
	}
	p := Packager{Cache: splice.NewCache(t.TempDir())}
	for _, round := range []string{"cold", "warm"} {
		var got bytes.Buffer
		if err := p.Package(info, &got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s cache: %d bytes, sha256 %x; without a cache %d bytes, sha256 %x", round,
				got.Len(), sha256.Sum256(got.Bytes()), want.Len(), sha256.Sum256(want.Bytes()))
		}
	}
}

// TestSharedFile writes two different debs that carry one large file
// through one Cache, as a build's packages do, and checks both with
// dpkg-deb, tar and gzip.
func TestSharedFile(t *testing.T) {
	packtest.Need(t, "dpkg-deb", "tar", "gzip", "ar")
	cache := splice.NewCache(t.TempDir())
	dir := t.TempDir()
	a := render(t, "0.26.0acme", "", nil)
	b := render(t, "0.26.0acme", "", map[string]string{
		"services": "", "name": "packyard", "display_name": "Packyard", "bindir": "/usr/bin", "etcdir": "/etc/packyard",
	})
	if st, err := os.Stat(binary); err != nil || st.Size() < splice.MinSize {
		t.Fatalf("the test binary is not large enough to be spliced: %v", err)
	}
	for _, info := range []*pack.Info{a, b} {
		p := packtest.Write(t, Packager{Cache: cache}, info, dir)
		bin := "./opt/acme/bin/backplane"
		if info.Name == "packyard" {
			bin = "./usr/bin/packyard"
		}
		if list := packtest.Run(t, nil, "dpkg-deb", "-c", p); !strings.Contains(list, bin) {
			t.Errorf("dpkg-deb -c %s lacks %s:\n%s", p, bin, list)
		}
		x := t.TempDir()
		tarPath, gzPath := filepath.Join(x, "data.tar"), filepath.Join(x, "data.tar.gz")
		if err := os.WriteFile(tarPath, []byte(packtest.Output(t, nil, "dpkg-deb", "--fsys-tarfile", p)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(gzPath, []byte(packtest.Output(t, nil, "ar", "p", p, "data.tar.gz")), 0o644); err != nil {
			t.Fatal(err)
		}
		packtest.Run(t, nil, "gzip", "-t", gzPath)
		if list := packtest.Run(t, nil, "tar", "tf", tarPath); !strings.Contains(list, bin+"\n") {
			t.Errorf("tar t of %s's data lacks %s:\n%s", p, bin, list)
		}
		packtest.Run(t, nil, "tar", "xf", tarPath, "-C", x, bin)
		if got, want := fileSum(t, filepath.Join(x, bin)), fileSum(t, binary); got != want {
			t.Errorf("%s in %s differs from the binary", bin, p)
		}
	}
}

func fileSum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestBadContents checks what the writer refuses, with the entry named,
// instead of writing a package dpkg would not install.
func TestBadContents(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "x")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		contents  []pack.Content
		changelog string
		want      string
	}{
		{"missing source", []pack.Content{{Type: pack.File, Source: filepath.Join(dir, "nope"), Destination: "/usr/bin/x"}}, "", "/usr/bin/x: stat "},
		{"no source", []pack.Content{{Type: pack.File, Destination: "/usr/bin/x"}}, "", "/usr/bin/x: no source and no data"},
		{"directory source", []pack.Content{{Type: pack.File, Source: dir, Destination: "/usr/bin/x"}}, "", "is not a regular file"},
		{"unknown type", []pack.Content{{Type: "ghost", Destination: "/x"}}, "", `/x: unknown content type "ghost"`},
		{"symlink without target", []pack.Content{{Type: pack.Symlink, Destination: "/x"}}, "", "/x: symlink without a target"},
		{"twice", []pack.Content{{Type: pack.File, Source: src, Destination: "/etc/x"}, {Type: pack.Config, Data: []byte{}, Destination: "etc//x"}}, "", "/etc/x: in the package twice"},
		{"dir twice", []pack.Content{{Type: pack.Dir, Destination: "/etc/x"}, {Type: pack.Dir, Destination: "/etc/x/"}}, "", "/etc/x: in the package twice"},
		{"file and dir", []pack.Content{{Type: pack.File, Source: src, Destination: "/etc/x"}, {Type: pack.Dir, Destination: "/etc/x"}}, "", "/etc/x: in the package twice"},
		{"file as a parent", []pack.Content{{Type: pack.File, Source: src, Destination: "/etc/x"}, {Type: pack.Dir, Destination: "/etc/x/y/z"}}, "", "/etc/x/y/z: its parent /etc/x is not a directory"},
		{"changelog given", []pack.Content{{Type: pack.File, Source: src, Destination: "/usr/share/doc/x/changelog.Debian.gz"}}, "text", "/usr/share/doc/x/changelog.Debian.gz: in the package twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := &pack.Info{Name: "x", Version: "1", Arch: "amd64", MTime: packtest.CommitTime(), Contents: tt.contents, ChangelogText: tt.changelog}
			err := (Packager{}).Package(info, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "deb x: ") {
				t.Fatalf("err = %v, want one starting %q and containing %q", err, "deb x: ", tt.want)
			}
		})
	}
}

// TestNoTempFileLeft checks that the spooled data.tar.gz is removed, after a
// package and after a failure.
func TestNoTempFileLeft(t *testing.T) {
	packtest.NoTempFileLeft(t, "amd64", Packager{}.Package)
}

// TestHostIndependent checks the two places where the writer differs from
// nfpm on purpose, so that a package does not depend on the build host: a
// symlink's mode is 0 even when its target exists on the host (nfpm took
// the target's mode), and a source that is a symlink is packaged as the
// file it points to (nfpm packaged a link to the host's path).
func TestHostIndependent(t *testing.T) {
	dir := t.TempDir()
	real, link := filepath.Join(dir, "real"), filepath.Join(dir, "link")
	if err := os.WriteFile(real, []byte("real\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	info := &pack.Info{Name: "q", Version: "1", Arch: "amd64", MTime: packtest.CommitTime(), Contents: []pack.Content{
		{Type: pack.File, Source: link, Destination: "/usr/share/q/file"},
		{Type: pack.Symlink, Source: "/bin/sh", Destination: "/usr/bin/qsh"},
	}}
	var b bytes.Buffer
	if err := (Packager{}).Package(info, &b); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(gunzip(t, "data.tar.gz", readAr(t, b.Bytes())[2].body)))
	seen := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		switch h.Name {
		case "./usr/bin/qsh":
			seen++
			if h.Typeflag != tar.TypeSymlink || h.Mode != 0 || h.Linkname != "/bin/sh" {
				t.Errorf("%s: type %c, mode %o, link %q; want a symlink to /bin/sh, mode 0", h.Name, h.Typeflag, h.Mode, h.Linkname)
			}
		case "./usr/share/q/file":
			seen++
			body, _ := io.ReadAll(tr)
			if h.Typeflag != tar.TypeReg || string(body) != "real\n" {
				t.Errorf("%s: type %c, %q; want the regular file the source links to", h.Name, h.Typeflag, body)
			}
		}
	}
	if seen != 2 {
		t.Errorf("%d of the 2 entries in data.tar", seen)
	}
}
