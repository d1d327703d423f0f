// Package templates holds the embedded default package templates and
// renders a template, with a package's properties, into the pack.Info a
// format writer consumes.
//
// A template is a directory templates/<family>/<name>/ next to
// templates/<family>/global/. Both hold a template.yaml (see Spec) and the
// files it names. A file of <name>/ overrides the same file of global/,
// and a project's packager/templates/<family>/<name|global>/FILE overrides
// the embedded file of the same path, file by file. The two template.yaml
// files that result are merged key by key, <name> over global.
//
// Files are Go text/template documents. Every property is available as
// {{.prop}} and, as in Choria's packager, as a function {{cpkg_prop}}.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/version"
)

//go:embed el debian rudder tarball
var embedded embed.FS

// ProjectDir is where a project keeps its own templates, relative to its
// root.
const ProjectDir = "packager/templates"

// Input is what Render needs for one package.
type Input struct {
	// ProjectDir is the project's root; its packager/templates overrides
	// the embedded templates. Empty means embedded templates only.
	ProjectDir string
	// Package is the spec's package: its template and properties.
	Package *buildspec.Package
	// Product is the product's name, the default of the name property.
	Product string
	// Version is the product's version; each format takes its spelling.
	Version version.Version
	// Target is the compile target that built Binary. It gives the
	// package's os (Info.Platform) and, where the package sets no
	// target_arch, its arch in the format's spelling. Nil means a linux
	// binary whose arch the package names.
	Target *buildspec.CompileTarget
	// Binary is the host path of the compiled binary to ship.
	Binary string
}

// Rendered is a template rendered for one package.
type Rendered struct {
	// Format is the writer to use: rpm, deb, rpkg or tar.
	Format string
	// Info describes the package; Signing is left for the caller.
	Info *pack.Info
}

// MissingPropertyError reports a required property that a package does
// not set.
type MissingPropertyError struct {
	Package  string
	Template string
	Property string
}

func (e *MissingPropertyError) Error() string {
	return fmt.Sprintf("package %s: template %s requires property %q", e.Package, e.Template, e.Property)
}

var templateName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*/[a-z0-9][a-z0-9_.-]*$`)

// source is the layered file system of one template.
type source struct {
	project  string // <project>/packager/templates, or ""
	template string // family/name
	family   string
	cache    *Set // where files read are kept; nil reads every time
}

func newSource(projectDir, tmpl string) (*source, error) {
	if !templateName.MatchString(tmpl) || strings.Contains(tmpl, "..") {
		return nil, fmt.Errorf("template %q: want <family>/<name>, e.g. el/el8", tmpl)
	}
	family, name, _ := strings.Cut(tmpl, "/")
	if name == "global" {
		return nil, fmt.Errorf("template %q: global is the shared part of a family, not a template", tmpl)
	}
	s := &source{template: tmpl, family: family}
	if projectDir != "" {
		s.project = filepath.Join(projectDir, filepath.FromSlash(ProjectDir))
	}
	return s, nil
}

// readOne reads family/dir/file from the project, else the embedded
// templates. It returns the name it read for messages and fs.ErrNotExist
// when neither has it. The bytes returned may be shared through the
// cache: callers must not modify them.
func (s *source) readOne(dir, file string) ([]byte, string, error) {
	rel := path.Join(s.family, dir, file)
	var (
		b     []byte
		where string
		err   error
	)
	if s.cache == nil {
		b, where, err = readLayer(s.project, rel)
	} else {
		b, where, err = s.cache.file(s.project, rel)
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		// Wrapped here, not in readLayer: the cache shares a family's
		// global files between the family's templates.
		return nil, "", fmt.Errorf("template %s: %w", s.template, err)
	}
	return b, where, err
}

// readLayer reads rel from the project's templates directory (if any),
// else from the embedded templates.
func readLayer(project, rel string) ([]byte, string, error) {
	if project != "" {
		p := filepath.Join(project, filepath.FromSlash(rel))
		b, err := os.ReadFile(p)
		if err == nil {
			return b, p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
	}
	b, err := embedded.ReadFile(rel)
	if err != nil {
		return nil, "", fs.ErrNotExist
	}
	return b, "embedded:templates/" + rel, nil
}

// read finds a template file: <name>/ before global/.
func (s *source) read(file string) ([]byte, string, error) {
	clean := path.Clean(file)
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return nil, "", fmt.Errorf("template %s: file %q must stay inside the template", s.template, file)
	}
	_, name, _ := strings.Cut(s.template, "/")
	for _, dir := range []string{name, "global"} {
		b, where, err := s.readOne(dir, clean)
		if err == nil {
			return b, where, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, "", err
		}
	}
	return nil, "", fmt.Errorf("template %s: file %s not found in %s or %s/global", s.template, clean, s.template, s.family)
}

// spec loads and merges the family's global template.yaml and the
// template's own.
func (s *source) spec() (*Spec, error) {
	_, name, _ := strings.Cut(s.template, "/")
	own, where, err := s.readOne(name, "template.yaml")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NoTemplateError{Template: s.template}
	}
	if err != nil {
		return nil, err
	}
	over, err := parseSpec(where, own)
	if err != nil {
		return nil, err
	}
	base := &Spec{}
	if g, gwhere, err := s.readOne("global", "template.yaml"); err == nil {
		if base, err = parseSpec(gwhere, g); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	m := merge(base, over)
	if m.Format == "" {
		return nil, fmt.Errorf("%s: no format set here or in %s/global", where, s.family)
	}
	return m, nil
}

// Load returns the merged template.yaml of a template, with a project's
// overrides applied.
func Load(projectDir, tmpl string) (*Spec, error) {
	s, err := newSource(projectDir, tmpl)
	if err != nil {
		return nil, err
	}
	return s.spec()
}

// FormatOf returns the package format a template produces, for planning.
// It knows Choria's template names that embedded templates stand in for
// (el/generic, archive/basic) without the package's properties.
func FormatOf(projectDir, tmpl string) (string, error) {
	if err := choriaFormat(projectDir, tmpl); err != nil {
		return "", err
	}
	if a, ok := aliases()[tmpl]; ok && !exists(projectDir, tmpl) {
		return a.format, nil
	}
	s, err := Load(projectDir, tmpl)
	if err != nil {
		return "", err
	}
	return s.Format, nil
}

// ReadFile returns a file of a template as the renderer would find it
// (the project's file before the embedded one, <name>/ before global/),
// unrendered: e.g. el/global's rpmlint.toml for the verify stage.
func ReadFile(projectDir, tmpl, file string) ([]byte, error) {
	s, err := newSource(projectDir, tmpl)
	if err != nil {
		return nil, err
	}
	b, _, err := s.read(file)
	return b, err
}

// Names lists the embedded templates as family/name, sorted.
func Names() []string {
	var out []string
	_ = fs.WalkDir(embedded, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Base(p) == "template.yaml" {
			if dir := path.Dir(p); path.Base(dir) != "global" {
				out = append(out, dir)
			}
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// renderer renders the strings and files of one package's template.
type renderer struct {
	set  *Set
	src  *source
	data map[string]string
	// base holds the functions the values rendered so far call. It is
	// given only those, as they are met: text/template's Funcs checks
	// every function by reflection, and a package has a cpkg_ function
	// per property, which templates seldom call.
	base  *template.Template
	bound map[string]bool // the functions base has
	// keys are the properties that make a cpkg_ function, sorted, and
	// names joins them: the key of r's function map in the parse cache.
	keys  []string
	names string
	items map[[2]string]*renderer // made by with, by key and value
}

func (s *Set) renderer(src *source, data map[string]string) *renderer {
	keys := make([]string, 0, len(data))
	for k := range data {
		if isIdentifier(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return s.rendererKeys(src, data, keys)
}

func (s *Set) rendererKeys(src *source, data map[string]string, keys []string) *renderer {
	return &renderer{
		set:   s,
		src:   src,
		data:  data,
		base:  template.New("").Option("missingkey=error"),
		bound: map[string]bool{},
		keys:  keys,
		names: strings.Join(keys, " "),
	}
}

// render renders text as template name.
func (r *renderer) render(name, text string) (string, error) {
	p := r.set.parse(r, name, text)
	if p.err != nil {
		return "", fmt.Errorf("template %s: %w", r.src.template, p.err)
	}
	var add template.FuncMap
	for _, f := range p.funcs {
		if !r.bound[f] {
			if add == nil {
				add = template.FuncMap{}
			}
			add[f] = r.function(f)
			r.bound[f] = true
		}
	}
	if add != nil {
		r.base.Funcs(add)
	}
	t, err := p.bind(r.base, name)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", r.src.template, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, r.data); err != nil {
		return "", fmt.Errorf("template %s: %w", r.src.template, err)
	}
	return b.String(), nil
}

// function is the function of r's function map (see funcs) named name.
func (r *renderer) function(name string) any {
	if k, ok := strings.CutPrefix(name, "cpkg_"); ok {
		v := r.data[k]
		return func() string { return v }
	}
	return r.set.helpers[name]
}

// line renders a one-line value, trimmed.
func (r *renderer) line(name, text string) (string, error) {
	s, err := r.render(name, text)
	return strings.TrimSpace(s), err
}

func (r *renderer) list(name string, items []string) ([]string, error) {
	var out []string
	for i, it := range items {
		s, err := r.line(fmt.Sprintf("%s[%d]", name, i), it)
		if err != nil {
			return nil, err
		}
		if s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// Render renders the package's template into a pack.Info. It reads and
// parses the template afresh; to render many packages, use a Set.
func Render(in Input) (*Rendered, error) {
	return NewSet().Render(in)
}

// properties merges the template's defaults, the package's properties
// and the built-in values, and checks the required ones.
func properties(in Input, spec *Spec) (map[string]string, error) {
	data := map[string]string{}
	for k, v := range spec.Properties {
		data[k] = v
	}
	for k, v := range in.Package.Properties {
		data[k] = v
	}
	if data["name"] == "" {
		data["name"] = in.Product
	}
	if data["release"] == "" {
		data["release"] = "1"
	}
	for _, k := range []string{"dist", "target_arch"} {
		if _, ok := data[k]; !ok {
			data[k] = ""
		}
	}
	data["os"] = "linux"
	if t := in.Target; t != nil {
		if t.OS != "linux" && spec.Format != FormatTar {
			return nil, fmt.Errorf("package %s: template %s packages linux binaries, but compile target %s is for %s; use a tar template such as tarball/basic",
				in.Package.Name, in.Package.Template, t.Name, t.OS)
		}
		// Choria's archive templates take os as a property; here the
		// compile target decides, and a spec saying otherwise is wrong.
		if o := in.Package.Properties["os"]; o != "" && o != t.OS {
			return nil, fmt.Errorf("package %s: os %q, but compile target %s is for %s", in.Package.Name, o, t.Name, t.OS)
		}
		data["os"] = t.OS
		if data["target_arch"] == "" {
			arch, err := formatArch(spec.Format, t)
			if err != nil {
				return nil, fmt.Errorf("package %s: %w", in.Package.Name, err)
			}
			data["target_arch"] = arch
		}
	}
	// target_arch stays as written (a Choria template may want the GNU
	// triplet); arch is the format's own name, which the package carries.
	arch, err := FormatArch(spec.Format, data["target_arch"])
	if err != nil && data["target_arch"] != "" {
		return nil, fmt.Errorf("package %s: %w", in.Package.Name, err)
	}
	data["arch"] = arch
	data["product"] = in.Product
	data["product_version"] = in.Version.Product
	data["rpm_version"] = in.Version.RPM
	data["deb_version"] = in.Version.Deb
	data["commit"] = in.Version.Commit
	data["binary"] = in.Binary
	t := in.Version.Time.UTC()
	data["build_time"] = t.Format(time.RFC3339)
	data["year"] = strconv.Itoa(t.Year())
	switch spec.Format {
	case FormatRPM:
		data["version"] = in.Version.RPM
	case FormatDeb:
		data["version"] = in.Version.Deb
	default:
		data["version"] = in.Version.Product
	}
	for _, p := range spec.RequiredProperties {
		if strings.TrimSpace(data[p]) == "" {
			return nil, &MissingPropertyError{Package: in.Package.Name, Template: in.Package.Template, Property: p}
		}
	}
	if rv := data["rudder_version"]; rv != "" {
		rpkg, err := in.Version.Rudder(rv)
		if err != nil {
			return nil, fmt.Errorf("package %s: rudder plugin version: %w", in.Package.Name, err)
		}
		data["rpkg_version"] = rpkg
	}
	return data, nil
}

// archNames spells GOARCH (with GOARM for arm) as rpm and dpkg name
// architectures; an arch missing here needs target_arch in the spec.
var archNames = map[string]map[string]string{
	FormatRPM: {
		"amd64": "x86_64", "arm64": "aarch64", "386": "i686", "arm": "armv7hl", "arm7": "armv7hl",
		"arm6": "armv6hl", "arm5": "armv5tel", "ppc64le": "ppc64le", "ppc64": "ppc64",
		"s390x": "s390x", "riscv64": "riscv64", "loong64": "loongarch64", "mips64le": "mips64el",
	},
	FormatDeb: {
		"amd64": "amd64", "arm64": "arm64", "386": "i386", "arm": "armhf", "arm7": "armhf",
		"arm6": "armel", "arm5": "armel", "ppc64le": "ppc64el", "ppc64": "ppc64",
		"s390x": "s390x", "riscv64": "riscv64", "loong64": "loong64", "mips64le": "mips64el", "mipsle": "mipsel",
	},
}

// formatArch is the default target_arch of a package of format built by
// t: the distro's name of the arch for rpm and deb, else GOARCH (armvN
// for arm with GOARM set), as in the binaries' own names.
func formatArch(format string, t *buildspec.CompileTarget) (string, error) {
	names, ok := archNames[format]
	if !ok {
		if t.Arch == "arm" && t.ARM != "" {
			return "armv" + t.ARM, nil
		}
		return t.Arch, nil
	}
	if a, ok := names[t.Arch+t.ARM]; ok {
		return a, nil
	}
	return "", fmt.Errorf("compile target %s: no %s name known for arch %s; set target_arch", t.Name, format, t.Arch)
}

// helpers are the functions every template may call besides cpkg_*.
func helpers() template.FuncMap {
	return template.FuncMap{
		// join and split help scripts loop over lists held in one property.
		"split":      strings.Fields,
		"join":       strings.Join,
		"quote":      shellQuote,
		"hasPrefix":  strings.HasPrefix,
		"trimPrefix": strings.TrimPrefix,
		"truthy":     truthy,
		"capitalize": capitalize,
	}
}

// funcs is the function map of a template rendered with data: the
// helpers and every property as cpkg_<prop>, Choria's spelling.
func funcs(helpers template.FuncMap, data map[string]string) template.FuncMap {
	fm := make(template.FuncMap, len(helpers)+len(data))
	for k, f := range helpers {
		fm[k] = f
	}
	for k, v := range data {
		if isIdentifier(k) {
			fm["cpkg_"+k] = func() string { return v }
		}
	}
	return fm
}

// isIdentifier reports whether s may name a template function:
// [A-Za-z_][A-Za-z0-9_]*.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// capitalize upper-cases the first letter of s, for summaries made of
// property values ("server" -> "Server").
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (r *renderer) info(in Input, spec *Spec) (*pack.Info, error) {
	is := spec.Info
	info := &pack.Info{
		Platform: r.data["os"],
		MTime:    in.Version.Time.UTC(),
	}
	fields := []struct {
		name string
		tmpl string
		def  string
		dst  *string
	}{
		{"name", is.Name, "{{.name}}", &info.Name},
		{"version", is.Version, "{{.version}}", &info.Version},
		{"release", is.Release, "{{.release}}", &info.Release},
		{"epoch", is.Epoch, "", &info.Epoch},
		{"arch", is.Arch, "{{.arch}}", &info.Arch},
		{"summary", is.Summary, "", &info.Summary},
		{"maintainer", is.Maintainer, "", &info.Maintainer},
		{"vendor", is.Vendor, "", &info.Vendor},
		{"homepage", is.Homepage, "", &info.Homepage},
		{"license", is.License, "", &info.License},
		{"group", is.Group, "", &info.Group},
		{"section", is.Section, "", &info.Section},
		{"priority", is.Priority, "", &info.Priority},
		{"dist", is.Dist, "", &info.Dist},
	}
	for _, f := range fields {
		s, err := r.line("info."+f.name, pick(f.tmpl, f.def))
		if err != nil {
			return nil, err
		}
		*f.dst = s
	}
	if spec.Format == FormatRpkg || spec.Format == FormatTar {
		info.Release = ""
	}
	var err error
	if info.Description, err = r.render("info.description", is.Description); err != nil {
		return nil, err
	}
	info.Description = strings.TrimSpace(info.Description)
	if info.ChangelogText, err = r.render("info.changelog", is.Changelog); err != nil {
		return nil, err
	}
	info.ChangelogText = strings.TrimSpace(info.ChangelogText)
	lists := []struct {
		name string
		in   []string
		dst  *[]string
	}{
		{"depends", is.Depends, &info.Depends},
		{"recommends", is.Recommends, &info.Recommends},
		{"provides", is.Provides, &info.Provides},
		{"conflicts", is.Conflicts, &info.Conflicts},
		{"replaces", is.Replaces, &info.Replaces},
	}
	for _, l := range lists {
		if *l.dst, err = r.list("info."+l.name, l.in); err != nil {
			return nil, err
		}
	}
	if info.Contents, err = r.contents(in, spec); err != nil {
		return nil, err
	}
	if info.Scripts, err = r.scripts(spec.Scripts); err != nil {
		return nil, err
	}
	if len(spec.Extra) > 0 {
		info.Properties = map[string]string{}
		keys := make([]string, 0, len(spec.Extra))
		for k := range spec.Extra {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			v, err := r.line("extra."+k, spec.Extra[k])
			if err != nil {
				return nil, err
			}
			if v != "" {
				info.Properties[k] = v
			}
		}
	}
	if info.Name == "" || info.Version == "" {
		return nil, fmt.Errorf("template %s: rendered an empty package name or version", r.src.template)
	}
	return info, nil
}

func isBinaryMarker(src string) bool {
	s := strings.Join(strings.Fields(src), "")
	return s == "{{binary}}" || s == "{{cpkg_binary}}" || s == "{{.binary}}"
}

func (r *renderer) contents(in Input, spec *Spec) ([]pack.Content, error) {
	var out []pack.Content
	seen := map[string]string{}
	for i := range spec.Contents {
		c := &spec.Contents[i]
		each := []*renderer{r}
		if c.Each != "" {
			items, err := r.line(c.where()+" each", c.Each)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.where(), err)
			}
			each = nil
			for _, item := range strings.Fields(items) {
				each = append(each, r.with("item", item))
			}
		}
		for _, r := range each {
			pc, ok, err := r.content(in, c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.where(), err)
			}
			if !ok {
				continue
			}
			if prev, ok := seen[pc.Destination]; ok {
				return nil, fmt.Errorf("%s: dst %s already shipped by %s", c.where(), pc.Destination, prev)
			}
			seen[pc.Destination] = c.where()
			out = append(out, pc)
		}
	}
	return out, nil
}

// with returns a renderer whose data also holds key = value, for the
// entries of an "each" list.
func (r *renderer) with(key, value string) *renderer {
	// Every "each" entry of a template iterates the same list (the
	// services, say); make each item's renderer once.
	if c, ok := r.items[[2]string{key, value}]; ok {
		return c
	}
	c := r.newWith(key, value)
	if r.items == nil {
		r.items = map[[2]string]*renderer{}
	}
	r.items[[2]string{key, value}] = c
	return c
}

func (r *renderer) newWith(key, value string) *renderer {
	data := make(map[string]string, len(r.data)+1)
	for k, v := range r.data {
		data[k] = v
	}
	data[key] = value
	keys := r.keys
	// Sorting the keys again for every item would cost more than its
	// rendering; insert the one key instead.
	if i, found := slices.BinarySearch(keys, key); !found && isIdentifier(key) {
		keys = slices.Insert(slices.Clone(keys), i, key)
	}
	return r.set.rendererKeys(r.src, data, keys)
}

// content renders one declared entry; ok is false when its "when"
// condition does not hold. Errors are to be prefixed with c.where().
func (r *renderer) content(in Input, c *ContentSpec) (pc pack.Content, ok bool, err error) {
	if c.When != "" {
		w, err := r.render(c.where()+" when", c.When)
		if err != nil {
			return pc, false, err
		}
		if !truthy(w) {
			return pc, false, nil
		}
	}
	dst, err := r.line(c.where()+" dst", c.Dst)
	if err != nil {
		return pc, false, err
	}
	if !path.IsAbs(dst) || path.Clean(dst) != dst {
		return pc, false, fmt.Errorf("dst %q must be a clean absolute path", dst)
	}
	pc = pack.Content{Destination: dst, Type: pack.File}
	if c.Type != "" {
		pc.Type = pack.ContentType(c.Type)
	}
	for _, f := range []struct {
		name, in string
		out      *string
	}{{"owner", c.Owner, &pc.Owner}, {"group", c.Group, &pc.Group}} {
		v, err := r.line(c.where()+" "+f.name, f.in)
		if err != nil {
			return pc, false, err
		}
		*f.out = pick(v, "root")
	}
	mode := fs.FileMode(0o644)
	switch {
	case pc.Type == pack.Dir:
		mode = 0o755
	case pc.Type == pack.Symlink:
		mode = 0o777
		if pc.Source, err = r.line(c.where()+" src", c.Src); err != nil {
			return pc, false, err
		}
	case isBinaryMarker(c.Src):
		if in.Binary == "" {
			return pc, false, errors.New("ships the binary but no binary was given")
		}
		pc.Source = in.Binary
		mode = 0o755
	default:
		name, err := r.line(c.where()+" src", c.Src)
		if err != nil {
			return pc, false, err
		}
		b, where, err := r.src.read(name)
		if err != nil {
			return pc, false, err
		}
		if c.Verbatim {
			// b may be the set's cached copy, shared with other packages.
			b = bytes.Clone(b)
		} else {
			s, err := r.render(where, string(b))
			if err != nil {
				return pc, false, err
			}
			b = []byte(s)
		}
		pc.Data = b
	}
	if c.Mode != "" {
		mode, _ = parseMode(c.Mode) // validated when parsed
	}
	pc.Mode = mode
	return pc, true, nil
}

func (r *renderer) scripts(s ScriptsSpec) (pack.Scripts, error) {
	var out pack.Scripts
	for _, h := range []struct {
		file string
		dst  *string
	}{
		{s.PreInstall, &out.PreInstall},
		{s.PostInstall, &out.PostInstall},
		{s.PreRemove, &out.PreRemove},
		{s.PostRemove, &out.PostRemove},
		{s.PostTrans, &out.PostTrans},
	} {
		if h.file == "" {
			continue
		}
		b, where, err := r.src.read(h.file)
		if err != nil {
			return out, err
		}
		text, err := r.render(where, string(b))
		if err != nil {
			return out, err
		}
		// A script that renders to nothing but a shebang and blank
		// lines is left out: the package then has no such scriptlet.
		if hasCommands(text) {
			*h.dst = text
		}
	}
	return out, nil
}

func hasCommands(script string) bool {
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") && l != "set -e" {
			return true
		}
	}
	return false
}
