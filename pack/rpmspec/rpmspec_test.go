package rpmspec

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
	nfpmrpm "github.com/goreleaser/nfpm/v2/rpm"

	"github.com/packyard/packyard/pack"
)

var epoch = time.Unix(1735689600, 0).UTC() // 2025-01-01

// fixture writes a source tarball and a prebuilt "binary", and returns an
// Info shaped like the backplane example's el8 package.
func fixture(t *testing.T) (*pack.Info, string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "backplane-0.26.0acme")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, ".version"), []byte("0.26.0acme\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tarball := filepath.Join(dir, "backplane-0.26.0acme.tar.gz")
	if out, err := exec.Command("tar", "-C", dir, "-czf", tarball, "backplane-0.26.0acme").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "backplane-0.26.0acme-linux-amd64")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho backplane 0.26.0acme\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	info := &pack.Info{
		Name: "backplane", Version: "0.26.0acme", Release: "1", Dist: "el8", Arch: "x86_64", Platform: "linux",
		Summary:     "Backplane management agent",
		Description: "Backplane manages 100% of the fleet.\nSecond line.",
		Maintainer:  "Backplane Engineering <eng@acme.example>",
		Vendor:      "Acme", Homepage: "https://acme.example/backplane", License: "Apache-2.0",
		Group:   "System Environment/Base",
		Depends: []string{"systemd", "bash >= 4.0"},
		Contents: []pack.Content{
			{Type: pack.File, Source: bin, Destination: "/opt/acme/bin/backplane", Mode: 0o755},
			{Type: pack.ConfigNoReplace, Data: []byte("loglevel: info\n"), Destination: "/etc/acme/backplane/backplane.yaml", Mode: 0o640, Group: "daemon"},
			{Type: pack.Config, Data: []byte("ARGS=\n"), Destination: "/etc/sysconfig/backplane", Mode: 0o644},
			{Type: pack.File, Data: []byte("[Unit]\nDescription=Backplane\n"), Destination: "/usr/lib/systemd/system/backplane.service", Mode: 0o644},
			{Type: pack.Dir, Destination: "/etc/acme/backplane", Mode: 0o755},
			{Type: pack.Dir, Destination: "/var/lib/backplane", Mode: 0o750, Owner: "daemon", Group: "daemon"},
			{Type: pack.Symlink, Source: "/opt/acme/bin/backplane", Destination: "/usr/bin/backplane"},
			// Same base name as the unit above: needs a distinct SOURCES name.
			{Type: pack.File, Data: []byte("# example\n"), Destination: "/usr/share/doc/backplane/backplane.service", Mode: 0o644},
		},
		Scripts: pack.Scripts{
			PreInstall:  "getent group acme >/dev/null || true\n",
			PostInstall: "if [ $1 -eq 1 ] ; then\n  systemctl preset backplane.service >/dev/null 2>&1 || :\nfi\nprintf '%s\\n' \"installed 100%\"\n",
			PreRemove:   "if [ $1 -eq 0 ] ; then\n  systemctl --no-reload disable --now backplane.service >/dev/null 2>&1 || :\nfi\n",
			PostRemove:  "systemctl daemon-reload >/dev/null 2>&1 || :\nif [ $1 -ge 1 ] ; then\n  systemctl try-restart backplane.service >/dev/null 2>&1 || :\nfi",
			PostTrans:   "echo %{not_a_macro} done\n",
		},
		ChangelogText: "Release 0.26.0acme",
		MTime:         epoch,
	}
	return info, tarball
}

// nfpmRPM writes the nfpm rpm of info (what pack/rpm does) for the parity
// check.
func nfpmRPM(t *testing.T, info *pack.Info) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var contents files.Contents
	for i, c := range info.Contents {
		src := c.Source
		if c.Data != nil {
			src = write("data"+string(rune('a'+i)), c.Data)
		}
		owner, group := c.Owner, c.Group
		if owner == "" {
			owner = "root"
		}
		if group == "" {
			group = "root"
		}
		contents = append(contents, &files.Content{
			Source: src, Destination: c.Destination, Type: string(c.Type),
			FileInfo: &files.ContentFileInfo{Owner: owner, Group: group, Mode: c.Mode, MTime: info.MTime},
		})
	}
	// rpmbuild strips trailing white space from every scriptlet body and
	// nfpm stores bodies verbatim, so the nfpm writer (pack/rpm) must trim
	// them too for `rpm -qp --scripts` to agree.
	script := func(name, body string) string {
		if body == "" {
			return ""
		}
		return write(name, []byte(strings.TrimRight(body, " \t\r\n")))
	}
	ni := &nfpm.Info{
		Name: info.Name, Arch: info.Arch, Platform: "linux", Version: info.Version, Release: Release(info),
		Maintainer: info.Maintainer, Description: info.Description, Vendor: info.Vendor,
		Homepage: info.Homepage, License: info.License, MTime: info.MTime,
		Overridables: nfpm.Overridables{
			Depends: info.Depends, Contents: contents,
			Scripts: nfpm.Scripts{
				PreInstall: script("pre", info.Scripts.PreInstall), PostInstall: script("post", info.Scripts.PostInstall),
				PreRemove: script("preun", info.Scripts.PreRemove), PostRemove: script("postun", info.Scripts.PostRemove),
			},
			RPM: nfpm.RPM{Summary: info.Summary, Group: info.Group, Packager: info.Maintainer,
				Scripts: nfpm.RPMScripts{PostTrans: script("posttrans", info.Scripts.PostTrans)}},
		},
	}
	out := filepath.Join(dir, FileName(info))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := nfpmrpm.DefaultRPM.Package(nfpm.WithDefaults(ni), f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func rpmq(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("rpm", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

const fileQuery = "[%{FILENAMES} %{FILEMODES:octal} %{FILEFLAGS:fflags} %{FILEUSERNAME} %{FILEGROUPNAME}\n]"

func build(t *testing.T, info *pack.Info, tarball string) (string, string, string) {
	t.Helper()
	top := t.TempDir()
	spec, err := Write(info, tarball, top)
	if err != nil {
		t.Fatal(err)
	}
	rpm, srpm, err := Build(context.Background(), top, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return spec, rpm, srpm
}

func TestBuildParityWithNfpm(t *testing.T) {
	info, tarball := fixture(t)
	spec, rpm, srpm := build(t, info, tarball)
	if got, want := filepath.Base(rpm), "backplane-0.26.0acme-1.el8.x86_64.rpm"; got != want {
		t.Errorf("rpm = %s, want %s", got, want)
	}
	if got, want := filepath.Base(srpm), "backplane-0.26.0acme-1.el8.src.rpm"; got != want {
		t.Errorf("srpm = %s, want %s", got, want)
	}
	nf := nfpmRPM(t, info)
	if filepath.Base(nf) != filepath.Base(rpm) {
		t.Errorf("file names differ: nfpm %s, rpmbuild %s", filepath.Base(nf), filepath.Base(rpm))
	}
	for _, q := range [][]string{{"--qf", fileQuery}, {"--scripts"}, {"--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH} %{SUMMARY} %{LICENSE} %{GROUP} %{URL} %{VENDOR} %{PACKAGER}\n"}} {
		a := rpmq(t, append(append([]string{"-qp"}, q...), rpm)...)
		b := rpmq(t, append(append([]string{"-qp"}, q...), nf)...)
		// nfpm (rpmpack) writes symlinks with mode 0120000, rpmbuild with
		// the link's own 0120777; Linux ignores a symlink's permissions and
		// rpm installs both the same, so only the file type is compared.
		a = strings.ReplaceAll(a, " 120777 ", " 120000 ")
		if a != b {
			t.Errorf("rpm -qp %s differs\nrpmbuild:\n%s\nnfpm:\n%s\nspec:\n%s", q, a, b, readFile(t, spec))
		}
	}
	files := rpmq(t, "-qp", "--qf", fileQuery, rpm)
	for _, want := range []string{
		"/etc/acme/backplane/backplane.yaml 100640 cn root daemon",
		"/etc/sysconfig/backplane 100644 c root root",
		"/var/lib/backplane 40750  daemon daemon",
		"/opt/acme/bin/backplane 100755  root root",
	} {
		if !strings.Contains(files, want+"\n") {
			t.Errorf("file list lacks %q:\n%s", want, files)
		}
	}
	scripts := rpmq(t, "-qp", "--scripts", rpm)
	for _, want := range []string{`printf '%s\n' "installed 100%"`, "echo %{not_a_macro} done", "posttrans scriptlet"} {
		if !strings.Contains(scripts, want) {
			t.Errorf("scripts lack %q:\n%s", want, scripts)
		}
	}
	if out := rpmq(t, "-qp", "--requires", rpm); !strings.Contains(out, "bash >= 4.0") || !strings.Contains(out, "systemd") {
		t.Errorf("requires:\n%s", out)
	}
	if out := rpmq(t, "-qpl", srpm); !strings.Contains(out, "backplane-0.26.0acme.tar.gz") || !strings.Contains(out, "backplane.spec") {
		t.Errorf("srpm does not carry the source and spec:\n%s", out)
	}
	for _, p := range []string{rpm, srpm} {
		if out := rpmq(t, "-K", p); !strings.Contains(out, "digests OK") {
			t.Errorf("rpm -K %s: %s", p, out)
		}
	}
	if out := rpmq(t, "-qp", "--qf", "%{BUILDTIME} %{BUILDHOST}\n", rpm); out != "1735689600 packyard\n" {
		t.Errorf("build time/host = %q", out)
	}
	if out := rpmq(t, "-qp", "--changelog", rpm); !strings.Contains(out, "* Wed Jan 01 2025 Backplane Engineering <eng@acme.example> - 0.26.0acme-1.el8\n- Release 0.26.0acme") {
		t.Errorf("changelog:\n%s", out)
	}
	// rpmlint's findings go to the log (the pipeline's verify stage applies
	// the checked-in config); an error-free rpmlint run is not required here.
	if out, err := exec.Command("rpmlint", rpm).CombinedOutput(); err != nil {
		t.Logf("rpmlint %s: %v\n%s", filepath.Base(rpm), err, out)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBuildReproducible(t *testing.T) {
	info, tarball := fixture(t)
	_, rpm1, srpm1 := build(t, info, tarball)
	_, rpm2, srpm2 := build(t, info, tarball)
	for _, pair := range [][2]string{{rpm1, rpm2}, {srpm1, srpm2}} {
		if !bytes.Equal([]byte(readFile(t, pair[0])), []byte(readFile(t, pair[1]))) {
			t.Errorf("%s differs between two builds", filepath.Base(pair[0]))
		}
	}
}

func TestWriteSources(t *testing.T) {
	info, tarball := fixture(t)
	top := t.TempDir()
	spec, err := Write(info, tarball, top)
	if err != nil {
		t.Fatal(err)
	}
	if spec != filepath.Join(top, "SPECS", "backplane.spec") {
		t.Errorf("spec path %s", spec)
	}
	text := readFile(t, spec)
	for _, want := range []string{
		"Source0: backplane-0.26.0acme.tar.gz\n",
		"Source1: backplane.yaml\n",
		"Source2: backplane\n",
		"Source3: opt_acme_bin_backplane\n",
		"Source4: backplane.service\n",
		"Source5: usr_share_doc_backplane_backplane.service\n",
		"tar -xof \"$RPM_SOURCE_DIR/backplane-0.26.0acme.tar.gz\"\ncd 'backplane-0.26.0acme'\n",
		"install -D -m 0755 \"$RPM_SOURCE_DIR/opt_acme_bin_backplane\" \"$RPM_BUILD_ROOT/opt/acme/bin/backplane\"\n",
		"%config(noreplace) %attr(0640,root,daemon) /etc/acme/backplane/backplane.yaml\n",
		"Backplane manages 100%% of the fleet.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("spec lacks %q", want)
		}
	}
	entries, err := os.ReadDir(filepath.Join(top, "SOURCES"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := "backplane,backplane-0.26.0acme.tar.gz,backplane.service,backplane.yaml,opt_acme_bin_backplane,usr_share_doc_backplane_backplane.service"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("SOURCES = %s, want %s", got, want)
	}
	// Writing again gives the same spec: names are stable.
	again, err := Write(info, tarball, top)
	if err != nil {
		t.Fatal(err)
	}
	if readFile(t, again) != text {
		t.Error("a second Write changed the spec")
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*pack.Info, *string)
		want   string
	}{
		{"no name", func(i *pack.Info, _ *string) { i.Name = "" }, "Name: empty"},
		{"dash in version", func(i *pack.Info, _ *string) { i.Version = "1.2-3" }, `Version "1.2-3"`},
		{"no license", func(i *pack.Info, _ *string) { i.License = "" }, "License: empty"},
		{"no mtime", func(i *pack.Info, _ *string) { i.MTime = time.Time{} }, "MTime"},
		{"relative destination", func(i *pack.Info, _ *string) { i.Contents[0].Destination = "opt/x" }, "Contents[opt/x]"},
		{"dotdot destination", func(i *pack.Info, _ *string) { i.Contents[0].Destination = "/opt/../etc/x" }, "Contents[/opt/../etc/x]"},
		{"space in destination", func(i *pack.Info, _ *string) { i.Contents[0].Destination = "/opt/a b" }, "Contents[/opt/a b]"},
		{"duplicate", func(i *pack.Info, _ *string) { i.Contents[1].Destination = i.Contents[0].Destination }, "listed twice"},
		{"missing source", func(i *pack.Info, _ *string) { i.Contents[0].Source = "/nonexistent/bin" }, "/nonexistent/bin"},
		{"unknown type", func(i *pack.Info, _ *string) { i.Contents[0].Type = "ghost" }, `unknown content type "ghost"`},
		{"bad owner", func(i *pack.Info, _ *string) { i.Contents[0].Owner = "root,x" }, `owner/group "root,x"`},
		{"multi-line summary", func(i *pack.Info, _ *string) { i.Summary = "a\nb" }, "Summary"},
		{"bad tarball", func(_ *pack.Info, tb *string) { *tb = *tb + ".zip" }, "not a .tar.gz"},
		{"missing tarball", func(_ *pack.Info, tb *string) { *tb = filepath.Join(filepath.Dir(*tb), "gone-1.tar.gz") }, "gone-1.tar.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, tarball := fixture(t)
			tt.change(info, &tarball)
			top := t.TempDir()
			_, err := Write(info, tarball, top)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write error = %v, want it to mention %s", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(top, "SPECS")); err == nil {
				t.Error("a failed Write created SPECS")
			}
		})
	}
}

func TestBuildArches(t *testing.T) {
	for _, arch := range []string{"aarch64", "noarch"} {
		t.Run(arch, func(t *testing.T) {
			info, tarball := fixture(t)
			info.Arch = arch
			_, rpm, _ := build(t, info, tarball)
			if got, want := filepath.Base(rpm), "backplane-0.26.0acme-1.el8."+arch+".rpm"; got != want {
				t.Errorf("rpm = %s, want %s", got, want)
			}
			if got := rpmq(t, "-qp", "--qf", "%{ARCH}", rpm); got != arch {
				t.Errorf("ARCH = %s", got)
			}
		})
	}
}

// TestWriteCopiesSources checks SOURCES byte for byte and mode for mode:
// file sources are streamed from their path (one larger than any copy
// buffer here), data sources written from memory.
func TestWriteCopiesSources(t *testing.T) {
	info, tarball := fixture(t)
	big := make([]byte, 3<<20+17)
	for i := range big {
		big[i] = byte(i * 7 % 251)
	}
	bigPath := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(bigPath, big, 0o600); err != nil {
		t.Fatal(err)
	}
	info.Contents = append(info.Contents, pack.Content{Type: pack.File, Source: bigPath, Destination: "/usr/share/backplane/big"})
	top := t.TempDir()
	if _, err := Write(info, tarball, top); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want []byte
		mode os.FileMode
	}{
		{"backplane-0.26.0acme.tar.gz", mustRead(t, tarball), 0o644},
		{"opt_acme_bin_backplane", mustRead(t, info.Contents[0].Source), 0o755},
		{"big", big, 0o600},
		{"backplane.yaml", []byte("loglevel: info\n"), 0o644},
		{"usr_share_doc_backplane_backplane.service", []byte("# example\n"), 0o644},
	}
	for _, tt := range tests {
		p := filepath.Join(top, "SOURCES", tt.name)
		got := mustRead(t, p)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("SOURCES/%s: %d bytes differ from the %d of its source", tt.name, len(got), len(tt.want))
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != tt.mode {
			t.Errorf("SOURCES/%s: mode %v, want %v", tt.name, fi.Mode().Perm(), tt.mode)
		}
	}
}

// TestWriteSourceFailsCleanly makes a source's rename fail (a directory
// holds its place) and wants an error naming it and no temporary file.
func TestWriteSourceFailsCleanly(t *testing.T) {
	info, tarball := fixture(t)
	top := t.TempDir()
	blocker := filepath.Join(top, "SOURCES", "opt_acme_bin_backplane")
	if err := os.MkdirAll(filepath.Join(blocker, "occupied"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Write(info, tarball, top)
	if err == nil || !strings.Contains(err.Error(), "opt_acme_bin_backplane") {
		t.Fatalf("Write error = %v, want one naming opt_acme_bin_backplane", err)
	}
	entries, err := os.ReadDir(filepath.Join(top, "SOURCES"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("left %s behind", e.Name())
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
