package checksums

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/packyard/packyard/pack/sign"
)

// makeDist writes a small release tree and returns its artifacts.
func makeDist(t *testing.T) (string, []Artifact) {
	t.Helper()
	dist := t.TempDir()
	files := map[string]string{
		"backplane-0.26.0acme.tar.gz":               "source",
		"binaries/backplane-0.26.0acme-linux-amd64": "ELF",
		"rpm/backplane-0.26.0acme-1.el8.x86_64.rpm": "rpm bytes",
		"deb/backplane_0.26.0acme-1_amd64.deb":      "deb bytes",
		"odd name/with space.txt":                   "spaces are fine",
	}
	for p, c := range files {
		full := filepath.Join(dist, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Unsorted on purpose: the output must not depend on the input order.
	return dist, []Artifact{
		{Path: "rpm/backplane-0.26.0acme-1.el8.x86_64.rpm", Stage: "package", Inputs: []string{"binaries/backplane-0.26.0acme-linux-amd64", "backplane-0.26.0acme.tar.gz"}},
		{Path: "backplane-0.26.0acme.tar.gz", Stage: "source"},
		{Path: "deb/backplane_0.26.0acme-1_amd64.deb", Stage: "package", Inputs: []string{"binaries/backplane-0.26.0acme-linux-amd64"}},
		{Path: "binaries/backplane-0.26.0acme-linux-amd64", Stage: "compile", Inputs: []string{"backplane-0.26.0acme.tar.gz"}},
		{Path: "odd name/with space.txt", Stage: "extra"},
	}
}

func TestWriteAcceptedBySha256sum(t *testing.T) {
	dist, arts := makeDist(t)
	if err := Write(dist, arts, nil); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sha256sum", "--strict", "-c", SumsFile)
	cmd.Dir = dist
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), ": OK"); n != len(arts) {
		t.Errorf("sha256sum -c checked %d files, want %d:\n%s", n, len(arts), out)
	}
	// Its lines must be exactly what sha256sum itself prints, sorted.
	sums, _ := os.ReadFile(filepath.Join(dist, SumsFile))
	lines := strings.Split(strings.TrimSuffix(string(sums), "\n"), "\n")
	for i, l := range lines {
		p := l[66:]
		gen, err := exec.Command("sha256sum", filepath.Join(dist, p)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := string(gen[:64]) + "  " + p; l != want {
			t.Errorf("line %d = %q, want %q", i, l, want)
		}
		if i > 0 && lines[i-1][66:] >= p {
			t.Errorf("lines not sorted: %q before %q", lines[i-1][66:], p)
		}
	}
	// A changed artifact must be caught.
	if err := os.WriteFile(filepath.Join(dist, "deb/backplane_0.26.0acme-1_amd64.deb"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	check := exec.Command("sha256sum", "-c", SumsFile)
	check.Dir = dist
	if err := check.Run(); err == nil {
		t.Error("sha256sum -c accepted a changed artifact")
	}
}

func TestManifest(t *testing.T) {
	dist, arts := makeDist(t)
	if err := Write(dist, arts, nil); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dist, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(raw, []byte("}\n")) {
		t.Error("manifest.json does not end with a newline")
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	if len(m.Artifacts) != len(arts) {
		t.Fatalf("%d entries, want %d", len(m.Artifacts), len(arts))
	}
	rpm := m.Artifacts[4]
	want := sha256.Sum256([]byte("rpm bytes"))
	if rpm.Path != "rpm/backplane-0.26.0acme-1.el8.x86_64.rpm" || rpm.Stage != "package" ||
		rpm.Size != int64(len("rpm bytes")) || rpm.SHA256 != hex.EncodeToString(want[:]) {
		t.Errorf("rpm entry = %+v", rpm)
	}
	if got := strings.Join(rpm.Inputs, ","); got != "backplane-0.26.0acme.tar.gz,binaries/backplane-0.26.0acme-linux-amd64" {
		t.Errorf("inputs not sorted: %s", got)
	}
	if m.Artifacts[0].Inputs == nil {
		t.Error("empty inputs must be [] not null")
	}
	// Input order must not change the bytes.
	for i, j := 0, len(arts)-1; i < j; i, j = i+1, j-1 {
		arts[i], arts[j] = arts[j], arts[i]
	}
	if err := Write(dist, arts, nil); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dist, ManifestFile))
	if !bytes.Equal(raw, again) {
		t.Error("manifest.json depends on the order of the artifacts")
	}
}

func TestWriteSigned(t *testing.T) {
	dist, arts := makeDist(t)
	e, err := openpgp.NewEntity("Release", "", "release@packyard.example", &packet.Config{RSABits: 2048})
	if err != nil {
		t.Fatal(err)
	}
	var priv bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&priv, nil); err != nil {
		t.Fatal(err)
	}
	key, err := sign.Load(&priv, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dist, arts, key); err != nil {
		t.Fatal(err)
	}
	pub := filepath.Join(t.TempDir(), "pub.asc")
	if err := key.WritePublicFile(pub); err != nil {
		t.Fatal(err)
	}
	home, err := os.MkdirTemp("", "pyg")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(home)
	if out, err := exec.Command("gpg", "--batch", "--homedir", home, "--import", pub).CombinedOutput(); err != nil {
		t.Fatalf("gpg --import: %v\n%s", err, out)
	}
	out, err := exec.Command("gpg", "--batch", "--homedir", home, "--verify",
		filepath.Join(dist, SignatureFile), filepath.Join(dist, SumsFile)).CombinedOutput()
	if err != nil {
		t.Fatalf("gpg --verify: %v\n%s", err, out)
	}
	// Unsigned again: the old signature must not survive beside new sums.
	if err := Write(dist, arts, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dist, SignatureFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale %s left behind: %v", SignatureFile, err)
	}
}

type failingSigner struct{}

func (failingSigner) DetachArmored(io.Reader, io.Writer) error { return errors.New("card removed") }

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name string
		arts []Artifact
		want string
	}{
		{"absolute", []Artifact{{Path: "/etc/passwd"}}, "relative"},
		{"escapes", []Artifact{{Path: "../x"}}, "outside dist"},
		{"dotdot", []Artifact{{Path: ".."}}, "outside dist"},
		{"unclean", []Artifact{{Path: "rpm//a.rpm"}}, "not clean"},
		{"empty", []Artifact{{Path: ""}}, "empty path"},
		{"missing", []Artifact{{Path: "nope.rpm"}}, `"nope.rpm"`},
		{"directory", []Artifact{{Path: "rpm"}}, "not a regular file"},
		{"duplicate", []Artifact{{Path: "backplane-0.26.0acme.tar.gz"}, {Path: "backplane-0.26.0acme.tar.gz"}}, "listed twice"},
		{"own output", []Artifact{{Path: SumsFile}}, "written by checksums"},
		{"newline", []Artifact{{Path: "a\nb"}}, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist, _ := makeDist(t)
			err := Write(dist, tt.arts, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write error = %v, want it to mention %s", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dist, SumsFile)); !errors.Is(err, os.ErrNotExist) {
				t.Error("a failed Write left SHA256SUMS")
			}
		})
	}
	t.Run("signer fails", func(t *testing.T) {
		dist, arts := makeDist(t)
		err := Write(dist, arts, failingSigner{})
		if err == nil || !strings.Contains(err.Error(), "card removed") {
			t.Fatalf("Write error = %v", err)
		}
		entries, _ := os.ReadDir(dist)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "SHA256SUMS") || strings.HasPrefix(e.Name(), ".tmp") || e.Name() == ManifestFile {
				t.Errorf("failed Write left %s", e.Name())
			}
		}
	})
}
