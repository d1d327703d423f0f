package deb

import (
	"bytes"
	"slices"
	"testing"
	_ "unsafe" // go:linkname, for nfpm's list of system directories

	"github.com/goreleaser/chglog"
	"github.com/goreleaser/nfpm/v2"
	nfpmdeb "github.com/goreleaser/nfpm/v2/deb"
	_ "github.com/goreleaser/nfpm/v2/files" // the package whose lists are linked below

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/internal/nfpmutil"
)

// nfpmPackage is the writer pack/deb used before it streamed: nfpm's deb
// packager, which builds data.tar.gz in memory. It stays here as the
// oracle the streaming writer is compared with, so that replacing it
// changed no package's contents.
func nfpmPackage(info *pack.Info) ([]byte, error) {
	if err := nfpmutil.Check("deb", info); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err := nfpmutil.Build("deb", info, &b, nfpmdeb.Default, func(stage string) (*nfpm.Info, error) {
		return toNFPM(info, stage)
	})
	return b.Bytes(), err
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
		sig, err := nfpmutil.Signature(info.Signing, info.MTime, true)
		if err != nil {
			return nil, err
		}
		ni.Deb.Signature = nfpm.DebSignature{PackageSignature: sig, Method: "debsign", Type: "origin"}
	}
	return ni, nil
}

// nfpm's lists of the directories whose owner stays root:root when a file
// owned by someone else is placed in them.
//
//go:linkname nfpmFSPaths github.com/goreleaser/nfpm/v2/files.fsPaths
var nfpmFSPaths []string

//go:linkname nfpmLogrotatePaths github.com/goreleaser/nfpm/v2/files.logrotatePaths
var nfpmLogrotatePaths []string

// TestSystemDirs checks that systemDirs is nfpm's list, which the owners
// of implicit directories in data.tar depend on.
func TestSystemDirs(t *testing.T) {
	want := slices.Concat(nfpmFSPaths, nfpmLogrotatePaths)
	if len(want) < 100 {
		t.Fatalf("nfpm's lists have %d entries; the linkname no longer finds them", len(want))
	}
	var got []string
	for d := range systemDirSet() {
		got = append(got, d)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		for _, d := range want {
			if !ownedBySystem(d) {
				t.Errorf("%s: in nfpm's list, not in systemDirs", d)
			}
		}
		for _, d := range got {
			if !slices.Contains(want, d) {
				t.Errorf("%s: in systemDirs, not in nfpm's list", d)
			}
		}
	}
}
