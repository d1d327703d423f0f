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
}
