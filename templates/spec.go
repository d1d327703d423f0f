package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Formats a template may produce.
const (
	FormatRPM  = "rpm"
	FormatDeb  = "deb"
	FormatRpkg = "rpkg"
	FormatTar  = "tar"
	// FormatZip is a tar template rendered for a package whose format
	// property is zip (Choria's archive/basic and windows archives): the
	// same contents, written as a zip. It is never a template.yaml format.
	FormatZip = "zip"
)

// Spec is a template's template.yaml: what the package is made of. The
// global file of a family and the named template's file are merged into
// one Spec (see merge).
type Spec struct {
	// Format is the package format: rpm, deb, rpkg or tar.
	Format string `yaml:"format"`
	// RequiredProperties must be set by the package (or by Properties).
	RequiredProperties []string `yaml:"required_properties"`
	// Properties are defaults for properties the package may leave out.
	Properties map[string]string `yaml:"properties"`
	// Info holds the package metadata, each value a text/template.
	Info InfoSpec `yaml:"info"`
	// Contents is the payload, in order.
	Contents []ContentSpec `yaml:"contents"`
	// Scripts names, per hook, the template file holding the script.
	Scripts ScriptsSpec `yaml:"scripts"`
	// Extra becomes pack.Info.Properties, each value a text/template;
	// writers read their format-specific keys from it (rpkg.*).
	Extra map[string]string `yaml:"extra"`
}

// InfoSpec is the package metadata of a Spec; every value is a
// text/template rendered with the package's properties.
type InfoSpec struct {
	Name        string   `yaml:"name"`
	Version     string   `yaml:"version"`
	Release     string   `yaml:"release"`
	Epoch       string   `yaml:"epoch"`
	Arch        string   `yaml:"arch"`
	Summary     string   `yaml:"summary"`
	Description string   `yaml:"description"`
	Maintainer  string   `yaml:"maintainer"`
	Vendor      string   `yaml:"vendor"`
	Homepage    string   `yaml:"homepage"`
	License     string   `yaml:"license"`
	Group       string   `yaml:"group"`
	Section     string   `yaml:"section"`
	Priority    string   `yaml:"priority"`
	Dist        string   `yaml:"dist"`
	Changelog   string   `yaml:"changelog"`
	Depends     []string `yaml:"depends"`
	Recommends  []string `yaml:"recommends"`
	Provides    []string `yaml:"provides"`
	Conflicts   []string `yaml:"conflicts"`
	Replaces    []string `yaml:"replaces"`
}

// ScriptsSpec names the template file of each maintainer script hook.
type ScriptsSpec struct {
	PreInstall  string `yaml:"preinstall"`
	PostInstall string `yaml:"postinstall"`
	PreRemove   string `yaml:"preremove"`
	PostRemove  string `yaml:"postremove"`
	PostTrans   string `yaml:"posttrans"`
}

// ContentSpec is one declared payload entry.
type ContentSpec struct {
	// Src is a file of the template directory, rendered as a template,
	// or "{{binary}}" for the compiled binary, or a symlink's target.
	Src string `yaml:"src"`
	// Dst is the installed path, a template.
	Dst string `yaml:"dst"`
	// Type is file, config, config|noreplace, dir or symlink.
	Type string `yaml:"type"`
	// Mode is octal, e.g. "0644"; files default to 0644, dirs and the
	// binary to 0755.
	Mode  string `yaml:"mode"`
	Owner string `yaml:"owner"`
	Group string `yaml:"group"`
	// When, if set, is a template; the entry is shipped only when it
	// renders to a true value (anything but "", "0", "false", "no").
	When string `yaml:"when"`
	// Verbatim copies Src's bytes without rendering them.
	Verbatim bool `yaml:"verbatim"`
	// Each, if set, is a template rendering to a space-separated list:
	// the entry is shipped once per word, with the word as {{.item}}
	// (e.g. each: "{{.services}}", src: "{{.item}}.service").
	Each string `yaml:"each"`

	// file and line where the entry was declared, for messages, and
	// at, the two as where() gives them: made once, as every value the
	// entry renders is named after it.
	file string
	line int
	at   string
}

var contentKeys = map[string]bool{
	"src": true, "dst": true, "type": true, "mode": true, "owner": true,
	"group": true, "when": true, "verbatim": true, "each": true,
}

// UnmarshalYAML decodes one entry strictly and remembers its line: a
// nested Decode does not inherit the decoder's KnownFields setting.
func (c *ContentSpec) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a content entry must be a mapping", n.Line)
	}
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if !contentKeys[k.Value] {
			return fmt.Errorf("line %d: unknown content key %q", k.Line, k.Value)
		}
	}
	type plain ContentSpec
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*c = ContentSpec(p)
	c.line = n.Line
	return nil
}

// where names the declaration of c for messages.
func (c *ContentSpec) where() string {
	if c.at == "" {
		return fmt.Sprintf("%s:%d", c.file, c.line)
	}
	return c.at
}

// parseSpec strictly decodes a template.yaml; name is used in messages.
func parseSpec(name string, data []byte) (*Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		if !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		// An empty template.yaml is an empty Spec.
	}
	for i := range s.Contents {
		s.Contents[i].file = name
		s.Contents[i].at = fmt.Sprintf("%s:%d", name, s.Contents[i].line)
		if err := s.Contents[i].validate(); err != nil {
			return nil, err
		}
	}
	switch s.Format {
	case "", FormatRPM, FormatDeb, FormatRpkg, FormatTar:
	default:
		return nil, fmt.Errorf("%s: format %q: want rpm, deb, rpkg or tar", name, s.Format)
	}
	return &s, nil
}

func (c *ContentSpec) validate() error {
	switch c.Type {
	case "", "file", "config", "config|noreplace", "dir", "symlink":
	default:
		return fmt.Errorf("%s: content type %q: want file, config, config|noreplace, dir or symlink", c.where(), c.Type)
	}
	if c.Dst == "" {
		return fmt.Errorf("%s: content entry without dst", c.where())
	}
	if c.Src == "" && c.Type != "dir" {
		return fmt.Errorf("%s: content entry %s without src", c.where(), c.Dst)
	}
	if c.Mode != "" {
		if _, err := parseMode(c.Mode); err != nil {
			return fmt.Errorf("%s: mode %q: %w", c.where(), c.Mode, err)
		}
	}
	return nil
}

func parseMode(s string) (fs.FileMode, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, errors.New("want an octal mode such as 0644")
	}
	return fs.FileMode(m), nil
}

// merge lays over on top of base: scalars and script hooks that over sets
// win, maps merge key by key, required properties are the union, and a
// content entry of over replaces the base entry with the same dst.
func merge(base, over *Spec) *Spec {
	out := *base
	out.Format = pick(over.Format, base.Format)
	out.RequiredProperties = append(append([]string(nil), base.RequiredProperties...), over.RequiredProperties...)
	out.Properties = mergeMap(base.Properties, over.Properties)
	out.Extra = mergeMap(base.Extra, over.Extra)
	out.Info = mergeInfo(base.Info, over.Info)
	out.Scripts = ScriptsSpec{
		PreInstall:  pick(over.Scripts.PreInstall, base.Scripts.PreInstall),
		PostInstall: pick(over.Scripts.PostInstall, base.Scripts.PostInstall),
		PreRemove:   pick(over.Scripts.PreRemove, base.Scripts.PreRemove),
		PostRemove:  pick(over.Scripts.PostRemove, base.Scripts.PostRemove),
		PostTrans:   pick(over.Scripts.PostTrans, base.Scripts.PostTrans),
	}
	replaced := map[string]bool{}
	for _, c := range over.Contents {
		replaced[c.Dst] = true
	}
	out.Contents = nil
	for _, c := range base.Contents {
		if !replaced[c.Dst] {
			out.Contents = append(out.Contents, c)
		}
	}
	out.Contents = append(out.Contents, over.Contents...)
	return &out
}

func mergeInfo(b, o InfoSpec) InfoSpec {
	return InfoSpec{
		Name:        pick(o.Name, b.Name),
		Version:     pick(o.Version, b.Version),
		Release:     pick(o.Release, b.Release),
		Epoch:       pick(o.Epoch, b.Epoch),
		Arch:        pick(o.Arch, b.Arch),
		Summary:     pick(o.Summary, b.Summary),
		Description: pick(o.Description, b.Description),
		Maintainer:  pick(o.Maintainer, b.Maintainer),
		Vendor:      pick(o.Vendor, b.Vendor),
		Homepage:    pick(o.Homepage, b.Homepage),
		License:     pick(o.License, b.License),
		Group:       pick(o.Group, b.Group),
		Section:     pick(o.Section, b.Section),
		Priority:    pick(o.Priority, b.Priority),
		Dist:        pick(o.Dist, b.Dist),
		Changelog:   pick(o.Changelog, b.Changelog),
		Depends:     pickList(o.Depends, b.Depends),
		Recommends:  pickList(o.Recommends, b.Recommends),
		Provides:    pickList(o.Provides, b.Provides),
		Conflicts:   pickList(o.Conflicts, b.Conflicts),
		Replaces:    pickList(o.Replaces, b.Replaces),
	}
}

func pick(over, base string) string {
	if over != "" {
		return over
	}
	return base
}

func pickList(over, base []string) []string {
	if over != nil {
		return over
	}
	return base
}

func mergeMap(base, over map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// truthy reports whether a rendered "when" condition holds.
func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "false", "no":
		return false
	}
	return true
}
