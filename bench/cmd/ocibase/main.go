// Command ocibase pushes a stand-in base image for publishing benchmarks
// and tests of oci targets: an OCI index with one linux image per
// platform, each a layer holding a shell (the host's busybox when it has
// one), a PATH and a CMD, as Docker Hub's bases have. It is not a working
// image for the other platforms: the layer is the same file for all.
//
// Usage:
//
//	ocibase [-platforms linux/amd64,linux/arm64] REGISTRY/REPOSITORY:TAG
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ocibase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	platforms := fs.String("platforms", "linux/amd64,linux/arm64", "the index's platforms, comma-separated")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: ocibase [-platforms P,...] REGISTRY/REPOSITORY:TAG")
		return 2
	}
	ref, err := name.ParseReference(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "ocibase: %v\n", err)
		return 2
	}
	idx, err := build(strings.Split(*platforms, ","))
	if err != nil {
		fmt.Fprintf(stderr, "ocibase: %v\n", err)
		return 1
	}
	if err := remote.WriteIndex(ref, idx); err != nil {
		fmt.Fprintf(stderr, "ocibase: push %s: %v\n", ref, err)
		return 1
	}
	d, _ := idx.Digest()
	fmt.Fprintf(stdout, "%s@%s\n", ref, d)
	return 0
}

// build makes the index; its digest is the same on every run.
func build(platforms []string) (v1.ImageIndex, error) {
	shell, err := os.ReadFile("/bin/busybox")
	if err != nil {
		shell = []byte("#!/bin/false\n")
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "bin/sh", Mode: 0o755, Size: int64(len(shell)), ModTime: time.Unix(0, 0)}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(shell); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range platforms {
		plat, err := v1.ParsePlatform(p)
		if err != nil {
			return nil, err
		}
		img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
		cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		cf.Config.Cmd = []string{"sh"}
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: plat}})
	}
	return idx, nil
}
