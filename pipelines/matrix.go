package main

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/templates"
)

// Package formats, as template.yaml names them.
const (
	formatRPM  = "rpm"
	formatDeb  = "deb"
	formatRpkg = "rpkg"
	formatTar  = "tar"
)

// images are the container images the module runs distro tools in; every
// one is a constructor argument so that a mirror can stand in.
type images struct {
	Go  string // builds and runs the packyard tool, compiles the project
	EL8 string
	EL9 string
	Deb string
}

// templateKind is what the matrix needs to know of a package's template:
// the format it writes and whether it is in Choria's own format, whose
// build.sh then runs in a clean container of its family's distribution.
type templateKind struct {
	Format string // rpm, deb, rpkg or tar
	Choria bool
}

// projectKinds tells the kind of a template from a project's templates
// (at project/packager/templates) and the embedded ones.
func projectKinds(project string) func(template string) (templateKind, error) {
	return func(tmpl string) (templateKind, error) {
		ct, err := templates.LoadChoria(project, tmpl)
		if err != nil {
			return templateKind{}, err
		}
		if ct != nil {
			return templateKind{Format: choriaFamilyFormat(tmpl), Choria: true}, nil
		}
		f, err := templates.FormatOf(project, tmpl)
		return templateKind{Format: f}, err
	}
}

// choriaFamilyFormat is the format of a Choria-format template's
// packages, from its family as Choria names them: el writes rpms, debian
// debs, any other (archive, tarball) archives.
func choriaFamilyFormat(tmpl string) string {
	family, _, _ := strings.Cut(tmpl, "/")
	switch family {
	case "el":
		return formatRPM
	case "debian":
		return formatDeb
	default:
		return formatTar
	}
}

// job is one package of the matrix with what building and checking it
// takes.
type job struct {
	Package *buildspec.Package
	Format  string                   // rpm, deb, rpkg or tar
	Choria  bool                     // a template in Choria's own format: its build.sh makes the package
	Target  *buildspec.CompileTarget // the compile target whose binary it ships
	// Image is where the package is installed to verify it, and where
	// rpmbuild runs for rpm packages.
	Image string
}

// matrix is what one call builds: the compile targets the selected
// packages need and those packages.
type matrix struct {
	Flavour *buildspec.Flavour
	Targets []*buildspec.CompileTarget // sorted by name
	Jobs    []job                      // sorted by package name
}

// newMatrix selects the packages (all of the flavour when none are named)
// and the compile targets they ship. kindOf tells a template's kind; the
// module answers it from the project's templates and the embedded ones
// (projectKinds).
func newMatrix(fl *buildspec.Flavour, packages []string, imgs images, kindOf func(template string) (templateKind, error)) (*matrix, error) {
	byName := map[string]*buildspec.Package{}
	var names []string
	for _, p := range fl.Packages {
		byName[p.Name] = p
		names = append(names, p.Name)
	}
	targets := map[string]*buildspec.CompileTarget{}
	for _, t := range fl.CompileTargets {
		targets[t.Name] = t
	}
	want := normalizeList(packages)
	if len(want) == 0 {
		want = names
	}
	m := &matrix{Flavour: fl}
	need := map[string]bool{}
	for _, name := range want {
		p, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("package %q: not in flavour %s (it has %s)", name, fl.Name, listOrNone(names))
		}
		kind, err := kindOf(p.Template)
		if err != nil {
			return nil, fmt.Errorf("package %s: template %s: %w", p.Name, p.Template, err)
		}
		j := job{Package: p, Format: kind.Format, Choria: kind.Choria}
		if p.Binary != "" {
			if j.Target = targets[p.Binary]; j.Target == nil {
				return nil, fmt.Errorf("package %s: binary %q: no such compile target in flavour %s", p.Name, p.Binary, fl.Name)
			}
			need[p.Binary] = true
		}
		if j.Image, err = imageFor(j, imgs); err != nil {
			return nil, err
		}
		m.Jobs = append(m.Jobs, j)
	}
	// As packyard build's plan: every target of the flavour when no
	// package is named, else those the named packages ship.
	for _, t := range fl.CompileTargets {
		if need[t.Name] || len(normalizeList(packages)) == 0 {
			m.Targets = append(m.Targets, t)
		}
	}
	slices.SortFunc(m.Targets, func(a, b *buildspec.CompileTarget) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(m.Jobs, func(a, b job) int { return strings.Compare(a.Package.Name, b.Package.Name) })
	return m, nil
}

// selectTargets gives the compile targets named (all of the flavour when
// none are), for the binaries function.
func selectTargets(fl *buildspec.Flavour, names []string) ([]*buildspec.CompileTarget, error) {
	want := normalizeList(names)
	if len(want) == 0 {
		return fl.CompileTargets, nil
	}
	var all []string
	byName := map[string]*buildspec.CompileTarget{}
	for _, t := range fl.CompileTargets {
		byName[t.Name] = t
		all = append(all, t.Name)
	}
	var out []*buildspec.CompileTarget
	for _, n := range want {
		t, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("compile target %q: not in flavour %s (it has %s)", n, fl.Name, listOrNone(all))
		}
		out = append(out, t)
	}
	return out, nil
}

// targetsOf are the compile targets jobs ship, each once, in job order.
func targetsOf(jobs []job) []*buildspec.CompileTarget {
	var out []*buildspec.CompileTarget
	for _, j := range jobs {
		if j.Target != nil && !slices.Contains(out, j.Target) {
			out = append(out, j.Target)
		}
	}
	return out
}

// jobsOf keeps the jobs of one package format.
func (m *matrix) jobsOf(format string) []job {
	var out []job
	for _, j := range m.Jobs {
		if j.Format == format {
			out = append(out, j)
		}
	}
	return out
}

// elDist is the EL release of an rpm package: its dist property (or
// Choria's distro), else the name of its template (el/el8 gives el8), as
// Choria's templates are named after the release they target.
func elDist(p *buildspec.Package) string {
	for _, key := range []string{"dist", "distro"} {
		if d := strings.TrimSpace(p.Properties[key]); d != "" {
			return d
		}
	}
	return path.Base(p.Template)
}

// imageFor picks the image a package is built (rpmbuild) and installed
// (verify) in: the EL release's image for rpm, Debian for deb, and the Go
// image, which runs the packyard tool, for the formats only the tool
// checks.
func imageFor(j job, imgs images) (string, error) {
	switch j.Format {
	case formatRPM:
		switch d := elDist(j.Package); d {
		case "el8":
			return imgs.EL8, nil
		case "el9":
			return imgs.EL9, nil
		default:
			return "", fmt.Errorf("package %s: dist %q: no image for it (the module knows el8 and el9)", j.Package.Name, d)
		}
	case formatDeb:
		return imgs.Deb, nil
	case formatRpkg, formatTar:
		return imgs.Go, nil
	default:
		return "", fmt.Errorf("package %s: template %s: unknown format %q", j.Package.Name, j.Package.Template, j.Format)
	}
}

// installedBinary is the path the package installs its binary at, run by
// verify: bindir/name.
func installedBinary(p *buildspec.Package) (string, error) {
	bindir, name := p.Properties["bindir"], p.Properties["name"]
	if bindir == "" || name == "" {
		return "", fmt.Errorf("package %s: needs the bindir and name properties to find its binary", p.Name)
	}
	return path.Join(bindir, name), nil
}

// artifactGlob is the pattern, relative to dist/, that finds the file a
// package job produced. The version is left a wildcard because the format
// maps it (0.26.0~rc1 in rpm, 0.26.0-rc1 in the tarball).
func artifactGlob(j job) (string, error) {
	name := j.Package.Properties["name"]
	if name == "" {
		return "", fmt.Errorf("package %s: has no name property", j.Package.Name)
	}
	switch j.Format {
	case formatRPM:
		arch := j.Package.Properties["target_arch"]
		if arch == "" {
			arch = "*"
		}
		return fmt.Sprintf("rpm/%s-*.%s.%s.rpm", name, elDist(j.Package), arch), nil
	case formatDeb:
		return fmt.Sprintf("deb/%s_*.deb", name), nil
	case formatRpkg:
		return fmt.Sprintf("rpkg/*%s-*.rpkg", name), nil
	default:
		return "", fmt.Errorf("package %s: format %s is not installable", j.Package.Name, j.Format)
	}
}

// imageTarget picks the compile target an OCI image is made from: the one
// named, else the first linux/amd64 target, else the first linux one.
func imageTarget(fl *buildspec.Flavour, name string) (*buildspec.CompileTarget, error) {
	var linux []*buildspec.CompileTarget
	for _, t := range fl.CompileTargets {
		if t.OS == "linux" {
			linux = append(linux, t)
		}
	}
	if name != "" {
		t := fl.CompileTarget(name)
		switch {
		case t == nil:
			return nil, fmt.Errorf("compile target %q: not in flavour %s", name, fl.Name)
		case t.OS != "linux":
			return nil, fmt.Errorf("compile target %s: builds for %s; an image needs a linux target", name, t.OS)
		}
		return t, nil
	}
	for _, t := range linux {
		if t.Arch == "amd64" {
			return t, nil
		}
	}
	if len(linux) > 0 {
		return linux[0], nil
	}
	return nil, fmt.Errorf("flavour %s: has no linux compile target to make an image from", fl.Name)
}

// platformOf is the OCI platform of a linux target: linux/arm/v7 for arm
// with GOARM 7.
func platformOf(t *buildspec.CompileTarget) string {
	p := t.OS + "/" + t.Arch
	if t.Arch == "arm" && t.ARM != "" {
		p += "/v" + t.ARM
	}
	return p
}

// listOrNone formats names for a message.
func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
