package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
	}
	for _, f := range []string{formatRPM, formatDeb} {
		s, err := installCheckScript(f, "/pkg/it's.pkg", "/opt/acme/bin/backplane")
		if err != nil {
			t.Fatal(err)
		}
		scripts["install "+f] = s
		if s, err = unitsCheckScript(f, "/pkg/it's.pkg"); err != nil {
			t.Fatal(err)
		}
		scripts["units "+f] = s
	}
	for name, s := range scripts {
		if out, err := exec.Command("sh", "-n", "-c", s).CombinedOutput(); err != nil {
			t.Errorf("%s: sh -n: %v\n%s\n%s", name, err, out, s)
		}
	}
	if _, err := installCheckScript(formatRpkg, "/pkg/x.rpkg", "/x"); err == nil {
		t.Error("installCheckScript accepted rpkg")
	}
	if _, err := unitsCheckScript(formatRpkg, "/pkg/x.rpkg"); err == nil {
		t.Error("unitsCheckScript accepted rpkg")
	}
}

func TestInstallCheckScript(t *testing.T) {
	tests := []struct {
		format string
		want   []string
	}{
		{formatRPM, []string{"dnf install -y /pkg/a.rpm", "rpm -i --nodeps --force-debian /pkg/a.rpm", "/usr/sbin/backplane buildinfo", "rpm -qlp /pkg/a.rpm", "systemd-analyze verify $units", "exit 3"}},
		{formatDeb, []string{"apt-get install -y /pkg/a.rpm", "dpkg-deb --fsys-tarfile /pkg/a.rpm", "/usr/sbin/backplane buildinfo", "systemd-analyze verify $units", "exit 3"}},
	}
	for _, tt := range tests {
		install, err := installCheckScript(tt.format, "/pkg/a.rpm", "/usr/sbin/backplane")
		if err != nil {
			t.Fatal(err)
		}
		units, err := unitsCheckScript(tt.format, "/pkg/a.rpm")
		if err != nil {
			t.Fatal(err)
		}
		s := install + "\n" + units
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
	s, err := unitsCheckScript(formatDeb, deb)
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

	// The whole script, in a PATH without systemd-analyze nor apt-get
	// (the offline Debian image): skipped with its reason, never passed;
	// then with a systemd-analyze: run on both units.
	bin := t.TempDir()
	for _, tool := range []string{"sh", "dpkg-deb", "tar", "sed", "grep"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	run := func() (string, int) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, "sh"), "-ec", s)
		cmd.Env = []string{"PATH=" + bin}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}
	if out, code := run(); code != unitsSkipped || !strings.Contains(out, "cannot verify /usr/lib/systemd/system/backplane.service") {
		t.Errorf("without systemd-analyze: exit %d, want %d:\n%s", code, unitsSkipped, out)
	}
	fake := "#!" + filepath.Join(bin, "sh") + "\necho analyzed \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "systemd-analyze"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, code := run(); code != 0 || !strings.Contains(out, "analyzed verify /usr/lib/systemd/system/backplane.service /usr/lib/systemd/system/backplane.timer") {
		t.Errorf("with systemd-analyze: exit %d:\n%s", code, out)
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
