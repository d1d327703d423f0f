package deb

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/templates"
)

// binary is a real static Go program, built once for all tests, so that
// lintian judges what the pipeline ships.
var binary string

func TestMain(m *testing.M) { packtest.Main(m, &binary) }

// render renders the debian/generic template for backplane at version v.
func render(t *testing.T, v, projectDir string, props map[string]string) *pack.Info {
	t.Helper()
	b := packtest.Backplane{Template: "debian/generic", Format: templates.FormatDeb, Arch: "amd64", Binary: binary}
	return b.Render(t, v, projectDir, props)
}

func write(t *testing.T, info *pack.Info, dir string) string {
	t.Helper()
	return packtest.Write(t, Packager{}, info, dir)
}

func TestFileName(t *testing.T) {
	tests := []struct {
		info pack.Info
		want string
	}{
		{pack.Info{Name: "backplane", Version: "0.26.0acme", Release: "1", Arch: "amd64"}, "backplane_0.26.0acme-1_amd64.deb"},
		{pack.Info{Name: "backplane", Version: "1.2.0~rc1.3+gabcd", Arch: "arm64"}, "backplane_1.2.0~rc1.3+gabcd-1_arm64.deb"},
		{pack.Info{Name: "x", Version: "3", Release: "2", Epoch: "1", Arch: "all"}, "x_3-2_all.deb"},
	}
	for _, tt := range tests {
		if got := (Packager{}).FileName(&tt.info); got != tt.want {
			t.Errorf("FileName = %s, want %s", got, tt.want)
		}
	}
}

func TestBadInfo(t *testing.T) {
	good := pack.Info{Name: "x", Version: "1", Arch: "amd64", MTime: packtest.CommitTime()}
	packtest.CheckBadInfo(t, Packager{}, good,
		packtest.BadInfo{Name: "no arch", Edit: func(i *pack.Info) { i.Arch = "" }, Want: "arch is empty"},
	)
}

func TestPackageContents(t *testing.T) {
	p := write(t, render(t, "0.26.0acme", "", nil), t.TempDir())

	info := packtest.Run(t, nil, "dpkg-deb", "-I", p)
	for _, want := range []string{
		"Package: backplane", "Version: 0.26.0acme-1", "Architecture: amd64", "Section: admin",
		"Priority: optional", "Maintainer: Backplane Engineering <eng@acme.example>",
		"Description: Server and broker daemons of Backplane\n  The server and broker daemons of Backplane, run by systemd.",
		"conffiles", "postinst", "prerm", "postrm",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I lacks %q:\n%s", want, info)
		}
	}
	conffiles := packtest.Run(t, nil, "dpkg-deb", "-f", p, "Package") // the package is readable
	if strings.TrimSpace(conffiles) != "backplane" {
		t.Errorf("dpkg-deb -f Package = %q", conffiles)
	}
	ctrl := t.TempDir()
	packtest.Run(t, nil, "dpkg-deb", "-e", p, ctrl)
	cf, err := os.ReadFile(filepath.Join(ctrl, "conffiles"))
	if err != nil {
		t.Fatal(err)
	}
	wantConf := []string{
		"/etc/acme/backplane/broker.conf", "/etc/acme/backplane/server.conf",
		"/etc/default/backplane-broker", "/etc/default/backplane-server", "/etc/logrotate.d/backplane",
	}
	if got := strings.Fields(string(cf)); strings.Join(got, " ") != strings.Join(wantConf, " ") {
		t.Errorf("conffiles = %v, want %v", got, wantConf)
	}

	// ./path -> "mode owner", from dpkg-deb -c.
	list := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(packtest.Run(t, nil, "dpkg-deb", "-c", p)), "\n") {
		f := strings.Fields(l)
		list[f[len(f)-1]] = f[0] + " " + f[1] + " " + f[3]
	}
	date := packtest.CommitTime().Format("2006-01-02")
	files := map[string]string{
		"./opt/acme/bin/backplane":                      "-rwxr-xr-x root/root",
		"./etc/acme/backplane/server.conf":              "-rw-r----- root/root",
		"./etc/default/backplane-server":                "-rw-r--r-- root/root",
		"./lib/systemd/system/backplane-server.service": "-rw-r--r-- root/root",
		"./lib/systemd/system/backplane-broker.service": "-rw-r--r-- root/root",
		"./usr/share/doc/backplane/copyright":           "-rw-r--r-- root/root",
		"./usr/share/lintian/overrides/backplane":       "-rw-r--r-- root/root",
		"./var/log/backplane/":                          "drwxr-xr-x root/root",
	}
	for path, want := range files {
		if got := list[path]; got != want+" "+date {
			t.Errorf("%s: %q, want %q", path, got, want+" "+date)
		}
	}
	if _, ok := list["./usr/share/doc/backplane/changelog.Debian.gz"]; !ok {
		t.Error("no changelog.Debian.gz")
	}

	unit := extract(t, p, "./lib/systemd/system/backplane-server.service")
	for _, want := range []string{
		"EnvironmentFile=-/etc/default/backplane-server",
		"ExecStart=/opt/acme/bin/backplane server --config /etc/acme/backplane/server.conf $ARGS",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("server unit lacks %q:\n%s", want, unit)
		}
	}
	cl := extract(t, p, "./usr/share/doc/backplane/changelog.Debian.gz")
	// gzip -n: no name and a zero mtime in the header.
	if len(cl) < 10 || !bytes.Equal(cl[4:8], []byte{0, 0, 0, 0}) || cl[3]&0x08 != 0 {
		t.Errorf("changelog.Debian.gz header is not gzip -n: % x", cl[:10])
	}
	zr, err := gzip.NewReader(bytes.NewReader(cl))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(zr)
	for _, want := range []string{"backplane (0.26.0acme-1) unstable; urgency=medium", " -- Backplane Engineering <eng@acme.example>  Fri, 01 Mar 2024 12:00:00 +0000"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("changelog lacks %q:\n%s", want, text)
		}
	}
	if ov := string(extract(t, p, "./usr/share/lintian/overrides/backplane")); !strings.Contains(ov, "backplane: dir-or-file-in-opt") {
		t.Errorf("overrides lack dir-or-file-in-opt for an /opt bindir:\n%s", ov)
	}
}

// extract returns the bytes of one file of the package's data.
func extract(t *testing.T, deb, name string) []byte {
	t.Helper()
	cmd := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(bytes.NewReader(out))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in %s: %v", name, deb, err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

func TestLintian(t *testing.T) {
	packtest.Need(t, "lintian")
	dir := t.TempDir()
	a := write(t, render(t, "0.26.0acme", "", nil), dir)
	b := write(t, render(t, "0.26.0acme", "", map[string]string{
		"name": "backplane-usr", "bindir": "/usr/bin", "user": "backplane", "manage_server_preset": "1",
	}), dir)
	c := write(t, render(t, "0.26.0acme", "", map[string]string{"name": "backplane-noconf", "manage_conf": "0"}), dir)
	// lintian exits non-zero on errors; read its report either way.
	out, _ := exec.Command("lintian", "--tag-display-limit", "0", a, b, c).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "E: ") {
			t.Errorf("lintian: %s", l)
		}
	}
	if !strings.Contains(packtest.Run(t, nil, "dpkg-deb", "-f", b, "Depends"), "adduser") {
		t.Error("a package with a service user does not depend on adduser")
	}
}

func TestReproducible(t *testing.T) {
	packtest.CheckReproducible(t, Packager{}, func() *pack.Info { return render(t, "0.26.0acme", "", nil) })
}

func TestSigned(t *testing.T) {
	key := packtest.GPGKey(t, "s3cret")
	info := render(t, "0.26.0acme", "", nil)
	info.Signing = &pack.Signing{KeyFile: key.Private, Passphrase: "s3cret"}
	packtest.VerifyDebSignature(t, key.Env(), write(t, info, t.TempDir()))
}

// chroot prepares a throwaway root for dpkg --root, with the only tools
// the maintainer scripts may use.
func chroot(t *testing.T) string {
	t.Helper()
	return packtest.Root(t, packtest.RootSpec{Tools: []string{"rm", "cat"}, Dpkg: true})
}

func TestInstallUpgradeRemovePurge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("dpkg --root runs maintainer scripts chrooted and needs root")
	}
	root := chroot(t)
	out := t.TempDir()
	project := packtest.ProjectOverride(t, "debian/global", "server.conf", "loglevel = debug\n")
	v1 := write(t, render(t, "1.0", "", nil), out)
	v2 := write(t, render(t, "1.1", project, nil), out)
	dpkg := func(args ...string) {
		packtest.Run(t, nil, "dpkg", append([]string{"--root", root, "--force-depends", "--force-confold", "--force-not-root"}, args...)...)
	}
	units := []string{"backplane-server.service", "backplane-broker.service"}
	both := strings.Join(units, " ")

	dpkg("-i", v1)
	packtest.ExpectCalls(t, "install", root,
		"--no-reload enable "+units[0], "--no-reload enable "+units[1], "--system daemon-reload",
	)
	conf := filepath.Join(root, "etc/acme/backplane/server.conf")
	if err := os.WriteFile(conf, []byte("loglevel = warn # local edit\n"), 0o640); err != nil {
		t.Fatal(err)
	}

	dpkg("-i", v2)
	packtest.ExpectCalls(t, "upgrade", root, "--system daemon-reload", "try-restart "+both)
	if b, _ := os.ReadFile(conf); !strings.Contains(string(b), "local edit") {
		t.Errorf("upgrade replaced the edited conffile: %s", b)
	}
	if b, err := os.ReadFile(conf + ".dpkg-dist"); err != nil || string(b) != "loglevel = debug\n" {
		t.Errorf("no .dpkg-dist with the new conffile: %v %q", err, b)
	}

	if err := os.WriteFile(filepath.Join(root, "var/log/backplane/server.log"), []byte("log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dpkg("-r", "backplane")
	packtest.ExpectCalls(t, "remove", root,
		"stop "+both, "--no-reload disable "+units[0], "--no-reload disable "+units[1], "--system daemon-reload",
	)
	if _, err := os.Stat(conf); err != nil {
		t.Errorf("remove deleted a conffile: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "opt/acme/bin/backplane")); !os.IsNotExist(err) {
		t.Errorf("binary left after remove: %v", err)
	}

	dpkg("-P", "backplane")
	packtest.ExpectCalls(t, "purge", root, "--system daemon-reload")
	for _, gone := range []string{conf, filepath.Join(root, "var/log/backplane")} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("%s left after purge: %v", gone, err)
		}
	}
}

// TestCommandLineTool packages a CLI (services empty), as Packyard
// packages itself: the binary and the documentation Debian expects.
func TestCommandLineTool(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("dpkg --root runs maintainer scripts chrooted and needs root")
	}
	p := write(t, render(t, "0.26.0acme", "", map[string]string{
		"services": "", "name": "packyard", "display_name": "Packyard", "bindir": "/usr/bin", "etcdir": "/etc/packyard",
	}), t.TempDir())

	var files []string
	for _, l := range strings.Split(strings.TrimSpace(packtest.Run(t, nil, "dpkg-deb", "-c", p)), "\n") {
		if f := strings.Fields(l); !strings.HasSuffix(f[len(f)-1], "/") {
			files = append(files, f[len(f)-1])
		}
	}
	want := []string{
		"./usr/bin/packyard", "./usr/share/doc/packyard/changelog.Debian.gz",
		"./usr/share/doc/packyard/copyright", "./usr/share/lintian/overrides/packyard",
	}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("files %v, want %v", files, want)
	}
	ctrl := t.TempDir()
	packtest.Run(t, nil, "dpkg-deb", "-e", p, ctrl)
	entries, err := os.ReadDir(ctrl)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "control" && e.Name() != "md5sums" {
			t.Errorf("control member %s in a package without services", e.Name())
		}
	}
	if d := packtest.Run(t, nil, "dpkg-deb", "-f", p, "Description"); !strings.HasPrefix(d, "Command-line tool of Packyard\n") {
		t.Errorf("Description: %s", d)
	}

	// lintian exits non-zero on errors; read its report either way.
	out, _ := exec.Command("lintian", "--tag-display-limit", "0", "-I", p).CombinedOutput()
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "E: ") || strings.Contains(l, "unused-override") || strings.Contains(l, "mismatched-override") {
			t.Errorf("lintian: %s", l)
		}
	}

	root := chroot(t)
	dpkg := func(args ...string) {
		packtest.Run(t, nil, "dpkg", append([]string{"--root", root, "--force-depends", "--force-not-root"}, args...)...)
	}
	dpkg("-i", p)
	if _, err := os.Stat(filepath.Join(root, "usr/bin/packyard")); err != nil {
		t.Errorf("binary not installed: %v", err)
	}
	dpkg("-P", "packyard")
	packtest.ExpectCalls(t, "install and purge", root)
	if _, err := os.Stat(filepath.Join(root, "usr/bin/packyard")); !os.IsNotExist(err) {
		t.Errorf("binary left after purge: %v", err)
	}
}
