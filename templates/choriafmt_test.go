package templates

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/version"
)

// choriaVersion is 0.29.0 at 2024-03-01T12:00:00Z, a Friday.
var choriaVersion = version.Version{Product: "0.29.0-rc1", RPM: "0.29.0~rc1", Deb: "0.29.0~rc1", Commit: "abc123", Time: time.Unix(1709294400, 0).In(time.FixedZone("CET", 3600))}

// TestChoriaSubstitute checks the placeholders as Choria's packager
// replaces them: plain text, each {{cpkg_X}} with a value, anything else
// as written.
func TestChoriaSubstitute(t *testing.T) {
	data := map[string]string{"name": "choria", "version": "0.29.0", "weird": "{{cpkg_name}}", "empty": ""}
	for _, tt := range []struct{ in, want string }{
		{"{{cpkg_name}}-{{cpkg_version}}", "choria-0.29.0"},
		{"{{other}} {{ cpkg_name }} {{.name}} {{cpkg_nope}}", "{{other}} {{ cpkg_name }} {{.name}} {{cpkg_nope}}"},
		{"if [ {{cpkg_empty}} ]; then {{- end}}", "if [  ]; then {{- end}}"},
		{"{{cpkg_weird}}", "{{cpkg_name}}"}, // values are not scanned again
		{"{{{cpkg_name}}}", "{choria}"},
		{"no placeholders", "no placeholders"},
	} {
		if got := string(Substitute([]byte(tt.in), data)); got != tt.want {
			t.Errorf("Substitute(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestChoriaData checks the values of Choria's own names, their
// precedence over the properties, and Packyard's additions.
func TestChoriaData(t *testing.T) {
	ct := &ChoriaTemplate{Name: "el/generic", Required: []string{"dist"}}
	target := &buildspec.CompileTarget{Name: "64bit_linux", OS: "Linux", Arch: "amd64"}
	props := map[string]string{
		"name": "choria", "target_arch": "x86_64-linux-gnu", "dist": "el8", "bindir": "/usr/bin",
		"version": "ignored", "tarball": "ignored", "date": "ignored", "os": "mine",
	}
	d, err := ct.ChoriaData(ChoriaInput{
		Package: &buildspec.Package{Name: "el8_64", Template: "el/generic", Properties: props},
		Version: choriaVersion, Target: target, Binary: "choria-0.29.0-rc1-linux-amd64", SourceDir: "/work/src",
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		// Choria's own
		"binary":      "choria-0.29.0-rc1-linux-amd64",
		"version":     "0.29.0-rc1",
		"tarball":     "choria-0.29.0-rc1-linux-x86_64-linux-gnu.tgz",
		"source_dir":  "/work/src",
		"date":        "Fri, 01 Mar 2024 12:00:00 +0000",
		"name":        "choria",
		"target_arch": "x86_64-linux-gnu",
		"dist":        "el8",
		"bindir":      "/usr/bin",
		"os":          "mine", // a property wins over Packyard's additions
		// Packyard's additions
		"rpm_version": "0.29.0~rc1", "deb_version": "0.29.0~rc1",
		"rpm_arch": "x86_64", "deb_arch": "amd64", "arch": "amd64",
		"commit": "abc123", "build_time": "2024-03-01T12:00:00Z",
		"rpm_date": "Fri Mar 01 2024", "deb_date": "Fri, 01 Mar 2024 12:00:00 +0000", "year": "2024",
	} {
		if d[k] != want {
			t.Errorf("cpkg_%s = %q, want %q", k, d[k], want)
		}
	}
	if d["template"] != "el/generic" {
		t.Errorf("cpkg_template = %q", d["template"])
	}
	for _, k := range []string{"release", "distro"} {
		if v, ok := d[k]; ok {
			t.Errorf("cpkg_%s = %q, want it unset (left as written)", k, v)
		}
	}

	// Without a binary: no cpkg_binary, the tarball without OS-ARCH, and
	// no target_arch needed.
	d, err = ct.ChoriaData(ChoriaInput{
		Package: &buildspec.Package{Name: "src", Properties: map[string]string{"name": "choria", "dist": "el8"}},
		Version: choriaVersion, SourceDir: "/work/src",
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d["binary"]; ok || d["tarball"] != "choria-0.29.0-rc1.tgz" {
		t.Errorf("without a binary: binary %q tarball %q", d["binary"], d["tarball"])
	}

	for _, tt := range []struct {
		props  map[string]string
		target *buildspec.CompileTarget
		want   string
	}{
		{map[string]string{"target_arch": "x86_64-linux-gnu", "dist": "el8"}, target, "name"},
		{map[string]string{"name": "choria", "dist": "el8"}, target, "target_arch"},
		{map[string]string{"name": "choria", "target_arch": "x86_64-linux-gnu"}, target, "dist"},
	} {
		_, err := ct.ChoriaData(ChoriaInput{Package: &buildspec.Package{Name: "p", Properties: tt.props}, Version: choriaVersion, Target: tt.target, Binary: "b"})
		var mp *MissingPropertyError
		if !errors.As(err, &mp) || mp.Property != tt.want {
			t.Errorf("%v: error %v, want property %s missing", tt.props, err, tt.want)
		}
	}
}

// TestChoriaLoadAndRender checks that config.yaml is read from the named
// directory only, and that every file of global then of the named
// directory (config.yaml too, as Choria copies it) is rendered.
func TestChoriaLoadAndRender(t *testing.T) {
	dir := project(t, map[string]string{
		"el/global/config.yaml":  "required_properties: [not_set]\nartifacts: ['nothing']\n",
		"el/global/build.sh":     "#!/bin/sh\ntar -tzf {{cpkg_tarball}} # {{shell}}\n",
		"el/global/a/global.txt": "{{cpkg_name}} global",
		"el/global/same.txt":     "global",
		"el/generic/config.yaml": "required_properties: [dist]\nartifacts: '*.rpm'\n",
		"el/generic/same.txt":    "named {{cpkg_dist}}",
	})
	ct, err := LoadChoria(dir, "el/generic")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ct.Required, ",") != "dist" || strings.Join(ct.Artifacts, ",") != "*.rpm" {
		t.Errorf("required %v artifacts %v: want the named directory's only", ct.Required, ct.Artifacts)
	}
	dst := t.TempDir()
	if err := ct.RenderTo(dst, map[string]string{"name": "choria", "dist": "el8", "tarball": "choria-1.tgz"}); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{
		"build.sh":     "#!/bin/sh\ntar -tzf choria-1.tgz # {{shell}}\n",
		"a/global.txt": "choria global",
		"same.txt":     "named el8",
		"config.yaml":  "required_properties: [dist]\nartifacts: '*.rpm'\n",
	} {
		b, err := os.ReadFile(filepath.Join(dst, rel))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q (%v), want %q", rel, b, err, want)
		}
	}

	// Without config.yaml in the named directory, global's is not used.
	dir = project(t, map[string]string{
		"el/global/config.yaml": "artifacts: ['*.rpm']\n",
		"el/global/build.sh":    "true\n",
		"el/generic/spec":       "x",
	})
	if _, err := LoadChoria(dir, "el/generic"); err == nil || !strings.Contains(err.Error(), "no config.yaml in packager/templates/el/generic") {
		t.Errorf("no config.yaml in the named directory: %v", err)
	}
}
