package main

// Acceptance tests of the packages the example product really produces
// (issue "Packages that behave like distro packages"): the acme flavour of
// examples/backplane is built once with the packyard binary, and its rpm,
// srpm, deb and rpkg are checked with the distributions' own tools.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
)

// The artifacts of the shared build that the tests look at.
const (
	acmeTarball = "backplane-0.26.0acme.tar.gz"
	acmeEL8     = "rpm/backplane-0.26.0acme-1.el8.x86_64.rpm"
	acmeEL9     = "rpm/backplane-0.26.0acme-1.el9.x86_64.rpm"
	acmeSRPM8   = "srpm/x86_64/backplane-0.26.0acme-1.el8.src.rpm"
	acmeDeb     = "deb/backplane_0.26.0acme-1_amd64.deb"
	acmeRpkg    = "rpkg/rudder-plugin-backplane-8.1.0-0.26.rpkg"
	acmeUnits   = "backplane-server.service backplane-broker.service"
)

// sharedBuild is a build of the example that several tests read.
type sharedBuild struct {
	dist string
	// commit is the commit the build saw (from .version in its source
	// release); heads are HEAD before and after it, which differ only when
	// someone commits during the build.
	commit string
	heads  [2]string
	err    error
}

// The acme build runs once per test binary: on a 2-core runner it is
// most of the file's time, and every test here only reads it.
var (
	acmeOnce  sync.Once
	acmeBuilt sharedBuild
)

// acmeDist returns the shared build of the acme flavour at 0.26.0acme.
// It lives next to the packyard binary, which TestMain removes at the end.
func acmeDist(t *testing.T) sharedBuild {
	t.Helper()
	acmeOnce.Do(func() {
		root, err := filepath.Abs("../..")
		if err != nil {
			acmeBuilt.err = err
			return
		}
		acmeBuilt = buildShared(root, filepath.Join(filepath.Dir(packyardBin), "shared", "acme"))
	})
	if acmeBuilt.err != nil {
		t.Fatalf("shared acme build: %v", acmeBuilt.err)
	}
	return acmeBuilt
}

// buildShared runs packyard build without a *testing.T: it runs inside a
// sync.Once, where a t.Fatal of the first caller would leave the others a
// half-set result.
func buildShared(root, dist string) sharedBuild {
	var b sharedBuild
	b.dist = dist
	head := func() string {
		out, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
		if err != nil && b.err == nil {
			b.err = fmt.Errorf("git rev-parse HEAD: %w", err)
		}
		return strings.TrimSpace(string(out))
	}
	b.heads[0] = head()
	cmd := exec.Command(packyardBin, "build", "--source", "examples/backplane", "--build", "acme",
		"--version", "0.26.0acme", "--out", dist)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), packyardEnv()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.err = fmt.Errorf("packyard build: %w\n%s", err, out)
		return b
	}
	b.heads[1] = head()
	out, err := exec.Command("tar", "-xzOf", filepath.Join(dist, acmeTarball), "backplane-0.26.0acme/.version").Output()
	if err != nil {
		b.err = fmt.Errorf(".version in %s: %w", acmeTarball, err)
		return b
	}
	if m := regexp.MustCompile(`(?m)^commit ([0-9a-f]{40})$`).FindSubmatch(out); m != nil {
		b.commit = string(m[1])
	} else {
		b.err = fmt.Errorf(".version in %s has no commit:\n%s", acmeTarball, out)
	}
	return b
}

// rpmFile is one entry of an rpm's file list.
type rpmFile struct {
	mode, flags, user, group string
}

// rpmFiles reads path, octal mode, file flags (c config, n noreplace, d
// doc…), owner and group of every file of an rpm.
func rpmFiles(t *testing.T, pkg string) map[string]rpmFile {
	t.Helper()
	out := packtest.Output(t, nil, "rpm", "-qp", "--qf", `[%{FILENAMES}|%{FILEMODES:octal}|%{FILEFLAGS:fflags}|%{FILEUSERNAME}|%{FILEGROUPNAME}\n]`, pkg)
	files := map[string]rpmFile{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "|")
		if len(f) != 5 {
			t.Fatalf("rpm --qf line %q", line)
		}
		files[f[0]] = rpmFile{f[1], f[2], f[3], f[4]}
	}
	return files
}

func TestRPMPackages(t *testing.T) {
	t.Parallel()
	packtest.Need(t, "rpm")
	b := acmeDist(t)
	// The file users are told to use (docs/packages.md).
	lintConfig := filepath.Join(repoRoot(t), "templates/el/global/rpmlint.toml")
	lintEnv := packtest.RpmlintEnv(t)
	tests := []struct {
		file, release string
	}{
		{acmeEL8, "1.el8"},
		{acmeEL9, "1.el9"},
	}
	for _, tt := range tests {
		t.Run(tt.release, func(t *testing.T) {
			p := filepath.Join(b.dist, tt.file)

			info := packtest.Output(t, nil, "rpm", "-qpi", p)
			for _, want := range []string{
				"Name        : backplane\n", "Version     : 0.26.0acme\n", "Release     : " + tt.release + "\n",
				"Architecture: x86_64\n", "Group       : System Environment/Base\n", "License     : Apache-2.0\n",
				"Packager    : Backplane Engineering <eng@acme.example>\n", "URL         : https://",
				"Source RPM  : backplane-0.26.0acme-" + tt.release + ".src.rpm\n",
			} {
				if !strings.Contains(info, want) {
					t.Errorf("rpm -qpi lacks %q:\n%s", want, info)
				}
			}

			files := rpmFiles(t, p)
			want := map[string]rpmFile{
				"/opt/acme/bin/backplane":                          {"100755", "", "root", "root"},
				"/etc/acme/backplane":                              {"40755", "", "root", "root"},
				"/etc/acme/backplane/server.conf":                  {"100640", "cn", "root", "root"},
				"/etc/acme/backplane/broker.conf":                  {"100640", "cn", "root", "root"},
				"/etc/sysconfig/backplane-server":                  {"100644", "cn", "root", "root"},
				"/etc/sysconfig/backplane-broker":                  {"100644", "cn", "root", "root"},
				"/etc/logrotate.d/backplane":                       {"100644", "cn", "root", "root"},
				"/usr/lib/systemd/system/backplane-server.service": {"100644", "", "root", "root"},
				"/usr/lib/systemd/system/backplane-broker.service": {"100644", "", "root", "root"},
				"/var/log/backplane":                               {"40755", "", "root", "root"},
			}
			for path, w := range want {
				if got, ok := files[path]; !ok {
					t.Errorf("%s is not in the package", path)
				} else if got != w {
					t.Errorf("%s: mode|flags|user|group %v, want %v", path, got, w)
				}
			}
			for path, f := range files {
				// Everything under etcdir is configuration the admin edits.
				if strings.HasPrefix(path, "/etc/acme/backplane/") && f.flags != "cn" {
					t.Errorf("%s has flags %q, want %%config(noreplace) (cn)", path, f.flags)
				}
				if _, ok := want[path]; !ok {
					t.Errorf("unexpected file %s", path)
				}
			}
			list := packtest.Output(t, nil, "rpm", "-qpl", p)
			if strings.Count(list, "\n") != len(want) {
				t.Errorf("rpm -qpl lists %d files, want %d:\n%s", strings.Count(list, "\n"), len(want), list)
			}

			scripts := packtest.Output(t, nil, "rpm", "-qp", "--scripts", p)
			for _, want := range []string{
				"postinstall scriptlet (using /bin/sh)", "systemctl daemon-reload", "systemctl --no-reload preset " + acmeUnits,
				"preuninstall scriptlet (using /bin/sh)", "systemctl --no-reload disable --now " + acmeUnits,
				"postuninstall scriptlet (using /bin/sh)", "systemctl try-restart " + acmeUnits,
			} {
				if !strings.Contains(scripts, want) {
					t.Errorf("--scripts lack %q:\n%s", want, scripts)
				}
			}
			if req := packtest.Output(t, nil, "rpm", "-qpR", p); !strings.Contains(req, "logrotate\n") {
				t.Errorf("no Requires: logrotate:\n%s", req)
			}
			if k := packtest.Output(t, nil, "rpm", "-K", p); !strings.Contains(k, "digests OK") {
				t.Errorf("rpm -K: %s", k)
			}

			srpm := filepath.Join(b.dist, "srpm", "x86_64", "backplane-0.26.0acme-"+tt.release+".src.rpm")
			for _, f := range []string{p, srpm} {
				r := packtest.Exec(t, "", lintEnv, "rpmlint", "-c", lintConfig, f)
				if r.Code != 0 || !strings.Contains(r.Stdout, " 0 errors,") {
					t.Errorf("rpmlint -c %s %s: exit %d\n%s%s", lintConfig, f, r.Code, r.Stdout, r.Stderr)
				}
				t.Logf("rpmlint %s:\n%s", filepath.Base(f), r.Stdout)
			}
		})
	}
}

func TestDebPackage(t *testing.T) {
	t.Parallel()
	packtest.Need(t, "dpkg-deb", "lintian")
	p := filepath.Join(acmeDist(t).dist, acmeDeb)

	info := packtest.Output(t, nil, "dpkg-deb", "-I", p)
	for _, want := range []string{
		" Package: backplane\n", " Version: 0.26.0acme-1\n", " Architecture: amd64\n",
		" Maintainer: Backplane Engineering <eng@acme.example>\n", " Section: admin\n", " Priority: optional\n",
		" conffiles ", " postinst ", " prerm ", " postrm ", " md5sums ",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I lacks %q:\n%s", want, info)
		}
	}
	// The acme flavour runs no service user, so nothing (not even adduser)
	// is needed; a static Go binary links no library.
	if dep := packtest.Output(t, nil, "dpkg-deb", "-f", p, "Depends"); strings.TrimSpace(dep) != "" {
		t.Errorf("Depends: %s", dep)
	}
	conffiles := strings.Fields(packtest.Output(t, nil, "dpkg-deb", "-I", p, "conffiles"))
	wantConf := []string{
		"/etc/acme/backplane/broker.conf", "/etc/acme/backplane/server.conf",
		"/etc/default/backplane-broker", "/etc/default/backplane-server", "/etc/logrotate.d/backplane",
	}
	slices.Sort(conffiles)
	if !slices.Equal(conffiles, wantConf) {
		t.Errorf("conffiles %v, want %v", conffiles, wantConf)
	}

	contents := packtest.Output(t, nil, "dpkg-deb", "-c", p)
	for _, want := range []string{
		"-rwxr-xr-x root/root", " ./opt/acme/bin/backplane\n",
		" ./lib/systemd/system/backplane-server.service\n", " ./lib/systemd/system/backplane-broker.service\n",
		" ./usr/share/doc/backplane/copyright\n", " ./usr/share/doc/backplane/changelog.Debian.gz\n",
		" ./usr/share/lintian/overrides/backplane\n",
	} {
		if !strings.Contains(contents, want) {
			t.Errorf("dpkg-deb -c lacks %q:\n%s", want, contents)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(contents), "\n") {
		if f := strings.Fields(line); len(f) < 6 || (f[1] != "root/root" && f[1] != "0/0") {
			t.Errorf("entry not owned by root: %s", line)
		}
	}

	r := packtest.Exec(t, "", nil, "lintian", "--no-tag-display-limit", p)
	for _, line := range strings.Split(r.Stdout, "\n") {
		if strings.HasPrefix(line, "E: ") {
			t.Errorf("lintian error: %s", line)
		}
	}
	if r.Code != 0 {
		t.Errorf("lintian: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	t.Logf("lintian:\n%s", r.Stdout)
}

// throwawayRoot prepares a root for rpm --root and dpkg --root with
// every busybox applet: the example's scripts are the templates', not
// this test's, to keep to a few tools.
func throwawayRoot(t *testing.T) string {
	t.Helper()
	return packtest.Root(t, packtest.RootSpec{Dirs: []string{"var/tmp"}, AllApplets: true, Dpkg: true})
}

// expectInstalled runs the binary the package installed in root.
func expectInstalled(t *testing.T, root, version string) {
	t.Helper()
	out := packtest.Output(t, nil, filepath.Join(root, "opt/acme/bin/backplane"), "buildinfo")
	for _, want := range []string{version, "/etc/acme/backplane/provisioning.jwt", "rpcagent"} {
		if !strings.Contains(out, want) {
			t.Errorf("installed backplane buildinfo lacks %q:\n%s", want, out)
		}
	}
}

// editConfig makes a local edit to server.conf, which upgrades must keep.
func editConfig(t *testing.T, root string) string {
	t.Helper()
	conf := filepath.Join(root, "etc/acme/backplane/server.conf")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, append(b, "# local edit\n"...), 0o640); err != nil {
		t.Fatal(err)
	}
	return conf
}

func hasLocalEdit(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.Contains(b, []byte("# local edit\n"))
}

// TestInstallUpgradeRemove installs the example's el8 rpm and deb into
// throwaway roots, runs the installed binary, upgrades to 0.26.1acme and
// removes them, checking the service management a distro package does.
func TestInstallUpgradeRemove(t *testing.T) {
	t.Parallel()
	packtest.Need(t, "rpm", "dpkg")
	v1 := acmeDist(t).dist
	v2 := filepath.Join(t.TempDir(), "dist")
	args := []string{"build", "--source", "examples/backplane", "--build", "acme", "--version", "0.26.1acme",
		"--packages", "el8_64,bookworm_64", "--out", v2}
	if r := packyard(t, repoRoot(t), nil, args...); r.code != 0 {
		t.Fatalf("packyard %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}

	t.Run("rpm", func(t *testing.T) {
		root := throwawayRoot(t)
		rpm := func(args ...string) {
			t.Helper()
			packtest.Output(t, nil, "rpm", append([]string{"--root", root}, args...)...)
		}
		rpm("--initdb")
		rpm("-i", "--nodeps", filepath.Join(v1, acmeEL8))
		packtest.ExpectCalls(t, "install", root, "daemon-reload", "--no-reload preset "+acmeUnits)
		expectInstalled(t, root, "0.26.0acme")
		conf := editConfig(t, root)

		rpm("-U", "--nodeps", filepath.Join(v2, "rpm/backplane-0.26.1acme-1.el8.x86_64.rpm"))
		// rpm runs the new package's %post, then the old one's %postun.
		packtest.ExpectCalls(t, "upgrade", root, "daemon-reload", "daemon-reload", "try-restart "+acmeUnits)
		expectInstalled(t, root, "0.26.1acme")
		if !hasLocalEdit(conf) {
			t.Error("upgrade lost the local edit of server.conf")
		}
		if q := packtest.Output(t, nil, "rpm", "--root", root, "-q", "backplane"); q != "backplane-0.26.1acme-1.el8.x86_64\n" {
			t.Errorf("rpm -q after upgrade: %s", q)
		}

		rpm("-e", "backplane")
		packtest.ExpectCalls(t, "erase", root, "--no-reload disable --now "+acmeUnits, "daemon-reload")
		if _, err := os.Stat(filepath.Join(root, "opt/acme/bin/backplane")); !os.IsNotExist(err) {
			t.Errorf("binary left after erase: %v", err)
		}
		// %config(noreplace) keeps an edited file as .rpmsave.
		if !hasLocalEdit(conf + ".rpmsave") {
			t.Error("erase did not keep the edited server.conf as server.conf.rpmsave")
		}
	})

	t.Run("deb", func(t *testing.T) {
		root := throwawayRoot(t)
		dpkg := func(args ...string) {
			t.Helper()
			packtest.Output(t, nil, "dpkg", append([]string{"--root", root, "--force-depends"}, args...)...)
		}
		server, broker := "backplane-server.service", "backplane-broker.service"
		dpkg("-i", filepath.Join(v1, acmeDeb))
		packtest.ExpectCalls(t, "install", root, "--no-reload enable "+server, "--no-reload enable "+broker, "--system daemon-reload")
		expectInstalled(t, root, "0.26.0acme")
		conf := editConfig(t, root)

		dpkg("-i", filepath.Join(v2, "deb/backplane_0.26.1acme-1_amd64.deb"))
		packtest.ExpectCalls(t, "upgrade", root, "--system daemon-reload", "try-restart "+acmeUnits)
		expectInstalled(t, root, "0.26.1acme")
		if !hasLocalEdit(conf) {
			t.Error("upgrade lost the local edit of the server.conf conffile")
		}
		if s := packtest.Output(t, nil, "dpkg-query", "--admindir", filepath.Join(root, "var/lib/dpkg"), "-W", "-f", "${Version} ${Status}", "backplane"); s != "0.26.1acme-1 install ok installed" {
			t.Errorf("dpkg-query after upgrade: %q", s)
		}

		dpkg("-r", "backplane")
		packtest.ExpectCalls(t, "remove", root, "stop "+acmeUnits, "--no-reload disable "+server, "--no-reload disable "+broker, "--system daemon-reload")
		if _, err := os.Stat(filepath.Join(root, "opt/acme/bin/backplane")); !os.IsNotExist(err) {
			t.Errorf("binary left after remove: %v", err)
		}
		if !hasLocalEdit(conf) {
			t.Error("remove deleted the edited conffile")
		}

		dpkg("-P", "backplane")
		packtest.ExpectCalls(t, "purge", root, "--system daemon-reload")
		for _, gone := range []string{conf, filepath.Join(root, "var/log/backplane")} {
			if _, err := os.Stat(gone); !os.IsNotExist(err) {
				t.Errorf("%s left after purge: %v", gone, err)
			}
		}
	})
}

// dumpEntry is one line of rpm -qp --dump: path size mtime digest mode
// owner group isconfig isdoc rdev symlink.
type dumpEntry struct {
	size, mtime, digest, mode, owner, group, config, doc, symlink string
}

func rpmDump(t *testing.T, pkg string) map[string]dumpEntry {
	t.Helper()
	out := packtest.Output(t, nil, "rpm", "-qp", "--dump", pkg)
	files := map[string]dumpEntry{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 11 {
			t.Fatalf("rpm --dump line %q", line)
		}
		e := dumpEntry{f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[10]}
		// Ignored where the builders must differ: rpmpack (nfpm's writer)
		// records a directory's size as 4096 where rpmbuild records 0 (a
		// directory has no payload either way), and records rdev 1 for
		// every file (rdev means something only for device nodes, of which
		// there are none), so rdev (f[9]) is not kept at all.
		if strings.HasPrefix(e.mode, "040") {
			e.size = "dir"
		}
		files[f[0]] = e
	}
	return files
}

// rpmScripts returns each scriptlet and its interpreter. rpmbuild drops
// the newline that ends a spec section, nfpm keeps the file's: trailing
// newlines are trimmed, nothing else.
func rpmScripts(t *testing.T, pkg string) map[string]string {
	t.Helper()
	tags := []string{"PRETRANS", "PREIN", "POSTIN", "PREUN", "POSTUN", "POSTTRANS",
		"PRETRANSPROG", "PREINPROG", "POSTINPROG", "PREUNPROG", "POSTUNPROG", "POSTTRANSPROG"}
	const sep = "\n--packyard-scriptlet--\n"
	var qf strings.Builder
	for _, tag := range tags {
		qf.WriteString("%{" + tag + "}" + sep)
	}
	parts := strings.Split(packtest.Output(t, nil, "rpm", "-qp", "--qf", qf.String(), pkg), sep)
	scripts := map[string]string{}
	for i, tag := range tags {
		scripts[tag] = strings.TrimRight(parts[i], "\n")
	}
	return scripts
}

// TestRPMBuilderParity builds the el8 package with rpmbuild from the
// shared build's binaries and source release, and compares it with the
// nfpm one.
func TestRPMBuilderParity(t *testing.T) {
	t.Parallel()
	packtest.Need(t, "rpm", "rpmbuild")
	b := acmeDist(t)
	nfpmRPM := filepath.Join(b.dist, acmeEL8)
	// The commit time the shared build used, whatever HEAD is now.
	epoch := strings.TrimSpace(packtest.Output(t, nil, "rpm", "-qp", "--qf", "%{BUILDTIME}", nfpmRPM))
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"package", "--source", "examples/backplane", "--build", "acme", "--version", "0.26.0acme",
		"--package", "el8_64", "--binaries", filepath.Join(b.dist, "binaries"), "--tarball", filepath.Join(b.dist, acmeTarball),
		"--builder", "rpmbuild", "--out", out}
	if r := packyard(t, repoRoot(t), []string{"SOURCE_DATE_EPOCH=" + epoch}, args...); r.code != 0 {
		t.Fatalf("packyard %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	rpmbuildRPM := filepath.Join(out, acmeEL8)

	nfpm, rpmbuild := rpmDump(t, nfpmRPM), rpmDump(t, rpmbuildRPM)
	for path, want := range nfpm {
		if got, ok := rpmbuild[path]; !ok {
			t.Errorf("rpmbuild's package lacks %s", path)
		} else if got != want {
			t.Errorf("%s: rpmbuild %+v, nfpm %+v", path, got, want)
		}
	}
	for path := range rpmbuild {
		if _, ok := nfpm[path]; !ok {
			t.Errorf("rpmbuild's package has %s, nfpm's has not", path)
		}
	}
	nf, rf := rpmFiles(t, nfpmRPM), rpmFiles(t, rpmbuildRPM)
	for path, want := range nf {
		if got := rf[path]; got != want {
			t.Errorf("%s: mode|flags|user|group rpmbuild %v, nfpm %v", path, got, want)
		}
	}

	ns, rs := rpmScripts(t, nfpmRPM), rpmScripts(t, rpmbuildRPM)
	for tag, want := range ns {
		if rs[tag] != want {
			t.Errorf("%s: rpmbuild\n%s\nnfpm\n%s", tag, rs[tag], want)
		}
	}
	if ns["POSTIN"] == "" || ns["PREUN"] == "" || ns["POSTUN"] == "" {
		t.Errorf("scriptlets missing: %v", ns)
	}
}

// TestRudderPluginPackage checks the .rpkg against rpkg-format.md with
// ar, tar and xz, and packyard verify against Rudder's own test vectors.
func TestRudderPluginPackage(t *testing.T) {
	t.Parallel()
	packtest.Need(t, "ar", "tar", "xz")
	b := acmeDist(t)
	p := filepath.Join(b.dist, acmeRpkg)

	if members := strings.Fields(packtest.Output(t, nil, "ar", "t", p)); !slices.Equal(members, []string{"metadata", "files.txz", "scripts.txz"}) {
		t.Errorf("ar t: %v", members)
	}
	var meta map[string]any
	if err := json.Unmarshal([]byte(packtest.Output(t, nil, "ar", "p", p, "metadata")), &meta); err != nil {
		t.Fatalf("metadata: %v", err)
	}
	// HEAD may move while the build runs only when someone commits then.
	if !slices.Contains(b.heads[:], b.commit) {
		t.Errorf("the build saw commit %s, HEAD was %s then %s", b.commit, b.heads[0], b.heads[1])
	}
	for key, want := range map[string]any{
		"type": "plugin", "name": "rudder-plugin-backplane", "version": "8.1.0-0.26",
		"build-commit": b.commit, "requires-license": false,
		"content": map[string]any{"files.txz": "/opt/rudder/share/plugins"},
	} {
		if got := meta[key]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("metadata %s = %v, want %v", key, got, want)
		}
	}
	if d, _ := meta["build-date"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`).MatchString(d) {
		t.Errorf("metadata build-date %q", d)
	}

	dir := t.TempDir()
	for _, m := range []string{"files.txz", "scripts.txz"} {
		// xz --list reads files only, not stdin.
		txz := filepath.Join(dir, m)
		data := packtest.Output(t, nil, "ar", "p", p, m)
		if err := os.WriteFile(txz, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		list := packtest.Output(t, nil, "xz", "-lvv", txz)
		if !regexp.MustCompile(`(?m)^\s+Streams:\s+1$`).MatchString(list) || !strings.Contains(list, "--lzma2=") {
			t.Errorf("%s: want one stream of LZMA2:\n%s", m, list)
		}
	}
	files := packtest.Output(t, nil, "tar", "-tvJf", filepath.Join(dir, "files.txz"))
	for _, want := range []string{
		`(?m)^drwxr-xr-x root/root\s+0 .* backplane/$`,
		`(?m)^-rwxr-xr-x root/root\s+\d+ .* backplane/backplane$`,
		`(?m)^-rw-r--r-- root/root\s+\d+ .* backplane/plugin.json$`,
	} {
		if !regexp.MustCompile(want).MatchString(files) {
			t.Errorf("files.txz has no entry matching %s:\n%s", want, files)
		}
	}
	if n := strings.Count(files, "\n"); n != 3 {
		t.Errorf("files.txz has %d entries, want 3:\n%s", n, files)
	}
	if scripts := packtest.Output(t, nil, "tar", "-tJf", filepath.Join(dir, "scripts.txz")); scripts != "postinst\n" {
		t.Errorf("scripts.txz: %q", scripts)
	}

	if r := packyard(t, b.dist, nil, "verify", acmeRpkg); r.code != 0 || !strings.Contains(r.stdout, acmeRpkg+": ok\n") {
		t.Errorf("verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// The reasons given in the vectors' README.md.
	vectors := []struct {
		file string
		code int
		want []string
	}{
		{"rudder-plugin-notify-8.0.0-2.2.rpkg", 0, []string{": ok\n"}},
		{"broken-archive.rpkg", 1, []string{"path appears more than once [tar-duplicate]", "installers refuse hardlinks [tar-hardlink]"}},
		{"with_metadata.rpkg", 1, []string{"content lists files.txz but there is no such member [content-members]", "no scripts.txz member"}},
		{"malformed_metadata.rpkg", 1, []string{"metadata: invalid JSON at line 4"}},
		{"without_metadata.rpkg", 1, []string{`no "metadata" member [metadata-missing]`}},
	}
	vdir, err := filepath.Abs("../../../shared/testdata/rpkg")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vectors {
		t.Run(v.file, func(t *testing.T) {
			r := packyard(t, vdir, nil, "verify", v.file)
			if r.code != v.code {
				t.Errorf("exit %d, want %d\n%s%s", r.code, v.code, r.stdout, r.stderr)
			}
			for _, w := range v.want {
				if !strings.Contains(r.stdout, v.file+": ") || !strings.Contains(r.stdout, w) {
					t.Errorf("verify output lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}

// inspected is the part of packyard inspect --json the test reads.
type inspected struct {
	Format, Name, Version, Release, Arch string
	Depends                              []string
	Files                                []struct {
		Path, Type, Mode, Owner, Group string
		Config, Noreplace              bool
	}
	Scripts  json.RawMessage
	Metadata map[string]any
	Members  []string
	Tarballs []struct {
		Name  string
		Files []struct{ Path, Type, Mode string }
	}
}

func TestInspectJSON(t *testing.T) {
	t.Parallel()
	b := acmeDist(t)
	tests := []struct {
		file  string
		check func(t *testing.T, r inspected)
	}{
		{acmeEL8, func(t *testing.T, r inspected) {
			if r.Format != "rpm" || r.Name != "backplane" || r.Version != "0.26.0acme" || r.Release != "1.el8" || r.Arch != "x86_64" {
				t.Errorf("header: %+v", r)
			}
			if !slices.Contains(r.Depends, "logrotate") {
				t.Errorf("depends: %v", r.Depends)
			}
			checkInspectedFiles(t, r, "/usr/lib/systemd/system/", "/etc/sysconfig/", true)
		}},
		{acmeDeb, func(t *testing.T, r inspected) {
			if r.Format != "deb" || r.Name != "backplane" || r.Version != "0.26.0acme" || r.Release != "1" || r.Arch != "amd64" {
				t.Errorf("header: %+v", r)
			}
			checkInspectedFiles(t, r, "/lib/systemd/system/", "/etc/default/", false)
		}},
		{acmeRpkg, func(t *testing.T, r inspected) {
			if r.Metadata["name"] != "rudder-plugin-backplane" || r.Metadata["version"] != "8.1.0-0.26" {
				t.Errorf("metadata: %v", r.Metadata)
			}
			if !slices.Equal(r.Members, []string{"metadata", "files.txz", "scripts.txz"}) {
				t.Errorf("members: %v", r.Members)
			}
			var paths []string
			for _, tb := range r.Tarballs {
				for _, f := range tb.Files {
					paths = append(paths, tb.Name+":"+f.Path+":"+f.Mode)
				}
			}
			want := []string{"files.txz:backplane/:0755", "files.txz:backplane/backplane:0755", "files.txz:backplane/plugin.json:0644", "scripts.txz:postinst:0755"}
			if !slices.Equal(paths, want) {
				t.Errorf("tarball files %v, want %v", paths, want)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(filepath.Ext(tt.file), func(t *testing.T) {
			res := packyard(t, b.dist, nil, "inspect", "--json", tt.file)
			if res.code != 0 {
				t.Fatalf("inspect: exit %d\n%s", res.code, res.stderr)
			}
			var r inspected
			dec := json.NewDecoder(strings.NewReader(res.stdout))
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("inspect --json: %v\n%s", err, res.stdout)
			}
			if len(r.Scripts) == 0 || string(r.Scripts) == "null" {
				t.Errorf("no scripts in the report")
			}
			tt.check(t, r)
		})
	}
}

// checkInspectedFiles checks the files both the rpm and the deb ship, as
// inspect reports them.
func checkInspectedFiles(t *testing.T, r inspected, unitDir, envDir string, noreplace bool) {
	t.Helper()
	type file struct {
		mode           string
		config, noRepl bool
	}
	got := map[string]file{}
	for _, f := range r.Files {
		// tar headers may name root or give only uid/gid 0.
		if (f.Owner != "root" && f.Owner != "0") || (f.Group != "root" && f.Group != "0") {
			t.Errorf("%s owned by %s:%s", f.Path, f.Owner, f.Group)
		}
		got[f.Path] = file{f.Mode, f.Config, f.Noreplace}
	}
	want := map[string]file{
		"/opt/acme/bin/backplane":            {"100755", false, false},
		"/etc/acme/backplane/server.conf":    {"100640", true, noreplace},
		"/etc/acme/backplane/broker.conf":    {"100640", true, noreplace},
		envDir + "backplane-server":          {"100644", true, noreplace},
		envDir + "backplane-broker":          {"100644", true, noreplace},
		unitDir + "backplane-server.service": {"100644", false, false},
		unitDir + "backplane-broker.service": {"100644", false, false},
		"/etc/logrotate.d/backplane":         {"100644", true, noreplace},
	}
	for path, w := range want {
		if g, ok := got[path]; !ok {
			t.Errorf("inspect does not list %s", path)
		} else if g != w {
			t.Errorf("%s: %+v, want %+v", path, g, w)
		}
	}
}

// TestSignedBuild signs with a key file and checks every signature with
// the tools a user would run, and that no secret leaks anywhere.
func TestSignedBuild(t *testing.T) {
	t.Parallel()
	packtest.Need(t, "rpm", "gpg", "ar", "sha256sum", "dpkg-deb", "rpm2cpio", "gzip")
	const passphrase = "pky-passphrase-5b1e9c"
	key := packtest.GPGKey(t, passphrase)
	dist := filepath.Join(t.TempDir(), "dist")
	args := []string{"build", "--source", "examples/backplane", "--build", "acme", "--version", "0.26.0acme",
		"--packages", "el8_64,bookworm_64", "--key-file", key.Private, "--passphrase-file", key.PassphraseFile, "--out", dist}
	r := packyard(t, repoRoot(t), nil, args...)
	if r.code != 0 {
		t.Fatalf("packyard %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
	}

	packtest.VerifyRPMSignatures(t, key.Public, filepath.Join(dist, acmeEL8), filepath.Join(dist, acmeSRPM8))
	deb := filepath.Join(dist, acmeDeb)
	packtest.VerifyDebSignature(t, key.Env(), deb)

	if v := packtest.Exec(t, "", key.Env(), "gpg", "--batch", "--verify", filepath.Join(dist, "SHA256SUMS.asc"), filepath.Join(dist, "SHA256SUMS")); v.Code != 0 || !strings.Contains(v.Stderr, "Good signature") {
		t.Errorf("gpg --verify SHA256SUMS.asc: exit %d\n%s", v.Code, v.Stderr)
	}
	sums := packtest.Exec(t, dist, nil, "sha256sum", "-c", "SHA256SUMS")
	if sums.Code != 0 || strings.Count(sums.Stdout, ": OK\n") != 5 {
		t.Errorf("sha256sum -c: exit %d\n%s%s", sums.Code, sums.Stdout, sums.Stderr)
	}

	// Signed as of SOURCE_DATE_EPOCH, never the clock: a second build with
	// the same key gives the same bytes, signatures included (the Dagger
	// module's build is compared with these by ci/dagger-e2e).
	again := filepath.Join(t.TempDir(), "dist")
	args[len(args)-1] = again
	if r := packyard(t, repoRoot(t), nil, args...); r.code != 0 {
		t.Fatalf("second signed build: exit %d\n%s", r.code, r.stderr)
	}
	for _, f := range []string{acmeEL8, acmeSRPM8, acmeDeb, "SHA256SUMS", "SHA256SUMS.asc"} {
		a, errA := os.ReadFile(filepath.Join(dist, f))
		b, errB := os.ReadFile(filepath.Join(again, f))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs between two signed builds (%v, %v)", f, errA, errB)
		}
	}

	// A line from the middle of the armored secret key, and the passphrase.
	armored, err := os.ReadFile(key.Private)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(armored), "\n")
	secrets := []string{lines[len(lines)/2], passphrase}
	if len(secrets[0]) < 40 {
		t.Fatalf("armored key line %q is too short to search for", secrets[0])
	}
	haystacks := map[string][]byte{"stdout": []byte(r.stdout), "stderr": []byte(r.stderr)}
	err = filepath.WalkDir(dist, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		haystacks[path] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Compressed payloads too, since a leak there would not show in the raw bytes.
	// rpm2cpio exits 1 on nfpm's rpms although it writes the whole
	// payload: rpmpack records the installed size as ARCHIVESIZE, not the
	// cpio size that rpm2cpio compares with. The payload is what matters.
	haystacks["rpm payload"] = []byte(packtest.Exec(t, "", nil, "rpm2cpio", filepath.Join(dist, acmeEL8)).Stdout)
	haystacks["srpm payload"] = []byte(packtest.Output(t, nil, "rpm2cpio", filepath.Join(dist, acmeSRPM8)))
	haystacks["deb data"] = []byte(packtest.Output(t, nil, "dpkg-deb", "--fsys-tarfile", deb))
	haystacks["deb control"] = []byte(packtest.Output(t, nil, "dpkg-deb", "--ctrl-tarfile", deb))
	haystacks["source release"] = []byte(packtest.Output(t, nil, "gzip", "-dc", filepath.Join(dist, acmeTarball)))
	for name, b := range haystacks {
		for i, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds secret %d", name, i)
			}
		}
	}
}
