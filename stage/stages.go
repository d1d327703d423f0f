package stage

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack/tarball"
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
	entries, err := SourceFiles(c, c.Options.Source, out)
	if err != nil {
		return fmt.Errorf("source %s: %w", c.Options.Source, err)
	}
	var key string
	if c.cache != nil && s.Keep {
		if key, err = c.sourceKey(name, entries); err != nil {
			return err
		}
	}
	if key != "" && c.restore(key, dir, nil) {
		c.markCached(s.String())
	} else {
		if err := writeRelease(entries, c.Plan.Product, c.Version, c.Tarball); err != nil {
			return err
		}
		if key != "" {
			c.save(key, dir, []string{name}, nil)
		}
	}
	if s.Keep {
		c.record("source", name)
	}
	return Unpack(c.Tarball, c.SourceDir)
}

// sourceKey is the cache key of the source release name of entries: every
// file's name, mode, link and bytes, with the version (.version and every
// timestamp come from it).
func (c *Context) sourceKey(name string, entries []tarball.Entry) (string, error) {
	k := c.key("source")
	k.String("product", c.Plan.Product)
	k.String("name", name)
	for _, e := range entries {
		k.String("entry", e.Name)
		k.String("mode", fmt.Sprint(e.Mode))
		k.String("link", e.Link)
		switch {
		case e.Source != "":
			k.File("bytes", e.Source)
		default:
			k.String("data", string(e.Data))
		}
	}
	return k.Sum()
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
	if c.cache == nil {
		return plugins.Codegen(c, c.SourceDir, filepath.Join(c.SourceDir, pkg), c.Options.Env)
	}
	before, err := readTree(c.SourceDir)
	if err != nil {
		return fmt.Errorf("stage cache: %w", err)
	}
	goEnv, err := c.goEnvKey(c.SourceDir, c.Options.Env)
	if err != nil {
		return err
	}
	// Codegen reads the plugin manifests, go.mod and go.sum, never the
	// version: the key leaves out the version and the work copy's
	// .version file, which holds nothing else.
	unversioned := maps.Clone(before)
	delete(unversioned, VersionFile)
	k := c.unversionedKey("codegen")
	k.String("tree", treeDigest(unversioned))
	k.String("package", pkg)
	k.String("go env", goEnv)
	key, err := k.Sum()
	if err != nil {
		return err
	}
	// Restored beside the work copy first: a damaged entry must not cost
	// the work copy the files it would have replaced.
	restored := filepath.Join(c.Work, "codegen-cache")
	var ch codegenChange
	if c.restore(key, restored, &ch) {
		if err := os.MkdirAll(restored, 0o755); err != nil {
			return err
		}
		if err := mergeInto(restored, c.SourceDir); err != nil {
			return err
		}
		if err := ch.apply(c.SourceDir); err != nil {
			return err
		}
		c.markCached(Codegen{}.String())
	} else if err := plugins.Codegen(c, c.SourceDir, filepath.Join(c.SourceDir, pkg), c.Options.Env); err != nil {
		return err
	} else {
		after, err := readTree(c.SourceDir)
		if err != nil {
			return fmt.Errorf("stage cache: %w", err)
		}
		written, ch := treeChange(before, after)
		c.save(key, c.SourceDir, written, ch)
	}
	after, err := readTree(c.SourceDir)
	if err != nil {
		return fmt.Errorf("stage cache: %w", err)
	}
	c.setWorkTree(treeDigest(after))
	return nil
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
	// Targets whose pre commands do the same share one run of them (as
	// GoReleaser's before hooks run once for all builds): in a Choria-style
	// spec every target's pre is the same `go generate`, which re-runs
	// codegen (go mod edit, go get). The first target that needs it runs it
	// in a copy of the work tree; each target then builds in a copy of that.
	prepared := map[string]func() (string, error){}
	for i, name := range names {
		t, err := c.target(name)
		if err != nil {
			return err
		}
		preKey := PreKey(t)
		if preKey != "" && prepared[preKey] == nil {
			dir := filepath.Join(c.Work, "pre", strconv.Itoa(i))
			prepared[preKey] = sync.OnceValues(func() (string, error) {
				if err := CopyTree(c.SourceDir, dir); err != nil {
					return "", err
				}
				return dir, RunPre(ctx, t, dir, c.Options.Env)
			})
		}
		// Taken here: the map is written on while the goroutines run.
		pre := prepared[preKey]
		g.Go(func() error {
			id := "compile/" + name
			step := c.Options.Progress.Begin(id)
			rel := buildspec.BinaryPath(t, c.Version.Product)
			var key string
			var err error
			if c.cache != nil {
				key, err = c.compileKey(t, rel)
			}
			if err == nil && key != "" && c.restore(key, c.Dist, nil) {
				c.markCached(id)
				step.Cached()
				results[i] = rel
				c.record(id, rel)
				return nil
			}
			if err == nil {
				src := c.SourceDir
				if pre != nil {
					src, err = pre()
				}
				work := filepath.Join(c.Work, "build", name)
				if err == nil {
					err = CopyTree(src, work)
				}
				if err == nil {
					err = BuildTarget(ctx, c.Spec.FlagsMap, t, c.Version, work, filepath.Join(c.Dist, rel), c.Options.Env)
				}
			}
			if ce := (*CommandError)(nil); errors.As(err, &ce) {
				// A copy: a shared pre run's error reaches every target
				// of its group, each naming itself.
				own := *ce
				own.Target, own.File, own.Line = t.Name, c.Spec.File, t.Line
				err = &own
			}
			step.Done(err)
			if err != nil {
				return err
			}
			if key != "" {
				c.save(key, c.Dist, []string{rel}, nil)
			}
			results[i] = rel
			c.record(id, rel)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	all := true
	for i, name := range names {
		c.Binaries[name] = filepath.Join(c.Dist, results[i])
		all = all && c.wasCached("compile/"+name)
	}
	if all {
		c.markCached(Compile{}.String())
	}
	return nil
}

// compileKey is the cache key of target t's binary at rel: the work copy
// after codegen (the pre commands and go build read nothing else of the
// project), the target as the spec gives it, the -X values, and what go
// makes of the target's environment (GOOS, GOARCH, GOFLAGS, the toolchain).
func (c *Context) compileKey(t *buildspec.CompileTarget, rel string) (string, error) {
	tree, err := c.workTree()
	if err != nil {
		return "", err
	}
	goEnv, err := c.goEnvKey(c.SourceDir, GoBuildEnv(c.Options.Env, t))
	if err != nil {
		return "", err
	}
	k := c.key("compile")
	k.String("tree", tree)
	k.JSON("target", t)
	k.JSON("flags_map", c.Spec.FlagsMap)
	k.Strings("go build", GoBuildArgs(c.Spec.FlagsMap, t, c.Version, rel))
	k.String("go env", goEnv)
	return k.Sum()
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
