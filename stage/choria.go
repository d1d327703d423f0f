package stage

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/fsutil"
	"github.com/packyard/packyard/pack/tarball"
	"github.com/packyard/packyard/templates"
)

// choriaTools are the tools a Choria-format template's build.sh needs, by
// template family: checked first, so that a missing one is named rather
// than found deep in build.sh's output.
func choriaTools(family string) []string {
	switch family {
	case "el":
		return []string{"bash", "rpmbuild"}
	case "debian":
		return []string{"bash", "dpkg-buildpackage"}
	}
	return []string{"bash", "tar"}
}

// writeChoria builds package p with ct, a project template in Choria's
// format, as Choria's packager does (docs/choria.md): in a fresh
// directory T, NAME-VERSION/ holds dist/ (every file of the template,
// global's then the named directory's, with its {{cpkg_X}} placeholders
// replaced) and the binary; the tarball (cpkg_tarball) of NAME-VERSION/
// is written beside it; cpkg_source_dir is a copy of the project's source
// (the source release) outside T; then NAME-VERSION/dist/build.sh runs in
// T, and the files the named directory's config.yaml's artifacts globs
// match, relative to T, go into dist/.
//
// Engine-less, build.sh runs on this host, which stands in for the
// package's distribution: the progress line says so.
func (c *Context) writeChoria(s buildspec.Stage, p *buildspec.Package, ct *templates.ChoriaTemplate) error {
	var bin string
	var t *buildspec.CompileTarget
	if p.Binary != "" {
		var err error
		if bin, err = c.binary(p.Binary); err != nil {
			return err
		}
		if t, err = c.target(p.Binary); err != nil {
			return err
		}
	}
	family, _, _ := strings.Cut(ct.Name, "/")
	for _, tool := range choriaTools(family) {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("package %s: build.sh of template %s needs %s, which is not on PATH", p.Name, ct.Name, tool)
		}
	}
	work, err := filepath.Abs(c.Work)
	if err != nil {
		return err
	}
	build := filepath.Join(work, "choria", p.Name)
	source := filepath.Join(work, "choria-source", p.Name)
	for _, d := range []string{build, source} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	in := templates.ChoriaInput{Package: p, Version: c.Version, Target: t, SourceDir: source}
	if bin != "" {
		in.Binary = filepath.Base(bin)
	}
	data, err := ct.ChoriaData(in)
	if err != nil {
		return err
	}
	if err := c.choriaSource(source); err != nil {
		return fmt.Errorf("package %s: copy of the source for cpkg_source_dir: %w", p.Name, err)
	}
	top := templates.ChoriaTop(p.Properties["name"], c.Version)
	if err := ct.RenderTo(filepath.Join(build, top, "dist"), data); err != nil {
		return fmt.Errorf("package %s: %w", p.Name, err)
	}
	if bin != "" {
		if err := fsutil.CopyFile(bin, filepath.Join(build, top, in.Binary), 0o755); err != nil {
			return fmt.Errorf("package %s: %w", p.Name, err)
		}
	}
	if err := c.choriaTarball(build, top, data["tarball"]); err != nil {
		return fmt.Errorf("package %s: tarball: %w", p.Name, err)
	}
	script := filepath.Join(build, top, "dist", "build.sh")
	if fi, err := os.Stat(script); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("package %s: template %s has no build.sh (in its directory or global's)", p.Name, ct.Name)
	}
	if err := os.Chmod(script, 0o755); err != nil {
		return err
	}

	distro := pick(p.Properties["dist"], p.Properties["distro"], family)
	c.Options.Progress.Skip(s.ID+" container", fmt.Sprintf("build.sh of %s runs on this host, standing in for %s", ct.Name, distro))
	cmd := exec.CommandContext(c, script)
	cmd.Dir = build
	cmd.Env = append(append([]string(nil), c.Options.Env...),
		"HOME="+build, "LC_ALL=C", "TZ=UTC",
		fmt.Sprintf("SOURCE_DATE_EPOCH=%d", c.Version.Time.Unix()))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("package %s: %s/dist/build.sh of template %s: %w\n%s", p.Name, top, ct.Name, err, tail(string(out), 40))
	}

	var found []string
	for _, g := range ct.Artifacts {
		m, err := filepath.Glob(filepath.Join(build, filepath.FromSlash(g)))
		if err != nil {
			return fmt.Errorf("package %s: artifacts %q: %w", p.Name, g, err)
		}
		found = append(found, m...)
	}
	sort.Strings(found)
	if len(found) == 0 {
		return fmt.Errorf("package %s: build.sh of template %s made nothing its artifacts (%s) match", p.Name, ct.Name, strings.Join(ct.Artifacts, ", "))
	}
	rpmArch, err := templates.FormatArch(templates.FormatRPM, p.Properties["target_arch"])
	if err != nil || p.Properties["target_arch"] == "" {
		rpmArch = ""
	}
	for _, f := range found {
		dst, err := choriaPlace(f, rpmArch)
		if err != nil {
			return fmt.Errorf("package %s: %w", p.Name, err)
		}
		abs := filepath.Join(c.Dist, filepath.FromSlash(dst))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return err
		}
		if err := os.Rename(f, abs); err != nil {
			return err
		}
		c.record(s.ID, dst)
	}
	return nil
}

// choriaPlace is where, relative to dist/, an artifact of build.sh goes,
// as Packyard's own packages do.
func choriaPlace(file, rpmArch string) (string, error) {
	base := filepath.Base(file)
	switch {
	case strings.HasSuffix(base, ".src.rpm"):
		return "srpm/" + pick(rpmArch, "noarch") + "/" + base, nil
	case strings.HasSuffix(base, ".rpm"):
		return "rpm/" + base, nil
	case strings.HasSuffix(base, ".deb"):
		return "deb/" + base, nil
	case strings.HasSuffix(base, ".tar.gz"), strings.HasSuffix(base, ".tgz"), strings.HasSuffix(base, ".zip"):
		return "tarball/" + base, nil
	}
	return "", fmt.Errorf("artifact %s: no place for it in dist/ (want .rpm, .src.rpm, .deb, .tar.gz, .tgz or .zip)", base)
}

// choriaTarball writes build/name, the tarball of build/top as Choria's
// "tar -czf NAME NAME-VERSION" makes it (dist/ and the binary under
// NAME-VERSION/), but reproducibly: entries sorted, owned by root, dated
// the commit time.
func (c *Context) choriaTarball(build, top, name string) error {
	var entries []tarball.Entry
	root := filepath.Join(build, top)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := tarball.Entry{Name: filepath.ToSlash(rel), Mode: fi.Mode().Perm()}
		switch {
		case fi.IsDir():
			e.Dir = true
		case fi.Mode()&fs.ModeSymlink != 0:
			if e.Link, err = os.Readlink(p); err != nil {
				return err
			}
		case fi.Mode().IsRegular():
			e.Source = p
		default:
			return nil
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(build, name))
	if err != nil {
		return err
	}
	if err := tarball.Write(f, tarball.Archive{Prefix: top, Entries: entries, MTime: c.Version.Time}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// choriaSource unpacks the source release into dir: the copy of the
// project's source tree that cpkg_source_dir names (Choria copies its
// working directory; Packyard the release's files, for reproducibility).
func (c *Context) choriaSource(dir string) error {
	entries, err := releaseEntries(c.Tarball)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, filepath.FromSlash(e.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			return fmt.Errorf("%s: outside the source tree", e.Name)
		}
		if e.Dir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if e.Link != "" {
			if err := os.Symlink(e.Link, p); err != nil {
				return err
			}
			continue
		}
		if err := os.WriteFile(p, e.Data, e.Mode|0o600); err != nil {
			return err
		}
	}
	return nil
}

// releaseEntries reads the source release at path into entries without
// its top directory, to be placed under another.
func releaseEntries(path string) ([]tarball.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	var out []tarball.Entry
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		_, rest, ok := strings.Cut(strings.TrimSuffix(h.Name, "/"), "/")
		if !ok || rest == "" {
			continue // the top directory itself
		}
		e := tarball.Entry{Name: rest, Mode: fs.FileMode(h.Mode).Perm()}
		switch h.Typeflag {
		case tar.TypeDir:
			e.Dir = true
		case tar.TypeSymlink:
			e.Link = h.Linkname
		case tar.TypeReg:
			if e.Data, err = io.ReadAll(tr); err != nil {
				return nil, err
			}
			if e.Data == nil {
				e.Data = []byte{}
			}
		default:
			continue
		}
		out = append(out, e)
	}
}

// pick is the first of vals that is not empty.
func pick(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
