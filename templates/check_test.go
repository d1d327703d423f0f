package templates

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packyard/packyard/buildspec"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.err from the current messages (review the diff!)")

// TestCheckSpecBad checks every spec of testdata/bad against the embedded
// templates: each is a *buildspec.ConfigError at the key, compared with
// the sibling .err file.
func TestCheckSpecBad(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			spec, err := buildspec.Load(file)
			if err != nil {
				t.Fatalf("the spec itself is wrong: %v", err)
			}
			err = CheckSpec("", spec)
			var ce *buildspec.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *buildspec.ConfigError", err, err)
			}
			if ce.Line == 0 || ce.Col == 0 {
				t.Errorf("no position: %v", err)
			}
			errFile := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(errFile, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err2 := os.ReadFile(errFile)
			if err2 != nil {
				t.Fatal(err2)
			}
			if got := err.Error(); got != strings.TrimSpace(string(want)) {
				t.Errorf("error\n got: %s\nwant: %s", got, strings.TrimSpace(string(want)))
			}
		})
	}
}

// TestCheckSpecGood accepts the specs Packyard ships and a project
// template that reads a property of its own.
func TestCheckSpecGood(t *testing.T) {
	for _, file := range []string{
		"../packager/buildspec.yaml",
		"../examples/backplane/packager/buildspec.yaml",
		"../buildspec/testdata/good/backplane/packager/buildspec.yaml",
	} {
		spec, err := buildspec.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckSpec(filepath.Dir(filepath.Dir(file)), spec); err != nil {
			t.Errorf("%s: %v", file, err)
		}
	}
	dir := project(t, map[string]string{
		"el/global/server.conf": "loglevel = {{cpkg_log_level}}\n",
	})
	spec, err := buildspec.Parse(filepath.Join(dir, "packager/buildspec.yaml"), []byte(`
foss:
  compile_targets:
    64bit_linux: {os: linux, arch: amd64}
  packages:
    el8_64: {template: el/el8, name: c, bindir: /usr/bin, etcdir: /etc/c, dist: el8, log_level: info, binary: 64bit_linux}
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckSpec(dir, spec); err != nil {
		t.Errorf("project template's property: %v", err)
	}
	if err := CheckSpec("", spec); err == nil || !strings.Contains(err.Error(), `"log_level"`) {
		t.Errorf("without the project's template, log_level is unknown: got %v", err)
	}
}

// TestCheckSpecChoriaFormat checks the properties of a package whose
// template is in Choria's format: what its files read is known, a typo
// is not.
func TestCheckSpecChoriaFormat(t *testing.T) {
	dir := project(t, map[string]string{
		"el/generic/config.yaml": "required_properties: [dist]\nartifacts: ['*.rpm']\n",
		"el/global/build.sh":     "rpmbuild -ta {{cpkg_tarball}} # {{cpkg_server_args}}\n",
	})
	for _, tt := range []struct{ props, want string }{
		{"server_args: --debug", ""},
		{"server_ars: --debug", `foss.packages.el8_64.server_ars: unknown property "server_ars": template el/generic does not read it (not required, no default, not used in its files) (did you mean "server_args"?)`},
		{"target_arch: sparc", `foss.packages.el8_64.target_arch: target_arch "sparc"`},
		{"name: '', target_arch: x86_64-linux-gnu", `foss.packages.el8_64.name: template el/generic (Choria's format) needs the name property`},
		{"name: choria, target_arch: ''", `foss.packages.el8_64.target_arch: template el/generic (Choria's format) needs target_arch with a binary`},
	} {
		if !strings.Contains(tt.props, "name:") {
			tt.props = "name: choria, " + tt.props
		}
		if !strings.Contains(tt.props, "target_arch:") {
			tt.props += ", target_arch: x86_64-linux-gnu"
		}
		spec, err := buildspec.Parse(filepath.Join(dir, "packager/buildspec.yaml"), []byte(`
foss:
  compile_targets:
    64bit_linux: {os: linux, arch: amd64}
  packages:
    el8_64: {template: el/generic, dist: el8, `+tt.props+`, binary: 64bit_linux}
`))
		if err != nil {
			t.Fatal(err)
		}
		err = CheckSpec(dir, spec)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.props, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.props, err, tt.want)
		}
	}
}
