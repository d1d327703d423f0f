package buildspec

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// The kinds of stage, in the order a plan runs them.
const (
	KindSource    = "source"
	KindCodegen   = "codegen"
	KindCompile   = "compile"
	KindPackage   = "package"
	KindChecksums = "checksums"
	KindVerify    = "verify"
)

// The files the checksums stage writes, relative to dist/.
const (
	ChecksumsFile = "SHA256SUMS"
	SignatureFile = "SHA256SUMS.asc"
	ManifestFile  = "manifest.json"
)

// PlanOptions selects what a plan builds.
type PlanOptions struct {
	// Version is the product version, as in the source tarball's name.
	Version string
	// Packages limits the plan to these packages of the flavour and the
	// compile targets they use; empty means every package and target.
	Packages []string
	// PackageOutputs names the files, relative to dist/, that the package
	// stage of p writes (e.g. rpm/NAME-VERSION-1.el8.x86_64.rpm and its
	// srpm). The caller knows them from the package's template; nil leaves
	// package outputs empty.
	PackageOutputs func(p *Package) ([]string, error)
	// Sign adds the detached signature of the checksums to the plan.
	Sign bool
}

// Plan is every stage of one build of a flavour, in dependency order: a
// stage comes after every stage it needs.
type Plan struct {
	Flavour string  `json:"flavour"`
	Product string  `json:"product"`
	Version string  `json:"version"`
	Stages  []Stage `json:"stages"`
}

// Stage is one step of a plan. Inputs and Outputs are paths relative to
// dist/; the source stage reads the project tree, which is not listed.
type Stage struct {
	ID      string   `json:"id"`   // e.g. compile/64bit_linux
	Kind    string   `json:"kind"` // one of the Kind constants
	Target  string   `json:"target,omitempty"`
	Package string   `json:"package,omitempty"`
	Inputs  []string `json:"inputs"`
	Outputs []string `json:"outputs"`
	Needs   []string `json:"needs"` // IDs of the stages this one waits for
}

// TarballName is the file name of the source release of product at version.
func TarballName(product, version string) string {
	return product + "-" + version + ".tar.gz"
}

// BinaryPath is where, relative to dist/, the binary of t at version lands.
func BinaryPath(t *CompileTarget, version string) string {
	return "binaries/" + t.OutputName(version)
}

// NewPlan lays out the stages that build flavour of spec at opts.Version.
// An unknown flavour or package is a *ConfigError.
func NewPlan(spec *Spec, flavour string, opts PlanOptions) (*Plan, error) {
	if opts.Version == "" || strings.ContainsAny(opts.Version, "/\\ \t\n") {
		return nil, &ConfigError{Field: "version", Msg: fmt.Sprintf("%q is not a usable version", opts.Version)}
	}
	fl, err := spec.Flavour(flavour)
	if err != nil {
		return nil, err
	}
	pkgs, err := selectPackages(spec.File, fl, opts.Packages)
	if err != nil {
		return nil, err
	}
	targets := fl.CompileTargets
	if len(opts.Packages) > 0 {
		used := map[string]bool{}
		for _, pk := range pkgs {
			used[pk.Binary] = true
		}
		targets = nil
		for _, t := range fl.CompileTargets {
			if used[t.Name] {
				targets = append(targets, t)
			}
		}
	}

	plan := &Plan{Flavour: fl.Name, Product: fl.Product, Version: opts.Version}
	tarball := TarballName(fl.Product, opts.Version)
	plan.add(Stage{ID: KindSource, Kind: KindSource, Outputs: []string{tarball}})
	// Plugin files are generated into the work copy unpacked from the
	// tarball; they are not artifacts, so codegen has no outputs in dist/.
	plan.add(Stage{ID: KindCodegen, Kind: KindCodegen, Inputs: []string{tarball}, Needs: []string{KindSource}})

	artifacts := []string{tarball}
	binaries := map[string]string{}
	var compileIDs []string
	for _, t := range targets {
		bin := BinaryPath(t, opts.Version)
		binaries[t.Name] = bin
		artifacts = append(artifacts, bin)
		id := KindCompile + "/" + t.Name
		compileIDs = append(compileIDs, id)
		plan.add(Stage{ID: id, Kind: KindCompile, Target: t.Name,
			Inputs: []string{tarball}, Outputs: []string{bin}, Needs: []string{KindCodegen}})
	}

	owner := map[string]string{tarball: KindSource}
	for name, bin := range binaries {
		owner[bin] = KindCompile + "/" + name
	}
	var packageIDs, packageOutputs []string
	for _, pk := range pkgs {
		id := KindPackage + "/" + pk.Name
		var outs []string
		if opts.PackageOutputs != nil {
			if outs, err = opts.PackageOutputs(pk); err != nil {
				return nil, fmt.Errorf("plan: package %s outputs: %w", pk.Name, err)
			}
		}
		outs = append([]string(nil), outs...)
		sort.Strings(outs)
		for _, o := range outs {
			if o == "" || path.Clean(o) != o || path.IsAbs(o) || o == ".." || strings.HasPrefix(o, "../") {
				return nil, fmt.Errorf("plan: package %s output %q: want a clean path inside dist/", pk.Name, o)
			}
			if other, ok := owner[o]; ok {
				// Two packages that write one file, e.g. the same srpm for
				// two arches of one dist, are a mistake in the spec.
				return nil, pk.ErrAt(spec.File, "", fmt.Sprintf("writes %s, as %s does already", o, other))
			}
			owner[o] = id
		}
		packageIDs = append(packageIDs, id)
		packageOutputs = append(packageOutputs, outs...)
		// The tarball is an input too: rpm builds ship it in the srpm.
		plan.add(Stage{ID: id, Kind: KindPackage, Package: pk.Name,
			Inputs:  []string{binaries[pk.Binary], tarball},
			Outputs: outs,
			Needs:   []string{KindCompile + "/" + pk.Binary, KindSource}})
	}
	artifacts = append(artifacts, packageOutputs...)
	sort.Strings(artifacts)

	sums := []string{ChecksumsFile, ManifestFile}
	if opts.Sign {
		sums = []string{ChecksumsFile, SignatureFile, ManifestFile}
	}
	needs := append(append([]string{KindSource}, compileIDs...), packageIDs...)
	plan.add(Stage{ID: KindChecksums, Kind: KindChecksums, Inputs: artifacts, Outputs: sums, Needs: needs})

	verifyIn := append([]string(nil), packageOutputs...)
	sort.Strings(verifyIn)
	verifyIn = append(verifyIn, sums...)
	plan.add(Stage{ID: KindVerify, Kind: KindVerify, Inputs: verifyIn, Needs: []string{KindChecksums}})
	return plan, nil
}

// add appends s with nil lists made empty, so that JSON has [] not null.
func (p *Plan) add(s Stage) {
	for _, l := range []*[]string{&s.Inputs, &s.Outputs, &s.Needs} {
		if *l == nil {
			*l = []string{}
		}
	}
	p.Stages = append(p.Stages, s)
}

// selectPackages returns the flavour's packages named in names, in the
// flavour's order, or all of them when names is empty.
func selectPackages(file string, fl *Flavour, names []string) ([]*Package, error) {
	if len(names) == 0 {
		return fl.Packages, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []*Package
	for _, pk := range fl.Packages {
		if want[pk.Name] {
			out = append(out, pk)
			delete(want, pk.Name)
		}
	}
	if len(want) > 0 {
		var unknown, known []string
		for n := range want {
			unknown = append(unknown, n)
		}
		sort.Strings(unknown)
		for _, pk := range fl.Packages {
			known = append(known, pk.Name)
		}
		msg := fmt.Sprintf("no package %q in flavour %s; it has %s", unknown[0], fl.Name, quotedList(known))
		if len(known) == 0 {
			msg = fmt.Sprintf("no package %q: flavour %s has no packages", unknown[0], fl.Name)
		}
		return nil, &ConfigError{File: file, Field: "packages", Msg: msg + didYouMean(unknown[0], known)}
	}
	return out, nil
}

// WriteText writes the plan for people: a heading, then one block per
// stage with what it needs, reads and writes.
func (p *Plan) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "plan: %s %s, flavour %s, %d stages\n", p.Product, p.Version, p.Flavour, len(p.Stages))
	for _, s := range p.Stages {
		fmt.Fprintf(bw, "\n%s (%s)\n", s.ID, s.Kind)
		for _, l := range []struct {
			label string
			items []string
		}{{"needs", s.Needs}, {"in", s.Inputs}, {"out", s.Outputs}} {
			for _, item := range l.items {
				fmt.Fprintf(bw, "  %-5s %s\n", l.label, item)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}
