package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
)

// TestChoriaProject builds testdata/choria, a Choria-like project with no
// templates of its own, end to end: Choria's template names and property
// names, GNU triplets as target_arch, two el8 arches, tgz and zip. It
// checks what a Choria user hits on day one: debs of Debian's arch names,
// srpms that do not collide, a zip for format: zip, the project's own
// homepage, and packages that lint clean and install.
func TestChoriaProject(t *testing.T) {
	t.Parallel()
	packtest.Need(t, "rpm", "rpmbuild", "dpkg-deb", "lintian", "rpmlint", "unzip")
	src := filepath.Join(t.TempDir(), "choria")
	copyDir(t, "testdata/choria", src)
	dist := filepath.Join(t.TempDir(), "dist")
	r := packyard(t, src, []string{"SOURCE_DATE_EPOCH=1709294400"}, "build", "--version", "0.29.0", "--out", dist)
	if r.code != 0 {
		t.Fatalf("packyard build: exit %d\n%s", r.code, r.stderr)
	}
	// No git, no .version: the time is SOURCE_DATE_EPOCH's, and the empty
	// commit is said, not silent.
	if !strings.Contains(r.stderr, "the SHA flag is empty") {
		t.Errorf("no word of the missing commit:\n%s", r.stderr)
	}
	want := []string{
		"deb/choria_0.29.0-1_amd64.deb", "deb/choria_0.29.0-1_armhf.deb",
		"rpm/choria-0.29.0-1.el8.aarch64.rpm", "rpm/choria-0.29.0-1.el8.x86_64.rpm",
		"srpm/aarch64/choria-0.29.0-1.el8.src.rpm", "srpm/x86_64/choria-0.29.0-1.el8.src.rpm",
		"tarball/choria-0.29.0-linux-amd64.tar.gz", "tarball/choria-0.29.0-windows-amd64.zip",
	}
	var got []string
	for _, dir := range []string{"deb", "rpm", "srpm", "tarball"} {
		_ = filepath.WalkDir(filepath.Join(dist, dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(dist, p)
				got = append(got, filepath.ToSlash(rel))
			}
			return nil
		})
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("packages\n got %v\nwant %v", got, want)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range want {
		if !strings.Contains(string(sums), " "+f+"\n") {
			t.Errorf("SHA256SUMS lacks %s", f)
		}
	}

	t.Run("deb", func(t *testing.T) {
		for f, arch := range map[string]string{"deb/choria_0.29.0-1_amd64.deb": "amd64", "deb/choria_0.29.0-1_armhf.deb": "armhf"} {
			p := filepath.Join(dist, f)
			if got := strings.TrimSpace(packtest.Output(t, nil, "dpkg-deb", "-f", p, "Architecture")); got != arch {
				t.Errorf("%s: Architecture %q, want %s", f, got, arch)
			}
			if got := strings.TrimSpace(packtest.Output(t, nil, "dpkg-deb", "-f", p, "Homepage")); got != "https://choria.example" {
				t.Errorf("%s: Homepage %q", f, got)
			}
		}
		p := filepath.Join(dist, "deb/choria_0.29.0-1_amd64.deb")
		lint := packtest.Exec(t, "", nil, "lintian", "--no-tag-display-limit", p)
		if lint.Code != 0 || strings.Contains(lint.Stdout, "E: ") || strings.Contains(lint.Stdout, "binary-from-other-architecture") {
			t.Errorf("lintian: exit %d\n%s%s", lint.Code, lint.Stdout, lint.Stderr)
		}
		root := throwawayRoot(t)
		packtest.Output(t, nil, "dpkg", "--root", root, "--force-depends", "-i", p)
		out := packtest.Output(t, nil, filepath.Join(root, "usr/bin/choria"), "--version")
		if !strings.Contains(out, "choria 0.29.0") || !strings.Contains(out, "2024-03-01") {
			t.Errorf("installed choria --version: %s", out)
		}
	})

	t.Run("rpm", func(t *testing.T) {
		lintConfig := filepath.Join(repoRoot(t), "templates/el/global/rpmlint.toml")
		lintEnv := packtest.RpmlintEnv(t)
		for _, arch := range []string{"x86_64", "aarch64"} {
			p := filepath.Join(dist, "rpm/choria-0.29.0-1.el8."+arch+".rpm")
			q := packtest.Output(t, nil, "rpm", "-qp", "--qf", "%{ARCH} %{URL} %{SOURCERPM}", p)
			if want := arch + " https://choria.example choria-0.29.0-1.el8.src.rpm"; q != want {
				t.Errorf("rpm -qp: %q, want %q", q, want)
			}
			srpm := filepath.Join(dist, "srpm", arch, "choria-0.29.0-1.el8.src.rpm")
			for _, f := range []string{p, srpm} {
				if k := packtest.Output(t, nil, "rpm", "-K", f); !strings.Contains(k, "digests OK") {
					t.Errorf("rpm -K %s: %s", f, k)
				}
				r := packtest.Exec(t, "", lintEnv, "rpmlint", "-c", lintConfig, f)
				if r.Code != 0 || !strings.Contains(r.Stdout, " 0 errors,") {
					t.Errorf("rpmlint %s: exit %d\n%s%s", f, r.Code, r.Stdout, r.Stderr)
				}
			}
		}
		root := throwawayRoot(t)
		packtest.Output(t, nil, "rpm", "--root", root, "--initdb")
		packtest.Output(t, nil, "rpm", "--root", root, "-i", "--nodeps", filepath.Join(dist, "rpm/choria-0.29.0-1.el8.x86_64.rpm"))
		if out := packtest.Output(t, nil, filepath.Join(root, "usr/bin/choria"), "--version"); !strings.Contains(out, "choria 0.29.0") {
			t.Errorf("installed choria --version: %s", out)
		}
		// manage_server_preset: 1 ships the preset, Choria's way.
		if _, err := os.Stat(filepath.Join(root, "usr/lib/systemd/system-preset/50-choria.preset")); err != nil {
			t.Error(err)
		}
	})

	t.Run("zip", func(t *testing.T) {
		p := filepath.Join(dist, "tarball/choria-0.29.0-windows-amd64.zip")
		if r := packtest.Exec(t, "", nil, "unzip", "-tq", p); r.Code != 0 {
			t.Errorf("unzip -t: %s%s", r.Stdout, r.Stderr)
		}
		zr, err := zip.OpenReader(p)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		if !slices.Contains(names, "choria-0.29.0-windows-amd64/bin/choria.exe") {
			t.Errorf("zip entries %v lack bin/choria.exe", names)
		}
	})

	// Nothing points at Packyard: the spec's url is the homepage.
	for _, f := range want {
		if strings.HasSuffix(f, ".zip") || strings.HasSuffix(f, ".tar.gz") {
			continue
		}
		info := packtest.Output(t, nil, "sh", "-c", `case "$1" in *.deb) dpkg-deb -I "$1"; dpkg-deb --fsys-tarfile "$1" | tar -xO;; *) rpm -qpi "$1"; rpm2cpio "$1" | cpio -i --to-stdout --quiet;; esac`, "sh", filepath.Join(dist, f))
		if strings.Contains(info, "packyard/packyard") {
			t.Errorf("%s points at Packyard", f)
		}
	}
}

// TestChoriaTemplates builds testdata/choria-templates, whose templates
// are in Choria's own format (config.yaml, build.sh, an rpm spec with
// %config(noreplace), a debian/ tree), engine-less: rendered whole, the
// rpm and srpm from the template's spec by rpmbuild -ta, the deb by
// dpkg-buildpackage, each collected into dist/, checksummed, linted and
// installed. It checks Choria's placeholders where they land: the
// tarball's name (NAME-VERSION-OS-TARGET_ARCH.tgz) and content (dist/ and
// the binary under NAME-VERSION/), a file copied from cpkg_source_dir,
// cpkg_date in the Debian changelog, cpkg_target_arch, and an unknown
// {{other}} left as written.
func TestChoriaTemplates(t *testing.T) {
	t.Parallel()
	packtest.Need(t, "rpm", "rpmbuild", "dpkg-buildpackage", "lintian", "rpmlint", "rpm2cpio", "cpio")
	src := filepath.Join(t.TempDir(), "choria")
	copyDir(t, "testdata/choria-templates", src)
	dist := filepath.Join(t.TempDir(), "dist")
	r := packyard(t, src, []string{"SOURCE_DATE_EPOCH=1709294400"}, "build", "--version", "0.29.0", "--out", dist)
	if r.code != 0 {
		t.Fatalf("packyard build: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "build.sh of el/generic runs on this host, standing in for el8") {
		t.Errorf("no word that the host stands in for el8:\n%s", r.stderr)
	}
	rpmFile := filepath.Join(dist, "rpm/choria-0.29.0-1.el8.x86_64.rpm")
	srpm := filepath.Join(dist, "srpm/x86_64/choria-0.29.0-1.el8.src.rpm")
	deb := filepath.Join(dist, "deb/choria_0.29.0-1_amd64.deb")
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{rpmFile, srpm, deb} {
		rel, _ := filepath.Rel(dist, f)
		if !strings.Contains(string(sums), " "+filepath.ToSlash(rel)+"\n") {
			t.Errorf("SHA256SUMS lacks %s:\n%s", rel, sums)
		}
	}

	t.Run("rpm", func(t *testing.T) {
		files := rpmFiles(t, rpmFile)
		for path, flags := range map[string]string{
			"/etc/choria/server.conf": "cn", "/etc/sysconfig/choria-server": "cn",
			"/usr/lib/systemd/system/choria-server.service": "", "/usr/lib/systemd/system-preset/50-choria.preset": "",
		} {
			if f, ok := files[path]; !ok || f.flags != flags {
				t.Errorf("%s: %+v (present %v), want flags %q", path, f, ok, flags)
			}
		}
		if q := packtest.Output(t, nil, "rpm", "-qp", "--qf", "%{URL} %{SOURCERPM}", rpmFile); q != "https://choria.example choria-0.29.0-1.el8.src.rpm" {
			t.Errorf("rpm -qp: %s", q)
		}
		lintConfig := filepath.Join(repoRoot(t), "templates/el/global/rpmlint.toml")
		for _, f := range []string{rpmFile, srpm} {
			if k := packtest.Output(t, nil, "rpm", "-K", f); !strings.Contains(k, "digests OK") {
				t.Errorf("rpm -K %s: %s", f, k)
			}
			l := packtest.Exec(t, "", packtest.RpmlintEnv(t), "rpmlint", "-c", lintConfig, f)
			if l.Code != 0 || !strings.Contains(l.Stdout, " 0 errors,") {
				t.Errorf("rpmlint %s: exit %d\n%s%s", f, l.Code, l.Stdout, l.Stderr)
			}
		}
		root := throwawayRoot(t)
		packtest.Output(t, nil, "rpm", "--root", root, "--initdb")
		packtest.Output(t, nil, "rpm", "--root", root, "-i", "--nodeps", rpmFile)
		if out := packtest.Output(t, nil, filepath.Join(root, "usr/bin/choria"), "--version"); !strings.Contains(out, "choria 0.29.0") {
			t.Errorf("installed choria --version: %s", out)
		}
		conf, err := os.ReadFile(filepath.Join(root, "etc/choria/server.conf"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"of the choria server, built for x86_64-linux-gnu.", "# {{other}} is no placeholder"} {
			if !strings.Contains(string(conf), want) {
				t.Errorf("server.conf lacks %q:\n%s", want, conf)
			}
		}
	})

	t.Run("tarball", func(t *testing.T) {
		// The srpm's source is Choria's tarball: named with the compile
		// target's OS and target_arch as written, holding NAME-VERSION/
		// with dist/ (the rendered template, config.yaml of el/generic
		// included) and the binary, not the project's source.
		x := t.TempDir()
		if r := packtest.Exec(t, x, nil, "bash", "-c", "rpm2cpio "+srpm+" | cpio -idm --quiet"); r.Code != 0 {
			t.Fatalf("rpm2cpio: %s", r.Stderr)
		}
		f, err := os.Open(filepath.Join(x, "choria-0.29.0-linux-x86_64-linux-gnu.tgz"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(gz)
		got := map[string]string{}
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			got[h.Name] = string(b)
		}
		for _, name := range []string{"choria-0.29.0/", "choria-0.29.0/dist/", "choria-0.29.0/dist/choria.spec",
			"choria-0.29.0/dist/build.sh", "choria-0.29.0/dist/config.yaml", "choria-0.29.0/choria-0.29.0-linux-amd64"} {
			if _, ok := got[name]; !ok {
				t.Errorf("tarball lacks %s", name)
			}
		}
		for name := range got {
			if !strings.HasPrefix(name, "choria-0.29.0/dist/") && name != "choria-0.29.0/" && name != "choria-0.29.0/dist/" && name != "choria-0.29.0/choria-0.29.0-linux-amd64" {
				t.Errorf("tarball holds %s: want only dist/ and the binary", name)
			}
		}
		if c := got["choria-0.29.0/dist/config.yaml"]; !strings.Contains(c, "rpmbuild/RPMS") {
			t.Errorf("dist/config.yaml is not el/generic's:\n%s", c)
		}
		if b := got["choria-0.29.0/dist/build.sh"]; !strings.Contains(b, "-ta choria-0.29.0-linux-x86_64-linux-gnu.tgz") {
			t.Errorf("build.sh:\n%s", b)
		}
	})

	t.Run("deb", func(t *testing.T) {
		if a := strings.TrimSpace(packtest.Output(t, nil, "dpkg-deb", "-f", deb, "Architecture")); a != "amd64" {
			t.Errorf("Architecture %q", a)
		}
		conffiles := strings.Fields(packtest.Output(t, nil, "dpkg-deb", "-I", deb, "conffiles"))
		if !slices.Equal(conffiles, []string{"/etc/choria/server.conf", "/etc/default/choria-server"}) {
			t.Errorf("conffiles %v", conffiles)
		}
		lint := packtest.Exec(t, "", nil, "lintian", "--no-tag-display-limit", deb)
		if lint.Code != 0 || strings.Contains(lint.Stdout, "E: ") {
			t.Errorf("lintian: exit %d\n%s%s", lint.Code, lint.Stdout, lint.Stderr)
		}
		root := throwawayRoot(t)
		packtest.Output(t, nil, "dpkg", "--root", root, "--force-depends", "-i", deb)
		if out := packtest.Output(t, nil, filepath.Join(root, "usr/bin/choria"), "--version"); !strings.Contains(out, "choria 0.29.0") {
			t.Errorf("installed choria --version: %s", out)
		}
		// Copied by build.sh from cpkg_source_dir, unchanged: files of
		// the source are not templates.
		readme, err := os.ReadFile(filepath.Join(root, "usr/share/doc/choria/README.md"))
		if want, _ := os.ReadFile("testdata/choria-templates/README.md"); err != nil || string(readme) != string(want) {
			t.Errorf("README.md: %q (%v), want the project's", readme, err)
		}
		cl := packtest.Exec(t, "", nil, "bash", "-c", "zcat "+filepath.Join(root, "usr/share/doc/choria/changelog.Debian.gz"))
		if !strings.Contains(cl.Stdout, "  Fri, 01 Mar 2024 12:00:00 +0000\n") {
			t.Errorf("changelog without cpkg_date of the commit time:\n%s", cl.Stdout)
		}
	})

	t.Run("package subcommand", func(t *testing.T) {
		// The stage the Dagger module runs, given the release and the
		// binary: the same bytes as packyard build's.
		out := t.TempDir()
		for _, p := range []string{"el8_64", "bookworm_64"} {
			r := packyard(t, src, []string{"SOURCE_DATE_EPOCH=1709294400"}, "package", "--version", "0.29.0", "--package", p,
				"--binaries", filepath.Join(dist, "binaries"), "--tarball", filepath.Join(dist, "choria-0.29.0.tar.gz"), "--out", out)
			if r.code != 0 {
				t.Fatalf("package %s: exit %d\n%s", p, r.code, r.stderr)
			}
		}
		for _, f := range []string{rpmFile, srpm, deb} {
			rel, _ := filepath.Rel(dist, f)
			if a, b := sha256File(t, f), sha256File(t, filepath.Join(out, rel)); a != b {
				t.Errorf("%s: build gives %s, packyard package %s", rel, a, b)
			}
		}
	})

	t.Run("missing tool", func(t *testing.T) {
		// packyard package on the built release and binary, with a PATH
		// holding bash alone: the error names rpmbuild.
		bin := t.TempDir()
		if err := os.Symlink("/bin/bash", filepath.Join(bin, "bash")); err != nil {
			t.Fatal(err)
		}
		r := packyard(t, src, []string{"SOURCE_DATE_EPOCH=1709294400", "PATH=" + bin}, "package", "--package", "el8_64",
			"--binaries", filepath.Join(dist, "binaries"), "--tarball", filepath.Join(dist, "choria-0.29.0.tar.gz"), "--out", t.TempDir())
		if r.code == 0 || !strings.Contains(r.stderr, "needs rpmbuild, which is not on PATH") {
			t.Errorf("exit %d, want an error naming rpmbuild:\n%s", r.code, r.stderr)
		}
	})
}
