package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/plugins"
	"github.com/packyard/packyard/stage"
	"github.com/packyard/packyard/version"
)

// globals are the flags every command takes.
type globals struct {
	source, spec, flavour, version string
	stderr                         io.Writer
	getenv                         func(string) string
}

func (g *globals) options(out string) stage.Options {
	return stage.Options{
		Source:   g.source,
		Spec:     g.spec,
		Flavour:  g.flavour,
		Version:  g.version,
		Out:      out,
		Env:      selfOnPath(os.Environ()),
		Progress: stage.NewProgress(g.stderr, colour(g.stderr, g.getenv)),
	}
}

// selfOnPath puts this executable's directory first on PATH, so that a
// spec's `go generate` directives that call packyard run this very binary,
// also under `go run ./cmd/packyard` where it is on no PATH.
func selfOnPath(env []string) []string {
	exe, err := os.Executable()
	if err != nil {
		return env
	}
	path := filepath.Dir(exe)
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok && v != "" {
			path += string(os.PathListSeparator) + v
		}
	}
	// exec keeps the last of duplicate variables.
	return append(env, "PATH="+path)
}

// colour is on for terminals only, and never with NO_COLOR set.
func colour(w io.Writer, getenv func(string) string) bool {
	if getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newRoot(stdout, stderr io.Writer, getenv func(string) string) *cobra.Command {
	g := &globals{stderr: stderr, getenv: getenv}
	root := &cobra.Command{
		Use:   "packyard",
		Short: "Build, package and verify Go products from a Choria-style build spec",
		Long: `packyard turns a Go project and its packager/buildspec.yaml into release
artifacts: plugin code generation, cross-compiled binaries, source tarball,
rpm, srpm, deb and Rudder .rpkg packages, checksums and signatures.

Each stage is a subcommand; "packyard build" runs them all in-process.
Exit codes: 0 done, 1 a stage failed, 2 usage or configuration error.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&g.source, "source", ".", "the project root")
	pf.StringVar(&g.spec, "spec", buildspec.DefaultFile, "the build spec, relative to --source")
	pf.StringVar(&g.flavour, "build", buildspec.DefaultFlavour, "the flavour to build")
	pf.StringVar(&g.version, "version", "", "the product version (default: git describe --tags --long, else the .version file)")
	root.AddCommand(
		buildCmd(g), planCmd(g), versionCmd(g), codegenCmd(g), sourceCmd(g), compileCmd(g),
		packageCmd(g), rpmspecCmd(g), checksumsCmd(g), verifyCmd(g), inspectCmd(g),
	)
	root.AddCommand(publishCmd(g)) // publish.go
	return root
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}

func planCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Print every stage of the build with its inputs and outputs",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := stage.Load(cmd.Context(), g.options(""))
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), c.Plan)
			}
			return c.Plan.WriteText(cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func versionCmd(g *globals) *cobra.Command {
	var format string
	var asJSON, self bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the product version, as a whole or spelled for one format",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if self {
				fmt.Fprintf(cmd.OutOrStdout(), "packyard %s (commit %s, built %s)\n", Version, Commit, BuildTime)
				return nil
			}
			v, err := version.Resolve(g.source, g.version)
			if err != nil {
				return usageError{err}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return writeJSON(out, v)
			}
			switch format {
			case "product", "":
				fmt.Fprintln(out, v.Product)
			case "rpm":
				fmt.Fprintln(out, v.RPM)
			case "deb":
				fmt.Fprintln(out, v.Deb)
			default:
				return usagef("--format %q: want product, rpm or deb", format)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "product", "product, rpm or deb")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print every spelling, the commit and its time as JSON")
	cmd.Flags().BoolVar(&self, "self", false, "print packyard's own version instead")
	return cmd
}

func codegenCmd(g *globals) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "codegen",
		Short: "Generate plugin_*.go from packager/plugins.yaml and user_plugins.yaml",
		Long: `codegen writes one plugin_NAME.go per plugin of packager/plugins.yaml and
packager/user_plugins.yaml (under --source) into --dir, pins the plugins'
versions and replaces in go.mod, and removes stale generated files.
A product can run it with a directive such as:

	//go:generate packyard codegen --dir .`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				dir = g.source
			}
			return plugins.Codegen(cmd.Context(), g.source, dir, os.Environ())
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "the package to generate into (default: --source)")
	return cmd
}

func sourceCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "source",
		Short: "Write the reproducible source release NAME-VERSION.tar.gz",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runStages(cmd, g.options(out), false, stage.Source{Keep: true})
		},
	}
	cmd.Flags().StringVar(&out, "out", "dist", "the directory to write into")
	return cmd
}

func compileCmd(g *globals) *cobra.Command {
	var out, tarball string
	var targets []string
	cmd := &cobra.Command{
		Use:   "compile",
		Short: "Cross-compile the flavour's targets into OUT/binaries",
		Long: `compile builds the flavour's compile targets from a work copy of the
source release: the one given with --tarball, or one made from --source.
Either way the binaries are those packyard build makes.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := g.options(out)
			opts.Targets, opts.Tarball = targets, tarball
			return runStages(cmd, opts, false, stage.Source{}, stage.Codegen{}, stage.Compile{})
		},
	}
	cmd.Flags().StringVar(&out, "out", "dist", "the directory to write into")
	cmd.Flags().StringArrayVar(&targets, "target", nil, "a compile target to build (repeatable; default: all the packages need)")
	cmd.Flags().StringVar(&tarball, "tarball", "", "the source release to build from (default: made from --source)")
	return cmd
}

func buildCmd(g *globals) *cobra.Command {
	var out, builder string
	var packages []string
	var sign signFlags
	var cache cacheFlags
	var pub publishFlags
	var publishAll bool
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Run the whole pipeline in-process and write dist/",
		Long: `build runs every stage in-process: source, codegen, compile, package,
checksums and verify. The output directory appears only when all succeed.

Each stage's result is kept in a stage cache under a key of exactly its
inputs; a later build with the same inputs restores it (progress line
"cached") instead of running it. --no-cache runs every stage.

With --publish (every publish target of the flavour) or --publish-target
NAME, the dist just written is then published as packyard publish would
(--dry-run and --overwrite as there). The targets and their credentials
are checked before the build starts, and nothing is published unless
every stage succeeded. See docs/publish.md.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			publishing := publishAll || len(pub.targets) > 0
			if !publishing && (pub.dryRun || pub.overwrite) {
				return usagef("--dry-run and --overwrite are publish options: give --publish or --publish-target too")
			}
			opts := g.options(out)
			opts.Packages = splitList(packages)
			opts.Builder = builder
			signing, cleanup, err := sign.load(g.getenv)
			if err != nil {
				return err
			}
			defer cleanup()
			opts.Signing = signing
			if opts.Cache, err = cache.open(g.getenv, opts.Progress); err != nil {
				return err
			}
			c, err := loadStages(cmd, opts)
			if err != nil {
				return err
			}
			if publishing {
				// A misspelt target or an unset password is found now,
				// not after minutes of building.
				if err := pub.check(c.Spec, c.Flavour, g.getenv); err != nil {
					return err
				}
			}
			if err := runLoaded(cmd, c, true, stage.Pipeline()...); err != nil {
				return err
			}
			if !publishing {
				return nil
			}
			dist, err := filepath.Abs(opts.Out)
			if err != nil {
				return err
			}
			step := opts.Progress.Begin("publish")
			err = pub.publish(cmd, g, c.Spec, c.Flavour, release{dist: dist, version: c.Version.Product, time: c.Version.Time, signing: signing})
			step.Done(err)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "dist", "the directory to write (replaced as a whole)")
	f.StringSliceVar(&packages, "packages", nil, "packages to build (default: all of the flavour)")
	f.StringVar(&builder, "builder", "nfpm", "rpm builder: nfpm or rpmbuild")
	sign.register(cmd)
	cache.register(cmd)
	f.BoolVar(&publishAll, "publish", false, "then publish dist/ to every publish target of the flavour")
	pub.register(f, "publish-target")
	f.Lookup("publish-target").Usage = "then publish dist/ to this publish target (repeatable; implies --publish)"
	f.Lookup("dry-run").Usage = "with --publish: read the remote repositories and print what would be uploaded, writing nothing there (dist/ is still written)"
	f.Lookup("overwrite").Usage = "with --publish: replace remote packages whose content differs from the release's"
	return cmd
}

func runStages(cmd *cobra.Command, opts stage.Options, replace bool, stages ...stage.Stage) error {
	c, err := loadStages(cmd, opts)
	if err != nil {
		return err
	}
	return runLoaded(cmd, c, replace, stages...)
}

// loadStages checks the options and loads the spec, plan and version.
func loadStages(cmd *cobra.Command, opts stage.Options) (*stage.Context, error) {
	if opts.Builder != "" && opts.Builder != "nfpm" && opts.Builder != "rpmbuild" {
		return nil, usagef("--builder %q: want nfpm or rpmbuild", opts.Builder)
	}
	return stage.Load(cmd.Context(), opts)
}

// runLoaded runs the stages and says where their output went.
func runLoaded(cmd *cobra.Command, c *stage.Context, replace bool, stages ...stage.Stage) error {
	if err := stage.Run(c, stages, replace); err != nil {
		return err
	}
	out, _ := filepath.Abs(c.Options.Out)
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", out)
	return nil
}

func splitList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
