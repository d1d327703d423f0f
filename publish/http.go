package publish

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
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
	var ups []upload
	for _, f := range files {
		ups = append(ups, upload{base: base, rel: f, local: filepath.Join(j.Dist, filepath.FromSlash(f)), policy: Immutable})
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
