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
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/packtest"
	"github.com/packyard/packyard/templates"
	"github.com/packyard/packyard/version"
)

// binary is a real static Go program, built once for all tests, so that
// lintian judges what the pipeline ships.
var binary string

func TestMain(m *testing.M) { packtest.Main(m, &binary) }

var commitTime = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func render(t *testing.T, v, projectDir string, props map[string]string) *pack.Info {
	t.Helper()
	p := map[string]string{
		"name": "backplane", "bindir": "/opt/acme/bin", "etcdir": "/etc/acme/backplane",
		"release": "1", "target_arch": "amd64", "contact": "Backplane Engineering <eng@acme.example>",
		"display_name": "Backplane",
	}
	for k, val := range props {
		p[k] = val
	}
	r, err := templates.Render(templates.Input{
		ProjectDir: projectDir,
		Package:    &buildspec.Package{Name: "deb_64", Template: "debian/generic", Binary: "64bit_linux", Properties: p},
		Product:    "backplane",
		Version:    version.Version{Product: v, RPM: v, Deb: v, Commit: "9eca1d2", Time: commitTime},
		Binary:     binary,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != templates.FormatDeb {
		t.Fatalf("format %s, want deb", r.Format)
	}
	return r.Info
}

func write(t *testing.T, info *pack.Info, dir string) string {
	t.Helper()
	return packtest.Write(t, Packager{}, info, dir)
}

var run = packtest.Run

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
	good := pack.Info{Name: "x", Version: "1", Arch: "amd64", MTime: commitTime}
	tests := []struct {
		name string
		edit func(*pack.Info)
		want string
	}{
		{"no arch", func(i *pack.Info) { i.Arch = "" }, "arch is empty"},
		{"no mtime", func(i *pack.Info) { i.MTime = time.Time{} }, "no MTime"},
		{"missing source", func(i *pack.Info) {
			i.Contents = []pack.Content{{Type: pack.File, Source: "/nonexistent/x", Destination: "/usr/bin/x"}}
		}, "/usr/bin/x"},
		{"bad type", func(i *pack.Info) {
			i.Contents = []pack.Content{{Type: "ghost", Destination: "/x"}}
		}, `unknown content type "ghost"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := good
			tt.edit(&info)
			err := (Packager{}).Package(&info, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestPackageContents(t *testing.T) {
	p := write(t, render(t, "0.26.0acme", "", nil), t.TempDir())

	info := run(t, nil, "dpkg-deb", "-I", p)
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
	conffiles := run(t, nil, "dpkg-deb", "-f", p, "Package") // the package is readable
	if strings.TrimSpace(conffiles) != "backplane" {
		t.Errorf("dpkg-deb -f Package = %q", conffiles)
	}
	ctrl := t.TempDir()
	run(t, nil, "dpkg-deb", "-e", p, ctrl)
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
	for _, l := range strings.Split(strings.TrimSpace(run(t, nil, "dpkg-deb", "-c", p)), "\n") {
		f := strings.Fields(l)
		list[f[len(f)-1]] = f[0] + " " + f[1] + " " + f[3]
	}
	date := commitTime.Format("2006-01-02")
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
	if _, err := exec.LookPath("lintian"); err != nil {
		t.Fatal("lintian is required: apt-get install lintian")
	}
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
	if !strings.Contains(run(t, nil, "dpkg-deb", "-f", b, "Depends"), "adduser") {
		t.Error("a package with a service user does not depend on adduser")
	}
}

func TestReproducible(t *testing.T) {
	var a, b bytes.Buffer
	if err := (Packager{}).Package(render(t, "0.26.0acme", "", nil), &a); err != nil {
		t.Fatal(err)
	}
	if err := (Packager{}).Package(render(t, "0.26.0acme", "", nil), &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two builds of the same Info differ")
	}
}

func TestSigned(t *testing.T) {
	home, key, _ := packtest.GPGKey(t, "s3cret")
	env := []string{"GNUPGHOME=" + home}

	info := render(t, "0.26.0acme", "", nil)
	info.Signing = &pack.Signing{KeyFile: key, Passphrase: "s3cret"}
	p := write(t, info, t.TempDir())

	// debsig-verify's check, done with ar and gpg: _gpgorigin is a
	// detached signature of debian-binary, control and data in order.
	x := t.TempDir()
	cmd := exec.Command("ar", "x", p)
	cmd.Dir = x
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ar x: %v %s", err, out)
	}
	members := strings.Fields(run(t, nil, "ar", "t", p))
	if len(members) != 4 || members[3] != "_gpgorigin" {
		t.Fatalf("members %v, want debian-binary, control, data, _gpgorigin", members)
	}
	var signed []byte
	for _, m := range members[:3] {
		b, err := os.ReadFile(filepath.Join(x, m))
		if err != nil {
			t.Fatal(err)
		}
		signed = append(signed, b...)
	}
	if err := os.WriteFile(filepath.Join(x, "signed"), signed, 0o644); err != nil {
		t.Fatal(err)
	}
	out := run(t, env, "gpg", "--batch", "--verify", filepath.Join(x, "_gpgorigin"), filepath.Join(x, "signed"))
	if !strings.Contains(out, "Good signature") {
		t.Errorf("gpg --verify: %s", out)
	}
}

// chroot prepares a throwaway root for dpkg --root: its database and
// /run/systemd/system as on a booted systemd host.
func chroot(t *testing.T) string {
	root := packtest.Root(t, []string{"run/systemd/system", "var/lib/dpkg/info", "var/lib/dpkg/updates"}, []string{"rm", "cat"})
	if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestInstallUpgradeRemovePurge(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("dpkg --root runs maintainer scripts chrooted and needs root")
	}
	root := chroot(t)
	out := t.TempDir()
	project := t.TempDir()
	over := filepath.Join(project, templates.ProjectDir, "debian", "global", "server.conf")
	if err := os.MkdirAll(filepath.Dir(over), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(over, []byte("loglevel = debug\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	v1 := write(t, render(t, "1.0", "", nil), out)
	v2 := write(t, render(t, "1.1", project, nil), out)
	dpkg := func(args ...string) {
		run(t, nil, "dpkg", append([]string{"--root", root, "--force-depends", "--force-confold", "--force-not-root"}, args...)...)
	}
	units := []string{"backplane-server.service", "backplane-broker.service"}
	both := strings.Join(units, " ")

	dpkg("-i", v1)
	packtest.ExpectCalls(t, "install", packtest.SystemctlLog(t, root), []string{
		"--no-reload enable " + units[0], "--no-reload enable " + units[1], "--system daemon-reload",
	})
	conf := filepath.Join(root, "etc/acme/backplane/server.conf")
	if err := os.WriteFile(conf, []byte("loglevel = warn # local edit\n"), 0o640); err != nil {
		t.Fatal(err)
	}

	dpkg("-i", v2)
	packtest.ExpectCalls(t, "upgrade", packtest.SystemctlLog(t, root), []string{"--system daemon-reload", "try-restart " + both})
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
	packtest.ExpectCalls(t, "remove", packtest.SystemctlLog(t, root), []string{
		"stop " + both, "--no-reload disable " + units[0], "--no-reload disable " + units[1], "--system daemon-reload",
	})
	if _, err := os.Stat(conf); err != nil {
		t.Errorf("remove deleted a conffile: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "opt/acme/bin/backplane")); !os.IsNotExist(err) {
		t.Errorf("binary left after remove: %v", err)
	}

	dpkg("-P", "backplane")
	packtest.ExpectCalls(t, "purge", packtest.SystemctlLog(t, root), []string{"--system daemon-reload"})
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
	for _, l := range strings.Split(strings.TrimSpace(run(t, nil, "dpkg-deb", "-c", p)), "\n") {
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
	run(t, nil, "dpkg-deb", "-e", p, ctrl)
	entries, err := os.ReadDir(ctrl)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "control" && e.Name() != "md5sums" {
			t.Errorf("control member %s in a package without services", e.Name())
		}
	}
	if d := run(t, nil, "dpkg-deb", "-f", p, "Description"); !strings.HasPrefix(d, "Command-line tool of Packyard\n") {
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
		run(t, nil, "dpkg", append([]string{"--root", root, "--force-depends", "--force-not-root"}, args...)...)
	}
	dpkg("-i", p)
	if _, err := os.Stat(filepath.Join(root, "usr/bin/packyard")); err != nil {
		t.Errorf("binary not installed: %v", err)
	}
	dpkg("-P", "packyard")
	packtest.ExpectCalls(t, "install and purge", packtest.SystemctlLog(t, root), nil)
	if _, err := os.Stat(filepath.Join(root, "usr/bin/packyard")); !os.IsNotExist(err) {
		t.Errorf("binary left after purge: %v", err)
	}
}
