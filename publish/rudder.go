package publish

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/packyard/packyard/pack/rpkg"
)

// Rudder publishes Rudder plugin packages (.rpkg) into a plugin
// repository as Rudder's installers read it (rpkg-format.md, section
// Repository):
//
//	X.Y/rpkg.index                                   JSON array: each package's metadata + "path"
//	X.Y/SHORT/CHANNEL/rudder-plugin-SHORT-V.rpkg
//	X.Y/SHORT/CHANNEL/SHA512SUMS, SHA512SUMS.asc     next to the packages
//
// X.Y is the Rudder minor version of the package's metadata, SHORT the
// name without rudder-plugin-, CHANNEL the target's channel. The remote
// index and SHA512SUMS are fetched and merged, so earlier versions stay.
// Upload order: packages, SHA512SUMS, SHA512SUMS.asc, then rpkg.index, so
// that no index entry names a package or checksum not there yet.
type Rudder struct{}

// rudderDir is one directory of packages and the index that lists them.
type rudderDir struct {
	minor string // X.Y
	dir   string // X.Y/SHORT/CHANNEL
	pkgs  []rudderPkg
}

type rudderPkg struct {
	file   File
	meta   json.RawMessage
	sha512 string
}

// Publish implements Publisher.
func (Rudder) Publish(ctx context.Context, j *Job) error {
	files, err := j.Packages("rpkg", func(name string) bool { return strings.HasSuffix(name, ".rpkg") })
	if err != nil {
		return err
	}
	base, err := j.BaseURL(nil)
	if err != nil {
		return err
	}
	var dirs []*rudderDir
	byDir := map[string]*rudderDir{}
	for _, f := range files {
		p, minor, short, err := readRpkg(f.Local(j.Dist))
		if err != nil {
			return fmt.Errorf("%s: %w", f.Path, err)
		}
		dir := path.Join(minor, short, j.Target.Channel)
		d := byDir[dir]
		if d == nil {
			d = &rudderDir{minor: minor, dir: dir}
			byDir[dir] = d
			dirs = append(dirs, d)
		}
		p.file = f
		d.pkgs = append(d.pkgs, p)
	}
	work := filepath.Join(j.Work, "rudder")
	for _, d := range dirs {
		if err := publishRudderDir(ctx, j, base, d, work); err != nil {
			return err
		}
	}
	return nil
}

// readRpkg reads a package's metadata: the raw JSON for the index, the
// Rudder minor version and the short name.
func readRpkg(name string) (rudderPkg, string, string, error) {
	f, err := os.Open(name)
	if err != nil {
		return rudderPkg{}, "", "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return rudderPkg{}, "", "", err
	}
	p, err := rpkg.Open(f, fi.Size())
	if err != nil {
		return rudderPkg{}, "", "", err
	}
	m := p.Metadata
	short, ok := strings.CutPrefix(m.Name, "rudder-plugin-")
	if !ok || rpkg.CheckName(m.Name) != nil {
		return rudderPkg{}, "", "", fmt.Errorf("plugin name %q: want rudder-plugin-NAME", m.Name)
	}
	rudderVersion, _, _ := strings.Cut(m.Version, "-")
	parts := strings.SplitN(strings.SplitN(rudderVersion, "~", 2)[0], ".", 3)
	if len(parts) < 2 || rpkg.CheckVersion(m.Version) != nil {
		return rudderPkg{}, "", "", fmt.Errorf("plugin version %q: want RUDDER-PLUGIN such as 8.1.0-0.26", m.Version)
	}
	h := sha512.New()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return rudderPkg{}, "", "", err
	}
	if _, err := io.Copy(h, f); err != nil {
		return rudderPkg{}, "", "", err
	}
	return rudderPkg{meta: p.RawMetadata, sha512: hex.EncodeToString(h.Sum(nil))}, parts[0] + "." + parts[1], short, nil
}

func publishRudderDir(ctx context.Context, j *Job, base *url.URL, d *rudderDir, work string) error {
	local := filepath.Join(work, filepath.FromSlash(d.dir))
	if err := os.MkdirAll(local, 0o755); err != nil {
		return err
	}
	indexRel := d.minor + "/rpkg.index"
	index, err := fetchOr(ctx, j, At(base, indexRel), []byte("[]"))
	if err != nil {
		return err
	}
	// Entries are kept as they are, even those this code cannot read:
	// Rudder's installer skips an entry it cannot parse, and dropping it
	// here would unpublish someone's package.
	var entries []json.RawMessage
	if err := json.Unmarshal(index, &entries); err != nil {
		return fmt.Errorf("%s%s: not a JSON array: %w", base.Redacted(), indexRel, err)
	}
	sumsRel := d.dir + "/SHA512SUMS"
	sums, err := fetchOr(ctx, j, At(base, sumsRel), nil)
	if err != nil {
		return err
	}
	sumLines := map[string]string{} // file name -> line
	for _, line := range strings.Split(string(sums), "\n") {
		if fields := strings.Fields(line); len(fields) == 2 {
			sumLines[strings.TrimPrefix(fields[1], "*")] = line
		}
	}

	current := true
	var ups []upload
	for _, p := range d.pkgs {
		name := path.Base(p.file.Path)
		rel := "./" + d.dir + "/" + name
		entry, err := indexEntry(p.meta, rel)
		if err != nil {
			return fmt.Errorf("%s: %w", p.file.Path, err)
		}
		replaced := false
		for i, e := range entries {
			var probe struct {
				Path string `json:"path"`
			}
			if json.Unmarshal(e, &probe) == nil && probe.Path == rel {
				if !jsonEqual(e, entry) {
					current = false
				}
				entries[i], replaced = entry, true
			}
		}
		if !replaced {
			entries = append(entries, entry)
			current = false
		}
		line := p.sha512 + "  " + name
		// SHA512SUMS lists the file with the local file's sha512: as good
		// as listing its sha256 (which Packages checked against the file).
		var sum string
		if sumLines[name] == line {
			sum = p.file.SHA256
		} else {
			current = false
		}
		sumLines[name] = line
		ups = append(ups, upload{base: base, rel: d.dir + "/" + name, local: p.file.Local(j.Dist), policy: Immutable, listed: sum})
	}
	if current {
		if _, err := j.uploadAll(ctx, ups); err != nil {
			return err
		}
		if _, err := repairSignatures(ctx, j, base, sums, local, signature{rel: sumsRel + ".asc"}); err != nil {
			return err
		}
		j.logf("%s%s is up to date", base.Redacted(), d.dir)
		return nil
	}

	names := make([]string, 0, len(sumLines))
	for n := range sumLines {
		names = append(names, n)
	}
	sort.Strings(names)
	var sb strings.Builder
	for _, n := range names {
		sb.WriteString(sumLines[n] + "\n")
	}
	sumsFile := filepath.Join(local, "SHA512SUMS")
	if err := os.WriteFile(sumsFile, []byte(sb.String()), 0o644); err != nil {
		return err
	}
	ups = append(ups, upload{base: base, rel: sumsRel, local: sumsFile, policy: Replace})
	if j.Key != nil {
		if err := signFile(j, sumsFile, sumsFile+".asc"); err != nil {
			return err
		}
		ups = append(ups, upload{base: base, rel: sumsRel + ".asc", local: sumsFile + ".asc", policy: Replace})
	} else {
		j.logf("no signing key: %s%s.asc is not written, and Rudder's installer will refuse the packages", base.Redacted(), sumsRel)
	}
	var ib bytes.Buffer
	ib.WriteString("[\n")
	for i, e := range entries {
		if i > 0 {
			ib.WriteString(",\n")
		}
		ib.WriteString("  ")
		ib.Write(e)
	}
	ib.WriteString("\n]\n")
	indexFile := filepath.Join(work, d.minor, "rpkg.index")
	if err := os.WriteFile(indexFile, ib.Bytes(), 0o644); err != nil {
		return err
	}
	ups = append(ups, upload{base: base, rel: indexRel, local: indexFile, policy: Replace})
	sent, err := j.uploadAll(ctx, ups)
	if err != nil {
		return err
	}
	j.logf("%s%s: %d rpkg(s) published, %d file(s) uploaded", base.Redacted(), d.dir, len(d.pkgs), sent)
	return nil
}

// indexEntry is the package's metadata with "path" added, on one line.
func indexEntry(meta json.RawMessage, rel string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(meta, &m); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	p, _ := json.Marshal(rel)
	m["path"] = p
	return json.Marshal(m)
}

// jsonEqual compares two JSON values by content, not by spelling.
func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// fetchOr fetches u, or returns def when it does not exist.
func fetchOr(ctx context.Context, j *Job, u *url.URL, def []byte) ([]byte, error) {
	b, err := j.Transport.Fetch(ctx, u)
	if errors.Is(err, ErrNotFound) {
		return def, nil
	}
	return b, err
}
