package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/version"
)

// ChoriaTemplate is a project template in Choria's own format: a
// directory packager/templates/<family>/<name>/ (over <family>/global/)
// holding config.yaml, build.sh and the files build.sh needs (an rpm
// spec, a debian/ tree, units, configs), every one with the package's
// {{cpkg_PROP}} placeholders replaced as Choria's packager replaces them.
// It is used whole, never mixed with Packyard's templates.
type ChoriaTemplate struct {
	Name string // family/name
	// Dirs are the template's directories on the host, global first:
	// a file of the named directory replaces global's of the same path.
	Dirs []string
	// Required are the properties the package must set: the named
	// directory's config.yaml's required_properties (global's config.yaml
	// is not read, as in Choria).
	Required []string
	// Artifacts are globs, relative to the directory build.sh runs in
	// (the one holding NAME-VERSION/ and the tarball), of the files it
	// makes: the named directory's config.yaml's artifacts.
	Artifacts []string
}

// choriaConfig is a config.yaml of Choria's format.
type choriaConfig struct {
	RequiredProperties []string `yaml:"required_properties"`
	Artifacts          globs    `yaml:"artifacts"`
}

// globs is artifacts: one glob or a list of them, as Choria accepts.
type globs []string

func (g *globs) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*g = globs{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*g = l
	return nil
}

// LoadChoria returns the project's template tmpl when it is in Choria's
// format, or nil when it is not (a Packyard template or none). As in
// Choria, config.yaml is read from the named directory only, and must be
// there and name the artifacts.
func LoadChoria(projectDir, tmpl string) (*ChoriaTemplate, error) {
	err := choriaFormat(projectDir, tmpl)
	var cf *ChoriaFormatError
	if !errors.As(err, &cf) {
		return nil, err
	}
	family, name, _ := strings.Cut(tmpl, "/")
	root := filepath.Join(projectDir, filepath.FromSlash(ProjectDir), family)
	named := filepath.Join(root, name)
	if fi, err := os.Stat(named); err != nil || !fi.IsDir() {
		// Only Choria's global: no template of that name to run, and
		// Packyard's own would mix with its files.
		return nil, cf
	}
	ct := &ChoriaTemplate{Name: tmpl}
	if fi, err := os.Stat(filepath.Join(root, "global")); err == nil && fi.IsDir() {
		ct.Dirs = append(ct.Dirs, filepath.Join(root, "global"))
	}
	ct.Dirs = append(ct.Dirs, named)
	config := filepath.Join(named, "config.yaml")
	b, err := os.ReadFile(config)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("template %s: no config.yaml in %s (Choria reads it from the named template only, not from global)",
			tmpl, filepath.Join(ProjectDir, family, name))
	}
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", tmpl, err)
	}
	var c choriaConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	// An empty config.yaml (io.EOF) sets nothing.
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", config, err)
	}
	ct.Required = c.RequiredProperties
	ct.Artifacts = c.Artifacts
	if len(ct.Artifacts) == 0 {
		return nil, fmt.Errorf("template %s: no artifacts in %s: say which files build.sh makes",
			tmpl, filepath.Join(ProjectDir, family, name, "config.yaml"))
	}
	return ct, nil
}

// ChoriaInput is what rendering a Choria template needs beyond the
// package.
type ChoriaInput struct {
	Package *buildspec.Package
	Version version.Version
	// Target is the package's compile target; nil without a binary.
	Target *buildspec.CompileTarget
	// Binary is the binary's file name (no directory); empty without one.
	Binary string
	// SourceDir is the absolute path of the copy of the project's source
	// tree, outside the tarball.
	SourceDir string
}

// ChoriaDate is how Choria writes {{cpkg_date}}: RFC 2822, as Ruby's
// "%a, %d %b %Y %H:%M:%S %z".
const ChoriaDate = "Mon, 02 Jan 2006 15:04:05 -0700"

// ChoriaTop is the directory NAME-VERSION that the tarball holds: dist/
// (the rendered template) and the binary.
func ChoriaTop(name string, v version.Version) string {
	return name + "-" + v.Product
}

// ChoriaTarball is the tarball's file name, as Choria names it:
// NAME-VERSION-OS-TARGET_ARCH.tgz with a binary (OS the compile target's,
// lowercased; TARGET_ARCH the property as written), else NAME-VERSION.tgz.
func ChoriaTarball(name string, v version.Version, t *buildspec.CompileTarget, targetArch string) string {
	if t == nil {
		return ChoriaTop(name, v) + ".tgz"
	}
	return ChoriaTop(name, v) + "-" + strings.ToLower(t.OS) + "-" + targetArch + ".tgz"
}

// ChoriaData returns the values of the {{cpkg_X}} placeholders (keyed by
// X) for a package, with Choria's precedence (see docs/choria.md): first
// Choria's own binary (with a binary), version, tarball, source_dir and
// date (the commit time, UTC); then every property of the package as
// written, and its template; then, for names neither sets, Packyard's additions:
// rpm_version, deb_version, rpm_arch, deb_arch, os, arch, commit,
// build_time, rpm_date, deb_date and year.
func (ct *ChoriaTemplate) ChoriaData(in ChoriaInput) (map[string]string, error) {
	props := in.Package.Properties
	name := props["name"]
	if strings.TrimSpace(name) == "" {
		return nil, &MissingPropertyError{Package: in.Package.Name, Template: ct.Name, Property: "name"}
	}
	if in.Target != nil && strings.TrimSpace(props["target_arch"]) == "" {
		return nil, &MissingPropertyError{Package: in.Package.Name, Template: ct.Name, Property: "target_arch"}
	}
	for _, p := range ct.Required {
		if strings.TrimSpace(props[p]) == "" {
			return nil, &MissingPropertyError{Package: in.Package.Name, Template: ct.Name, Property: p}
		}
	}
	v := in.Version
	t := v.Time.UTC()
	d := map[string]string{
		"rpm_version": v.RPM,
		"deb_version": v.Deb,
		"commit":      v.Commit,
		"build_time":  t.Format(time.RFC3339),
		"rpm_date":    t.Format("Mon Jan 02 2006"),
		"deb_date":    t.Format(time.RFC1123Z),
		"year":        fmt.Sprint(t.Year()),
		"os":          "",
		"arch":        "",
	}
	if in.Target != nil {
		d["os"], d["arch"] = in.Target.OS, in.Target.Arch
	}
	for f, k := range map[string]string{FormatRPM: "rpm_arch", FormatDeb: "deb_arch"} {
		d[k] = ""
		if a, err := FormatArch(f, props["target_arch"]); err == nil && props["target_arch"] != "" {
			d[k] = a
		}
	}
	// template is a key of the package, as in Choria (binary too, which
	// cpkg_binary below replaces).
	d["template"] = in.Package.Template
	for k, val := range props {
		d[k] = val
	}
	d["version"] = v.Product
	d["tarball"] = ChoriaTarball(name, v, in.Target, props["target_arch"])
	d["source_dir"] = in.SourceDir
	d["date"] = t.Format(ChoriaDate)
	if in.Binary != "" {
		d["binary"] = in.Binary
	}
	return d, nil
}

// placeholderRE is a {{cpkg_X}} placeholder.
var placeholderRE = regexp.MustCompile(`\{\{cpkg_([^{}]+)\}\}`)

// Substitute replaces every {{cpkg_X}} of text whose X data has with its
// value, as Choria's packager does: plain text, not a template language;
// any other {{...}} stays as written. Values are not scanned again.
func Substitute(text []byte, data map[string]string) []byte {
	return placeholderRE.ReplaceAllFunc(text, func(m []byte) []byte {
		if v, ok := data[string(m[len("{{cpkg_"):len(m)-len("}}")])]; ok {
			return []byte(v)
		}
		return m
	})
}

// ChoriaReads are the X of every {{cpkg_X}} in text.
func ChoriaReads(text string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// RenderTo copies every entry of the template's global directory, then
// of its named one over it (the same path replaces), into dst, as Choria
// fills NAME-VERSION/dist/, and replaces the {{cpkg_X}} placeholders of
// every regular file with data (Substitute). Modes are kept (build.sh
// stays executable); symbolic links are copied as links, unchanged.
func (ct *ChoriaTemplate) RenderTo(dst string, data map[string]string) error {
	type entry struct {
		path string
		mode fs.FileMode
	}
	entries := map[string]entry{} // rel -> host path, the named dir winning
	for _, dir := range ct.Dirs {
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(dir, p)
			if err != nil || rel == "." {
				return err
			}
			fi, err := os.Lstat(p)
			if err != nil {
				return err
			}
			entries[rel] = entry{p, fi.Mode()}
			return nil
		})
		if err != nil {
			return fmt.Errorf("template %s: %w", ct.Name, err)
		}
	}
	rels := make([]string, 0, len(entries))
	for r := range entries {
		rels = append(rels, r)
	}
	sort.Strings(rels)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, rel := range rels {
		e := entries[rel]
		p := filepath.Join(dst, rel)
		switch {
		case e.mode.IsDir():
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		case e.mode&fs.ModeSymlink != 0:
			l, err := os.Readlink(e.path)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			os.Remove(p)
			if err := os.Symlink(l, p); err != nil {
				return err
			}
			continue
		case !e.mode.IsRegular():
			continue
		}
		b, err := os.ReadFile(e.path)
		if err != nil {
			return fmt.Errorf("template %s: %w", ct.Name, err)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, Substitute(b, data), e.mode.Perm()|0o600); err != nil {
			return err
		}
	}
	return nil
}
