package oci

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// testBase is a one-layer base image of the given platform with docker
// media types (as Docker Hub serves them), a PATH and a Cmd.
func testBase(t *testing.T, arch string) v1.Image {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := []byte("#!busybox " + arch)
	tw.WriteHeader(&tar.Header{Name: "bin/sh", Mode: 0o755, Size: int64(len(body)), ModTime: time.Unix(1, 0)})
	tw.Write(body)
	tw.Close()
	data := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.DockerLayer))
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{Layer: l, History: v1.History{Created: v1.Time{Time: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", arch, v1.Time{Time: time.Now()}
	cf.Config.Env = []string{"PATH=/bin"}
	cf.Config.Cmd = []string{"sh"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func testImage() Image {
	return Image{
		Name:        "backplane",
		CACerts:     []byte("-----BEGIN CERTIFICATE-----\n"),
		Created:     time.Unix(1795943299, 0),
		Annotations: map[string]string{AnnotationVersion: "0.26.0acme", AnnotationRevision: "284da39", AnnotationSource: ""},
	}
}

func TestBuild(t *testing.T) {
	amd, arm := testBase(t, "amd64"), testBase(t, "arm64")
	platforms := []Platform{
		{OS: "linux", Arch: "amd64", Base: amd, Binary: []byte("ELF amd64")},
		{OS: "linux", Arch: "arm64", Base: arm, Binary: []byte("ELF arm64")},
	}
	idx, err := Build(testImage(), platforms)
	if err != nil {
		t.Fatal(err)
	}
	d1, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	// The same inputs, with base images whose configs carry other
	// times and history, give the same digest.
	again, err := Build(testImage(), []Platform{
		{OS: "linux", Arch: "amd64", Base: testBase(t, "amd64"), Binary: []byte("ELF amd64")},
		{OS: "linux", Arch: "arm64", Base: testBase(t, "arm64"), Binary: []byte("ELF arm64")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d2, _ := again.Digest(); d2 != d1 {
		t.Errorf("not reproducible: %s then %s", d1, d2)
	}

	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 2 {
		t.Fatalf("index: %s with %d manifests", im.MediaType, len(im.Manifests))
	}
	if im.Annotations[AnnotationVersion] != "0.26.0acme" || im.Annotations[AnnotationCreated] != "2026-11-29T09:08:19Z" {
		t.Errorf("index annotations: %v", im.Annotations)
	}
	if _, ok := im.Annotations[AnnotationSource]; ok {
		t.Errorf("empty annotation kept: %v", im.Annotations)
	}
	for i, desc := range im.Manifests {
		p := platforms[i]
		if desc.Platform == nil || desc.Platform.OS != p.OS || desc.Platform.Architecture != p.Arch {
			t.Errorf("manifest %d platform %v, want %s", i, desc.Platform, p)
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := img.Manifest()
		if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON {
			t.Errorf("%s: media types %s, %s", p, m.MediaType, m.Config.MediaType)
		}
		if m.Annotations[AnnotationRevision] != "284da39" {
			t.Errorf("%s: manifest annotations %v", p, m.Annotations)
		}
		baseLayers, _ := p.Base.Layers()
		baseDigest, _ := baseLayers[0].Digest()
		if len(m.Layers) != 2 || m.Layers[0].Digest != baseDigest || m.Layers[0].MediaType != types.OCILayer {
			t.Errorf("%s: layers %+v; want the base's blob %s as %s, then ours", p, m.Layers, baseDigest, types.OCILayer)
		}
		cf, _ := img.ConfigFile()
		if cf.Architecture != p.Arch || cf.OS != p.OS || !cf.Created.Time.Equal(time.Unix(1795943299, 0)) {
			t.Errorf("%s: config platform/created %s/%s %v", p, cf.OS, cf.Architecture, cf.Created)
		}
		if got := strings.Join(cf.Config.Entrypoint, " "); got != "/usr/local/bin/backplane" || len(cf.Config.Cmd) != 0 {
			t.Errorf("%s: entrypoint %q cmd %q", p, got, cf.Config.Cmd)
		}
		if cf.Config.User != User || strings.Join(cf.Config.Env, ",") != "PATH=/bin" || cf.Config.Labels[AnnotationVersion] != "0.26.0acme" {
			t.Errorf("%s: config %+v", p, cf.Config)
		}
		if len(cf.History) != 2 || !cf.History[0].Created.Time.Equal(time.Unix(1795943299, 0)) {
			t.Errorf("%s: history %+v", p, cf.History)
		}
		layers, _ := img.Layers()
		got := layerFiles(t, layers[1])
		want := "etc/ 755|etc/ssl/ 755|etc/ssl/certs/ 755|usr/ 755|usr/local/ 755|usr/local/bin/ 755|" +
			"etc/ssl/certs/ca-certificates.crt 644 -----BEGIN CERTIFICATE-----\n|usr/local/bin/backplane 755 ELF " + p.Arch
		if got != want {
			t.Errorf("%s: layer files\n got %q\nwant %q", p, got, want)
		}
	}
}

func layerFiles(t *testing.T, l v1.Layer) string {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	var out []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(time.Unix(1795943299, 0)) {
			t.Errorf("%s: owner %d:%d time %v", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		s := fmt.Sprintf("%s %o", h.Name, h.Mode)
		if h.Typeflag == tar.TypeReg {
			b, _ := io.ReadAll(tr)
			s += " " + string(b)
		}
		out = append(out, s)
	}
	return strings.Join(out, "|")
}

func TestBuildErrors(t *testing.T) {
	amd := testBase(t, "amd64")
	tests := []struct {
		name      string
		img       Image
		platforms []Platform
		want      string
	}{
		{"no platforms", testImage(), nil, "no platforms"},
		{"bad name", Image{Name: "a/b"}, []Platform{{OS: "linux", Arch: "amd64", Base: amd, Binary: []byte("x")}}, "must be a file name"},
		{"base of another arch", testImage(), []Platform{{OS: "linux", Arch: "arm64", Base: amd, Binary: []byte("x")}}, "the base image is linux/amd64, not linux/arm64"},
		{"twice", testImage(), []Platform{{OS: "linux", Arch: "amd64", Base: amd, Binary: []byte("x")}, {OS: "linux", Arch: "amd64", Base: amd, Binary: []byte("x")}}, "given twice"},
		{"no base", testImage(), []Platform{{OS: "linux", Arch: "amd64", Binary: []byte("x")}}, "no base image"},
		{"empty binary", testImage(), []Platform{{OS: "linux", Arch: "amd64", Base: amd}}, "empty binary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build(tt.img, tt.platforms)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
