package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packyard/packyard/buildspec"
)

const testSpec = `flags_map:
  Version: example.org/acme/build.Version
  SHA: example.org/acme/build.SHA
  BuildTime: example.org/acme/build.BuildDate
acme:
  compile_targets:
    defaults:
      output: backplane-{{version}}-{{os}}-{{arch}}
    64bit_linux: {os: linux, arch: amd64}
    arm64_linux: {os: linux, arch: arm64}
    armv7_linux: {os: linux, arch: arm, arm: "7"}
    64bit_darwin: {os: darwin, arch: arm64}
  packages:
    defaults: {name: backplane, display_name: Backplane, bindir: /opt/acme/bin, etcdir: /etc/acme/backplane,
               release: 1, manage_conf: 1, manage_server_preset: 0, contact: "Eng <eng@acme.example>",
               rpm_group: System Environment/Base}
    el8_64: {template: el/el8, dist: el8, target_arch: x86_64, binary: 64bit_linux}
    el9_arm: {template: el/el9, target_arch: aarch64, binary: arm64_linux}
    deb_64: {template: debian/generic, target_arch: amd64, binary: 64bit_linux}
`

func testFlavour(t *testing.T) *buildspec.Flavour {
	t.Helper()
	fl, err := specFlavour("/work/acme/packager/buildspec.yaml", []byte(testSpec), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return fl
}

var testImages = images{Go: "golang:1.26", EL8: "almalinux:8", EL9: "almalinux:9", Deb: "debian:bookworm"}

// embeddedFormat answers with the embedded templates, as the module does
// for a project without its own.
var embeddedFormat = projectKinds("")

func TestMatrix(t *testing.T) {
	fl := testFlavour(t)
	tests := []struct {
		name     string
		packages []string
		targets  []string
		jobs     []string // name format image target
	}{
		// Every target, shipped or not, as packyard build's plan has it.
		{"all packages", nil, []string{"64bit_darwin", "64bit_linux", "arm64_linux", "armv7_linux"}, []string{
			"deb_64 deb debian:bookworm 64bit_linux",
			"el8_64 rpm almalinux:8 64bit_linux",
			"el9_arm rpm almalinux:9 arm64_linux",
		}},
		{"subset needs only its target", []string{"el9_arm"}, []string{"arm64_linux"}, []string{
			"el9_arm rpm almalinux:9 arm64_linux",
		}},
		{"shared target compiled once", []string{"el8_64,deb_64"}, []string{"64bit_linux"}, []string{
			"deb_64 deb debian:bookworm 64bit_linux",
			"el8_64 rpm almalinux:8 64bit_linux",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newMatrix(fl, tt.packages, testImages, embeddedFormat)
			if err != nil {
				t.Fatal(err)
			}
			var targets, jobs []string
			for _, c := range m.Targets {
				targets = append(targets, c.Name)
			}
			for _, j := range m.Jobs {
				jobs = append(jobs, fmt.Sprintf("%s %s %s %s", j.Package.Name, j.Format, j.Image, j.Target.Name))
			}
			if !slices.Equal(targets, tt.targets) {
				t.Errorf("targets %q, want %q", targets, tt.targets)
			}
			if !slices.Equal(jobs, tt.jobs) {
				t.Errorf("jobs\n got %q\nwant %q", jobs, tt.jobs)
			}
		})
	}
}

func TestMatrixErrors(t *testing.T) {
	fl := testFlavour(t)
	tests := []struct {
		name     string
		packages []string
		formatOf func(string) (templateKind, error)
		err      string
	}{
		{"unknown package", []string{"el7_64"}, embeddedFormat, `package "el7_64": not in flavour acme (it has deb_64, el8_64, el9_arm)`},
		{"unknown format", []string{"deb_64"}, func(string) (templateKind, error) { return templateKind{Format: "msi"}, nil }, `package deb_64: template debian/generic: unknown format "msi"`},
		{"template error", []string{"deb_64"}, func(string) (templateKind, error) { return templateKind{}, fmt.Errorf("no such template") }, "package deb_64: template debian/generic: no such template"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newMatrix(fl, tt.packages, testImages, tt.formatOf)
			if err == nil || err.Error() != tt.err {
				t.Fatalf("error %v, want %q", err, tt.err)
			}
		})
	}
}

func TestImageFor(t *testing.T) {
	pkg := func(tmpl string, props map[string]string) *buildspec.Package {
		return &buildspec.Package{Name: "p", Template: tmpl, Properties: props}
	}
	tests := []struct {
		name, format string
		pkg          *buildspec.Package
		want, err    string
	}{
		{"el8 from dist", formatRPM, pkg("el/custom", map[string]string{"dist": "el8"}), "almalinux:8", ""},
		{"el9 from template name", formatRPM, pkg("el/el9", nil), "almalinux:9", ""},
		{"dist wins over template", formatRPM, pkg("el/el9", map[string]string{"dist": "el8"}), "almalinux:8", ""},
		{"el7 has no image", formatRPM, pkg("el/el7", nil), "", `package p: dist "el7": no image for it (the module knows el8 and el9)`},
		{"deb", formatDeb, pkg("debian/generic", nil), "debian:bookworm", ""},
		{"rpkg in the tool image", formatRpkg, pkg("rudder/plugin", nil), "golang:1.26", ""},
		{"tar", formatTar, pkg("tarball/basic", nil), "golang:1.26", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := imageFor(job{Package: tt.pkg, Format: tt.format}, testImages)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestSelectTargets(t *testing.T) {
	fl := testFlavour(t)
	all, err := selectTargets(fl, nil)
	if err != nil || len(all) != 4 {
		t.Fatalf("all targets: %d, %v", len(all), err)
	}
	got, err := selectTargets(fl, []string{"arm64_linux", "64bit_linux"})
	if err != nil || len(got) != 2 || got[0].Name != "64bit_linux" || got[1].Name != "arm64_linux" {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := selectTargets(fl, []string{"64bit_windows"}); err == nil || !strings.Contains(err.Error(), `compile target "64bit_windows": not in flavour acme`) {
		t.Fatalf("error %v", err)
	}
}

func TestImageTarget(t *testing.T) {
	fl := testFlavour(t)
	tests := []struct{ name, want, platform, err string }{
		{"", "64bit_linux", "linux/amd64", ""},
		{"armv7_linux", "armv7_linux", "linux/arm/v7", ""},
		{"arm64_linux", "arm64_linux", "linux/arm64", ""},
		{"64bit_darwin", "", "", "compile target 64bit_darwin: builds for darwin; an image needs a linux target"},
		{"nope", "", "", `compile target "nope": not in flavour acme`},
	}
	for _, tt := range tests {
		got, err := imageTarget(fl, tt.name)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("imageTarget(%q) error %v, want %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || got.Name != tt.want || platformOf(got) != tt.platform {
			t.Errorf("imageTarget(%q) = %v, %v; want %s on %s", tt.name, got, err, tt.want, tt.platform)
		}
	}
	darwinOnly := &buildspec.Flavour{Name: "mac", CompileTargets: []*buildspec.CompileTarget{{Name: "m", OS: "darwin", Arch: "arm64"}}}
	if _, err := imageTarget(darwinOnly, ""); err == nil {
		t.Error("a flavour without linux targets gave an image target")
	}
}

func TestArtifactGlob(t *testing.T) {
	fl := testFlavour(t)
	m, err := newMatrix(fl, nil, testImages, embeddedFormat)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"deb_64":  "deb/backplane_*.deb",
		"el8_64":  "rpm/backplane-*.el8.x86_64.rpm",
		"el9_arm": "rpm/backplane-*.el9.aarch64.rpm",
	}
	for _, j := range m.Jobs {
		got, err := artifactGlob(j)
		if err != nil || got != want[j.Package.Name] {
			t.Errorf("%s: %q, %v; want %q", j.Package.Name, got, err, want[j.Package.Name])
		}
		// The glob must match the file name the design gives the package.
		names := map[string]string{
			"deb_64":  "deb/backplane_0.26.0acme-1_amd64.deb",
			"el8_64":  "rpm/backplane-0.26.0acme-1.el8.x86_64.rpm",
			"el9_arm": "rpm/backplane-0.26.0acme-1.el9.aarch64.rpm",
		}
		if ok, _ := filepath.Match(got, names[j.Package.Name]); !ok {
			t.Errorf("%s: %q does not match %s", j.Package.Name, got, names[j.Package.Name])
		}
		bin, err := installedBinary(j.Package)
		if err != nil || bin != "/opt/acme/bin/backplane" {
			t.Errorf("%s: binary %q, %v", j.Package.Name, bin, err)
		}
	}
}

// TestExampleSpec plans the repository's example for every flavour: each
// package must get a format and an image.
func TestExampleSpec(t *testing.T) {
	file := filepath.Join(repoRoot(t), "examples/backplane/packager/buildspec.yaml")
	spec, err := buildspec.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	project := filepath.Dir(filepath.Dir(file))
	for name, fl := range spec.Flavours {
		m, err := newMatrix(fl, nil, testImages, projectKinds(project))
		if err != nil {
			t.Errorf("flavour %s: %v", name, err)
			continue
		}
		if len(m.Jobs) == 0 {
			t.Errorf("flavour %s: no packages", name)
		}
		for _, j := range m.Jobs {
			if j.Image == "" || j.Format == "" {
				t.Errorf("flavour %s package %s: format %q image %q", name, j.Package.Name, j.Format, j.Image)
			}
		}
	}
}

// TestChoriaFormatJobs reads the Choria-format fixture: its packages are
// Choria jobs of their family's format, each in its distribution's image
// (el/generic's from its dist property).
func TestChoriaFormatJobs(t *testing.T) {
	project := filepath.Join(repoRoot(t), "cmd/packyard/testdata/choria-templates")
	spec, err := buildspec.Load(filepath.Join(project, "packager/buildspec.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fl, err := spec.Flavour("foss")
	if err != nil {
		t.Fatal(err)
	}
	m, err := newMatrix(fl, nil, testImages, projectKinds(project))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range m.Jobs {
		got = append(got, fmt.Sprintf("%s %s choria=%v %s", j.Package.Name, j.Format, j.Choria, j.Image))
	}
	want := []string{"bookworm_64 deb choria=true debian:bookworm", "el8_64 rpm choria=true almalinux:8"}
	if !slices.Equal(got, want) {
		t.Errorf("jobs\n got %q\nwant %q", got, want)
	}
	// Beside Choria's el/global, Packyard's own el templates are refused,
	// never mixed with its files; elsewhere they are no Choria jobs.
	if _, err := projectKinds(project)("el/el9"); err == nil || !strings.Contains(err.Error(), "in Choria's format") {
		t.Errorf("el/el9 beside Choria's el/global: %v", err)
	}
	if k, err := projectKinds("")("el/el9"); err != nil || k.Choria || k.Format != formatRPM {
		t.Errorf("embedded el/el9: %+v, %v", k, err)
	}
}
