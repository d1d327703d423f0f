package stage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/plugins"
)

// Source writes the source release and unpacks it as the work copy every
// later stage builds from, so that a build from the release tarball and a
// build from the repository are the same build.
type Source struct {
	// Keep puts the tarball among the outputs; otherwise it stays in the
	// work directory (packyard compile needs the work copy, not the file).
	Keep bool
}

func (Source) String() string { return "source" }

// Skip never skips: even packyard package needs the release's files.
func (Source) Skip(*Context) string { return "" }

// Run writes NAME-VERSION.tar.gz and unpacks it into the work directory.
func (s Source) Run(c *Context) error {
	c.SourceDir = filepath.Join(c.Work, "src")
	if c.Options.Tarball != "" {
		c.Tarball = c.Options.Tarball
		return Unpack(c.Tarball, c.SourceDir)
	}
	name := buildspec.TarballName(c.Plan.Product, c.Version.Product)
	dir := c.Work
	if s.Keep {
		dir = c.Dist
	}
	c.Tarball = filepath.Join(dir, name)
	out, _ := filepath.Abs(c.Options.Out)
	if err := WriteSource(c, c.Options.Source, c.Plan.Product, c.Version, c.Tarball, out); err != nil {
		return err
	}
	if s.Keep {
		c.record("source", name)
	}
	return Unpack(c.Tarball, c.SourceDir)
}

// Codegen generates the plugin registration files into the work copy.
type Codegen struct{}

func (Codegen) String() string { return "codegen" }

// Skip skips projects without plugin manifests and runs that compile
// nothing.
func (Codegen) Skip(c *Context) string {
	if c.Options.Binaries != "" {
		return "binaries given"
	}
	for _, f := range []string{"plugins.yaml", "user_plugins.yaml"} {
		if _, err := os.Stat(filepath.Join(c.SourceDir, "packager", f)); err == nil {
			return ""
		}
	}
	return "no packager/plugins.yaml"
}

// Run writes plugin_*.go into the main package of the work copy.
func (Codegen) Run(c *Context) error {
	pkg := "."
	if len(c.Flavour.CompileTargets) > 0 && c.Flavour.CompileTargets[0].Package != "" {
		pkg = c.Flavour.CompileTargets[0].Package
	}
	return plugins.Codegen(c, c.SourceDir, filepath.Join(c.SourceDir, pkg), c.Options.Env)
}

// Compile cross-compiles the selected targets in parallel, each in its own
// copy of the work tree because pre commands may rewrite it.
type Compile struct{}

func (Compile) String() string { return "compile" }

// Skip skips when the binaries were built elsewhere.
func (Compile) Skip(c *Context) string {
	if c.Options.Binaries != "" {
		return "binaries given"
	}
	return ""
}

// Run builds every selected target into binaries/.
func (Compile) Run(c *Context) error {
	names, err := c.targets()
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(c)
	g.SetLimit(c.Options.Jobs)
	results := make([]string, len(names))
	for i, name := range names {
		t, err := c.target(name)
		if err != nil {
			return err
		}
		g.Go(func() error {
			id := "compile/" + name
			done := c.Options.Progress.Start(id)
			work := filepath.Join(c.Work, "build", name)
			err := CopyTree(c.SourceDir, work)
			rel := buildspec.BinaryPath(t, c.Version.Product)
			if err == nil {
				err = CompileTarget(ctx, c.Spec.FlagsMap, t, c.Version, work, filepath.Join(c.Dist, rel), c.Options.Env)
			}
			if ce := (*CommandError)(nil); errors.As(err, &ce) {
				ce.File, ce.Line = c.Spec.File, t.Line
			}
			done(err)
			if err != nil {
				return err
			}
			results[i] = rel
			c.record(id, rel)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for i, name := range names {
		c.Binaries[name] = filepath.Join(c.Dist, results[i])
	}
	return nil
}

// targets are the compile targets to build: those asked for, else those
// the plan holds.
func (c *Context) targets() ([]string, error) {
	if len(c.Options.Targets) > 0 {
		for _, name := range c.Options.Targets {
			if _, err := c.target(name); err != nil {
				return nil, err
			}
		}
		return c.Options.Targets, nil
	}
	var names []string
	for _, s := range c.Plan.Stages {
		if s.Kind == buildspec.KindCompile {
			names = append(names, s.Target)
		}
	}
	if len(names) == 0 {
		return nil, &UsageError{Err: fmt.Errorf("flavour %s: %w", c.Flavour.Name, ErrNothing)}
	}
	return names, nil
}
