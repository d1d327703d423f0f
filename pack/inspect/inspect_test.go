package inspect

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/rpmspec"
)

func run(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// buildRPM builds a small package with the real rpmbuild (through
// pack/rpmspec) and returns the rpm and srpm.
func buildRPM(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	run(t, dir, "mkdir", "demo-1.2")
	run(t, dir, "tar", "-czf", "demo-1.2.tar.gz", "demo-1.2")
	bin := filepath.Join(dir, "demo")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho demo\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	info := &pack.Info{
		Name: "demo", Version: "1.2", Release: "3", Dist: "el9", Arch: "x86_64",
		Summary: "Demo agent", Description: "A demo.", License: "MIT", Maintainer: "Dev <dev@example.org>",
		Homepage: "https://example.org", Depends: []string{"systemd", "bash >= 4.0"},
		Contents: []pack.Content{
			{Type: pack.File, Source: bin, Destination: "/usr/bin/demo", Mode: 0o755},
			{Type: pack.ConfigNoReplace, Data: []byte("a: 1\n"), Destination: "/etc/demo/demo.yaml", Mode: 0o640, Group: "daemon"},
			{Type: pack.Config, Data: []byte("X=1\n"), Destination: "/etc/sysconfig/demo", Mode: 0o644},
			{Type: pack.Dir, Destination: "/var/lib/demo", Mode: 0o750},
			{Type: pack.Symlink, Source: "../bin/demo", Destination: "/usr/sbin/demo"},
		},
		Scripts: pack.Scripts{PostInstall: "echo post", PreRemove: "echo preun", PostTrans: "echo posttrans"},
		MTime:   time.Unix(1700000000, 0),
	}
	top := filepath.Join(dir, "top")
	spec, err := rpmspec.Write(info, filepath.Join(dir, "demo-1.2.tar.gz"), top)
	if err != nil {
		t.Fatal(err)
	}
	rpm, srpm, err := rpmspec.Build(context.Background(), top, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rpm, srpm
}

// rpmFiles renders a report's files the way the rpm query below does.
func rpmFiles(r *Report) string {
	var b strings.Builder
	for _, f := range r.Files {
		fl := ""
		if f.Config {
			fl += "c"
		}
		if f.NoReplace {
			fl += "n"
		}
		fmt.Fprintf(&b, "%s %s %d %s %s %s %s\n", f.Path, f.Mode, f.Size, f.Owner, f.Group, fl, f.Link)
	}
	return b.String()
}

func TestRPMMatchesRPMQuery(t *testing.T) {
	rpm, srpm := buildRPM(t)
	r, err := File(rpm)
	if err != nil {
		t.Fatal(err)
	}
	want := run(t, "", "rpm", "-qp", "--qf", "[%{FILENAMES} %{FILEMODES:octal} %{FILESIZES} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILELINKTOS}\n]", rpm)
	if got := rpmFiles(r); got != want {
		t.Errorf("files:\n%s\nrpm -qp says:\n%s", got, want)
	}
	meta := run(t, "", "rpm", "-qp", "--qf", "%{NAME}|%{VERSION}|%{RELEASE}|%{ARCH}|%{SUMMARY}|%{LICENSE}|%{URL}|%{PACKAGER}", rpm)
	if got := strings.Join([]string{r.Name, r.Version, r.Release, r.Arch, r.Summary, r.License, r.Homepage, r.Maintainer}, "|"); got != meta {
		t.Errorf("metadata %q, rpm -qp says %q", got, meta)
	}
	// rpm stores Requires sorted by name.
	if got := strings.Join(r.Depends, ","); got != "bash >= 4.0,systemd" {
		t.Errorf("depends = %q", got)
	}
	if r.Scripts.PostInstall != "echo post" || r.Scripts.PreRemove != "echo preun" || r.Scripts.PostTrans != "echo posttrans" || r.Scripts.PreInstall != "" {
		t.Errorf("scripts = %+v", r.Scripts)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{rpm, srpm} {
		if fs := Verify(p); len(fs) != 0 {
			t.Errorf("Verify(%s) = %v", filepath.Base(p), fs)
		}
	}
	s, err := File(srpm)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Files) != 5 { // tarball, spec and the three file contents
		t.Errorf("srpm files = %+v", s.Files)
	}
}

func TestRPMCorruption(t *testing.T) {
	rpm, _ := buildRPM(t)
	b, err := os.ReadFile(rpm)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func([]byte) []byte
		want   string
	}{
		{"payload byte", func(b []byte) []byte { b[len(b)-30] ^= 0xff; return b }, "rpm"},
		{"truncated", func(b []byte) []byte { return b[:len(b)/2] }, "rpm"},
		{"huge header", func(b []byte) []byte { copy(b[96+8:], []byte{0x7f, 0xff, 0xff, 0xff}); return b }, "larger than allowed"},
		{"header text", func(b []byte) []byte { return bytes.Replace(b, []byte("Demo agent"), []byte("Demo agenT"), 1) }, "rpm digests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "bad.rpm")
			if err := os.WriteFile(p, tt.change(bytes.Clone(b)), 0o644); err != nil {
				t.Fatal(err)
			}
			fs := Verify(p)
			if len(fs) == 0 || !strings.Contains(fmt.Sprint(fs), tt.want) {
				t.Errorf("Verify = %v, want an error about %q", fs, tt.want)
			}
			// rpm itself agrees the file is broken.
			if err := exec.Command("rpm", "-K", p).Run(); err == nil {
				t.Errorf("rpm -K accepts the corrupted file; the test corrupts the wrong bytes")
			}
		})
	}
}

// debTree writes a package tree for dpkg-deb --build.
func debTree(t *testing.T, md5sums bool) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "pkg")
	files := map[string]string{
		"usr/bin/demo":          "#!/bin/sh\necho demo\n",
		"etc/demo/demo.yaml":    "a: 1\n",
		"usr/share/doc/demo/ok": "doc\n",
	}
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "usr/bin/demo"), 0o755)
	if err := os.Symlink("../bin/demo", filepath.Join(root, "usr/share/demo-link")); err != nil {
		t.Fatal(err)
	}
	ctl := map[string]string{
		"control": "Package: demo\nVersion: 1:1.2.0~rc1-3\nArchitecture: amd64\nMaintainer: Dev <dev@example.org>\n" +
			"Depends: systemd, bash (>= 4.0)\nHomepage: https://example.org\nDescription: Demo agent\n A demo.\n .\n More.\n",
		"conffiles": "/etc/demo/demo.yaml\n",
		"postinst":  "#!/bin/sh\nset -e\necho post\n",
		"prerm":     "#!/bin/sh\nset -e\necho prerm\n",
	}
	if md5sums {
		var b strings.Builder
		for _, p := range []string{"usr/bin/demo", "usr/share/doc/demo/ok"} {
			sum := md5.Sum([]byte(files[p]))
			fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), p)
		}
		ctl["md5sums"] = b.String()
	}
	if err := os.MkdirAll(filepath.Join(root, "DEBIAN"), 0o755); err != nil {
		t.Fatal(err)
	}
	for n, c := range ctl {
		mode := os.FileMode(0o644)
		if strings.HasPrefix(c, "#!") {
			mode = 0o755
		}
		if err := os.WriteFile(filepath.Join(root, "DEBIAN", n), []byte(c), mode); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDebMatchesDpkgDeb(t *testing.T) {
	for _, z := range []string{"xz", "gzip", "zstd", "none"} {
		t.Run(z, func(t *testing.T) {
			root := debTree(t, true)
			deb := filepath.Join(t.TempDir(), "demo_1.2.0~rc1-3_amd64.deb")
			run(t, "", "dpkg-deb", "--root-owner-group", "-Z"+z, "--build", root, deb)
			r, err := File(deb)
			if err != nil {
				t.Fatal(err)
			}
			field := func(f string) string { return strings.TrimSpace(run(t, "", "dpkg-deb", "-f", deb, f)) }
			if r.Name != field("Package") || r.Arch != field("Architecture") || r.Maintainer != field("Maintainer") {
				t.Errorf("report %+v disagrees with dpkg-deb -f", r)
			}
			if r.Epoch+":"+r.Version+"-"+r.Release != field("Version") {
				t.Errorf("version %s:%s-%s, dpkg-deb says %s", r.Epoch, r.Version, r.Release, field("Version"))
			}
			if r.Summary != "Demo agent" || r.Description != "A demo.\n.\nMore." {
				t.Errorf("summary %q description %q", r.Summary, r.Description)
			}
			if got := strings.Join(r.Depends, ","); got != "systemd,bash (>= 4.0)" {
				t.Errorf("depends = %q", got)
			}
			if r.Scripts.PostInstall != "#!/bin/sh\nset -e\necho post\n" || r.Scripts.PreRemove == "" {
				t.Errorf("scripts = %+v", r.Scripts)
			}
			// dpkg-deb -c prints "drwxr-xr-x root/root 0 date ./usr/"; compare
			// path, owner and size with the report.
			var want []string
			for _, l := range strings.Split(strings.TrimSpace(run(t, "", "dpkg-deb", "-c", deb)), "\n") {
				f := strings.Fields(l)
				p := strings.TrimSuffix(strings.TrimPrefix(f[5], "."), "/")
				if p == "" {
					continue
				}
				want = append(want, fmt.Sprintf("%s %s %s", p, f[1], f[2]))
			}
			var got []string
			for _, f := range r.Files {
				got = append(got, fmt.Sprintf("%s %s/%s %d", f.Path, f.Owner, f.Group, f.Size))
			}
			if strings.Join(got, "\n") != strings.Join(sortedCopy(want), "\n") {
				t.Errorf("files:\n%s\ndpkg-deb -c:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			byPath := map[string]Entry{}
			for _, f := range r.Files {
				byPath[f.Path] = f
			}
			if f := byPath["/usr/bin/demo"]; f.Mode != "100755" || f.Type != "file" {
				t.Errorf("/usr/bin/demo = %+v", f)
			}
			if f := byPath["/etc/demo/demo.yaml"]; !f.Config {
				t.Errorf("conffile not flagged: %+v", f)
			}
			if f := byPath["/usr/share/demo-link"]; f.Type != "symlink" || f.Link != "../bin/demo" {
				t.Errorf("symlink = %+v", f)
			}
			if fs := Verify(deb); len(fs) != 0 {
				t.Errorf("Verify = %v", fs)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	for i := range c {
		for j := i + 1; j < len(c); j++ {
			if strings.Fields(c[j])[0] < strings.Fields(c[i])[0] {
				c[i], c[j] = c[j], c[i]
			}
		}
	}
	return c
}

// tarGz builds a data.tar.gz with the given headers (for entries that
// dpkg-deb refuses to build).
func tarGz(t *testing.T, hdrs ...*tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, h := range hdrs {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
		}
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestDebFindings(t *testing.T) {
	// Members taken apart from a real package, then reassembled with ar.
	root := debTree(t, true)
	good := filepath.Join(t.TempDir(), "good.deb")
	run(t, "", "dpkg-deb", "--root-owner-group", "-Zgzip", "--build", root, good)
	parts := t.TempDir()
	run(t, parts, "ar", "x", good)
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(parts, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("bad-binary", "3.0\n")
	evil := tarGz(t, &tar.Header{Name: "./../../etc/evil", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1})
	write("evil.tar.gz", string(evil))
	esc := tarGz(t, &tar.Header{Name: "./usr/x", Typeflag: tar.TypeSymlink, Linkname: "../../../etc/shadow", Mode: 0o777})
	write("escape.tar.gz", string(esc))
	// A control.tar with a stale md5sums and no Maintainer.
	ctl := t.TempDir()
	run(t, ctl, "tar", "-xzf", filepath.Join(parts, "control.tar.gz"))
	c, _ := os.ReadFile(filepath.Join(ctl, "control"))
	os.WriteFile(filepath.Join(ctl, "control"), []byte(strings.Replace(string(c), "Maintainer: Dev <dev@example.org>\n", "", 1)), 0o644)
	os.WriteFile(filepath.Join(ctl, "md5sums"), []byte("00000000000000000000000000000000  usr/bin/demo\n"), 0o644)
	run(t, ctl, "tar", "-czf", filepath.Join(parts, "bad-control.tar.gz"), "./control", "./md5sums", "./conffiles")

	tests := []struct {
		name    string
		members [][2]string // ar name, file in parts
		want    []string
	}{
		{"debian-binary version", [][2]string{{"debian-binary", "bad-binary"}, {"control.tar.gz", "control.tar.gz"}, {"data.tar.gz", "data.tar.gz"}}, []string{`debian-binary is "3.0\n"`}},
		{"order", [][2]string{{"control.tar.gz", "control.tar.gz"}, {"debian-binary", "debian-binary"}, {"data.tar.gz", "data.tar.gz"}}, []string{"first member is \"control.tar.gz\""}},
		{"no data", [][2]string{{"debian-binary", "debian-binary"}, {"control.tar.gz", "control.tar.gz"}}, []string{"no data.tar member"}},
		{"control and md5sums", [][2]string{{"debian-binary", "debian-binary"}, {"control.tar.gz", "bad-control.tar.gz"}, {"data.tar.gz", "data.tar.gz"}},
			[]string{"field Maintainer missing", "usr/bin/demo has md5 00000000000000000000000000000000", "usr/share/doc/demo/ok is not listed"}},
		{"dotdot entry", [][2]string{{"debian-binary", "debian-binary"}, {"control.tar.gz", "control.tar.gz"}, {"data.tar.gz", "evil.tar.gz"}}, []string{"climbs out of the package root"}},
		{"escaping symlink", [][2]string{{"debian-binary", "debian-binary"}, {"control.tar.gz", "control.tar.gz"}, {"data.tar.gz", "escape.tar.gz"}}, []string{"leaves the root"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var names []string
			for _, m := range tt.members {
				b, err := os.ReadFile(filepath.Join(parts, m[1]))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, m[0]), b, 0o644); err != nil {
					t.Fatal(err)
				}
				names = append(names, m[0])
			}
			run(t, dir, "ar", append([]string{"rc", "x.deb"}, names...)...)
			deb := filepath.Join(dir, "x.deb")
			fs := fmt.Sprint(Verify(deb))
			for _, w := range tt.want {
				if !strings.Contains(fs, w) {
					t.Errorf("Verify = %s\nwant a finding with %q", fs, w)
				}
			}
		})
	}
	// File refuses what would escape instead of reporting it.
	dir := t.TempDir()
	for _, m := range [][2]string{{"debian-binary", "debian-binary"}, {"control.tar.gz", "control.tar.gz"}, {"data.tar.gz", "evil.tar.gz"}} {
		b, _ := os.ReadFile(filepath.Join(parts, m[1]))
		os.WriteFile(filepath.Join(dir, m[0]), b, 0o644)
	}
	run(t, dir, "ar", "rc", "x.deb", "debian-binary", "control.tar.gz", "data.tar.gz")
	if _, err := File(filepath.Join(dir, "x.deb")); err == nil || !strings.Contains(err.Error(), "climbs out") {
		t.Errorf("File of a package with ../ entries: %v", err)
	}
}

func TestNotAPackage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.txt")
	os.WriteFile(p, []byte("hello world"), 0o644)
	if _, err := File(p); err == nil || !strings.Contains(err.Error(), "neither an rpm nor a deb") {
		t.Errorf("File = %v", err)
	}
	if fs := Verify(p); len(fs) != 1 || fs[0].Severity != Error {
		t.Errorf("Verify = %v", fs)
	}
}

func TestLinkEscapes(t *testing.T) {
	tests := []struct {
		path, target string
		want         bool
	}{
		{"/usr/bin/x", "/opt/acme/bin/x", false},
		{"/usr/bin/x", "../lib/x", false},
		{"/usr/bin/x", "../../x", false},
		{"/usr/bin/x", "../../../x", true},
		{"/x", "../y", true},
		{"/usr/x", "a/../../..", true},
	}
	for _, tt := range tests {
		if got := linkEscapes(tt.path, tt.target); got != tt.want {
			t.Errorf("linkEscapes(%q, %q) = %v, want %v", tt.path, tt.target, got, tt.want)
		}
	}
}
