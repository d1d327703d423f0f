package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/fsutil"
)

// Apt publishes debs into a static apt repository, the layout apt reads
// from any web server:
//
//	pool/COMPONENT/p/NAME/NAME_VERSION_ARCH.deb
//	dists/SUITE/COMPONENT/binary-ARCH/Packages, Packages.gz
//	dists/SUITE/Release, Release.gpg, InRelease
//
// The remote indexes are fetched and merged, so earlier versions stay
// listed: the new debs' stanzas come from dpkg-scanpackages (dpkg-dev),
// and Release from apt-ftparchive release (apt-utils), over the merged
// indexes of every component and architecture the remote Release lists.
// Release is signed as Release.gpg and InRelease.
type Apt struct{}

// aptRepo is one suite of one apt repository and the debs going into it.
type aptRepo struct {
	base  *url.URL
	suite string
	files []File
}

// Publish implements Publisher.
func (Apt) Publish(ctx context.Context, j *Job) error {
	files, err := j.Packages("deb", func(name string) bool { return strings.HasSuffix(name, ".deb") })
	if err != nil {
		return err
	}
	for _, tool := range []string{"dpkg-scanpackages", "apt-ftparchive"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is needed to index an apt repository (Debian: apt-get install dpkg-dev apt-utils): %w", tool, err)
		}
	}
	var repos []*aptRepo
	seen := map[string]*aptRepo{}
	for _, f := range files {
		u, err := j.BaseURL(f.Package)
		if err != nil {
			return err
		}
		suite := buildspec.ExpandURL(j.Target.Suite, j.Version, f.Package.Properties["dist"], f.Package.Properties["target_arch"])
		if !cleanRel(suite) || strings.Contains(suite, "/") {
			return fmt.Errorf("package %s: suite %q is not a single path segment", f.Package.Name, suite)
		}
		key := u.String() + " " + suite
		r := seen[key]
		if r == nil {
			r = &aptRepo{base: u, suite: suite}
			seen[key] = r
			repos = append(repos, r)
		}
		r.files = append(r.files, f)
	}
	for i, r := range repos {
		if err := publishAptRepo(ctx, j, r, filepath.Join(j.Work, fmt.Sprintf("apt-%d", i))); err != nil {
			return err
		}
	}
	return nil
}

// stanza is one paragraph of a Packages file, kept as written.
type stanza string

// field returns the value of a single-line field.
func (s stanza) field(name string) string {
	for _, line := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// parseStanzas splits a deb822 file into its paragraphs.
func parseStanzas(b []byte) []stanza {
	var out []stanza
	for _, p := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n\n") {
		if p = strings.Trim(p, "\n"); p != "" {
			out = append(out, stanza(p))
		}
	}
	return out
}

func publishAptRepo(ctx context.Context, j *Job, r *aptRepo, dir string) error {
	comp := j.Target.Component
	dists := "dists/" + r.suite
	// The remote Release says which components and architectures exist:
	// all of them stay in the new Release.
	archs, comps := map[string]bool{}, map[string]bool{comp: true}
	release, err := j.Transport.Fetch(ctx, At(r.base, dists+"/Release"))
	switch {
	case errors.Is(err, ErrNotFound):
		j.logf("%s%s has no Release yet: a new suite", r.base.Redacted(), dists)
	case err != nil:
		return err
	default:
		if st := parseStanzas(release); len(st) > 0 {
			for _, a := range strings.Fields(st[0].field("Architectures")) {
				archs[a] = true
			}
			for _, c := range strings.Fields(st[0].field("Components")) {
				if !cleanRel(c) || strings.Contains(c, "/") {
					return fmt.Errorf("%s%s/Release: unexpected component %q", r.base.Redacted(), dists, c)
				}
				comps[c] = true
			}
		}
	}

	// The new debs, laid out in the pool and described by dpkg-scanpackages.
	var ups []upload
	ours := map[string]File{}
	for _, f := range r.files {
		name := path.Base(f.Path)
		parts := strings.Split(strings.TrimSuffix(name, ".deb"), "_")
		if len(parts) != 3 {
			return fmt.Errorf("%s: want a deb named NAME_VERSION_ARCH.deb", f.Path)
		}
		pool := path.Join("pool", comp, poolPrefix(parts[0]), parts[0], name)
		if err := fsutil.CopyFile(f.Local(j.Dist), filepath.Join(dir, filepath.FromSlash(pool)), 0o644); err != nil {
			return err
		}
		ours[pool] = f
		if parts[2] != "all" {
			archs[parts[2]] = true
		}
		ups = append(ups, upload{base: r.base, rel: pool, local: f.Local(j.Dist), policy: Immutable})
	}
	if len(archs) == 0 {
		archs["all"] = true
	}
	cmd := exec.CommandContext(ctx, "dpkg-scanpackages", "--multiversion", "pool", "/dev/null")
	cmd.Dir, cmd.Env = dir, j.Env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	scanned, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("dpkg-scanpackages: %w\n%s", err, stderr.String())
	}
	newStanzas := parseStanzas(scanned)

	// Merge every index of the suite; only ours changes.
	current := true
	var indexes []string
	remoteSHA := map[string]string{} // pool path -> the SHA256 an index gives it
	for c := range comps {
		for a := range archs {
			rel := fmt.Sprintf("%s/%s/binary-%s/Packages", dists, c, a)
			old, err := fetchPackages(ctx, j, r.base, rel)
			if err != nil {
				return err
			}
			merged := parseStanzas(old)
			for _, st := range merged {
				remoteSHA[st.field("Filename")] = st.field("SHA256")
			}
			if c == comp {
				merged, err = mergePackages(merged, newStanzas, a, ours, &current)
				if err != nil {
					return err
				}
			}
			// Every index is rewritten, and uploaded unless unchanged:
			// Release lists the hashes of these very files, and another
			// compressor's Packages.gz would not match them.
			indexes = append(indexes, rel, rel+".gz")
			if err := writeIndex(filepath.Join(dir, filepath.FromSlash(rel)), merged); err != nil {
				return err
			}
		}
	}
	for i, u := range ups {
		ups[i].listed = remoteSHA[u.rel]
	}
	if current {
		if _, err := j.uploadAll(ctx, ups); err != nil {
			return err
		}
		if release != nil {
			if _, err := repairSignatures(ctx, j, r.base, release, dir,
				signature{rel: dists + "/Release.gpg"}, signature{rel: dists + "/InRelease", clear: true}); err != nil {
				return err
			}
		}
		j.logf("%s%s is up to date", r.base.Redacted(), dists)
		return nil
	}
	sort.Strings(indexes)

	if err := aptRelease(ctx, j, dir, r.suite, slices.Sorted(maps.Keys(archs)), slices.Sorted(maps.Keys(comps))); err != nil {
		return err
	}
	signed := []string{dists + "/Release"}
	if j.Key != nil {
		rel := filepath.Join(dir, filepath.FromSlash(dists), "Release")
		if err := signFile(j, rel, rel+".gpg"); err != nil {
			return err
		}
		if err := clearsignFile(j, rel, filepath.Join(filepath.Dir(rel), "InRelease")); err != nil {
			return err
		}
		signed = append(signed, dists+"/Release.gpg", dists+"/InRelease")
	} else {
		j.logf("no signing key: %s%s/Release is unsigned, and apt will refuse it unless told [trusted=yes]", r.base.Redacted(), dists)
	}
	// Packages, then the indexes, then Release and its signatures.
	for _, rel := range append(indexes, signed...) {
		ups = append(ups, upload{base: r.base, rel: rel, local: filepath.Join(dir, filepath.FromSlash(rel)), policy: Replace})
	}
	sent, err := j.uploadAll(ctx, ups)
	if err != nil {
		return err
	}
	j.logf("%s%s: %d deb(s) published, %d file(s) uploaded", r.base.Redacted(), dists, len(r.files), sent)
	return nil
}

// mergePackages adds the scanned stanzas of arch (and of arch all) to
// old, replacing the entries of the same pool files. It clears *current
// when an entry of ours is missing from old or differs there.
func mergePackages(old, scanned []stanza, arch string, ours map[string]File, current *bool) ([]stanza, error) {
	var out []stanza
	byFile := map[string]stanza{}
	for _, s := range old {
		byFile[s.field("Filename")] = s
	}
	for _, s := range scanned {
		file := s.field("Filename")
		f, ok := ours[file]
		if !ok {
			return nil, fmt.Errorf("dpkg-scanpackages listed %q, which is not a deb of the release", file)
		}
		if a := s.field("Architecture"); a != arch && a != "all" {
			continue
		}
		if prev, ok := byFile[file]; !ok || prev.field("SHA256") != f.SHA256 {
			*current = false
		}
		delete(byFile, file)
		out = append(out, s)
	}
	for _, s := range byFile {
		out = append(out, s)
	}
	sort.Slice(out, func(a, b int) bool {
		pa, pb := out[a].field("Package"), out[b].field("Package")
		if pa != pb {
			return pa < pb
		}
		return out[a].field("Filename") < out[b].field("Filename")
	})
	return out, nil
}

// writeIndex writes a Packages file and its gzip twin (no name or time
// in the gzip header, so that the same index gives the same bytes).
func writeIndex(name string, stanzas []stanza) error {
	var b bytes.Buffer
	for _, s := range stanzas {
		b.WriteString(string(s))
		b.WriteString("\n\n")
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
		return err
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(b.Bytes())
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(name+".gz", z.Bytes(), 0o644)
}

// aptRelease writes dists/SUITE/Release with apt-ftparchive, which lists
// the hashes of every index under it.
func aptRelease(ctx context.Context, j *Job, dir, suite string, archs, comps []string) error {
	origin := j.Flavour.Product
	args := []string{
		"-o", "APT::FTPArchive::Release::Origin=" + origin,
		"-o", "APT::FTPArchive::Release::Label=" + origin,
		"-o", "APT::FTPArchive::Release::Suite=" + suite,
		"-o", "APT::FTPArchive::Release::Codename=" + suite,
		"-o", "APT::FTPArchive::Release::Architectures=" + strings.Join(archs, " "),
		"-o", "APT::FTPArchive::Release::Components=" + strings.Join(comps, " "),
	}
	if !j.Time.IsZero() {
		// apt-ftparchive dates Release with the time of the run otherwise.
		args = append(args, "-o", "APT::FTPArchive::Release::Date="+j.Time.UTC().Format(time.RFC1123Z))
	}
	args = append(args, "release", "dists/"+suite)
	cmd := exec.CommandContext(ctx, "apt-ftparchive", args...)
	cmd.Dir, cmd.Env = dir, j.Env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("apt-ftparchive release: %w\n%s", err, stderr.String())
	}
	return os.WriteFile(filepath.Join(dir, "dists", suite, "Release"), out, 0o644)
}

// poolPrefix is the pool directory of a source name, as Debian lays it
// out: the first letter, or lib and the next letter for libraries.
func poolPrefix(name string) string {
	if strings.HasPrefix(name, "lib") && len(name) > 3 {
		return name[:4]
	}
	return name[:1]
}

// clearsignFile writes name clear-signed to out (InRelease).
func clearsignFile(j *Job, name, out string) error {
	return signWith(j.Key.Clearsign, name, out)
}

// fetchPackages fetches a Packages index, plain or compressed (.gz or
// .xz, the first found); a missing one is empty.
func fetchPackages(ctx context.Context, j *Job, base *url.URL, rel string) ([]byte, error) {
	for _, ext := range []string{"", ".gz", ".xz"} {
		b, err := j.Transport.Fetch(ctx, At(base, rel+ext))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		plain, err := decompress(b)
		if err != nil {
			return nil, fmt.Errorf("%s%s%s: %w", base.Redacted(), rel, ext, err)
		}
		return plain, nil
	}
	return nil, nil
}
