package rpm

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/google/rpmpack"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
	"github.com/packyard/packyard/pack/internal/spool"
	"github.com/packyard/packyard/pack/rpmspec"
	"github.com/packyard/packyard/pack/sign"
	"github.com/packyard/packyard/pack/splice"
)

// Header tags (rpm's rpmtag.h); signature tags share the numbers' space
// with their own meanings.
const (
	tagHeaderI18NTable = 100
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagSummary         = 1004
	tagDescription     = 1005
	tagBuildTime       = 1006
	tagBuildHost       = 1007
	tagSize            = 1009
	tagVendor          = 1011
	tagLicense         = 1014
	tagPackager        = 1015
	tagGroup           = 1016
	tagURL             = 1020
	tagOS              = 1021
	tagArch            = 1022
	tagPrein           = 1023
	tagPostin          = 1024
	tagPreun           = 1025
	tagPostun          = 1026
	tagFileSizes       = 1028
	tagFileModes       = 1030
	tagFileRDevs       = 1033
	tagFileMTimes      = 1034
	tagFileDigests     = 1035
	tagFileLinkTos     = 1036
	tagFileFlags       = 1037
	tagFileUserName    = 1039
	tagFileGroupName   = 1040
	tagSourceRPM       = 1044
	tagFileVerifyFlags = 1045
	tagProvideName     = 1047
	tagRequireFlags    = 1048
	tagRequireName     = 1049
	tagRequireVersion  = 1050
	tagConflictFlags   = 1053
	tagConflictName    = 1054
	tagConflictVersion = 1055
	tagChangelogTime   = 1080
	tagChangelogName   = 1081
	tagChangelogText   = 1082
	tagPreinProg       = 1085
	tagPostinProg      = 1086
	tagPreunProg       = 1087
	tagPostunProg      = 1088
	tagObsoleteName    = 1090
	tagFileDevices     = 1095
	tagFileINodes      = 1096
	tagFileLangs       = 1097
	tagProvideFlags    = 1112
	tagProvideVersion  = 1113
	tagObsoleteFlags   = 1114
	tagObsoleteVersion = 1115
	tagDirIndexes      = 1116
	tagBaseNames       = 1117
	tagDirNames        = 1118
	tagPayloadFormat   = 1124
	tagPayloadCompress = 1125
	tagPayloadFlags    = 1126
	tagPosttrans       = 1152
	tagPosttransProg   = 1154
	tagFileDigestAlgo  = 5011
	tagRecommendName   = 5046
	tagRecommendVer    = 5047
	tagRecommendFlags  = 5048
	tagPayloadDigest   = 5092
	tagPayloadDigestAl = 5093

	sigTagRSA         = 268  // OpenPGP signature of the header
	sigTagSHA256      = 273  // hex sha256 of the header
	sigTagSize        = 1000 // header + compressed payload
	sigTagPGP         = 1002 // OpenPGP signature of header + payload
	sigTagPayloadSize = 1007

	digestSHA256 = 8 // PGPHASHALGO_SHA256
)

// archToRPM spells Go's architecture names as rpm does, for an Info
// whose Arch was not mapped yet (nfpm did the same).
var archToRPM = map[string]string{
	"all": "noarch", "amd64": "x86_64", "386": "i386", "arm64": "aarch64",
	"arm5": "armv5tel", "arm6": "armv6hl", "arm7": "armv7hl",
	"mips64le": "mips64el", "mipsle": "mipsel", "mips": "mips", "loong64": "loongarch64",
}

// writePackage writes the package: the payload to a temporary file first (its
// size and digest go into the header, which comes before it), then lead,
// signature header, header and payload to w.
func writePackage(info *pack.Info, w io.Writer, c *splice.Cache) error {
	fs, err := files(info.Contents)
	if err != nil {
		return err
	}
	signer, err := signerOf(info)
	if err != nil {
		return err
	}
	p, err := spoolPayload(fs, c)
	if err != nil {
		return err
	}
	defer p.f.Remove()
	h, err := mainHeader(info, fs, p)
	if err != nil {
		return err
	}
	return assemble(w, info, h, p, signer, false)
}

// signerOf is info's signing key, signing as of the package's time, not
// the clock's, so that the same key gives the same bytes on every run; nil
// when the package is not signed.
func signerOf(info *pack.Info) (*sign.Key, error) {
	if info.Signing == nil {
		return nil, nil
	}
	k, err := sign.FromSigning(info.Signing)
	if err != nil {
		return nil, err
	}
	return k.WithTime(info.MTime), nil
}

// assemble writes lead, signature header, header h and payload p to w.
// The signature header holds the header's sha256, the size of header and
// payload, the payload's uncompressed size and, when signer is set, the
// OpenPGP signatures of the header and of header and payload. A source
// package's also holds the header's sha1 and the md5 of header and
// payload, as rpmbuild -bs writes them; a binary rpm's keeps the set nfpm
// wrote.
func assemble(w io.Writer, info *pack.Info, h *header, p *payload, signer *sign.Key, source bool) error {
	hb, err := h.bytes()
	if err != nil {
		return err
	}
	total := int64(len(hb)) + p.size
	if total > math.MaxInt32 {
		return fmt.Errorf("header and payload are %d bytes; rpm's 32-bit size tags stop at 2 GiB", total)
	}
	s := newHeader(regionSignatures)
	sha256sum := sha256.Sum256(hb)
	s.set(sigTagSHA256, str(hex.EncodeToString(sha256sum[:])))
	s.set(sigTagSize, int32s(uint32(total)))
	s.set(sigTagPayloadSize, int32s(p.archiveSize))
	if source {
		sha1sum := sha1.Sum(hb)
		s.set(sigTagSHA1, str(hex.EncodeToString(sha1sum[:])))
	}
	if signer != nil {
		var sig bytes.Buffer
		if err := signer.Detach(bytes.NewReader(hb), &sig); err != nil {
			return err
		}
		s.set(sigTagRSA, bin(sig.Bytes()))
	}
	if signer != nil || source {
		// The md5 and the OpenPGP signature cover header and payload: one
		// pass over the spooled payload gives both.
		if err := p.f.Rewind(); err != nil {
			return err
		}
		md := md5.New()
		whole := io.TeeReader(io.MultiReader(bytes.NewReader(hb), p.f), md)
		if signer != nil {
			var sig bytes.Buffer
			if err := signer.Detach(whole, &sig); err != nil {
				return err
			}
			s.set(sigTagPGP, bin(sig.Bytes()))
		} else if _, err := io.Copy(io.Discard, whole); err != nil {
			return fmt.Errorf("payload: %w", err)
		}
		if source {
			s.set(sigTagMD5, bin(md.Sum(nil)))
		}
	}
	sb, err := s.bytes()
	if err != nil {
		return err
	}
	if err := p.f.Rewind(); err != nil {
		return err
	}
	l := lead(info.Name + "-" + info.Version + "-" + release(info))
	if source {
		l[7] = 1 // the lead's type
	}
	// The signature header is padded to 8 bytes; the main header follows.
	for _, b := range [][]byte{l, sb, make([]byte, (8-len(sb)%8)%8), hb} {
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if n, err := io.Copy(w, p.f); err != nil {
		return fmt.Errorf("payload: %w", err)
	} else if n != p.size {
		return fmt.Errorf("payload: copied %d of %d bytes", n, p.size)
	}
	return nil
}

// release is the Release tag: the Info's release and dist, spelled as
// pack/rpmspec spells them, so that both builders name a package alike.
func release(info *pack.Info) string {
	return rpmspec.Release(info)
}

// mainHeader builds the package's header, once the payload is written.
func mainHeader(info *pack.Info, fs []*file, p *payload) (*header, error) {
	h := newHeader(regionImmutable)
	rel := release(info)
	arch := info.Arch
	if a, ok := archToRPM[arch]; ok {
		arch = a
	}
	description := nfpmutil.OrDefault(info.Description, info.Summary)
	summary := nfpmutil.OrDefault(info.Summary, strings.Split(description, "\n")[0])
	h.set(tagHeaderI18NTable, str("C"))
	h.set(tagName, str(info.Name))
	h.set(tagVersion, str(info.Version))
	h.set(tagRelease, str(rel))
	if info.Epoch != "" {
		e, err := strconv.ParseUint(info.Epoch, 10, 32)
		if err != nil || e == math.MaxUint32 {
			return nil, fmt.Errorf("epoch %q is not a 32-bit unsigned number", info.Epoch)
		}
		h.set(tagEpoch, int32s(uint32(e)))
	}
	h.set(tagSummary, str(summary))
	h.set(tagDescription, str(description))
	h.set(tagBuildHost, str(BuildHost))
	h.set(tagBuildTime, int32s(uint32(info.MTime.Unix())))
	h.set(tagSize, int32s(p.filesSize))
	h.set(tagPayloadFormat, str("cpio"))
	h.set(tagPayloadCompress, str("gzip"))
	h.set(tagPayloadFlags, str("9"))
	h.set(tagArch, str(arch))
	h.set(tagOS, str(nfpmutil.OrDefault(info.Platform, "linux")))
	h.set(tagLicense, str(info.License))
	for tag, v := range map[uint32]string{
		tagVendor: info.Vendor, tagPackager: info.Maintainer, tagGroup: info.Group, tagURL: info.Homepage,
	} {
		if v != "" {
			h.set(tag, str(v))
		}
	}
	h.set(tagPayloadDigest, strs(hex.EncodeToString(p.digest)))
	h.set(tagPayloadDigestAl, int32s(digestSHA256))
	// A binary package names its source package; rpm tells binary from
	// source packages by this tag's presence.
	h.set(tagSourceRPM, str(info.Name+"-"+info.Version+"-"+rel+".src.rpm"))
	for _, s := range []struct {
		body      string
		tag, prog uint32
	}{
		{info.Scripts.PreInstall, tagPrein, tagPreinProg},
		{info.Scripts.PostInstall, tagPostin, tagPostinProg},
		{info.Scripts.PreRemove, tagPreun, tagPreunProg},
		{info.Scripts.PostRemove, tagPostun, tagPostunProg},
		{info.Scripts.PostTrans, tagPosttrans, tagPosttransProg},
	} {
		if s.body != "" {
			h.set(s.tag, str(s.body))
			h.set(s.prog, str("/bin/sh"))
		}
	}
	if len(fs) > 0 {
		fileTags(h, fs, uint32(info.MTime.Unix()))
	}
	self := info.Name + " = " + info.Version + "-" + rel
	for _, r := range []struct {
		items                []string
		name, version, flags uint32
	}{
		{append(slices.Clone(info.Provides), self), tagProvideName, tagProvideVersion, tagProvideFlags},
		{info.Replaces, tagObsoleteName, tagObsoleteVersion, tagObsoleteFlags},
		{info.Recommends, tagRecommendName, tagRecommendVer, tagRecommendFlags},
		{info.Depends, tagRequireName, tagRequireVersion, tagRequireFlags},
		{info.Conflicts, tagConflictName, tagConflictVersion, tagConflictFlags},
	} {
		if err := relations(h, r.items, r.name, r.version, r.flags); err != nil {
			return nil, err
		}
	}
	if info.ChangelogText != "" {
		h.set(tagChangelogTime, int32s(uint32(info.MTime.Unix())))
		h.set(tagChangelogName, strs(nfpmutil.OrDefault(info.Maintainer, "packyard")+" - "+info.Version+"-"+rel))
		h.set(tagChangelogText, strs(changelogText(info.ChangelogText)))
	}
	return h, nil
}

// fileTags sets the header's per-file arrays. Directories are sized 4096
// and have no digest, as rpmbuild records them. The inode, device, rdev,
// verify-flag and language arrays hold the constant values rpmpack wrote:
// rpm needs them present, not meaningful, for packages built elsewhere.
func fileTags(h *header, fs []*file, mtime uint32) {
	n := len(fs)
	var (
		base, dirs, owners, groups, digests, links, langs = make([]string, n), []string{}, make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		dirIndex                                          = map[string]uint32{}
		dirIdx, sizes, mtimes, flags, inodes, devices     = make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n), make([]uint32, n)
		algos, verify                                     = make([]uint32, n), make([]uint32, n)
		modes, rdevs                                      = make([]uint16, n), make([]uint16, n)
	)
	for i, f := range fs {
		dir, name := path.Split(f.name)
		idx, ok := dirIndex[dir]
		if !ok {
			idx = uint32(len(dirs))
			dirIndex[dir] = idx
			dirs = append(dirs, dir)
		}
		dirIdx[i], base[i] = idx, name
		owners[i], groups[i], modes[i], flags[i], mtimes[i] = f.owner, f.group, f.mode, f.flags, mtime
		switch {
		case f.isDir():
			sizes[i] = 4096
		case f.isSymlink():
			sizes[i], links[i] = uint32(len(f.linkTo)), f.linkTo
		default:
			sizes[i], digests[i] = f.size, f.digest
		}
		inodes[i], devices[i], algos[i], verify[i], rdevs[i] = uint32(i+1), 1, digestSHA256, math.MaxUint32, 1
	}
	h.set(tagBaseNames, strs(base...))
	h.set(tagDirIndexes, int32s(dirIdx...))
	h.set(tagDirNames, strs(dirs...))
	h.set(tagFileSizes, int32s(sizes...))
	h.set(tagFileModes, int16s(modes...))
	h.set(tagFileUserName, strs(owners...))
	h.set(tagFileGroupName, strs(groups...))
	h.set(tagFileMTimes, int32s(mtimes...))
	h.set(tagFileDigests, strs(digests...))
	h.set(tagFileLinkTos, strs(links...))
	h.set(tagFileFlags, int32s(flags...))
	h.set(tagFileINodes, int32s(inodes...))
	h.set(tagFileDevices, int32s(devices...))
	h.set(tagFileDigestAlgo, int32s(algos...))
	h.set(tagFileVerifyFlags, int32s(verify...))
	h.set(tagFileRDevs, int16s(rdevs...))
	h.set(tagFileLangs, strs(langs...))
}

// relations sets one kind of dependency ("name", "name >= 1.2", or a rich
// "(a or b)"), parsed as nfpm parsed it; a relation given twice is kept
// once. None leaves the tags out.
func relations(h *header, items []string, nameTag, versionTag, flagsTag uint32) error {
	var rs rpmpack.Relations
	for _, item := range items {
		if err := rs.Set(item); err != nil {
			return fmt.Errorf("relation %q: %w", item, err)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	names, versions, flags := make([]string, len(rs)), make([]string, len(rs)), make([]uint32, len(rs))
	for i, r := range rs {
		names[i], versions[i], flags[i] = r.Name, r.Version, uint32(r.Sense)
	}
	h.set(nameTag, strs(names...))
	h.set(versionTag, strs(versions...))
	h.set(flagsTag, int32s(flags...))
	return nil
}

// changelogText formats one entry's text as nfpm's rpm changelog template
// did: "- " before the first line, blank lines dropped.
func changelogText(note string) string {
	lines := strings.Split(note, "\n")
	var b strings.Builder
	b.WriteString("\n- " + lines[0])
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) != "" {
			b.WriteString("\n" + l)
		}
	}
	return strings.TrimSpace(b.String())
}

// payload is the gzip'd cpio archive of the package's files, spooled to a
// temporary file.
type payload struct {
	f         *spool.File
	size      int64  // compressed bytes
	digest    []byte // sha256 of the compressed bytes
	filesSize uint32 // the files' bytes (and symlink targets'), rpm's SIZE
	// archiveSize is the uncompressed cpio archive's, the signature's
	// PAYLOADSIZE (shown as ARCHIVESIZE), which rpm2cpio checks its
	// output against. rpmpack wrote SIZE there, and rpm2cpio exited 1 on
	// every package it wrote.
	archiveSize uint32
}

// countingHash counts and hashes what is written through it.
type countingHash struct {
	hash.Hash
	n int64
}

func (c *countingHash) Write(b []byte) (int, error) {
	c.n += int64(len(b))
	return c.Hash.Write(b)
}

// spoolPayload writes fs as a cpio archive through gzip -9 into a
// temporary file, taking each regular file's size and digest on the way.
// Large files are spliced in from c (see pack/splice), so that a binary
// this package shares with others of the build is compressed once; c may
// be nil.
func spoolPayload(fs []*file, c *splice.Cache) (*payload, error) {
	return spoolArchive("rpm", 0, c, func(arch *newc, z *splice.Writer) (uint64, error) {
		var total uint64
		for _, f := range fs {
			if err := addToPayload(arch, z, f); err != nil {
				return 0, fmt.Errorf("%s: %w", f.name, err)
			}
			if !f.isDir() {
				total += uint64(size(f))
			}
		}
		return total, nil
	})
}

// spoolArchive writes a newc cpio archive (entries' mtime as given) through
// splice's gzip -9 into a temporary file: add writes the entries and
// returns the files' bytes, rpm's SIZE. The payload of the rpm and of the
// srpm.
func spoolArchive(kind string, mtime uint32, c *splice.Cache, add func(*newc, *splice.Writer) (uint64, error)) (_ *payload, err error) {
	tmp, err := spool.Create("payload", "packyard-"+kind+"-payload-")
	if err != nil {
		return nil, err
	}
	p := &payload{f: tmp}
	defer func() {
		if err != nil {
			p.f.Remove()
		}
	}()
	sum := &countingHash{Hash: sha256.New()}
	z := splice.NewWriter(io.MultiWriter(tmp, sum), c)
	arch := &newc{w: z, mtime: mtime}
	total, err := add(arch, z)
	if err != nil {
		return nil, err
	}
	if err := arch.close(); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if err := z.Close(); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if total > math.MaxInt32 {
		return nil, fmt.Errorf("payload: %d bytes of files; rpm's 32-bit size tags stop at 2 GiB", total)
	}
	if n := z.Uncompressed(); n > math.MaxInt32 {
		return nil, fmt.Errorf("payload: %d bytes of files and cpio headers; rpm's 32-bit size tags stop at 2 GiB", n)
	}
	p.size, p.digest, p.filesSize, p.archiveSize = sum.n, sum.Sum(nil), uint32(total), uint32(z.Uncompressed())
	return p, nil
}

func size(f *file) uint32 {
	if f.isSymlink() {
		return uint32(len(f.linkTo))
	}
	return f.size
}

// addToPayload writes f's cpio entry; for a regular file it also sets
// f.size and f.digest from the bytes written.
func addToPayload(arch *newc, z *splice.Writer, f *file) error {
	mode := uint32(f.mode)
	switch {
	case f.isDir():
		return arch.header(f.name, mode, 2, 0)
	case f.isSymlink():
		if err := arch.header(f.name, mode, 1, int64(len(f.linkTo))); err != nil {
			return err
		}
		_, err := io.WriteString(z, f.linkTo)
		return err
	}
	data := f.data
	if f.source == "" && data == nil {
		data = []byte{} // an empty rendered file
	}
	body, n, closeBody, err := spool.Body(data, f.source)
	if err != nil {
		return err
	}
	defer closeBody()
	if n > math.MaxUint32 {
		return fmt.Errorf("%d bytes; rpm's 32-bit file sizes stop at 4 GiB", n)
	}
	if err := arch.header(f.name, mode, 1, n); err != nil {
		return err
	}
	sum, err := z.File(body, n, nil)
	if err != nil {
		return fmt.Errorf("reading %s: %w", f.source, err)
	}
	f.size, f.digest = uint32(n), hex.EncodeToString(sum[:])
	return nil
}
