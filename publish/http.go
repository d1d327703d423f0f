package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/packyard/packyard/pack/checksums"
)

// HTTP publishes every file of dist under the target's URL, keeping
// dist's layout (rpm/…, deb/…, binaries/…): a plain download area.
// The files are immutable: a different file under an existing name is a
// conflict unless --overwrite. The checksums and manifest go last, and
// their signature after them.
type HTTP struct{}

// Publish implements Publisher.
func (HTTP) Publish(ctx context.Context, j *Job) error {
	if _, err := j.Manifest(); err != nil {
		return err
	}
	base, err := j.BaseURL(nil)
	if err != nil {
		return err
	}
	var files []string
	err = filepath.WalkDir(j.Dist, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, err := filepath.Rel(j.Dist, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list %s: %w", j.Dist, err)
	}
	sort.Slice(files, func(a, b int) bool {
		ra, rb := httpRank(files[a]), httpRank(files[b])
		if ra != rb {
			return ra < rb
		}
		return files[a] < files[b]
	})
	// A remote SHA256SUMS (uploaded after the files it lists) says which
	// files are there already, so that a rerun downloads none to hash it.
	remote, err := fetchOr(ctx, j, At(base, checksums.SumsFile), nil)
	if err != nil {
		return err
	}
	remoteSHA := map[string]string{}
	for _, line := range strings.Split(string(remote), "\n") {
		if sum, name, ok := strings.Cut(line, "  "); ok {
			remoteSHA[name] = sum
		}
	}
	if remote != nil {
		// SHA256SUMS itself was just read: no need to read it again.
		sum := sha256.Sum256(remote)
		remoteSHA[checksums.SumsFile] = hex.EncodeToString(sum[:])
	}
	var ups []upload
	for _, f := range files {
		ups = append(ups, upload{base: base, rel: f, local: filepath.Join(j.Dist, filepath.FromSlash(f)), policy: Immutable, listed: remoteSHA[f]})
	}
	sent, err := j.uploadAll(ctx, ups)
	if err != nil {
		return err
	}
	j.logf("%d of %d files uploaded to %s", sent, len(ups), base.Redacted())
	return nil
}

// httpRank orders a release: artifacts, then the files that list them,
// then signatures.
func httpRank(rel string) int {
	switch {
	case strings.HasSuffix(rel, ".asc") || strings.HasSuffix(rel, ".sig") || strings.HasSuffix(rel, ".gpg"):
		return 2
	case rel == "SHA256SUMS" || rel == "manifest.json":
		return 1
	}
	return 0
}
