// Command ocibase pushes a stand-in base image for publishing benchmarks
// of oci targets (packtest.StandinBase): an index with one linux image per
// platform, each a layer holding a shell (the host's busybox when it has
// one), a PATH and a CMD, as Docker Hub's bases have. It is not a working
// image for the other platforms: the layer is the same file for all.
//
// Usage:
//
//	ocibase [-platforms linux/amd64,linux/arm64] REGISTRY/REPOSITORY:TAG
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/packyard/packyard/internal/packtest"
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
	return packtest.StandinBase(shell, platforms...)
}
