// Package plugins reads a project's compile-time plugin manifests and turns
// them into Go code, as Choria does: packager/plugins.yaml holds the
// project's default plugins, packager/user_plugins.yaml the user's changes,
// and `packyard codegen` writes one plugin_NAME.go per plugin into the main
// package and pins each plugin's module in go.mod, the way xcaddy and the
// OpenTelemetry Collector Builder do.
package plugins

import (
	"errors"
	"fmt"
	"go/parser"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"gopkg.in/yaml.v3"
)

// The manifests, relative to the project root.
const (
	DefaultsFile = "packager/plugins.yaml"
	UserFile     = "packager/user_plugins.yaml"
)

// Plugin is one compile-time plugin.
type Plugin struct {
	// Name is the plugin's name; the generated file is plugin_NAME.go.
	Name string
	// Import is the Go package path of the plugin.
	Import string
	// Version, when set, pins the plugin's module in go.mod (vX.Y.Z).
	Version string
	// Replace, when set, is a local directory (./ or ../, relative to the
	// module root, or absolute) holding the plugin's module.
	Replace string
	// Register, when set, is a Go expression of type error that registers
	// the plugin; it runs in the generated init. It may use the plugin's
	// package as plugin_NAME (see Alias) and every package in Imports by
	// its package name. Without Register the package is imported blank and
	// registers itself in its own init.
	Register string
	// Imports are extra import paths the Register expression needs, such
	// as the project's registry package.
	Imports []string
	// File and Line say where the entry was read, for messages about it
	// that come later (resolving its module); empty for plugins built in
	// code.
	File string
	Line int
}

// where is "FILE:LINE: " for a plugin read from a manifest, else "".
func (p Plugin) where() string {
	if p.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d: ", p.File, p.Line)
}

// Alias is the identifier the generated file imports the plugin's package
// as when the plugin has a Register expression. The prefix keeps it clear
// of Go keywords and of the project's own package names.
func (p Plugin) Alias() string { return "plugin_" + p.Name }

// Error is a problem in a manifest, located to the file, line and column.
type Error struct {
	File  string
	Line  int // 1-based; 0 when unknown
	Col   int // 1-based; 0 when unknown
	Field string
	Msg   string
}

// Error formats as FILE:LINE:COL: FIELD: MSG, leaving out what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Load reads projectDir's plugin manifests, both optional, applies
// user_plugins.yaml over plugins.yaml and returns the plugins sorted by
// name. A user entry replaces a default entry of the same name whole; a
// user entry that is null or {remove: true} drops the default entry.
func Load(projectDir string) ([]Plugin, error) {
	defaults, err := loadFile(filepath.Join(projectDir, DefaultsFile), false)
	if err != nil {
		return nil, err
	}
	user, err := loadFile(filepath.Join(projectDir, UserFile), true)
	if err != nil {
		return nil, err
	}
	merged := make(map[string]Plugin, len(defaults.plugins))
	for _, p := range defaults.plugins {
		merged[p.Name] = p
	}
	for _, e := range user.entries {
		if e.remove {
			if _, ok := merged[e.plugin.Name]; !ok {
				return nil, e.errorf("no plugin %q in %s to remove", e.plugin.Name, DefaultsFile)
			}
			delete(merged, e.plugin.Name)
			continue
		}
		merged[e.plugin.Name] = e.plugin
	}
	out := make([]Plugin, 0, len(merged))
	for _, p := range merged {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// entry is one parsed manifest entry with its position, kept for errors
// found while merging.
type entry struct {
	plugin Plugin
	remove bool
	file   string
	node   *yaml.Node
}

func (e entry) errorf(format string, args ...any) error {
	return &Error{File: e.file, Line: e.node.Line, Col: e.node.Column, Field: e.plugin.Name, Msg: fmt.Sprintf(format, args...)}
}

type manifest struct {
	entries []entry
	plugins []Plugin // the entries that are not removals
}

// loadFile parses one manifest; a missing file is an empty manifest.
// allowRemove says whether removal entries are allowed (user file only).
func loadFile(path string, allowRemove bool) (*manifest, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &manifest{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plugins: %w", err)
	}
	return parse(path, data, allowRemove)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parse(path string, data []byte, allowRemove bool) (*manifest, error) {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &manifest{}, nil
		}
		e := &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Msg = m[2]
		}
		return nil, e
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: path, Line: extra.Line, Col: extra.Column, Msg: "more than one YAML document"}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return &manifest{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: path, Line: root.Line, Col: root.Column, Msg: "want a mapping of plugin names to import paths"}
	}
	m := &manifest{}
	seen := make(map[string]int)
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag != "!!str" && k.Tag != "!!int" && k.Tag != "!!bool" {
			return nil, &Error{File: path, Line: k.Line, Col: k.Column, Msg: "plugin name must be a string"}
		}
		name := k.Value
		if prev, dup := seen[name]; dup {
			return nil, &Error{File: path, Line: k.Line, Col: k.Column, Field: name, Msg: fmt.Sprintf("duplicate plugin name (first on line %d)", prev)}
		}
		seen[name] = k.Line
		if msg := checkName(name); msg != "" {
			return nil, &Error{File: path, Line: k.Line, Col: k.Column, Field: name, Msg: msg}
		}
		e, err := parseEntry(path, name, v, allowRemove)
		if err != nil {
			return nil, err
		}
		e.plugin.Line = k.Line
		m.entries = append(m.entries, e)
		if !e.remove {
			m.plugins = append(m.plugins, e.plugin)
		}
	}
	return m, nil
}

// checkName explains why name cannot be a plugin name, or returns "".
func checkName(name string) string {
	if !namePattern.MatchString(name) {
		return fmt.Sprintf("bad plugin name %q (want lower case letters, digits and _, starting with a letter)", name)
	}
	// plugin_NAME.go must not turn into a test file or a file that the Go
	// tool builds only for one GOOS or GOARCH.
	parts := strings.Split(name, "_")
	if last := parts[len(parts)-1]; last == "test" || knownOS[last] || knownArch[last] {
		return fmt.Sprintf("bad plugin name %q: plugin_%s.go would be a test or GOOS/GOARCH-specific file", name, name)
	}
	return ""
}

func parseEntry(path, name string, v *yaml.Node, allowRemove bool) (entry, error) {
	e := entry{plugin: Plugin{Name: name, File: path}, file: path, node: v}
	fail := func(n *yaml.Node, field, format string, args ...any) (entry, error) {
		f := name
		if field != "" {
			f += "." + field
		}
		return entry{}, &Error{File: path, Line: n.Line, Col: n.Column, Field: f, Msg: fmt.Sprintf(format, args...)}
	}
	switch {
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		if !allowRemove {
			return fail(v, "", "null removes a plugin and is only allowed in %s", UserFile)
		}
		e.remove = true
		return e, nil
	case v.Kind == yaml.ScalarNode && v.Tag == "!!str":
		e.plugin.Import = v.Value
		if err := module.CheckImportPath(v.Value); err != nil {
			return fail(v, "", "bad import path %q: %v", v.Value, unwrapModuleErr(err))
		}
		return e, nil
	case v.Kind != yaml.MappingNode:
		return fail(v, "", "want an import path or a mapping with import, version, replace, register, imports")
	}

	seen := make(map[string]bool)
	var removeNode *yaml.Node
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		key := k.Value
		if seen[key] {
			return fail(k, key, "duplicate key")
		}
		seen[key] = true
		switch key {
		case "import", "version", "replace", "register":
			if val.Kind != yaml.ScalarNode || val.Tag != "!!str" {
				return fail(val, key, "want a string")
			}
		}
		switch key {
		case "import":
			if err := module.CheckImportPath(val.Value); err != nil {
				return fail(val, key, "bad import path %q: %v", val.Value, unwrapModuleErr(err))
			}
			e.plugin.Import = val.Value
		case "version":
			if !isModuleVersion(val.Value) {
				return fail(val, key, "%q is not a semantic version (want vX.Y.Z)", val.Value)
			}
			e.plugin.Version = val.Value
		case "replace":
			r := val.Value
			if !filepath.IsAbs(r) && !strings.HasPrefix(r, "./") && !strings.HasPrefix(r, "../") && r != "." && r != ".." {
				return fail(val, key, "%q is not a local directory (want ./dir, ../dir or an absolute path)", r)
			}
			e.plugin.Replace = r
		case "register":
			if _, err := parser.ParseExpr(val.Value); err != nil {
				return fail(val, key, "not a Go expression: %v", err)
			}
			e.plugin.Register = val.Value
		case "imports":
			if val.Kind != yaml.SequenceNode {
				return fail(val, key, "want a list of import paths")
			}
			for _, item := range val.Content {
				if item.Kind != yaml.ScalarNode || item.Tag != "!!str" {
					return fail(item, key, "want an import path")
				}
				if err := module.CheckImportPath(item.Value); err != nil {
					return fail(item, key, "bad import path %q: %v", item.Value, unwrapModuleErr(err))
				}
				for _, prev := range e.plugin.Imports {
					if prev == item.Value {
						return fail(item, key, "%q listed twice", item.Value)
					}
				}
				e.plugin.Imports = append(e.plugin.Imports, item.Value)
			}
		case "remove":
			if val.Kind != yaml.ScalarNode || val.Tag != "!!bool" {
				return fail(val, key, "want true or false")
			}
			if !allowRemove {
				return fail(val, key, "only allowed in %s", UserFile)
			}
			e.remove = val.Value == "true" || val.Value == "True" || val.Value == "TRUE"
			removeNode = val
		default:
			return fail(k, key, "unknown key (want import, version, replace, register, imports or remove)")
		}
	}
	if e.remove {
		if len(v.Content) > 2 {
			return fail(removeNode, "remove", "a removal takes no other keys")
		}
		return e, nil
	}
	if removeNode != nil && len(v.Content) == 2 {
		return fail(removeNode, "remove", "remove: false with nothing else is not a plugin")
	}
	if e.plugin.Import == "" {
		return fail(v, "import", "missing")
	}
	for _, imp := range e.plugin.Imports {
		if imp == e.plugin.Import {
			return fail(v, "imports", "lists the plugin's own import %q", imp)
		}
	}
	if len(e.plugin.Imports) > 0 && e.plugin.Register == "" {
		return fail(v, "imports", "only used by register, which is not set")
	}
	return e, nil
}

// isModuleVersion reports whether v can stand in a go.mod require: a
// canonical semantic version, optionally +incompatible.
func isModuleVersion(v string) bool {
	if !semver.IsValid(v) {
		return false
	}
	c := semver.Canonical(v)
	return v == c || v == c+"+incompatible"
}

// unwrapModuleErr drops the path the module package repeats in its
// messages, since ours already quotes it.
func unwrapModuleErr(err error) error {
	var ip *module.InvalidPathError
	if errors.As(err, &ip) && ip.Err != nil {
		return ip.Err
	}
	return err
}

// knownOS and knownArch are the file name suffixes the Go tool treats as
// build constraints (go/build's syslist), so names ending in them are
// refused.
var knownOS = map[string]bool{
	"aix": true, "android": true, "darwin": true, "dragonfly": true, "freebsd": true,
	"hurd": true, "illumos": true, "ios": true, "js": true, "linux": true, "nacl": true,
	"netbsd": true, "openbsd": true, "plan9": true, "solaris": true, "wasip1": true,
	"windows": true, "zos": true,
}

var knownArch = map[string]bool{
	"386": true, "amd64": true, "amd64p32": true, "arm": true, "armbe": true, "arm64": true,
	"arm64be": true, "loong64": true, "mips": true, "mipsle": true, "mips64": true,
	"mips64le": true, "mips64p32": true, "mips64p32le": true, "ppc": true, "ppc64": true,
	"ppc64le": true, "riscv": true, "riscv64": true, "s390": true, "s390x": true,
	"sparc": true, "sparc64": true, "wasm": true,
}
