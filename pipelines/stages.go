package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"dagger/packyard/internal/dagger"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/templates"
	"github.com/packyard/packyard/version"
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
	rev   string // the commit the source is built from; "" when not needed
	// src is the source as the stages see it: the constructor's, with a
	// .version file added when it has no .git (see resolve).
	src *dagger.Directory
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
// stamp says the call's artifacts carry the commit and its time, which
// must then be known; without it they are passed on when known.
func (m *Packyard) start(ctx context.Context, version, build string, stamp bool) (*run, error) {
	r := &run{m: m, src: m.Source, g: globals{Source: srcDir, Spec: m.Spec, Flavour: normalizeFlavour(build), Version: strings.TrimSpace(version)}}
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
	if err := r.resolve(ctx, stamp); err != nil {
		return nil, err
	}
	return r, nil
}

// resolve fixes the version, the commit and its time once per call, so
// that every stage is given the same ones and only the stages that take
// the version re-run when it changes. They come from packyard version in
// a container holding only what it reads: a clone of repo's HEAD with
// its history and tags (source itself never carries .git: the engine
// leaves it out of uploaded directories), else source's .version (an
// unpacked release).
// The commit and source-date-epoch arguments fill what neither knows;
// with both and --version, git is not read. Source then gets a .version
// file with the result, which the stages read as they read an unpacked
// release's, so that a monorepo subdirectory builds the same artifacts as
// packyard build run in it.
func (r *run) resolve(ctx context.Context, stamp bool) error {
	entries, err := r.m.Source.Entries(ctx)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	hasFile := slices.Contains(entries, version.FileName)
	hasRepo := false
	if r.m.Repo != nil {
		// Outside a git work tree the default repo is loaded all the same,
		// empty: asking git then would fail with a bare "not a git
		// repository".
		dirs, err := r.m.Repo.Entries(ctx)
		if err != nil {
			return fmt.Errorf("repo: %w", err)
		}
		hasRepo = slices.Contains(dirs, ".git/") || slices.Contains(dirs, ".git")
	}
	fromArgs := r.m.Commit != "" && r.m.SourceDateEpoch > 0 && r.g.Version != ""
	var ctr *dagger.Container
	g := r.g
	switch {
	case fromArgs:
	case hasRepo:
		g.Source = repoDir
		head := r.m.Repo.AsGit().Head().Tree(dagger.GitRefTreeOpts{Depth: -1, IncludeTags: true})
		ctr = r.toolCtr().WithMountedDirectory(repoDir, head.Filter(gitFilter()))
	case hasFile:
		ctr = r.toolCtr().WithMountedDirectory(srcDir, r.m.Source.Filter(dagger.DirectoryFilterOpts{Include: []string{version.FileName}}))
	}
	var v version.Version
	if ctr != nil {
		if r.m.SourceDateEpoch > 0 {
			// The tool needs a time to resolve at all (it never writes
			// 1970); the argument gives it when git or .version does not.
			ctr = ctr.WithEnvVariable("SOURCE_DATE_EPOCH", epochString(int64(r.m.SourceDateEpoch)))
		}
		out, err := ctr.WithExec(versionJSONArgv(g)).Stdout(ctx)
		if err != nil {
			return fmt.Errorf("version: %w", err)
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			return fmt.Errorf("version: packyard version --json: %w", err)
		}
	}
	if r.g.Version == "" {
		if r.g.Version = v.Product; r.g.Version == "" {
			return fmt.Errorf("version: no git repository and no .version file in source: pass --version")
		}
	}
	if err := stampOf(&v, r.m.Commit, int64(r.m.SourceDateEpoch), hasRepo && !fromArgs); err != nil {
		if stamp {
			return err
		}
		// plan and the like stamp nothing: they go on with what is known,
		// and an unknown time is left out rather than written as 1970.
		if v.Time.Unix() <= 0 {
			v.Time = time.Time{}
		}
	} else {
		r.rev, r.epoch = v.Commit, v.Time.Unix()
	}
	v.Product = r.g.Version
	// Without .git the tool cannot ask git which files are tracked; the
	// .gitignore rules leave out what a clean checkout does not have
	// (local builds, dist/), so the release holds the same files.
	r.src = r.m.Source.Filter(dagger.DirectoryFilterOpts{Gitignore: true}).
		WithNewFile(version.FileName, string(version.Format(v)))
	return nil
}

// stampOf completes v's commit and time with the commit and epoch
// arguments. A git commit is never overridden by another one: the
// binaries would then claim a commit they were not built from. It says in
// one line what to pass when the commit or its time stays unknown (zero
// or the Unix epoch).
func stampOf(v *version.Version, commit string, epoch int64, fromGit bool) error {
	switch {
	case commit == "":
	case v.Commit == "":
		v.Commit = commit
	case v.Commit != commit:
		return fmt.Errorf("commit %s: the source's HEAD is %s; drop --commit or build that commit", commit, v.Commit)
	}
	if epoch > 0 {
		v.Time = time.Unix(epoch, 0).UTC()
	}
	if v.Commit != "" && v.Time.Unix() > 0 {
		return nil
	}
	if fromGit {
		return fmt.Errorf("commit and its time: git gave none (a repository without commits?): pass --commit and --source-date-epoch")
	}
	return fmt.Errorf("commit and its time: no git repository and source's .version has none: pass --repo with the repository's root, or --commit and --source-date-epoch")
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
	// The files that tell a template's kind: template.yaml of Packyard's
	// format, config.yaml and build.sh of Choria's.
	var files []string
	for _, name := range []string{"template.yaml", "config.yaml", "build.sh"} {
		found, err := r.m.Source.Glob(ctx, templates.ProjectDir+"/**/"+name)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		files = append(files, found...)
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
	return newMatrix(r.fl, packages, r.imgs, projectKinds(tmp))
}

// compile builds one target (packyard compile --target T) from the source
// release, as packyard build does, and returns the directory holding its
// binary alone. The container holds the spec and the release only: the
// release's .version stamps the commit and its time into the binary.
func (r *run) compile(t *buildspec.CompileTarget, rel release) *dagger.Directory {
	tarball := path.Join(tarballDir, rel.name)
	return r.goCtr().
		WithMountedDirectory(srcDir, r.src.Filter(packagerFilter())).
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
		WithMountedDirectory(srcDir, r.src).
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

// signing is the OpenPGP key the package and checksums stages sign with;
// both nil when nothing is signed.
type signing struct {
	key, passphrase *dagger.Secret
}

// withSigning gives c the key as secret environment variables, which the
// tool reads (PACKYARD_GPG_KEY, PACKYARD_GPG_PASSPHRASE): never a file in
// a layer nor an argument on a command line.
func (s signing) with(c *dagger.Container) *dagger.Container {
	if s.key != nil {
		c = c.WithSecretVariable("PACKYARD_GPG_KEY", s.key)
	}
	if s.passphrase != nil {
		c = c.WithSecretVariable("PACKYARD_GPG_PASSPHRASE", s.passphrase)
	}
	return c
}

// elCtr is a clean container of an EL release with rpmbuild, rpmsign and
// gpg, and the packyard tool.
func (r *run) elCtr(image string) *dagger.Container {
	return r.distroCtr(image, rpmbuildSetupScript)
}

// debBuildCtr is a clean Debian container with dpkg-dev and debhelper,
// where a Choria-format debian template's build.sh runs
// dpkg-buildpackage, and the packyard tool.
func (r *run) debBuildCtr(image string) *dagger.Container {
	return r.distroCtr(image, debBuildSetupScript)
}

// distroCtr is a clean container of image with the tools setup installs,
// then the packyard tool and the timestamp. The setup step comes first so
// that its layer is shared by every package and version.
func (r *run) distroCtr(image, setup string) *dagger.Container {
	c := dag.Container().From(image).
		WithExec(shArgv(setup)).
		WithFile(toolPath, r.tool, dagger.ContainerWithFileOpts{Permissions: 0o755})
	if r.epoch > 0 {
		c = c.WithEnvVariable("SOURCE_DATE_EPOCH", epochString(r.epoch))
	}
	return c
}

// pkg builds one package with packyard package and returns its part of
// dist/ (rpm/ + srpm/, deb/, rpkg/ or tarball/). With the rpmbuild
// builder an rpm package is built in a clean container of its EL release,
// as mock builds: rpmbuild -ba there. The default builder writes the rpm
// and the srpm in Go, so it runs in the tool's container like the other
// formats, and its bytes do not depend on the EL image's rpm. A
// Choria-format template's build.sh runs in its family's container: EL
// with rpm-build, Debian with dpkg-dev and debhelper, archives in the Go
// image (tar, gzip).
func (r *run) pkg(j job, in inputs, builder string, sig signing) *dagger.Directory {
	c := r.toolCtr()
	switch {
	case j.Format == formatRPM && (builder == builderRpmbuild || j.Choria):
		c = r.elCtr(j.Image)
	case j.Choria && j.Format == formatDeb:
		c = r.debBuildCtr(j.Image)
	}
	if j.Format != formatRPM {
		builder = ""
	}
	c = c.WithMountedDirectory(srcDir, r.src.Filter(packagerFilter())).
		WithMountedDirectory(binDir, in.binaries).
		WithMountedFile(path.Join(tarballDir, in.tarName), in.tarball)
	return sig.with(c).
		WithExec(packageArgv(r.g, j.Package.Name, binDir, path.Join(tarballDir, in.tarName), builder, outDir)).
		Directory(outDir)
}

// packages builds jobs: the source release and the binaries they need
// first, concurrently, then every package concurrently. It returns the
// packages' part of dist/.
func (r *run) packages(ctx context.Context, jobs []job, builder string, sig signing) (*dagger.Directory, error) {
	_, dir, err := r.artifacts(ctx, jobs, targetsOf(jobs), builder, sig)
	return dir, err
}

// artifacts builds the release, the binaries of targets (which hold those
// the jobs ship) and the packages. It returns the binaries and the merged
// packages.
func (r *run) artifacts(ctx context.Context, jobs []job, targets []*buildspec.CompileTarget, builder string, sig signing) (*built, *dagger.Directory, error) {
	b, err := r.inputsFor(ctx, targets)
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
		d := r.pkg(j, inputs{binaries: bins, tarball: b.tarball, tarName: b.tarName}, builder, sig)
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

// inputsFor writes the source release and compiles ts from it.
func (r *run) inputsFor(ctx context.Context, ts []*buildspec.CompileTarget) (*built, error) {
	b := &built{bins: map[string]*dagger.Directory{}}
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
func (r *run) build(ctx context.Context, mx *matrix, builder string, sig signing) (*dagger.Directory, error) {
	b, pkgs, err := r.artifacts(ctx, mx.Jobs, mx.Targets, builder, sig)
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
	return r.checksums(dist, sig), nil
}

// checksums runs packyard checksums on a copy of dist.
func (r *run) checksums(dist *dagger.Directory, sig signing) *dagger.Directory {
	c := r.toolCtr().
		WithMountedDirectory(srcDir, r.src.Filter(packagerFilter())).
		WithDirectory(distDir, dist)
	return sig.with(c).WithExec(checksumsArgv(r.g, distDir)).Directory(distDir)
}

// verify installs and checks every package of the matrix found in dist,
// concurrently, and returns one report in package order. Every check runs
// to its end whatever the others do, so that the report says of each
// package whether it passed and why not; the error, when one failed, is
// that whole report.
func (r *run) verify(ctx context.Context, mx *matrix, dist *dagger.Directory) (string, error) {
	var checks []check
	for _, j := range mx.Jobs {
		if j.Format == formatTar {
			continue
		}
		checks = append(checks, r.packageChecks(ctx, j, dist)...)
	}
	var wg sync.WaitGroup
	for i := range checks {
		c := &checks[i]
		if c.err != nil || c.ctr == nil {
			continue
		}
		wg.Go(func() { c.run(ctx) })
	}
	wg.Wait()
	report, failed := verifyReport(checks)
	if failed > 0 {
		return "", fmt.Errorf("verify: %d of %d checks failed\n%s", failed, len(checks), report)
	}
	return report, nil
}

// check is one verification of one package: the container that runs it,
// then its output or why it failed.
type check struct {
	pkg   string // the spec's package name
	title string
	ctr   *dagger.Container
	// skipCode is the exit code that means the check could not be made
	// here (0: none); its output says why.
	skipCode int
	out      string
	skipped  bool
	err      error
}

// run runs the check's container and records the result.
func (c *check) run(ctx context.Context) {
	if c.skipCode == 0 {
		c.out, c.err = c.ctr.Stdout(ctx)
		return
	}
	ctr, err := c.ctr.Sync(ctx)
	if err != nil {
		c.err = err
		return
	}
	code, err := ctr.ExitCode(ctx)
	if err == nil {
		c.out, err = ctr.Stdout(ctx)
	}
	switch {
	case err != nil:
		c.err = err
	case code == c.skipCode:
		c.skipped = true
	case code != 0:
		stderr, _ := ctr.Stderr(ctx)
		c.err = fmt.Errorf("%s%sexit code %d", c.out, stderr, code)
	}
}

// packageChecks are the checks of one package job: for every file of it
// in dist, packyard verify (the format's rules) and, for rpm and deb, the
// install in a clean container of its distribution. A job whose file is
// missing gets one failed check saying so.
func (r *run) packageChecks(ctx context.Context, j job, dist *dagger.Directory) []check {
	name := j.Package.Name
	pattern, err := artifactGlob(j)
	if err != nil {
		return []check{{pkg: name, title: "artifact", err: err}}
	}
	found, err := dist.Glob(ctx, pattern)
	if err == nil && len(found) == 0 {
		err = fmt.Errorf("no %s in dist", pattern)
	}
	if err != nil {
		return []check{{pkg: name, title: "artifact", err: err}}
	}
	var out []check
	for _, f := range found {
		out = append(out, check{
			pkg:   name,
			title: "packyard verify " + f,
			ctr:   r.toolCtr().WithMountedFile(path.Join(distDir, f), dist.File(f)).WithExec(verifyArgv([]string{path.Join(distDir, f)})),
		})
		if j.Format == formatRpkg {
			continue // packyard verify applies every rule of Rudder's installers
		}
		in := path.Join(pkgDir, path.Base(f))
		install := check{pkg: name, title: fmt.Sprintf("install %s in %s", f, j.Image)}
		units := check{pkg: name, title: fmt.Sprintf("systemd units of %s in %s", f, j.Image), skipCode: unitsSkipped}
		bin, err := installedBinary(j.Package)
		var installScript, unitsScript string
		if err == nil {
			installScript, err = installCheckScript(j.Format, in, bin)
		}
		if err == nil {
			unitsScript, err = unitsCheckScript(j.Format, in)
		}
		if err != nil {
			install.err, units.err = err, err
		} else {
			installed := dag.Container().From(j.Image).WithMountedFile(in, dist.File(f)).WithExec(shArgv(installScript))
			install.ctr = installed
			units.ctr = installed.WithExec(shArgv(unitsScript), dagger.ContainerWithExecOpts{Expect: dagger.ReturnTypeAny})
		}
		out = append(out, install, units)
	}
	return out
}

// verifyReport formats the checks, in the order given, as one report:
// a PASS, SKIP or FAIL heading per check with its output (for SKIP, why
// it could not be made) or its failure, the command's stderr included,
// and counts the failures.
func verifyReport(checks []check) (report string, failed int) {
	var b strings.Builder
	skipped := 0
	for _, c := range checks {
		status, body := "PASS", c.out
		switch {
		case c.err != nil:
			status, body = "FAIL", failure(c.err)
			failed++
		case c.skipped:
			status = "SKIP"
			skipped++
		}
		fmt.Fprintf(&b, "## %s %s: %s\n", status, c.pkg, c.title)
		if body = strings.TrimRight(body, "\n"); body != "" {
			b.WriteString(body + "\n")
		}
	}
	fmt.Fprintf(&b, "verify: %d checks, %d failed, %d skipped\n", len(checks), failed, skipped)
	return b.String(), failed
}

// failure is what a failed check says: the command's output and exit code
// for a failed exec, else the error.
func failure(err error) string {
	var ee *dagger.ExecError
	if !errors.As(err, &ee) {
		return err.Error()
	}
	var b strings.Builder
	for _, s := range []string{ee.Stdout, ee.Stderr} {
		if s = strings.TrimRight(s, "\n"); s != "" {
			b.WriteString(s + "\n")
		}
	}
	fmt.Fprintf(&b, "exit code %d: %s", ee.ExitCode, strings.Join(ee.Cmd, " "))
	return b.String()
}
