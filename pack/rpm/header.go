package rpm

import (
	byteorder "encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
)

// The data types of rpm header entries (rpm's rpmTagType).
const (
	typeInt16       = 3
	typeInt32       = 4
	typeString      = 6
	typeBinary      = 7
	typeStringArray = 8
)

// The regions that close a header: the signature header and the main
// ("immutable") header.
const (
	regionSignatures = 62
	regionImmutable  = 63
)

// headerMagic starts every header structure: magic, version 1, and four
// reserved bytes.
var headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0}

// entry is one tag's value, already encoded (big-endian).
type entry struct {
	typ   uint32
	count uint32
	data  []byte
}

func int16s(v ...uint16) entry {
	b := make([]byte, 0, 2*len(v))
	for _, x := range v {
		b = byteorder.BigEndian.AppendUint16(b, x)
	}
	return entry{typeInt16, uint32(len(v)), b}
}

func int32s(v ...uint32) entry {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = byteorder.BigEndian.AppendUint32(b, x)
	}
	return entry{typeInt32, uint32(len(v)), b}
}

func str(s string) entry {
	return entry{typeString, 1, append([]byte(s), 0)}
}

// strs encodes a string array. An empty array still holds one NUL, as
// rpmpack wrote it; this writer never emits one (empty arrays are left
// out), but the encoding stays the one the oracle test compares with.
func strs(v ...string) entry {
	var b []byte
	for i, s := range v {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, s...)
	}
	return entry{typeStringArray, uint32(len(v)), append(b, 0)}
}

func bin(b []byte) entry {
	return entry{typeBinary, uint32(len(b)), b}
}

// header is one header structure (the signature or the main header),
// tag → value. Entries are written in tag order, as rpm expects.
type header struct {
	region  uint32
	entries map[uint32]entry
}

func newHeader(region uint32) *header {
	return &header{region: region, entries: map[uint32]entry{}}
}

func (h *header) set(tag uint32, e entry) { h.entries[tag] = e }

// bytes encodes the header: magic, entry count and data size, the index
// (the region tag first, then every tag in order), then the data. Integer
// values are aligned to their size inside the data, other types are not
// (some rpm versions reject either mistake). The region entry's data, at
// the end, is an index record whose offset is minus the index's size:
// that is how rpm finds where the immutable region starts.
func (h *header) bytes() ([]byte, error) {
	tags := slices.Sorted(maps.Keys(h.entries))
	n := len(tags) + 1
	var data []byte
	offsets := make([]int, len(tags))
	for i, tag := range tags {
		e := h.entries[tag]
		align := 1
		switch e.typ {
		case typeInt16:
			align = 2
		case typeInt32:
			align = 4
		}
		for len(data)%align != 0 {
			data = append(data, 0)
		}
		offsets[i] = len(data)
		data = append(data, e.data...)
	}
	if len(data)+16 > math.MaxInt32 || 16*n > math.MaxInt32 {
		return nil, fmt.Errorf("header of %d entries and %d bytes is too large", n, len(data))
	}
	data = appendRecord(data, h.region, typeBinary, uint32(int32(-16*n)), 16)

	out := make([]byte, 0, len(headerMagic)+8+16*n+len(data))
	out = append(out, headerMagic...)
	out = byteorder.BigEndian.AppendUint32(out, uint32(n))
	out = byteorder.BigEndian.AppendUint32(out, uint32(len(data)))
	out = appendRecord(out, h.region, typeBinary, uint32(len(data)-16), 16)
	for i, tag := range tags {
		e := h.entries[tag]
		out = appendRecord(out, tag, e.typ, uint32(offsets[i]), e.count)
	}
	return append(out, data...), nil
}

// appendRecord appends one 16-byte index record.
func appendRecord(b []byte, tag, typ, offset, count uint32) []byte {
	for _, v := range []uint32{tag, typ, offset, count} {
		b = byteorder.BigEndian.AppendUint32(b, v)
	}
	return b
}

// lead is the 96-byte preamble of every rpm file. rpm reads only its
// magic nowadays, but the fields are filled as rpmbuild fills them for a
// binary package: version 3.0, type binary, arch and OS 1, the NEVR name
// (cut to 65 bytes and NUL-padded) and signature type 5 (a header).
func lead(nvr string) []byte {
	b := []byte{0xed, 0xab, 0xee, 0xdb, 3, 0, 0, 0, 0, 1}
	name := make([]byte, 66)
	copy(name[:65], nvr)
	b = append(b, name...)
	b = append(b, 0, 1, 0, 5)
	return append(b, make([]byte, 16)...)
}
