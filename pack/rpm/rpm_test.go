package rpm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/templates"
)

// binary is a real static Go program, built once for all tests, so that
// rpmlint judges what the pipeline ships.
var binary string

func TestMain(m *testing.M) { packtest.Main(m, &binary) }

// render renders an el template for backplane at version v.
func render(t *testing.T, tmpl, v, projectDir string, props map[string]string) *pack.Info {
	t.Helper()
	b := packtest.Backplane{Template: tmpl, Format: templates.FormatRPM, Arch: "x86_64", Binary: binary}
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
		{pack.Info{Name: "backplane", Version: "0.26.0acme", Release: "1", Dist: "el8", Arch: "x86_64"}, "backplane-0.26.0acme-1.el8.x86_64.rpm"},
		{pack.Info{Name: "backplane", Version: "1.2.0~rc1", Release: "2", Arch: "aarch64"}, "backplane-1.2.0~rc1-2.aarch64.rpm"},
		{pack.Info{Name: "x", Version: "3", Epoch: "1", Dist: "el9", Arch: "x86_64"}, "x-3-1.el9.x86_64.rpm"},
	}
	for _, tt := range tests {
		if got := (Packager{}).FileName(&tt.info); got != tt.want {
			t.Errorf("FileName = %s, want %s", got, tt.want)
		}
	}
}

func TestBadInfo(t *testing.T) {
	good := pack.Info{Name: "x", Version: "1", Arch: "x86_64", MTime: packtest.CommitTime()}
	packtest.CheckBadInfo(t, Packager{}, good,
		packtest.BadInfo{Name: "no name", Edit: func(i *pack.Info) { i.Name = "" }, Want: "name is empty"},
		packtest.BadInfo{Name: "dash in version", Edit: func(i *pack.Info) { i.Version = "1.2.0-rc1" }, Want: "contains '-'"},
	)
}

func TestPackageQuery(t *testing.T) {
	dir := t.TempDir()
	// Choria's spelling of the homepage; without it there is no URL tag.
	p := write(t, render(t, "el/el8", "0.26.0acme", "", map[string]string{"url": "https://acme.example/backplane"}), dir)

	qi := packtest.Run(t, nil, "rpm", "-qpi", p)
	for _, want := range []string{
		"Name        : backplane", "Version     : 0.26.0acme", "Release     : 1.el8",
		"Architecture: x86_64", "Group       : System Environment/Base", "License     : Apache-2.0",
		"Build Host  : packyard", "Packager    : Backplane Engineering <eng@acme.example>",
		"URL         : https://acme.example/backplane",
		"Summary     : Server and broker daemons of Backplane",
	} {
		if !strings.Contains(qi, want) {
			t.Errorf("rpm -qpi lacks %q:\n%s", want, qi)
		}
	}

	// path -> mode and flags, from --dump (path size mtime digest mode
	// owner group isconfig ...) and FILEFLAGS (c = config, n = noreplace).
	dump := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(packtest.Run(t, nil, "rpm", "-qp", "--dump", p)), "\n") {
		f := strings.Fields(l)
		dump[f[0]] = f
	}
	flags := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(packtest.Run(t, nil, "rpm", "-qp", "--qf", `[%{FILENAMES} %{FILEFLAGS:fflags}\n]`, p)), "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			flags[f[0]] = f[1]
		} else {
			flags[f[0]] = ""
		}
	}
	files := []struct {
		path, mode, flags string
	}{
		{"/opt/acme/bin/backplane", "0100755", ""},
		{"/etc/acme/backplane", "040755", ""},
		{"/etc/acme/backplane/server.conf", "0100640", "cn"},
		{"/etc/acme/backplane/broker.conf", "0100640", "cn"},
		{"/etc/sysconfig/backplane-server", "0100644", "cn"},
		{"/etc/sysconfig/backplane-broker", "0100644", "cn"},
		{"/usr/lib/systemd/system/backplane-server.service", "0100644", ""},
		{"/usr/lib/systemd/system/backplane-broker.service", "0100644", ""},
		{"/etc/logrotate.d/backplane", "0100644", "cn"},
		{"/var/log/backplane", "040755", ""},
	}
	for _, f := range files {
		d, ok := dump[f.path]
		if !ok {
			t.Errorf("%s not in package", f.path)
			continue
		}
		if d[4] != f.mode || d[5] != "root" || d[6] != "root" {
			t.Errorf("%s: mode %s %s:%s, want %s root:root", f.path, d[4], d[5], d[6], f.mode)
		}
		if d[2] != fmt.Sprint(packtest.CommitTime().Unix()) {
			t.Errorf("%s: mtime %s, want the commit time %d", f.path, d[2], packtest.CommitTime().Unix())
		}
		if flags[f.path] != f.flags {
			t.Errorf("%s: flags %q, want %q", f.path, flags[f.path], f.flags)
		}
	}
	if _, ok := dump["/usr/lib/systemd/system-preset/50-backplane.preset"]; ok {
		t.Error("preset shipped with manage_server_preset=0")
	}

	scripts := packtest.Run(t, nil, "rpm", "-qp", "--scripts", p)
	for _, want := range []string{
		"postinstall scriptlet", "systemctl --no-reload preset backplane-server.service backplane-broker.service",
		"preuninstall scriptlet", "systemctl --no-reload disable --now backplane-server.service backplane-broker.service",
		"postuninstall scriptlet", "systemctl try-restart backplane-server.service backplane-broker.service",
	} {
		if !strings.Contains(scripts, want) {
			t.Errorf("--scripts lacks %q:\n%s", want, scripts)
		}
	}
	if strings.Contains(scripts, "preinstall scriptlet") {
		t.Error("a pre-install scriptlet is shipped though no user is set")
	}
	if cl := packtest.Run(t, nil, "rpm", "-qp", "--changelog", p); !strings.Contains(cl, "Backplane Engineering <eng@acme.example> - 0.26.0acme-1.el8") {
		t.Errorf("changelog: %s", cl)
	}
	if k := packtest.Run(t, nil, "rpm", "-K", p); !strings.Contains(k, "digests OK") {
		t.Errorf("rpm -K: %s", k)
	}
}

func TestPropertiesChangeContents(t *testing.T) {
	dir := t.TempDir()
	p := write(t, render(t, "el/el9", "1.0", "", map[string]string{
		"manage_conf": "0", "manage_server_preset": "1", "user": "backplane", "bindir": "/usr/bin",
	}), dir)
	list := packtest.Run(t, nil, "rpm", "-qpl", p)
	if strings.Contains(list, "server.conf") {
		t.Error("manage_conf=0 still ships server.conf")
	}
	for _, want := range []string{"/usr/lib/systemd/system-preset/50-backplane.preset", "/usr/bin/backplane"} {
		if !strings.Contains(list, want) {
			t.Errorf("rpm -qpl lacks %s:\n%s", want, list)
		}
	}
	if s := packtest.Run(t, nil, "rpm", "-qp", "--scripts", p); !strings.Contains(s, "useradd -r -g backplane") {
		t.Errorf("no useradd in %%pre:\n%s", s)
	}
	if d := packtest.Run(t, nil, "rpm", "-qp", "--dump", p); !strings.Contains(d, "/var/log/backplane 4096 1709294400 "+strings.Repeat("0", 64)+" 040755 backplane backplane") {
		t.Errorf("log dir not owned by the service user:\n%s", d)
	}
}

// lintConfig writes the rpmlint config that template tmpl ships, as
// users are told to run rpmlint with it, and returns its path.
func lintConfig(t *testing.T, tmpl string) string {
	t.Helper()
	cfg, err := templates.ReadFile("", tmpl, "rpmlint.toml")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rpmlint.toml")
	if err := os.WriteFile(file, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestRpmlint(t *testing.T) {
	cfgFile := lintConfig(t, "el/el8")
	env := packtest.RpmlintEnv(t)
	for _, tmpl := range []string{"el/el7", "el/el8", "el/el9"} {
		for _, props := range []map[string]string{nil, {"bindir": "/usr/bin", "user": "backplane", "manage_server_preset": "1"}} {
			p := write(t, render(t, tmpl, "0.26.0acme", "", props), t.TempDir())
			out := packtest.Run(t, env, "rpmlint", "-c", cfgFile, p)
			if !strings.Contains(out, " 0 errors,") {
				t.Errorf("%s %v: rpmlint:\n%s", tmpl, props, out)
			}
		}
	}
}

func TestReproducible(t *testing.T) {
	packtest.CheckReproducible(t, Packager{}, func() *pack.Info { return render(t, "el/el8", "0.26.0acme", "", nil) })
}

func TestSigned(t *testing.T) {
	key := packtest.GPGKey(t, "s3cret")
	info := render(t, "el/el8", "0.26.0acme", "", nil)
	info.Signing = &pack.Signing{KeyFile: key.Private, Passphrase: "s3cret"}
	p := write(t, info, t.TempDir())
	packtest.VerifyRPMSignatures(t, key.Public, p)

	info.Signing.Passphrase = "not-the-passphrase-42"
	err := (Packager{}).Package(info, &bytes.Buffer{})
	if err == nil {
		t.Fatal("signing with a wrong passphrase succeeded")
	}
	if strings.Contains(err.Error(), "not-the-passphrase-42") {
		t.Errorf("error shows the passphrase: %v", err)
	}
}

// chroot prepares a throwaway root where rpm runs scriptlets, with the
// only tools the el scriptlets may use.
func chroot(t *testing.T) string {
	t.Helper()
	return packtest.Root(t, packtest.RootSpec{Dirs: []string{"var/tmp"}, Tools: []string{"cat", "ln", "mkdir", "rm"}})
}

func TestInstallUpgradeErase(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("rpm --root runs scriptlets chrooted and needs root")
	}
	units := "backplane-server.service backplane-broker.service"
	tests := []struct {
		template string
		erase    []string
	}{
		{"el/el7", []string{"--no-reload disable " + units, "stop " + units, "daemon-reload"}},
		{"el/el8", []string{"--no-reload disable --now " + units, "daemon-reload"}},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			root := chroot(t)
			out := t.TempDir()
			// The second version comes with a project override of
			// server.conf, to see %config(noreplace) keep local edits.
			project := packtest.ProjectOverride(t, "el/global", "server.conf", "loglevel = debug\n")
			v1 := write(t, render(t, tt.template, "1.0", "", nil), out)
			v2 := write(t, render(t, tt.template, "1.1", project, nil), out)
			rpm := func(args ...string) {
				packtest.Run(t, nil, "rpm", append([]string{"--root", root, "--nodeps"}, args...)...)
			}
			packtest.Run(t, nil, "rpm", "--root", root, "--initdb")

			rpm("-i", v1)
			packtest.ExpectCalls(t, "install", root, "daemon-reload", "--no-reload preset "+units)
			conf := filepath.Join(root, "etc/acme/backplane/server.conf")
			if err := os.WriteFile(conf, []byte("loglevel = warn # local edit\n"), 0o640); err != nil {
				t.Fatal(err)
			}

			rpm("-U", v2)
			// The new %post runs, then the old package's %postun ($1 = 1).
			packtest.ExpectCalls(t, "upgrade", root, "daemon-reload", "daemon-reload", "try-restart "+units)
			if b, _ := os.ReadFile(conf); !strings.Contains(string(b), "local edit") {
				t.Errorf("upgrade replaced the edited config: %s", b)
			}
			if b, err := os.ReadFile(conf + ".rpmnew"); err != nil || string(b) != "loglevel = debug\n" {
				t.Errorf("no .rpmnew with the new config: %v %q", err, b)
			}
			if q := packtest.Run(t, nil, "rpm", "--root", root, "-q", "backplane"); !strings.Contains(q, "backplane-1.1-1.el") {
				t.Errorf("installed: %s", q)
			}

			rpm("-e", "backplane")
			packtest.ExpectCalls(t, "erase", root, tt.erase...)
			if _, err := os.Stat(filepath.Join(root, "opt/acme/bin/backplane")); !os.IsNotExist(err) {
				t.Errorf("binary left after erase: %v", err)
			}
		})
	}
}

// TestCommandLineTool packages a CLI (services empty), as Packyard
// packages itself: the binary and the package's tags, nothing else.
func TestCommandLineTool(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("rpm --root runs scriptlets chrooted and needs root")
	}
	cfgFile := lintConfig(t, "el/el9")
	props := map[string]string{
		"services": "", "name": "packyard", "display_name": "Packyard", "bindir": "/usr/bin", "etcdir": "/etc/packyard",
	}
	for _, tmpl := range []string{"el/el7", "el/el9"} {
		t.Run(tmpl, func(t *testing.T) {
			p := write(t, render(t, tmpl, "0.26.0acme", "", props), t.TempDir())
			if got := strings.TrimSpace(packtest.Run(t, nil, "rpm", "-qpl", p)); got != "/usr/bin/packyard" {
				t.Errorf("rpm -qpl = %q, want the binary alone", got)
			}
			if s := packtest.Run(t, nil, "rpm", "-qp", "--scripts", p); s != "" {
				t.Errorf("scriptlets:\n%s", s)
			}
			if req := packtest.Run(t, nil, "rpm", "-qpR", p); strings.Contains(req, "logrotate") {
				t.Errorf("requires logrotate:\n%s", req)
			}
			if qi := packtest.Run(t, nil, "rpm", "-qpi", p); !strings.Contains(qi, "Summary     : Command-line tool of Packyard") {
				t.Errorf("rpm -qpi:\n%s", qi)
			}
			if out := packtest.Run(t, packtest.RpmlintEnv(t), "rpmlint", "-c", cfgFile, p); !strings.Contains(out, " 0 errors,") {
				t.Errorf("rpmlint:\n%s", out)
			}

			root := chroot(t)
			packtest.Run(t, nil, "rpm", "--root", root, "--initdb")
			packtest.Run(t, nil, "rpm", "--root", root, "--nodeps", "-i", p)
			if _, err := os.Stat(filepath.Join(root, "usr/bin/packyard")); err != nil {
				t.Errorf("binary not installed: %v", err)
			}
			packtest.Run(t, nil, "rpm", "--root", root, "--nodeps", "-e", "packyard")
			packtest.ExpectCalls(t, "install and erase", root)
		})
	}
}
