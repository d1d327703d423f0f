package templates

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/tarball"
	"github.com/packyard/packyard/version"
)

var testVersion = version.Version{Product: "0.26.0acme", RPM: "0.26.0acme", Deb: "0.26.0acme", Commit: "9eca1d2", Time: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)}

func input(tmpl string, props map[string]string) Input {
	p := map[string]string{
		"name": "backplane", "bindir": "/opt/acme/bin", "etcdir": "/etc/acme/backplane",
		"release": "1", "target_arch": "x86_64", "rudder_version": "8.1.0",
	}
	for k, v := range props {
		if v == "-" {
			delete(p, k)
			continue
		}
		p[k] = v
	}
	return Input{
		Package: &buildspec.Package{Name: "pkg", Template: tmpl, Properties: p},
		Product: "backplane", Version: testVersion, Binary: "/build/backplane",
	}
}

// project writes files under a project's packager/templates.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, ProjectDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func content(info *pack.Info, dst string) *pack.Content {
	for i := range info.Contents {
		if info.Contents[i].Destination == dst {
			return &info.Contents[i]
		}
	}
	return nil
}

func TestNamesAndFormats(t *testing.T) {
	want := map[string]string{
		"debian/generic": FormatDeb, "el/el7": FormatRPM, "el/el8": FormatRPM, "el/el9": FormatRPM,
		"rudder/plugin": FormatRpkg, "tarball/basic": FormatTar,
	}
	names := Names()
	if len(names) != len(want) {
		t.Fatalf("Names() = %v", names)
	}
	for _, n := range names {
		f, err := FormatOf("", n)
		if err != nil {
			t.Fatal(err)
		}
		if f != want[n] {
			t.Errorf("FormatOf(%s) = %s, want %s", n, f, want[n])
		}
	}
}

func TestRenderFormats(t *testing.T) {
	tests := []struct {
		tmpl, name, version, release, dist string
	}{
		{"el/el8", "backplane", "0.26.0acme", "1", "el8"},
		{"el/el7", "backplane", "0.26.0acme", "1", "el7"},
		{"debian/generic", "backplane", "0.26.0acme", "1", ""},
		{"rudder/plugin", "rudder-plugin-backplane", "8.1.0-0.26", "", ""},
		{"tarball/basic", "backplane", "0.26.0acme", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			r, err := Render(input(tt.tmpl, nil))
			if err != nil {
				t.Fatal(err)
			}
			i := r.Info
			if i.Name != tt.name || i.Version != tt.version || i.Release != tt.release || i.Dist != tt.dist {
				t.Errorf("got %s %s %s %s", i.Name, i.Version, i.Release, i.Dist)
			}
			if !i.MTime.Equal(testVersion.Time) {
				t.Errorf("MTime %v, want the commit time", i.MTime)
			}
			var bin *pack.Content
			for j := range i.Contents {
				if i.Contents[j].Source == "/build/backplane" {
					bin = &i.Contents[j]
				}
			}
			if bin == nil || bin.Mode != 0o755 || bin.Owner != "root" {
				t.Errorf("binary entry %+v", bin)
			}
		})
	}
}

func TestVersionPerFormat(t *testing.T) {
	v := version.Version{Product: "1.2.0-rc1.3-gabcd", RPM: "1.2.0~rc1.3_gabcd", Deb: "1.2.0~rc1.3+gabcd", Time: testVersion.Time}
	for tmpl, want := range map[string]string{
		"el/el9": "1.2.0~rc1.3_gabcd", "debian/generic": "1.2.0~rc1.3+gabcd",
		"rudder/plugin": "8.1.0-1.2", "tarball/basic": "1.2.0-rc1.3-gabcd",
	} {
		in := input(tmpl, nil)
		in.Version = v
		r, err := Render(in)
		if err != nil {
			t.Fatal(err)
		}
		if r.Info.Version != want {
			t.Errorf("%s: version %s, want %s", tmpl, r.Info.Version, want)
		}
	}
}

func TestElDaemon(t *testing.T) {
	r, err := Render(input("el/el8", map[string]string{"server_args": "--debug", "homepage": "https://acme.example/backplane"}))
	if err != nil {
		t.Fatal(err)
	}
	i := r.Info
	unit := string(content(i, "/usr/lib/systemd/system/backplane-server.service").Data)
	for _, want := range []string{
		"EnvironmentFile=-/etc/sysconfig/backplane-server",
		"ExecStart=/opt/acme/bin/backplane server --config /etc/acme/backplane/server.conf $ARGS",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("unit lacks %q:\n%s", want, unit)
		}
	}
	if strings.Contains(unit, "User=") {
		t.Error("unit sets User= without a user property")
	}
	env := content(i, "/etc/sysconfig/backplane-server")
	if env.Type != pack.ConfigNoReplace || !strings.Contains(string(env.Data), `ARGS="--debug"`) {
		t.Errorf("env file %s %q", env.Type, env.Data)
	}
	if c := content(i, "/etc/acme/backplane/server.conf"); c == nil || c.Type != pack.ConfigNoReplace || c.Mode != 0o640 {
		t.Errorf("server.conf %+v", c)
	}
	if i.Group != "System Environment/Base" || i.License != "Apache-2.0" || i.Maintainer == "" || i.Homepage == "" || i.ChangelogText == "" {
		t.Errorf("rpm tags not all set: %+v", i)
	}
	if !strings.Contains(i.Scripts.PreRemove, "disable --now") || i.Scripts.PreInstall != "" {
		t.Errorf("scripts: %+v", i.Scripts)
	}
}

func TestProperties(t *testing.T) {
	tests := []struct {
		name    string
		tmpl    string
		props   map[string]string
		has     []string
		hasNot  []string
		scripts string
	}{
		{"defaults", "el/el8", nil,
			[]string{"/etc/acme/backplane/server.conf"}, []string{"/usr/lib/systemd/system-preset/50-backplane.preset"}, ""},
		{"manage_conf=0", "el/el8", map[string]string{"manage_conf": "0"},
			nil, []string{"/etc/acme/backplane/server.conf", "/etc/acme/backplane/broker.conf"}, ""},
		{"preset", "el/el9", map[string]string{"manage_server_preset": "1"},
			[]string{"/usr/lib/systemd/system-preset/50-backplane.preset"}, nil, ""},
		{"user", "el/el8", map[string]string{"user": "bp"}, nil, nil, "useradd -r -g bp"},
		{"debian user", "debian/generic", map[string]string{"user": "bp"},
			[]string{"/lib/systemd/system/backplane-server.service", "/etc/default/backplane-server"}, nil, "adduser --system --group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Render(input(tt.tmpl, tt.props))
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range tt.has {
				if content(r.Info, d) == nil {
					t.Errorf("%s not shipped", d)
				}
			}
			for _, d := range tt.hasNot {
				if content(r.Info, d) != nil {
					t.Errorf("%s shipped", d)
				}
			}
			if !strings.Contains(r.Info.Scripts.PreInstall, tt.scripts) {
				t.Errorf("preinstall lacks %q:\n%s", tt.scripts, r.Info.Scripts.PreInstall)
			}
		})
	}
}

func TestRpkgProperties(t *testing.T) {
	r, err := Render(input("rudder/plugin", map[string]string{"depends_binary": "curl,jq", "requires_license": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"rpkg.build_commit":     "9eca1d2",
		"rpkg.content":          "files.txz:/opt/rudder/share/plugins",
		"rpkg.depends.binary":   "curl,jq",
		"rpkg.requires_license": "true",
	}
	for k, v := range want {
		if r.Info.Properties[k] != v {
			t.Errorf("%s = %q, want %q", k, r.Info.Properties[k], v)
		}
	}
	if _, ok := r.Info.Properties["rpkg.jar_files"]; ok {
		t.Error("empty rpkg.jar_files kept")
	}
	if !strings.Contains(r.Info.Scripts.PostInstall, "/opt/rudder/share/plugins/backplane/backplane") {
		t.Errorf("postinst: %s", r.Info.Scripts.PostInstall)
	}
}

func TestMissingProperty(t *testing.T) {
	_, err := Render(input("el/el8", map[string]string{"etcdir": "-"}))
	var mp *MissingPropertyError
	if !errors.As(err, &mp) {
		t.Fatalf("err = %v, want a MissingPropertyError", err)
	}
	if mp.Package != "pkg" || mp.Template != "el/el8" || mp.Property != "etcdir" {
		t.Errorf("%+v", mp)
	}
	if !strings.Contains(err.Error(), `package pkg: template el/el8 requires property "etcdir"`) {
		t.Errorf("message: %v", err)
	}
}

func TestProjectOverrides(t *testing.T) {
	dir := project(t, map[string]string{
		// Overrides an embedded global file for every el template.
		"el/global/server.conf": "custom {{cpkg_name}} {{cpkg_etcdir}} {{.version}}\n",
		// Adds a file to el8 only and an entry that ships it.
		"el/el8/template.yaml": "properties:\n  dist: el8\n  extra_thing: hello\ncontents:\n  - {src: extra.txt, dst: /usr/share/backplane/extra.txt}\n",
		"el/el8/extra.txt":     "{{.extra_thing}}\n",
		// A template of the project's own.
		"el/custom/template.yaml": "info:\n  summary: Custom\n",
	})
	in := input("el/el8", map[string]string{"dist": "el8"})
	in.ProjectDir = dir
	r, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(content(r.Info, "/etc/acme/backplane/server.conf").Data); got != "custom backplane /etc/acme/backplane 0.26.0acme\n" {
		t.Errorf("server.conf = %q", got)
	}
	if got := content(r.Info, "/usr/share/backplane/extra.txt"); got == nil || string(got.Data) != "hello\n" {
		t.Errorf("extra.txt = %+v", got)
	}
	in.Package.Template = "el/custom"
	r, err = Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != FormatRPM || r.Info.Summary != "Custom" || content(r.Info, "/opt/acme/bin/backplane") == nil {
		t.Errorf("custom template: %s %q", r.Format, r.Info.Summary)
	}
	if b, err := ReadFile(dir, "el/el9", "server.conf"); err != nil || !strings.HasPrefix(string(b), "custom") {
		t.Errorf("ReadFile el/el9 server.conf = %q, %v", b, err)
	}
}

func TestBadTemplates(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		tmpl  string
		want  string
	}{
		{"unknown key", map[string]string{"el/x/template.yaml": "format: rpm\nbogus: 1\n"}, "el/x",
			"template.yaml: yaml: unmarshal errors:\n  line 2: field bogus not found"},
		{"unknown content key", map[string]string{"el/x/template.yaml": "contents:\n  - {src: a, dst: /a, mdoe: '0644'}\n"}, "el/x",
			`line 2: unknown content key "mdoe"`},
		{"bad type", map[string]string{"el/x/template.yaml": "contents:\n  - src: a\n    dst: /a\n    type: conf\n"}, "el/x",
			`template.yaml:2: content type "conf"`},
		{"bad mode", map[string]string{"el/x/template.yaml": "contents:\n  - {src: a, dst: /a, mode: rwx}\n"}, "el/x",
			`template.yaml:2: mode "rwx"`},
		{"bad format", map[string]string{"el/x/template.yaml": "format: zip\n"}, "el/x", `format "zip"`},
		{"missing file", map[string]string{"el/x/template.yaml": "contents:\n  - {src: nope.conf, dst: /a}\n"}, "el/x",
			"template.yaml:2: template el/x: file nope.conf not found"},
		{"relative dst", map[string]string{"el/x/template.yaml": "contents:\n  - {src: server.conf, dst: etc/a}\n"}, "el/x",
			`dst "etc/a" must be a clean absolute path`},
		{"bad template text", map[string]string{"el/x/template.yaml": "info:\n  summary: '{{.nope}}'\n"}, "el/x",
			`map has no entry for key "nope"`},
		{"no such template", nil, "el/el99", "template el/el99: no such template"},
		{"global is not a template", nil, "el/global", "global is the shared part"},
		{"escape", nil, "../etc", "want <family>/<name>"},
		{"escape file", map[string]string{"el/x/template.yaml": "contents:\n  - {src: ../../../etc/passwd, dst: /a}\n"}, "el/x",
			"must stay inside the template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(tt.tmpl, map[string]string{"dist": "el8"})
			in.ProjectDir = project(t, tt.files)
			_, err := Render(in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "pkg") {
				t.Errorf("error does not name the package: %v", err)
			}
		})
	}
}

func destinations(info *pack.Info) []string {
	var out []string
	for _, c := range info.Contents {
		out = append(out, c.Destination)
	}
	return out
}

func TestServices(t *testing.T) {
	agent := map[string]string{
		"el/global/agent.conf":    "# agent of {{.name}}\n",
		"el/global/agent.env":     "ARGS=\"\"\n",
		"el/global/agent.service": "[Service]\nExecStart={{.bindir}}/{{.name}} agent\n",
	}
	// manage_server_preset=1 throughout: a tool without services still
	// gets no preset.
	const preset = "/usr/lib/systemd/system-preset/50-backplane.preset"
	tests := []struct {
		name     string
		tmpl     string
		services string
		files    map[string]string // project templates
		contents []string          // every destination, in order
		summary  string
		scripts  []string // in every script but preinstall; none when empty
		depends  string
	}{
		{"cli el", "el/el8", "", nil, []string{"/opt/acme/bin/backplane"}, "Command-line tool", nil, ""},
		{"cli el7", "el/el7", "", nil, []string{"/opt/acme/bin/backplane"}, "Command-line tool", nil, ""},
		{"cli debian", "debian/generic", "", nil,
			[]string{"/opt/acme/bin/backplane", "/usr/share/doc/backplane/copyright", "/usr/share/lintian/overrides/backplane"},
			"Command-line tool", nil, ""},
		{"server only", "el/el9", "server", nil,
			[]string{
				"/opt/acme/bin/backplane", "/etc/acme/backplane", "/etc/acme/backplane/server.conf",
				"/etc/sysconfig/backplane-server", "/usr/lib/systemd/system/backplane-server.service",
				preset, "/etc/logrotate.d/backplane", "/var/log/backplane",
			},
			"Server daemon", []string{" backplane-server.service >"}, "logrotate"},
		{"default", "debian/generic", "server broker", nil,
			[]string{
				"/opt/acme/bin/backplane", "/etc/acme/backplane",
				"/etc/acme/backplane/server.conf", "/etc/acme/backplane/broker.conf",
				"/etc/default/backplane-server", "/etc/default/backplane-broker",
				"/lib/systemd/system/backplane-server.service", "/lib/systemd/system/backplane-broker.service",
				preset, "/etc/logrotate.d/backplane", "/var/log/backplane",
				"/usr/share/doc/backplane/copyright", "/usr/share/lintian/overrides/backplane",
			},
			"Server and broker daemons", []string{"backplane-server.service backplane-broker.service\""}, ""},
		{"a project's own service", "el/el8", "server agent", agent,
			[]string{
				"/opt/acme/bin/backplane", "/etc/acme/backplane",
				"/etc/acme/backplane/server.conf", "/etc/acme/backplane/agent.conf",
				"/etc/sysconfig/backplane-server", "/etc/sysconfig/backplane-agent",
				"/usr/lib/systemd/system/backplane-server.service", "/usr/lib/systemd/system/backplane-agent.service",
				preset, "/etc/logrotate.d/backplane", "/var/log/backplane",
			},
			"Server and agent daemons", []string{" backplane-server.service backplane-agent.service >"}, "logrotate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := input(tt.tmpl, map[string]string{"services": tt.services, "manage_server_preset": "1"})
			in.ProjectDir = project(t, tt.files)
			r, err := Render(in)
			if err != nil {
				t.Fatal(err)
			}
			i := r.Info
			want := tt.contents
			if got := destinations(i); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("contents\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if i.Summary != tt.summary {
				t.Errorf("summary %q, want %q", i.Summary, tt.summary)
			}
			if strings.Join(i.Depends, " ") != tt.depends {
				t.Errorf("depends %q, want %q", i.Depends, tt.depends)
			}
			for _, s := range []string{i.Scripts.PostInstall, i.Scripts.PreRemove, i.Scripts.PostRemove} {
				if len(tt.scripts) == 0 && s != "" {
					t.Errorf("a command-line tool has a scriptlet:\n%s", s)
				}
				for _, w := range tt.scripts {
					if !strings.Contains(s, w) {
						t.Errorf("script lacks %q:\n%s", w, s)
					}
				}
			}
			if tt.services == "" {
				if ov := content(i, "/usr/share/lintian/overrides/backplane"); ov != nil &&
					strings.Contains(string(ov.Data), "maintainer-script-calls-systemctl") {
					t.Errorf("overrides of a command-line tool name its absent scripts:\n%s", ov.Data)
				}
				if !strings.Contains(i.Description, "installed as /opt/acme/bin/backplane") {
					t.Errorf("description %q", i.Description)
				}
			}
		})
	}
}

func TestEachErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		props map[string]string
		want  string
	}{
		{"service without its files", nil, map[string]string{"services": "server agent"},
			"embedded:templates/el/global/template.yaml:63: template el/el8: file agent.conf not found in el/el8 or el/global"},
		{"bad each", map[string]string{"el/x/template.yaml": "contents:\n  - {each: '{{.nope}}', src: a, dst: /a}\n"},
			nil, `el/x/template.yaml:2 each" at <.nope>: map has no entry for key "nope"`},
		{"twice the same item", map[string]string{"el/x/template.yaml": "contents:\n  - {each: 'a a', src: server.conf, dst: '/{{.item}}'}\n"},
			nil, "template.yaml:2: dst /a already shipped by"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl := "el/el8"
			if tt.files != nil {
				tmpl = "el/x"
			}
			in := input(tmpl, tt.props)
			in.Package.Properties["dist"] = "el8"
			in.ProjectDir = project(t, tt.files)
			_, err := Render(in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTarget(t *testing.T) {
	target := func(os, arch, arm string) *buildspec.CompileTarget {
		return &buildspec.CompileTarget{Name: os + "_" + arch, OS: os, Arch: arch, ARM: arm}
	}
	tests := []struct {
		tmpl       string
		target     *buildspec.CompileTarget
		targetArch string // "-": unset
		platform   string
		arch       string
	}{
		{"el/el9", target("linux", "arm64", ""), "-", "linux", "aarch64"},
		{"el/el9", target("linux", "amd64", ""), "-", "linux", "x86_64"},
		{"el/el9", target("linux", "arm", "6"), "-", "linux", "armv6hl"},
		{"el/el9", target("linux", "arm64", ""), "ppc64le", "linux", "ppc64le"}, // target_arch wins
		{"debian/generic", target("linux", "amd64", ""), "-", "linux", "amd64"},
		{"debian/generic", target("linux", "arm", "7"), "-", "linux", "armhf"},
		{"debian/generic", target("linux", "arm", "5"), "-", "linux", "armel"},
		{"debian/generic", target("linux", "ppc64le", ""), "-", "linux", "ppc64el"},
		{"tarball/basic", target("darwin", "arm64", ""), "-", "darwin", "arm64"},
		{"tarball/basic", target("linux", "arm", "7"), "-", "linux", "armv7"},
		{"tarball/basic", nil, "x86_64", "linux", "x86_64"},
	}
	for _, tt := range tests {
		name := tt.tmpl + "/" + tt.arch
		t.Run(name, func(t *testing.T) {
			in := input(tt.tmpl, map[string]string{"target_arch": tt.targetArch})
			in.Target = tt.target
			r, err := Render(in)
			if err != nil {
				t.Fatal(err)
			}
			if r.Info.Platform != tt.platform || r.Info.Arch != tt.arch {
				t.Errorf("platform %s arch %s, want %s %s", r.Info.Platform, r.Info.Arch, tt.platform, tt.arch)
			}
		})
	}

	bad := []struct {
		tmpl   string
		target *buildspec.CompileTarget
		want   string
	}{
		{"el/el8", target("darwin", "arm64", ""), "package pkg: template el/el8 packages linux binaries, but compile target darwin_arm64 is for darwin"},
		{"debian/generic", target("windows", "amd64", ""), "compile target windows_amd64 is for windows"},
		{"rudder/plugin", target("darwin", "amd64", ""), "packages linux binaries"},
		{"debian/generic", target("linux", "wasm", ""), "compile target linux_wasm: no deb name known for arch wasm; set target_arch"},
	}
	for _, tt := range bad {
		in := input(tt.tmpl, map[string]string{"target_arch": "-"})
		in.Target = tt.target
		if _, err := Render(in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s %s/%s: err = %v, want one containing %q", tt.tmpl, tt.target.OS, tt.target.Arch, err, tt.want)
		}
	}
}

// TestTarballOtherOS writes the tarball of a darwin and of a windows
// binary and reads it back: names, entries and the README all follow the
// compile target.
func TestTarballOtherOS(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "packyard-0.26.0acme-darwin-arm64")
	if err := os.WriteFile(bin, []byte("\xcf\xfa\xed\xfe not really Mach-O"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		os, arch, file, exe string
	}{
		{"darwin", "arm64", "packyard-0.26.0acme-darwin-arm64.tar.gz", "bin/packyard"},
		{"darwin", "amd64", "packyard-0.26.0acme-darwin-amd64.tar.gz", "bin/packyard"},
		{"windows", "amd64", "packyard-0.26.0acme-windows-amd64.tar.gz", "bin/packyard.exe"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in := Input{
				Package: &buildspec.Package{Name: "tar_" + tt.os, Template: "tarball/basic", Binary: tt.os,
					Properties: map[string]string{"name": "packyard", "display_name": "Packyard"}},
				Product: "packyard", Version: testVersion, Binary: bin,
				Target: &buildspec.CompileTarget{Name: tt.os, OS: tt.os, Arch: tt.arch},
			}
			r, err := Render(in)
			if err != nil {
				t.Fatal(err)
			}
			if got := (tarball.Packager{}).FileName(r.Info); got != tt.file {
				t.Errorf("file name %s, want %s", got, tt.file)
			}
			var buf bytes.Buffer
			if err := (tarball.Packager{}).Package(r.Info, &buf); err != nil {
				t.Fatal(err)
			}
			entries := readTarGz(t, buf.Bytes())
			prefix := strings.TrimSuffix(tt.file, ".tar.gz") + "/"
			if m, ok := entries[prefix+tt.exe]; !ok || m != 0o755 {
				t.Errorf("%s: mode %o, present %v; entries %v", tt.exe, m, ok, entries)
			}
			readme := string(content(r.Info, "/README").Data)
			for _, want := range []string{
				"Packyard 0.26.0acme, built from commit 9eca1d2 (2024-03-01T12:00:00Z).",
				tt.exe + "  the packyard command, for " + tt.os + "/" + tt.arch,
			} {
				if !strings.Contains(readme, want) {
					t.Errorf("README lacks %q:\n%s", want, readme)
				}
			}
			if _, ok := entries[prefix+"README"]; !ok {
				t.Errorf("no README in %v", entries)
			}
		})
	}
}

// readTarGz returns the regular files of a tar.gz with their modes.
func readTarGz(t *testing.T, b []byte) map[string]int64 {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]int64{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			out[h.Name] = h.Mode
		}
	}
}

// TestHomepage checks that no embedded template points a product's
// packages at Packyard: the homepage is empty unless the spec sets
// homepage or, as Choria's specs do, url.
func TestHomepage(t *testing.T) {
	for _, tmpl := range []string{"el/el7", "el/el8", "el/el9", "debian/generic", "tarball/basic", "rudder/plugin"} {
		for _, tt := range []struct {
			props map[string]string
			want  string
		}{
			{nil, ""},
			{map[string]string{"url": "https://acme.example/backplane"}, "https://acme.example/backplane"},
			{map[string]string{"homepage": "https://acme.example/bp", "url": "https://acme.example/x"}, "https://acme.example/bp"},
		} {
			props := map[string]string{"dist": "el8"}
			maps.Copy(props, tt.props)
			r, err := Render(input(tmpl, props))
			if err != nil {
				t.Fatalf("%s: %v", tmpl, err)
			}
			if r.Info.Homepage != tt.want && r.Format != FormatRpkg {
				t.Errorf("%s %v: Homepage %q, want %q", tmpl, tt.props, r.Info.Homepage, tt.want)
			}
			for _, c := range r.Info.Contents {
				if bytes.Contains(c.Data, []byte("packyard/packyard")) {
					t.Errorf("%s: %s points at Packyard:\n%s", tmpl, c.Destination, c.Data)
				}
			}
		}
	}
}

// TestArchiveFormat checks that a tar template's format property picks
// the writer: Choria's format: zip must not silently write a tar.gz.
func TestArchiveFormat(t *testing.T) {
	for _, tt := range []struct{ format, want string }{
		{"-", FormatTar}, {"tgz", FormatTar}, {"zip", FormatZip},
	} {
		r, err := Render(input("tarball/basic", map[string]string{"format": tt.format}))
		if err != nil {
			t.Fatal(err)
		}
		if r.Format != tt.want {
			t.Errorf("format %s: writer %s, want %s", tt.format, r.Format, tt.want)
		}
	}
	if _, err := Render(input("tarball/basic", map[string]string{"format": "rar"})); err == nil || !strings.Contains(err.Error(), `format "rar"`) {
		t.Errorf("format rar: %v", err)
	}
}
