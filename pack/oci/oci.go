// Package oci writes a release's container image: one image per linux
// compile target, each its base image's layers plus one layer holding the
// binary (and a CA bundle), under one multi-platform OCI index.
//
// The result depends only on its inputs: the base image's layers (their
// compressed blobs are reused as they are), the files, the platform, the
// annotations and the release's time. The base image's own config is
// read for its environment and working directory only; its history and
// times are not copied, because an engine that re-exports the base image
// (Dagger's Container.AsTarball) rewrites them with its cache's clock.
// So the engine-less path, which pulls the base from its registry, and
// the Dagger module, which hands the tool the engine's copy, build the
// same digest.
package oci

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The annotation keys of the OCI image spec that images carry.
const (
	AnnotationVersion    = "org.opencontainers.image.version"
	AnnotationRevision   = "org.opencontainers.image.revision"
	AnnotationSource     = "org.opencontainers.image.source"
	AnnotationCreated    = "org.opencontainers.image.created"
	AnnotationTitle      = "org.opencontainers.image.title"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// BinDir is where the binary goes; the entrypoint is BinDir/Name.
const BinDir = "/usr/local/bin"

// CACertsPath is where the CA bundle goes: the path Go's crypto/x509
// and most TLS libraries read on linux.
const CACertsPath = "/etc/ssl/certs/ca-certificates.crt"

// User is the image's user: nobody, so the daemon never runs as root
// by default.
const User = "65534:65534"

// Platform is one image of the index: its platform, its base image and
// the binary built for it.
type Platform struct {
	OS, Arch, Variant string
	// Base is the base image for this platform.
	Base v1.Image
	// Binary is the executable's content.
	Binary []byte
}

func (p Platform) String() string {
	s := p.OS + "/" + p.Arch
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// Image is what every platform's image shares.
type Image struct {
	// Name is the binary's file name under BinDir.
	Name string
	// CACerts is the PEM bundle written to CACertsPath; none when empty.
	CACerts []byte
	// Created is the release's time: the layer's file times, the config's
	// created time and org.opencontainers.image.created.
	Created time.Time
	// Annotations go on each manifest and the index, and become labels.
	// Empty values are dropped.
	Annotations map[string]string
}

// Build returns the multi-platform index of the image, one manifest per
// platform in the order given.
func Build(img Image, platforms []Platform) (v1.ImageIndex, error) {
	if img.Name == "" || strings.Contains(img.Name, "/") {
		return nil, fmt.Errorf("image binary name %q: must be a file name", img.Name)
	}
	if len(platforms) == 0 {
		return nil, errors.New("image: no platforms")
	}
	ann := map[string]string{AnnotationCreated: img.Created.UTC().Format(time.RFC3339)}
	for k, v := range img.Annotations {
		if v != "" {
			ann[k] = v
		}
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	seen := map[string]bool{}
	for _, p := range platforms {
		if seen[p.String()] {
			return nil, fmt.Errorf("image: platform %s given twice", p)
		}
		seen[p.String()] = true
		im, err := platformImage(img, ann, p)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", p, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: im,
			Descriptor: v1.Descriptor{
				MediaType: types.OCIManifestSchema1,
				Platform:  &v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant},
			},
		})
	}
	return mutate.Annotations(idx, ann).(v1.ImageIndex), nil
}

func platformImage(img Image, ann map[string]string, p Platform) (v1.Image, error) {
	if p.Base == nil {
		return nil, errors.New("no base image")
	}
	bcf, err := p.Base.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("base image config: %w", err)
	}
	if bcf.OS != "" && (bcf.OS != p.OS || bcf.Architecture != p.Arch) {
		return nil, fmt.Errorf("the base image is %s/%s, not %s: it has no image for this platform", bcf.OS, bcf.Architecture, p)
	}
	baseLayers, err := p.Base.Layers()
	if err != nil {
		return nil, fmt.Errorf("base image layers: %w", err)
	}
	layer, err := binaryLayer(img, p.Binary)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: img.Created.UTC()}
	exe := path.Join(BinDir, img.Name)

	im := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	im = mutate.ConfigMediaType(im, types.OCIConfigJSON)
	var adds []mutate.Addendum
	for i, l := range baseLayers {
		mt, err := l.MediaType()
		if err != nil {
			return nil, fmt.Errorf("base layer %d: %w", i, err)
		}
		oci, err := ociLayerType(mt)
		if err != nil {
			return nil, fmt.Errorf("base layer %d: %w", i, err)
		}
		adds = append(adds, mutate.Addendum{
			Layer:     l,
			MediaType: oci,
			History:   v1.History{Created: created, CreatedBy: fmt.Sprintf("base image layer %d", i+1)},
		})
	}
	adds = append(adds, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: created, CreatedBy: "packyard: " + exe},
	})
	im, err = mutate.Append(im, adds...)
	if err != nil {
		return nil, err
	}
	cf, err := im.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Arch, p.Variant
	cf.Created = created
	// Only what the base's contents need: its environment (PATH) and
	// working directory. Its Cmd would become the binary's arguments.
	cf.Config = v1.Config{
		Env:        slices.Clone(bcf.Config.Env),
		WorkingDir: bcf.Config.WorkingDir,
		Entrypoint: []string{exe},
		User:       User,
		Labels:     ann,
	}
	im, err = mutate.ConfigFile(im, cf)
	if err != nil {
		return nil, err
	}
	return mutate.Annotations(im, ann).(v1.Image), nil
}

// ociLayerType maps a base layer's media type to its OCI name; the blob
// stays the same.
func ociLayerType(mt types.MediaType) (types.MediaType, error) {
	switch mt {
	case types.OCILayer, types.DockerLayer:
		return types.OCILayer, nil
	case types.OCILayerZStd:
		return types.OCILayerZStd, nil
	case types.OCIUncompressedLayer, types.DockerUncompressedLayer:
		return types.OCIUncompressedLayer, nil
	}
	return "", fmt.Errorf("layer media type %s is not supported", mt)
}

// binaryLayer is the image's own layer: the directories, the CA bundle
// and the binary, owned by root, timed at the release.
func binaryLayer(img Image, binary []byte) (v1.Layer, error) {
	if len(binary) == 0 {
		return nil, errors.New("empty binary")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := img.Created.UTC().Truncate(time.Second)
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: mt, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: mt, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	var dirs []string
	if len(img.CACerts) > 0 {
		dirs = append(dirs, "etc", "etc/ssl", "etc/ssl/certs")
	}
	dirs = append(dirs, "usr", "usr/local", "usr/local/bin")
	for _, d := range dirs {
		if err := dir(d); err != nil {
			return nil, err
		}
	}
	if len(img.CACerts) > 0 {
		if err := file(strings.TrimPrefix(CACertsPath, "/"), 0o644, img.CACerts); err != nil {
			return nil, err
		}
	}
	if err := file(strings.TrimPrefix(path.Join(BinDir, img.Name), "/"), 0o755, binary); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}
