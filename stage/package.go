package stage

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/fsutil"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/deb"
	"github.com/packyard/packyard/pack/rpkg"
	"github.com/packyard/packyard/pack/rpm"
	"github.com/packyard/packyard/pack/rpmspec"
	"github.com/packyard/packyard/pack/sign"
	"github.com/packyard/packyard/pack/splice"
	"github.com/packyard/packyard/pack/tarball"
	"github.com/packyard/packyard/templates"
	"github.com/packyard/packyard/version"
)

// Builders of RPMs.
const (
	BuilderNFPM     = "nfpm"
	BuilderRPMBuild = "rpmbuild"
)

// writerFor is the writer of a template format and the dist/ folder it
// writes into. Writers that stage large members on disk do so in tmp
// (empty: os.TempDir()); those that compress through pack/splice share
// large files' compressed bytes through segments (nil: not shared).
func writerFor(format, tmp string, segments *splice.Cache) (dir string, w pack.Packager, err error) {
	switch format {
	case templates.FormatRPM:
		return "rpm", rpm.Packager{Cache: segments}, nil
	case templates.FormatDeb:
		return "deb", deb.Packager{Cache: segments}, nil
	case templates.FormatRpkg:
		return "rpkg", rpkg.Writer{TempDir: tmp}, nil
	case templates.FormatTar:
		return "tarball", tarball.Packager{}, nil
	case templates.FormatZip:
		return "tarball", tarball.ZipPackager{}, nil
	}
	return "", nil, fmt.Errorf("template format %q has no writer", format)
}

// Render renders package p of the project at dir for version v, with the
// binary at bin built by compile target t (which gives the package's os
// and default arch; nil: a linux binary, arch from target_arch).
func Render(dir, product string, p *buildspec.Package, t *buildspec.CompileTarget, v version.Version, bin string) (*templates.Rendered, error) {
	return renderWith(templates.NewSet(), dir, product, p, t, v, bin)
}

// renderWith is Render with a set shared by the packages of one run, so
// that each template is read and parsed once.
func renderWith(set *templates.Set, dir, product string, p *buildspec.Package, t *buildspec.CompileTarget, v version.Version, bin string) (*templates.Rendered, error) {
	return set.Render(templates.Input{
		ProjectDir: dir,
		Package:    p,
		Product:    product,
		Version:    v,
		Target:     t,
		Binary:     bin,
	})
}

// Outputs names the files, relative to dist/, that packaging r writes.
func Outputs(r *templates.Rendered) ([]string, error) {
	dir, w, err := writerFor(r.Format, "", nil)
	if err != nil {
		return nil, err
	}
	out := []string{dir + "/" + w.FileName(r.Info)}
	if r.Format == templates.FormatRPM {
		out = append(out, srpmPath(r.Info))
	}
	return out, nil
}

// srpmPath is where, relative to dist/, the srpm of info lands:
// srpm/ARCH/NAME-VERSION-RELEASE.src.rpm. Each srpm carries its arch's
// binary and says ExclusiveArch, so the srpms of one dist's packages for
// several arches differ and each needs its own place. The arch is a
// directory rather than part of the name so that the file keeps the name
// rpm records in its binary rpm's SOURCERPM tag.
func srpmPath(info *pack.Info) string {
	return "srpm/" + info.Arch + "/" + rpm.Packager{}.SourceFileName(info)
}

// packageOutputs is the plan's callback naming each package's files.
func packageOutputs(dir string, f *buildspec.Flavour, v version.Version) func(*buildspec.Package) ([]string, error) {
	set := templates.NewSet()
	return func(p *buildspec.Package) ([]string, error) {
		// A Choria-format template's build.sh decides its files: they
		// are known, checksummed and verified once it has run.
		if ct, err := templates.LoadChoria(dir, p.Template); err != nil || ct != nil {
			return nil, err
		}
		// Naming reads no bytes: the binary's future place will do.
		bin := "binaries/" + p.Binary
		target := f.CompileTarget(p.Binary)
		if target != nil {
			bin = buildspec.BinaryPath(target, v.Product)
		}
		r, err := renderWith(set, dir, f.Product, p, target, v, bin)
		if err != nil {
			return nil, err
		}
		return Outputs(r)
	}
}

// Package renders and writes every package of the plan, in parallel.
type Package struct{}

func (Package) String() string { return "package" }

// Skip skips flavours without packages.
func (Package) Skip(c *Context) string {
	for _, s := range c.Plan.Stages {
		if s.Kind == buildspec.KindPackage {
			return ""
		}
	}
	return "no packages"
}

// Run writes each package into its folder of dist/.
func (Package) Run(c *Context) error {
	g, _ := errgroup.WithContext(c)
	g.SetLimit(c.Options.Jobs)
	set := templates.NewSet()
	for _, s := range c.Plan.Stages {
		if s.Kind != buildspec.KindPackage {
			continue
		}
		g.Go(func() error {
			step := c.Options.Progress.Begin(s.ID)
			var key string
			var err error
			if c.cache != nil {
				key, err = c.packageKey(s)
			}
			var files []string
			if err == nil && key != "" && c.restore(key, c.Dist, &files) {
				for _, f := range files {
					c.record(s.ID, f)
				}
				c.markCached(s.ID)
				step.Cached()
				return nil
			}
			if err == nil {
				err = c.writePackage(set, s)
			}
			step.Done(err)
			if err == nil && key != "" {
				files := c.stageArtifacts(s.ID)
				c.save(key, c.Dist, files, files)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	all := true
	for _, s := range c.Plan.Stages {
		if s.Kind == buildspec.KindPackage {
			all = all && c.wasCached(s.ID)
		}
	}
	if all {
		c.markCached(Package{}.String())
	}
	return nil
}

// packageKey is the cache key of plan stage s's package: the work copy
// (templates a project overrides, files its contents name), the package
// and its compile target as the spec gives them, the binary's and the
// release's bytes, the rpm builder and rpmbuild itself where it builds,
// and the signing key's identity.
func (c *Context) packageKey(s buildspec.Stage) (string, error) {
	p, err := c.pkg(s.Package)
	if err != nil {
		return "", err
	}
	t, err := c.target(p.Binary)
	if err != nil {
		return "", err
	}
	bin, err := c.binary(p.Binary)
	if err != nil {
		return "", err
	}
	tree, err := c.workTree()
	if err != nil {
		return "", err
	}
	signer, err := c.signingKey()
	if err != nil {
		return "", err
	}
	k := c.key("package")
	k.String("id", s.ID)
	k.String("tree", tree)
	k.String("product", c.Plan.Product)
	k.JSON("package", p)
	k.JSON("target", t)
	c.keyFile(k, "binary", bin)
	k.String("binary name", filepath.Base(bin))
	c.keyFile(k, "release", c.Tarball)
	k.String("release name", filepath.Base(c.Tarball))
	k.String("builder", c.Options.Builder)
	// rpmbuild writes the packages of the rpmbuild builder and runs in a
	// Choria template's build.sh; pack/rpm, the default, needs none.
	if ct, err := templates.LoadChoria(c.SourceDir, p.Template); err != nil {
		return "", err
	} else if c.Options.Builder == BuilderRPMBuild || ct != nil {
		k.String("rpmbuild", c.rpmbuildKey())
	}
	k.String("signing key", signer)
	return k.Sum()
}

func (c *Context) binary(name string) (string, error) {
	if bin, ok := c.Binaries[name]; ok {
		return bin, nil
	}
	t, err := c.target(name)
	if err != nil {
		return "", err
	}
	if c.Options.Binaries == "" {
		return "", fmt.Errorf("compile target %s was not built", name)
	}
	bin := filepath.Join(c.Options.Binaries, t.OutputName(c.Version.Product))
	if _, err := os.Stat(bin); err != nil {
		return "", &UsageError{Err: fmt.Errorf("binary of %s: %w", name, err)}
	}
	return bin, nil
}

func (c *Context) pkg(name string) (*buildspec.Package, error) {
	for _, p := range c.Flavour.Packages {
		if p.Name == name {
			return p, nil
		}
	}
	return nil, &UsageError{Err: fmt.Errorf("flavour %s has no package %q", c.Flavour.Name, name)}
}

// render renders package p with its compile target's binary.
func (c *Context) render(set *templates.Set, p *buildspec.Package) (*templates.Rendered, error) {
	bin, err := c.binary(p.Binary)
	if err != nil {
		return nil, err
	}
	t, err := c.target(p.Binary)
	if err != nil {
		return nil, err
	}
	return renderWith(set, c.SourceDir, c.Plan.Product, p, t, c.Version, bin)
}

func (c *Context) writePackage(set *templates.Set, s buildspec.Stage) error {
	p, err := c.pkg(s.Package)
	if err != nil {
		return err
	}
	if ct, err := templates.LoadChoria(c.SourceDir, p.Template); err != nil {
		return err
	} else if ct != nil {
		return c.writeChoria(s, p, ct)
	}
	r, err := c.render(set, p)
	if err != nil {
		return err
	}
	r.Info.Signing = c.Options.Signing
	if r.Format == templates.FormatRPM {
		return c.writeRPM(s, r)
	}
	outs, err := Outputs(r)
	if err != nil {
		return err
	}
	// The work directory, not os.TempDir(): that may be memory (tmpfs).
	_, w, err := writerFor(r.Format, c.Work, c.segments)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFile(filepath.Join(c.Dist, outs[0]), 0o644, func(out io.Writer) error {
		return w.Package(r.Info, out)
	}); err != nil {
		return fmt.Errorf("%s %s: %w", r.Format, p.Name, err)
	}
	c.record(s.ID, outs[0])
	return nil
}

// writeRPM writes the binary rpm and the srpm with the chosen builder:
// rpmbuild -ba of the generated spec, or (the default) pack/rpm for both,
// the srpm from the same spec and sources without rpmbuild.
func (c *Context) writeRPM(s buildspec.Stage, r *templates.Rendered) error {
	info := r.Info
	rpmOut := filepath.Join(c.Dist, "rpm", rpm.Packager{}.FileName(info))
	srpmOut := filepath.Join(c.Dist, filepath.FromSlash(srpmPath(info)))
	if c.Options.Builder != BuilderRPMBuild {
		return c.writeRPMGo(s, info, rpmOut, srpmOut)
	}
	top := filepath.Join(c.Work, "rpmbuild", s.Package)
	spec, err := rpmspec.Write(info, c.Tarball, top)
	if err != nil {
		return err
	}
	builtRPM, builtSRPM, err := rpmspec.Build(c, top, spec, c.Options.Env)
	if err != nil {
		return err
	}
	if c.Options.Signing != nil {
		key, err := sign.FromSigning(c.Options.Signing)
		if err != nil {
			return err
		}
		// Signed as of the commit time, as every other signature, so that
		// the signed rpm is reproducible.
		key = key.WithTime(c.Version.Time)
		for _, f := range []string{builtRPM, builtSRPM} {
			if err := sign.SignRPMFile(c, key, f); err != nil {
				return err
			}
		}
	}
	for _, m := range [][2]string{{builtRPM, rpmOut}, {builtSRPM, srpmOut}} {
		if err := os.MkdirAll(filepath.Dir(m[1]), 0o755); err != nil {
			return err
		}
		if err := os.Rename(m[0], m[1]); err != nil {
			return err
		}
		c.record(s.ID, rel(c.Dist, m[1]))
	}
	return nil
}

// writeRPMGo writes the rpm and the srpm with pack/rpm, side by side. The
// srpm carries the spec rpmbuild would build and its sources (rpmspec.Render:
// nothing is copied into a top dir first); rpm signs both itself when a key
// is given (info.Signing).
func (c *Context) writeRPMGo(s buildspec.Stage, info *pack.Info, rpmOut, srpmOut string) error {
	top, err := rpmspec.Render(info, c.Tarball)
	if err != nil {
		return err
	}
	// One cache for the build: the binary is compressed once for the rpm,
	// the srpm and the deb.
	p := rpm.Packager{Cache: c.segments}
	var g errgroup.Group
	g.Go(func() error {
		if err := fsutil.WriteFile(rpmOut, 0o644, func(w io.Writer) error { return p.Package(info, w) }); err != nil {
			return fmt.Errorf("%s: %w", rel(c.Dist, rpmOut), err)
		}
		return nil
	})
	g.Go(func() error {
		if err := fsutil.WriteFile(srpmOut, 0o644, func(w io.Writer) error { return p.Source(info, top, w) }); err != nil {
			return fmt.Errorf("%s: %w", rel(c.Dist, srpmOut), err)
		}
		return nil
	})
	if err := g.Wait(); err != nil {
		return err
	}
	c.record(s.ID, rel(c.Dist, rpmOut))
	c.record(s.ID, rel(c.Dist, srpmOut))
	return nil
}

func rel(base, p string) string {
	r, err := filepath.Rel(base, p)
	if err != nil {
		return p
	}
	return filepath.ToSlash(r)
}

// IsPackage reports whether a dist/ path is a package file that verify
// knows how to check.
func IsPackage(p string) bool {
	for _, ext := range []string{".rpm", ".deb", ".rpkg"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}

// RPMSpec writes the rpmbuild top dir (SPECS/, SOURCES/) of the selected
// rpm packages into dist/, for rpmbuild -ba to run elsewhere — in the
// Dagger module, inside the dist's EL container.
type RPMSpec struct{}

func (RPMSpec) String() string { return "rpmspec" }

// Skip skips flavours without packages.
func (RPMSpec) Skip(c *Context) string { return Package{}.Skip(c) }

// Run renders each selected package and writes its spec and sources.
func (RPMSpec) Run(c *Context) error {
	set := templates.NewSet()
	for _, s := range c.Plan.Stages {
		if s.Kind != buildspec.KindPackage {
			continue
		}
		p, err := c.pkg(s.Package)
		if err != nil {
			return err
		}
		r, err := c.render(set, p)
		if err != nil {
			return err
		}
		if r.Format != templates.FormatRPM {
			return &UsageError{Err: fmt.Errorf("package %s is %s, not rpm", p.Name, r.Format)}
		}
		if _, err := rpmspec.Write(r.Info, c.Tarball, c.Dist); err != nil {
			return err
		}
	}
	return nil
}
