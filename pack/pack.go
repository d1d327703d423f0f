// Package pack holds the one metadata model that every package writer
// (rpm, deb, rpkg, tarball) consumes, and the small interface they share.
// Each format lives in its own subpackage and is testable alone.
package pack

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// ContentType says how a Content entry is installed.
type ContentType string

// The content types a template may declare.
const (
	File            ContentType = "file"             // a regular file
	Config          ContentType = "config"           // a config file: %config / conffile
	ConfigNoReplace ContentType = "config|noreplace" // %config(noreplace) / conffile
	Dir             ContentType = "dir"              // a directory owned by the package
	Symlink         ContentType = "symlink"          // Source is the link target
)

// Content is one entry of a package's payload.
type Content struct {
	Type ContentType
	// Source is the host path of the file's bytes (File, Config*), or the
	// link target (Symlink). Ignored when Data is set.
	Source string
	// Data holds rendered bytes, used instead of Source when non-nil.
	Data        []byte
	Destination string // absolute path in the installed system
	Mode        fs.FileMode
	Owner       string // default root
	Group       string // default root
}

// CheckBody says whether a file entry has its bytes: Data, or a Source
// that is a regular file (after symlinks). Writers check it before they
// start writing, so that a bad entry fails with its destination named.
func (c Content) CheckBody() error {
	switch {
	case c.Data != nil:
		return nil
	case c.Source == "":
		return fmt.Errorf("%s: no source and no data", c.Destination)
	}
	st, err := os.Stat(c.Source)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Destination, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: source %s is not a regular file", c.Destination, c.Source)
	}
	return nil
}

// Scripts are the maintainer scripts, in the target format's own terms:
// for rpm %pre/%post/%preun/%postun, for deb preinst/postinst/prerm/postrm,
// for rpkg preinst/postinst/prerm/postrm.
type Scripts struct {
	PreInstall  string
	PostInstall string
	PreRemove   string
	PostRemove  string
	// PostTrans is rpm's %posttrans; other formats ignore it.
	PostTrans string
}

// Info is everything a writer needs to produce one package file.
type Info struct {
	Name string
	// Version is already mapped for the format (see package version).
	Version  string
	Release  string
	Epoch    string
	Arch     string // in the format's spelling: x86_64 / amd64
	Platform string // linux

	Summary     string
	Description string
	Maintainer  string
	Vendor      string
	Homepage    string
	License     string
	Group       string // rpm Group tag
	Section     string // deb Section
	Priority    string // deb Priority
	Dist        string // rpm dist tag without the dot, e.g. el8

	Depends    []string
	Recommends []string
	Provides   []string
	Conflicts  []string
	Replaces   []string

	Contents []Content
	Scripts  Scripts
	// Changelog is one entry, written in the format's changelog.
	ChangelogText string

	// MTime is every timestamp in the package (SOURCE_DATE_EPOCH).
	MTime time.Time

	// Signing, when set, asks the writer to sign the package.
	Signing *Signing

	// Properties carries format-specific extras, e.g. for rpkg:
	// rudder_version, jar_files, depends_binary, content mappings.
	Properties map[string]string
}

// Packager writes one package format.
type Packager interface {
	// Package writes the package described by info to w.
	Package(info *Info, w io.Writer) error
	// FileName is the conventional file name of the package,
	// e.g. backplane-0.26.0acme-1.el8.x86_64.rpm.
	FileName(info *Info) string
}

// Signing names an OpenPGP private key for writers that sign packages.
// The key's bytes stay in a file so that they never appear in an Info
// that is printed or logged.
type Signing struct {
	KeyFile    string // armored or binary private key
	Passphrase string // never logged
	KeyID      string // optional, long hex id
}
