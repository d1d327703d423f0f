// Command genproject writes a synthetic Go project for Packyard's
// benchmarks: a build spec with -targets compile targets and -packages
// packages, and a plugin manifest of -plugins plugins (by default the shape
// of the "core" performance issue: 50 targets, 200 packages, 200 plugins).
//
// Usage:
//
//	genproject [-targets 50] [-packages 200] [-plugins 200] DIR
//
// DIR must be empty or not exist. bench/run-core.sh runs `packyard plan`
// and `packyard codegen` on the result.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/packyard/packyard/bench"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("genproject", flag.ContinueOnError)
	fs.SetOutput(stderr)
	p := bench.Issue
	fs.IntVar(&p.Targets, "targets", p.Targets, "compile targets")
	fs.IntVar(&p.Packages, "packages", p.Packages, "packages")
	fs.IntVar(&p.Plugins, "plugins", p.Plugins, "plugins in packager/plugins.yaml")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: genproject [-targets N] [-packages N] [-plugins N] DIR")
		return 2
	}
	if err := p.Write(fs.Arg(0)); err != nil {
		fmt.Fprintln(stderr, "genproject:", err)
		return 1
	}
	return 0
}
