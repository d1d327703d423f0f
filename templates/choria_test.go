package templates

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChoriaNames renders Choria's template names with no project
// templates: embedded templates stand in for them, with Choria's
// property names.
func TestChoriaNames(t *testing.T) {
	tests := []struct {
		tmpl   string
		props  map[string]string
		format string
		dist   string
	}{
		{"el/generic", map[string]string{"dist": "el8"}, FormatRPM, "el8"},
		{"el/generic", map[string]string{"dist": "-", "distro": "el9"}, FormatRPM, "el9"},
		{"el/generic", map[string]string{"dist": "el7", "server_start_order": "50", "server_start_runlevels": "-"}, FormatRPM, "el7"},
		{"debian/generic", map[string]string{"distro": "bookworm", "target_arch": "x86_64-linux-gnu"}, FormatDeb, ""},
		{"archive/basic", map[string]string{"format": "tgz"}, FormatTar, ""},
		{"archive/basic", map[string]string{"format": "zip"}, FormatZip, ""},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+"/"+tt.format, func(t *testing.T) {
			r, err := Render(input(tt.tmpl, tt.props))
			if err != nil {
				t.Fatal(err)
			}
			if r.Format != tt.format || r.Info.Dist != tt.dist {
				t.Errorf("format %s dist %q, want %s %q", r.Format, r.Info.Dist, tt.format, tt.dist)
			}
			f, err := FormatOf("", tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Replace(tt.format, FormatZip, FormatTar, 1); f != want {
				t.Errorf("FormatOf = %s, want %s", f, want)
			}
		})
	}
	for _, dist := range []string{"-", "el6"} {
		_, err := Render(input("el/generic", map[string]string{"dist": dist}))
		var ae *AliasError
		if !errors.As(err, &ae) {
			t.Errorf("el/generic with dist %s: %v, want an *AliasError", dist, err)
		}
	}
}

// TestChoriaFormatNotMixed checks that a project template in Choria's own
// format (config.yaml, build.sh) is refused as a whole rather than mixed
// file by file with Packyard's template of the same name.
func TestChoriaFormatNotMixed(t *testing.T) {
	for _, files := range []map[string]string{
		{"el/generic/config.yaml": "required_properties: [dist]\n", "el/global/choria.spec": "Name: {{cpkg_name}}\n"},
		{"el/global/build.sh": "#!/bin/sh\nrpmbuild -ta x\n", "el/global/server.conf": "logfile = /var/log/choria.log\n"},
	} {
		dir := project(t, files)
		_, err := Render(input("el/generic", map[string]string{"dist": "el8"}))
		if err != nil {
			t.Fatal(err) // no project: the embedded stand-in
		}
		in := input("el/generic", map[string]string{"dist": "el8"})
		in.ProjectDir = dir
		_, err = Render(in)
		var cf *ChoriaFormatError
		if !errors.As(err, &cf) {
			t.Errorf("%v: error %v, want a *ChoriaFormatError", files, err)
		}
		if _, err := FormatOf(dir, "el/generic"); !errors.As(err, &cf) {
			t.Errorf("FormatOf: %v, want a *ChoriaFormatError", err)
		}
	}
	// Choria's global files beside a Choria-format template are Choria's
	// too: el/el8 would take them file by file.
	dir := project(t, map[string]string{
		"el/generic/config.yaml": "required_properties: [dist]\n",
		"el/global/server.conf":  "logfile = /var/log/choria.log\n",
	})
	in := input("el/el8", map[string]string{"dist": "el8"})
	in.ProjectDir = dir
	var cf *ChoriaFormatError
	if _, err := Render(in); !errors.As(err, &cf) || !strings.Contains(err.Error(), "el/global") {
		t.Errorf("el/el8 over Choria's el/global: %v, want a *ChoriaFormatError naming el/global", err)
	}

	// A project's own Packyard template of a Choria name wins over the
	// stand-in.
	dir = project(t, map[string]string{"archive/basic/template.yaml": "format: tar\nrequired_properties: [name]\n"})
	if _, err := os.Stat(filepath.Join(dir, ProjectDir, "archive/basic/template.yaml")); err != nil {
		t.Fatal(err)
	}
	in = input("archive/basic", map[string]string{"format": "-"})
	in.ProjectDir = dir
	r, err := Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Info.Contents) != 0 {
		t.Errorf("the project's archive/basic has no contents, got %d entries: the stand-in was used", len(r.Info.Contents))
	}
}
