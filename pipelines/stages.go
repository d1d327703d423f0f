package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"dagger/packyard/internal/dagger"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/templates"
)

// run is one function call: the loaded flavour, the resolved version and
// timestamp, and the tool, shared by the stages it runs.
type run struct {
	m     *Packyard
	g     globals
	fl    *buildspec.Flavour
	imgs  images
	tool  *dagger.File
	epoch int64  // SOURCE_DATE_EPOCH; 0 when not needed
	rev   string // HEAD's commit id, when git told it
}

// The source subsets each kind of stage sees. A stage container gets only
// the files it reads, so that, e.g., a new commit that only moves .git
// does not re-run the compile.

// stageSourceFilter is the project without VCS data or earlier outputs:
// what codegen and compile read.
func stageSourceFilter() dagger.DirectoryFilterOpts {
	return dagger.DirectoryFilterOpts{Exclude: []string{".git", "dist"}}
}

// packagerFilter is what the package, rpmspec, plan and checksums stages
// read from the project beside the binaries and the release tarball: the
// spec, templates and plugin manifests under packager/, the module name
// and the version file.
func packagerFilter() dagger.DirectoryFilterOpts {
	return dagger.DirectoryFilterOpts{Include: []string{"packager", "go.mod", ".version"}}
}

// gitFilter is what git log needs.
func gitFilter() dagger.DirectoryFilterOpts {
	return dagger.DirectoryFilterOpts{Include: []string{".git"}}
}

// toolBuildArgv builds the packyard tool, static and without paths or
// VCS stamps of the build machine.
func toolBuildArgv(out string) []string {
	return []string{"go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, "./cmd/packyard"}
}

// goBase is a Go image with the module and build caches mounted.
func (m *Packyard) goBase(image string) *dagger.Container {
	c := dag.Container().From(image).
		WithMountedCache(goModCache, dag.CacheVolume(goModVolume)).
		WithMountedCache(goBuildDir, dag.CacheVolume(goBldVolume))
	if m.Goproxy != "" {
		c = c.WithEnvVariable("GOPROXY", m.Goproxy)
	}
	return c
}

// modImage is the golang image for the go.mod at the root of dir.
func modImage(ctx context.Context, dir *dagger.Directory, what string) (string, error) {
	data, err := dir.File("go.mod").Contents(ctx)
	if err != nil {
		return "", fmt.Errorf("%s go.mod: %w", what, err)
	}
	img, err := goImageFromMod(what+" go.mod", []byte(data))
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return img, nil
}

// buildTool compiles the packyard tool once; every stage container mounts
// the file, so the tool is rebuilt only when its own sources change.
func (m *Packyard) buildTool(ctx context.Context) (*dagger.File, error) {
	image := m.ToolImage
	if image == "" {
		var err error
		if image, err = modImage(ctx, m.Tool, "packyard"); err != nil {
			return nil, err
		}
	}
	const out = "/out/packyard"
	return m.goBase(image).
		WithEnvVariable("CGO_ENABLED", "0").
		WithDirectory("/packyard", m.Tool).
		WithWorkdir("/packyard").
		WithExec(toolBuildArgv(out)).
		File(out), nil
}

// start loads the spec and resolves what every stage of a call shares.
// stamp asks for the timestamp (and revision) too.
func (m *Packyard) start(ctx context.Context, version, build string, stamp bool) (*run, error) {
	r := &run{m: m, g: globals{Source: srcDir, Spec: m.Spec, Flavour: normalizeFlavour(build), Version: strings.TrimSpace(version)}}
	data, err := m.Source.File(m.Spec).Contents(ctx)
	if err != nil {
		return nil, fmt.Errorf("build spec %s: %w", m.Spec, err)
	}
	if r.fl, err = specFlavour(m.Spec, []byte(data), r.g.Flavour); err != nil {
		return nil, err
	}
	r.imgs = images{Go: m.GoImage, EL8: m.EL8Image, EL9: m.EL9Image, Deb: m.DebImage}
	if r.imgs.Go == "" {
		if r.imgs.Go, err = modImage(ctx, m.Source, "source"); err != nil {
			return nil, err
		}
	}
	if r.tool, err = m.buildTool(ctx); err != nil {
		return nil, err
	}
	if r.g.Version == "" {
		// Resolved once, so that every stage is given the same version and
		// only the stages that take it re-run when it changes.
		out, err := r.toolCtr().WithMountedDirectory(srcDir, m.Source).WithExec(versionArgv(r.g)).Stdout(ctx)
		if err != nil {
			return nil, fmt.Errorf("version: %w", err)
		}
		if r.g.Version = strings.TrimSpace(out); r.g.Version == "" {
			return nil, fmt.Errorf("version: packyard version printed nothing; pass --version")
		}
	}
	if stamp {
		if err := r.stamp(ctx); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// stamp fixes SOURCE_DATE_EPOCH: the constructor's, else HEAD's commit
// time.
func (r *run) stamp(ctx context.Context) error {
	out, err := dag.Container().From(r.imgs.Go).
		WithMountedDirectory(srcDir, r.m.Source.Filter(gitFilter())).
		WithExec(shArgv(gitInfoScript(srcDir))).
		Stdout(ctx)
	if err == nil {
		r.rev, r.epoch, err = parseGitInfo(out)
	}
	if r.m.SourceDateEpoch > 0 {
		r.epoch = int64(r.m.SourceDateEpoch)
		return nil
	}
	if err != nil {
		return fmt.Errorf("commit time for SOURCE_DATE_EPOCH: %w (without .git in the source, pass --source-date-epoch)", err)
	}
	return nil
}

// toolCtr is a container with the packyard tool and the timestamp. The
// Go image is used because the tool shells out to go for some stages and
// the image is in the engine's cache anyway.
func (r *run) toolCtr() *dagger.Container {
	c := dag.Container().From(r.imgs.Go).WithFile(toolPath, r.tool, dagger.ContainerWithFileOpts{Permissions: 0o755})
	if r.epoch > 0 {
		c = c.WithEnvVariable("SOURCE_DATE_EPOCH", epochString(r.epoch))
	}
	return c
}

// goCtr is toolCtr with the Go caches, for the stages that run go.
func (r *run) goCtr() *dagger.Container {
	c := r.m.goBase(r.imgs.Go).WithFile(toolPath, r.tool, dagger.ContainerWithFileOpts{Permissions: 0o755})
	if r.epoch > 0 {
		c = c.WithEnvVariable("SOURCE_DATE_EPOCH", epochString(r.epoch))
	}
	return c
}

// matrix selects the packages of the call. Template formats come from
// the project's own templates (copied out of the source) and the
// embedded ones, as on the host.
func (r *run) matrix(ctx context.Context, packages []string) (*matrix, error) {
	tmp, err := os.MkdirTemp("", "packyard-templates-")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	defer os.RemoveAll(tmp)
	files, err := r.m.Source.Glob(ctx, templates.ProjectDir+"/**/template.yaml")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, f := range files {
		data, err := r.m.Source.File(f).Contents(ctx)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", f, err)
		}
		dst := filepath.Join(tmp, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if err := os.WriteFile(dst, []byte(data), 0o644); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
	}
	return newMatrix(r.fl, packages, r.imgs, func(t string) (string, error) {
		return templates.FormatOf(tmp, t)
	})
}

// compile builds one target (packyard compile --target T) from the source
// release, as packyard build does, and returns the directory holding its
// binary alone. The container holds the spec and the release only: the
// release's .version stamps the commit and its time into the binary.
func (r *run) compile(t *buildspec.CompileTarget, rel release) *dagger.Directory {
	tarball := path.Join(tarballDir, rel.name)
	return r.goCtr().
		WithMountedDirectory(srcDir, r.m.Source.Filter(packagerFilter())).
		WithMountedFile(tarball, rel.file).
		WithWorkdir(srcDir).
		WithExec(compileArgv(r.g, []string{t.Name}, tarball, outDir)).
		Directory(path.Join(outDir, "binaries"))
}

// release is the source release with its file name.
type release struct {
	file *dagger.File
	name string
}

// binaries writes the release, compiles targets concurrently from it and
// merges their outputs.
func (r *run) binaries(ctx context.Context, ts []*buildspec.CompileTarget) (*dagger.Directory, error) {
	rel, err := r.release(ctx)
	if err != nil {
		return nil, err
	}
	dirs, err := r.compileAll(ctx, ts, rel)
	if err != nil {
		return nil, err
	}
	all := dag.Directory()
	for _, t := range ts {
		all = all.WithDirectory(".", dirs[t.Name])
	}
	return all, nil
}

// compileAll compiles targets concurrently, each in its own container.
func (r *run) compileAll(ctx context.Context, ts []*buildspec.CompileTarget, rel release) (map[string]*dagger.Directory, error) {
	dirs := map[string]*dagger.Directory{}
	var what []string
	var list []*dagger.Directory
	for _, t := range ts {
		d := r.compile(t, rel)
		dirs[t.Name] = d
		what = append(what, "compile "+t.Name)
		list = append(list, d)
	}
	return dirs, syncAll(ctx, what, list)
}

// binaryFile is the binary of one target.
func (r *run) binaryFile(ctx context.Context, t *buildspec.CompileTarget) (*dagger.File, error) {
	rel, err := r.release(ctx)
	if err != nil {
		return nil, err
	}
	d := r.compile(t, rel)
	names, err := d.Entries(ctx)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", t.Name, err)
	}
	if len(names) != 1 {
		return nil, fmt.Errorf("compile %s: want one binary, got %s", t.Name, listOrNone(names))
	}
	return d.File(names[0]), nil
}

// release is tarball as a release value.
func (r *run) release(ctx context.Context) (release, error) {
	f, name, err := r.tarball(ctx)
	return release{f, name}, err
}

// tarball writes the source release (packyard source) and returns it with
// its file name.
func (r *run) tarball(ctx context.Context) (*dagger.File, string, error) {
	out := r.goCtr().
		WithMountedDirectory(srcDir, r.m.Source).
		WithWorkdir(srcDir).
		WithExec(sourceArgv(r.g, outDir)).
		Directory(outDir)
	names, err := out.Glob(ctx, "*.tar.gz")
	if err != nil {
		return nil, "", fmt.Errorf("source: %w", err)
	}
	if len(names) != 1 {
		return nil, "", fmt.Errorf("source: want one NAME-VERSION.tar.gz, got %s", listOrNone(names))
	}
	return out.File(names[0]), names[0], nil
}

// inputs are what a package stage is given beside the project's packager/.
type inputs struct {
	binaries *dagger.Directory // the job's binary alone
	tarball  *dagger.File
	tarName  string
}

// packageCtr is the tool container with a package stage's inputs.
func (r *run) packageCtr(in inputs) *dagger.Container {
	return r.toolCtr().
		WithMountedDirectory(srcDir, r.m.Source.Filter(packagerFilter())).
		WithMountedDirectory(binDir, in.binaries).
		WithMountedFile(path.Join(tarballDir, in.tarName), in.tarball)
}

// pkg builds one package and returns its part of dist/ (rpm/ + srpm/,
// deb/ or rpkg/).
func (r *run) pkg(ctx context.Context, j job, in inputs, builder string) (*dagger.Directory, error) {
	tar := path.Join(tarballDir, in.tarName)
	if j.Format == formatRPM && builder == builderRpmbuild {
		return r.rpmbuild(ctx, j, in)
	}
	if j.Format != formatRPM {
		builder = ""
	}
	return r.packageCtr(in).
		WithExec(packageArgv(r.g, j.Package.Name, binDir, tar, builder, outDir)).
		Directory(outDir), nil
}

// rpmbuild builds an rpm mock-style: the spec and sources from packyard
// rpmspec, then rpmbuild -ba in a fresh container of the package's EL
// release, with rpm-build installed in a layer of its own.
func (r *run) rpmbuild(ctx context.Context, j job, in inputs) (*dagger.Directory, error) {
	top := r.packageCtr(in).
		WithExec(rpmspecArgv(r.g, j.Package.Name, binDir, path.Join(tarballDir, in.tarName), rpmTopDir)).
		Directory(rpmTopDir)
	specs, err := top.Glob(ctx, "SPECS/*.spec")
	if err != nil {
		return nil, fmt.Errorf("rpmspec %s: %w", j.Package.Name, err)
	}
	if len(specs) != 1 {
		return nil, fmt.Errorf("rpmspec %s: want one SPECS/*.spec, got %s", j.Package.Name, listOrNone(specs))
	}
	// The setup step comes before SOURCE_DATE_EPOCH and the top dir so
	// that its layer is shared by every package and version.
	return dag.Container().From(j.Image).
		WithExec(shArgv(rpmbuildSetupScript)).
		WithEnvVariable("SOURCE_DATE_EPOCH", epochString(r.epoch)).
		WithDirectory(rpmTopDir, top).
		WithExec(rpmbuildArgv(rpmTopDir, specs[0], j.Package.Properties["target_arch"])).
		WithExec(shArgv(collectRPMsScript(rpmTopDir, outDir))).
		Directory(outDir), nil
}

// packages builds jobs: the source release and the binaries they need
// first, concurrently, then every package concurrently. It returns the
// packages' part of dist/.
func (r *run) packages(ctx context.Context, jobs []job, builder string) (*dagger.Directory, error) {
	_, dir, err := r.artifacts(ctx, jobs, builder)
	return dir, err
}

// artifacts builds the release, the binaries jobs need and the packages.
// It returns the merged binaries and the merged packages.
func (r *run) artifacts(ctx context.Context, jobs []job, builder string) (*built, *dagger.Directory, error) {
	b, err := r.inputsFor(ctx, jobs)
	if err != nil {
		return nil, nil, err
	}
	var what []string
	var dirs []*dagger.Directory
	for _, j := range jobs {
		bins := dag.Directory()
		if j.Target != nil {
			bins = b.bins[j.Target.Name]
		}
		d, err := r.pkg(ctx, j, inputs{binaries: bins, tarball: b.tarball, tarName: b.tarName}, builder)
		if err != nil {
			return nil, nil, err
		}
		what = append(what, "package "+j.Package.Name)
		dirs = append(dirs, d)
	}
	if err := syncAll(ctx, what, dirs); err != nil {
		return nil, nil, err
	}
	out := dag.Directory()
	for _, d := range dirs {
		out = out.WithDirectory(".", d)
	}
	return b, out, nil
}

// built are the shared inputs of the package stages.
type built struct {
	tarball *dagger.File
	tarName string
	bins    map[string]*dagger.Directory // by compile target
	order   []string                     // target names, sorted
}

// inputsFor writes the source release and compiles from it the targets
// the jobs ship.
func (r *run) inputsFor(ctx context.Context, jobs []job) (*built, error) {
	b := &built{bins: map[string]*dagger.Directory{}}
	seen := map[string]bool{}
	var ts []*buildspec.CompileTarget
	for _, j := range jobs {
		if j.Target != nil && !seen[j.Target.Name] {
			seen[j.Target.Name] = true
			ts = append(ts, j.Target)
		}
	}
	// Compiles build from the release, as on the host; they then run
	// concurrently, one container per target.
	rel, err := r.release(ctx)
	if err != nil {
		return nil, err
	}
	b.tarball, b.tarName = rel.file, rel.name
	if b.bins, err = r.compileAll(ctx, ts, rel); err != nil {
		return nil, err
	}
	for _, t := range ts {
		b.order = append(b.order, t.Name)
	}
	return b, nil
}

// build composes dist/ for the matrix and sums (and signs) it.
func (r *run) build(ctx context.Context, mx *matrix, builder string, key, passphrase *dagger.Secret) (*dagger.Directory, error) {
	b, pkgs, err := r.artifacts(ctx, mx.Jobs, builder)
	if err != nil {
		return nil, err
	}
	bins := dag.Directory()
	for _, name := range b.order {
		bins = bins.WithDirectory(".", b.bins[name])
	}
	dist := dag.Directory().
		WithFile(b.tarName, b.tarball).
		WithDirectory("binaries", bins).
		WithDirectory(".", pkgs)
	return r.checksums(dist, key, passphrase), nil
}

// checksums runs packyard checksums on a copy of dist. The key reaches
// the tool only as secret environment variables.
func (r *run) checksums(dist *dagger.Directory, key, passphrase *dagger.Secret) *dagger.Directory {
	c := r.toolCtr().
		WithMountedDirectory(srcDir, r.m.Source.Filter(packagerFilter())).
		WithDirectory(distDir, dist)
	if key != nil {
		c = c.WithSecretVariable("PACKYARD_GPG_KEY", key)
	}
	if passphrase != nil {
		c = c.WithSecretVariable("PACKYARD_GPG_PASSPHRASE", passphrase)
	}
	return c.WithExec(checksumsArgv(r.g, distDir)).Directory(distDir)
}

// verify installs and checks every package of the matrix found in dist,
// concurrently, and returns the report in package order.
func (r *run) verify(ctx context.Context, mx *matrix, dist *dagger.Directory) (string, error) {
	var files []string
	type check struct {
		title string
		ctr   *dagger.Container
	}
	var checks []check
	for _, j := range mx.Jobs {
		if j.Format == formatTar {
			continue
		}
		pattern, err := artifactGlob(j)
		if err != nil {
			return "", err
		}
		found, err := dist.Glob(ctx, pattern)
		if err != nil {
			return "", fmt.Errorf("verify %s: %w", j.Package.Name, err)
		}
		if len(found) == 0 {
			return "", fmt.Errorf("verify %s: no %s in dist", j.Package.Name, pattern)
		}
		for _, f := range found {
			files = append(files, path.Join(distDir, f))
			if j.Format == formatRpkg {
				continue // packyard verify below is its check
			}
			bin, err := installedBinary(j.Package)
			if err != nil {
				return "", err
			}
			in := path.Join(pkgDir, path.Base(f))
			script, err := installCheckScript(j.Format, in, bin)
			if err != nil {
				return "", err
			}
			checks = append(checks, check{
				title: fmt.Sprintf("%s (%s in %s)", j.Package.Name, f, j.Image),
				ctr: dag.Container().From(j.Image).
					WithMountedFile(in, dist.File(f)).
					WithExec(shArgv(script)),
			})
		}
	}
	checks = append(checks, check{
		title: "packyard verify",
		ctr:   r.toolCtr().WithMountedDirectory(distDir, dist).WithExec(verifyArgv(files)),
	})
	reports := make([]string, len(checks))
	g, gctx := errgroup.WithContext(ctx)
	for i, c := range checks {
		g.Go(func() error {
			out, err := c.ctr.Stdout(gctx)
			if err != nil {
				return fmt.Errorf("verify %s: %w", c.title, err)
			}
			reports[i] = "## " + c.title + "\n" + out
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	return strings.Join(reports, "\n"), nil
}
