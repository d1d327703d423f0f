package main

import (
	"github.com/packyard/packyard/buildspec"
)

// Paths inside the stage containers. They are fixed so that the argv of a
// stage, and with it the engine's cache key, depends only on its inputs.
const (
	toolPath    = "/usr/local/bin/packyard"
	srcDir      = "/src"
	outDir      = "/out"
	binDir      = "/in/binaries"
	tarballDir  = "/in/tarball"
	distDir     = "/dist"
	repoDir     = "/repo"
	pkgDir      = "/pkg"
	goModCache  = "/go/pkg/mod"
	goBuildDir  = "/root/.cache/go-build"
	goModVolume = "packyard-go-mod"
	goBldVolume = "packyard-go-build"
)

// globals are the flags every packyard subcommand takes (docs/cli.md).
type globals struct {
	Source  string
	Spec    string // relative to Source
	Flavour string
	Version string // empty: the tool resolves it
}

// args gives the global flags in the order the CLI documents them. The
// spec is left out when it is the default so that the argv is the one a
// person would type; the version is left out when empty so that the tool
// falls back to git describe or .version, as it does on the host.
func (g globals) args() []string {
	a := []string{"--source", g.Source}
	if g.Spec != "" && g.Spec != buildspec.DefaultFile {
		a = append(a, "--spec", g.Spec)
	}
	a = append(a, "--build", normalizeFlavour(g.Flavour))
	if g.Version != "" {
		a = append(a, "--version", g.Version)
	}
	return a
}

// cmd starts the argv of one subcommand: packyard SUB GLOBALS.
func (g globals) cmd(sub string) []string {
	return append([]string{"packyard", sub}, g.args()...)
}

// planArgv is `packyard plan [--json]`.
func planArgv(g globals, json bool) []string {
	a := g.cmd("plan")
	if json {
		a = append(a, "--json")
	}
	return a
}

// versionJSONArgv is `packyard version --json`: the version every later
// stage is then given explicitly, the commit and its time.
func versionJSONArgv(g globals) []string {
	return append(g.cmd("version"), "--json")
}

// codegenArgv is `packyard codegen`; dir is the main package directory,
// empty for the default (the source root).
func codegenArgv(g globals, dir string) []string {
	a := g.cmd("codegen")
	if dir != "" {
		a = append(a, "--dir", dir)
	}
	return a
}

// sourceArgv is `packyard source --out OUT`.
func sourceArgv(g globals, out string) []string {
	return append(g.cmd("source"), "--out", out)
}

// compileArgv is `packyard compile --tarball T [--target T]... --out OUT`:
// the compile builds from the source release, as packyard build does.
func compileArgv(g globals, targets []string, tarball, out string) []string {
	a := append(g.cmd("compile"), "--tarball", tarball)
	for _, t := range targets {
		a = append(a, "--target", t)
	}
	return append(a, "--out", out)
}

// packageArgv is `packyard package`. The tarball is always given: the
// package stage unpacks the release for the files it ships beside the
// binary (docs, licence, service units from the project).
func packageArgv(g globals, pkg, binaries, tarball, builder, out string) []string {
	a := append(g.cmd("package"), "--package", pkg, "--binaries", binaries)
	if tarball != "" {
		a = append(a, "--tarball", tarball)
	}
	if builder != "" {
		a = append(a, "--builder", builder)
	}
	return append(a, "--out", out)
}

// checksumsArgv is `packyard checksums --dist DIST`. The key is never on
// the command line: the tool reads it from PACKYARD_GPG_KEY.
func checksumsArgv(g globals, dist string) []string {
	return append(g.cmd("checksums"), "--dist", dist)
}

// verifyArgv is `packyard verify FILE...`.
func verifyArgv(files []string) []string {
	return append([]string{"packyard", "verify"}, files...)
}

// publishArgv is `packyard publish --dist DIST --target T`. Credentials
// and the key are never on the command line: the tool reads them from the
// environment variables the spec names and PACKYARD_GPG_KEY.
func publishArgv(g globals, dist, target string, dryRun, overwrite bool) []string {
	a := append(g.cmd("publish"), "--dist", dist, "--target", target)
	if dryRun {
		a = append(a, "--dry-run")
	}
	if overwrite {
		a = append(a, "--overwrite")
	}
	return a
}
