// Package stage implements Packyard's pipeline: source → codegen →
// compile → package → checksums → verify, each a small type with a name,
// a skip rule and a run, driven by one plan. The CLI runs the whole list
// (packyard build) or one stage of it (packyard compile, …); the Dagger
// module runs those same subcommands in containers.
package stage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/fsutil"
	"github.com/packyard/packyard/internal/stagecache"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/splice"
	"github.com/packyard/packyard/templates"
	"github.com/packyard/packyard/version"
)

// Options say what one run builds and where its outputs go.
type Options struct {
	Source  string // the project root
	Spec    string // the spec file, relative to Source unless absolute
	Flavour string
	Version string // --version; empty: git describe, then .version
	// Out receives the outputs. Build replaces it as a whole; the stage
	// subcommands add their files to it.
	Out      string
	Targets  []string // compile targets to build; empty: those the packages need
	Packages []string // packages to build; empty: all of the flavour
	Builder  string   // rpm builder: nfpm (default) or rpmbuild
	Binaries string   // a directory of binaries already compiled (packyard package)
	Tarball  string   // a source release already written (packyard package)
	Signing  *pack.Signing
	Env      []string // environment of go and the spec's commands; nil: os.Environ()
	Progress *Progress
	Jobs     int // parallel compiles; 0: the number of CPUs
	// Cache, when set, restores stages whose inputs it has seen and
	// stores the others' results. Only packyard build sets it: the stage
	// subcommands the Dagger module runs never read or write a cache.
	Cache *stagecache.Cache
}

// Context is one run of the pipeline: the loaded spec and plan, and what
// each stage hands on to the next.
type Context struct {
	context.Context
	Options Options
	Spec    *buildspec.Spec
	Flavour *buildspec.Flavour
	Plan    *buildspec.Plan
	Version version.Version

	// Work is scratch space removed when the run ends.
	Work string
	// Dist is the staging directory that becomes (or is merged into) Out.
	Dist string
	// Tarball is the source release; SourceDir its unpacked work copy.
	Tarball   string
	SourceDir string
	// Binaries maps a compile target's name to its binary.
	Binaries map[string]string

	mu        sync.Mutex
	artifacts map[string]Artifact
	cache     *runCache // nil: every stage runs
	// segments is where the package writers share the compressed bytes
	// of large files, so that a binary in several packages is compressed
	// once per run.
	segments *splice.Cache
}

// Artifact is one output file with the stage that made it.
type Artifact struct {
	Path   string   // relative to Dist, slash-separated
	Stage  string   // the plan's stage ID
	Inputs []string // what the stage read
}

// Stage is one step of the pipeline.
type Stage interface {
	// String is the stage's name in progress lines.
	String() string
	// Skip says why the stage has nothing to do in c, or "".
	Skip(c *Context) string
	// Run does the stage's work.
	Run(c *Context) error
}

// Pipeline is the whole build, in order.
func Pipeline() []Stage {
	return []Stage{Source{Keep: true}, Codegen{}, Compile{}, Package{}, Checksums{}, Verify{}}
}

// Load reads the spec, resolves the version and makes the plan.
func Load(ctx context.Context, opts Options) (*Context, error) {
	if opts.Source == "" {
		opts.Source = "."
	}
	src, err := filepath.Abs(opts.Source)
	if err != nil {
		return nil, err
	}
	opts.Source = src
	if opts.Spec == "" {
		opts.Spec = buildspec.DefaultFile
	}
	if !filepath.IsAbs(opts.Spec) {
		opts.Spec = filepath.Join(src, opts.Spec)
	}
	if opts.Flavour == "" {
		opts.Flavour = buildspec.DefaultFlavour
	}
	if opts.Env == nil {
		opts.Env = os.Environ()
	}
	if opts.Progress == nil {
		opts.Progress = NewProgress(nil, false)
	}
	if opts.Jobs <= 0 {
		opts.Jobs = runtime.NumCPU()
	}
	spec, err := buildspec.Load(opts.Spec)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &UsageError{Err: err}
	}
	if err != nil {
		return nil, err
	}
	// Every flavour, not only the one built: a mistake in another is
	// still a mistake, and would surface only when that one is built.
	if err := templates.CheckSpec(src, spec); err != nil {
		return nil, err
	}
	flavour, err := spec.Flavour(opts.Flavour)
	if err != nil {
		return nil, err
	}
	var v version.Version
	if opts.Tarball != "" {
		v, err = releaseVersion(opts.Tarball, opts.Version)
	} else {
		v, err = version.Resolve(src, opts.Version)
	}
	if err != nil {
		return nil, &UsageError{Err: err}
	}
	if v.Commit == "" {
		// Said, not silent: the binaries' SHA flag will be empty.
		opts.Progress.Skip("commit", "not a git work tree and no commit in .version: the SHA flag is empty")
	}
	plan, err := buildspec.NewPlan(spec, opts.Flavour, buildspec.PlanOptions{
		Version:        v.Product,
		Packages:       opts.Packages,
		PackageOutputs: packageOutputs(src, flavour, v),
	})
	if err != nil {
		return nil, err
	}
	c := &Context{
		Context:   ctx,
		Options:   opts,
		Spec:      spec,
		Flavour:   flavour,
		Plan:      plan,
		Version:   v,
		Binaries:  map[string]string{},
		artifacts: map[string]Artifact{},
	}
	if err := c.openCache(); err != nil {
		return nil, err
	}
	return c, nil
}

// UsageError marks an error in what the user asked for (exit code 2), as
// opposed to a stage that failed.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Run runs stages in order in a fresh work and staging directory. When
// all succeed, the outputs are moved to Options.Out: as a whole when
// replace is set (packyard build), file by file otherwise. When one fails,
// nothing is written to Out.
func Run(c *Context, stages []Stage, replace bool) (err error) {
	if c.Work, err = os.MkdirTemp("", "packyard-work-*"); err != nil {
		return err
	}
	defer os.RemoveAll(c.Work)
	c.segments = splice.NewCache(filepath.Join(c.Work, "splice"))
	staging, err := fsutil.NewStagingDir(c.Options.Out)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			staging.Discard()
		}
	}()
	c.Dist = staging.Path
	for _, s := range stages {
		if why := s.Skip(c); why != "" {
			c.Options.Progress.Skip(s.String(), why)
			continue
		}
		step := c.Options.Progress.Begin(s.String())
		err := s.Run(c)
		if err == nil && c.wasCached(s.String()) {
			step.Cached()
		} else {
			step.Done(err)
		}
		if err != nil {
			return err
		}
		if err := c.Err(); err != nil {
			return err
		}
	}
	if replace {
		return staging.Commit()
	}
	if err := mergeInto(staging.Path, staging.Final); err != nil {
		return err
	}
	return staging.Discard()
}

// mergeInto moves every file of src to the same place under dst.
func mergeInto(src, dst string) error {
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.Rename(p, target)
	})
}

// record notes an artifact written under Dist by the plan stage id.
func (c *Context) record(id, rel string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := Artifact{Path: filepath.ToSlash(rel), Stage: id}
	for _, s := range c.Plan.Stages {
		if s.ID == id {
			a.Inputs = s.Inputs
		}
	}
	c.artifacts[a.Path] = a
}

// Artifacts lists what the run has written so far, sorted by path.
func (c *Context) Artifacts() []Artifact {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Artifact, 0, len(c.artifacts))
	for _, a := range c.artifacts {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// target finds a compile target of the flavour by name.
func (c *Context) target(name string) (*buildspec.CompileTarget, error) {
	if t := c.Flavour.CompileTarget(name); t != nil {
		return t, nil
	}
	return nil, &UsageError{Err: fmt.Errorf("flavour %s has no compile target %q", c.Flavour.Name, name)}
}

// ErrNothing is returned when a selection matches nothing to build.
var ErrNothing = errors.New("nothing to build")
