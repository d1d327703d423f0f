// Package rpm writes binary RPM packages from a pack.Info with nfpm's
// pure-Go rpm packager, so that no rpmbuild is needed and two builds of
// the same Info are byte-identical.
package rpm

import (
	"fmt"
	"io"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	nfpmrpm "github.com/goreleaser/nfpm/v2/rpm"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
	"github.com/packyard/packyard/pack/rpmspec"
)

// BuildHost is written in every package's BUILDHOST tag instead of the
// machine's name, which would make builds differ between hosts.
const BuildHost = "packyard"

// Packager writes .rpm files. The zero value is ready to use.
type Packager struct{}

var _ pack.Packager = Packager{}

// FileName is NAME-VERSION-RELEASE.DIST.ARCH.rpm (the dist part only when
// Info.Dist is set): the name rpmbuild gives the same package.
func (Packager) FileName(info *pack.Info) string {
	return rpmspec.FileName(info)
}

// Package writes the RPM described by info to w.
func (Packager) Package(info *pack.Info, w io.Writer) error {
	if err := check(info); err != nil {
		return err
	}
	return nfpmutil.Build("rpm", info, w, nfpmrpm.DefaultRPM, func(stage string) (*nfpm.Info, error) {
		return toNFPM(info, stage)
	})
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

// toNFPM maps info onto nfpm's model, staging files under stage.
func toNFPM(info *pack.Info, stage string) (*nfpm.Info, error) {
	// The Release tag spelled as the spec of pack/rpmspec spells it, so
	// that both builders name and version a package alike.
	release := rpmspec.Release(info)
	ni, err := nfpmutil.Map(info, stage, release)
	if err != nil {
		return nil, err
	}
	ni.Description = nfpmutil.OrDefault(info.Description, info.Summary)
	sig, err := nfpmutil.Signature(info.Signing, info.MTime, false)
	if err != nil {
		return nil, err
	}
	ni.RPM = nfpm.RPM{
		Summary:   info.Summary,
		Group:     info.Group,
		Packager:  info.Maintainer,
		BuildHost: BuildHost,
		Signature: nfpm.RPMSignature{PackageSignature: sig},
	}
	err = nfpmutil.WriteScripts(stage, []nfpmutil.Script{
		{Name: "pre", Body: info.Scripts.PreInstall, Dst: &ni.Scripts.PreInstall},
		{Name: "post", Body: info.Scripts.PostInstall, Dst: &ni.Scripts.PostInstall},
		{Name: "preun", Body: info.Scripts.PreRemove, Dst: &ni.Scripts.PreRemove},
		{Name: "postun", Body: info.Scripts.PostRemove, Dst: &ni.Scripts.PostRemove},
		{Name: "posttrans", Body: info.Scripts.PostTrans, Dst: &ni.RPM.Scripts.PostTrans},
	})
	if err != nil {
		return nil, err
	}
	if ni.Changelog, err = nfpmutil.WriteChangelog(info, stage, release, nil); err != nil {
		return nil, err
	}
	return ni, nil
}
