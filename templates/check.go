package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/packyard/packyard/buildspec"
)

// NoTemplateError is a package's template that neither the project nor
// the embedded templates have.
type NoTemplateError struct {
	Template string
}

func (e *NoTemplateError) Error() string {
	return fmt.Sprintf("template %s: no such template (no %s/template.yaml in %s or the embedded templates)", e.Template, e.Template, ProjectDir)
}

// builtinProperties are the properties the renderer itself reads, whether
// a template's files mention them or not.
func builtinProperties() []string {
	return []string{"name", "release", "dist", "target_arch", "rudder_version"}
}

// CheckSpec checks every package of every flavour of spec against its
// template, as found for the project at projectDir (empty: embedded
// templates only): the template exists, target_arch names an architecture
// of the template's format, and each property is read by the template. A
// property no template reads is most often a misspelt key, which would
// otherwise be dropped silently. Problems are *buildspec.ConfigError at
// the key in the spec.
//
// A property of a package's own entry must be read by the package's
// template; one inherited from the flavour's defaults by the template of
// at least one package that inherits it, since defaults are shared by
// packages of several formats.
func CheckSpec(projectDir string, spec *buildspec.Spec) error {
	c := &checker{project: projectDir, reads: map[string]map[string]bool{}}
	names := make([]string, 0, len(spec.Flavours))
	for n := range spec.Flavours {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := c.flavour(spec.File, spec.Flavours[n]); err != nil {
			return err
		}
	}
	return nil
}

type checker struct {
	project string
	reads   map[string]map[string]bool // properties read, by template
}

// inherited is a defaults property of a flavour: where it is, and whether
// some package that inherits it reads it.
type inherited struct {
	pk   *buildspec.Package // one package that inherits it, for ErrAt
	read bool
	tmpl []string // the templates that do not read it
}

func (c *checker) flavour(file string, fl *buildspec.Flavour) error {
	defaults := map[string]*inherited{}
	for _, pk := range fl.Packages {
		ct, err := LoadChoria(c.project, pk.Template)
		var cf *ChoriaFormatError
		if errors.As(err, &cf) {
			return pk.ErrAt(file, "template", cf.Error())
		}
		if err != nil {
			return pk.ErrAt(file, "template", err.Error())
		}
		if ct != nil {
			if err := c.choria(file, pk, ct, defaults); err != nil {
				return err
			}
			continue
		}
		tmpl, err := resolve(c.project, pk.Template, pk.Properties)
		var ae *AliasError
		if errors.As(err, &ae) {
			return pk.ErrAt(file, ae.Property, ae.Msg)
		}
		if errors.As(err, &cf) {
			return pk.ErrAt(file, "template", cf.Error())
		}
		if err != nil {
			return err
		}
		sp, err := Load(c.project, tmpl)
		var nt *NoTemplateError
		if errors.As(err, &nt) {
			return pk.ErrAt(file, "template", fmt.Sprintf("no template %q in %s or the embedded templates; known: %s%s",
				tmpl, ProjectDir, strings.Join(c.known(), ", "), buildspec.DidYouMean(tmpl, c.known())))
		}
		if err != nil {
			return err
		}
		if ta := pk.Properties["target_arch"]; ta != "" {
			if _, err := FormatArch(sp.Format, ta); err != nil {
				return pk.ErrAt(file, "target_arch", err.Error())
			}
		}
		if f, ok := pk.Properties["format"]; ok {
			if _, err := archiveFormat(sp.Format, f); err != nil {
				return pk.ErrAt(file, "format", err.Error())
			}
		}
		reads, err := c.read(tmpl, sp)
		if err != nil {
			return err
		}
		if err := c.properties(file, pk, tmpl, reads, defaults); err != nil {
			return err
		}
	}
	return c.defaults(file, defaults)
}

// choria checks a package of a Choria-format template: target_arch for
// the el and debian families, and that its template reads each property.
func (c *checker) choria(file string, pk *buildspec.Package, ct *ChoriaTemplate, defaults map[string]*inherited) error {
	family, _, _ := strings.Cut(ct.Name, "/")
	format := map[string]string{"el": FormatRPM, "debian": FormatDeb}[family]
	if ta := pk.Properties["target_arch"]; ta != "" && format != "" {
		if _, err := FormatArch(format, ta); err != nil {
			return pk.ErrAt(file, "target_arch", err.Error())
		}
	}
	// As Choria: a name always; target_arch with a binary (it names the
	// tarball).
	if strings.TrimSpace(pk.Properties["name"]) == "" {
		return pk.ErrAt(file, "name", fmt.Sprintf("template %s (Choria's format) needs the name property", ct.Name))
	}
	if pk.Binary != "" && strings.TrimSpace(pk.Properties["target_arch"]) == "" {
		return pk.ErrAt(file, "target_arch", fmt.Sprintf("template %s (Choria's format) needs target_arch with a binary: it names the tarball", ct.Name))
	}
	reads, ok := c.reads["choria:"+ct.Name]
	if !ok {
		// name and target_arch name the tarball's files.
		reads = map[string]bool{"name": true, "target_arch": true}
		for _, p := range ct.Required {
			reads[p] = true
		}
		for _, dir := range ct.Dirs {
			_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if b, err := os.ReadFile(p); err == nil {
						for _, x := range ChoriaReads(string(b)) {
							reads[x] = true
						}
					}
				}
				return nil
			})
		}
		c.reads["choria:"+ct.Name] = reads
	}
	return c.properties(file, pk, ct.Name, reads, defaults)
}

// properties checks that tmpl, which reads reads, reads each property of
// pk's own entry, and notes for the defaults which templates read theirs.
func (c *checker) properties(file string, pk *buildspec.Package, tmpl string, reads map[string]bool, defaults map[string]*inherited) error {
	own := pk.Keys[""].Field + "."
	keys := make([]string, 0, len(pk.Properties))
	for k := range pk.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if strings.HasPrefix(pk.Keys[k].Field, own) {
			if !reads[k] {
				return pk.ErrAt(file, k, unread(k, []string{tmpl}, reads))
			}
			continue
		}
		d := defaults[k]
		if d == nil {
			d = &inherited{pk: pk}
			defaults[k] = d
		}
		if reads[k] {
			d.read = true
		} else if !slices.Contains(d.tmpl, tmpl) {
			d.tmpl = append(d.tmpl, tmpl)
		}
	}
	return nil
}

// defaults reports a property of the flavour's defaults that no package
// inheriting it reads.
func (c *checker) defaults(file string, defaults map[string]*inherited) error {
	keys := make([]string, 0, len(defaults))
	for k := range defaults {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if d := defaults[k]; !d.read {
			all := map[string]bool{}
			for _, t := range d.tmpl {
				for p := range c.reads[t] {
					all[p] = true
				}
			}
			return d.pk.ErrAt(file, k, unread(k, d.tmpl, all))
		}
	}
	return nil
}

// unread is the message for a property that tmpls do not read.
func unread(prop string, tmpls []string, reads map[string]bool) string {
	cands := []string{"template", "binary"}
	for p := range reads {
		cands = append(cands, p)
	}
	which := "template " + tmpls[0] + " does"
	if len(tmpls) > 1 {
		which = "templates " + strings.Join(tmpls, ", ") + " do"
	}
	return fmt.Sprintf("unknown property %q: %s not read it (not required, no default, not used in its files)%s",
		prop, which, buildspec.DidYouMean(prop, cands))
}

// known lists the templates a package may name: the embedded ones and
// the project's.
func (c *checker) known() []string {
	names := Names()
	for a := range aliases() {
		names = append(names, a)
	}
	if c.project != "" {
		root := filepath.Join(c.project, filepath.FromSlash(ProjectDir))
		matches, _ := filepath.Glob(filepath.Join(root, "*", "*", "template.yaml"))
		for _, m := range matches {
			rel, err := filepath.Rel(root, filepath.Dir(m))
			if err == nil && path.Base(filepath.ToSlash(rel)) != "global" && !slices.Contains(names, filepath.ToSlash(rel)) {
				names = append(names, filepath.ToSlash(rel))
			}
		}
	}
	sort.Strings(names)
	return names
}

// actionRE finds the actions of a text/template; propRE the properties an
// action reads, as .prop (also $.prop), cpkg_prop or a quoted key.
var (
	actionRE = regexp.MustCompile(`(?s)\{\{(.*?)\}\}`)
	propRE   = regexp.MustCompile(`(?:\.|cpkg_|")([A-Za-z_][A-Za-z0-9_]*)`)
)

// read returns the properties template tmpl reads: its required and
// default properties, the renderer's built-ins and every property its
// template.yaml and files name. It reads more than it needs (a file of
// the template's directories that no entry ships still counts), which
// errs on the side of accepting a property.
func (c *checker) read(tmpl string, sp *Spec) (map[string]bool, error) {
	if r, ok := c.reads[tmpl]; ok {
		return r, nil
	}
	r := map[string]bool{}
	for _, p := range builtinProperties() {
		r[p] = true
	}
	for _, p := range sp.RequiredProperties {
		r[p] = true
	}
	for p := range sp.Properties {
		r[p] = true
	}
	y, err := yaml.Marshal(sp)
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", tmpl, err)
	}
	texts := []string{string(y)}
	family, name, _ := strings.Cut(tmpl, "/")
	for _, dir := range []string{name, "global"} {
		rel := path.Join(family, dir)
		_ = fs.WalkDir(embedded, rel, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, err := embedded.ReadFile(p); err == nil {
					texts = append(texts, string(b))
				}
			}
			return nil
		})
		if c.project != "" {
			root := filepath.Join(c.project, filepath.FromSlash(ProjectDir), family, dir)
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if b, err := os.ReadFile(p); err == nil {
						texts = append(texts, string(b))
					}
				}
				return nil
			})
		}
	}
	for _, t := range texts {
		addReads(r, t)
	}
	c.reads[tmpl] = r
	return r, nil
}

// addReads adds to r the properties the actions of text read.
func addReads(r map[string]bool, text string) {
	for _, a := range actionRE.FindAllStringSubmatch(text, -1) {
		for _, m := range propRE.FindAllStringSubmatch(a[1], -1) {
			r[m[1]] = true
		}
	}
}
