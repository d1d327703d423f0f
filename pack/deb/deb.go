// Package deb writes Debian binary packages from a pack.Info with nfpm's
// pure-Go deb packager: conffiles from config contents, maintainer
// scripts, changelog.Debian.gz from Info.ChangelogText, and an optional
// debsig-style signature. Two builds of the same Info are byte-identical.
package deb

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/chglog"
	"github.com/goreleaser/nfpm/v2"
	nfpmdeb "github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	"gopkg.in/yaml.v3"

	"github.com/packyard/packyard/pack"
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
	return orDefault(info.Release, "1")
}

// Package writes the deb described by info to w.
func (Packager) Package(info *pack.Info, w io.Writer) error {
	if err := check(info); err != nil {
		return err
	}
	stage, err := os.MkdirTemp("", "packyard-deb-")
	if err != nil {
		return fmt.Errorf("deb %s: %w", info.Name, err)
	}
	defer os.RemoveAll(stage)

	ni, err := toNFPM(info, stage)
	if err != nil {
		return fmt.Errorf("deb %s: %w", info.Name, err)
	}
	if err := nfpmdeb.Default.Package(ni, w); err != nil {
		return fmt.Errorf("deb %s: %w", info.Name, err)
	}
	return nil
}

func check(info *pack.Info) error {
	if info == nil {
		return fmt.Errorf("deb: no package info")
	}
	for field, v := range map[string]string{"name": info.Name, "version": info.Version, "arch": info.Arch} {
		if v == "" {
			return fmt.Errorf("deb %s: %s is empty", info.Name, field)
		}
	}
	if info.MTime.IsZero() {
		return fmt.Errorf("deb %s: no MTime: every timestamp must come from the commit time", info.Name)
	}
	return nil
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

// toNFPM maps info onto nfpm's model; files with rendered Data, the
// scripts and the changelog are staged under stage, as nfpm reads them
// from disk.
func toNFPM(info *pack.Info, stage string) (*nfpm.Info, error) {
	mtime := info.MTime.UTC()
	ni := &nfpm.Info{
		Name:            info.Name,
		Arch:            info.Arch,
		Platform:        orDefault(info.Platform, "linux"),
		Epoch:           info.Epoch,
		Version:         info.Version,
		VersionSchema:   "none", // Version is already in the Debian spelling
		Release:         release(info),
		Section:         info.Section,
		Priority:        info.Priority,
		Maintainer:      info.Maintainer,
		Description:     description(info),
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
		{"preinst", info.Scripts.PreInstall, &ni.Scripts.PreInstall},
		{"postinst", info.Scripts.PostInstall, &ni.Scripts.PostInstall},
		{"prerm", info.Scripts.PreRemove, &ni.Scripts.PreRemove},
		{"postrm", info.Scripts.PostRemove, &ni.Scripts.PostRemove},
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
		deb := &chglog.ChangelogDeb{Urgency: "medium", Distributions: []string{"unstable"}}
		if ni.Changelog, err = writeChangelog(info, stage, release(info), deb); err != nil {
			return nil, err
		}
	}
	if s := info.Signing; s != nil {
		// debsign's _gpgorigin member: an armored detached signature of
		// debian-binary, control and data concatenated, which
		// debsig-verify checks (and gpg --verify, given those members).
		ni.Deb.Signature.Method = "debsign"
		ni.Deb.Signature.Type = "origin"
		ni.Deb.Signature.KeyFile = s.KeyFile
		ni.Deb.Signature.KeyPassphrase = s.Passphrase
		if s.KeyID != "" {
			id := s.KeyID
			ni.Deb.Signature.KeyID = &id
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
