package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/packyard/packyard/internal/packtest"
)

// publishProject writes a project holding only a spec whose flavour has
// the publish section given, and a dist of version 0.26.0acme as build
// writes it (a source tarball and a binary, in manifest.json).
func publishProject(t *testing.T, publish string) (project, dist string) {
	t.Helper()
	project = t.TempDir()
	spec := `acme:
  compile_targets:
    64bit_linux: {os: linux, arch: amd64}
  packages:
    defaults: {name: backplane, binary: 64bit_linux, release: 1}
    el8_64: {template: el/el8, dist: el8, target_arch: x86_64}
  publish:
` + publish
	os.MkdirAll(filepath.Join(project, "packager"), 0o755)
	if err := os.WriteFile(filepath.Join(project, "packager", "buildspec.yaml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	dist = filepath.Join(project, "dist")
	files := map[string]string{
		"backplane-0.26.0acme.tar.gz":               sourceTarball(t, "backplane-0.26.0acme", "0.26.0acme\ntime 1795943299\n"),
		"binaries/backplane-0.26.0acme-linux-amd64": "binary",
		"SHA256SUMS":     "sums\n",
		"SHA256SUMS.asc": "signature\n",
	}
	for name, content := range files {
		p := filepath.Join(dist, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	manifest, _ := json.Marshal(map[string]any{"artifacts": []map[string]any{
		{"path": "backplane-0.26.0acme.tar.gz", "stage": "source"},
		{"path": "binaries/backplane-0.26.0acme-linux-amd64", "stage": "compile/64bit_linux"},
	}})
	if err := os.WriteFile(filepath.Join(dist, "manifest.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	return project, dist
}

// sourceTarball is a source release holding only PREFIX/.version.
func sourceTarball(t *testing.T, prefix, dotVersion string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: prefix + "/.version", Mode: 0o644, Size: int64(len(dotVersion))}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte(dotVersion))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestPublishCLI runs packyard publish to a file:// download area: the
// exit codes and messages of the ways it succeeds and fails.
func TestPublishCLI(t *testing.T) {
	remote := t.TempDir()
	project, dist := publishProject(t, fmt.Sprintf(`    files:
      type: http
      url: file://%s/{{version}}
    image:
      type: oci
      image: ghcr.io/acme/backplane
    private:
      type: http
      url: https://files.example.com/{{version}}
      token_env: PACKYARD_TEST_TOKEN
`, remote))
	run := func(args ...string) result {
		t.Helper()
		return packyard(t, project, nil, append([]string{"publish", "--build", "acme"}, args...)...)
	}
	published := filepath.Join(remote, "0.26.0acme", "binaries", "backplane-0.26.0acme-linux-amd64")

	tests := []struct {
		name     string
		args     []string
		edit     func()
		code     int
		want     string // in stdout+stderr
		uploaded bool   // the binary is on the remote afterwards
	}{
		{"dry run", []string{"--target", "files", "--dry-run"}, nil, 0, "would upload file://" + remote + "/0.26.0acme/binaries/", false},
		{"publish", []string{"--target", "files"}, nil, 0, "published backplane 0.26.0acme", true},
		{"rerun", []string{"--target", "files"}, nil, 0, "unchanged file://", true},
		{"unknown target", []string{"--target", "nope"}, nil, 2, `no publish target "nope"; flavour acme has files, image, private`, true},
		{"all targets, one lacking credentials", nil, nil, 2, "publish target private: $PACKYARD_TEST_TOKEN is not set", true},
		{"credentials unset", []string{"--target", "private"}, nil, 2, "$PACKYARD_TEST_TOKEN is not set", true},
		{"version disagrees", []string{"--target", "files", "--version", "0.27.0"}, nil, 2, "holds backplane 0.26.0acme", true},
		{"conflict", []string{"--target", "files"}, func() {
			os.WriteFile(filepath.Join(dist, "binaries", "backplane-0.26.0acme-linux-amd64"), []byte("rebuilt"), 0o755)
		}, 1, "a different file already exists there (use --overwrite to replace it)", true},
		{"overwrite", []string{"--target", "files", "--overwrite"}, nil, 0, "upload file://", true},
		{"no dist", []string{"--target", "files", "--dist", "nowhere"}, nil, 2, "--dist nowhere: not a directory", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.edit != nil {
				tt.edit()
			}
			r := run(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q:\n%s%s", r.code, tt.code, tt.want, r.stdout, r.stderr)
			}
			if _, err := os.Stat(published); (err == nil) != tt.uploaded {
				t.Errorf("published binary exists: %v, want %v", err == nil, tt.uploaded)
			}
		})
	}
	if b, _ := os.ReadFile(published); string(b) != "rebuilt" {
		t.Errorf("after --overwrite the remote holds %q", b)
	}
}

// TestPublishSpecError checks that a mistake in the publish section is a
// configuration error: file:line:col, exit code 2.
func TestPublishSpecError(t *testing.T) {
	project, _ := publishProject(t, `    el:
      type: yum
      url: https://ci:hunter2@repo.example.com/el
`)
	r := packyard(t, project, nil, "publish", "--build", "acme")
	want := "packager/buildspec.yaml:10:12: acme.publish.el.url: credentials do not belong in the URL"
	if r.code != 2 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "hunter2") {
		t.Errorf("exit %d, want 2 with %q and no password:\n%s", r.code, want, r.stderr)
	}
}

// TestPublishFlagsDocumented checks that every flag of publish is in its
// row of docs/cli.md (or in the global flags table). It is written for
// every command, but checks publish only for now: build, checksums and
// package have flags (--passphrase-file, package's --key-file) that
// their rows do not list yet, left for their owners to document.
func TestFlagsDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "cli.md"))
	if err != nil {
		t.Fatal(err)
	}
	rowRE := regexp.MustCompile("(?m)^\\| `([a-z]+)([^`]*)`")
	rows := map[string]string{}
	globals := ""
	for _, m := range rowRE.FindAllStringSubmatch(string(doc), -1) {
		rows[m[1]] += m[2]
	}
	for _, m := range regexp.MustCompile("(?m)^\\| `(--[a-z-]+)").FindAllStringSubmatch(string(doc), -1) {
		globals += m[1] + " "
	}
	root := newRoot(nil, nil, func(string) string { return "" })
	root.SetContext(context.Background())
	for _, cmd := range root.Commands() {
		if cmd.Name() == "help" || cmd.Name() == "completion" {
			continue
		}
		row, ok := rows[cmd.Name()]
		if !ok {
			t.Errorf("command %s is not in docs/cli.md", cmd.Name())
			continue
		}
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			flag := "--" + f.Name
			if f.Name == "help" || strings.Contains(globals, flag+" ") {
				return
			}
			if !regexp.MustCompile(regexp.QuoteMeta(flag) + `\b`).MatchString(row) {
				t.Errorf("flag %s of %s is not in its docs/cli.md row", flag, cmd.Name())
			}
		})
	}
}

// TestBuildThenPublish is the user's workflow: packyard build of the
// example at two versions, each published with packyard publish to a yum
// and an apt repository on nginx, signed; dnf and apt then see both
// versions, and publishing a release again uploads nothing.
func TestBuildThenPublish(t *testing.T) {
	packtest.Need(t, "createrepo_c", "dnf", "apt-get", "dpkg-scanpackages", "apt-ftparchive")
	srv := packtest.StartNginx(t)
	key := packtest.GPGKey(t, "repo-pass")
	root := repoRoot(t)
	example, err := os.ReadFile(filepath.Join(root, "examples", "backplane", "packager", "buildspec.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The example's spec with a publish section for acme, its last flavour.
	spec := filepath.Join(t.TempDir(), "packager", "buildspec.yaml")
	os.MkdirAll(filepath.Dir(spec), 0o755)
	publishSection := fmt.Sprintf(`  publish:
    el:
      type: yum
      url: %[1]sel/{{dist}}/{{arch}}
      packages: [el8_64]
      username_env: REPO_USER
      password_env: REPO_PASSWORD
    debian:
      type: apt
      url: %[1]sdebian
      suite: bookworm
      packages: [bookworm_64]
      username_env: REPO_USER
      password_env: REPO_PASSWORD
`, srv.URL)
	if err := os.WriteFile(spec, append(example, publishSection...), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"REPO_USER=" + srv.User, "REPO_PASSWORD=" + srv.Pass}
	v2 := filepath.Join(t.TempDir(), "dist")
	if r := packyard(t, root, nil, "build", "--source", "examples/backplane", "--build", "acme", "--version", "0.26.1acme",
		"--packages", "el8_64,bookworm_64", "--out", v2); r.code != 0 {
		t.Fatalf("build 0.26.1acme: exit %d\n%s", r.code, r.stderr)
	}
	publish := func(dist string) result {
		t.Helper()
		r := packyard(t, root, env, "publish", "--source", "examples/backplane", "--spec", spec, "--build", "acme",
			"--dist", dist, "--key-file", key.Private, "--passphrase-file", key.PassphraseFile)
		if r.code != 0 {
			t.Fatalf("publish %s: exit %d\n%s%s", dist, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, srv.Pass) || strings.Contains(r.stdout+r.stderr, "repo-pass") {
			t.Errorf("publish printed a secret:\n%s", r.stderr)
		}
		return r
	}
	publish(acmeDist(t).dist)
	publish(v2)
	if r := publish(v2); strings.Contains(r.stderr, " upload ") {
		t.Errorf("publishing 0.26.1acme again uploaded files:\n%s", r.stderr)
	}

	dnfRoot := t.TempDir()
	repo := fmt.Sprintf("[acme]\nname=acme\nbaseurl=%sel/el8/x86_64/\ngpgcheck=1\nrepo_gpgcheck=1\nskip_if_unavailable=0\ngpgkey=%sel/el8/x86_64/repodata/repomd.xml.key\n", srv.URL, srv.URL)
	os.WriteFile(filepath.Join(dnfRoot, "acme.repo"), []byte(repo), 0o644)
	out := packtest.Output(t, nil, "dnf", "-y", "-q", "--installroot", filepath.Join(dnfRoot, "root"), "--releasever", "8",
		"--setopt=reposdir="+dnfRoot, "--setopt=cachedir="+filepath.Join(dnfRoot, "cache"), "--disableplugin=*",
		"repoquery", "--showduplicates", "--queryformat", "%{version}-%{release}\n", "backplane")
	if got := strings.Fields(out); len(got) != 2 || !strings.Contains(out, "0.26.0acme-1.el8") || !strings.Contains(out, "0.26.1acme-1.el8") {
		t.Errorf("dnf repoquery: %q, want 0.26.0acme and 0.26.1acme", got)
	}

	apt := t.TempDir()
	for _, d := range []string{"etc/apt/preferences.d", "etc/apt/sources.list.d", "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"} {
		os.MkdirAll(filepath.Join(apt, d), 0o755)
	}
	os.WriteFile(filepath.Join(apt, "var/lib/dpkg/status"), nil, 0o644)
	os.WriteFile(filepath.Join(apt, "etc/apt/sources.list"),
		[]byte(fmt.Sprintf("deb [arch=amd64 signed-by=%s] %sdebian bookworm main\n", key.Public, srv.URL)), 0o644)
	opts := []string{"-o", "Dir=" + apt, "-o", "Dir::State::status=" + filepath.Join(apt, "var/lib/dpkg/status"),
		"-o", "APT::Sandbox::User=root", "-o", "Debug::NoLocking=1", "-o", "APT::Architecture=amd64"}
	if out := packtest.Run(t, nil, "apt-get", append(opts, "update")...); strings.Contains(out, "W:") || strings.Contains(out, "E:") {
		t.Errorf("apt-get update:\n%s", out)
	}
	madison := packtest.Output(t, nil, "apt-cache", append(opts, "madison", "backplane")...)
	if !strings.Contains(madison, "0.26.0acme-1") || !strings.Contains(madison, "0.26.1acme-1") {
		t.Errorf("apt-cache madison:\n%s", madison)
	}
}

// TestBuildPublish runs packyard build --publish of the example to a
// file:// download area and a yum repository, one on nginx and one on
// file://: what is checked before the build, that a failed build
// publishes nothing, a dry run, a publish, a rerun that uploads nothing,
// and that packyard publish of the same dist into an empty repository
// later writes byte-identical indexes, signed as of SOURCE_DATE_EPOCH.
func TestBuildPublish(t *testing.T) {
	packtest.Need(t, "createrepo_c")
	srv := packtest.StartNginx(t)
	key := packtest.GPGKey(t, "repo-pass")
	root := repoRoot(t)
	example, err := os.ReadFile(filepath.Join(root, "examples", "backplane", "packager", "buildspec.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	remote := t.TempDir()
	spec := filepath.Join(t.TempDir(), "buildspec.yaml")
	section := fmt.Sprintf(`  publish:
    files: {type: http, url: "file://%[1]s/files/{{version}}"}
    el:
      type: yum
      url: %[2]sel/{{dist}}/{{arch}}
      packages: [el8_64]
      username_env: REPO_USER
      password_env: REPO_PASSWORD
    mirror: {type: yum, url: "file://%[1]s/mirror/{{dist}}/{{arch}}", packages: [el8_64]}
    later: {type: yum, url: "file://%[1]s/later/{{dist}}/{{arch}}", packages: [el8_64]}
`, remote, srv.URL)
	if err := os.WriteFile(spec, append(example, section...), 0o644); err != nil {
		t.Fatal(err)
	}
	// After the key's creation, which a signature cannot predate.
	epoch := time.Now().Unix()
	creds := []string{"REPO_USER=" + srv.User, "REPO_PASSWORD=" + srv.Pass}
	// The stage cache on, in a directory of the test's: the builds after
	// the first restore every stage.
	env := append([]string{"PACKYARD_NO_CACHE=", "PACKYARD_CACHE_DIR=" + t.TempDir(), "SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch, 10)}, creds...)
	out := filepath.Join(t.TempDir(), "dist")
	build := []string{"build", "--source", "examples/backplane", "--spec", spec, "--build", "acme", "--version", "0.26.0acme",
		"--packages", "el8_64", "--out", out, "--key-file", key.Private, "--passphrase-file", key.PassphraseFile}
	filesRemote := filepath.Join(remote, "files", "0.26.0acme", "rpm", "backplane-0.26.0acme-1.el8.x86_64.rpm")
	repomd := filepath.Join(srv.Root, "el", "el8", "x86_64", "repodata", "repomd.xml")

	tests := []struct {
		name     string
		args     []string
		env      []string // instead of env
		code     int
		want     []string // in stdout+stderr
		dist     bool     // dist/ exists afterwards
		uploaded bool     // the download area has the rpm afterwards
	}{
		{"dry run alone", []string{"--dry-run"}, nil, 2, []string{"--dry-run and --overwrite are publish options"}, false, false},
		{"unknown target, before building", []string{"--publish-target", "nope"}, nil, 2,
			[]string{`no publish target "nope"; flavour acme has el, files, later, mirror`}, false, false},
		{"credentials unset, before building", []string{"--publish"}, env[:3], 2, []string{"$REPO_USER is not set"}, false, false},
		{"failed build publishes nothing", []string{"--publish"}, append([]string{"GOFLAGS=-no-such-flag"}, env...), 1,
			[]string{"no-such-flag"}, false, false},
		{"dry run", []string{"--publish-target", "files", "--dry-run"}, nil, 0,
			[]string{"would upload file://" + remote + "/files/0.26.0acme/rpm/", "to upload", "dry run: backplane 0.26.0acme not published"}, true, false},
		{"publish", []string{"--publish-target", "files,el", "--publish-target", "mirror"}, nil, 0,
			[]string{"start publish", "upload " + srv.URL + "el/el8/x86_64/repodata/repomd.xml.asc", "published backplane 0.26.0acme",
				"\nfiles   http ", "\nel      yum ", "\nmirror  yum ", "\ntotal "}, true, true},
		{"rerun uploads nothing", []string{"--publish-target", "files,el,mirror"}, nil, 0,
			[]string{"unchanged " + srv.URL + "el/el8/x86_64/backplane-0.26.0acme-1.el8.x86_64.rpm", "published backplane 0.26.0acme"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env
			if tt.env != nil {
				e = tt.env
			}
			r := packyard(t, root, e, append(build, tt.args...)...)
			all := r.stdout + r.stderr
			if r.code != tt.code {
				t.Errorf("exit %d, want %d:\n%s", r.code, tt.code, all)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, srv.Pass) || strings.Contains(all, "repo-pass") {
				t.Errorf("a secret was printed:\n%s", all)
			}
			if tt.name == "rerun uploads nothing" && strings.Contains(r.stderr, " upload ") {
				t.Errorf("the rerun uploaded files:\n%s", r.stderr)
			}
			if _, err := os.Stat(out); (err == nil) != tt.dist {
				t.Errorf("dist exists: %v, want %v", err == nil, tt.dist)
			}
			if _, err := os.Stat(filesRemote); (err == nil) != tt.uploaded {
				t.Errorf("the download area has the rpm: %v, want %v", err == nil, tt.uploaded)
			}
		})
	}

	// packyard publish of that dist, later and without SOURCE_DATE_EPOCH,
	// into an empty repository: the release's time comes from the dist.
	r := packyard(t, root, nil, "publish", "--source", "examples/backplane", "--spec", spec, "--build", "acme",
		"--dist", out, "--target", "later", "--key-file", key.Private, "--passphrase-file", key.PassphraseFile)
	if r.code != 0 {
		t.Fatalf("publish --target later: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, f := range []string{"repomd.xml", "repomd.xml.asc", "repomd.xml.key"} {
		a, _ := os.ReadFile(filepath.Join(filepath.Dir(repomd), f))
		b, _ := os.ReadFile(filepath.Join(remote, "mirror", "el8", "x86_64", "repodata", f))
		c, _ := os.ReadFile(filepath.Join(remote, "later", "el8", "x86_64", "repodata", f))
		if len(a) == 0 || !bytes.Equal(a, b) || !bytes.Equal(a, c) {
			t.Errorf("repodata/%s differs between the repositories published from one dist:\nnginx:\n%s\nmirror:\n%s\nlater:\n%s", f, a, b, c)
		}
	}
	asc, _ := os.ReadFile(repomd + ".asc")
	if !bytes.Contains(asc, []byte("BEGIN PGP SIGNATURE")) {
		t.Fatalf("repomd.xml.asc: %q", asc)
	}
	list := packtest.Output(t, nil, "gpg", "--list-packets", repomd+".asc")
	if want := fmt.Sprintf("created %d", epoch); !strings.Contains(list, want) {
		t.Errorf("repomd.xml.asc is not signed as of SOURCE_DATE_EPOCH (%s):\n%s", want, list)
	}
}
