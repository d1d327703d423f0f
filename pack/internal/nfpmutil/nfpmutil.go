// Package nfpmutil holds what the rpm and deb writers share: the checks
// every Info must pass and, for their oracle tests, which compare each
// writer with the nfpm packager it replaced, the mapping of pack.Info onto
// nfpm's model and the temporary directory where rendered files, scripts
// and the changelog are staged (nfpm reads them from disk).
package nfpmutil

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/chglog"
	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
	"gopkg.in/yaml.v3"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/sign"
)

// Check validates the fields that every package needs; format ("rpm",
// "deb") starts each message.
func Check(format string, info *pack.Info) error {
	if info == nil {
		return fmt.Errorf("%s: no package info", format)
	}
	// In a fixed order, so that the first problem reported is the same on
	// every run.
	for _, f := range []struct{ name, value string }{
		{"name", info.Name}, {"version", info.Version}, {"arch", info.Arch},
	} {
		if f.value == "" {
			return fmt.Errorf("%s %s: %s is empty", format, info.Name, f.name)
		}
	}
	if info.MTime.IsZero() {
		return fmt.Errorf("%s %s: no MTime: every timestamp must come from the commit time", format, info.Name)
	}
	return nil
}

// Build writes one package: it makes a staging directory, lets mapInfo
// map info onto nfpm's model (staging files there), runs p and removes the
// directory. Errors start with format and the package name.
func Build(format string, info *pack.Info, w io.Writer, p nfpm.Packager, mapInfo func(stage string) (*nfpm.Info, error)) error {
	stage, err := os.MkdirTemp("", "packyard-"+format+"-")
	if err != nil {
		return fmt.Errorf("%s %s: %w", format, info.Name, err)
	}
	defer os.RemoveAll(stage)

	ni, err := mapInfo(stage)
	if err != nil {
		return fmt.Errorf("%s %s: %w", format, info.Name, err)
	}
	if err := p.Package(ni, w); err != nil {
		return fmt.Errorf("%s %s: %w", format, info.Name, err)
	}
	return nil
}

// Map returns the nfpm fields both formats share, release being the
// format's Release, with info's contents staged under stage. Version is
// taken as it is (VersionSchema none): package version has already
// spelled it for the format. The caller sets the description and its
// format's own fields.
func Map(info *pack.Info, stage, release string) (*nfpm.Info, error) {
	mtime := info.MTime.UTC()
	ni := &nfpm.Info{
		Name:            info.Name,
		Arch:            info.Arch,
		Platform:        OrDefault(info.Platform, "linux"),
		Epoch:           info.Epoch,
		Version:         info.Version,
		VersionSchema:   "none",
		Release:         release,
		Maintainer:      info.Maintainer,
		Description:     info.Description,
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
	if ni.Contents, err = contents(info.Contents, stage, mtime); err != nil {
		return nil, err
	}
	return ni, nil
}

// Script is one maintainer script to stage: Body is written to
// stage/scripts/Name and Dst, a field of nfpm.Info, set to its path.
type Script struct {
	Name string
	Body string
	Dst  *string
}

// WriteScripts stages the scripts that have a body; an empty body leaves
// the package without that script.
func WriteScripts(stage string, scripts []Script) error {
	for _, s := range scripts {
		if s.Body == "" {
			continue
		}
		p := filepath.Join(stage, "scripts", s.Name)
		if err := writeFile(p, []byte(s.Body)); err != nil {
			return fmt.Errorf("script %s: %w", s.Name, err)
		}
		*s.Dst = p
	}
	return nil
}

// WriteChangelog stages info's one changelog entry in chglog's YAML, which
// nfpm formats for the package, and returns its path; "" when info has no
// changelog text. deb carries the Debian urgency and distributions.
func WriteChangelog(info *pack.Info, stage, release string, deb *chglog.ChangelogDeb) (string, error) {
	if info.ChangelogText == "" {
		return "", nil
	}
	entries := chglog.ChangeLogEntries{{
		Semver:                info.Version + "-" + release,
		Date:                  info.MTime.UTC(),
		Packager:              OrDefault(info.Maintainer, "packyard"),
		ChangeLogOverridables: chglog.ChangeLogOverridables{Deb: deb},
		Changes:               chglog.ChangeLogChanges{{Note: info.ChangelogText}},
	}}
	b, err := yaml.Marshal(entries)
	if err != nil {
		return "", fmt.Errorf("changelog: %w", err)
	}
	p := filepath.Join(stage, "changelog.yml")
	if err := writeFile(p, b); err != nil {
		return "", fmt.Errorf("changelog: %w", err)
	}
	return p, nil
}

// Signature maps s onto nfpm's signing fields; the zero value (no
// signature) when s is nil. nfpm's own signer stamps signatures with the
// clock, so the key signs through pack/sign instead, as of at (the
// package's SOURCE_DATE_EPOCH): the same key then gives the same bytes on
// every run and on both of Packyard's paths. armored is for debsign's
// _gpgorigin; rpm headers take the binary packet.
func Signature(s *pack.Signing, at time.Time, armored bool) (nfpm.PackageSignature, error) {
	if s == nil {
		return nfpm.PackageSignature{}, nil
	}
	key, err := sign.FromSigning(s)
	if err != nil {
		return nfpm.PackageSignature{}, err
	}
	key = key.WithTime(at)
	return nfpm.PackageSignature{SignFn: func(data io.Reader) ([]byte, error) {
		var b bytes.Buffer
		detach := key.Detach
		if armored {
			detach = key.DetachArmored
		}
		if err := detach(data, &b); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}}, nil
}

// OrDefault returns s, or def when s is empty.
func OrDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// contents maps pack contents to nfpm contents, writing rendered Data
// under stage/files. Every entry gets mtime and an owner.
func contents(in []pack.Content, stage string, mtime time.Time) (files.Contents, error) {
	var out files.Contents
	for i, c := range in {
		fi := &files.ContentFileInfo{
			Owner: OrDefault(c.Owner, "root"),
			Group: OrDefault(c.Group, "root"),
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
				// Numbered, not named after the destination, so that
				// two entries never collide in the staging directory.
				nc.Source = filepath.Join(stage, "files", fmt.Sprintf("%04d", i))
				if err := writeFile(nc.Source, c.Data); err != nil {
					return nil, fmt.Errorf("%s: %w", c.Destination, err)
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

func writeFile(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}
