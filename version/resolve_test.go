package version

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Fixed commit times, so that Time is checked exactly.
const (
	t1 = 1700000000
	t2 = 1700003600
	t3 = 1700007200
)

// repo is a real git work tree in a temporary directory.
type repo struct {
	t   *testing.T
	dir string
}

// isolateGit keeps the user's and system's git config and any enclosing
// repository out of the test, for the helper's git and Resolve's alike.
func isolateGit(t *testing.T) {
	t.Helper()
	needTool(t, "git")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(t.TempDir()))
	t.Setenv("SOURCE_DATE_EPOCH", "")
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	r := &repo{t: t, dir: t.TempDir()}
	r.git(0, "init", "-q", "-b", "main")
	return r
}

// git runs git in the repo with commit dates at when (if non-zero).
func (r *repo) git(when int64, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(),
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
	if when != 0 {
		date := strconv.FormatInt(when, 10) + " +0200"
		cmd.Env = append(cmd.Env, "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes path (relative to the repo) and commits it at when,
// returning the full commit id.
func (r *repo) commit(path string, when int64) string {
	r.t.Helper()
	full := filepath.Join(r.dir, path)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(path+strconv.FormatInt(when, 10)), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git(when, "add", path)
	r.git(when, "commit", "-q", "-m", "change "+path)
	return r.git(0, "rev-parse", "HEAD")
}

func writeVersionFile(t *testing.T, dir, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func utc(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func TestResolveGit(t *testing.T) {
	isolateGit(t)

	// One history, several questions: tag v1.2.0, then a commit in sub/,
	// then a non-version tag that must be ignored.
	r := newRepo(t)
	c1 := r.commit("main.go", t1)
	r.git(0, "tag", "v1.2.0")
	c2 := r.commit("sub/file.go", t2)
	r.git(0, "tag", "latest")

	// A pre-release tag, annotated, three commits back.
	rc := newRepo(t)
	rc.commit("a", t1)
	rc.git(t1, "tag", "-a", "-m", "rc1", "v1.3.0-rc1")
	rc.commit("b", t1)
	rc.commit("c", t2)
	c3 := rc.commit("d", t3)

	untagged := newRepo(t)
	untagged.commit("a", t1)
	untagged.git(0, "tag", "nightly") // not a version tag
	c4 := untagged.commit("b", t2)

	withFile := newRepo(t)
	c5 := withFile.commit("a", t3)
	writeVersionFile(t, withFile.dir, "2.0.0\ncommit "+sha1+"\ntime 5\n")

	for _, tc := range []struct {
		name  string
		dir   string
		flag  string
		epoch string
		want  Version
	}{
		{
			name: "one commit after the tag",
			dir:  r.dir,
			want: Version{Product: "1.2.0.1-g" + c2[:12], RPM: "1.2.0.1_g" + c2[:12], Deb: "1.2.0.1+g" + c2[:12], Commit: c2, Time: utc(t2)},
		},
		{
			name: "subdirectory",
			dir:  filepath.Join(r.dir, "sub"),
			want: Version{Product: "1.2.0.1-g" + c2[:12], RPM: "1.2.0.1_g" + c2[:12], Deb: "1.2.0.1+g" + c2[:12], Commit: c2, Time: utc(t2)},
		},
		{
			name: "pre-release tag, three commits later",
			dir:  rc.dir,
			want: Version{Product: "1.3.0-rc1.3-g" + c3[:12], RPM: "1.3.0~rc1.3_g" + c3[:12], Deb: "1.3.0~rc1.3+g" + c3[:12], Commit: c3, Time: utc(t3)},
		},
		{
			name: "untagged",
			dir:  untagged.dir,
			want: Version{Product: "0.0.0.2-g" + c4[:12], RPM: "0.0.0.2_g" + c4[:12], Deb: "0.0.0.2+g" + c4[:12], Commit: c4, Time: utc(t2)},
		},
		{
			name: "untagged with .version: the file's version, git's commit",
			dir:  withFile.dir,
			want: Version{Product: "2.0.0", RPM: "2.0.0", Deb: "2.0.0", Commit: c5, Time: utc(t3)},
		},
		{
			name: "flag wins over describe, git gives commit and time",
			dir:  r.dir,
			flag: "v0.26.0acme",
			want: Version{Product: "0.26.0acme", RPM: "0.26.0acme", Deb: "0.26.0acme", Commit: c2, Time: utc(t2)},
		},
		{
			name:  "SOURCE_DATE_EPOCH overrides the commit time",
			dir:   filepath.Join(r.dir, "sub"),
			epoch: "1234567890",
			want:  Version{Product: "1.2.0.1-g" + c2[:12], RPM: "1.2.0.1_g" + c2[:12], Deb: "1.2.0.1+g" + c2[:12], Commit: c2, Time: utc(1234567890)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveWith(tc.dir, tc.flag, Options{SourceDateEpoch: tc.epoch})
			if err != nil {
				t.Fatalf("ResolveWith: %v", err)
			}
			if got != tc.want {
				t.Errorf("ResolveWith =\n %+v\nwant\n %+v", got, tc.want)
			}
		})
	}

	t.Run("exactly on the tag", func(t *testing.T) {
		r.git(0, "checkout", "-q", "v1.2.0")
		defer r.git(0, "checkout", "-q", "main")
		got, err := ResolveWith(r.dir, "", Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := Version{Product: "1.2.0", RPM: "1.2.0", Deb: "1.2.0", Commit: c1, Time: utc(t1)}
		if got != want {
			t.Errorf("ResolveWith = %+v, want %+v", got, want)
		}
	})

	t.Run("Resolve reads SOURCE_DATE_EPOCH", func(t *testing.T) {
		t.Setenv("SOURCE_DATE_EPOCH", "42")
		got, err := Resolve(r.dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Time != utc(42) || got.Commit != c2 {
			t.Errorf("Resolve = %+v, want Time 42 and commit %s", got, c2)
		}
	})

	t.Run("Resolve without SOURCE_DATE_EPOCH", func(t *testing.T) {
		got, err := Resolve(r.dir, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.Time != utc(t2) {
			t.Errorf("Resolve Time = %v, want the commit time %v", got.Time, utc(t2))
		}
	})

	t.Run("shallow clone without tags is an error, not 0.0.0", func(t *testing.T) {
		clone := filepath.Join(t.TempDir(), "clone")
		r.git(0, "clone", "-q", "--depth", "1", "--no-tags", "file://"+rc.dir, clone)
		_, err := ResolveWith(clone, "", Options{})
		if err == nil || !strings.Contains(err.Error(), "shallow") || !errors.Is(err, ErrNoVersion) {
			t.Errorf("ResolveWith of a shallow clone: %v, want a shallow-clone ErrNoVersion", err)
		}
		// An explicit version still works there.
		if v, err := ResolveWith(clone, "1.0", Options{}); err != nil || v.Commit != c3 {
			t.Errorf("ResolveWith(--version 1.0) of a shallow clone = %+v, %v", v, err)
		}
	})
}

func TestResolveWithoutGit(t *testing.T) {
	isolateGit(t)
	full := "0.26.0acme\ncommit " + sha1 + "\ntime 1700000000\n"

	for _, tc := range []struct {
		name, file, flag, epoch string
		git                     string // Options.Git; a missing binary acts as no git
		inRepo                  bool   // dir is a git work tree (with a commit)
		want                    Version
	}{
		{
			name: ".version only",
			file: full,
			want: Version{Product: "0.26.0acme", RPM: "0.26.0acme", Deb: "0.26.0acme", Commit: sha1, Time: utc(1700000000)},
		},
		{
			name: "one-line .version and SOURCE_DATE_EPOCH: no commit",
			file: "v1.2.0-rc1\n", epoch: "1700000000",
			want: Version{Product: "1.2.0-rc1", RPM: "1.2.0~rc1", Deb: "1.2.0~rc1", Time: utc(1700000000)},
		},
		{
			name: "flag, commit and time from .version",
			file: full, flag: "3.0",
			want: Version{Product: "3.0", RPM: "3.0", Deb: "3.0", Commit: sha1, Time: utc(1700000000)},
		},
		{
			// 0 asked for is 0: only an unknown time is refused.
			name: "flag and SOURCE_DATE_EPOCH=0",
			flag: "3.0", epoch: "0",
			want: Version{Product: "3.0", RPM: "3.0", Deb: "3.0", Time: utc(0)},
		},
		{
			name: "SOURCE_DATE_EPOCH over .version's time",
			file: full, epoch: "99",
			want: Version{Product: "0.26.0acme", RPM: "0.26.0acme", Deb: "0.26.0acme", Commit: sha1, Time: utc(99)},
		},
		{
			name: "git not installed: the .version of a work tree",
			file: full, git: filepath.Join(os.TempDir(), "no-such-git"), inRepo: true,
			want: Version{Product: "0.26.0acme", RPM: "0.26.0acme", Deb: "0.26.0acme", Commit: sha1, Time: utc(1700000000)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.inRepo {
				r := newRepo(t)
				r.commit("a", t1)
				r.git(0, "tag", "v9.9.9")
				dir = r.dir
			}
			if tc.file != "" {
				writeVersionFile(t, dir, tc.file)
			}
			got, err := ResolveWith(dir, tc.flag, Options{SourceDateEpoch: tc.epoch, Git: tc.git})
			if err != nil {
				t.Fatalf("ResolveWith: %v", err)
			}
			if got != tc.want {
				t.Errorf("ResolveWith =\n %+v\nwant\n %+v", got, tc.want)
			}
			// What Resolve finds, written as .version, resolves the same
			// without git: the source tarball's promise.
			if tc.flag == "" && tc.epoch == "" {
				dir2 := t.TempDir()
				writeVersionFile(t, dir2, string(Format(got)))
				again, err := ResolveWith(dir2, "", Options{})
				if err != nil || again != got {
					t.Errorf("from its own .version: %+v, %v, want %+v", again, err, got)
				}
			}
		})
	}
}

func TestResolveErrors(t *testing.T) {
	isolateGit(t)
	emptyRepo := newRepo(t) // git init, no commit

	for _, tc := range []struct {
		name, file, flag, epoch string
		dir                     string // default: an empty temporary directory
		want                    string
		noVersion               bool // errors.Is(err, ErrNoVersion)
		noTime                  bool // errors.Is(err, ErrNoTime)
	}{
		// Never a silent 1970: without git, a .version time or
		// SOURCE_DATE_EPOCH, the build has no time to give its files.
		{name: "flag alone", flag: "3.0", want: "set SOURCE_DATE_EPOCH", noTime: true},
		{name: "one-line .version", file: "v1.2.0-rc1\n", want: "no build time", noTime: true},
		{name: "nothing at all", want: "no version: pass --version, tag a commit, or add a .version file", noVersion: true},
		{name: "repository without commits", dir: emptyRepo.dir, want: "no commits", noVersion: true},
		{name: "bad flag", flag: "1.0 beta", want: "--version: version \"1.0 beta\": contains whitespace"},
		{name: "bad .version", file: "1.0\ncommit xyz\n", want: ".version:2: commit \"xyz\""},
		{name: "bad .version under a flag", file: "1.0\ntime soon\n", flag: "2.0", want: ".version:2: time"},
		{name: "bad SOURCE_DATE_EPOCH", flag: "1.0", epoch: "2024-01-01", want: "SOURCE_DATE_EPOCH: \"2024-01-01\""},
		{name: "missing directory", dir: filepath.Join(os.TempDir(), "packyard-no-such-dir"), want: "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				dir = t.TempDir()
			}
			if tc.file != "" {
				writeVersionFile(t, dir, tc.file)
			}
			v, err := ResolveWith(dir, tc.flag, Options{SourceDateEpoch: tc.epoch})
			if err == nil {
				t.Fatalf("ResolveWith = %+v, want an error", v)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ResolveWith error %q, want %q", err, tc.want)
			}
			if errors.Is(err, ErrNoTime) != tc.noTime {
				t.Errorf("errors.Is(%q, ErrNoTime) = %v, want %v", err, !tc.noTime, tc.noTime)
			}
			if errors.Is(err, ErrNoVersion) != tc.noVersion {
				t.Errorf("errors.Is(%q, ErrNoVersion) = %v, want %v", err, !tc.noVersion, tc.noVersion)
			}
		})
	}

	t.Run("a git failure is reported, not taken for no git", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to give the repository another owner")
		}
		r := newRepo(t)
		r.commit("a", t1)
		writeVersionFile(t, r.dir, "1.0\n")
		// Git refuses a work tree owned by someone else; falling back to
		// .version then would silently change the version.
		if err := os.Chown(r.dir, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		v, err := ResolveWith(r.dir, "", Options{})
		if err == nil {
			t.Fatalf("ResolveWith of a repository git refuses = %+v, want git's error", v)
		}
		if !strings.Contains(err.Error(), "dubious ownership") {
			t.Errorf("ResolveWith error %q does not pass on git's reason", err)
		}
	})
}

// BenchmarkResolve measures one resolution in a tagged work tree, a few
// commits after the tag: the git calls dominate.
func BenchmarkResolve(b *testing.B) {
	dir := b.TempDir()
	run := func(args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull,
			"GIT_AUTHOR_NAME=B", "GIT_AUTHOR_EMAIL=b@example.com",
			"GIT_COMMITTER_NAME=B", "GIT_COMMITTER_EMAIL=b@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v: %s", args, err, out)
		}
	}
	run("init", "-q")
	run("commit", "-q", "--allow-empty", "-m", "one")
	run("tag", "v1.0.0")
	run("commit", "-q", "--allow-empty", "-m", "two")
	for b.Loop() {
		if _, err := ResolveWith(dir, "", Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
