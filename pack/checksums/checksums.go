// Package checksums writes a release's SHA256SUMS (in sha256sum's format),
// its manifest.json and, given a signer, SHA256SUMS.asc.
package checksums

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// The files Write produces, in dist.
const (
	SumsFile      = "SHA256SUMS"
	SignatureFile = "SHA256SUMS.asc"
	ManifestFile  = "manifest.json"
)

// Artifact is one file of a release.
type Artifact struct {
	// Path is relative to dist, slash-separated, e.g. rpm/x-1-1.el8.x86_64.rpm.
	Path string
	// Stage is the pipeline stage that produced it (source, compile, package…).
	Stage string
	// Inputs name what it was made from (other artifacts' paths, the spec).
	Inputs []string
	// Sum, when set, gives the file's sha256 (hex) and size, already
	// known to the caller, instead of reading the file again.
	Sum func() (sha256 string, size int64, err error)
}

// Signer makes an armored detached signature; *sign.Key is one.
type Signer interface {
	DetachArmored(data io.Reader, out io.Writer) error
}

// Entry is one artifact in manifest.json.
type Entry struct {
	Path   string   `json:"path"`
	SHA256 string   `json:"sha256"`
	Size   int64    `json:"size"`
	Stage  string   `json:"stage"`
	Inputs []string `json:"inputs"`
}

// Manifest is the content of manifest.json.
type Manifest struct {
	Artifacts []Entry `json:"artifacts"`
}

// Write hashes every artifact under dist and writes SHA256SUMS and
// manifest.json, plus SHA256SUMS.asc when signer is not nil. Entries are
// sorted by path so that the same artifacts give the same bytes. Each file
// is replaced atomically; a stale SHA256SUMS.asc is removed when no signer
// is given, since it would no longer match.
func Write(dist string, artifacts []Artifact, signer Signer) error {
	m, err := Build(dist, artifacts)
	if err != nil {
		return err
	}
	sums := m.Sums()
	manifest, err := m.JSON()
	if err != nil {
		return err
	}
	// Sign before writing anything, so that a failing signer leaves the
	// previous release files as they were.
	var sig bytes.Buffer
	if signer != nil {
		if err := signer.DetachArmored(bytes.NewReader(sums), &sig); err != nil {
			return fmt.Errorf("checksums: sign %s: %w", SumsFile, err)
		}
	}
	if err := writeAtomic(filepath.Join(dist, SumsFile), sums); err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(dist, ManifestFile), manifest); err != nil {
		return err
	}
	asc := filepath.Join(dist, SignatureFile)
	if signer == nil {
		if err := os.Remove(asc); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("checksums: remove stale signature: %w", err)
		}
		return nil
	}
	return writeAtomic(asc, sig.Bytes())
}

// Build hashes the artifacts and returns their sorted manifest.
func Build(dist string, artifacts []Artifact) (*Manifest, error) {
	seen := make(map[string]bool, len(artifacts))
	m := &Manifest{Artifacts: make([]Entry, 0, len(artifacts))}
	for i, a := range artifacts {
		if err := checkPath(a.Path); err != nil {
			return nil, fmt.Errorf("checksums: artifact %d: %w", i, err)
		}
		if seen[a.Path] {
			return nil, fmt.Errorf("checksums: artifact %d: path %q listed twice", i, a.Path)
		}
		seen[a.Path] = true
		switch a.Path {
		case SumsFile, SignatureFile, ManifestFile:
			return nil, fmt.Errorf("checksums: artifact %d: %q is written by checksums itself", i, a.Path)
		}
		hash := a.Sum
		if hash == nil {
			hash = func() (string, int64, error) { return hashFile(filepath.Join(dist, filepath.FromSlash(a.Path))) }
		}
		sum, size, err := hash()
		if err != nil {
			return nil, fmt.Errorf("checksums: artifact %q: %w", a.Path, err)
		}
		inputs := slices.Clone(a.Inputs)
		if inputs == nil {
			inputs = []string{}
		}
		sort.Strings(inputs)
		m.Artifacts = append(m.Artifacts, Entry{Path: a.Path, SHA256: sum, Size: size, Stage: a.Stage, Inputs: inputs})
	}
	sort.Slice(m.Artifacts, func(i, j int) bool { return m.Artifacts[i].Path < m.Artifacts[j].Path })
	return m, nil
}

// Sums renders the manifest as sha256sum output: "HASH  PATH\n", which
// `sha256sum -c` accepts.
func (m *Manifest) Sums() []byte {
	var b bytes.Buffer
	for _, e := range m.Artifacts {
		fmt.Fprintf(&b, "%s  %s\n", e.SHA256, e.Path)
	}
	return b.Bytes()
}

// JSON renders the manifest as indented JSON ending with a newline.
func (m *Manifest) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("checksums: manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// checkPath refuses paths that would leave dist or that sha256sum would
// print escaped (it prefixes lines with names holding \ or newline with a
// backslash, which other tools then misread).
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case strings.ContainsAny(p, "\\\n\r"):
		return fmt.Errorf("path %q: contains a backslash or line break", p)
	case path.IsAbs(p):
		return fmt.Errorf("path %q: must be relative to dist", p)
	case path.Clean(p) != p:
		return fmt.Errorf("path %q: not clean, want %q", p, path.Clean(p))
	case p == ".." || strings.HasPrefix(p, "../"):
		return fmt.Errorf("path %q: outside dist", p)
	}
	return nil
}

func hashFile(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%s: not a regular file", name)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeAtomic writes data to a temp file beside name and renames it into
// place, so readers see the old file or the new one, never a part.
func writeAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-"+filepath.Base(name)+"-")
	if err != nil {
		return fmt.Errorf("checksums: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("checksums: write %s: %w", name, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("checksums: write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checksums: write %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("checksums: write %s: %w", name, err)
	}
	return nil
}
