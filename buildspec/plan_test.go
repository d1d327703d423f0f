package buildspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// planSpec has two flavours; foss has three targets, one of them used by
// no package, and three packages.
const planSpec = `
flags_map:
  Version: example.com/app/build.Version
foss:
  compile_targets:
    defaults:
      output: app-{{version}}-{{os}}-{{arch}}
    64bit_linux: {os: linux, arch: amd64}
    arm64_linux: {os: linux, arch: arm64}
    darwin: {os: darwin, arch: arm64}
  packages:
    defaults: {name: app, release: 1}
    el8_64: {template: el/el8, dist: el8, target_arch: x86_64, binary: 64bit_linux}
    el8_arm64: {template: el/el8, dist: el8, target_arch: aarch64, binary: arm64_linux}
    bookworm_64: {template: debian/generic, target_arch: amd64, binary: 64bit_linux}
other:
  compile_targets:
    linux: {os: linux, arch: amd64}
`

// outputs names package files the way a caller knowing the templates would.
func outputs(p *Package) ([]string, error) {
	v := "1.0.0"
	if strings.HasPrefix(p.Template, "el/") {
		arch := p.Properties["target_arch"]
		return []string{
			fmt.Sprintf("srpm/app-%s-1.%s.src.rpm", v, p.Properties["dist"]),
			fmt.Sprintf("rpm/app-%s-1.%s.%s.rpm", v, p.Properties["dist"], arch),
		}, nil
	}
	return []string{fmt.Sprintf("deb/app_%s-1_%s.deb", v, p.Properties["target_arch"])}, nil
}

func loadPlanSpec(t testing.TB) *Spec {
	t.Helper()
	spec, err := Parse("/src/app/packager/buildspec.yaml", []byte(planSpec))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestPlan(t *testing.T) {
	tarball := "app-1.0.0.tar.gz"
	binLinux := "binaries/app-1.0.0-linux-amd64"
	binArm := "binaries/app-1.0.0-linux-arm64"
	binDarwin := "binaries/app-1.0.0-darwin-arm64"
	rpm64 := "rpm/app-1.0.0-1.el8.x86_64.rpm"
	srpm := "srpm/app-1.0.0-1.el8.src.rpm"

	tests := []struct {
		name     string
		opts     PlanOptions
		want     []Stage
		wantText []string // lines WriteText must print
	}{
		{
			name: "one package selects its target only",
			opts: PlanOptions{Version: "1.0.0", Packages: []string{"el8_64"}, PackageOutputs: outputs},
			want: []Stage{
				{ID: "source", Kind: "source", Inputs: []string{}, Outputs: []string{tarball}, Needs: []string{}},
				{ID: "codegen", Kind: "codegen", Inputs: []string{tarball}, Outputs: []string{}, Needs: []string{"source"}},
				{ID: "compile/64bit_linux", Kind: "compile", Target: "64bit_linux", Inputs: []string{tarball},
					Outputs: []string{binLinux}, Needs: []string{"codegen"}},
				{ID: "package/el8_64", Kind: "package", Package: "el8_64", Inputs: []string{binLinux, tarball},
					Outputs: []string{rpm64, srpm}, Needs: []string{"compile/64bit_linux", "source"}},
				{ID: "checksums", Kind: "checksums", Inputs: []string{tarball, binLinux, rpm64, srpm},
					Outputs: []string{"SHA256SUMS", "manifest.json"}, Needs: []string{"source", "compile/64bit_linux", "package/el8_64"}},
				{ID: "verify", Kind: "verify", Inputs: []string{rpm64, srpm, "SHA256SUMS", "manifest.json"},
					Outputs: []string{}, Needs: []string{"checksums"}},
			},
			wantText: []string{
				"plan: app 1.0.0, flavour foss, 6 stages",
				"compile/64bit_linux (compile)",
				"  out   " + binLinux,
				"  needs compile/64bit_linux",
			},
		},
		{
			name: "two packages of one target, signed, no outputs callback",
			opts: PlanOptions{Version: "1.0.0", Packages: []string{"bookworm_64", "el8_64", "el8_64"}, Sign: true},
			want: []Stage{
				{ID: "source", Kind: "source", Inputs: []string{}, Outputs: []string{tarball}, Needs: []string{}},
				{ID: "codegen", Kind: "codegen", Inputs: []string{tarball}, Outputs: []string{}, Needs: []string{"source"}},
				{ID: "compile/64bit_linux", Kind: "compile", Target: "64bit_linux", Inputs: []string{tarball},
					Outputs: []string{binLinux}, Needs: []string{"codegen"}},
				{ID: "package/bookworm_64", Kind: "package", Package: "bookworm_64", Inputs: []string{binLinux, tarball},
					Outputs: []string{}, Needs: []string{"compile/64bit_linux", "source"}},
				{ID: "package/el8_64", Kind: "package", Package: "el8_64", Inputs: []string{binLinux, tarball},
					Outputs: []string{}, Needs: []string{"compile/64bit_linux", "source"}},
				{ID: "checksums", Kind: "checksums", Inputs: []string{tarball, binLinux},
					Outputs: []string{"SHA256SUMS", "SHA256SUMS.asc", "manifest.json"},
					Needs:   []string{"source", "compile/64bit_linux", "package/bookworm_64", "package/el8_64"}},
				{ID: "verify", Kind: "verify", Inputs: []string{"SHA256SUMS", "SHA256SUMS.asc", "manifest.json"},
					Outputs: []string{}, Needs: []string{"checksums"}},
			},
		},
		{
			name: "everything: all targets, also those no package uses",
			opts: PlanOptions{Version: "1.0.0", PackageOutputs: func(p *Package) ([]string, error) {
				if p.Name == "el8_64" {
					return []string{srpm, rpm64}, nil
				}
				return []string{"deb/" + p.Name + ".deb"}, nil
			}},
			want: []Stage{
				{ID: "source", Kind: "source", Inputs: []string{}, Outputs: []string{tarball}, Needs: []string{}},
				{ID: "codegen", Kind: "codegen", Inputs: []string{tarball}, Outputs: []string{}, Needs: []string{"source"}},
				{ID: "compile/64bit_linux", Kind: "compile", Target: "64bit_linux", Inputs: []string{tarball},
					Outputs: []string{binLinux}, Needs: []string{"codegen"}},
				{ID: "compile/arm64_linux", Kind: "compile", Target: "arm64_linux", Inputs: []string{tarball},
					Outputs: []string{binArm}, Needs: []string{"codegen"}},
				{ID: "compile/darwin", Kind: "compile", Target: "darwin", Inputs: []string{tarball},
					Outputs: []string{binDarwin}, Needs: []string{"codegen"}},
				{ID: "package/bookworm_64", Kind: "package", Package: "bookworm_64", Inputs: []string{binLinux, tarball},
					Outputs: []string{"deb/bookworm_64.deb"}, Needs: []string{"compile/64bit_linux", "source"}},
				{ID: "package/el8_64", Kind: "package", Package: "el8_64", Inputs: []string{binLinux, tarball},
					Outputs: []string{rpm64, srpm}, Needs: []string{"compile/64bit_linux", "source"}},
				{ID: "package/el8_arm64", Kind: "package", Package: "el8_arm64", Inputs: []string{binArm, tarball},
					Outputs: []string{"deb/el8_arm64.deb"}, Needs: []string{"compile/arm64_linux", "source"}},
				{ID: "checksums", Kind: "checksums",
					Inputs:  []string{tarball, binDarwin, binLinux, binArm, "deb/bookworm_64.deb", "deb/el8_arm64.deb", rpm64, srpm},
					Outputs: []string{"SHA256SUMS", "manifest.json"},
					Needs: []string{"source", "compile/64bit_linux", "compile/arm64_linux", "compile/darwin",
						"package/bookworm_64", "package/el8_64", "package/el8_arm64"}},
				{ID: "verify", Kind: "verify", Inputs: []string{"deb/bookworm_64.deb", "deb/el8_arm64.deb", rpm64, srpm,
					"SHA256SUMS", "manifest.json"}, Outputs: []string{}, Needs: []string{"checksums"}},
			},
		},
	}
	spec := loadPlanSpec(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := NewPlan(spec, "foss", tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Flavour != "foss" || plan.Product != "app" || plan.Version != "1.0.0" {
				t.Errorf("plan %s/%s/%s", plan.Flavour, plan.Product, plan.Version)
			}
			if !reflect.DeepEqual(plan.Stages, tt.want) {
				t.Errorf("stages:\n got %s\nwant %s", dump(plan.Stages), dump(tt.want))
			}
			checkOrder(t, plan)
			var buf bytes.Buffer
			if err := plan.WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(buf.String(), "\n")
			for _, want := range tt.wantText {
				if !contains(lines, want) {
					t.Errorf("WriteText lacks line %q:\n%s", want, buf.String())
				}
			}
			for _, s := range plan.Stages {
				if !contains(lines, s.ID+" ("+s.Kind+")") {
					t.Errorf("WriteText lacks stage %s:\n%s", s.ID, buf.String())
				}
			}
		})
	}
}

// checkOrder asserts that every stage comes after the stages it needs
// and that kinds run in the order source, codegen, compile, package,
// checksums, verify.
func checkOrder(t *testing.T, plan *Plan) {
	t.Helper()
	kinds := []string{KindSource, KindCodegen, KindCompile, KindPackage, KindChecksums, KindVerify}
	seen := map[string]bool{}
	last := 0
	for _, s := range plan.Stages {
		for _, n := range s.Needs {
			if !seen[n] {
				t.Errorf("stage %s needs %s, which is not before it", s.ID, n)
			}
		}
		seen[s.ID] = true
		k := 0
		for i, kind := range kinds {
			if kind == s.Kind {
				k = i
			}
		}
		if k < last {
			t.Errorf("stage %s (%s) after a %s stage", s.ID, s.Kind, kinds[last])
		}
		last = k
	}
}

func TestPlanJSON(t *testing.T) {
	plan, err := NewPlan(loadPlanSpec(t), "other", PlanOptions{Version: "2.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"flavour":"other"`, `"product":"app"`, `"version":"2.0.0"`,
		`{"id":"source","kind":"source","inputs":[],"outputs":["app-2.0.0.tar.gz"],"needs":[]}`,
		`{"id":"compile/linux","kind":"compile","target":"linux","inputs":["app-2.0.0.tar.gz"],"outputs":["binaries/app-2.0.0-linux-amd64"],"needs":["codegen"]}`,
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var back Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, plan) {
		t.Errorf("JSON round trip changed the plan:\n got %s\nwant %s", dump(&back), dump(plan))
	}
}

func TestPlanErrors(t *testing.T) {
	spec := loadPlanSpec(t)
	tests := []struct {
		name    string
		flavour string
		opts    PlanOptions
		config  bool // a *ConfigError
		want    string
	}{
		{"unknown flavour", "acme", PlanOptions{Version: "1"}, true,
			`/src/app/packager/buildspec.yaml: no flavour "acme"; the spec has "foss", "other"`},
		{"unknown package", "foss", PlanOptions{Version: "1", Packages: []string{"el8_64", "el9_64"}}, true,
			`/src/app/packager/buildspec.yaml: packages: no package "el9_64" in flavour foss; it has "bookworm_64", "el8_64", "el8_arm64" (did you mean "el8_64"?)`},
		{"package of a flavour without packages", "other", PlanOptions{Version: "1", Packages: []string{"x"}}, true,
			`/src/app/packager/buildspec.yaml: packages: no package "x": flavour other has no packages`},
		{"no version", "foss", PlanOptions{}, true, `version: "" is not a usable version`},
		{"version with a slash", "foss", PlanOptions{Version: "1/2"}, true, `version: "1/2" is not a usable version`},
		{"outputs callback fails", "foss", PlanOptions{Version: "1", PackageOutputs: func(*Package) ([]string, error) {
			return nil, errors.New("no template el/el8")
		}}, false, "plan: package bookworm_64 outputs: no template el/el8"},
		{"output outside dist", "foss", PlanOptions{Version: "1", PackageOutputs: func(*Package) ([]string, error) {
			return []string{"../x.rpm"}, nil
		}}, false, `plan: package bookworm_64 output "../x.rpm": want a clean path inside dist/`},
		{"two packages, one file", "foss", PlanOptions{Version: "1", PackageOutputs: outputs}, true,
			`/src/app/packager/buildspec.yaml:14:5: foss.packages.el8_arm64: writes srpm/app-1.0.0-1.el8.src.rpm, as package/el8_64 does already`},
		{"package overwrites a binary", "foss", PlanOptions{Version: "1", PackageOutputs: func(*Package) ([]string, error) {
			return []string{"binaries/app-1-linux-amd64"}, nil
		}}, true, `/src/app/packager/buildspec.yaml:15:5: foss.packages.bookworm_64: writes binaries/app-1-linux-amd64, as compile/64bit_linux does already`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewPlan(spec, tt.flavour, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("got  %s\nwant %s", err, tt.want)
			}
			var ce *ConfigError
			if errors.As(err, &ce) != tt.config {
				t.Errorf("errors.As(*ConfigError) = %v, want %v", !tt.config, tt.config)
			}
		})
	}
}

// genSpec writes a spec with the given numbers of compile targets and
// packages, the packages spread over the targets.
func genSpec(targets, packages int) []byte {
	var b strings.Builder
	b.WriteString("flags_map:\n  Version: example.com/app/build.Version\n  JWT: example.com/app/build.JWT\n")
	b.WriteString("foss:\n  compile_targets:\n    defaults:\n      flags: {JWT: /etc/app/jwt}\n      pre: [go generate]\n")
	for i := range targets {
		fmt.Fprintf(&b, "    t%03d: {os: linux, arch: amd64, output: 'app-{{version}}-t%03d-{{os}}-{{arch}}'}\n", i, i)
	}
	b.WriteString("  packages:\n    defaults: {name: app, release: 1, bindir: /usr/bin}\n")
	for i := range packages {
		fmt.Fprintf(&b, "    p%03d: {template: el/el8, dist: el8, target_arch: x86_64, binary: t%03d}\n", i, i%targets)
	}
	return []byte(b.String())
}

func TestGeneratedSpec(t *testing.T) {
	spec, err := Parse("/src/app/packager/buildspec.yaml", genSpec(50, 200))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := NewPlan(spec, "foss", PlanOptions{Version: "1", PackageOutputs: func(p *Package) ([]string, error) {
		return []string{"rpm/" + p.Name + ".rpm"}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	// source, codegen, 50 compiles, 200 packages, checksums, verify.
	if got := len(plan.Stages); got != 254 {
		t.Errorf("%d stages, want 254", got)
	}
	checkOrder(t, plan)
}

// BenchmarkPlan parses a spec of 50 compile targets and 200 packages and
// plans it.
func BenchmarkPlan(b *testing.B) {
	data := genSpec(50, 200)
	outs := func(p *Package) ([]string, error) {
		return []string{"rpm/" + p.Name + ".rpm", "srpm/" + p.Name + ".src.rpm"}, nil
	}
	b.Run("parse", func(b *testing.B) {
		for b.Loop() {
			if _, err := Parse("/src/app/packager/buildspec.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	spec, err := Parse("/src/app/packager/buildspec.yaml", data)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("plan", func(b *testing.B) {
		for b.Loop() {
			if _, err := NewPlan(spec, "foss", PlanOptions{Version: "1.0.0", PackageOutputs: outs}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
