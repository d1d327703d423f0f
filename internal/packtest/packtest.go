// Package packtest holds the helpers that the package tests share: the
// rpm and deb writers' tests (pack/rpm, pack/deb) and the CLI's
// acceptance of the example's packages (cmd/packyard). It offers a real
// Go binary to package, running the distro tools, a throwaway root where
// maintainer scripts run under a recording systemctl, a throwaway OpenPGP
// key and the signature checks users run. It is imported by tests only.
package packtest

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/templates"
	"github.com/packyard/packyard/version"
)

// Main builds a small static linux/amd64 Go program into *binary, runs
// the tests and exits with their code. Packaging a real binary lets
// rpmlint and lintian judge what the pipeline ships.
func Main(m *testing.M, binary *string) {
	dir, err := os.MkdirTemp("", "packyard-pack-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*binary, err = GoBinary(dir, "backplane", "linux", "amd64")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// GoBinary builds a program printing "<name> test" for goos/goarch into
// dir/name, statically and reproducibly, and returns its path.
func GoBinary(dir, name, goos, goarch string) (string, error) {
	src := filepath.Join(dir, name+".go")
	prog := fmt.Sprintf("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(%q) }\n", name+" test")
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s/%s: %v: %s", goos, goarch, err, b)
	}
	return out, nil
}

// CommitTime is the commit time of the packages Backplane renders: every
// timestamp in them must be this one.
func CommitTime() time.Time { return time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC) }

// Backplane is the package the writers' tests build: the example's
// backplane server and broker daemons, rendered from one of Packyard's
// own templates with the properties the example's build spec sets.
type Backplane struct {
	// Template names the template, such as el/el8 or debian/generic.
	Template string
	// Format is the format Template must write, such as templates.FormatRPM.
	Format string
	// Arch is the target_arch property: x86_64 for rpm, amd64 for deb.
	Arch string
	// Binary is the program packaged as bindir/backplane (see Main).
	Binary string
}

// Render renders the package at version v, with the project's template
// overrides in projectDir (none when empty) and props overriding the
// default properties; a failure fails the test.
func (b Backplane) Render(t testing.TB, v, projectDir string, props map[string]string) *pack.Info {
	t.Helper()
	p := map[string]string{
		"name": "backplane", "bindir": "/opt/acme/bin", "etcdir": "/etc/acme/backplane",
		"release": "1", "target_arch": b.Arch, "contact": "Backplane Engineering <eng@acme.example>",
		"display_name": "Backplane",
	}
	maps.Copy(p, props)
	r, err := templates.Render(templates.Input{
		ProjectDir: projectDir,
		Package:    &buildspec.Package{Name: "backplane_64", Template: b.Template, Binary: "64bit_linux", Properties: p},
		Product:    "backplane",
		Version:    version.Version{Product: v, RPM: v, Deb: v, Commit: "9eca1d2", Time: CommitTime()},
		Binary:     b.Binary,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != b.Format {
		t.Fatalf("%s writes %s, want %s", b.Template, r.Format, b.Format)
	}
	return r.Info
}

// ProjectOverride makes a project whose packager/templates/<dir>/<name>
// holds content, overriding that file of the embedded templates, and
// returns the project's directory. Upgrade tests use it to ship a new
// config file.
func ProjectOverride(t testing.TB, dir, name, content string) string {
	t.Helper()
	project := t.TempDir()
	over := filepath.Join(project, templates.ProjectDir, dir, name)
	if err := os.MkdirAll(filepath.Dir(over), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(over, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return project
}

// Write writes info with p into dir under p's file name and returns the
// file's path; a failure fails the test.
func Write(t testing.TB, p pack.Packager, info *pack.Info, dir string) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.Package(info, &b); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, p.FileName(info))
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// A BadInfo is a broken pack.Info that a writer must refuse.
type BadInfo struct {
	Name string
	// Edit breaks a copy of a good Info.
	Edit func(*pack.Info)
	// Want is a part of the error the writer must return.
	Want string
}

// CheckBadInfo checks that p refuses each case, applied to a copy of
// good, with an error holding its Want. The cases every writer shares
// (no MTime, a missing source file, an unknown content type) run first.
func CheckBadInfo(t *testing.T, p pack.Packager, good pack.Info, cases ...BadInfo) {
	t.Helper()
	shared := []BadInfo{
		{"no mtime", func(i *pack.Info) { i.MTime = time.Time{} }, "no MTime"},
		{"missing source", func(i *pack.Info) {
			i.Contents = []pack.Content{{Type: pack.File, Source: "/nonexistent/x", Destination: "/usr/bin/x"}}
		}, "/usr/bin/x"},
		{"bad type", func(i *pack.Info) {
			i.Contents = []pack.Content{{Type: "ghost", Destination: "/x"}}
		}, `unknown content type "ghost"`},
	}
	for _, tt := range append(shared, cases...) {
		t.Run(tt.Name, func(t *testing.T) {
			info := good
			tt.Edit(&info)
			err := p.Package(&info, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.Want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.Want)
			}
		})
	}
}

// CheckReproducible fails the test unless p writes byte-identical
// packages of two Infos that render makes.
func CheckReproducible(t testing.TB, p pack.Packager, render func() *pack.Info) {
	t.Helper()
	var a, b bytes.Buffer
	if err := p.Package(render(), &a); err != nil {
		t.Fatal(err)
	}
	if err := p.Package(render(), &b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two builds of the same Info differ")
	}
}
