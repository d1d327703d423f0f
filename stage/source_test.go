package stage

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/version"
)

func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func write(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
}

func names(t *testing.T, dir string, skip ...string) []string {
	t.Helper()
	entries, err := SourceFiles(context.Background(), dir, skip...)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		s := e.Name
		switch {
		case e.Link != "":
			s += " -> " + e.Link
		case e.Mode == 0o755:
			s += " (x)"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func TestSourceFilesFollowGitArchive(t *testing.T) {
	repo := t.TempDir()
	git(t, repo, "init", "-q")
	write(t, filepath.Join(repo, "app/main.go"), "package main\n", 0o644)
	write(t, filepath.Join(repo, "app/run.sh"), "#!/bin/sh\n", 0o755)
	write(t, filepath.Join(repo, "app/notes.txt"), "internal\n", 0o644)
	write(t, filepath.Join(repo, "app/gone.go"), "package main\n", 0o644)
	write(t, filepath.Join(repo, "app/.gitattributes"), "notes.txt export-ignore\n", 0o644)
	write(t, filepath.Join(repo, "app/.version"), "9.9.9\n", 0o644)
	write(t, filepath.Join(repo, "other/x.go"), "package x\n", 0o644)
	if err := os.Symlink("run.sh", filepath.Join(repo, "app/start")); err != nil {
		t.Fatal(err)
	}
	git(t, repo, "add", ".")
	git(t, repo, "commit", "-qm", "one")
	// Untracked files, and a tracked file deleted in the work tree, are not
	// part of the release.
	write(t, filepath.Join(repo, "app/scratch.go"), "package main\n", 0o644)
	os.Remove(filepath.Join(repo, "app/gone.go"))

	got := names(t, filepath.Join(repo, "app"))
	want := []string{".gitattributes", "main.go", "run.sh (x)", "start -> run.sh"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("git tree: got %q, want %q", got, want)
	}
}

func TestSourceFilesWithoutGitSkipOutput(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.go"), "package main\n", 0o644)
	write(t, filepath.Join(dir, "dist/old.tar.gz"), "x", 0o644)
	write(t, filepath.Join(dir, ".git/HEAD"), "x", 0o644) // not a repository: just a folder
	got := names(t, dir, filepath.Join(dir, "dist"))
	if want := []string{"main.go"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWriteSourceRoundTrip(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "main.go"), "package main\n", 0o644)
	write(t, filepath.Join(dir, "sub/tool.sh"), "#!/bin/sh\n", 0o755)
	v := version.Version{Product: "1.2.3", RPM: "1.2.3", Deb: "1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Time: time.Unix(1767323045, 0).UTC()}
	tgz := filepath.Join(t.TempDir(), buildspec.TarballName("demo", v.Product))
	if err := WriteSource(context.Background(), dir, "demo", v, tgz); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "src")
	if err := Unpack(tgz, out); err != nil {
		t.Fatal(err)
	}
	got, err := version.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got.Product != v.Product || got.Commit != v.Commit || !got.Time.Equal(v.Time) {
		t.Errorf(".version round trip: got %+v, want %+v", got, v)
	}
	st, err := os.Stat(filepath.Join(out, "sub/tool.sh"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("sub/tool.sh: %v %v", st, err)
	}
	// The real tar sees the prefix directory.
	list, err := exec.Command("tar", "-tzf", tgz).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "demo-1.2.3/\ndemo-1.2.3/.version\ndemo-1.2.3/main.go\ndemo-1.2.3/sub/\ndemo-1.2.3/sub/tool.sh\n"
	if string(list) != want {
		t.Errorf("tar -t:\n%s\nwant:\n%s", list, want)
	}
}
