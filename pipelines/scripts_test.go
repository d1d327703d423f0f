package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/rpmspec"
	"github.com/packyard/packyard/pack/tarball"
)

// need skips a test when a real tool it drives is missing.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (ci/install-deps installs it)", tool)
		}
	}
}

func TestShellQuote(t *testing.T) {
	need(t, "sh")
	for _, s := range []string{"", "plain/path-1.0_x.rpm", "with space", "it's", `"$HOME" $(id) ;&|`, "a\nb"} {
		out, err := exec.Command("sh", "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if string(out) != s {
			t.Errorf("shellQuote(%q) round trip gave %q", s, out)
		}
	}
}

// TestScriptsParse runs every generated script through sh -n.
func TestScriptsParse(t *testing.T) {
	need(t, "sh")
	scripts := map[string]string{
		"rpmbuild setup": rpmbuildSetupScript,
		"collect rpms":   collectRPMsScript("/work/top", "/out"),
		"git info":       gitInfoScript("/src"),
	}
	for _, f := range []string{formatRPM, formatDeb} {
		s, err := installCheckScript(f, "/pkg/it's.pkg", "/opt/acme/bin/backplane")
		if err != nil {
			t.Fatal(err)
		}
		scripts["install "+f] = s
	}
	for name, s := range scripts {
		if out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v\n%s\n%s", name, err, out, s)
		}
	}
	if _, err := installCheckScript(formatRpkg, "/pkg/x.rpkg", "/x"); err == nil {
		t.Error("installCheckScript accepted rpkg")
	}
}

func TestInstallCheckScript(t *testing.T) {
	tests := []struct {
		format string
		want   []string
	}{
		{formatRPM, []string{"dnf install -y /pkg/a.rpm", "rpm -i --nodeps --force-debian /pkg/a.rpm", "/usr/sbin/backplane buildinfo", "rpm -qlp /pkg/a.rpm", "systemd-analyze verify $units"}},
		{formatDeb, []string{"apt-get install -y /pkg/a.rpm", "dpkg-deb --fsys-tarfile /pkg/a.rpm", "/usr/sbin/backplane buildinfo", "systemd-analyze verify $units"}},
	}
	for _, tt := range tests {
		s, err := installCheckScript(tt.format, "/pkg/a.rpm", "/usr/sbin/backplane")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(s, w) {
				t.Errorf("%s script lacks %q:\n%s", tt.format, w, s)
			}
		}
	}
}

// TestDebUnitListing runs the deb script's unit listing on a real .deb
// built with dpkg-deb, the part of the check that needs no install.
func TestDebUnitListing(t *testing.T) {
	need(t, "dpkg-deb", "sh", "tar", "grep", "sed")
	root := t.TempDir()
	pkg := filepath.Join(root, "pkg")
	for name, data := range map[string]string{
		"DEBIAN/control": "Package: unit-test\nVersion: 1.0-1\nArchitecture: all\nMaintainer: T <t@example.org>\nDescription: test\n",
		"usr/lib/systemd/system/backplane.service": "[Service]\nExecStart=/bin/true\n",
		"usr/lib/systemd/system/backplane.timer":   "[Timer]\nOnCalendar=daily\n",
		"usr/share/doc/unit-test/copyright":        "x\n",
	} {
		p := filepath.Join(pkg, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deb := filepath.Join(root, "unit-test.deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-b", pkg, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb: %v\n%s", err, out)
	}
	s, err := installCheckScript(formatDeb, deb, "/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	// The listing is the command substitution of the units= line.
	var listing string
	for _, line := range strings.Split(s, "\n") {
		if l, ok := strings.CutPrefix(line, "units=$("); ok {
			listing = strings.TrimSuffix(l, ")")
		}
	}
	out, err := exec.Command("sh", "-c", listing).Output()
	if err != nil {
		t.Fatalf("%s: %v", listing, err)
	}
	got := strings.Fields(string(out))
	want := []string{"/usr/lib/systemd/system/backplane.service", "/usr/lib/systemd/system/backplane.timer"}
	if !slices.Equal(got, want) {
		t.Fatalf("units %q, want %q", got, want)
	}
}

// TestRpmbuildMockStyle runs the argv and the collect script of the rpm
// stage with the real rpmbuild on a minimal top dir, as the EL container
// does, and checks the dist/ layout, the dist tag and the build time.
func TestRpmbuildMockStyle(t *testing.T) {
	need(t, "rpmbuild", "rpm", "sh", "find")
	top := filepath.Join(t.TempDir(), "top")
	out := filepath.Join(t.TempDir(), "out")
	// The top dir as packyard rpmspec writes it: spec and sources.
	release := filepath.Join(t.TempDir(), "unit-test-0.26.0acme.tar.gz")
	var tgz bytes.Buffer
	if err := tarball.Write(&tgz, tarball.Archive{Prefix: "unit-test-0.26.0acme", MTime: time.Unix(1700000000, 0),
		Entries: []tarball.Entry{{Name: "README", Data: []byte("test\n")}}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(release, tgz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	info := &pack.Info{Name: "unit-test", Version: "0.26.0acme", Release: "1", Dist: "el8", Arch: "x86_64",
		Summary: "test", Description: "test", License: "MIT", MTime: time.Unix(1700000000, 0),
		Contents: []pack.Content{{Type: pack.File, Data: []byte("#!/bin/sh\n"), Destination: "/usr/bin/unit-test", Mode: 0o755}}}
	specPath, err := rpmspec.Write(info, release, top)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := filepath.Rel(top, specPath)
	if err != nil {
		t.Fatal(err)
	}
	argv := rpmbuildArgv(top, spec, "x86_64")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1700000000")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%q: %v\n%s", argv, err, b)
	}
	if b, err := exec.Command("sh", "-ec", collectRPMsScript(top, out)).CombinedOutput(); err != nil {
		t.Fatalf("collect: %v\n%s", err, b)
	}
	rpmFile := filepath.Join(out, "rpm", "unit-test-0.26.0acme-1.el8.x86_64.rpm")
	if _, err := os.Stat(filepath.Join(out, "srpm", "unit-test-0.26.0acme-1.el8.src.rpm")); err != nil {
		t.Error(err)
	}
	b, err := exec.Command("rpm", "-qp", "--qf", "%{BUILDTIME} %{BUILDHOST}", rpmFile).Output()
	if err != nil {
		t.Fatalf("rpm -qp %s: %v", rpmFile, err)
	}
	if got := string(b); got != "1700000000 packyard" {
		t.Errorf("build time and host %q, want %q", got, "1700000000 packyard")
	}
}

func TestGitInfo(t *testing.T) {
	need(t, "git", "sh")
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=@1700000000 +0000", "GIT_COMMITTER_DATE=@1700000123 +0000",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org",
			"HOME="+t.TempDir())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %q: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("commit", "-q", "--allow-empty", "-m", "x")
	cmd := exec.Command("sh", "-ec", gitInfoScript(dir))
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	rev, epoch, err := parseGitInfo(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if epoch != 1700000123 || len(rev) != 40 {
		t.Fatalf("rev %q epoch %d, want the commit time 1700000123", rev, epoch)
	}
	for _, bad := range []string{"", "abc", "abc def", "a b c"} {
		if _, _, err := parseGitInfo(bad); err == nil {
			t.Errorf("parseGitInfo(%q) accepted", bad)
		}
	}
}

func TestImageAnnotations(t *testing.T) {
	got := imageAnnotations("0.26.0acme", "9eca", "https://github.com/acme/backplane", 1700000000)
	want := [][2]string{
		{annCreated, "2023-11-14T22:13:20Z"},
		{annRevision, "9eca"},
		{annSource, "https://github.com/acme/backplane"},
		{annVersion, "0.26.0acme"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if got := imageAnnotations("1", "", "", 0); len(got) != 2 {
		t.Fatalf("empty values kept: %q", got)
	}
}
