package rpkg

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

const (
	metadataMember = "metadata"
	scriptsMember  = "scripts.txz"
)

// Limits bound what the reader accepts, so that a hostile file cannot make
// it read or decompress without end.
type Limits struct {
	// MaxTotal bounds ar member bytes plus uncompressed tar bytes.
	MaxTotal int64
	// MaxMembers bounds the number of ar members.
	MaxMembers int
	// MaxEntries bounds the number of tar entries over all tarballs.
	MaxEntries int
	// MaxDict bounds the LZMA2 dictionary a tarball may ask the decoder
	// to allocate; xz -9 uses 64 MiB.
	MaxDict int64
}

// DefaultLimits are 1 GiB of data, 1024 members, a million entries and a
// 64 MiB dictionary.
func DefaultLimits() Limits {
	return Limits{MaxTotal: 1 << 30, MaxMembers: 1024, MaxEntries: 1 << 20, MaxDict: 64 << 20}
}

// Package is an .rpkg as read: its members, metadata and tarball listings.
type Package struct {
	// Members in archive order (the "//" table and symbol tables left out).
	Members []Member
	// Metadata is nil when the member is missing or does not parse.
	Metadata *Metadata
	// RawMetadata is the metadata member's bytes.
	RawMetadata []byte
	// Tarballs lists every *.txz member in archive order.
	Tarballs []Tarball
}

// Tarball is one *.txz member as read.
type Tarball struct {
	Name    string
	Check   string // xz check type, e.g. "CRC64"
	Entries []Entry
	// Scripts holds the bodies of preinst/postinst/prerm/postrm found in
	// scripts.txz (nil for other tarballs).
	Scripts map[string][]byte
}

// Member returns the first member of that name.
func (p *Package) Member(name string) (Member, bool) {
	for _, m := range p.Members {
		if m.Name == name {
			return m, true
		}
	}
	return Member{}, false
}

// Tarball returns the tarball member of that name.
func (p *Package) Tarball(name string) (*Tarball, bool) {
	for i := range p.Tarballs {
		if p.Tarballs[i].Name == name {
			return &p.Tarballs[i], true
		}
	}
	return nil, false
}

// Open reads an .rpkg with DefaultLimits. See OpenLimits.
func Open(r io.ReaderAt, size int64) (*Package, error) {
	return OpenLimits(r, size, DefaultLimits())
}

// OpenLimits reads an .rpkg from r without extracting anything: members in
// any order with GNU or BSD names, the metadata parsed strictly, and every
// tarball listed. It refuses files it cannot read safely: a broken
// container, missing or invalid metadata, a tarball that is not one valid
// xz stream around a tar, absolute or ".." paths, links escaping the
// destination, duplicate members, data past the limits. Problems that leave
// the file readable (a hardlink, a wrong pad byte) are Verify's to report.
func OpenLimits(r io.ReaderAt, size int64, lim Limits) (*Package, error) {
	p, fs := scan(r, size, lim)
	for _, f := range fs.list {
		if f.refuse {
			return nil, fmt.Errorf("rpkg: %s", f.String()[len(f.Severity)+2:])
		}
	}
	if p.Metadata == nil {
		return nil, errors.New("rpkg: no valid metadata")
	}
	return p, nil
}

// scan reads everything it can and records every rule violation.
func scan(r io.ReaderAt, size int64, lim Limits) (*Package, *findings) {
	fs := &findings{}
	p := &Package{}
	if lim.MaxTotal <= 0 || lim.MaxMembers <= 0 || lim.MaxEntries <= 0 || lim.MaxDict <= 0 {
		def := DefaultLimits()
		if lim.MaxDict <= 0 {
			lim.MaxDict = def.MaxDict
		}
		if lim.MaxTotal <= 0 {
			lim.MaxTotal = def.MaxTotal
		}
		if lim.MaxMembers <= 0 {
			lim.MaxMembers = def.MaxMembers
		}
		if lim.MaxEntries <= 0 {
			lim.MaxEntries = def.MaxEntries
		}
	}
	members, err := arScan(r, size, lim, fs)
	p.Members = members
	if err != nil {
		fs.refuse(RuleArchive, "", err.Error())
		if members == nil {
			return p, fs
		}
	}
	b := &budget{left: lim.MaxTotal, max: lim.MaxTotal}
	count := map[string]int{}
	for _, m := range members {
		count[m.Name]++
		if count[m.Name] == 2 {
			fs.refuse(RuleDuplicateMember, m.Name, "member appears more than once")
		}
		if strings.HasPrefix(m.RawName, "#1/") {
			fs.add(Warning, RuleMemberName, m.Name, "", fmt.Sprintf("BSD name %q; ar rcD writes GNU names", m.RawName))
		} else if m.RawName == m.Name {
			fs.add(Warning, RuleMemberName, m.Name, "", "name does not end in \"/\" as ar rcD writes it")
		}
		if m.MTime != 0 || m.UID != 0 || m.GID != 0 || m.Mode&0o7777 != 0o644 || m.Mode&^0o7777 != 0 {
			fs.add(Warning, RuleHeader, m.Name, "", fmt.Sprintf("header mtime %d, uid %d, gid %d, mode %o; ar rcD writes 0, 0, 0, 644", m.MTime, m.UID, m.GID, m.Mode))
		}
	}

	if m, ok := p.Member(metadataMember); !ok {
		fs.refuse(RuleMetadataMissing, "", "no \"metadata\" member")
	} else {
		raw, err := readAll(io.NewSectionReader(r, m.Offset, m.Size), m.Size, b)
		if err != nil {
			fs.refuse(RuleLimit, metadataMember, err.Error())
		} else {
			p.RawMetadata = raw
			md, err := ParseMetadata(raw)
			if err != nil {
				fs.refuse(RuleMetadataJSON, metadataMember, strings.TrimPrefix(err.Error(), "metadata: "))
			} else {
				p.Metadata = md
				md.check(raw, fs)
			}
		}
	}

	entries := 0
	for _, m := range members {
		if !strings.HasSuffix(m.Name, ".txz") || count[m.Name] > 1 && !first(members, m) {
			continue
		}
		t := Tarball{Name: m.Name}
		sec := io.NewSectionReader(r, m.Offset, m.Size)
		info, err := readXZInfo(sec, m.Size)
		if err != nil {
			// Never hand a stream whose layout is broken to the decoder.
			fs.refuse(RuleXZ, m.Name, err.Error())
			p.Tarballs = append(p.Tarballs, t)
			continue
		}
		t.Check = strings.Join(info.Checks, ",")
		checkXZ(m.Name, info, fs)
		if info.Dict > lim.MaxDict {
			fs.refuse(RuleLimit, m.Name, fmt.Sprintf("xz dictionary of %d bytes is past the %d-byte limit", info.Dict, lim.MaxDict))
			p.Tarballs = append(p.Tarballs, t)
			continue
		}
		t.Entries, t.Scripts, err = readTXZ(io.NewSectionReader(r, m.Offset, m.Size), m.Name, lim, b, &entries, fs)
		if err != nil {
			rule := RuleTar
			if errors.Is(err, errBudget) || strings.Contains(err.Error(), "more than") {
				rule = RuleLimit
			}
			fs.refuse(rule, m.Name, err.Error())
		}
		p.Tarballs = append(p.Tarballs, t)
	}

	if p.Metadata != nil {
		keys := map[string]bool{}
		for k := range p.Metadata.Content {
			keys[k] = true
		}
		for _, k := range sortedKeys(p.Metadata.Content) {
			if _, ok := p.Member(k); !ok {
				fs.add(Error, RuleContent, metadataMember, "content", fmt.Sprintf("content lists %s but there is no such member", k))
			}
		}
		for _, t := range p.Tarballs {
			if t.Name != scriptsMember && !keys[t.Name] {
				fs.add(Error, RuleContent, t.Name, "", "tarball is not listed in metadata content (installers fail on it)")
			}
		}
	}
	if _, ok := p.Member(scriptsMember); !ok {
		fs.add(Error, RuleScriptsMissing, "", "", "no scripts.txz member (it must be present, possibly an empty tar)")
	}
	return p, fs
}

func first(members []Member, m Member) bool {
	for _, x := range members {
		if x.Name == m.Name {
			return x.Offset == m.Offset
		}
	}
	return false
}

// checkXZ applies the container rules: one stream, nothing after it, LZMA2,
// a CRC32 or CRC64 check.
func checkXZ(member string, info *xzInfo, fs *findings) {
	if info.Streams != 1 {
		fs.add(Error, RuleXZ, member, "", fmt.Sprintf("%d xz streams, want exactly one", info.Streams))
	}
	if info.Padding != 0 {
		fs.add(Error, RuleXZ, member, "", fmt.Sprintf("%d bytes of stream padding after the xz stream", info.Padding))
	}
	for _, c := range info.Checks {
		if c != "CRC64" && c != "CRC32" {
			fs.add(Error, RuleXZ, member, "", fmt.Sprintf("xz check %s, want CRC64 or CRC32", c))
		}
	}
	for _, f := range info.Filters {
		if f != "lzma2" {
			fs.add(Error, RuleXZ, member, "", fmt.Sprintf("xz filter chain %q, want lzma2 alone", f))
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
