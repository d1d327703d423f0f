package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"dagger/packyard/internal/dagger"

	"github.com/packyard/packyard/buildspec"
)

// envNameRE is a name WithSecretVariable accepts.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// WithSecretVariable returns the module with a secret that publish gives
// the packyard tool as the environment variable name: the credentials a
// publish target of the spec names (username_env, password_env,
// token_env). Chain it once per variable, e.g.
// `with-secret-variable --name REPO_TOKEN --secret env:REPO_TOKEN publish`.
func (m *Packyard) WithSecretVariable(
	// The environment variable, as the spec names it.
	name string,
	// Its value.
	secret *dagger.Secret,
) (*Packyard, error) {
	if !envNameRE.MatchString(name) {
		return nil, fmt.Errorf("with-secret-variable: %q is not an environment variable name", name)
	}
	c := *m
	c.SecretNames = append(slices.Clone(m.SecretNames), name)
	c.Secrets = append(slices.Clone(m.Secrets), secret)
	return &c, nil
}

// WithServiceBinding returns the module with a service that publish's
// tool container reaches under alias: a repository or registry that is
// not on the network the engine's containers see, such as one on the
// caller's machine (`--service tcp://localhost:8080`), named in the
// spec's URLs as http://ALIAS:8080/.
func (m *Packyard) WithServiceBinding(
	// The host name the spec's URLs use for the service.
	alias string,
	// The service.
	service *dagger.Service,
) *Packyard {
	c := *m
	c.ServiceAliases = append(slices.Clone(m.ServiceAliases), alias)
	c.Services = append(slices.Clone(m.Services), service)
	return &c
}

// Publish uploads a release to the flavour's publish targets (packyard
// publish, see docs/publish.md): yum, apt and Rudder repositories, which
// it merges and signs, aptly servers, HTTP download areas, and container
// registries (one image per linux target under one index, the same
// digest packyard publish pushes). Without dist it builds the release
// first, as build does, so publishing is build's last stage. It returns
// the tool's report; a target that fails fails the call with it.
//
// Publishing is never cached: every call talks to the targets, which
// make a publish of an unchanged release send nothing.
//
// +cache="never"
func (m *Packyard) Publish(
	ctx context.Context,
	// The release to publish, as build returns it. Default: build's
	// output for this version and flavour.
	// +optional
	dist *dagger.Directory,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
	// Publish targets of the flavour. Default: all of them.
	// +optional
	target []string,
	// Read the remote repositories and report what would be uploaded,
	// writing nothing.
	// +optional
	dryRun bool,
	// Replace remote packages (and image version tags) whose content
	// differs from the release's.
	// +optional
	overwrite bool,
	// Armored OpenPGP private key: signs the repository indexes (and the
	// packages, when publish builds them).
	// +optional
	key *dagger.Secret,
	// The key's passphrase.
	// +optional
	passphrase *dagger.Secret,
	// How rpms are made when publish builds the release: nfpm or
	// rpmbuild.
	// +optional
	// +default="nfpm"
	builder string,
) (string, error) {
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return "", err
	}
	targets, err := buildspec.SelectPublish(m.Spec, r.fl, target)
	if err != nil {
		return "", err
	}
	sig := signing{key, passphrase}
	if dist == nil {
		if builder, err = normalizeBuilder(builder); err != nil {
			return "", err
		}
		mx, err := r.matrix(ctx, nil)
		if err != nil {
			return "", err
		}
		if dist, err = r.build(ctx, mx, builder, sig); err != nil {
			return "", err
		}
	}
	// One tool run per target, in the spec's order, each stopping the
	// call when it fails, as packyard publish does.
	var report strings.Builder
	for _, t := range targets {
		argv := publishArgv(r.g, distDir, t.Name, dryRun, overwrite)
		ctr := r.publishCtr(dist, sig).WithExec(argv, dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
		out, err := ctr.CombinedOutput(ctx)
		if err != nil {
			return report.String(), fmt.Errorf("publish %s: %w", t.Name, err)
		}
		report.WriteString(out)
		code, err := ctr.ExitCode(ctx)
		if err != nil {
			return report.String(), fmt.Errorf("publish %s: %w", t.Name, err)
		}
		if code != 0 {
			return "", fmt.Errorf("publish %s failed (exit %d):\n%s", t.Name, code, report.String())
		}
	}
	return report.String(), nil
}

// publishCtr is the tool container that publishes dist: the spec, the
// release, the key, and the credentials and services the caller gave.
//
// An oci target's base image is pulled by the tool, as packyard publish
// pulls it, not handed over by the engine: the engine re-exports layers
// it has unpacked as new blobs (Container.AsTarball), and the image
// would then differ from packyard publish's.
func (r *run) publishCtr(dist *dagger.Directory, sig signing) *dagger.Container {
	c := r.toolCtr().
		WithMountedDirectory(srcDir, r.src.Filter(packagerFilter())).
		WithMountedDirectory(distDir, dist)
	for i, name := range r.m.SecretNames {
		c = c.WithSecretVariable(name, r.m.Secrets[i])
	}
	for i, alias := range r.m.ServiceAliases {
		c = c.WithServiceBinding(alias, r.m.Services[i])
	}
	// The publish talks to the targets whatever the cache holds: a
	// cached run would report success for a repository that has since
	// lost the files.
	return sig.with(c).WithEnvVariable("PACKYARD_PUBLISH_AT", time.Now().UTC().Format(time.RFC3339Nano))
}
