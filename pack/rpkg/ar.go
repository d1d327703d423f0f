package rpkg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The ar container is written by hand: it is a tiny format (an 8-byte magic
// and 60-byte text headers), and no maintained Go library writes the GNU
// variant with a "//" long-name table in deterministic ("D") mode, which is
// what Rudder's installers and binutils expect.

const (
	arMagic      = "!<arch>\n"
	arHeaderLen  = 60
	arNameMax    = 15 // a name plus its "/" terminator must fit in 16 bytes
	arHeaderTerm = "`\n"
	arMaxSize    = 9999999999 // the largest size the header's 10 digits hold
)

// arMember is one member to write: a name and its bytes.
type arMember struct {
	Name string
	Data []byte
}

// arEntry is one member to stream into an archive. Its size goes into the
// header before the data, so it must be known up front: the writer spools
// each compressed member to a file first.
type arEntry struct {
	Name string
	Size int64
	Body io.Reader // yields exactly Size bytes
}

// checkArName rejects names that cannot round-trip through a GNU archive.
func checkArName(name string) error {
	switch {
	case name == "":
		return errors.New("empty member name")
	case strings.ContainsAny(name, "/\n\x00"):
		return fmt.Errorf("member name %q contains '/', newline or NUL", name)
	case strings.HasPrefix(name, "#1/"):
		return fmt.Errorf("member name %q would be read as a BSD long name", name)
	}
	return nil
}

// writeAr writes in-memory members to w; see writeArStream.
func writeAr(w io.Writer, members []arMember) error {
	entries := make([]arEntry, len(members))
	for i, m := range members {
		entries[i] = arEntry{Name: m.Name, Size: int64(len(m.Data)), Body: bytes.NewReader(m.Data)}
	}
	return writeArStream(w, entries)
}

// writeArStream writes members to w byte for byte as binutils `ar rcD`
// does: names end in "/", mtime, uid and gid are 0, mode is 644, odd-sized
// data is followed by one "\n", and names of 16 characters or more live in
// a "//" table placed first and are referenced as "/<offset>". Each body is
// copied with io.Copy, so a member never has to be in memory whole (and
// file to file, the kernel may copy it without passing through us).
func writeArStream(w io.Writer, members []arEntry) error {
	var table bytes.Buffer
	offsets := make([]int, len(members))
	for i, m := range members {
		if err := checkArName(m.Name); err != nil {
			return fmt.Errorf("ar: %w", err)
		}
		if m.Size < 0 || m.Size > arMaxSize {
			return fmt.Errorf("ar: member %s: size %d does not fit the 10-digit size field", m.Name, m.Size)
		}
		if len(m.Name) > arNameMax {
			offsets[i] = table.Len()
			table.WriteString(m.Name)
			table.WriteString("/\n")
		}
	}
	// The magic and the long-name table are small: one write.
	var head bytes.Buffer
	head.WriteString(arMagic)
	if table.Len() > 0 {
		// GNU ar counts the table's pad byte in its size field and leaves
		// the mtime, uid, gid and mode fields blank.
		if table.Len()%2 == 1 {
			table.WriteByte('\n')
		}
		fmt.Fprintf(&head, "%-16s%-12s%-6s%-6s%-8s%-10d%s", "//", "", "", "", "", table.Len(), arHeaderTerm)
		head.Write(table.Bytes())
	}
	if _, err := w.Write(head.Bytes()); err != nil {
		return fmt.Errorf("ar: write: %w", err)
	}
	hdr := make([]byte, 0, arHeaderLen+1)
	for i, m := range members {
		name := m.Name + "/"
		if len(m.Name) > arNameMax {
			name = "/" + strconv.Itoa(offsets[i])
		}
		hdr = fmt.Appendf(hdr[:0], "%-16s%-12d%-6d%-6d%-8s%-10d%s", name, 0, 0, 0, "644", m.Size, arHeaderTerm)
		if _, err := w.Write(hdr); err != nil {
			return fmt.Errorf("ar: write %s: %w", m.Name, err)
		}
		if _, err := io.CopyN(w, m.Body, m.Size); err != nil {
			return fmt.Errorf("ar: write %s: %w", m.Name, err)
		}
		if m.Size%2 == 1 {
			if _, err := w.Write([]byte{'\n'}); err != nil {
				return fmt.Errorf("ar: write %s: %w", m.Name, err)
			}
		}
	}
	return nil
}

// Member is one member of an ar archive as read.
type Member struct {
	Name string `json:"name"`
	// Offset is where the member's data starts in the archive (after a BSD
	// long name, if any); Size is the data's length.
	Offset int64 `json:"offset"`
	Size   int64 `json:"size"`
	// Header fields as written; `ar rcD` writes 0, 0, 0 and 0644.
	MTime int64  `json:"mtime"`
	UID   int64  `json:"uid"`
	GID   int64  `json:"gid"`
	Mode  uint32 `json:"mode"`
	// RawName is the header's name field, trimmed: "metadata/", "/18",
	// "#1/20" or a bare BSD short name.
	RawName string `json:"raw_name"`
}

// arScan reads the member list of an ar archive from r without loading any
// member's data (except the GNU long-name table). Problems that do not stop
// the walk, such as a wrong pad byte, are appended to *fs; the error return
// is for archives that cannot be walked at all.
func arScan(r io.ReaderAt, size int64, lim Limits, fs *findings) ([]Member, error) {
	magic := make([]byte, len(arMagic))
	if _, err := r.ReadAt(magic, 0); err != nil || string(magic) != arMagic {
		return nil, errors.New("not an ar archive: missing \"!<arch>\\n\" magic")
	}
	var (
		members []Member
		table   []byte
		off     = int64(len(arMagic))
		total   int64
	)
	hdr := make([]byte, arHeaderLen)
	for off < size {
		if size-off < arHeaderLen {
			// A lone trailing "\n" is the pad of a last odd-sized member
			// that some tools count separately; anything else is junk.
			return members, fmt.Errorf("truncated ar header at offset %d (%d bytes left)", off, size-off)
		}
		if _, err := r.ReadAt(hdr, off); err != nil {
			return members, fmt.Errorf("read ar header at offset %d: %w", off, err)
		}
		if string(hdr[58:60]) != arHeaderTerm {
			return members, fmt.Errorf("ar header at offset %d: bad terminator %q, want \"`\\n\"", off, hdr[58:60])
		}
		raw := strings.TrimRight(string(hdr[0:16]), " ")
		dsize, err := arField(hdr[48:58], 10)
		if err != nil {
			return members, fmt.Errorf("ar header at offset %d: size field: %w", off, err)
		}
		if dsize < 0 || dsize > size-off-arHeaderLen {
			return members, fmt.Errorf("ar header at offset %d: member size %d runs past the end of the file", off, dsize)
		}
		total += dsize
		if total > lim.MaxTotal {
			return members, fmt.Errorf("ar members exceed the %d-byte limit", lim.MaxTotal)
		}
		if len(members) >= lim.MaxMembers {
			return members, fmt.Errorf("more than %d ar members", lim.MaxMembers)
		}
		m := Member{RawName: raw, Offset: off + arHeaderLen, Size: dsize}
		m.MTime, _ = arField(hdr[16:28], 10)
		m.UID, _ = arField(hdr[28:34], 10)
		m.GID, _ = arField(hdr[34:40], 10)
		mode, _ := arField(hdr[40:48], 8)
		m.Mode = uint32(mode)

		switch {
		case raw == "/" || raw == "/SYM64/":
			// A symbol table: not a member installers look at.
			m.Name = ""
		case raw == "//":
			if table != nil {
				return members, fmt.Errorf("ar header at offset %d: second \"//\" long-name table", off)
			}
			table = make([]byte, dsize)
			if _, err := r.ReadAt(table, m.Offset); err != nil {
				return members, fmt.Errorf("read ar long-name table: %w", err)
			}
			m.Name = ""
		case strings.HasPrefix(raw, "#1/"):
			n, err := strconv.ParseInt(raw[3:], 10, 64)
			if err != nil || n < 0 || n > dsize || n > 4096 {
				return members, fmt.Errorf("ar header at offset %d: bad BSD name length %q", off, raw)
			}
			name := make([]byte, n)
			if _, err := r.ReadAt(name, m.Offset); err != nil {
				return members, fmt.Errorf("read BSD member name at offset %d: %w", m.Offset, err)
			}
			m.Name = strings.TrimRight(string(name), "\x00")
			m.Offset += n
			m.Size -= n
		case strings.HasPrefix(raw, "/"):
			i, err := strconv.Atoi(raw[1:])
			if err != nil || i < 0 || i >= len(table) {
				return members, fmt.Errorf("ar header at offset %d: long-name reference %q outside the \"//\" table", off, raw)
			}
			end := bytes.Index(table[i:], []byte("/\n"))
			if end < 0 {
				return members, fmt.Errorf("ar header at offset %d: long name at %d not terminated by \"/\\n\"", off, i)
			}
			m.Name = string(table[i : i+end])
		case strings.HasSuffix(raw, "/"):
			m.Name = strings.TrimSuffix(raw, "/")
		default:
			m.Name = raw
		}
		if m.Name != "" || raw == "" {
			if m.Name == "" {
				return members, fmt.Errorf("ar header at offset %d: empty member name", off)
			}
			members = append(members, m)
		}

		off += arHeaderLen + dsize
		if dsize%2 == 1 {
			if off >= size {
				fs.add(Warning, RulePad, m.Name, "", "no pad byte after the odd-sized last member")
				break
			}
			pad := make([]byte, 1)
			if _, err := r.ReadAt(pad, off); err != nil {
				return members, fmt.Errorf("read pad byte at offset %d: %w", off, err)
			}
			if pad[0] != '\n' {
				fs.add(Error, RulePad, m.Name, "", fmt.Sprintf("pad byte at offset %d is %#02x, want '\\n'", off, pad[0]))
			}
			off++
		}
	}
	return members, nil
}

// arField parses a space-padded decimal or octal header field; a blank
// field reads as 0.
func arField(b []byte, base int) (int64, error) {
	s := strings.TrimRight(string(b), " ")
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, base, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a base-%d number", s, base)
	}
	return v, nil
}
