// Packyard packages Go projects from a Choria-style build spec: plugin
// enabled binaries for every target, RPMs and SRPMs, Debian packages,
// Rudder plugin packages, a source release, an OCI image, checksums and
// signatures.
//
// The module is a thin mapping: it builds the packyard tool from its own
// sources and runs the tool's stage subcommands (docs/cli.md), or
// rpmbuild, dnf and apt-get, each in its own container, so that the
// engine caches every stage and runs independent stages concurrently.
// `packyard build` runs the same stages on the host without an engine.
package main

import (
	"context"
	"fmt"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"dagger/packyard/internal/dagger"

	"github.com/packyard/packyard/buildspec"
)

// Packyard is the module: a project to package and the images to do it in.
type Packyard struct {
	// The project root.
	// +private
	Source *dagger.Directory
	// The build spec, relative to Source.
	// +private
	Spec string
	// +private
	GoImage string
	// +private
	ToolImage string
	// +private
	EL8Image string
	// +private
	EL9Image string
	// +private
	DebImage string
	// +private
	Goproxy string
	// +private
	SourceDateEpoch int
	// +private
	Repo *dagger.Directory
	// +private
	Commit string
	// Packyard's own sources, the packyard tool is built from.
	// +private
	Tool *dagger.Directory
	// The secret variables of publish (WithSecretVariable): names and
	// values, pairwise.
	// +private
	SecretNames []string
	// +private
	Secrets []*dagger.Secret
	// The services of publish (WithServiceBinding): aliases and
	// services, pairwise.
	// +private
	ServiceAliases []string
	// +private
	Services []*dagger.Service
}

// New returns the module for one project.
func New(
	// The project to package: its root, holding go.mod and the build spec.
	// +defaultPath="/"
	source *dagger.Directory,
	// The build spec, relative to source.
	// +optional
	// +default="packager/buildspec.yaml"
	spec string,
	// Image the project is compiled in and the packyard tool runs in.
	// Default: golang:MAJOR.MINOR of the go directive in source's go.mod.
	// +optional
	goImage string,
	// Image the packyard tool is built in. Default: golang:MAJOR.MINOR of
	// the go directive in Packyard's own go.mod.
	// +optional
	toolImage string,
	// Image of EL 8, where el8 rpms are built with rpmbuild and installed
	// to verify them. Any image with dnf (or rpmbuild) will do.
	// +optional
	// +default="almalinux:8"
	el8Image string,
	// Image of EL 9, as el8Image for el9 rpms.
	// +optional
	// +default="almalinux:9"
	el9Image string,
	// Image debs are installed in to verify them.
	// +optional
	// +default="debian:bookworm"
	debImage string,
	// GOPROXY for the Go containers, e.g. a local mirror. Default: the
	// image's own (proxy.golang.org).
	// +optional
	goproxy string,
	// Every timestamp in the artifacts, as a Unix time. Default: the
	// commit time of repo's HEAD, else the time in source's .version
	// file.
	// +optional
	sourceDateEpoch int,
	// The git repository that holds source: its HEAD gives the commit,
	// its time and, without --version, git describe, as packyard build
	// finds them in the work tree around --source. Only its .git is
	// loaded. Default: the repository holding dagger.json, which is right
	// at the root of a checkout and for any subdirectory of it (--source
	// examples/backplane). Calling the module from another repository
	// (dagger -m), pass --repo . as well.
	// +defaultPath="/"
	// +ignore=["**", "!.git/**"]
	repo *dagger.Directory,
	// The commit id source is built from (the SHA build flag, the
	// release's .version, the image's revision). With --source-date-epoch
	// and --version, git is not read at all. Default: repo's HEAD, else
	// the commit in source's .version file.
	// +optional
	commit string,
	// Packyard's own sources, to build the packyard tool from. Only the
	// packages the tool compiles are loaded, so edits elsewhere in the
	// repository never rebuild it.
	// +defaultPath="/"
	// +ignore=["**", "!go.mod", "!go.sum", "!cmd/**", "!buildspec/**", "!version/**", "!plugins/**", "!templates/**", "!pack/**", "!stage/**", "!internal/**", "!publish/**", "**/*_test.go", "**/testdata/**"]
	tool *dagger.Directory,
) (*Packyard, error) {
	spec, err := normalizeSpec(spec)
	if err != nil {
		return nil, err
	}
	if sourceDateEpoch < 0 {
		return nil, fmt.Errorf("source-date-epoch %d: must not be negative", sourceDateEpoch)
	}
	if commit, err = normalizeCommit(commit); err != nil {
		return nil, err
	}
	return &Packyard{
		Source:          source,
		Spec:            spec,
		GoImage:         strings.TrimSpace(goImage),
		ToolImage:       strings.TrimSpace(toolImage),
		EL8Image:        orDefault(el8Image, defaultEL8Image),
		EL9Image:        orDefault(el9Image, defaultEL9Image),
		DebImage:        orDefault(debImage, defaultDebImage),
		Goproxy:         strings.TrimSpace(goproxy),
		SourceDateEpoch: sourceDateEpoch,
		Repo:            repo,
		Commit:          commit,
		Tool:            tool,
	}, nil
}

// orDefault is s, or def when s is blank.
func orDefault(s, def string) string {
	if s = strings.TrimSpace(s); s == "" {
		return def
	}
	return s
}

// Plan prints every stage of the build with its inputs and outputs
// (packyard plan).
func (m *Packyard) Plan(
	ctx context.Context,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour to plan.
	// +optional
	// +default="foss"
	build string,
	// How to print the plan: text or json.
	// +optional
	// +default="text"
	format string,
) (string, error) {
	asJSON, err := planFormat(format)
	if err != nil {
		return "", err
	}
	r, err := m.start(ctx, version, build, false)
	if err != nil {
		return "", err
	}
	argv := planArgv(r.g, asJSON)
	out, err := r.toolCtr().
		WithMountedDirectory(srcDir, r.src.Filter(packagerFilter())).
		WithExec(argv).
		Stdout(ctx)
	if err != nil {
		return "", fmt.Errorf("plan: %w", err)
	}
	return out, nil
}

// Codegen returns the source with the plugin registration files that
// packyard codegen writes from packager/plugins.yaml and
// packager/user_plugins.yaml.
func (m *Packyard) Codegen(
	ctx context.Context,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
	// The main package's directory, relative to the source root.
	// +optional
	dir string,
) (*dagger.Directory, error) {
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if dir, err = normalizeSpec(dir); err != nil {
			return nil, fmt.Errorf("codegen dir: %w", err)
		}
		dir = path.Join(srcDir, dir)
	}
	return r.goCtr().
		WithDirectory(srcDir, r.src.Filter(stageSourceFilter())).
		WithWorkdir(srcDir).
		WithExec(codegenArgv(r.g, dir)).
		Directory(srcDir), nil
}

// Binaries cross-compiles the compile targets (packyard compile), each
// in its own container, and returns them in one directory.
func (m *Packyard) Binaries(
	ctx context.Context,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
	// Compile targets to build. Default: every target of the flavour.
	// +optional
	targets []string,
) (*dagger.Directory, error) {
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return nil, err
	}
	ts, err := selectTargets(r.fl, targets)
	if err != nil {
		return nil, err
	}
	return r.binaries(ctx, ts)
}

// Binary compiles one compile target and returns its binary.
func (m *Packyard) Binary(
	ctx context.Context,
	// The compile target, e.g. 64bit_linux.
	target string,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
) (*dagger.File, error) {
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return nil, err
	}
	ts, err := selectTargets(r.fl, []string{target})
	if err != nil {
		return nil, err
	}
	return r.binaryFile(ctx, ts[0])
}

// Tarball writes the reproducible source release, NAME-VERSION.tar.gz
// (packyard source).
func (m *Packyard) Tarball(
	ctx context.Context,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
) (*dagger.File, error) {
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return nil, err
	}
	f, _, err := r.tarball(ctx)
	return f, err
}

// Rpm builds the flavour's rpm packages mock-style: packyard package
// --builder rpmbuild runs in a clean container of each package's EL
// release, where it writes the spec and sources and runs rpmbuild -ba.
// It returns rpm/ and srpm/.
func (m *Packyard) Rpm(
	ctx context.Context,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
	// Packages to build. Default: every rpm package of the flavour.
	// +optional
	packages []string,
	// Armored OpenPGP private key to sign the rpms and srpms with.
	// +optional
	key *dagger.Secret,
	// The key's passphrase.
	// +optional
	passphrase *dagger.Secret,
) (*dagger.Directory, error) {
	return m.formatDir(ctx, version, build, packages, formatRPM, builderRpmbuild, signing{key, passphrase})
}

// Deb builds the flavour's Debian packages (packyard package) and
// returns deb/.
func (m *Packyard) Deb(
	ctx context.Context,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
	// Packages to build. Default: every deb package of the flavour.
	// +optional
	packages []string,
	// Armored OpenPGP private key to sign the debs with (_gpgorigin).
	// +optional
	key *dagger.Secret,
	// The key's passphrase.
	// +optional
	passphrase *dagger.Secret,
) (*dagger.Directory, error) {
	return m.formatDir(ctx, version, build, packages, formatDeb, "", signing{key, passphrase})
}

// Rpkg builds the flavour's Rudder plugin packages (packyard package)
// and returns rpkg/.
func (m *Packyard) Rpkg(
	ctx context.Context,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
	// Packages to build. Default: every rpkg package of the flavour.
	// +optional
	packages []string,
) (*dagger.Directory, error) {
	return m.formatDir(ctx, version, build, packages, formatRpkg, "", signing{})
}

// formatDir builds the packages of one format.
func (m *Packyard) formatDir(ctx context.Context, version, build string, packages []string, format, builder string, sig signing) (*dagger.Directory, error) {
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return nil, err
	}
	mx, err := r.matrix(ctx, packages)
	if err != nil {
		return nil, err
	}
	jobs := mx.jobsOf(format)
	if len(jobs) == 0 {
		return nil, fmt.Errorf("flavour %s: no %s packages among %s", r.fl.Name, format, listOrNone(jobNames(mx.Jobs)))
	}
	return r.packages(ctx, jobs, builder, sig)
}

// Image returns an OCI image of one linux binary: busybox:glibc with CA
// certificates, run as nobody, annotated with the version, revision,
// source and (commit) creation time.
func (m *Packyard) Image(
	ctx context.Context,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
	// The linux compile target. Default: the first linux/amd64 target,
	// else the first linux target.
	// +optional
	target string,
	// The binary's name in the image, /usr/local/bin/NAME and the
	// entrypoint. Default: the product name of the flavour.
	// +optional
	name string,
	// The commit id for org.opencontainers.image.revision. Default:
	// source's HEAD.
	// +optional
	revision string,
	// The repository URL for org.opencontainers.image.source.
	// +optional
	sourceUrl string,
	// The base image.
	// +optional
	// +default="busybox:glibc"
	baseImage string,
) (*dagger.Container, error) {
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return nil, err
	}
	t, err := imageTarget(r.fl, target)
	if err != nil {
		return nil, err
	}
	if name = strings.TrimSpace(name); name == "" {
		if name = r.fl.Product; name == "" {
			name = t.Name
		}
	}
	if strings.Contains(name, "/") {
		return nil, fmt.Errorf("image name %q: must be a file name", name)
	}
	bin, err := r.binaryFile(ctx, t)
	if err != nil {
		return nil, err
	}
	if revision == "" {
		revision = r.rev
	}
	certs := dag.Container().From(r.imgs.Go).File("/etc/ssl/certs/ca-certificates.crt")
	exe := path.Join("/usr/local/bin", name)
	ctr := dag.Container(dagger.ContainerOpts{Platform: dagger.Platform(platformOf(t))}).
		From(orDefault(baseImage, defaultBaseImage)).
		WithFile("/etc/ssl/certs/ca-certificates.crt", certs, dagger.ContainerWithFileOpts{Permissions: 0o644}).
		WithFile(exe, bin, dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithUser("65534:65534").
		WithEntrypoint([]string{exe})
	for _, kv := range imageAnnotations(r.g.Version, revision, sourceUrl, r.epoch) {
		ctr = ctr.WithAnnotation(kv[0], kv[1]).WithLabel(kv[0], kv[1])
	}
	return ctr, nil
}

// Checksums writes SHA256SUMS and manifest.json into a dist directory
// (packyard checksums), and SHA256SUMS.asc when a key is given. The key
// and passphrase reach the tool only as secret environment variables,
// never in a layer or on a command line.
func (m *Packyard) Checksums(
	ctx context.Context,
	// The dist directory to sum, as build returns it.
	dist *dagger.Directory,
	// Armored OpenPGP private key to sign SHA256SUMS with.
	// +optional
	key *dagger.Secret,
	// The key's passphrase.
	// +optional
	passphrase *dagger.Secret,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
) (*dagger.Directory, error) {
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return nil, err
	}
	return r.checksums(dist, signing{key, passphrase}), nil
}

// Verify installs every package of dist in a clean container of its
// distribution (dnf for rpm, apt-get for deb), runs BINDIR/NAME buildinfo
// and systemd-analyze verify on the units it ships, and runs packyard
// verify on every package. Every check runs to its end; the report says
// PASS, SKIP (could not be made here, and why) or FAIL (and why) for each.
// When one failed, the function fails with the whole report.
func (m *Packyard) Verify(
	ctx context.Context,
	// The dist directory to verify. Default: build's output.
	// +optional
	dist *dagger.Directory,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
	// Packages to verify. Default: every package of the flavour.
	// +optional
	packages []string,
) (string, error) {
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return "", err
	}
	mx, err := r.matrix(ctx, packages)
	if err != nil {
		return "", err
	}
	if dist == nil {
		if dist, err = r.build(ctx, mx, builderNfpm, signing{}); err != nil {
			return "", err
		}
	}
	return r.verify(ctx, mx, dist)
}

// Build runs the whole pipeline for a flavour and returns dist/: the
// source release, binaries/, rpm/, srpm/, deb/, rpkg/, SHA256SUMS (and
// SHA256SUMS.asc with a key) and manifest.json. Independent stages run
// concurrently.
func (m *Packyard) Build(
	ctx context.Context,
	// The product version. Default: git describe, else .version.
	// +optional
	version string,
	// The flavour.
	// +optional
	// +default="foss"
	build string,
	// Packages to build. Default: every package of the flavour.
	// +optional
	packages []string,
	// How rpms are made: nfpm (in the packyard tool) or rpmbuild (in an
	// EL container of the package's release).
	// +optional
	// +default="nfpm"
	builder string,
	// Armored OpenPGP private key to sign with: the rpm and srpm headers,
	// the debs (_gpgorigin) and SHA256SUMS (SHA256SUMS.asc), as packyard
	// build --key-file does.
	// +optional
	key *dagger.Secret,
	// The key's passphrase.
	// +optional
	passphrase *dagger.Secret,
) (*dagger.Directory, error) {
	builder, err := normalizeBuilder(builder)
	if err != nil {
		return nil, err
	}
	r, err := m.start(ctx, version, build, true)
	if err != nil {
		return nil, err
	}
	mx, err := r.matrix(ctx, packages)
	if err != nil {
		return nil, err
	}
	return r.build(ctx, mx, builder, signing{key, passphrase})
}

// jobNames lists the package names of jobs, for messages.
func jobNames(jobs []job) []string {
	var out []string
	for _, j := range jobs {
		out = append(out, j.Package.Name)
	}
	return out
}

// syncAll evaluates directories concurrently, so that independent stages
// run side by side in the engine and the first failure is reported.
func syncAll(ctx context.Context, what []string, dirs []*dagger.Directory) error {
	g, gctx := errgroup.WithContext(ctx)
	for i, d := range dirs {
		g.Go(func() error {
			if _, err := d.Sync(gctx); err != nil {
				return fmt.Errorf("%s: %w", what[i], err)
			}
			return nil
		})
	}
	return g.Wait()
}

// epochString formats a Unix time for SOURCE_DATE_EPOCH.
func epochString(t int64) string { return strconv.FormatInt(t, 10) }

// specFlavour loads the spec data and returns the flavour.
func specFlavour(file string, data []byte, flavour string) (*buildspec.Flavour, error) {
	spec, err := buildspec.Parse(file, data)
	if err != nil {
		return nil, err
	}
	return spec.Flavour(flavour)
}
