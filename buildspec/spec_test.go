package buildspec

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestLoadAcme loads the example of design.md and checks every merged value.
func TestLoadAcme(t *testing.T) {
	file := "testdata/good/backplane/packager/buildspec.yaml"
	spec, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	wantFlags := map[string]string{
		"Version":          "github.com/acme/backplane/build.Version",
		"SHA":              "github.com/acme/backplane/build.SHA",
		"BuildTime":        "github.com/acme/backplane/build.BuildDate",
		"ProvisionJWTFile": "github.com/acme/backplane/build.ProvisionJWTFile",
	}
	if !reflect.DeepEqual(spec.FlagsMap, wantFlags) {
		t.Errorf("FlagsMap = %v, want %v", spec.FlagsMap, wantFlags)
	}
	if spec.File != file || len(spec.Flavours) != 1 {
		t.Fatalf("File %q, %d flavours", spec.File, len(spec.Flavours))
	}
	fl, err := spec.Flavour("acme")
	if err != nil {
		t.Fatal(err)
	}
	takeLines(t, fl)
	want := &Flavour{
		Name:    "acme",
		Product: "backplane",
		CompileTargets: []*CompileTarget{{
			Name:    "64bit_linux",
			OS:      "linux",
			Arch:    "amd64",
			AMD64:   "v1",
			Output:  "backplane-{{version}}-{{os}}-{{arch}}",
			Flags:   map[string]string{"ProvisionJWTFile": "/etc/acme/backplane/provisioning.jwt"},
			Pre:     []string{"rm additional_agent_*.go || true", "rm plugin_*.go || true", "go generate --run plugin"},
			Package: ".",
		}},
		Packages: []*Package{{
			Name:     "el8_64",
			Template: "el/el8",
			Binary:   "64bit_linux",
			Properties: map[string]string{
				"name": "backplane", "display_name": "Backplane", "bindir": "/opt/acme/bin",
				"etcdir": "/etc/acme/backplane", "release": "1", "manage_conf": "1",
				"manage_server_preset": "0", "contact": "Backplane Engineering <eng@acme.example>",
				"rpm_group": "System Environment/Base", "dist": "el8", "target_arch": "x86_64",
			},
		}},
	}
	if !reflect.DeepEqual(fl, want) {
		t.Errorf("flavour acme:\n got %s\nwant %s", dump(fl), dump(want))
	}
	if got := fl.CompileTargets[0].OutputName("0.26.0acme"); got != "backplane-0.26.0acme-linux-amd64" {
		t.Errorf("OutputName = %q", got)
	}
}

// TestLoadMerging checks defaults merging on a Choria-style spec: named
// entries win, flags and env merge key by key, null unsets, YAML merge
// keys apply, and the product falls back to the project directory.
func TestLoadMerging(t *testing.T) {
	spec, err := Load("testdata/good/widget/packager/buildspec.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := spec.Flavours[".common"]; ok || len(spec.Flavours) != 1 {
		t.Errorf("flavours %v: want only foss, the hidden .common holds anchors", spec.Flavours)
	}
	fl, err := spec.Flavour("foss")
	if err != nil {
		t.Fatal(err)
	}
	takeLines(t, fl)
	if fl.Product != "widget" {
		t.Errorf("Product = %q, want widget (the project directory)", fl.Product)
	}
	targets := map[string]*CompileTarget{}
	var names []string
	for _, ct := range fl.CompileTargets {
		targets[ct.Name] = ct
		names = append(names, ct.Name)
	}
	if want := []string{"32bit_linux", "64bit_linux", "64bit_windows", "armv6_linux", "armv7_linux"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("targets %v, want sorted %v", names, want)
	}
	defaultFlags := map[string]string{"JWTFile": "/etc/widget/jwt", "Broker": "nats://broker:4222"}
	defaultEnv := []string{"GOFLAGS=-mod=mod", "GOPROXY=off"}
	tests := []struct {
		name string
		want CompileTarget
	}{
		{"64bit_linux", CompileTarget{OS: "linux", Arch: "amd64", AMD64: "v2",
			Output: "widget-{{version}}-{{os}}-{{arch}}"}},
		// arm and amd64 of the defaults apply only to their own arch.
		{"32bit_linux", CompileTarget{OS: "linux", Arch: "386",
			Output: "widget-{{version}}-{{os}}-{{arch}}"}},
		{"armv7_linux", CompileTarget{OS: "linux", Arch: "arm", ARM: "7",
			Output: "widget-{{version}}-{{os}}-{{arch}}v{{arm}}"}},
		{"armv6_linux", CompileTarget{OS: "linux", Arch: "arm", ARM: "6",
			Output: "widget-{{ version }}-{{os}}-{{arch}}v{{arm}}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := tt.want
			w.Name, w.Package, w.Tags, w.Pre = tt.name, ".", []string{"netgo"}, []string{"go generate"}
			w.Flags, w.Env = defaultFlags, defaultEnv
			if got := targets[tt.name]; !reflect.DeepEqual(got, &w) {
				t.Errorf("\n got %s\nwant %s", dump(got), dump(&w))
			}
		})
	}
	win := &CompileTarget{
		Name: "64bit_windows", OS: "windows", Arch: "amd64", AMD64: "v3",
		Output:  "widget-{{version}}-{{os}}-{{arch}}.exe",
		Flags:   map[string]string{"JWTFile": `C:\ProgramData\Widget\jwt`},
		Env:     []string{"CC=x86_64-w64-mingw32-gcc", "GOFLAGS=-mod=mod", "GOPROXY=https://proxy.golang.org"},
		Tags:    []string{"netgo"},
		Post:    []string{"echo done"},
		CGO:     true,
		PIE:     true,
		LDFlags: "-linkmode external",
		Package: "./cmd/widget",
	}
	if got := targets["64bit_windows"]; !reflect.DeepEqual(got, win) {
		t.Errorf("64bit_windows:\n got %s\nwant %s", dump(got), dump(win))
	}

	wantPkgs := []*Package{
		{Name: "buster_armhf", Template: "debian/generic", Binary: "armv7_linux", Properties: map[string]string{
			"release": "2", "manage_conf": "false", "epoch": "1000", "version_suffix": "1.5",
			"target_arch": "arm-linux-gnueabihf"}},
		{Name: "el7_64", Template: "el/el7", Binary: "64bit_linux", Properties: map[string]string{
			"bindir": "/usr/bin", "release": "2", "manage_conf": "true", "epoch": "1000", "version_suffix": "1.5",
			"dist": "el7", "target_arch": "x86_64"}},
	}
	if !reflect.DeepEqual(fl.Packages, wantPkgs) {
		t.Errorf("packages:\n got %s\nwant %s", dump(fl.Packages), dump(wantPkgs))
	}
}

func TestOutputName(t *testing.T) {
	tests := []struct {
		target CompileTarget
		want   string
	}{
		{CompileTarget{Output: "app-{{version}}-{{os}}-{{arch}}", OS: "linux", Arch: "amd64"}, "app-1.2.3-linux-amd64"},
		{CompileTarget{Output: "app-{{ version }}-{{os}}-{{arch}}v{{arm}}", OS: "linux", Arch: "arm", ARM: "7"}, "app-1.2.3-linux-armv7"},
		{CompileTarget{Output: "app-{{version}}-{{os}}-{{arch}}.exe", OS: "windows", Arch: "arm64"}, "app-1.2.3-windows-arm64.exe"},
		{CompileTarget{Output: "app", OS: "linux", Arch: "amd64"}, "app"},
		// A hand-built target without an output is named after itself.
		{CompileTarget{Name: "tool", OS: "darwin", Arch: "arm64"}, "tool-1.2.3-darwin-arm64"},
	}
	for _, tt := range tests {
		if got := tt.target.OutputName("1.2.3"); got != tt.want {
			t.Errorf("OutputName(%q) = %q, want %q", tt.target.Output, got, tt.want)
		}
	}
}

func TestFlavourUnknown(t *testing.T) {
	spec, err := Parse("packager/buildspec.yaml", []byte(`
foss:
  compile_targets: {linux: {os: linux, arch: amd64}}
acme:
  compile_targets: {linux: {os: linux, arch: amd64}}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = spec.Flavour("fos")
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *ConfigError", err)
	}
	want := `packager/buildspec.yaml: no flavour "fos"; the spec has "acme", "foss" (did you mean "foss"?)`
	if err.Error() != want || ce.Line != 0 {
		t.Errorf("got %q (line %d), want %q", err, ce.Line, want)
	}
}

// TestProductName checks where the product name comes from when the
// packages' defaults do not set one.
func TestProductName(t *testing.T) {
	spec := []byte("foss:\n  compile_targets: {linux: {os: linux, arch: amd64}}\n")
	abs, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		want string
	}{
		{"/src/backplane/packager/buildspec.yaml", "backplane"},
		{"examples/backplane/packager/buildspec.yaml", "backplane"},
		// ../.. of a relative path goes up from the working directory.
		{"packager/buildspec.yaml", filepath.Base(abs)},
	}
	for _, tt := range tests {
		s, err := Parse(tt.file, spec)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		fl := s.Flavours["foss"]
		if fl.Product != tt.want {
			t.Errorf("%s: Product = %q, want %q", tt.file, fl.Product, tt.want)
		}
		if got := fl.CompileTargets[0].OutputName("1"); got != tt.want+"-1-linux-amd64" {
			t.Errorf("%s: default output %q", tt.file, got)
		}
	}
	if _, err := Parse("/packager/buildspec.yaml", spec); err == nil || !strings.Contains(err.Error(), "set packages.defaults.name") {
		t.Errorf("spec at the root without a name: got %v, want an error asking for packages.defaults.name", err)
	}
}

// TestConfigErrorFormat checks the message form for every combination of
// known parts.
func TestConfigErrorFormat(t *testing.T) {
	tests := []struct {
		err  ConfigError
		want string
	}{
		{ConfigError{File: "f.yaml", Line: 12, Col: 7, Field: "a.b", Msg: "bad"}, "f.yaml:12:7: a.b: bad"},
		{ConfigError{File: "f.yaml", Line: 3, Msg: "YAML: oops"}, "f.yaml:3: YAML: oops"},
		{ConfigError{File: "f.yaml", Msg: "empty"}, "f.yaml: empty"},
		{ConfigError{Field: "version", Msg: "bad"}, "version: bad"},
		{ConfigError{Line: 2, Col: 1, Msg: "bad"}, "line 2:1: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/nope/packager/buildspec.yaml")
	if err == nil || !strings.Contains(err.Error(), "testdata/nope/packager/buildspec.yaml") {
		t.Errorf("got %v, want an error naming the file", err)
	}
}

func dump(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// takeLines checks that every target and package knows its line in the
// spec, then clears the lines so that the values compare alone.
func takeLines(t *testing.T, fl *Flavour) {
	t.Helper()
	for _, c := range fl.CompileTargets {
		if c.Line < 1 {
			t.Errorf("compile target %s: line %d", c.Name, c.Line)
		}
		c.Line = 0
	}
	for _, p := range fl.Packages {
		if p.Line < 1 {
			t.Errorf("package %s: line %d", p.Name, p.Line)
		}
		p.Line = 0
		p.Keys = nil
	}
}
