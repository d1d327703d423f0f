package publish

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/packyard/packyard/internal/fsutil"
)

// Yum publishes binary rpms into yum/dnf repositories: one repository
// per expansion of the target's URL ({{dist}} and {{arch}} come from
// each package's dist and target_arch properties). The rpms go to the
// repository's root, the metadata to repodata/.
//
// A repository keeps its older packages without downloading them: the
// remote repodata is fetched into a local copy, each package it lists
// stands there as a sparse file of the listed size and time, and
// createrepo_c --update reuses their metadata (it re-reads a file only
// when its size or mtime differ) while reading the new rpms. Other
// metadata (comps, updateinfo) is kept with --keep-all-metadata.
// repodata/repomd.xml is signed as repomd.xml.asc, and the public key
// published as repomd.xml.key, for repo_gpgcheck=1.
type Yum struct{}

// yumRepo is one repository of a yum target and the rpms going into it.
type yumRepo struct {
	base  *url.URL
	files []File
}

// Publish implements Publisher.
func (Yum) Publish(ctx context.Context, j *Job) error {
	files, err := j.Packages("binary rpm", func(name string) bool {
		return strings.HasSuffix(name, ".rpm") && !strings.HasSuffix(name, ".src.rpm")
	})
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("createrepo_c"); err != nil {
		return fmt.Errorf("createrepo_c is needed to index a yum repository (Debian: apt-get install createrepo-c): %w", err)
	}
	var repos []*yumRepo
	byBase := map[string]*yumRepo{}
	for _, f := range files {
		u, err := j.BaseURL(f.Package)
		if err != nil {
			return err
		}
		r := byBase[u.String()]
		if r == nil {
			r = &yumRepo{base: u}
			byBase[u.String()] = r
			repos = append(repos, r)
		}
		r.files = append(r.files, f)
	}
	for i, r := range repos {
		if err := publishYumRepo(ctx, j, r, filepath.Join(j.Work, fmt.Sprintf("yum-%d", i))); err != nil {
			return err
		}
	}
	return nil
}

// repomd is the part of repodata/repomd.xml read here.
type repomd struct {
	Data []struct {
		Type     string `xml:"type,attr"`
		Location struct {
			Href string `xml:"href,attr"`
		} `xml:"location"`
	} `xml:"data"`
}

// primaryPackage is the part of a primary.xml package entry read here.
type primaryPackage struct {
	Checksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	Time struct {
		File int64 `xml:"file,attr"`
	} `xml:"time"`
	Size struct {
		Package int64 `xml:"package,attr"`
	} `xml:"size"`
	Location struct {
		Href string `xml:"href,attr"`
	} `xml:"location"`
}

func publishYumRepo(ctx context.Context, j *Job, r *yumRepo, dir string) error {
	base := r.base
	if err := os.MkdirAll(filepath.Join(dir, "repodata"), 0o755); err != nil {
		return err
	}
	// The remote repository's metadata, if it has any.
	old, err := fetchYumMetadata(ctx, j, base, dir)
	if err != nil {
		return err
	}
	listed := map[string]primaryPackage{}
	for _, p := range old {
		listed[p.Location.Href] = p
	}
	current := true
	ours := map[string]bool{}
	var ups []upload
	for _, f := range r.files {
		name := path.Base(f.Path)
		ours[name] = true
		p, ok := listed[name]
		if !ok || !strings.EqualFold(p.Checksum.Value, f.SHA256) {
			current = false
		}
		local := filepath.Join(dir, name)
		if err := fsutil.CopyFile(f.Local(j.Dist), local, 0o644); err != nil {
			return err
		}
		// primary.xml records each rpm's mtime: the release's time, not
		// the copy's, keeps the index the same for the same release.
		t := j.Time
		if ok && !strings.EqualFold(p.Checksum.Value, f.SHA256) {
			// An rpm replacing a listed one (--overwrite): createrepo_c
			// --update would take a file of the listed size and mtime as
			// unchanged, so make sure the mtime differs.
			t = time.Unix(p.Time.File+1, 0)
		}
		if !t.IsZero() {
			if err := os.Chtimes(local, t, t); err != nil {
				return err
			}
		}
		var sum string
		if ok && p.Checksum.Type == "sha256" {
			sum = p.Checksum.Value
		}
		ups = append(ups, upload{base: base, rel: name, local: f.Local(j.Dist), policy: Immutable, listed: sum})
	}
	if current {
		// Every rpm is in the index already: make sure the files are
		// there too, and the signature, and leave the index alone.
		if _, err := j.uploadAll(ctx, ups); err != nil {
			return err
		}
		raw, err := os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml"))
		if err != nil {
			return err
		}
		resigned, err := repairSignatures(ctx, j, base, raw, dir, signature{rel: "repodata/repomd.xml.asc"})
		if err != nil {
			return err
		}
		if resigned {
			// The signature may be by another key than the one published.
			keyFile := filepath.Join(dir, "repomd.xml.key")
			if err := exportKey(j, keyFile); err != nil {
				return err
			}
			if _, err := j.uploadAll(ctx, []upload{{base: base, rel: "repodata/repomd.xml.key", local: keyFile, policy: Replace}}); err != nil {
				return err
			}
		}
		j.logf("%s is up to date", base.Redacted())
		return nil
	}
	for href, p := range listed {
		if ours[href] {
			continue
		}
		if err := placeholder(dir, href, p); err != nil {
			return err
		}
	}
	args := []string{"--no-database", "--general-compress-type", "gz", "--checksum", "sha256"}
	if !j.Time.IsZero() {
		// repomd.xml's revision and timestamps are the time of the run
		// otherwise.
		args = append(args, "--revision", strconv.FormatInt(j.Time.Unix(), 10), "--set-timestamp-to-revision")
	}
	if len(old) > 0 || fileExists(filepath.Join(dir, "repodata", "repomd.xml")) {
		args = append(args, "--update", "--keep-all-metadata")
	}
	cmd := exec.CommandContext(ctx, "createrepo_c", append(args, dir)...)
	cmd.Env = j.Env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("createrepo_c: %w\n%s", err, out)
	}
	repodata := filepath.Join(dir, "repodata")
	if j.Key != nil {
		if err := signFile(j, filepath.Join(repodata, "repomd.xml"), filepath.Join(repodata, "repomd.xml.asc")); err != nil {
			return err
		}
		if err := exportKey(j, filepath.Join(repodata, "repomd.xml.key")); err != nil {
			return err
		}
	} else {
		j.logf("no signing key: %srepodata/repomd.xml is unsigned, and clients with repo_gpgcheck=1 will refuse it", base.Redacted())
	}
	entries, err := os.ReadDir(repodata)
	if err != nil {
		return err
	}
	var meta []string
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "repomd.xml") {
			meta = append(meta, e.Name())
		}
	}
	sort.Strings(meta)
	// Packages, then the metadata files (named by their checksums), then
	// repomd.xml that names them, then its key and signature.
	for _, m := range append(meta, "repomd.xml", "repomd.xml.key", "repomd.xml.asc") {
		local := filepath.Join(repodata, m)
		if fileExists(local) {
			ups = append(ups, upload{base: base, rel: "repodata/" + m, local: local, policy: Replace})
		}
	}
	sent, err := j.uploadAll(ctx, ups)
	if err != nil {
		return err
	}
	j.logf("%s: %d rpm(s) published, %d file(s) uploaded", base.Redacted(), len(r.files), sent)
	return nil
}

// fetchYumMetadata copies the remote repodata/ into dir/repodata and
// returns the packages its primary metadata lists; none for a new
// repository.
func fetchYumMetadata(ctx context.Context, j *Job, u *url.URL, dir string) ([]primaryPackage, error) {
	raw, err := j.Transport.Fetch(ctx, At(u, "repodata/repomd.xml"))
	if errors.Is(err, ErrNotFound) {
		j.logf("%s has no repodata yet: a new repository", u.Redacted())
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var md repomd
	if err := xml.Unmarshal(raw, &md); err != nil {
		return nil, fmt.Errorf("%srepodata/repomd.xml: %w", u.Redacted(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, "repodata", "repomd.xml"), raw, 0o644); err != nil {
		return nil, err
	}
	var primary []byte
	for _, d := range md.Data {
		// The sqlite and zchunk variants are not kept (--no-database, no
		// --zck): no need to download them.
		if strings.HasSuffix(d.Type, "_db") || strings.HasSuffix(d.Type, "_zck") {
			continue
		}
		href := d.Location.Href
		if !cleanRel(href) || !strings.HasPrefix(href, "repodata/") {
			return nil, fmt.Errorf("%srepodata/repomd.xml: unexpected location %q", u.Redacted(), href)
		}
		b, err := j.Transport.Fetch(ctx, At(u, href))
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(href)), b, 0o644); err != nil {
			return nil, err
		}
		if d.Type == "primary" {
			primary = b
		}
	}
	if primary == nil {
		return nil, fmt.Errorf("%srepodata/repomd.xml lists no primary metadata", u.Redacted())
	}
	return parsePrimary(primary)
}

// parsePrimary reads the package entries of a primary.xml, plain or
// compressed (gzip as this package writes it; zstd, xz or bzip2 as other
// createrepo_c versions do).
func parsePrimary(b []byte) ([]primaryPackage, error) {
	plain, err := decompress(b)
	if err != nil {
		return nil, fmt.Errorf("primary metadata: %w", err)
	}
	r := bytes.NewReader(plain)
	dec := xml.NewDecoder(r)
	var out []primaryPackage
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("primary metadata: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "package" {
			var p primaryPackage
			if err := dec.DecodeElement(&p, &se); err != nil {
				return nil, fmt.Errorf("primary metadata: %w", err)
			}
			if !cleanRel(p.Location.Href) {
				return nil, fmt.Errorf("primary metadata: unexpected package location %q", p.Location.Href)
			}
			out = append(out, p)
		}
	}
}

// placeholder stands in for a package already in the remote repository:
// a sparse file of its listed size and time, which createrepo_c --update
// takes as unchanged without reading it.
func placeholder(dir, href string, p primaryPackage) error {
	name := filepath.Join(dir, filepath.FromSlash(href))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := f.Truncate(p.Size.Package); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	t := time.Unix(p.Time.File, 0)
	return os.Chtimes(name, t, t)
}

// cleanRel reports whether p is a clean relative slash path inside its
// base: remote metadata names files, and must not name ../ or /.
func cleanRel(p string) bool {
	return p != "" && path.Clean(p) == p && !path.IsAbs(p) && p != ".." && !strings.HasPrefix(p, "../")
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// signFile writes an armored detached signature of name to sig.
func signFile(j *Job, name, sig string) error {
	return signWith(j.Key.DetachArmored, name, sig)
}

// signWith writes what sign makes of name's bytes (a detached or a
// clear signature) to out.
func signWith(sign func(io.Reader, io.Writer) error, name, out string) error {
	in, err := os.Open(name)
	if err != nil {
		return err
	}
	defer in.Close()
	var b bytes.Buffer
	if err := sign(in, &b); err != nil {
		return err
	}
	return os.WriteFile(out, b.Bytes(), 0o644)
}

// exportKey writes the signing key's armored public key to name.
func exportKey(j *Job, name string) error {
	var b bytes.Buffer
	if err := j.Key.ExportPublic(&b); err != nil {
		return err
	}
	return os.WriteFile(name, b.Bytes(), 0o644)
}
