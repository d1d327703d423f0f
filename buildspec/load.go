package buildspec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Reserved flags_map names: packyard fills them from the version and the
// commit, so a compile target may not set them.
const (
	FlagVersion   = "Version"
	FlagSHA       = "SHA"
	FlagBuildTime = "BuildTime"
)

// The keys of a flavour.
const (
	keyFlagsMap       = "flags_map"
	keyCompileTargets = "compile_targets"
	keyPackages       = "packages"
	keyDefaults       = "defaults"
)

// targetKeys are the keys a compile target may have.
func targetKeys() []string {
	return []string{"amd64", "arch", "arm", "cgo", "env", "flags", "ldflags",
		"os", "output", "package", "pie", "post", "pre", "tags"}
}

// envReserved are environment variables a target's env may not set, since
// the spec's os, arch, arm, amd64 and cgo keys decide them.
func envReserved() []string {
	return []string{"CGO_ENABLED", "GOAMD64", "GOARCH", "GOARM", "GOOS"}
}

// entryNameRE is what a compile target or package name may look like:
// names become stage IDs (compile/NAME) and command-line arguments.
var entryNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// yamlLineRE picks the line out of a yaml.v3 syntax error.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Load reads and parses the build spec at path.
func Load(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("build spec: %w", err)
	}
	return Parse(path, data)
}

// Parse parses data, the contents of the build spec file (named for
// messages and to find the project directory), merges the defaults of
// every flavour and validates the result. Every problem is reported as a
// *ConfigError naming the line, column and field.
//
// Beyond Choria's format, top-level keys starting with a dot are ignored
// so that they can hold YAML anchors, YAML merge keys (<<) are applied, and
// a null in a named entry unsets what its defaults set.
func Parse(file string, data []byte) (*Spec, error) {
	p := &parser{file: file}
	root, err := p.document(data)
	if err != nil {
		return nil, err
	}
	pairs, err := p.mapping(root, "")
	if err != nil {
		return nil, err
	}
	spec := &Spec{File: file, FlagsMap: map[string]string{}, Flavours: map[string]*Flavour{}}
	// flags_map first: flavours are checked against it wherever it is.
	for _, kv := range pairs {
		if kv.name == keyFlagsMap {
			if spec.FlagsMap, err = p.flagsMap(kv); err != nil {
				return nil, err
			}
		}
	}
	project := projectName(file)
	for _, kv := range pairs {
		// Keys starting with a dot are hidden, as in GitLab CI: they
		// hold YAML anchors for the flavours to merge (<<: *common).
		if kv.name == keyFlagsMap || strings.HasPrefix(kv.name, ".") {
			continue
		}
		fl, err := p.flavour(spec, kv, project)
		if err != nil {
			return nil, err
		}
		spec.Flavours[fl.Name] = fl
	}
	if len(spec.Flavours) == 0 {
		return nil, p.errAt(root, "", "the spec has no flavour (a top-level key such as foss holding compile_targets and packages)")
	}
	return spec, nil
}

// Flavour returns the flavour called name, or a *ConfigError listing the
// flavours the spec has.
func (s *Spec) Flavour(name string) (*Flavour, error) {
	if fl, ok := s.Flavours[name]; ok {
		return fl, nil
	}
	names := make([]string, 0, len(s.Flavours))
	for n := range s.Flavours {
		names = append(names, n)
	}
	return nil, &ConfigError{File: s.File, Msg: fmt.Sprintf("no flavour %q; the spec has %s%s",
		name, quotedList(names), didYouMean(name, names))}
}

// projectName is the base name of the project directory, the spec file's
// ../.., or "" when it has none.
func projectName(file string) string {
	dir := filepath.Dir(filepath.Dir(file))
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	base := filepath.Base(dir)
	if base == "." || base == string(filepath.Separator) {
		return ""
	}
	return base
}

// parser carries the file name into every error.
type parser struct {
	file string
}

// pair is one key and value of a mapping, with the dotted path of the value.
type pair struct {
	key, val *yaml.Node
	name     string
	path     string
}

func (p *parser) errAt(n *yaml.Node, field, format string, args ...any) *ConfigError {
	e := &ConfigError{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	return e
}

// document parses data into its single root node.
func (p *parser) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ConfigError{File: p.file, Msg: "the spec is empty"}
		}
		return nil, p.syntaxError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, p.errAt(&extra, "", "a spec is one YAML document, found another")
	} else if !errors.Is(err, io.EOF) {
		return nil, p.syntaxError(err)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, p.errAt(&doc, "", "the spec is empty")
	}
	return doc.Content[0], nil
}

// syntaxError turns a yaml.v3 error into a ConfigError. yaml.v3 reports
// the line of a syntax error but not its column, and for errors of its
// parser (as opposed to its scanner) the line is the 0-based line of the
// enclosing construct, left out when 0: those are shifted to 1-based, so
// that the line is where the unclosed flow mapping or block starts.
func (p *parser) syntaxError(err error) *ConfigError {
	msg := err.Error()
	e := &ConfigError{File: p.file, Msg: "YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	problem := strings.TrimPrefix(msg, "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		problem = m[2]
	}
	if contains(yamlParserProblems(), problem) {
		e.Line++
	}
	e.Msg = "YAML: " + problem
	return e
}

// yamlParserProblems are the messages of yaml.v3's parser errors, whose
// line numbers are 0-based (see syntaxError).
func yamlParserProblems() []string {
	return []string{
		"did not find expected ',' or ']'",
		"did not find expected ',' or '}'",
		"did not find expected '-' indicator",
		"did not find expected <document start>",
		"did not find expected <stream-start>",
		"did not find expected key",
		"did not find expected node content",
		"found duplicate %TAG directive",
		"found duplicate %YAML directive",
		"found incompatible YAML document",
		"found undefined tag handle",
	}
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names the kind of a node for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	n = resolve(n)
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!str":
		if len(n.Value) > 40 {
			return fmt.Sprintf("the string %q…", n.Value[:40])
		}
		return fmt.Sprintf("the string %q", n.Value)
	case "!!int", "!!float":
		return "the number " + n.Value
	case "!!bool":
		return "the boolean " + n.Value
	case "!!null":
		return "nothing (null)"
	}
	return fmt.Sprintf("%s %q", n.ShortTag(), n.Value)
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// mapping returns the pairs of a mapping node in document order. A null
// node is an empty mapping. Duplicate keys are an error, and YAML merge
// keys (<<: *anchor) are applied, the mapping's own keys winning.
func (p *parser) mapping(n *yaml.Node, path string) ([]pair, error) {
	n = resolve(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, path, "want a mapping, got %s", describe(n))
	}
	var own, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			more, err := p.mergeSources(v, path)
			if err != nil {
				return nil, err
			}
			merged = append(merged, more...)
			continue
		}
		rk := resolve(k)
		if rk.Kind != yaml.ScalarNode || isNull(rk) {
			return nil, p.errAt(k, path, "a key must be a string, got %s", describe(k))
		}
		if first, ok := seen[rk.Value]; ok {
			return nil, p.errAt(k, join(path, rk.Value), "duplicate key %q (first at line %d)", rk.Value, first.Line)
		}
		seen[rk.Value] = k
		own = append(own, pair{key: k, val: v, name: rk.Value, path: join(path, rk.Value)})
	}
	for _, kv := range merged {
		if _, ok := seen[kv.name]; !ok {
			seen[kv.name] = kv.key
			own = append(own, kv)
		}
	}
	return own, nil
}

// mergeSources are the pairs a merge key brings in: one mapping or a list
// of them, earlier ones winning.
func (p *parser) mergeSources(v *yaml.Node, path string) ([]pair, error) {
	v = resolve(v)
	var sources []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{v}
	case yaml.SequenceNode:
		sources = v.Content
	default:
		return nil, p.errAt(v, path, "a merge key (<<) needs a mapping or a list of mappings, got %s", describe(v))
	}
	var out []pair
	seen := map[string]bool{}
	for _, src := range sources {
		pairs, err := p.mapping(src, path)
		if err != nil {
			return nil, err
		}
		for _, kv := range pairs {
			if !seen[kv.name] {
				seen[kv.name] = true
				out = append(out, kv)
			}
		}
	}
	return out, nil
}

// str is a scalar as a string. Numbers are accepted as written, since
// `arch: 386` or `arm: 7` are numbers to YAML.
func (p *parser) str(kv pair) (string, error) {
	v := resolve(kv.val)
	if v.Kind == yaml.ScalarNode {
		switch v.ShortTag() {
		case "!!str":
			return v.Value, nil
		case "!!int":
			return intString(v.Value), nil
		}
	}
	return "", p.errAt(v, kv.path, "want a string, got %s", describe(v))
}

// intString writes a YAML integer (0x1f, 0o17, 1_000) in decimal.
func intString(s string) string {
	if i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	return s
}

// scalar stringifies any scalar for a template property or a flag value:
// ints in decimal, booleans as true/false, anything else as written.
func (p *parser) scalar(kv pair, what string) (string, error) {
	v := resolve(kv.val)
	if v.Kind != yaml.ScalarNode {
		return "", p.errAt(v, kv.path, "%s must be a string, number or boolean, got %s", what, describe(v))
	}
	switch v.ShortTag() {
	case "!!int":
		return intString(v.Value), nil
	case "!!bool":
		return strconv.FormatBool(strings.EqualFold(v.Value, "true")), nil
	}
	return v.Value, nil
}

func (p *parser) boolean(kv pair) (bool, error) {
	v := resolve(kv.val)
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!bool" {
		return strings.EqualFold(v.Value, "true"), nil
	}
	return false, p.errAt(v, kv.path, "want true or false, got %s", describe(v))
}

// strList is a list of strings; a null is an empty list.
func (p *parser) strList(kv pair) ([]string, error) {
	v := resolve(kv.val)
	if isNull(v) {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, p.errAt(v, kv.path, "want a list of strings, got %s", describe(v))
	}
	out := make([]string, 0, len(v.Content))
	for i, item := range v.Content {
		s, err := p.str(pair{val: item, path: fmt.Sprintf("%s[%d]", kv.path, i)})
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// flagsMap parses the top-level flags_map.
func (p *parser) flagsMap(kv pair) (map[string]string, error) {
	pairs, err := p.mapping(kv.val, kv.path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(pairs))
	for _, f := range pairs {
		s, err := p.str(f)
		if err != nil {
			return nil, err
		}
		// -X wants importpath.name; catch a missing variable name here
		// rather than as a silently ignored linker flag later.
		dot := strings.LastIndex(s, ".")
		if dot <= strings.LastIndex(s, "/") || dot == len(s)-1 || strings.ContainsAny(s, " \t=") {
			return nil, p.errAt(resolve(f.val), f.path, "want an import path and variable such as example.com/app/build.Version, got %q", s)
		}
		out[f.name] = s
	}
	return out, nil
}

// section splits a compile_targets or packages mapping into its defaults
// and its named entries, in document order.
func (p *parser) section(kv pair, kind string) (defaults []pair, entries []pair, err error) {
	pairs, err := p.mapping(kv.val, kv.path)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range pairs {
		if e.name == keyDefaults {
			if defaults, err = p.mapping(e.val, e.path); err != nil {
				return nil, nil, err
			}
			continue
		}
		if !entryNameRE.MatchString(e.name) {
			return nil, nil, p.errAt(e.key, e.path, "%s name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", kind, e.name)
		}
		entries = append(entries, e)
	}
	return defaults, entries, nil
}

// flavour parses one top-level flavour.
func (p *parser) flavour(spec *Spec, kv pair, project string) (*Flavour, error) {
	fl := &Flavour{Name: kv.name}
	v := resolve(kv.val)
	if !isNull(v) && v.Kind != yaml.MappingNode {
		// A top-level key that is not a flavour is most likely a
		// misspelt flags_map.
		if hint := didYouMean(kv.name, []string{keyFlagsMap}); hint != "" {
			return nil, p.errAt(kv.key, kv.path, "unknown top-level key%s", hint)
		}
		return nil, p.errAt(v, kv.path, "a flavour must be a mapping with compile_targets and packages, got %s", describe(v))
	}
	pairs, err := p.mapping(v, kv.path)
	if err != nil {
		return nil, err
	}
	var targets, packages, publish *pair
	for i, f := range pairs {
		switch f.name {
		case keyCompileTargets:
			targets = &pairs[i]
		case keyPackages:
			packages = &pairs[i]
		case keyPublish:
			publish = &pairs[i]
		default:
			if hint := didYouMean(kv.name, []string{keyFlagsMap}); hint != "" {
				return nil, p.errAt(kv.key, kv.path, "unknown top-level key%s", hint)
			}
			return nil, p.errAt(f.key, f.path, "unknown key; a flavour has compile_targets, packages and publish%s",
				didYouMean(f.name, []string{keyCompileTargets, keyPackages, keyPublish}))
		}
	}
	if targets == nil {
		return nil, p.errAt(kv.key, kv.path, "flavour %s has no compile_targets", kv.name)
	}

	// Packages first: the product name, which default outputs use,
	// comes from their defaults.
	var pkgDefaults, pkgEntries []pair
	if packages != nil {
		if pkgDefaults, pkgEntries, err = p.section(*packages, "package"); err != nil {
			return nil, err
		}
	}
	fl.Product = project
	productNode := kv.key
	for _, f := range pkgDefaults {
		if f.name == "name" && !isNull(f.val) {
			if fl.Product, err = p.scalar(f, "name"); err != nil {
				return nil, err
			}
			productNode = resolve(f.val)
		}
	}
	if fl.Product == "" || strings.ContainsAny(fl.Product, "/\\ \t") || fl.Product == "." || fl.Product == ".." {
		return nil, p.errAt(productNode, join(kv.path, "packages.defaults.name"),
			"no usable product name %q: set packages.defaults.name", fl.Product)
	}

	tDefaults, tEntries, err := p.section(*targets, "compile target")
	if err != nil {
		return nil, err
	}
	if len(tEntries) == 0 {
		return nil, p.errAt(targets.key, targets.path, "flavour %s has no compile targets besides defaults", kv.name)
	}
	// The defaults alone are checked too, so that a mistake in them is
	// reported even when every target overrides the key.
	defaultsPath := join(targets.path, keyDefaults)
	if _, err := p.target(spec, fl, keyDefaults, defaultsPath, nil, nil, tDefaults, true); err != nil {
		return nil, err
	}
	outputs := map[string]string{}
	for _, e := range tEntries {
		own, err := p.mapping(e.val, e.path)
		if err != nil {
			return nil, err
		}
		t, err := p.target(spec, fl, e.name, e.path, e.key, tDefaults, own, false)
		if err != nil {
			return nil, err
		}
		// Two targets writing the same file would silently overwrite
		// each other in dist/binaries.
		name := t.OutputName("{{version}}")
		if other, ok := outputs[name]; ok {
			at, field := e.key, join(e.path, "output")
			if f, ok := lookup(own, tDefaults, "output"); ok {
				at, field = resolve(f.val), f.path
			}
			return nil, p.errAt(at, field, "compile targets %s and %s both write %q; give each its own output", other, t.Name, name)
		}
		outputs[name] = t.Name
		fl.CompileTargets = append(fl.CompileTargets, t)
	}
	sort.Slice(fl.CompileTargets, func(i, j int) bool { return fl.CompileTargets[i].Name < fl.CompileTargets[j].Name })

	targetNames := make([]string, len(fl.CompileTargets))
	for i, t := range fl.CompileTargets {
		targetNames[i] = t.Name
	}
	if _, err := p.pkg(fl, keyDefaults, join(packages.pathOr(kv.path), keyDefaults), nil, nil, pkgDefaults, targetNames, true); err != nil {
		return nil, err
	}
	for _, e := range pkgEntries {
		own, err := p.mapping(e.val, e.path)
		if err != nil {
			return nil, err
		}
		pk, err := p.pkg(fl, e.name, e.path, e.key, pkgDefaults, own, targetNames, false)
		if err != nil {
			return nil, err
		}
		fl.Packages = append(fl.Packages, pk)
	}
	sort.Slice(fl.Packages, func(i, j int) bool { return fl.Packages[i].Name < fl.Packages[j].Name })
	if publish != nil {
		if fl.Publish, err = p.publish(fl, *publish); err != nil {
			return nil, err
		}
	}
	return fl, nil
}

// pathOr is the pair's path, or base joined with packages when the pair
// is missing.
func (kv *pair) pathOr(base string) string {
	if kv == nil {
		return join(base, keyPackages)
	}
	return kv.path
}

// lookup finds key in an entry's own pairs, else in its defaults. An own
// null hides the default: it unsets the key.
func lookup(own, defaults []pair, key string) (pair, bool) {
	for _, f := range own {
		if f.name == key {
			return f, !isNull(f.val)
		}
	}
	for _, f := range defaults {
		if f.name == key {
			return f, !isNull(f.val)
		}
	}
	return pair{}, false
}

// ownHas reports whether the entry sets key itself.
func ownHas(own []pair, key string) bool {
	for _, f := range own {
		if f.name == key {
			return true
		}
	}
	return false
}

// target builds one compile target from its own pairs and the section's
// defaults. With partial set (checking the defaults alone) the keys that
// must be present and the checks across keys are skipped.
func (p *parser) target(spec *Spec, fl *Flavour, name, path string, key *yaml.Node, defaults, own []pair, partial bool) (*CompileTarget, error) {
	for _, f := range own {
		if !contains(targetKeys(), f.name) {
			return nil, p.errAt(f.key, f.path, "unknown compile target key%s", didYouMean(f.name, targetKeys()))
		}
	}
	t := &CompileTarget{Name: name, Package: ".", Output: defaultOutput(fl.Product), Line: line(key)}
	get := func(k string) (pair, bool) { return lookup(own, defaults, k) }
	var err error
	str := func(k string, dst *string) {
		if f, ok := get(k); ok && err == nil {
			*dst, err = p.str(f)
		}
	}
	str("os", &t.OS)
	str("arch", &t.Arch)
	str("arm", &t.ARM)
	str("amd64", &t.AMD64)
	str("output", &t.Output)
	str("ldflags", &t.LDFlags)
	str("package", &t.Package)
	if err != nil {
		return nil, err
	}
	for _, l := range []struct {
		key string
		dst *[]string
	}{{"pre", &t.Pre}, {"post", &t.Post}, {"tags", &t.Tags}} {
		if f, ok := get(l.key); ok {
			if *l.dst, err = p.strList(f); err != nil {
				return nil, err
			}
		}
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{"cgo", &t.CGO}, {"pie", &t.PIE}} {
		if f, ok := get(b.key); ok {
			if *b.dst, err = p.boolean(f); err != nil {
				return nil, err
			}
		}
	}
	if t.Flags, err = p.flags(spec, own, defaults); err != nil {
		return nil, err
	}
	if t.Env, err = p.env(own, defaults); err != nil {
		return nil, err
	}
	if f, ok := get("output"); ok {
		if msg := checkOutput(t.Output); msg != "" {
			return nil, p.errAt(resolve(f.val), f.path, "%s", msg)
		}
	}
	if f, ok := get("package"); ok && strings.TrimSpace(t.Package) == "" {
		return nil, p.errAt(resolve(f.val), f.path, "must name the main package, e.g. . or ./cmd/app")
	}
	for i, tag := range t.Tags {
		if tag == "" || strings.ContainsAny(tag, ", \t") {
			f, _ := get("tags")
			return nil, p.errAt(resolve(f.val), fmt.Sprintf("%s[%d]", f.path, i), "build tag %q: one tag per item, no spaces or commas", tag)
		}
	}
	if f, ok := get("arm"); ok && !contains([]string{"5", "6", "7"}, t.ARM) {
		return nil, p.errAt(resolve(f.val), f.path, "GOARM %q: want 5, 6 or 7", t.ARM)
	}
	if f, ok := get("amd64"); ok && !contains([]string{"v1", "v2", "v3", "v4"}, t.AMD64) {
		return nil, p.errAt(resolve(f.val), f.path, "GOAMD64 %q: want v1, v2, v3 or v4", t.AMD64)
	}
	if partial {
		return t, nil
	}

	osField, hasOS := get("os")
	archField, hasArch := get("arch")
	switch {
	case !hasOS:
		return nil, p.errAt(key, join(path, "os"), "required: the GOOS to build for, e.g. linux")
	case !hasArch:
		return nil, p.errAt(key, join(path, "arch"), "required: the GOARCH to build for, e.g. amd64")
	case !contains(portOSes(), t.OS):
		return nil, p.errAt(resolve(osField.val), osField.path, "unsupported os %q; supported: %s%s",
			t.OS, strings.Join(portOSes(), ", "), didYouMean(t.OS, portOSes()))
	case !supportedPort(t.OS, t.Arch):
		return nil, p.errAt(resolve(archField.val), archField.path, "unsupported os/arch %s/%s; %s supports: %s%s",
			t.OS, t.Arch, t.OS, strings.Join(portArches(t.OS), ", "), didYouMean(t.Arch, portArches(t.OS)))
	}
	// A level set in the defaults applies to the targets of its arch
	// only; set on the target itself for another arch it is a mistake.
	if t.Arch != "arm" && t.ARM != "" {
		if ownHas(own, "arm") {
			f, _ := get("arm")
			return nil, p.errAt(resolve(f.val), f.path, "arm (GOARM) is only for arch arm, not %s", t.Arch)
		}
		t.ARM = ""
	}
	if t.Arch != "amd64" && t.AMD64 != "" {
		if ownHas(own, "amd64") {
			f, _ := get("amd64")
			return nil, p.errAt(resolve(f.val), f.path, "amd64 (GOAMD64) is only for arch amd64, not %s", t.Arch)
		}
		t.AMD64 = ""
	}
	if t.Arch == "amd64" && t.AMD64 == "" {
		t.AMD64 = "v1"
	}
	return t, nil
}

// flags merges the defaults' flags with the target's own, key by key, and
// checks every name against flags_map.
func (p *parser) flags(spec *Spec, own, defaults []pair) (map[string]string, error) {
	out := map[string]string{}
	for _, src := range [][]pair{defaults, own} {
		for _, f := range src {
			if f.name != "flags" {
				continue
			}
			pairs, err := p.mapping(f.val, f.path)
			if err != nil {
				return nil, err
			}
			if isNull(f.val) {
				// An explicit null drops the inherited flags.
				clear(out)
			}
			for _, fl := range pairs {
				switch {
				case fl.name == FlagVersion || fl.name == FlagSHA || fl.name == FlagBuildTime:
					return nil, p.errAt(fl.key, fl.path, "%s is reserved: packyard sets it from the version and commit", fl.name)
				case spec.FlagsMap[fl.name] == "":
					names := make([]string, 0, len(spec.FlagsMap))
					for n := range spec.FlagsMap {
						names = append(names, n)
					}
					return nil, p.errAt(fl.key, fl.path, "flag %q is not in flags_map%s", fl.name, didYouMean(fl.name, names))
				}
				if isNull(fl.val) {
					delete(out, fl.name)
					continue
				}
				s, err := p.scalar(fl, "a flag value")
				if err != nil {
					return nil, err
				}
				out[fl.name] = s
			}
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// env merges the defaults' env with the target's own, key by key; each
// may be a mapping or a list of KEY=VALUE. The result is sorted.
func (p *parser) env(own, defaults []pair) ([]string, error) {
	vars := map[string]string{}
	for _, src := range [][]pair{defaults, own} {
		for _, f := range src {
			if f.name != "env" {
				continue
			}
			if isNull(f.val) {
				clear(vars)
				continue
			}
			set, err := p.envVars(f)
			if err != nil {
				return nil, err
			}
			for k, v := range set {
				vars[k] = v
			}
		}
	}
	if len(vars) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out, nil
}

// envVars reads one env value, a mapping or a list of KEY=VALUE.
func (p *parser) envVars(f pair) (map[string]string, error) {
	vars := map[string]string{}
	check := func(k string, at *yaml.Node, path string) error {
		if k == "" || strings.ContainsAny(k, "= \t") {
			return p.errAt(at, path, "environment variable name %q is not valid", k)
		}
		if contains(envReserved(), k) {
			return p.errAt(at, path, "%s is set from the target's os, arch, arm, amd64 and cgo keys; use those", k)
		}
		return nil
	}
	v := resolve(f.val)
	switch v.Kind {
	case yaml.MappingNode:
		pairs, err := p.mapping(v, f.path)
		if err != nil {
			return nil, err
		}
		for _, e := range pairs {
			if err := check(e.name, e.key, e.path); err != nil {
				return nil, err
			}
			val := ""
			if !isNull(e.val) {
				if val, err = p.scalar(e, "an environment value"); err != nil {
					return nil, err
				}
			}
			vars[e.name] = val
		}
	case yaml.SequenceNode:
		items, err := p.strList(f)
		if err != nil {
			return nil, err
		}
		for i, item := range items {
			at, path := resolve(v.Content[i]), fmt.Sprintf("%s[%d]", f.path, i)
			k, val, ok := strings.Cut(item, "=")
			if !ok {
				return nil, p.errAt(at, path, "want KEY=VALUE, got %q", item)
			}
			if err := check(k, at, path); err != nil {
				return nil, err
			}
			if _, dup := vars[k]; dup {
				return nil, p.errAt(at, path, "%s is set twice", k)
			}
			vars[k] = val
		}
	default:
		return nil, p.errAt(v, f.path, "want a mapping or a list of KEY=VALUE, got %s", describe(v))
	}
	return vars, nil
}

// pkg builds one package from its own pairs and the section's defaults.
// With partial set (checking the defaults alone) template and binary are
// not required.
func (p *parser) pkg(fl *Flavour, name, path string, key *yaml.Node, defaults, own []pair, targets []string, partial bool) (*Package, error) {
	pk := &Package{Name: name, Properties: map[string]string{}, Line: line(key), Keys: map[string]Position{}}
	// The package itself, under "", for messages about a key it lacks.
	pk.Keys[""] = Position{Line: line(key), Field: path}
	if key != nil {
		pk.Keys[""] = Position{Line: key.Line, Col: key.Column, Field: path}
	}
	// Defaults first, then the entry's own pairs, key by key; an own null
	// removes the default.
	for _, src := range [][]pair{defaults, own} {
		for _, f := range src {
			pk.Keys[f.name] = Position{Line: f.key.Line, Col: f.key.Column, Field: f.path}
			if isNull(f.val) {
				delete(pk.Keys, f.name)
				delete(pk.Properties, f.name)
				switch f.name {
				case "template":
					pk.Template = ""
				case "binary":
					pk.Binary = ""
				}
				continue
			}
			switch f.name {
			case "template":
				s, err := p.str(f)
				if err != nil {
					return nil, err
				}
				clean := filepath.ToSlash(filepath.Clean(s))
				if s == "" || strings.HasPrefix(clean, "/") || clean == ".." || strings.HasPrefix(clean, "../") {
					return nil, p.errAt(resolve(f.val), f.path, "template %q: want a template name such as el/el8", s)
				}
				pk.Template = s
			case "binary":
				s, err := p.str(f)
				if err != nil {
					return nil, err
				}
				if !contains(targets, s) {
					return nil, p.errAt(resolve(f.val), f.path, "no compile target %q in flavour %s%s", s, fl.Name, didYouMean(s, targets))
				}
				pk.Binary = s
			default:
				s, err := p.scalar(f, "a template property")
				if err != nil {
					return nil, err
				}
				pk.Properties[f.name] = s
			}
		}
	}
	if partial {
		return pk, nil
	}
	if pk.Template == "" {
		return nil, p.errAt(key, join(path, "template"), "required: the package template, e.g. el/el8 or debian/generic%s",
			misspelt(pk.Properties, "template"))
	}
	if pk.Binary == "" {
		return nil, p.errAt(key, join(path, "binary"), "required: the compile target whose binary is packaged; one of %s%s",
			quotedList(targets), misspelt(pk.Properties, "binary"))
	}
	return pk, nil
}

// misspelt points at a property that looks like a misspelling of the
// required key want, since any unknown package key is taken as a template
// property and the typo would otherwise go unexplained.
func misspelt(props map[string]string, want string) string {
	names := make([]string, 0, len(props))
	for n := range props {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if didYouMean(n, []string{want}) != "" {
			return fmt.Sprintf(" (is the property %q meant to be %q?)", n, want)
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// line is the line of n in the spec, 0 when unknown.
func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}
