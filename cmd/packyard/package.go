package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack/inspect"
	"github.com/packyard/packyard/pack/rpkg"
	"github.com/packyard/packyard/plugins"
	"github.com/packyard/packyard/stage"
	"github.com/packyard/packyard/templates"
)

func packageCmd(g *globals) *cobra.Command {
	var out, pkg, binaries, tarball, builder string
	var sign signFlags
	cmd := &cobra.Command{
		Use:   "package",
		Short: "Write one package from binaries already compiled",
		Long: `package renders the template of one package of the flavour and writes it
into OUT/rpm, OUT/srpm, OUT/deb, OUT/rpkg or OUT/tarball. The binaries come
from --binaries (as packyard compile wrote them); the source release from
--tarball, or is made anew.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pkg == "" || binaries == "" {
				return usagef("package needs --package and --binaries")
			}
			opts := g.options(out)
			opts.Packages, opts.Binaries, opts.Tarball, opts.Builder = []string{pkg}, binaries, tarball, builder
			signing, cleanup, err := sign.load(g.getenv)
			if err != nil {
				return err
			}
			defer cleanup()
			opts.Signing = signing
			return runStages(cmd, opts, false, stage.Source{}, stage.Package{})
		},
	}
	cmd.Flags().StringVar(&out, "out", "dist", "the directory to write into")
	cmd.Flags().StringVar(&pkg, "package", "", "the package to write (required)")
	cmd.Flags().StringVar(&binaries, "binaries", "", "the directory holding the compiled binaries (required)")
	cmd.Flags().StringVar(&tarball, "tarball", "", "the source release (default: made from --source)")
	cmd.Flags().StringVar(&builder, "builder", "nfpm", "rpm builder: nfpm or rpmbuild")
	sign.register(cmd)
	return cmd
}

func rpmspecCmd(g *globals) *cobra.Command {
	var out, pkg, binaries, tarball string
	cmd := &cobra.Command{
		Use:   "rpmspec",
		Short: "Write an rpmbuild top dir (SPECS/, SOURCES/) for one rpm package",
		Long: `rpmspec writes the spec generated from the package's template and its
sources into OUT, ready for:

	rpmbuild -ba --define "_topdir OUT" OUT/SPECS/NAME.spec

which is how the Dagger module builds RPMs mock-style, in a clean EL container.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pkg == "" || binaries == "" {
				return usagef("rpmspec needs --package and --binaries")
			}
			opts := g.options(out)
			opts.Packages, opts.Binaries, opts.Tarball = []string{pkg}, binaries, tarball
			return runStages(cmd, opts, false, stage.Source{}, stage.RPMSpec{})
		},
	}
	cmd.Flags().StringVar(&out, "out", "rpmbuild", "the rpmbuild top dir to write")
	cmd.Flags().StringVar(&pkg, "package", "", "the rpm package (required)")
	cmd.Flags().StringVar(&binaries, "binaries", "", "the directory holding the compiled binaries (required)")
	cmd.Flags().StringVar(&tarball, "tarball", "", "the source release, Source0 (default: made from --source)")
	return cmd
}

func checksumsCmd(g *globals) *cobra.Command {
	var dist string
	var sign signFlags
	cmd := &cobra.Command{
		Use:   "checksums",
		Short: "Write SHA256SUMS, manifest.json and SHA256SUMS.asc over a dist/",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := g.options(dist)
			signing, cleanup, err := sign.load(g.getenv)
			if err != nil {
				return err
			}
			defer cleanup()
			opts.Signing = signing
			return runStages(cmd, opts, false, stage.Checksums{})
		},
	}
	cmd.Flags().StringVar(&dist, "dist", "dist", "the directory of artifacts")
	sign.register(cmd)
	return cmd
}

func verifyCmd(*globals) *cobra.Command {
	return &cobra.Command{
		Use:   "verify FILE...",
		Short: "Check .rpm, .deb and .rpkg files against their format's rules",
		Long: `verify checks each file and prints one line per finding. An .rpkg is checked
against every rule Rudder's installers apply; .rpm and .deb against the basic
rules of their formats. Exit code 1 when any file has an error.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("verify needs at least one file")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			failed := 0
			w := cmd.OutOrStdout()
			for _, f := range args {
				findings := stage.VerifyFile(f)
				bad := false
				for _, x := range findings {
					fmt.Fprintf(w, "%s: %s\n", f, x.Message)
					bad = bad || x.Error
				}
				if bad {
					failed++
				} else {
					fmt.Fprintf(w, "%s: ok\n", f)
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d files failed verification", failed, len(args))
			}
			return nil
		},
	}
}

func inspectCmd(*globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show the metadata, files and scripts of an .rpm, .deb or .rpkg",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("inspect takes one file")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			report, err := inspectFile(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), report)
			}
			return writeReport(cmd.OutOrStdout(), report)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func inspectFile(path string) (any, error) {
	if !strings.HasSuffix(path, ".rpkg") {
		return inspect.File(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	p, err := rpkg.Open(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	return p.Inspect(), nil
}

// writeReport prints a report as indented YAML-like text: the JSON
// structure without the punctuation, which reads well in a terminal.
func writeReport(w io.Writer, report any) error {
	return writeText(w, report)
}

// isConfigError reports errors in the user's spec, manifests, templates,
// versions or command line.
func isConfigError(err error) bool {
	var (
		spec    *buildspec.ConfigError
		plugin  *plugins.Error
		missing *templates.MissingPropertyError
		usage   *stage.UsageError
		none    *templates.NoTemplateError
		choria  *templates.ChoriaFormatError
		alias   *templates.AliasError
		arch    *templates.UnknownArchError
	)
	return errors.As(err, &spec) || errors.As(err, &plugin) || errors.As(err, &missing) || errors.As(err, &usage) ||
		errors.As(err, &none) || errors.As(err, &choria) || errors.As(err, &alias) || errors.As(err, &arch)
}
