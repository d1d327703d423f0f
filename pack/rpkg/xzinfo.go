package rpkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// xzInfo is what the container-level structure of an xz file says, read
// from its headers, index and footers without decompressing (the same
// facts `xz -lvv` prints).
type xzInfo struct {
	Streams int      // number of concatenated streams
	Padding int64    // stream padding bytes
	Checks  []string // check type of each stream, e.g. "CRC64"
	Blocks  int
	Filters []string // filter chain of each block, e.g. "lzma2"
	// Dict is the largest LZMA2 dictionary a block asks for: the decoder
	// allocates that much, so a tiny file could ask for 4 GiB.
	Dict int64
}

var (
	xzHeaderMagic = []byte{0xFD, '7', 'z', 'X', 'Z', 0x00}
	xzFooterMagic = []byte{'Y', 'Z'}
)

// xzMaxIndex bounds the index read into memory; a real tarball's index is a
// few dozen bytes.
const xzMaxIndex = 1 << 20

func xzCheckName(flag byte) string {
	switch flag & 0x0F {
	case 0x00:
		return "None"
	case 0x01:
		return "CRC32"
	case 0x04:
		return "CRC64"
	case 0x0A:
		return "SHA-256"
	}
	return fmt.Sprintf("Unknown-%d", flag&0x0F)
}

func xzFilterName(id uint64) string {
	switch id {
	case 0x21:
		return "lzma2"
	case 0x03:
		return "delta"
	case 0x04:
		return "x86"
	case 0x05:
		return "powerpc"
	case 0x06:
		return "ia64"
	case 0x07:
		return "arm"
	case 0x08:
		return "armthumb"
	case 0x09:
		return "sparc"
	case 0x0A:
		return "arm64"
	}
	return fmt.Sprintf("filter-%#x", id)
}

// readXZInfo walks an xz file backwards from its last footer, stream by
// stream, as the xz format is designed to be listed.
func readXZInfo(r io.ReaderAt, size int64) (*xzInfo, error) {
	info := &xzInfo{}
	end := size
	var checks []string
	for end > 0 {
		// Stream padding: groups of four zero bytes between or after streams.
		var word [4]byte
		for end >= 4 {
			if _, err := r.ReadAt(word[:], end-4); err != nil {
				return nil, fmt.Errorf("xz: read: %w", err)
			}
			if word != [4]byte{} {
				break
			}
			info.Padding += 4
			end -= 4
		}
		if end < 24 {
			return nil, fmt.Errorf("xz: %d bytes before offset %d are too short for a stream", end, end)
		}
		var footer [12]byte
		if _, err := r.ReadAt(footer[:], end-12); err != nil {
			return nil, fmt.Errorf("xz: read footer: %w", err)
		}
		if !bytes.Equal(footer[10:12], xzFooterMagic) {
			return nil, fmt.Errorf("xz: no stream footer magic before offset %d (trailing garbage?)", end)
		}
		if crc32.ChecksumIEEE(footer[4:10]) != binary.LittleEndian.Uint32(footer[0:4]) {
			return nil, fmt.Errorf("xz: stream footer CRC32 mismatch before offset %d", end)
		}
		flags := footer[8:10]
		indexSize := (int64(binary.LittleEndian.Uint32(footer[4:8])) + 1) * 4
		if indexSize > xzMaxIndex || indexSize > end-24 {
			return nil, fmt.Errorf("xz: index size %d does not fit before offset %d", indexSize, end)
		}
		index := make([]byte, indexSize)
		indexStart := end - 12 - indexSize
		if _, err := r.ReadAt(index, indexStart); err != nil {
			return nil, fmt.Errorf("xz: read index: %w", err)
		}
		blocks, err := parseXZIndex(index)
		if err != nil {
			return nil, err
		}
		var blocksLen int64
		for _, b := range blocks {
			blocksLen += (b + 3) &^ 3
			if blocksLen < 0 || blocksLen > indexStart {
				return nil, errors.New("xz: index lists more block data than the file holds")
			}
		}
		start := indexStart - blocksLen - 12
		if start < 0 {
			return nil, errors.New("xz: index lists more block data than the file holds")
		}
		var header [12]byte
		if _, err := r.ReadAt(header[:], start); err != nil {
			return nil, fmt.Errorf("xz: read stream header: %w", err)
		}
		if !bytes.Equal(header[0:6], xzHeaderMagic) {
			return nil, fmt.Errorf("xz: no stream header at offset %d", start)
		}
		if crc32.ChecksumIEEE(header[6:8]) != binary.LittleEndian.Uint32(header[8:12]) {
			return nil, fmt.Errorf("xz: stream header CRC32 mismatch at offset %d", start)
		}
		if !bytes.Equal(header[6:8], flags) {
			return nil, fmt.Errorf("xz: stream header and footer flags differ at offset %d", start)
		}
		// Block headers, to name each block's filter chain.
		pos := start + 12
		var chains []string
		for _, b := range blocks {
			chain, dict, err := readXZBlockFilters(r, pos)
			if err != nil {
				return nil, err
			}
			info.Dict = max(info.Dict, dict)
			chains = append(chains, chain)
			pos += (b + 3) &^ 3
		}
		info.Filters = append(chains, info.Filters...)
		info.Blocks += len(blocks)
		checks = append([]string{xzCheckName(flags[1])}, checks...)
		info.Streams++
		end = start
	}
	if info.Streams == 0 {
		return nil, errors.New("xz: empty file")
	}
	info.Checks = checks
	return info, nil
}

// parseXZIndex returns the unpadded size of each block listed in an index.
func parseXZIndex(index []byte) ([]int64, error) {
	if len(index) < 8 || index[0] != 0 {
		return nil, errors.New("xz: bad index indicator")
	}
	body, sum := index[:len(index)-4], index[len(index)-4:]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(sum) {
		return nil, errors.New("xz: index CRC32 mismatch")
	}
	p := body[1:]
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)) {
		return nil, errors.New("xz: bad index record count")
	}
	p = p[k:]
	blocks := make([]int64, 0, n)
	for i := uint64(0); i < n; i++ {
		unpadded, k := binary.Uvarint(p)
		if k <= 0 || unpadded == 0 || unpadded > 1<<62 {
			return nil, errors.New("xz: bad index record")
		}
		p = p[k:]
		if _, k = binary.Uvarint(p); k <= 0 {
			return nil, errors.New("xz: bad index record")
		}
		p = p[k:]
		blocks = append(blocks, int64(unpadded))
	}
	for _, b := range p {
		if b != 0 {
			return nil, errors.New("xz: non-zero index padding")
		}
	}
	return blocks, nil
}

// readXZBlockFilters reads the block header at off, names its filter
// chain, e.g. "x86,lzma2", and returns the LZMA2 dictionary size.
func readXZBlockFilters(r io.ReaderAt, off int64) (string, int64, error) {
	var first [1]byte
	if _, err := r.ReadAt(first[:], off); err != nil {
		return "", 0, fmt.Errorf("xz: read block header: %w", err)
	}
	if first[0] == 0 {
		return "", 0, fmt.Errorf("xz: index record where a block header is expected at offset %d", off)
	}
	hsize := (int(first[0]) + 1) * 4
	h := make([]byte, hsize)
	if _, err := r.ReadAt(h, off); err != nil {
		return "", 0, fmt.Errorf("xz: read block header: %w", err)
	}
	if crc32.ChecksumIEEE(h[:hsize-4]) != binary.LittleEndian.Uint32(h[hsize-4:]) {
		return "", 0, fmt.Errorf("xz: block header CRC32 mismatch at offset %d", off)
	}
	flags := h[1]
	p := h[2 : hsize-4]
	for _, present := range []bool{flags&0x40 != 0, flags&0x80 != 0} {
		if present {
			_, k := binary.Uvarint(p)
			if k <= 0 {
				return "", 0, errors.New("xz: bad block header size field")
			}
			p = p[k:]
		}
	}
	var (
		chain []byte
		dict  int64
	)
	for i := 0; i <= int(flags&0x03); i++ {
		id, k := binary.Uvarint(p)
		if k <= 0 {
			return "", 0, errors.New("xz: bad filter id")
		}
		p = p[k:]
		plen, k := binary.Uvarint(p)
		if k <= 0 || plen > uint64(len(p)-k) {
			return "", 0, errors.New("xz: bad filter properties")
		}
		if id == 0x21 {
			if plen != 1 || p[k] > 40 {
				return "", 0, errors.New("xz: bad LZMA2 dictionary size")
			}
			b := int64(p[k])
			dict = (2 | b&1) << (b/2 + 11)
		}
		p = p[k+int(plen):]
		if i > 0 {
			chain = append(chain, ',')
		}
		chain = append(chain, xzFilterName(id)...)
	}
	return string(chain), dict, nil
}
