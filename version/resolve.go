package version

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrNoVersion is returned by Resolve when no source of a version exists.
var ErrNoVersion = errors.New("no version: pass --version, tag a commit, or add a .version file")

// ErrNoTime is returned by Resolve when nothing gives the build's time:
// no git commit, no .version with a time and no SOURCE_DATE_EPOCH.
var ErrNoTime = errors.New("no build time: not a git work tree with commits and no .version file with a time; " +
	"set SOURCE_DATE_EPOCH to the release's time in Unix seconds (e.g. SOURCE_DATE_EPOCH=$(date +%s)) " +
	"rather than have every file dated 1970-01-01")

// Options tune ResolveWith.
type Options struct {
	// SourceDateEpoch, when non-empty, overrides Time. It is the value of
	// the SOURCE_DATE_EPOCH environment variable: decimal Unix seconds.
	SourceDateEpoch string
	// Git is the git executable; "" means "git" found on PATH. When it
	// cannot be run, dir is treated as not being a git work tree.
	Git string
}

// Resolve is ResolveWith with SourceDateEpoch taken from the environment.
func Resolve(dir, flag string) (Version, error) {
	return ResolveWith(dir, flag, Options{SourceDateEpoch: os.Getenv("SOURCE_DATE_EPOCH")})
}

// ResolveWith finds the version of the project in dir.
//
// The version is flag when non-empty; else `git describe --tags --long` of
// HEAD in the git work tree holding dir (dir may be a subdirectory of it);
// else dir/.version; else, in a work tree without a version tag,
// 0.0.0-<commit count>-g<abbrev> mapped as a describe (0.0.0.N-gHASH).
// Only tags that look like versions (v1.2.3, 1.2.3) are considered, so a
// "latest" or "nightly" tag does not break the build.
//
// Commit and Time come from HEAD when dir is in a work tree with commits,
// else from dir/.version. opt.SourceDateEpoch overrides Time. Without any
// known time, the error is ErrNoTime: every timestamp of the outputs is
// Time, and a silent 1970 would be wrong.
func ResolveWith(dir, flag string, opt Options) (Version, error) {
	if fi, err := os.Stat(dir); err != nil {
		return Version{}, fmt.Errorf("version of %s: %w", dir, err)
	} else if !fi.IsDir() {
		return Version{}, fmt.Errorf("version of %s: not a directory", dir)
	}
	g := git{exe: opt.Git, dir: dir}
	if g.exe == "" {
		g.exe = "git"
	}
	head, err := g.head()
	if err != nil {
		return Version{}, fmt.Errorf("version of %s: %w", dir, err)
	}

	// The .version file is read at most once and only when needed.
	var (
		file     Version
		fileRead bool
		fileErr  error
		hasFile  bool
	)
	readFile := func() (Version, bool, error) {
		if !fileRead {
			fileRead = true
			file, fileErr = ReadFile(dir)
			hasFile = fileErr == nil
			if errors.Is(fileErr, fs.ErrNotExist) {
				fileErr = nil
			}
		}
		return file, hasFile, fileErr
	}

	var v Version
	switch {
	case flag != "":
		v, err = Parse(flag)
		if err != nil {
			return Version{}, fmt.Errorf("--version: %w", err)
		}
	case head.ok:
		v, err = g.describe(readFile)
		if err != nil {
			return Version{}, fmt.Errorf("version of %s: %w", dir, err)
		}
	default:
		f, ok, err := readFile()
		if err != nil {
			return Version{}, err
		}
		if !ok {
			if head.unborn {
				return Version{}, fmt.Errorf("version of %s: git repository has no commits: %w", dir, ErrNoVersion)
			}
			return Version{}, fmt.Errorf("version of %s: %w", dir, ErrNoVersion)
		}
		v = Version{Product: f.Product, RPM: f.RPM, Deb: f.Deb}
	}

	if head.ok {
		v.Commit, v.Time = head.commit, head.time
	} else {
		f, ok, err := readFile()
		if err != nil {
			return Version{}, err
		}
		if ok {
			v.Commit, v.Time = f.Commit, f.Time
		}
	}
	if opt.SourceDateEpoch != "" {
		t, err := parseEpoch(opt.SourceDateEpoch)
		if err != nil {
			return Version{}, fmt.Errorf("SOURCE_DATE_EPOCH: %w", err)
		}
		v.Time = t
	}
	if v.Time.IsZero() {
		// Stamping every file 1970-01-01 would be reproducible but wrong,
		// and silent: linters flag ancient files, users see a 1970 build.
		return Version{}, fmt.Errorf("version of %s: %w", dir, ErrNoTime)
	}
	return v, nil
}

// git runs git commands in one directory.
type git struct {
	exe string
	dir string
}

// headInfo describes HEAD of the work tree holding a directory.
type headInfo struct {
	ok     bool // in a work tree whose HEAD is a commit
	unborn bool // in a work tree without any commit
	commit string
	time   time.Time
}

// head returns HEAD's commit and commit time. Not being in a work tree, or
// git not being installed, is not an error; any other git failure (such
// as git refusing a repository owned by another user) is, because
// silently ignoring it would change the version.
func (g git) head() (headInfo, error) {
	out, err := g.run("rev-parse", "--is-inside-work-tree")
	if err != nil {
		var ge *gitError
		if errors.As(err, &ge) && strings.Contains(ge.stderr, "not a git repository") {
			return headInfo{}, nil
		}
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return headInfo{}, nil
		}
		return headInfo{}, err
	}
	if out != "true" {
		return headInfo{}, nil // inside .git or a bare repository
	}
	if _, err := g.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}"); err != nil {
		var ge *gitError
		if errors.As(err, &ge) && ge.stderr == "" {
			return headInfo{unborn: true}, nil
		}
		return headInfo{}, err
	}
	out, err = g.run("log", "-1", "--format=%H %ct", "HEAD")
	if err != nil {
		return headInfo{}, err
	}
	commit, secs, _ := strings.Cut(out, " ")
	t, err := parseEpoch(secs)
	if err != nil || !commitRE.MatchString(commit) {
		return headInfo{}, fmt.Errorf("git log: unexpected output %q", out)
	}
	return headInfo{ok: true, commit: commit, time: t}, nil
}

// abbrev is the length of commit ids in versions. Git's default grows with
// the number of objects, so a shallow CI clone and a full laptop clone
// would spell the same commit differently; a fixed length keeps them equal.
const abbrev = "12"

// describe returns the version of HEAD from the nearest version tag, or
// from readFile, or 0.0.0-N-gHASH when neither exists.
func (g git) describe(readFile func() (Version, bool, error)) (Version, error) {
	out, err := g.run("describe", "--tags", "--long", "--abbrev="+abbrev,
		"--match", "v[0-9]*", "--match", "[0-9]*", "HEAD")
	if err == nil {
		return FromDescribe(out)
	}
	// Describe failing is only "untagged" when no version tag is reachable;
	// otherwise its error is the one to report.
	tags, terr := g.run("tag", "--list", "--merged", "HEAD", "v[0-9]*", "[0-9]*")
	if terr != nil {
		return Version{}, terr
	}
	if tags != "" {
		return Version{}, err
	}
	f, ok, ferr := readFile()
	if ferr != nil {
		return Version{}, ferr
	}
	if ok {
		return Version{Product: f.Product, RPM: f.RPM, Deb: f.Deb}, nil
	}
	// A shallow clone hides both tags and history: 0.0.0.N would be wrong.
	if shallow, err := g.run("rev-parse", "--is-shallow-repository"); err == nil && shallow == "true" {
		return Version{}, fmt.Errorf("shallow git clone without a version tag: fetch with tags and full history (git fetch --unshallow --tags), or %w", ErrNoVersion)
	}
	count, err := g.run("rev-list", "--count", "HEAD")
	if err != nil {
		return Version{}, err
	}
	hash, err := g.run("rev-parse", "--short="+abbrev, "HEAD")
	if err != nil {
		return Version{}, err
	}
	return FromDescribe("0.0.0-" + count + "-g" + hash)
}

// gitError is a git command that exited with an error.
type gitError struct {
	args   []string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	msg := e.stderr
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), msg)
}

func (e *gitError) Unwrap() error { return e.err }

// run runs git with args in g.dir and returns its trimmed stdout.
func (g git) run(args ...string) (string, error) {
	cmd := exec.Command(g.exe, args...)
	cmd.Dir = g.dir
	cmd.Env = gitEnv(os.Environ())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", &gitError{args: args, stderr: strings.TrimSpace(stderr.String()), err: err}
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// gitEnv returns env without the variables that would point git at another
// repository than the one holding dir, and with git's messages in English,
// which head matches.
func gitEnv(env []string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "LC_ALL", "LANGUAGE":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "LC_ALL=C")
}
