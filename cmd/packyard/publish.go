package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/packyard/packyard/buildspec"
	psign "github.com/packyard/packyard/pack/sign"
	"github.com/packyard/packyard/publish"
	"github.com/packyard/packyard/version"
)

func publishCmd(g *globals) *cobra.Command {
	var dist string
	var targets []string
	var dryRun, overwrite bool
	var ociBase string
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
given, must agree. See docs/publish.md.`,
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
			signing, cleanup, err := keys.load(g.getenv)
			if err != nil {
				return err
			}
			defer cleanup()
			var key *psign.Key
			if signing != nil {
				if key, err = psign.FromSigning(signing); err != nil {
					return usageError{err}
				}
			}
			err = publish.Publish(cmd.Context(), publish.Options{
				Spec: spec, Flavour: fl, Targets: splitList(targets), Dist: dist, Version: v, Key: key,
				DryRun: dryRun, Overwrite: overwrite, Getenv: g.getenv, OCIBase: ociBase,
				Logf: func(format string, args ...any) { fmt.Fprintf(g.stderr, format+"\n", args...) },
			})
			if errors.Is(err, publish.ErrNotImplemented) || errors.Is(err, publish.ErrNoCredentials) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if dryRun {
				fmt.Fprintf(cmd.OutOrStdout(), "dry run: %s %s not published, nothing written\n", fl.Product, v)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "published %s %s\n", fl.Product, v)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dist, "dist", "dist", "the release to publish, as packyard build wrote it")
	f.StringArrayVar(&targets, "target", nil, "a publish target of the flavour (repeatable; default: all)")
	f.BoolVar(&dryRun, "dry-run", false, "read the remote repositories and print what would be uploaded, writing nothing")
	f.BoolVar(&overwrite, "overwrite", false, "replace remote packages (and image version tags) whose content differs from the release's")
	f.StringVar(&ociBase, "oci-base", "", "an OCI image layout holding the oci targets' base image, used instead of pulling it, e.g. on a machine without access to the base's registry")
	keys.register(cmd)
	return cmd
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
