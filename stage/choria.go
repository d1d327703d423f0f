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
// format, as Choria's packager does: every file of the template rendered
// with the package's properties into a build directory; beside it the
// source tarball (cpkg_tarball) holding the source release under
// cpkg_source_dir (without packager/templates), the rendered tree as dist/ (where rpmbuild -ta finds the
// spec) and the binary (cpkg_binary); then build.sh runs there, and the
// files its config.yaml's artifacts globs match go into dist/.
//
// Engine-less, build.sh runs on this host, which stands in for the
// package's distribution: the progress line says so.
func (c *Context) writeChoria(s buildspec.Stage, p *buildspec.Package, ct *templates.ChoriaTemplate) error {
	bin, err := c.binary(p.Binary)
	if err != nil {
		return err
	}
	t, err := c.target(p.Binary)
	if err != nil {
		return err
	}
	family, _, _ := strings.Cut(ct.Name, "/")
	for _, tool := range choriaTools(family) {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("package %s: build.sh of template %s needs %s, which is not on PATH", p.Name, ct.Name, tool)
		}
	}
	data, err := ct.ChoriaData(templates.ChoriaInput{
		Package: p, Product: c.Plan.Product, Version: c.Version, Target: t, Binary: filepath.Base(bin),
	})
	if err != nil {
		return err
	}
	build := filepath.Join(c.Work, "choria", p.Name)
	if err := os.MkdirAll(build, 0o755); err != nil {
		return err
	}
	if err := ct.RenderTo(build, data); err != nil {
		return fmt.Errorf("package %s: %w", p.Name, err)
	}
	if err := c.choriaTarball(build, data["tarball"], data["source_dir"], bin); err != nil {
		return fmt.Errorf("package %s: source tarball: %w", p.Name, err)
	}

	distro := pick(p.Properties["dist"], p.Properties["distro"], family)
	c.Options.Progress.Skip(s.ID+" container", fmt.Sprintf("build.sh of %s runs on this host, standing in for %s", ct.Name, distro))
	cmd := exec.CommandContext(c, "bash", "build.sh")
	cmd.Dir = build
	cmd.Env = append(append([]string(nil), c.Options.Env...),
		"HOME="+build, "LC_ALL=C", "TZ=UTC",
		fmt.Sprintf("SOURCE_DATE_EPOCH=%d", c.Version.Time.Unix()))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("package %s: build.sh of template %s: %w\n%s", p.Name, ct.Name, err, tail(string(out), 40))
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
	for _, f := range found {
		dst, err := choriaPlace(f, data["rpm_arch"])
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

// choriaTarball writes build/name: the source release re-rooted at
// prefix, the rendered files of build as dist/, and the binary.
func (c *Context) choriaTarball(build, name, prefix, bin string) error {
	all, err := releaseEntries(c.Tarball)
	if err != nil {
		return err
	}
	// The templates unrendered would be a second rpm spec beside dist/'s,
	// which rpmbuild -ta refuses: dist/ holds them rendered.
	var entries []tarball.Entry
	for _, e := range all {
		if e.Name != templates.ProjectDir && !strings.HasPrefix(e.Name, templates.ProjectDir+"/") {
			entries = append(entries, e)
		}
	}
	err = filepath.WalkDir(build, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(build, p)
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		entries = append(entries, tarball.Entry{Name: "dist/" + filepath.ToSlash(rel), Source: p, Mode: fi.Mode().Perm()})
		return nil
	})
	if err != nil {
		return err
	}
	entries = append(entries, tarball.Entry{Name: filepath.Base(bin), Source: bin, Mode: 0o755})
	f, err := os.Create(filepath.Join(build, name))
	if err != nil {
		return err
	}
	if err := tarball.Write(f, tarball.Archive{Prefix: prefix, Entries: entries, MTime: c.Version.Time}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
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
