// Package deb writes Debian binary packages from a pack.Info with nfpm's
// pure-Go deb packager: conffiles from config contents, maintainer
// scripts, changelog.Debian.gz from Info.ChangelogText, and an optional
// debsig-style signature. Two builds of the same Info are byte-identical.
package deb

import (
	"fmt"
	"io"

	"github.com/goreleaser/chglog"
	"github.com/goreleaser/nfpm/v2"
	nfpmdeb "github.com/goreleaser/nfpm/v2/deb"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
)

// Packager writes .deb files. The zero value is ready to use.
type Packager struct{}

var _ pack.Packager = Packager{}

// FileName is NAME_VERSION-RELEASE_ARCH.deb; the epoch is not part of it,
// as in dpkg's own naming.
func (Packager) FileName(info *pack.Info) string {
	return fmt.Sprintf("%s_%s-%s_%s.deb", info.Name, info.Version, release(info), info.Arch)
}

func release(info *pack.Info) string {
	return nfpmutil.OrDefault(info.Release, "1")
}

// Package writes the deb described by info to w.
func (Packager) Package(info *pack.Info, w io.Writer) error {
	if err := nfpmutil.Check("deb", info); err != nil {
		return err
	}
	return nfpmutil.Build("deb", info, w, nfpmdeb.Default, func(stage string) (*nfpm.Info, error) {
		return toNFPM(info, stage)
	})
}

// description is the control file's Description: the summary as the
// synopsis line, then the long description.
func description(info *pack.Info) string {
	switch {
	case info.Summary == "":
		return info.Description
	case info.Description == "":
		return info.Summary
	}
	return info.Summary + "\n" + info.Description
}

// toNFPM maps info onto nfpm's model, staging files under stage.
func toNFPM(info *pack.Info, stage string) (*nfpm.Info, error) {
	ni, err := nfpmutil.Map(info, stage, release(info))
	if err != nil {
		return nil, err
	}
	ni.Description = description(info)
	ni.Section = info.Section
	ni.Priority = info.Priority
	err = nfpmutil.WriteScripts(stage, []nfpmutil.Script{
		{Name: "preinst", Body: info.Scripts.PreInstall, Dst: &ni.Scripts.PreInstall},
		{Name: "postinst", Body: info.Scripts.PostInstall, Dst: &ni.Scripts.PostInstall},
		{Name: "prerm", Body: info.Scripts.PreRemove, Dst: &ni.Scripts.PreRemove},
		{Name: "postrm", Body: info.Scripts.PostRemove, Dst: &ni.Scripts.PostRemove},
	})
	if err != nil {
		return nil, err
	}
	deb := &chglog.ChangelogDeb{Urgency: "medium", Distributions: []string{"unstable"}}
	if ni.Changelog, err = nfpmutil.WriteChangelog(info, stage, release(info), deb); err != nil {
		return nil, err
	}
	if info.Signing != nil {
		// debsign's _gpgorigin member: an armored detached signature of
		// debian-binary, control and data concatenated, which
		// debsig-verify checks (and gpg --verify, given those members).
		sig, err := nfpmutil.Signature(info.Signing, info.MTime, true)
		if err != nil {
			return nil, err
		}
		ni.Deb.Signature = nfpm.DebSignature{PackageSignature: sig, Method: "debsign", Type: "origin"}
	}
	return ni, nil
}
