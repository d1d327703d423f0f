package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack"
	psign "github.com/packyard/packyard/pack/sign"
	"github.com/packyard/packyard/publish"
	"github.com/packyard/packyard/version"
)

func publishCmd(g *globals) *cobra.Command {
	var dist string
	var pub publishFlags
	var keys signFlags
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Upload a built dist/ to the flavour's publish targets",
		Long: `publish uploads the release in --dist (as packyard build wrote it) to the
publish targets of the flavour's spec: yum, static apt and Rudder plugin
repositories, whose indexes it merges and signs, aptly servers (REST API),
plain HTTP/file download areas, and container registries (oci: one image
per linux target under one multi-platform index). Files the
remote has already are not sent again; a different file under a published
name fails unless --overwrite. Packages go first, indexes and signatures
last. Credentials come from the environment variables the spec names.
The version is read from the dist (its source tarball); --version, when
given, must agree. The indexes are dated and signed as of the release's
time (the source tarball's, else SOURCE_DATE_EPOCH, else the commit's).
A table of what was sent ends the run. See docs/publish.md.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			specFile := g.spec
			if !filepath.IsAbs(specFile) {
				specFile = filepath.Join(g.source, specFile)
			}
			spec, err := buildspec.Load(specFile)
			if errors.Is(err, fs.ErrNotExist) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			fl, err := spec.Flavour(g.flavour)
			if err != nil {
				return err
			}
			if fi, err := os.Stat(dist); err != nil || !fi.IsDir() {
				return usagef("--dist %s: not a directory that packyard build wrote", dist)
			}
			v, err := publishVersion(g, dist, fl.Product)
			if err != nil {
				return err
			}
			at, err := releaseTime(g, dist, fl.Product, v)
			if err != nil {
				return err
			}
			signing, cleanup, err := keys.load(g.getenv)
			if err != nil {
				return err
			}
			defer cleanup()
			return pub.publish(cmd, g, spec, fl, release{dist: dist, version: v, time: at, signing: signing})
		},
	}
	f := cmd.Flags()
	f.StringVar(&dist, "dist", "dist", "the release to publish, as packyard build wrote it")
	pub.register(f, "target")
	f.StringVar(&pub.ociBase, "oci-base", "", "an OCI image layout holding the oci targets' base image, used instead of pulling it, e.g. on a machine without access to the base's registry")
	keys.register(cmd)
	return cmd
}

// publishFlags are the options packyard publish and packyard build
// --publish share, with the code that acts on them.
type publishFlags struct {
	targets           []string
	dryRun, overwrite bool
	// ociBase is packyard publish's --oci-base.
	ociBase string
}

// register adds the flags; targetFlag is the name of the repeatable
// target flag (build's own --target would read as a compile target).
func (p *publishFlags) register(f *pflag.FlagSet, targetFlag string) {
	f.StringArrayVar(&p.targets, targetFlag, nil, "a publish target of the flavour (repeatable; default: all)")
	f.BoolVar(&p.dryRun, "dry-run", false, "read the remote repositories and print what would be uploaded, writing nothing")
	f.BoolVar(&p.overwrite, "overwrite", false, "replace remote packages (and image version tags) whose content differs from the release's")
}

// check fails, as a usage error, on what would stop the publish before
// anything is uploaded: an unknown target, a type not implemented, a
// credential variable that is unset.
func (p *publishFlags) check(spec *buildspec.Spec, fl *buildspec.Flavour, getenv func(string) string) error {
	_, err := publish.Check(spec, fl, splitList(p.targets), getenv)
	return publishError(err)
}

// release is a built dist and what publishing it needs to know.
type release struct {
	dist, version string
	// time is the release's SOURCE_DATE_EPOCH; zero when unknown.
	time    time.Time
	signing *pack.Signing
}

// publish publishes r to the selected targets and prints the table of
// what was sent (also when a target failed), then one line saying what
// was published.
func (p *publishFlags) publish(cmd *cobra.Command, g *globals, spec *buildspec.Spec, fl *buildspec.Flavour, r release) error {
	var key *psign.Key
	if r.signing != nil {
		var err error
		if key, err = psign.FromSigning(r.signing); err != nil {
			return usageError{err}
		}
	}
	if r.time.IsZero() {
		fmt.Fprintf(g.stderr, "publish: the release's time is unknown (no .version in the dist's source tarball, no SOURCE_DATE_EPOCH): indexes are dated now, and a republish will not give the same bytes\n")
	}
	rep, err := publish.Publish(cmd.Context(), publish.Options{
		Spec: spec, Flavour: fl, Targets: splitList(p.targets), Dist: r.dist, Version: r.version, Key: key, Time: r.time,
		DryRun: p.dryRun, Overwrite: p.overwrite, Getenv: g.getenv, OCIBase: p.ociBase,
		Logf: func(format string, args ...any) { fmt.Fprintf(g.stderr, format+"\n", args...) },
	})
	out := cmd.OutOrStdout()
	if len(rep.Targets) > 0 {
		if werr := rep.WriteTable(out); werr != nil && err == nil {
			err = werr
		}
	}
	if err != nil {
		return publishError(err)
	}
	if p.dryRun {
		fmt.Fprintf(out, "dry run: %s %s not published, nothing written\n", fl.Product, r.version)
	} else {
		fmt.Fprintf(out, "published %s %s\n", fl.Product, r.version)
	}
	return nil
}

// publishError makes the errors that are the user's to fix in the spec
// or the environment usage errors (exit 2).
func publishError(err error) error {
	if errors.Is(err, publish.ErrNotImplemented) || errors.Is(err, publish.ErrNoCredentials) {
		return usageError{err}
	}
	return err
}

// publishVersion is the release's version: the one its dist holds,
// which --version (or, for a dist without a source tarball, git
// describe and .version) must agree with.
func publishVersion(g *globals, dist, product string) (string, error) {
	inDist, err := publish.DistVersion(dist, product)
	if err != nil {
		return "", usageError{err}
	}
	if g.version == "" && inDist != "" {
		return inDist, nil
	}
	// An explicit version needs no commit time: publishing stamps nothing.
	var v version.Version
	if g.version != "" {
		v, err = version.Parse(g.version)
	} else {
		v, err = version.Resolve(g.source, g.version)
	}
	if err != nil {
		return "", usageError{err}
	}
	if inDist != "" && v.Product != inDist {
		return "", usagef("--version %s: %s holds %s %s", g.version, dist, product, inDist)
	}
	return v.Product, nil
}

// releaseTime is the time packyard build gave the release: the one in
// the .version of the dist's source tarball, else $SOURCE_DATE_EPOCH,
// else the commit time of --source; zero when none is known.
func releaseTime(g *globals, dist, product, v string) (time.Time, error) {
	at, err := publish.DistTime(dist, product, v)
	if err != nil || !at.IsZero() {
		return at, err
	}
	// The same resolution as build's, so that the same value is taken or
	// refused in the same way.
	sde := g.getenv("SOURCE_DATE_EPOCH")
	resolved, err := version.ResolveWith(g.source, v, version.Options{SourceDateEpoch: sde})
	switch {
	case err == nil:
		return resolved.Time, nil
	case sde != "":
		return time.Time{}, usageError{err}
	}
	return time.Time{}, nil
}
