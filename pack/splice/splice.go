// Package splice writes gzip streams into which large files are spliced
// already compressed, so that a file carried by several packages of one
// build — the binary in the rpm, the srpm and the deb — is compressed once.
//
// A deflate stream may be cut at any byte-aligned block boundary and
// continued with blocks from elsewhere, as long as those blocks refer to
// nothing before them. Writer therefore compresses a large file on its
// own: in blocks of 1 MiB, each deflated at level 9 with the 32 KiB before
// it as its dictionary and ended with a sync flush (pgzip's scheme, aligned
// to the file instead of the stream, so that the blocks can be computed in
// parallel). Those bytes depend on the file's bytes alone; a Cache keeps
// them, by the file's sha256, for every other stream that carries the
// file. The bytes around the files (archive headers, small files) are
// compressed inline, flushed before each spliced file and started afresh
// after it.
//
// The stream a Writer produces is a pure function of the bytes written to
// it: the same with a Cache, without one, and whichever stream computed a
// file's blocks first. It is not the stream gzip -9 writes for the same
// bytes (it is about as small: the blocks lose at most 32 KiB of history
// at each file's start).
package splice

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/klauspost/compress/flate"
)

// MinSize is the smallest file File splices; smaller files are compressed
// inline, where sharing would save less than the flushes cost.
const MinSize = 64 << 10

const (
	level     = flate.BestCompression
	blockSize = 1 << 20
	dictSize  = 32 << 10
)

// header is gzip's member header: deflate, no flags, no time, maximum
// compression, unknown OS — the header Go's gzip writes at level 9.
var header = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff}

// Writer writes one gzip member. Its methods are not safe for concurrent
// use; the Cache it shares is.
type Writer struct {
	w       io.Writer
	c       *Cache
	inline  *flate.Writer // nil until the first inline byte after a file
	crc     uint32
	n       int64 // uncompressed bytes
	started bool
	err     error
}

// NewWriter starts a gzip member on w whose large files are shared through
// c. A nil c shares nothing and writes the same bytes.
func NewWriter(w io.Writer, c *Cache) *Writer {
	return &Writer{w: w, c: c}
}

func (z *Writer) start() error {
	if !z.started {
		z.started = true
		if _, err := z.w.Write(header); err != nil {
			return err
		}
	}
	return nil
}

// Write compresses p inline.
func (z *Writer) Write(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	if z.err = z.start(); z.err != nil {
		return 0, z.err
	}
	if z.inline == nil {
		if z.inline, z.err = flate.NewWriter(z.w, level); z.err != nil {
			return 0, z.err
		}
	}
	n, err := z.inline.Write(p)
	z.crc = crc32.Update(z.crc, crc32.IEEETable, p[:n])
	z.n += int64(n)
	z.err = err
	return n, err
}

// File writes the size bytes of r as the next bytes of the stream, passes
// them to tee when it is not nil, and returns their sha256. A file of
// MinSize bytes or more is spliced in as its own blocks, compressed once
// per Cache; r is then read twice (once to hash it, once to compress it
// if no stream has yet).
func (z *Writer) File(r io.ReaderAt, size int64, tee io.Writer) (sum [32]byte, err error) {
	if z.err != nil {
		return sum, z.err
	}
	// A small file goes inline. A large one is read once first: its sum
	// names its blocks in the cache, and the same pass takes the stream's
	// CRC on.
	small := size < MinSize
	dst := io.Writer(z)
	if !small {
		dst = (*crcWriter)(&z.crc)
	}
	h := sha256.New()
	w := io.MultiWriter(dst, h)
	if tee != nil {
		w = io.MultiWriter(dst, h, tee)
	}
	if n, err := io.Copy(w, io.NewSectionReader(r, 0, size)); err != nil || n != size {
		// Part of the file is in the stream or its CRC already: the
		// stream cannot go on.
		if err == nil {
			err = fmt.Errorf("splice: read %d of %d bytes", n, size)
		}
		z.err = err
		return sum, err
	}
	h.Sum(sum[:0])
	if small {
		return sum, nil
	}
	if z.err = z.start(); z.err != nil {
		return sum, z.err
	}
	if z.inline != nil {
		// A sync flush ends the inline blocks on a byte boundary; the
		// inline compressor starts again after the file without history.
		if z.err = z.inline.Flush(); z.err != nil {
			return sum, z.err
		}
		z.inline = nil
	}
	if z.c == nil {
		z.err = compress(z.w, r, size)
	} else {
		z.err = z.c.copy(z.w, r, size, sum)
	}
	if z.err != nil {
		return sum, z.err
	}
	z.n += size
	return sum, nil
}

// Uncompressed is the number of bytes written so far, before compression.
func (z *Writer) Uncompressed() int64 { return z.n }

// Close ends the stream: the final deflate block and gzip's trailer. It
// does not close the underlying writer.
func (z *Writer) Close() error {
	if z.err != nil {
		return z.err
	}
	if z.err = z.start(); z.err != nil {
		return z.err
	}
	if z.inline == nil {
		if z.inline, z.err = flate.NewWriter(z.w, level); z.err != nil {
			return z.err
		}
	}
	if z.err = z.inline.Close(); z.err != nil {
		return z.err
	}
	var trailer [8]byte
	binary.LittleEndian.PutUint32(trailer[:4], z.crc)
	binary.LittleEndian.PutUint32(trailer[4:], uint32(z.n)) // ISIZE is mod 2^32
	_, z.err = z.w.Write(trailer[:])
	if z.err == nil {
		z.err = errors.New("splice: write after close")
		return nil
	}
	return z.err
}

// compress writes the blocks of r's size bytes to w, compressing up to one
// block per core (at most 8) at a time and writing them in order.
func compress(w io.Writer, r io.ReaderAt, size int64) error {
	nblocks := int((size + blockSize - 1) / blockSize)
	results := make([]chan block, nblocks)
	for i := range results {
		results[i] = make(chan block, 1)
	}
	slots := make(chan struct{}, min(runtime.GOMAXPROCS(0), 8))
	done := make(chan struct{})
	defer close(done)
	go func() {
		for i := range nblocks {
			select {
			case slots <- struct{}{}:
			case <-done:
				return
			}
			go func() { results[i] <- compressBlock(r, int64(i)*blockSize, size) }()
		}
	}()
	for i := range nblocks {
		b := <-results[i]
		if b.err != nil {
			return b.err
		}
		if _, err := w.Write(b.data); err != nil {
			return err
		}
		<-slots
	}
	return nil
}

type block struct {
	data []byte
	err  error
}

// compressBlock deflates the block of r at off with the 32 KiB before it
// as its dictionary, ending in a sync flush.
func compressBlock(r io.ReaderAt, off, size int64) block {
	start := max(off-dictSize, 0)
	end := min(off+blockSize, size)
	in := make([]byte, end-start)
	if _, err := r.ReadAt(in, start); err != nil && !(errors.Is(err, io.EOF) && end == size) {
		return block{err: err}
	}
	var out bytes.Buffer
	out.Grow(int(end - off))
	fw, err := flate.NewWriterDict(&out, level, in[:off-start])
	if err == nil {
		_, err = fw.Write(in[off-start:])
	}
	if err == nil {
		err = fw.Flush()
	}
	return block{data: out.Bytes(), err: err}
}

// Cache keeps each large file's compressed blocks, by the file's sha256,
// for the streams that carry the file after the first. It reads only
// what it wrote itself, and checks each copy against the digest it took
// when writing, so an entry changed on disk fails the stream rather than
// corrupting it. It is safe for concurrent use; two streams asking for the
// same file at once compress it once.
type Cache struct {
	dir string

	mu      sync.Mutex
	entries map[[32]byte]*entry
}

type entry struct {
	ready  chan struct{} // closed when path, digest and err are set
	path   string
	digest [32]byte // sha256 of the compressed blocks
	err    error
}

// NewCache keeps blocks in files under dir, which it creates if needed.
// The caller removes dir when the streams are written.
func NewCache(dir string) *Cache {
	return &Cache{dir: dir, entries: map[[32]byte]*entry{}}
}

// copy writes the blocks of the file r (size bytes, sha256 sum) to w,
// compressing them first if no stream has.
func (c *Cache) copy(w io.Writer, r io.ReaderAt, size int64, sum [32]byte) error {
	key := sha256.Sum256(binary.BigEndian.AppendUint64(sum[:], uint64(size)))
	c.mu.Lock()
	e, ok := c.entries[key]
	if !ok {
		e = &entry{ready: make(chan struct{})}
		c.entries[key] = e
	}
	c.mu.Unlock()
	if !ok {
		e.path, e.digest, e.err = c.write(r, size, hex.EncodeToString(key[:]))
		close(e.ready)
	}
	<-e.ready
	if e.err != nil {
		return e.err
	}
	f, err := os.Open(e.path)
	if err != nil {
		return fmt.Errorf("splice cache: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(w, h), f); err != nil {
		return err
	}
	if got := [32]byte(h.Sum(nil)); got != e.digest {
		return fmt.Errorf("splice cache: %s changed on disk since it was written", e.path)
	}
	return nil
}

// write compresses r into the cache file name, atomically.
func (c *Cache) write(r io.ReaderAt, size int64, name string) (path string, digest [32]byte, err error) {
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return "", digest, fmt.Errorf("splice cache: %w", err)
	}
	tmp, err := os.CreateTemp(c.dir, ".tmp-*")
	if err != nil {
		return "", digest, fmt.Errorf("splice cache: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	if err := compress(io.MultiWriter(tmp, h), r, size); err != nil {
		return "", digest, err
	}
	if err := tmp.Close(); err != nil {
		return "", digest, fmt.Errorf("splice cache: %w", err)
	}
	path = filepath.Join(c.dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", digest, fmt.Errorf("splice cache: %w", err)
	}
	return path, [32]byte(h.Sum(nil)), nil
}

// crcWriter updates a CRC-32 (IEEE) with what is written to it.
type crcWriter uint32

func (c *crcWriter) Write(p []byte) (int, error) {
	*c = crcWriter(crc32.Update(uint32(*c), crc32.IEEETable, p))
	return len(p), nil
}
