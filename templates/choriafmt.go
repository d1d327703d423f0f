package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/version"
)

// ChoriaTemplate is a project template in Choria's own format: a
// directory packager/templates/<family>/<name>/ (over <family>/global/)
// holding config.yaml, build.sh and the files build.sh needs (an rpm
// spec, a debian/ tree, units, configs), all rendered with the package's
// properties. It is used whole, never mixed with Packyard's templates.
type ChoriaTemplate struct {
	Name string // family/name
	// Dirs are the template's directories on the host, global first:
	// a file of the named directory replaces global's of the same path.
	Dirs []string
	// Required are the properties the package must set.
	Required []string
	// Artifacts are globs, relative to the directory build.sh runs in,
	// of the files it makes.
	Artifacts []string
}

// choriaConfig is a config.yaml of Choria's format.
type choriaConfig struct {
	RequiredProperties []string `yaml:"required_properties"`
	Artifacts          []string `yaml:"artifacts"`
}

// LoadChoria returns the project's template tmpl when it is in Choria's
// format, or nil when it is not (a Packyard template or none).
func LoadChoria(projectDir, tmpl string) (*ChoriaTemplate, error) {
	err := choriaFormat(projectDir, tmpl)
	var cf *ChoriaFormatError
	if !errors.As(err, &cf) {
		return nil, err
	}
	family, name, _ := strings.Cut(tmpl, "/")
	root := filepath.Join(projectDir, filepath.FromSlash(ProjectDir), family)
	if fi, err := os.Stat(filepath.Join(root, name)); err != nil || !fi.IsDir() {
		// Only Choria's global: no template of that name to run, and
		// Packyard's own would mix with its files.
		return nil, cf
	}
	ct := &ChoriaTemplate{Name: tmpl}
	for _, dir := range []string{"global", name} {
		d := filepath.Join(root, dir)
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			continue
		}
		ct.Dirs = append(ct.Dirs, d)
		b, err := os.ReadFile(filepath.Join(d, "config.yaml"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", tmpl, err)
		}
		var c choriaConfig
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// An empty config.yaml (io.EOF) sets nothing.
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", filepath.Join(d, "config.yaml"), err)
		}
		for _, p := range c.RequiredProperties {
			if !contains(ct.Required, p) {
				ct.Required = append(ct.Required, p)
			}
		}
		if len(c.Artifacts) > 0 {
			ct.Artifacts = c.Artifacts
		}
	}
	if len(ct.Artifacts) == 0 {
		return nil, fmt.Errorf("template %s: no artifacts in its config.yaml: say which files build.sh makes", tmpl)
	}
	return ct, nil
}

// ChoriaInput is what rendering a Choria template needs beyond the
// package: the names build.sh works with.
type ChoriaInput struct {
	Package *buildspec.Package
	Product string
	Version version.Version
	Target  *buildspec.CompileTarget
	// Binary is the file name of the binary inside the source directory.
	Binary string
}

// ChoriaData returns the properties a Choria template is rendered with,
// each as {{.prop}} and {{cpkg_prop}}: the package's, then these (see
// docs/choria.md): name, version (product), rpm_version, deb_version,
// release, dist, target_arch (as written), rpm_arch, deb_arch, os, arch
// (GOARCH), source_dir (NAME-VERSION), tarball (NAME-VERSION.tgz), binary,
// commit, build_time (RFC 3339), rpm_date, deb_date (changelog dates) and
// year, all from the commit time.
func (ct *ChoriaTemplate) ChoriaData(in ChoriaInput) (map[string]string, error) {
	d := map[string]string{}
	for k, v := range in.Package.Properties {
		d[k] = v
	}
	if d["name"] == "" {
		d["name"] = in.Product
	}
	if d["release"] == "" {
		d["release"] = "1"
	}
	for _, k := range []string{"dist", "target_arch"} {
		if _, ok := d[k]; !ok {
			d[k] = ""
		}
	}
	d["os"], d["arch"] = "linux", ""
	if t := in.Target; t != nil {
		d["os"], d["arch"] = t.OS, t.Arch
		if d["target_arch"] == "" {
			a := t.Arch
			if t.Arch == "arm" && t.ARM != "" {
				a = "arm" + t.ARM
			}
			d["target_arch"] = a
		}
	}
	for f, k := range map[string]string{FormatRPM: "rpm_arch", FormatDeb: "deb_arch"} {
		a, err := FormatArch(f, d["target_arch"])
		if err != nil && d["target_arch"] != "" {
			a = ""
		}
		d[k] = a
	}
	v := in.Version
	d["version"] = v.Product
	d["rpm_version"] = v.RPM
	d["deb_version"] = v.Deb
	d["source_dir"] = d["name"] + "-" + v.Product
	d["tarball"] = d["source_dir"] + ".tgz"
	d["binary"] = in.Binary
	d["commit"] = v.Commit
	t := v.Time.UTC()
	d["build_time"] = t.Format(time.RFC3339)
	d["rpm_date"] = t.Format("Mon Jan 02 2006")
	d["deb_date"] = t.Format(time.RFC1123Z)
	d["year"] = fmt.Sprint(t.Year())
	for _, p := range ct.Required {
		if strings.TrimSpace(d[p]) == "" {
			return nil, &MissingPropertyError{Package: in.Package.Name, Template: ct.Name, Property: p}
		}
	}
	return d, nil
}

// RenderTo renders every file of the template, global first, into dst
// with data, keeping each file's mode (build.sh stays executable).
// config.yaml is the template's own and is not copied.
func (ct *ChoriaTemplate) RenderTo(dst string, data map[string]string) error {
	fm := helpers()
	for k, v := range data {
		if isIdentifier(k) {
			fm["cpkg_"+k] = func() string { return v }
		}
	}
	files := map[string]string{} // rel -> host path, the named dir winning
	for _, dir := range ct.Dirs {
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil {
				return err
			}
			if rel != "config.yaml" {
				files[rel] = p
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("template %s: %w", ct.Name, err)
		}
	}
	rels := make([]string, 0, len(files))
	for r := range files {
		rels = append(rels, r)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		src := files[rel]
		b, err := os.ReadFile(src)
		if err != nil {
			return fmt.Errorf("template %s: %w", ct.Name, err)
		}
		fi, err := os.Stat(src)
		if err != nil {
			return err
		}
		t, err := template.New(src).Option("missingkey=error").Funcs(fm).Parse(string(b))
		if err != nil {
			return fmt.Errorf("template %s: %w", ct.Name, err)
		}
		var out bytes.Buffer
		if err := t.Execute(&out, data); err != nil {
			return fmt.Errorf("template %s: %w", ct.Name, err)
		}
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, out.Bytes(), fi.Mode().Perm()|0o600); err != nil {
			return err
		}
	}
	return nil
}
