// Package rpm writes binary RPM packages from a pack.Info with nfpm's
// pure-Go rpm packager, so that no rpmbuild is needed and two builds of
// the same Info are byte-identical.
package rpm

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/goreleaser/chglog"
	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
	nfpmrpm "github.com/goreleaser/nfpm/v2/rpm"
	"gopkg.in/yaml.v3"

	"github.com/packyard/packyard/pack"
)

// BuildHost is written in every package's BUILDHOST tag instead of the
// machine's name, which would make builds differ between hosts.
const BuildHost = "packyard"

// Packager writes .rpm files. The zero value is ready to use.
type Packager struct{}

var _ pack.Packager = Packager{}

// FileName is NAME-VERSION-RELEASE.DIST.ARCH.rpm (the dist part only when
// Info.Dist is set).
func (Packager) FileName(info *pack.Info) string {
	return fmt.Sprintf("%s-%s-%s.%s.rpm", info.Name, info.Version, release(info), info.Arch)
}

// release is the RPM Release tag: Info.Release with the dist appended,
// as %{?dist} does.
func release(info *pack.Info) string {
	r := info.Release
	if r == "" {
		r = "1"
	}
	if info.Dist != "" {
		r += "." + info.Dist
	}
	return r
}

// Package writes the RPM described by info to w.
func (Packager) Package(info *pack.Info, w io.Writer) error {
	if err := check(info); err != nil {
		return err
	}
	stage, err := os.MkdirTemp("", "packyard-rpm-")
	if err != nil {
		return fmt.Errorf("rpm %s: %w", info.Name, err)
	}
	defer os.RemoveAll(stage)

	ni, err := toNFPM(info, stage)
	if err != nil {
		return fmt.Errorf("rpm %s: %w", info.Name, err)
	}
	if err := nfpmrpm.DefaultRPM.Package(ni, w); err != nil {
		return fmt.Errorf("rpm %s: %w", info.Name, err)
	}
	return nil
}

func check(info *pack.Info) error {
	if info == nil {
		return fmt.Errorf("rpm: no package info")
	}
	for field, v := range map[string]string{"name": info.Name, "version": info.Version, "arch": info.Arch} {
		if v == "" {
			return fmt.Errorf("rpm %s: %s is empty", info.Name, field)
		}
	}
	// rpm versions and releases may not contain a dash: it separates
	// NAME-VERSION-RELEASE.
	if strings.Contains(info.Version, "-") {
		return fmt.Errorf("rpm %s: version %q contains '-', use the RPM spelling", info.Name, info.Version)
	}
	if strings.Contains(info.Release, "-") {
		return fmt.Errorf("rpm %s: release %q contains '-'", info.Name, info.Release)
	}
	if info.MTime.IsZero() {
		return fmt.Errorf("rpm %s: no MTime: every timestamp must come from the commit time", info.Name)
	}
	return nil
}

// toNFPM maps info onto nfpm's model; files with rendered Data and the
// scripts are staged under stage, as nfpm reads them from disk.
func toNFPM(info *pack.Info, stage string) (*nfpm.Info, error) {
	mtime := info.MTime.UTC()
	ni := &nfpm.Info{
		Name:            info.Name,
		Arch:            info.Arch,
		Platform:        orDefault(info.Platform, "linux"),
		Epoch:           info.Epoch,
		Version:         info.Version,
		VersionSchema:   "none", // Version is already in the RPM spelling
		Release:         release(info),
		Maintainer:      info.Maintainer,
		Description:     orDefault(info.Description, info.Summary),
		Vendor:          info.Vendor,
		Homepage:        info.Homepage,
		License:         info.License,
		DisableGlobbing: true,
		MTime:           mtime,
		Overridables: nfpm.Overridables{
			Depends:    info.Depends,
			Recommends: info.Recommends,
			Provides:   info.Provides,
			Conflicts:  info.Conflicts,
			Replaces:   info.Replaces,
			Umask:      0o022,
			RPM: nfpm.RPM{
				Summary:   info.Summary,
				Group:     info.Group,
				Packager:  info.Maintainer,
				BuildHost: BuildHost,
			},
		},
	}
	var err error
	if ni.Contents, err = stageContents(info.Contents, stage, mtime); err != nil {
		return nil, err
	}
	scripts := []struct {
		name, body string
		dst        *string
	}{
		{"pre", info.Scripts.PreInstall, &ni.Scripts.PreInstall},
		{"post", info.Scripts.PostInstall, &ni.Scripts.PostInstall},
		{"preun", info.Scripts.PreRemove, &ni.Scripts.PreRemove},
		{"postun", info.Scripts.PostRemove, &ni.Scripts.PostRemove},
		{"posttrans", info.Scripts.PostTrans, &ni.RPM.Scripts.PostTrans},
	}
	for _, s := range scripts {
		if s.body == "" {
			continue
		}
		p := filepath.Join(stage, "scripts", s.name)
		if err := writeFile(p, []byte(s.body)); err != nil {
			return nil, err
		}
		*s.dst = p
	}
	if info.ChangelogText != "" {
		if ni.Changelog, err = writeChangelog(info, stage, release(info), nil); err != nil {
			return nil, err
		}
	}
	if s := info.Signing; s != nil {
		ni.RPM.Signature.KeyFile = s.KeyFile
		ni.RPM.Signature.KeyPassphrase = s.Passphrase
		if s.KeyID != "" {
			id := s.KeyID
			ni.RPM.Signature.KeyID = &id
		}
	}
	return ni, nil
}

// stageContents maps pack contents to nfpm contents, writing rendered
// Data under stage/files. Every entry gets mtime and an owner.
func stageContents(in []pack.Content, stage string, mtime time.Time) (files.Contents, error) {
	var out files.Contents
	for i, c := range in {
		fi := &files.ContentFileInfo{
			Owner: orDefault(c.Owner, "root"),
			Group: orDefault(c.Group, "root"),
			Mode:  c.Mode,
			MTime: mtime,
		}
		nc := &files.Content{Destination: c.Destination, FileInfo: fi}
		switch c.Type {
		case pack.Dir:
			nc.Type = files.TypeDir
		case pack.Symlink:
			nc.Type = files.TypeSymlink
			nc.Source = c.Source
			fi.Mode = 0
		case pack.File, pack.Config, pack.ConfigNoReplace, "":
			nc.Type = string(c.Type)
			if c.Type == "" {
				nc.Type = files.TypeFile
			}
			nc.Source = c.Source
			if c.Data != nil {
				nc.Source = filepath.Join(stage, "files", fmt.Sprintf("%04d", i))
				if err := writeFile(nc.Source, c.Data); err != nil {
					return nil, err
				}
			}
			if nc.Source == "" {
				return nil, fmt.Errorf("%s: no source and no data", c.Destination)
			}
			st, err := os.Stat(nc.Source)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.Destination, err)
			}
			if !st.Mode().IsRegular() {
				return nil, fmt.Errorf("%s: source %s is not a regular file", c.Destination, nc.Source)
			}
			if fi.Mode == 0 {
				fi.Mode = 0o644
			}
			fi.Size = st.Size()
		default:
			return nil, fmt.Errorf("%s: unknown content type %q", c.Destination, c.Type)
		}
		out = append(out, nc)
	}
	return out, nil
}

// writeChangelog writes info's one changelog entry in chglog's YAML for
// nfpm, which formats it for the package.
func writeChangelog(info *pack.Info, stage, release string, deb *chglog.ChangelogDeb) (string, error) {
	entries := chglog.ChangeLogEntries{{
		Semver:                info.Version + "-" + release,
		Date:                  info.MTime.UTC(),
		Packager:              orDefault(info.Maintainer, "packyard"),
		ChangeLogOverridables: chglog.ChangeLogOverridables{Deb: deb},
		Changes:               chglog.ChangeLogChanges{{Note: info.ChangelogText}},
	}}
	b, err := yaml.Marshal(entries)
	if err != nil {
		return "", fmt.Errorf("changelog: %w", err)
	}
	p := filepath.Join(stage, "changelog.yml")
	return p, writeFile(p, b)
}

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
