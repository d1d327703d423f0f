// Package deb writes Debian binary packages from a pack.Info in pure Go:
// conffiles from config contents, maintainer scripts, changelog.Debian.gz
// from Info.ChangelogText, and an optional debsign-style signature. Two
// builds of the same Info are byte-identical.
//
// The writer is Packyard's own, for two reasons. It streams: each file is
// read once, into data.tar.gz spooled to a temporary file while its md5
// and the installed size are taken, and the deb is then written as
// debian-binary, control.tar.gz and the spooled data; memory does not
// grow with the payload. nfpm's deb packager, which Packyard used before,
// built data.tar.gz in a bytes.Buffer (the payload's compressed size in
// memory, and more). And it shares compression: data.tar.gz is written
// through pack/splice, so that a large file the build's other packages
// carry too (the binary, in the rpm and the srpm) is compressed once per
// build when the Packager has a Cache — the same bytes with or without
// one.
//
// debian-binary, control.tar.gz and the uncompressed data.tar are the
// bytes nfpm v2.45.2 wrote for the same Info (the oracle test compares
// them), so that the packages' contents, metadata and md5sums did not
// change with the writer; only data.tar.gz's compressed bytes (splice's
// deflate blocks instead of gzip -9's) and the signature over them
// differ. Two of nfpm's host-dependent quirks are not kept: a symlink's
// mode is always 0 (nfpm copied its target's mode when the build host had
// a file at that path), and a source that is itself a symlink is
// packaged as the file it points to (nfpm packaged the link).
package deb

import (
	"fmt"
	"io"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
	"github.com/packyard/packyard/pack/splice"
)

// Packager writes .deb files. The zero value is ready to use.
type Packager struct {
	// Cache, when set, shares the compressed bytes of large files with
	// the build's other packages that use it (see pack/splice); nil
	// shares nothing. The package's bytes are the same either way.
	Cache *splice.Cache
}

var _ pack.Packager = Packager{}

// FileName is NAME_VERSION-RELEASE_ARCH.deb; the epoch is not part of it,
// as in dpkg's own naming.
func (Packager) FileName(info *pack.Info) string {
	return fmt.Sprintf("%s_%s-%s_%s.deb", info.Name, info.Version, release(info), info.Arch)
}

// Package writes the deb described by info to w.
func (p Packager) Package(info *pack.Info, w io.Writer) error {
	if err := nfpmutil.Check("deb", info); err != nil {
		return err
	}
	if err := writePackage(info, p.Cache, w); err != nil {
		return fmt.Errorf("deb %s: %w", info.Name, err)
	}
	return nil
}
