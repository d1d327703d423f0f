package rpm

import (
	"bytes"

	"github.com/goreleaser/nfpm/v2"
	nfpmrpm "github.com/goreleaser/nfpm/v2/rpm"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
	"github.com/packyard/packyard/pack/rpmspec"
)

// nfpmPackage is the writer pack/rpm used before it streamed: nfpm's rpm
// packager (google/rpmpack), which holds every file and the compressed
// payload in memory. It stays here as the oracle the streaming writer is
// compared with byte for byte, so that replacing it changed no package.
func nfpmPackage(info *pack.Info) ([]byte, error) {
	if err := check(info); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err := nfpmutil.Build("rpm", info, &b, nfpmrpm.DefaultRPM, func(stage string) (*nfpm.Info, error) {
		return toNFPM(info, stage)
	})
	return b.Bytes(), err
}

// toNFPM maps info onto nfpm's model, staging files under stage.
func toNFPM(info *pack.Info, stage string) (*nfpm.Info, error) {
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
