package publish

import (
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/checksums"
	"github.com/packyard/packyard/pack/deb"
	"github.com/packyard/packyard/pack/rpm"
	"github.com/packyard/packyard/templates"
)

// binary is a small real Go program to package (see packtest.Main).
var binary string

func TestMain(m *testing.M) { packtest.Main(m, &binary) }

// testFlavour is the example's acme flavour, reduced to what publishing
// reads: its packages and their properties, and the targets.
func testFlavour(targets ...*buildspec.PublishTarget) *buildspec.Flavour {
	return &buildspec.Flavour{
		Name:    "acme",
		Product: "backplane",
		Packages: []*buildspec.Package{
			{Name: "bookworm_64", Template: "debian/generic", Binary: "64bit_linux",
				Properties: map[string]string{"dist": "bookworm", "target_arch": "amd64"}},
			{Name: "el8_64", Template: "el/el8", Binary: "64bit_linux",
				Properties: map[string]string{"dist": "el8", "target_arch": "x86_64"}},
		},
		Publish: targets,
	}
}

// release writes a dist/ as packyard build does for version v: the el8
// rpm and the bookworm deb (signed with key when it is not nil), a file
// of another stage, SHA256SUMS and manifest.json.
func release(t *testing.T, v string, key *packtest.Key) string {
	t.Helper()
	dist := t.TempDir()
	var signing *pack.Signing
	if key != nil {
		b, err := os.ReadFile(key.PassphraseFile)
		if err != nil {
			t.Fatal(err)
		}
		signing = &pack.Signing{KeyFile: key.Private, Passphrase: string(b[:len(b)-1])}
	}
	var arts []checksums.Artifact
	for _, p := range []struct {
		pkg, tmpl, format, arch, dir string
		w                            pack.Packager
	}{
		{"el8_64", "el/el8", templates.FormatRPM, "x86_64", "rpm", rpm.Packager{}},
		{"bookworm_64", "debian/generic", templates.FormatDeb, "amd64", "deb", deb.Packager{}},
	} {
		b := packtest.Backplane{Template: p.tmpl, Format: p.format, Arch: p.arch, Binary: binary}
		info := b.Render(t, v, "", map[string]string{"dist": "el8"})
		info.Signing = signing
		if err := os.MkdirAll(filepath.Join(dist, p.dir), 0o755); err != nil {
			t.Fatal(err)
		}
		f := packtest.Write(t, p.w, info, filepath.Join(dist, p.dir))
		arts = append(arts, checksums.Artifact{Path: path.Join(p.dir, filepath.Base(f)), Stage: "package/" + p.pkg})
	}
	tarball := "backplane-" + v + ".tar.gz"
	if err := os.WriteFile(filepath.Join(dist, tarball), []byte("source of "+v), 0o644); err != nil {
		t.Fatal(err)
	}
	arts = append(arts, checksums.Artifact{Path: tarball, Stage: "source"})
	if err := checksums.Write(dist, arts, nil); err != nil {
		t.Fatal(err)
	}
	return dist
}
