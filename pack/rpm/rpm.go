// Package rpm writes binary RPM packages from a pack.Info in pure Go, so
// that no rpmbuild is needed and two builds of the same Info are
// byte-identical.
//
// The writer is Packyard's own and streams: each file is read once, into
// the gzip'd cpio payload spooled to a temporary file while its digest is
// taken, and the package is then written as lead, signature, header and
// the spooled payload. Memory does not grow with the payload. nfpm's rpm
// packager (google/rpmpack), which Packyard used before, cannot do that:
// it takes each file as a []byte and builds the compressed payload in a
// bytes.Buffer, because the header that precedes the payload carries its
// size and digests — 2.4× the payload's size in memory.
//
// The payload is compressed with pack/splice: large files (the binary) go
// in as their own level-9 blocks, which a Packager's Cache shares with the
// build's other packages (the srpm, the deb), so that the binary is
// compressed once per build rather than once per package. Apart from the
// compressed payload and what covers it (payload digest, header digests
// and signatures) the package is what nfpm v2.45.2 wrote for the same
// Info — every other tag and the uncompressed cpio archive byte for byte,
// as the oracle test checks — with one fix: the signature's PAYLOADSIZE
// is the cpio archive's size, as rpmbuild writes it, not the files' (with
// rpmpack's value rpm2cpio exited 1).
package rpm

import (
	"fmt"
	"io"
	"strings"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
	"github.com/packyard/packyard/pack/rpmspec"
	"github.com/packyard/packyard/pack/splice"
)

// BuildHost is written in every package's BUILDHOST tag instead of the
// machine's name, which would make builds differ between hosts.
const BuildHost = "packyard"

// Packager writes .rpm files. The zero value is ready to use.
type Packager struct {
	// Cache, when set, shares the compressed bytes of large files with
	// the other packages of the build that use the same Cache.
	Cache *splice.Cache
}

var _ pack.Packager = Packager{}

// FileName is NAME-VERSION-RELEASE.DIST.ARCH.rpm (the dist part only when
// Info.Dist is set): the name rpmbuild gives the same package.
func (Packager) FileName(info *pack.Info) string {
	return rpmspec.FileName(info)
}

// Package writes the RPM described by info to w.
func (p Packager) Package(info *pack.Info, w io.Writer) error {
	if err := check(info); err != nil {
		return err
	}
	if err := writePackage(info, w, p.Cache); err != nil {
		return fmt.Errorf("rpm %s: %w", info.Name, err)
	}
	return nil
}

func check(info *pack.Info) error {
	if err := nfpmutil.Check("rpm", info); err != nil {
		return err
	}
	// rpm versions and releases may not contain a dash: it separates
	// NAME-VERSION-RELEASE.
	if strings.Contains(info.Version, "-") {
		return fmt.Errorf("rpm %s: version %q contains '-', use the RPM spelling", info.Name, info.Version)
	}
	if strings.Contains(info.Release, "-") {
		return fmt.Errorf("rpm %s: release %q contains '-'", info.Name, info.Release)
	}
	return nil
}
