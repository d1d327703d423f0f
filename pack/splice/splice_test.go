package splice

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// part is one call on a Writer: inline bytes, or a file.
type part struct {
	inline bool
	data   []byte
}

// sample is compressible, binary-like data: runs of random words from a
// small vocabulary, so that deflate finds matches across block edges.
func sample(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	words := make([][]byte, 64)
	for i := range words {
		words[i] = make([]byte, 3+r.IntN(12))
		for j := range words[i] {
			words[i][j] = byte(r.IntN(256))
		}
	}
	var b bytes.Buffer
	for b.Len() < n {
		b.Write(words[r.IntN(len(words))])
	}
	return b.Bytes()[:n]
}

// noise is incompressible: deflate stores it.
func noise(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{8}).Read(b)
	return b
}

func write(t *testing.T, c *Cache, parts []part) []byte {
	t.Helper()
	var out bytes.Buffer
	z := NewWriter(&out, c)
	for _, p := range parts {
		if p.inline {
			if _, err := z.Write(p.data); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var tee bytes.Buffer
		sum, err := z.File(bytes.NewReader(p.data), int64(len(p.data)), &tee)
		if err != nil {
			t.Fatal(err)
		}
		if sum != sha256.Sum256(p.data) {
			t.Fatalf("File's sum of %d bytes is not their sha256", len(p.data))
		}
		if !bytes.Equal(tee.Bytes(), p.data) {
			t.Fatalf("tee saw %d bytes, want the file's %d", tee.Len(), len(p.data))
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func plain(parts []part) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p.data...)
	}
	return b
}

// gunzip decompresses with Go's reader and with gzip(1), which also checks
// the CRC and length in the trailer.
func gunzip(t *testing.T, gz []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	r.Multistream(false)
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("compress/gzip: %v", err)
	}
	cmd := exec.Command("gzip", "-dc")
	cmd.Stdin = bytes.NewReader(gz)
	tool, err := cmd.Output()
	if err != nil {
		t.Fatalf("gzip -dc: %v", err)
	}
	if !bytes.Equal(tool, got) {
		t.Fatal("gzip -dc and compress/gzip disagree")
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	small, big := sample(1, 200), sample(2, 3*blockSize+12345)
	cases := []struct {
		name  string
		parts []part
	}{
		{"empty", nil},
		{"inline only", []part{{true, []byte("070701 header")}, {true, small}}},
		{"small file", []part{{false, small}}},
		{"empty file", []part{{true, []byte("h")}, {false, nil}}},
		{"just under MinSize", []part{{false, sample(3, MinSize-1)}}},
		{"MinSize", []part{{false, sample(4, MinSize)}}},
		{"one block", []part{{true, []byte("hdr")}, {false, sample(5, blockSize)}, {true, []byte("pad")}}},
		{"block and a byte", []part{{false, sample(6, blockSize+1)}}},
		{"large between headers", []part{{true, []byte("a")}, {false, big}, {true, []byte("b")}, {false, small}, {false, big}, {true, []byte("TRAILER!!!")}}},
		{"files back to back", []part{{false, big}, {false, sample(7, MinSize)}}},
		{"incompressible", []part{{false, noise(blockSize + 99)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := plain(tc.parts)
			gz := write(t, nil, tc.parts)
			if got := gunzip(t, gz); !bytes.Equal(got, want) {
				t.Fatalf("decompressed %d bytes, want %d", len(got), len(want))
			}
			cached := write(t, NewCache(t.TempDir()), tc.parts)
			if !bytes.Equal(cached, gz) {
				t.Fatal("the stream differs with a cache")
			}
		})
	}
}

// The point of the package: the second stream carrying a file copies its
// blocks, and the output is what the first stream's would be.
func TestCacheShares(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(dir)
	bin := sample(9, 2*blockSize+7)
	rpmLike := []part{{true, []byte("cpio header")}, {false, bin}, {true, []byte("TRAILER")}}
	debLike := []part{{true, []byte("tar header, another length")}, {false, sample(10, 500)}, {true, []byte("tar")}, {false, bin}}
	first := write(t, c, rpmLike)
	second := write(t, c, debLike)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("cache holds %d files, want the binary's blocks once", len(entries))
	}
	if !bytes.Equal(first, write(t, nil, rpmLike)) || !bytes.Equal(second, write(t, nil, debLike)) {
		t.Fatal("streams through a shared cache differ from streams without one")
	}
	seg, err := os.ReadFile(filepath.Join(dir, entries[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string][]byte{"first": first, "second": second} {
		if !bytes.Contains(s, seg) {
			t.Errorf("%s stream does not carry the cached blocks", name)
		}
	}
}

func TestConcurrentStreams(t *testing.T) {
	c := NewCache(t.TempDir())
	bin := sample(11, 3*blockSize)
	want := write(t, nil, []part{{true, []byte("x")}, {false, bin}})
	var wg sync.WaitGroup
	outs := make([][]byte, 6)
	for i := range outs {
		wg.Go(func() { outs[i] = write(t, c, []part{{true, []byte("x")}, {false, bin}}) })
	}
	wg.Wait()
	for i, o := range outs {
		if !bytes.Equal(o, want) {
			t.Errorf("stream %d differs", i)
		}
	}
}

// A cache entry changed after it was written fails the stream that would
// copy it; it is never shipped.
func TestCacheEntryChanged(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(dir)
	bin := sample(12, blockSize)
	write(t, c, []part{{false, bin}})
	entries, _ := os.ReadDir(dir)
	p := filepath.Join(dir, entries[0].Name())
	seg, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	seg[len(seg)/2] ^= 0xff
	if err := os.WriteFile(p, seg, 0o644); err != nil {
		t.Fatal(err)
	}
	z := NewWriter(io.Discard, c)
	_, err = z.File(bytes.NewReader(bin), int64(len(bin)), nil)
	if err == nil || !strings.Contains(err.Error(), "changed on disk") {
		t.Fatalf("File = %v, want the changed entry named", err)
	}
	if err := z.Close(); err == nil {
		t.Fatal("Close after a failed File succeeded")
	}
}

type failingReader struct{ after int64 }

func (f failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.after {
		return 0, errors.New("disk on fire")
	}
	return len(p), nil
}

// A file shorter than its size fails the stream, which would otherwise
// hold fewer bytes than the archive header around it promised.
func TestShortFile(t *testing.T) {
	for _, size := range []int64{100, MinSize + 1} {
		z := NewWriter(io.Discard, nil)
		if _, err := z.File(bytes.NewReader(make([]byte, size-1)), size, nil); err == nil || !strings.Contains(err.Error(), "read") {
			t.Fatalf("%d bytes: File = %v, want a short read", size, err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	for _, size := range []int64{100, 4 * blockSize} {
		for _, c := range []*Cache{nil, NewCache(t.TempDir())} {
			t.Run(fmt.Sprint(size, c != nil), func(t *testing.T) {
				z := NewWriter(io.Discard, c)
				if _, err := z.File(failingReader{after: size / 2}, size, nil); err == nil || !strings.Contains(err.Error(), "disk on fire") {
					t.Fatalf("File = %v, want the read error", err)
				}
				if _, err := z.Write([]byte("more")); err == nil {
					t.Fatal("Write after a failed File succeeded")
				}
			})
		}
	}
}

// The blocks cost little against gzip -9 of the same bytes: this test's
// own binary, a Go executable like the ones Packyard packages.
func TestSizeAgainstGzip(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	ours := write(t, nil, []part{{true, []byte("header")}, {false, bin}})
	var std bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&std, gzip.BestCompression)
	zw.Write([]byte("header"))
	zw.Write(bin)
	zw.Close()
	ratio := float64(len(ours)) / float64(std.Len())
	t.Logf("%d bytes in: splice %d, compress/gzip -9 %d (%.3f×)", len(bin), len(ours), std.Len(), ratio)
	if ratio > 1.01 {
		t.Fatalf("splice's stream is %.3f× compress/gzip's", ratio)
	}
}
