package publish

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/fsutil"
	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/sign"
)

// TestYumDnf publishes two releases into one yum repository on nginx and
// reads it with dnf, with gpgcheck=1 and repo_gpgcheck=1: both versions
// are listed (the second publish kept the first without downloading it),
// a rerun uploads nothing, and the rpms dnf downloads pass rpm -K.
func TestYumDnf(t *testing.T) {
	packtest.Need(t, "createrepo_c", "dnf", "rpm")
	ctx := context.Background()
	srv := startNginx(t)
	counter := startFaultyProxy(t, srv.URL, 0)
	gpg, key := repoKey(t)
	target := &buildspec.PublishTarget{Name: "el", Type: buildspec.PublishYum,
		URL: counter.URL + "el/{{dist}}/{{arch}}", Packages: []string{"el8_64"},
		UsernameEnv: "REPO_USER", PasswordEnv: "REPO_PASSWORD"}
	fl := testFlavour(target)
	env := map[string]string{"REPO_USER": srv.User, "REPO_PASSWORD": srv.Pass}
	var log []string
	publish := func(dist, v string, overwrite bool) error {
		log = nil
		_, err := Publish(ctx, Options{
			Spec: &buildspec.Spec{File: "buildspec.yaml"}, Flavour: fl, Dist: dist, Version: v, Key: key,
			Overwrite: overwrite, Getenv: func(k string) string { return env[k] },
			Logf:      func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)); t.Logf(f, a...) },
			Transport: &Transport{Backoff: 1, MaxBackoff: 1},
		})
		return err
	}

	v1, v2 := release(t, "0.26.0acme", &gpg), release(t, "0.26.1acme", &gpg)
	if err := publish(v1, "0.26.0acme", false); err != nil {
		t.Fatal(err)
	}
	if err := publish(v2, "0.26.1acme", false); err != nil {
		t.Fatal(err)
	}
	puts := counter.requests("PUT")
	if err := publish(v2, "0.26.1acme", false); err != nil {
		t.Fatal(err)
	}
	if n := counter.requests("PUT"); n != puts {
		t.Errorf("republishing the same release sent %d PUTs:\n%s", n-puts, strings.Join(log, "\n"))
	}
	repo := filepath.Join(srv.Root, "el", "el8", "x86_64")
	for _, f := range []string{"repodata/repomd.xml", "repodata/repomd.xml.asc", "repodata/repomd.xml.key",
		"backplane-0.26.0acme-1.el8.x86_64.rpm", "backplane-0.26.1acme-1.el8.x86_64.rpm"} {
		if _, err := os.Stat(filepath.Join(repo, f)); err != nil {
			t.Errorf("the repository lacks %s", f)
		}
	}

	// dnf, as a user configures it, against nginx directly.
	root := t.TempDir()
	repos := filepath.Join(root, "repos.d")
	os.MkdirAll(repos, 0o755)
	repoFile := fmt.Sprintf("[acme]\nname=acme\nbaseurl=%sel/el8/x86_64/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\nskip_if_unavailable=0\ngpgkey=file://%s\n", srv.URL, gpg.Public)
	if err := os.WriteFile(filepath.Join(repos, "acme.repo"), []byte(repoFile), 0o644); err != nil {
		t.Fatal(err)
	}
	dnfArgs := []string{"-y", "-q", "--installroot", filepath.Join(root, "install"), "--releasever", "8",
		"--setopt=reposdir=" + repos, "--setopt=cachedir=" + filepath.Join(root, "cache"),
		"--disableplugin=*", "--enableplugin=download"}
	dnf := func(args ...string) string {
		t.Helper()
		return packtest.Output(t, nil, "dnf", append(dnfArgs, args...)...)
	}
	out := dnf("repoquery", "--showduplicates", "--queryformat", "%{name}-%{version}-%{release}.%{arch}\n", "backplane")
	got := strings.Fields(out)
	slices.Sort(got)
	want := []string{"backplane-0.26.0acme-1.el8.x86_64", "backplane-0.26.1acme-1.el8.x86_64"}
	if !slices.Equal(got, want) {
		t.Errorf("dnf repoquery lists %q, want %q\n%s", got, want, out)
	}
	dl := filepath.Join(root, "download")
	dnf("download", "--destdir", dl, "backplane-0.26.0acme", "backplane-0.26.1acme")
	rpms, _ := filepath.Glob(filepath.Join(dl, "*.rpm"))
	if len(rpms) != 2 {
		t.Fatalf("dnf download fetched %v", rpms)
	}
	packtest.VerifyRPMSignatures(t, gpg.Public, rpms...)

	// A tampered signature makes dnf refuse the repository.
	asc := filepath.Join(repo, "repodata", "repomd.xml.asc")
	good, _ := os.ReadFile(asc)
	other := packtest.GPGKey(t, "other")
	otherKey, err := sign.FromSigning(&pack.Signing{KeyFile: other.Private, Passphrase: "other"})
	if err != nil {
		t.Fatal(err)
	}
	j := &Job{Key: otherKey}
	if err := signFile(j, filepath.Join(repo, "repodata", "repomd.xml"), asc); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(root, "cache"))
	r := packtest.Exec(t, "", nil, "dnf", append(dnfArgs, "repoquery", "backplane")...)
	if r.Code == 0 || !strings.Contains(r.Stderr, "GPG signature verification error") {
		t.Errorf("dnf read the repository with repomd.xml signed by another key:\n%s%s", r.Stdout, r.Stderr)
	}
	os.WriteFile(asc, good, 0o644)

	// A different rpm under a published name is refused, unless --overwrite.
	v1b := release(t, "0.26.0acme", nil) // unsigned: other bytes, same name
	err = publish(v1b, "0.26.0acme", false)
	if err == nil || !strings.Contains(err.Error(), "a different file already exists there") ||
		!strings.Contains(err.Error(), "publish target el (yum)") {
		t.Errorf("publishing a different rpm under an existing name: %v", err)
	}
	// With --overwrite it replaces the rpm, and the index describes the
	// new file (createrepo_c re-read it), still listing both versions.
	if err := publish(v1b, "0.26.0acme", true); err != nil {
		t.Fatal(err)
	}
	newSum := sha256File(t, filepath.Join(v1b, "rpm", "backplane-0.26.0acme-1.el8.x86_64.rpm"))
	j = &Job{Transport: &Transport{}}
	check := t.TempDir()
	os.MkdirAll(filepath.Join(check, "repodata"), 0o755)
	base, _ := url.Parse(srv.URL + "el/el8/x86_64/")
	listed, err := fetchYumMetadata(ctx, j, base, check)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	for _, p := range listed {
		sums[p.Location.Href] = p.Checksum.Value
	}
	if len(sums) != 2 || sums["backplane-0.26.0acme-1.el8.x86_64.rpm"] != newSum {
		t.Errorf("after --overwrite the index lists %v, want both rpms and %s for 0.26.0acme", sums, newSum)
	}
}

func sha256File(t *testing.T, name string) string {
	t.Helper()
	d, err := fileDigests(name)
	if err != nil {
		t.Fatal(err)
	}
	return d.sha256
}

// TestYumForeignRepo publishes into a repository another tool made:
// createrepo_c with xz-compressed metadata and sqlite databases. The
// older package stays listed, read by dnf with repo_gpgcheck=1.
func TestYumForeignRepo(t *testing.T) {
	packtest.Need(t, "createrepo_c", "dnf")
	ctx := context.Background()
	srv := startNginx(t)
	gpg, key := repoKey(t)
	repo := filepath.Join(srv.Root, "el8")
	os.MkdirAll(repo, 0o755)
	v1 := release(t, "0.26.0acme", &gpg)
	rpm1 := "backplane-0.26.0acme-1.el8.x86_64.rpm"
	if err := fsutil.CopyFile(filepath.Join(v1, "rpm", rpm1), filepath.Join(repo, rpm1), 0o644); err != nil {
		t.Fatal(err)
	}
	packtest.Output(t, nil, "createrepo_c", "--general-compress-type", "xz", "--database", repo)

	target := &buildspec.PublishTarget{Name: "el", Type: buildspec.PublishYum, URL: srv.URL + "el8",
		UsernameEnv: "U", PasswordEnv: "P"}
	v2 := release(t, "0.26.1acme", &gpg)
	listing := func() string {
		var names []string
		filepath.WalkDir(repo, func(p string, d os.DirEntry, err error) error {
			names = append(names, p)
			return err
		})
		return strings.Join(names, "\n")
	}
	before := listing()
	for _, dry := range []bool{true, false} {
		var log []string
		_, err := Publish(ctx, Options{
			Spec: &buildspec.Spec{File: "buildspec.yaml"}, Flavour: testFlavour(target), Dist: v2,
			Version: "0.26.1acme", Key: key, DryRun: dry, Transport: &Transport{Backoff: 1, MaxBackoff: 1},
			Logf:   func(f string, a ...any) { log = append(log, fmt.Sprintf(f, a...)); t.Logf(f, a...) },
			Getenv: func(k string) string { return map[string]string{"U": srv.User, "P": srv.Pass}[k] },
		})
		if err != nil {
			t.Fatal(err)
		}
		if dry && (listing() != before || !strings.Contains(strings.Join(log, "\n"), "would upload "+srv.URL+"el8/repodata/repomd.xml ")) {
			t.Errorf("the dry run changed the repository or did not say what it would upload:\n%s", strings.Join(log, "\n"))
		}
	}
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "acme.repo"), []byte(fmt.Sprintf(
		"[acme]\nname=acme\nbaseurl=%sel8/\ngpgcheck=1\nrepo_gpgcheck=1\nskip_if_unavailable=0\ngpgkey=file://%s\n", srv.URL, gpg.Public)), 0o644)
	out := packtest.Output(t, nil, "dnf", "-y", "-q", "--installroot", filepath.Join(root, "i"), "--releasever", "8",
		"--setopt=reposdir="+root, "--setopt=cachedir="+filepath.Join(root, "cache"), "--disableplugin=*",
		"repoquery", "--showduplicates", "--queryformat", "%{version}\n", "backplane")
	if !strings.Contains(out, "0.26.0acme") || !strings.Contains(out, "0.26.1acme") {
		t.Errorf("dnf repoquery: %q, want both versions", out)
	}
}
