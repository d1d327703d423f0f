package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestBuild(t *testing.T) {
	a, err := build([]string{"linux/amd64", "linux/arm64"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := build([]string{"linux/amd64", "linux/arm64"})
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Errorf("digests %s, %s: not reproducible", da, db)
	}
	im, _ := a.IndexManifest()
	var got []string
	for _, m := range im.Manifests {
		got = append(got, m.Platform.String())
	}
	if strings.Join(got, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("platforms %v", got)
	}
}

func TestUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage") {
		t.Errorf("exit %d, %q", code, errb.String())
	}
}
