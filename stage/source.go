package stage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/packyard/packyard/internal/fsutil"
	"github.com/packyard/packyard/pack/tarball"
	"github.com/packyard/packyard/version"
)

// VersionFile is the file every source release carries so that a build
// from the unpacked tarball, without .git, knows its version and commit.
const VersionFile = ".version"

// SourceFiles lists the files of the project at dir that make a release.
// In a git work tree these are the tracked files as git archive selects
// them (export-ignore honoured), read from the work tree; elsewhere every
// file under dir. The directories in skip (absolute paths) are left out,
// so that dist/ never ends up in its own tarball.
func SourceFiles(ctx context.Context, dir string, skip ...string) ([]tarball.Entry, error) {
	var names []string
	var err error
	if isGitTree(ctx, dir) {
		names, err = gitFiles(ctx, dir)
	} else {
		names, err = walkFiles(dir)
	}
	if err != nil {
		return nil, err
	}
	var entries []tarball.Entry
	for _, name := range names {
		if name == VersionFile || skipped(filepath.Join(dir, name), skip) {
			continue
		}
		full := filepath.Join(dir, filepath.FromSlash(name))
		st, err := os.Lstat(full)
		if os.IsNotExist(err) {
			continue // deleted in the work tree, not yet committed
		}
		if err != nil {
			return nil, err
		}
		e := tarball.Entry{Name: name, Source: full, Mode: 0o644}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			if e.Link, err = os.Readlink(full); err != nil {
				return nil, err
			}
			e.Source = ""
		case st.IsDir():
			continue // a submodule: git archive leaves it out as well
		case !st.Mode().IsRegular():
			continue
		case st.Mode()&0o111 != 0:
			e.Mode = 0o755
		}
		entries = append(entries, e)
	}
	return entries, nil
}

func skipped(path string, skip []string) bool {
	for _, s := range skip {
		if s == "" {
			continue
		}
		if rel, err := filepath.Rel(s, path); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func isGitTree(ctx context.Context, dir string) bool {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--is-inside-work-tree").Output()
	return err == nil && strings.TrimSpace(string(out)) == "true"
}

func gitFiles(ctx context.Context, dir string) ([]string, error) {
	out, err := gitOutput(ctx, dir, nil, "ls-files", "-z", "--cached")
	if err != nil {
		return nil, err
	}
	names := splitZ(out)
	if len(names) == 0 {
		return nil, nil
	}
	// git archive drops paths marked export-ignore; so do we.
	attrs, err := gitOutput(ctx, dir, strings.NewReader(strings.Join(names, "\x00")+"\x00"),
		"check-attr", "-z", "--stdin", "export-ignore")
	if err != nil {
		return nil, err
	}
	ignored := map[string]bool{}
	fields := splitZ(attrs)
	for i := 0; i+2 < len(fields); i += 3 {
		if fields[i+2] == "set" {
			ignored[fields[i]] = true
		}
	}
	kept := names[:0]
	for _, n := range names {
		if !ignored[n] {
			kept = append(kept, n)
		}
	}
	return kept, nil
}

func gitOutput(ctx context.Context, dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

func splitZ(b []byte) []string {
	s := strings.TrimSuffix(string(b), "\x00")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\x00")
}

func walkFiles(dir string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	return names, err
}

// WriteSource writes the source release of the project at dir to path:
// its files under a NAME-VERSION/ prefix, with a .version file added.
func WriteSource(ctx context.Context, dir, product string, v version.Version, path string, skip ...string) error {
	entries, err := SourceFiles(ctx, dir, skip...)
	if err != nil {
		return fmt.Errorf("source %s: %w", dir, err)
	}
	return writeRelease(entries, product, v, path)
}

// writeRelease writes the source release of entries to path.
func writeRelease(entries []tarball.Entry, product string, v version.Version, path string) error {
	entries = append(entries, tarball.Entry{Name: VersionFile, Data: version.Format(v), Mode: 0o644})
	a := tarball.Archive{
		Prefix:  product + "-" + v.Product,
		Entries: entries,
		MTime:   v.Time,
	}
	return fsutil.WriteFile(path, 0o644, func(w io.Writer) error { return tarball.Write(w, a) })
}
