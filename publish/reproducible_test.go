package publish

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/packtest"
)

// TestIndexesReproducible publishes one signed release, with its time,
// into two empty file:// repositories of each type that writes indexes,
// more than a second apart: the two trees must be byte-identical,
// signatures included, each signature made as of the release's time, and
// a third publish into the first must change nothing. (A repository that
// already holds other releases gets other indexes, legitimately.)
func TestIndexesReproducible(t *testing.T) {
	packtest.Need(t, "createrepo_c", "dpkg-scanpackages", "apt-ftparchive")
	ctx := context.Background()
	gpg, key := repoKey(t)
	// The release's time must not predate the key, or the key's creation
	// time would be used instead; the second is whole, as in
	// SOURCE_DATE_EPOCH.
	at := time.Now().Truncate(time.Second)
	v := "0.26.0acme"
	dist := release(t, v, &gpg)
	rudderDist := rudderRelease(t, v)

	tests := []struct {
		typ, dist string
		target    buildspec.PublishTarget
		// signatures are the signed files, relative to the repository.
		signatures []string
	}{
		{buildspec.PublishYum, dist, buildspec.PublishTarget{Packages: []string{"el8_64"}},
			[]string{"repodata/repomd.xml.asc"}},
		{buildspec.PublishApt, dist, buildspec.PublishTarget{Packages: []string{"bookworm_64"}, Suite: "bookworm", Component: "main"},
			[]string{"dists/bookworm/Release.gpg", "dists/bookworm/InRelease"}},
		{buildspec.PublishRudder, rudderDist, buildspec.PublishTarget{Channel: "release"},
			[]string{"8.1/backplane/release/SHA512SUMS.asc"}},
	}
	publish := func(typ, dist, dir string, target buildspec.PublishTarget) *Report {
		t.Helper()
		target.Name, target.Type, target.URL = typ, typ, "file://"+dir
		fl := testFlavour(&target)
		fl.Packages = append(fl.Packages, &buildspec.Package{Name: "rudder", Template: "rudder/plugin",
			Properties: map[string]string{"rudder_version": "8.1.0"}})
		rep, err := Publish(ctx, Options{
			Spec: &buildspec.Spec{File: "buildspec.yaml"}, Flavour: fl, Dist: dist, Version: v, Key: key, Time: at,
			Logf: t.Logf,
		})
		if err != nil {
			t.Fatalf("publish %s to %s: %v", typ, dir, err)
		}
		return rep
	}
	first, second := map[string]string{}, map[string]string{}
	for _, tt := range tests {
		first[tt.typ] = t.TempDir()
		publish(tt.typ, tt.dist, first[tt.typ], tt.target)
	}
	// Every time of the second run differs from the first's in the
	// seconds the indexes and signatures carry.
	time.Sleep(1100 * time.Millisecond)
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			second[tt.typ] = t.TempDir()
			publish(tt.typ, tt.dist, second[tt.typ], tt.target)
			a, b := tree(t, first[tt.typ]), tree(t, second[tt.typ])
			if len(a) == 0 {
				t.Fatal("nothing published")
			}
			for name, content := range a {
				if !bytes.Equal(content, b[name]) {
					if strings.HasSuffix(name, ".gz") {
						t.Errorf("%s differs between two publishes of the same release", name)
					} else {
						t.Errorf("%s differs between two publishes of the same release:\n%s\n---\n%s", name, content, b[name])
					}
				}
			}
			for name := range b {
				if _, ok := a[name]; !ok {
					t.Errorf("%s is only in the second publish", name)
				}
			}
			for _, name := range tt.signatures {
				if got := signatureTime(t, a[name]); !got.Equal(at) {
					t.Errorf("%s is signed as of %s, want the release's time %s", name, got.UTC(), at.UTC())
				}
			}
			rep := publish(tt.typ, tt.dist, first[tt.typ], tt.target)
			if s := rep.Targets[0].Stats; s.Uploaded != 0 || s.Sent != 0 {
				t.Errorf("republishing uploaded %d files (%d bytes)", s.Uploaded, s.Sent)
			}
			for name, content := range tree(t, first[tt.typ]) {
				if !bytes.Equal(content, a[name]) {
					t.Errorf("republishing changed %s", name)
				}
			}
		})
	}
}

// tree reads every file under dir, by slash path.
func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// signatureTime is the creation time of the OpenPGP signature in an
// armored detached signature or a clear-signed message.
func signatureTime(t *testing.T, signed []byte) time.Time {
	t.Helper()
	if i := bytes.Index(signed, []byte("-----BEGIN PGP SIGNATURE-----")); i > 0 {
		signed = signed[i:]
	}
	block, err := armor.Decode(bytes.NewReader(signed))
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	p, err := packet.Read(block.Body)
	if err != nil {
		t.Fatalf("signature: %v", err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		t.Fatalf("signature: a %T, not a signature packet", p)
	}
	if strings.Contains(block.Type, "MESSAGE") {
		t.Fatalf("signature: armor type %q", block.Type)
	}
	return sig.CreationTime
}

// TestRerunReadsNoPackage publishes a release to nginx with each type
// that keeps an index, then again: the second run uploads nothing and
// downloads no package to compare it (the remote index lists it with its
// checksum, and a HEAD finds it with its size); it reads the indexes.
func TestRerunReadsNoPackage(t *testing.T) {
	packtest.Need(t, "createrepo_c", "dpkg-scanpackages", "apt-ftparchive")
	ctx := context.Background()
	srv := startNginx(t)
	counter := startFaultyProxy(t, srv.URL, 0)
	gpg, key := repoKey(t)
	dist := release(t, "0.26.0acme", &gpg)
	tests := []struct {
		typ, dist string
		target    buildspec.PublishTarget
	}{
		{buildspec.PublishHTTP, dist, buildspec.PublishTarget{URL: counter.URL + "files/{{version}}"}},
		{buildspec.PublishYum, dist, buildspec.PublishTarget{URL: counter.URL + "el/{{dist}}", Packages: []string{"el8_64"}}},
		{buildspec.PublishApt, dist, buildspec.PublishTarget{URL: counter.URL + "debian", Packages: []string{"bookworm_64"}, Suite: "bookworm", Component: "main"}},
		{buildspec.PublishRudder, rudderRelease(t, "0.26.0acme"), buildspec.PublishTarget{URL: counter.URL + "plugins", Channel: "release"}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			target := tt.target
			target.Name, target.Type, target.UsernameEnv, target.PasswordEnv = tt.typ, tt.typ, "U", "P"
			fl := testFlavour(&target)
			fl.Packages = append(fl.Packages, &buildspec.Package{Name: "rudder", Template: "rudder/plugin",
				Properties: map[string]string{"rudder_version": "8.1.0"}})
			publish := func() Stats {
				t.Helper()
				rep, err := Publish(ctx, Options{
					Spec: &buildspec.Spec{File: "buildspec.yaml"}, Flavour: fl, Dist: tt.dist, Version: "0.26.0acme", Key: key,
					Getenv:    func(k string) string { return map[string]string{"U": srv.User, "P": srv.Pass}[k] },
					Logf:      t.Logf,
					Transport: &Transport{Backoff: 1, MaxBackoff: 1},
				})
				if err != nil {
					t.Fatal(err)
				}
				return rep.Targets[0].Stats
			}
			if s := publish(); s.Uploaded == 0 || s.Sent == 0 {
				t.Fatalf("the first publish uploaded nothing: %+v", s)
			}
			n := len(counter.getsSince(0))
			s := publish()
			if s.Uploaded != 0 || s.Sent != 0 || s.Unchanged == 0 {
				t.Errorf("the rerun: %+v, want nothing uploaded and files unchanged", s)
			}
			gets := counter.getsSince(n)
			for _, p := range gets {
				if strings.HasSuffix(p, ".rpm") || strings.HasSuffix(p, ".deb") || strings.HasSuffix(p, ".rpkg") ||
					strings.HasSuffix(p, ".tar.gz") {
					t.Errorf("the rerun downloaded the package %s", p)
				}
			}
			if len(gets) == 0 {
				t.Error("the rerun read no index")
			}
		})
	}
}

// TestRerunRepairsSignatures breaks the signatures of published indexes
// the way a run that failed between uploading an index and its signature
// leaves them (missing, or the previous index's), and reruns the
// publish: the rerun, which finds every package listed, must sign the
// index again, and the next rerun upload nothing.
func TestRerunRepairsSignatures(t *testing.T) {
	packtest.Need(t, "createrepo_c", "dpkg-scanpackages", "apt-ftparchive")
	ctx := context.Background()
	gpg, key := repoKey(t)
	dist := release(t, "0.26.0acme", &gpg)
	rudderDist := rudderRelease(t, "0.26.0acme")
	stale := func(t *testing.T, dir, index, sig string, clear bool) {
		var b bytes.Buffer
		f := key.DetachArmored
		if clear {
			f = key.Clearsign
		}
		if err := f(strings.NewReader("the previous index\n"), &b); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sig), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	missing := func(t *testing.T, dir, index, sig string, clear bool) {
		if err := os.Remove(filepath.Join(dir, sig)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, typ, dist, index string
		target                 buildspec.PublishTarget
		sigs                   []string // the first detached; an InRelease is clear-signed
		breakSig               func(t *testing.T, dir, index, sig string, clear bool)
	}{
		{"yum, missing", buildspec.PublishYum, dist, "repodata/repomd.xml", buildspec.PublishTarget{Packages: []string{"el8_64"}},
			[]string{"repodata/repomd.xml.asc"}, missing},
		{"yum, stale", buildspec.PublishYum, dist, "repodata/repomd.xml", buildspec.PublishTarget{Packages: []string{"el8_64"}},
			[]string{"repodata/repomd.xml.asc"}, stale},
		{"apt, missing", buildspec.PublishApt, dist, "dists/bookworm/Release",
			buildspec.PublishTarget{Packages: []string{"bookworm_64"}, Suite: "bookworm", Component: "main"},
			[]string{"dists/bookworm/Release.gpg", "dists/bookworm/InRelease"}, missing},
		{"apt, stale", buildspec.PublishApt, dist, "dists/bookworm/Release",
			buildspec.PublishTarget{Packages: []string{"bookworm_64"}, Suite: "bookworm", Component: "main"},
			[]string{"dists/bookworm/Release.gpg", "dists/bookworm/InRelease"}, stale},
		{"rudder, stale", buildspec.PublishRudder, rudderDist, "8.1/backplane/release/SHA512SUMS",
			buildspec.PublishTarget{Channel: "release"}, []string{"8.1/backplane/release/SHA512SUMS.asc"}, stale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			target := tt.target
			target.Name, target.Type, target.URL = tt.typ, tt.typ, "file://"+dir
			fl := testFlavour(&target)
			fl.Packages = append(fl.Packages, &buildspec.Package{Name: "rudder", Template: "rudder/plugin",
				Properties: map[string]string{"rudder_version": "8.1.0"}})
			publish := func() Stats {
				t.Helper()
				rep, err := Publish(ctx, Options{Spec: &buildspec.Spec{File: "buildspec.yaml"}, Flavour: fl, Dist: tt.dist,
					Version: "0.26.0acme", Key: key, Time: time.Now(), Logf: t.Logf})
				if err != nil {
					t.Fatal(err)
				}
				return rep.Targets[0].Stats
			}
			publish()
			for _, sig := range tt.sigs {
				tt.breakSig(t, dir, tt.index, sig, strings.HasSuffix(sig, "InRelease"))
			}
			if s := publish(); s.Uploaded != len(tt.sigs) {
				t.Errorf("the rerun uploaded %d files, want the %d signatures", s.Uploaded, len(tt.sigs))
			}
			index, err := os.ReadFile(filepath.Join(dir, tt.index))
			if err != nil {
				t.Fatal(err)
			}
			for _, sig := range tt.sigs {
				b, err := os.ReadFile(filepath.Join(dir, sig))
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasSuffix(sig, "InRelease") {
					err = key.VerifyClearsigned(b, index)
				} else {
					err = key.Verify(index, b)
				}
				if err != nil {
					t.Errorf("%s after the rerun: %v", sig, err)
				}
			}
			if s := publish(); s.Uploaded != 0 {
				t.Errorf("the next rerun uploaded %d files", s.Uploaded)
			}
		})
	}
}
