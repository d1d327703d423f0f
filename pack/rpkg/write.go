package rpkg

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/packyard/packyard/pack"
)

// Property keys of pack.Info read by the writer.
const (
	PropBuildCommit     = "rpkg.build_commit"     // required: the git commit id
	PropContent         = "rpkg.content"          // "files.txz:/abs/dest,other.txz:/abs/dest"
	PropJarFiles        = "rpkg.jar_files"        // comma-separated absolute paths
	PropDependsBinary   = "rpkg.depends.binary"   // comma-separated
	PropDependsApt      = "rpkg.depends.apt"      // comma-separated
	PropDependsRPM      = "rpkg.depends.rpm"      // comma-separated
	PropRequiresLicense = "rpkg.requires_license" // "true" or "false"
)

var knownProps = []string{PropBuildCommit, PropContent, PropJarFiles, PropDependsBinary,
	PropDependsApt, PropDependsRPM, PropRequiresLicense}

// Writer writes Rudder plugin packages. It implements pack.Packager.
//
// Each tarball is compressed into a temporary file first (an ar header
// gives its member's size before the data), then the archive is copied
// together from those files: memory stays bounded by one xz encoder
// (about 50 MiB live with the 8 MiB dictionary) whatever the payload's
// size, and nothing reaches the output unless every member could be built.
type Writer struct {
	// TempDir is where Package spools the compressed tarballs; empty means
	// os.TempDir(), which may be a tmpfs, that is memory again. WriteFile
	// spools in its output directory instead.
	TempDir string
}

var _ pack.Packager = Writer{}

// FileName returns "<name>-<version>.rpkg".
func (Writer) FileName(info *pack.Info) string {
	return info.Name + "-" + info.Version + ".rpkg"
}

// Package writes the .rpkg described by info to w: an ar archive of
// metadata, the content tarballs in name order, and scripts.txz. Nothing is
// written unless the whole package could be built.
func (wr Writer) Package(info *pack.Info, w io.Writer) error {
	sp, err := build(info, wr.TempDir)
	if err != nil {
		return err
	}
	defer sp.close()
	if err := writeArStream(w, sp.members); err != nil {
		return fmt.Errorf("rpkg %s: %w", info.Name, err)
	}
	return nil
}

// WriteFile writes the package into dir under its FileName, atomically (a
// temporary file in dir renamed into place), and returns the path.
func (wr Writer) WriteFile(info *pack.Info, dir string) (string, error) {
	sp, err := build(info, dir)
	if err != nil {
		return "", err
	}
	defer sp.close()
	dst := filepath.Join(dir, wr.FileName(info))
	tmp, err := os.CreateTemp(dir, ".rpkg-*")
	if err != nil {
		return "", fmt.Errorf("rpkg %s: %w", info.Name, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := writeArStream(tmp, sp.members); err != nil {
		tmp.Close()
		return "", fmt.Errorf("rpkg %s: %s: %w", info.Name, tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", fmt.Errorf("rpkg %s: %w", info.Name, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("rpkg %s: close %s: %w", info.Name, tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("rpkg %s: %w", info.Name, err)
	}
	return dst, nil
}

// MetadataFor returns the metadata the writer would put in the package for
// info, after validating the fields it comes from.
func MetadataFor(info *pack.Info) (*Metadata, error) {
	if err := CheckName(info.Name); err != nil {
		return nil, fmt.Errorf("rpkg: Info.Name: %w", err)
	}
	if err := CheckVersion(info.Version); err != nil {
		return nil, fmt.Errorf("rpkg %s: Info.Version: %w", info.Name, err)
	}
	if info.MTime.IsZero() {
		return nil, fmt.Errorf("rpkg %s: Info.MTime is not set (use SOURCE_DATE_EPOCH or the commit time)", info.Name)
	}
	for k := range info.Properties {
		if strings.HasPrefix(k, "rpkg.") && !contains(knownProps, k) {
			return nil, fmt.Errorf("rpkg %s: unknown property %q (known: %s)", info.Name, k, strings.Join(knownProps, ", "))
		}
	}
	commit := strings.TrimSpace(info.Properties[PropBuildCommit])
	if commit == "" {
		return nil, fmt.Errorf("rpkg %s: property %s is required", info.Name, PropBuildCommit)
	}
	if !commitRE.MatchString(commit) {
		return nil, fmt.Errorf("rpkg %s: property %s: %q is not a hex git commit id", info.Name, PropBuildCommit, commit)
	}
	content, err := parseContent(info)
	if err != nil {
		return nil, err
	}
	m := &Metadata{
		Type:        "plugin",
		Name:        info.Name,
		Version:     info.Version,
		BuildDate:   info.MTime.UTC().Format("2006-01-02T15:04:05+00:00"),
		BuildCommit: commit,
		Content:     content,
		Description: info.Description,
		JarFiles:    splitList(info.Properties[PropJarFiles]),
	}
	for _, j := range m.JarFiles {
		if !path.IsAbs(j) || path.Clean(j) != j {
			return nil, fmt.Errorf("rpkg %s: property %s: %q is not a clean absolute path", info.Name, PropJarFiles, j)
		}
	}
	d := Depends{
		Binary: splitList(info.Properties[PropDependsBinary]),
		Apt:    splitList(info.Properties[PropDependsApt]),
		RPM:    splitList(info.Properties[PropDependsRPM]),
	}
	if d.Binary != nil || d.Apt != nil || d.RPM != nil {
		m.Depends = &d
	}
	switch v, ok := info.Properties[PropRequiresLicense]; {
	case !ok:
	case v == "true" || v == "false":
		b := v == "true"
		m.RequiresLicense = &b
	default:
		return nil, fmt.Errorf("rpkg %s: property %s: %q is not \"true\" or \"false\"", info.Name, PropRequiresLicense, v)
	}
	return m, nil
}

// parseContent reads the tarball → destination map, defaulting to one
// files.txz unpacked to /opt/rudder/share/plugins/<short name>.
func parseContent(info *pack.Info) (map[string]string, error) {
	spec, ok := info.Properties[PropContent]
	if !ok {
		short := strings.TrimPrefix(info.Name, "rudder-plugin-")
		return map[string]string{"files.txz": "/opt/rudder/share/plugins/" + short}, nil
	}
	content := map[string]string{}
	for _, pair := range splitList(spec) {
		name, dest, ok := strings.Cut(pair, ":")
		name, dest = strings.TrimSpace(name), strings.TrimSpace(dest)
		switch {
		case !ok:
			return nil, fmt.Errorf("rpkg %s: property %s: %q is not member.txz:/abs/dest", info.Name, PropContent, pair)
		case !strings.HasSuffix(name, ".txz") || name == ".txz" || checkArName(name) != nil:
			return nil, fmt.Errorf("rpkg %s: property %s: %q is not a .txz member name", info.Name, PropContent, name)
		case name == scriptsMember:
			return nil, fmt.Errorf("rpkg %s: property %s: scripts.txz is reserved for the scripts", info.Name, PropContent)
		case !path.IsAbs(dest) || path.Clean(dest) != dest:
			return nil, fmt.Errorf("rpkg %s: property %s: destination %q of %s is not a clean absolute path", info.Name, PropContent, dest, name)
		}
		if _, dup := content[name]; dup {
			return nil, fmt.Errorf("rpkg %s: property %s: %s listed twice", info.Name, PropContent, name)
		}
		content[name] = dest
	}
	if len(content) == 0 {
		return nil, fmt.Errorf("rpkg %s: property %s is empty", info.Name, PropContent)
	}
	return content, nil
}

// spool is a package built member by member, the tarballs compressed
// into temporary files, ready to be copied into the ar archive.
type spool struct {
	members []arEntry
	files   []*os.File
}

// close closes and removes the temporary files.
func (s *spool) close() {
	for _, f := range s.files {
		f.Close()
		os.Remove(f.Name())
	}
	s.files = nil
}

// addTXZ compresses files into a new temporary file in dir and appends it
// as the member name.
func (s *spool) addTXZ(dir, name string, files []tarFile, mtime time.Time) error {
	f, err := os.CreateTemp(dir, ".rpkg-*.txz")
	if err != nil {
		return err
	}
	s.files = append(s.files, f)
	if err := writeTXZ(f, files, mtime); err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("spool %s: %w", f.Name(), err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spool %s: %w", f.Name(), err)
	}
	s.members = append(s.members, arEntry{Name: name, Size: size, Body: f})
	return nil
}

// build validates info and builds every member of its package, the
// tarballs spooled to temporary files in tmpdir (os.TempDir() if empty).
// On success the caller must close the spool.
func build(info *pack.Info, tmpdir string) (_ *spool, err error) {
	if info == nil {
		return nil, fmt.Errorf("rpkg: nil Info")
	}
	md, err := MetadataFor(info)
	if err != nil {
		return nil, err
	}
	tarballs, err := placeContents(info, md.Content)
	if err != nil {
		return nil, err
	}
	var meta bytes.Buffer
	enc := json.NewEncoder(&meta)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(md); err != nil { // ends in "\n", like Rudder's own files
		return nil, fmt.Errorf("rpkg %s: metadata: %w", info.Name, err)
	}
	sp := &spool{members: []arEntry{{Name: metadataMember, Size: int64(meta.Len()), Body: &meta}}}
	defer func() {
		if err != nil {
			sp.close()
		}
	}()
	for _, name := range sortedKeys(md.Content) {
		if err := sp.addTXZ(tmpdir, name, tarballs[name], info.MTime); err != nil {
			return nil, fmt.Errorf("rpkg %s: %s: %w", info.Name, name, err)
		}
	}
	var scripts []tarFile
	for _, s := range []struct{ name, body string }{
		{"preinst", info.Scripts.PreInstall},
		{"postinst", info.Scripts.PostInstall},
		{"prerm", info.Scripts.PreRemove},
		{"postrm", info.Scripts.PostRemove},
	} {
		if s.body != "" {
			scripts = append(scripts, tarFile{Path: s.name, Type: tar.TypeReg, Mode: 0o755, Data: []byte(s.body)})
		}
	}
	if err := sp.addTXZ(tmpdir, scriptsMember, scripts, info.MTime); err != nil {
		return nil, fmt.Errorf("rpkg %s: %s: %w", info.Name, scriptsMember, err)
	}
	return sp, nil
}

// placeContents puts each Content into the tarball whose destination is
// the longest prefix of its Destination, adding parent directories.
func placeContents(info *pack.Info, content map[string]string) (map[string][]tarFile, error) {
	type slot struct {
		files map[string]tarFile // by path without trailing "/"
	}
	slots := map[string]*slot{}
	for name := range content {
		slots[name] = &slot{files: map[string]tarFile{}}
	}
	for i, c := range info.Contents {
		dest := c.Destination
		if !path.IsAbs(dest) || path.Clean(dest) != dest {
			return nil, fmt.Errorf("rpkg %s: Contents[%d]: destination %q is not a clean absolute path", info.Name, i, dest)
		}
		if (c.Owner != "" && c.Owner != "root") || (c.Group != "" && c.Group != "root") {
			return nil, fmt.Errorf("rpkg %s: %s: owner %s:%s: rpkg tarballs are owned by root", info.Name, dest, c.Owner, c.Group)
		}
		tarball, rel := "", ""
		for name, root := range content {
			r, ok := relTo(root, dest)
			if ok && (tarball == "" || len(root) > len(content[tarball]) || len(root) == len(content[tarball]) && name < tarball) {
				tarball, rel = name, r
			}
		}
		if tarball == "" {
			return nil, fmt.Errorf("rpkg %s: %s is under no content destination (%s)", info.Name, dest, describeContent(content))
		}
		if rel == "" {
			if c.Type == pack.Dir {
				continue // the destination itself is not an entry
			}
			return nil, fmt.Errorf("rpkg %s: %s is the destination directory of %s, not a file in it", info.Name, dest, tarball)
		}
		f, err := tarFileFor(c, rel)
		if err != nil {
			return nil, fmt.Errorf("rpkg %s: %s: %w", info.Name, dest, err)
		}
		files := slots[tarball].files
		if prev, dup := files[rel]; dup && !(prev.Type == tar.TypeDir && f.Type == tar.TypeDir && prev.Mode == f.Mode) {
			return nil, fmt.Errorf("rpkg %s: %s: declared twice", info.Name, dest)
		}
		files[rel] = f
	}
	out := map[string][]tarFile{}
	for name, s := range slots {
		// Parents not declared as Dir entries get 0755.
		rels := make([]string, 0, len(s.files))
		for rel := range s.files {
			rels = append(rels, rel)
		}
		for _, rel := range rels {
			for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
				if f, ok := s.files[dir]; ok {
					if f.Type != tar.TypeDir {
						return nil, fmt.Errorf("rpkg %s: %s: parent %s is not a directory", info.Name, path.Join(content[name], rel), path.Join(content[name], dir))
					}
					continue
				}
				s.files[dir] = tarFile{Path: dir + "/", Type: tar.TypeDir, Mode: 0o755}
			}
		}
		list := make([]tarFile, 0, len(s.files))
		for _, f := range s.files {
			list = append(list, f)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
		out[name] = list
	}
	return out, nil
}

// relTo returns dest relative to root when root is dest or one of its
// parents.
func relTo(root, dest string) (string, bool) {
	if dest == root {
		return "", true
	}
	prefix := strings.TrimSuffix(root, "/") + "/"
	if strings.HasPrefix(dest, prefix) {
		return dest[len(prefix):], true
	}
	return "", false
}

func tarFileFor(c pack.Content, rel string) (tarFile, error) {
	mode := int64(c.Mode.Perm())
	if c.Mode&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if c.Mode&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if c.Mode&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	switch c.Type {
	case pack.Dir:
		if mode == 0 {
			mode = 0o755
		}
		return tarFile{Path: rel + "/", Type: tar.TypeDir, Mode: mode}, nil
	case pack.Symlink:
		if c.Source == "" {
			return tarFile{}, fmt.Errorf("symlink without a target (Source)")
		}
		return tarFile{Path: rel, Type: tar.TypeSymlink, Mode: 0o777, Linkname: c.Source}, nil
	case pack.File, pack.Config, pack.ConfigNoReplace, "":
		if mode == 0 {
			mode = 0o644
		}
		f := tarFile{Path: rel, Type: tar.TypeReg, Mode: mode, Data: c.Data}
		if c.Data != nil {
			return f, nil
		}
		if c.Source == "" {
			return tarFile{}, fmt.Errorf("neither Data nor Source is set")
		}
		st, err := os.Stat(c.Source)
		if err != nil {
			return tarFile{}, fmt.Errorf("read source: %w", err)
		}
		if !st.Mode().IsRegular() {
			// A pipe or device has no size to put in the tar header
			// before its bytes: read it whole, as small ones are.
			b, err := os.ReadFile(c.Source)
			if err != nil {
				return tarFile{}, fmt.Errorf("read source: %w", err)
			}
			f.Data = b
			return f, nil
		}
		// Streamed when the tarball is written, after every file is placed.
		f.Source, f.Size = c.Source, st.Size()
		return f, nil
	}
	return tarFile{}, fmt.Errorf("content type %q is not supported in an rpkg", c.Type)
}

func describeContent(content map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(content) {
		parts = append(parts, k+":"+content[k])
	}
	return strings.Join(parts, ", ")
}

// splitList splits a comma-separated property, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
