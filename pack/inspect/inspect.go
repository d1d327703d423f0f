// Package inspect reads .rpm and .deb files in pure Go, for stage
// containers that have neither rpm nor dpkg: File reports a package's
// metadata, files and scripts, and Verify checks it against its format's
// basic rules.
//
// Nothing is ever extracted to disk: payloads are streamed, sizes are
// bounded, and entries whose paths or link targets would leave the
// package's root are refused.
package inspect

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Limits that keep a hostile or broken package from exhausting memory.
const (
	maxHeader  = 64 << 20 // one rpm header, or a deb control.tar, decompressed
	maxMember  = 1 << 20  // one control file or script
	maxEntries = 1 << 20  // files in a payload
)

// Report is what a package says about itself.
type Report struct {
	Format      string   `json:"format"` // rpm or deb
	Name        string   `json:"name"`
	Epoch       string   `json:"epoch,omitempty"`
	Version     string   `json:"version"`           // rpm Version, deb upstream version
	Release     string   `json:"release,omitempty"` // rpm Release, deb revision
	Arch        string   `json:"arch"`
	Summary     string   `json:"summary"`
	Description string   `json:"description,omitempty"`
	Maintainer  string   `json:"maintainer,omitempty"` // rpm Packager
	License     string   `json:"license,omitempty"`
	Homepage    string   `json:"homepage,omitempty"`
	Depends     []string `json:"depends"`
	Files       []Entry  `json:"files"`
	Scripts     Scripts  `json:"scripts"`
}

// Entry is one file, directory or link of a package's payload.
type Entry struct {
	Path string `json:"path"` // absolute, as installed
	Type string `json:"type"` // file, dir, symlink, hardlink or other
	// Mode is the octal unix mode with its type bits, as
	// rpm -q --qf '%{FILEMODES:octal}' prints it (100755, 40755, 120777).
	Mode      string `json:"mode"`
	Size      int64  `json:"size"`
	Owner     string `json:"owner"`
	Group     string `json:"group"`
	Config    bool   `json:"config,omitempty"`    // rpm %config, deb conffile
	NoReplace bool   `json:"noreplace,omitempty"` // rpm %config(noreplace)
	Link      string `json:"link,omitempty"`      // symlink or hard link target
}

// Scripts are the maintainer scripts, named as in pack.Scripts.
type Scripts struct {
	PreInstall  string `json:"preinstall,omitempty"`
	PostInstall string `json:"postinstall,omitempty"`
	PreRemove   string `json:"preremove,omitempty"`
	PostRemove  string `json:"postremove,omitempty"`
	PostTrans   string `json:"posttrans,omitempty"`
}

// Severity grades a Finding.
type Severity string

// Finding severities.
const (
	Error   Severity = "error"   // the package breaks its format's rules
	Warning Severity = "warning" // allowed, but likely a mistake
)

// Finding is one result of Verify.
type Finding struct {
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

func (f Finding) String() string { return string(f.Severity) + ": " + f.Message }

var (
	rpmMagic = []byte{0xed, 0xab, 0xee, 0xdb}
	arMagic  = []byte("!<arch>\n")
)

// format sniffs the file's magic number.
func format(f *os.File) (string, error) {
	magic := make([]byte, 8)
	n, err := io.ReadFull(f, magic)
	if err != nil && err != io.ErrUnexpectedEOF {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	switch {
	case n >= 4 && bytes.Equal(magic[:4], rpmMagic):
		return "rpm", nil
	case n == 8 && bytes.Equal(magic, arMagic):
		return "deb", nil
	}
	return "", fmt.Errorf("neither an rpm nor a deb (unknown magic % x)", magic[:n])
}

// File reads the package at path.
func File(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	defer f.Close()
	kind, err := format(f)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	var r *Report
	if kind == "rpm" {
		r, err = readRPM(f)
	} else {
		r, _, err = readDeb(f, false)
	}
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	return r, nil
}

// Verify checks the package at path against the basic rules of its
// format. No findings means none of the checks failed.
func Verify(path string) []Finding {
	f, err := os.Open(path)
	if err != nil {
		return []Finding{{Error, err.Error()}}
	}
	defer f.Close()
	kind, err := format(f)
	if err != nil {
		return []Finding{{Error, err.Error()}}
	}
	if kind == "rpm" {
		return verifyRPM(f)
	}
	return verifyDeb(f)
}

// entryPath turns an archive member name (./usr/bin/x, usr/bin/x/) into the
// installed absolute path, refusing names that climb out of the root.
func entryPath(name string) (string, error) {
	n := strings.TrimPrefix(name, ".")
	if !strings.HasPrefix(n, "/") {
		n = "/" + n
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", fmt.Errorf("entry %q: climbs out of the package root", name)
		}
	}
	c := path.Clean(n)
	if strings.ContainsAny(c, "\x00\n") {
		return "", fmt.Errorf("entry %q: control character in name", name)
	}
	return c, nil
}

// linkEscapes says whether a relative symlink at p pointing to target
// resolves outside the root (an absolute target is the installed system's
// own path and fine).
func linkEscapes(p, target string) bool {
	if path.IsAbs(target) {
		return false
	}
	depth := strings.Count(path.Dir(p), "/")
	if path.Dir(p) == "/" {
		depth = 0
	}
	for _, part := range strings.Split(target, "/") {
		switch part {
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		case ".", "":
		default:
			depth++
		}
	}
	return false
}

// modeString renders a unix mode as rpm's %{FILEMODES:octal}.
func modeString(m uint32) string { return fmt.Sprintf("%o", m) }

func fileType(m uint32) string {
	switch m & 0o170000 {
	case 0o100000:
		return "file"
	case 0o040000:
		return "dir"
	case 0o120000:
		return "symlink"
	}
	return "other"
}
