// Package buildspec loads a Choria-style packager/buildspec.yaml, applies
// its defaults, validates it and turns one flavour of it into a Plan.
//
// The file format is Choria's: a flags_map of symbolic names to Go
// variables, and any other top-level key is a flavour holding
// compile_targets and packages, each with a "defaults" entry merged into
// every named entry.
package buildspec

// DefaultFile is where a project keeps its spec, relative to its root.
const DefaultFile = "packager/buildspec.yaml"

// DefaultFlavour is the flavour built when none is named.
const DefaultFlavour = "foss"

// Spec is a loaded and validated buildspec.yaml.
type Spec struct {
	// File is the path the spec was read from, for messages.
	File string
	// FlagsMap maps a symbolic flag name (Version, SHA, BuildTime, ...)
	// to the fully qualified Go variable set with -ldflags -X.
	FlagsMap map[string]string
	// Flavours by name.
	Flavours map[string]*Flavour
}

// Flavour is one top-level build of a spec, such as foss or acme.
type Flavour struct {
	Name string
	// Product names the release: the packages' defaults "name" property
	// when set, else the base name of the project directory (the spec
	// file's ../..). It prefixes the source tarball and default outputs.
	Product string
	// CompileTargets sorted by name, defaults already merged.
	CompileTargets []*CompileTarget
	// Packages sorted by name, defaults already merged.
	Packages []*Package
	// Publish holds the publish targets sorted by name (see publish.go).
	Publish []*PublishTarget
}

// CompileTarget returns the flavour's compile target called name, or nil.
func (fl *Flavour) CompileTarget(name string) *CompileTarget {
	for _, t := range fl.CompileTargets {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// CompileTarget is one go build of the product.
type CompileTarget struct {
	Name  string
	OS    string // GOOS
	Arch  string // GOARCH
	ARM   string // GOARM, only for arch arm
	AMD64 string // GOAMD64, default v1 for arch amd64
	// Output is the binary's file name pattern; {{version}}, {{os}},
	// {{arch}} and {{arm}} are expanded by OutputName. Parse sets the
	// default, <product>-{{version}}-{{os}}-{{arch}}, when the spec has none.
	Output string
	// Flags maps flags_map names to values; Version, SHA and BuildTime
	// are filled by packyard and may not be set here.
	Flags   map[string]string
	Pre     []string // shell commands run in the work copy before go build
	Post    []string // shell commands run in the work copy after go build
	Tags    []string
	Env     []string // extra KEY=VALUE environment, sorted
	CGO     bool
	PIE     bool
	LDFlags string // extra -ldflags, appended after the -X flags
	Package string // main package to build, default "."
	// Line is where the target is named in the spec, for messages about
	// it that come later (a failing pre command); 0 when unknown.
	Line int
}

// Package is one package to produce from a compile target's binary.
type Package struct {
	Name     string // the key in the spec, e.g. el8_64
	Template string // e.g. el/el8
	Binary   string // name of a CompileTarget of the same flavour
	// Properties holds every other key, stringified (ints as decimal),
	// for the template: name, bindir, etcdir, release, dist, target_arch, ...
	Properties map[string]string
	// Line is where the package is named in the spec; 0 when unknown.
	Line int
	// Keys says where each of the package's keys (template, binary and
	// every property) was set: in the entry itself or in the defaults it
	// inherits. Checks that need the templates, which this package does
	// not know, use it to report the place with ErrAt.
	Keys map[string]Position
}

// Position is where a key was set in the spec file.
type Position struct {
	Line, Col int
	Field     string // dotted path, e.g. foss.packages.el8_64.target_arch
}

// ErrAt is a *ConfigError about key of p, at the place it was set; a key
// the package does not have is reported at the package's name.
func (p *Package) ErrAt(file, key, msg string) *ConfigError {
	if pos, ok := p.Keys[key]; ok {
		return &ConfigError{File: file, Line: pos.Line, Col: pos.Col, Field: pos.Field, Msg: msg}
	}
	pos := p.Keys[""]
	field := pos.Field
	if key != "" {
		field = join(field, key)
	}
	return &ConfigError{File: file, Line: pos.Line, Col: pos.Col, Field: field, Msg: msg}
}
