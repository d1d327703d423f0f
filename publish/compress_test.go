package publish

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

func TestDecompress(t *testing.T) {
	plain := []byte(`<?xml version="1.0"?><metadata><package type="rpm"><location href="a-1.rpm"/></package></metadata>`)
	var gz, xzb bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	xw, _ := xz.NewWriter(&xzb)
	xw.Write(plain)
	xw.Close()
	enc, _ := zstd.NewWriter(nil)
	zst := enc.EncodeAll(plain, nil)
	tests := []struct {
		name string
		in   []byte
	}{{"plain", plain}, {"gzip", gz.Bytes()}, {"xz", xzb.Bytes()}, {"zstd", zst}}
	for _, tt := range tests {
		got, err := decompress(tt.in)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: %q, %v", tt.name, got, err)
		}
		pkgs, err := parsePrimary(tt.in)
		if err != nil || len(pkgs) != 1 || pkgs[0].Location.Href != "a-1.rpm" {
			t.Errorf("%s: parsePrimary = %v, %v", tt.name, pkgs, err)
		}
	}
	if _, err := decompress(gz.Bytes()[:10]); err == nil {
		t.Error("a truncated gzip decompressed")
	}
	if _, err := parsePrimary([]byte(`<metadata><package><location href="../etc/passwd"/></package></metadata>`)); err == nil {
		t.Error("a package location outside the repository was accepted")
	}
}
