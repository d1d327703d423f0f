package stage

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/packyard/packyard/internal/stagecache"
	"github.com/packyard/packyard/pack/sign"
)

// runCache is what one run of packyard build needs to use the stage
// cache: the store, and the inputs every key shares, worked out once.
type runCache struct {
	store *stagecache.Cache
	// tool is the sha256 of the running packyard executable: a new
	// Packyard may write other bytes from the same inputs. The spec's pre
	// commands run this same binary (packyard codegen).
	tool string
	// spec is the sha256 of the spec file: conservative, as every stage
	// reads some of it.
	spec string
	env  []string // Options.Env as it enters keys (envForKey)

	mu sync.Mutex
	// goEnv runs go env -json once per environment, for keys; the runs
	// for different environments (one per compile target) go side by side.
	goEnv   map[string]func() (string, error)
	rpmTool *string // rpmbuild's path and version, "" without one
	// tree is the digest of the work copy once codegen is done: what
	// compile and package read of the sources.
	tree string
	// cached names the stages (plan IDs and stage names) restored from the
	// cache, for the progress lines.
	cached map[string]bool
	// sums are the sha256 of the files this run has restored or hashed,
	// by path, with the size and mtime each had then: keys and checksums
	// take a file's sum again and again (a binary is in every package's
	// key and in SHA256SUMS), and on a no-change rerun reading the same
	// files over was a fifth of the CPU.
	sums map[string]fileSum
}

type fileSum struct {
	size  int64
	mtime time.Time
	sum   string
}

// openCache prepares c's use of Options.Cache; without one, the cache is
// off and every stage runs.
func (c *Context) openCache() error {
	if c.Options.Cache == nil {
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("stage cache: %w", err)
	}
	tool, err := stagecache.FileSHA256(exe)
	if err != nil {
		return fmt.Errorf("stage cache: packyard's own executable: %w", err)
	}
	spec, err := stagecache.FileSHA256(c.Options.Spec)
	if err != nil {
		return fmt.Errorf("stage cache: %w", err)
	}
	c.cache = &runCache{
		store:  c.Options.Cache,
		tool:   tool,
		spec:   spec,
		env:    envForKey(c.Options.Env),
		goEnv:  map[string]func() (string, error){},
		cached: map[string]bool{},
		sums:   map[string]fileSum{},
	}
	return nil
}

// volatileEnv are variables that change between shells and runs but not
// what go or the spec's commands produce. PATH is among them because
// packyard puts its own (per go run, temporary) directory first on it; the
// tools it finds there are keyed by identity instead: packyard's own
// sha256, go's GOROOT and GOVERSION, rpmbuild's version.
var volatileEnv = map[string]bool{
	"PATH": true, "PWD": true, "OLDPWD": true, "SHLVL": true, "_": true,
	"TERM": true, "COLORTERM": true, "NO_COLOR": true, "LS_COLORS": true,
	"DISPLAY": true, "SSH_AUTH_SOCK": true, "SSH_CLIENT": true, "SSH_CONNECTION": true, "SSH_TTY": true,
	"MAIL": true, "PS1": true, "HISTFILE": true, "WINDOWID": true, "TMUX": true, "TMUX_PANE": true, "STY": true,
	// Set by hyperfine to a random length on every run.
	"HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET": true,
	"PACKYARD_CACHE_DIR":                      true, "PACKYARD_CACHE_SIZE": true, "PACKYARD_NO_CACHE": true,
	// The signing key's material never enters a key, nor the cache
	// directory: keys hold its fingerprint.
	"PACKYARD_GPG_KEY": true, "PACKYARD_GPG_PASSPHRASE": true,
}

// envForKey is env as exec sees it (the last of duplicates wins), sorted,
// without volatileEnv.
func envForKey(env []string) []string {
	last := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		last[k] = v
	}
	out := make([]string, 0, len(last))
	for k, v := range last {
		if !volatileEnv[k] {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

// key starts a cache key of kind with what every stage's key holds: the
// tool, the spec, the flavour, the version (every spelling, the commit and
// its time, which is SOURCE_DATE_EPOCH) and the environment.
func (c *Context) key(kind string) *stagecache.Key {
	k := c.unversionedKey(kind)
	k.JSON("version", c.Version)
	return k
}

// unversionedKey is key without the version, for a stage that does not
// take it (codegen), so that a version bump does not run it again.
func (c *Context) unversionedKey(kind string) *stagecache.Key {
	k := stagecache.NewKey(kind)
	k.String("tool", c.cache.tool)
	k.String("spec", c.cache.spec)
	k.String("flavour", c.Options.Flavour)
	k.Strings("env", c.cache.env)
	return k
}

// goEnvKey is `go env -json` in dir with env, less the entries naming
// temporary paths: what the go command makes of the environment, the
// toolchain (GOROOT, GOVERSION, a go.mod toolchain line) included.
func (c *Context) goEnvKey(dir string, env []string) (string, error) {
	id := strings.Join(env, "\x00") + "\x00" + dir
	c.cache.mu.Lock()
	run, ok := c.cache.goEnv[id]
	if !ok {
		run = sync.OnceValues(func() (string, error) { return c.goEnv(dir, env) })
		c.cache.goEnv[id] = run
	}
	c.cache.mu.Unlock()
	return run()
}

// goEnv runs go env -json for goEnvKey.
func (c *Context) goEnv(dir string, env []string) (string, error) {
	cmd := exec.CommandContext(c, "go", "env", "-json")
	cmd.Dir, cmd.Env = dir, env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("stage cache: go env: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var vars map[string]string
	if err := json.Unmarshal(out, &vars); err != nil {
		return "", fmt.Errorf("stage cache: go env: %w", err)
	}
	// Paths in the work directory, different on every run; the go.mod
	// and go.work they name are in the tree digest.
	for _, k := range []string{"GOMOD", "GOWORK", "GOGCCFLAGS"} {
		delete(vars, k)
	}
	b, _ := json.Marshal(vars) // sorted keys
	return string(b), nil
}

// rpmbuildKey names the host's rpmbuild (path and version), which writes
// srpms and, with --builder rpmbuild, rpms; "" when there is none.
func (c *Context) rpmbuildKey() string {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	if c.cache.rpmTool != nil {
		return *c.cache.rpmTool
	}
	id := ""
	if p, err := exec.LookPath("rpmbuild"); err == nil {
		out, _ := exec.CommandContext(c, p, "--version").Output()
		id = p + " " + strings.TrimSpace(string(out))
	}
	c.cache.rpmTool = &id
	return id
}

// signingKey names the signing key by fingerprint and key id, never by
// its material; "" when unsigned.
func (c *Context) signingKey() (string, error) {
	if c.Options.Signing == nil {
		return "", nil
	}
	key, err := sign.FromSigning(c.Options.Signing)
	if err != nil {
		return "", &UsageError{Err: err}
	}
	return key.Fingerprint() + "/" + key.KeyID(), nil
}

// markCached notes that id's outputs came from the cache.
func (c *Context) markCached(id string) {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	c.cache.cached[id] = true
}

func (c *Context) wasCached(id string) bool {
	if c.cache == nil {
		return false
	}
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	return c.cache.cached[id]
}

// restore restores entry key into root, true on a hit. A failure of the
// cache itself is reported and taken as a miss: the stage runs. The
// restored files' sums, verified on the way, are noted for fileSum.
func (c *Context) restore(key, root string, meta any) bool {
	files, err := c.cache.store.Restore(key, root, meta)
	if err != nil {
		c.Options.Progress.Note(err.Error())
		return false
	}
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f.Name))
		if st, err := os.Stat(p); err == nil && st.Size() == f.Size {
			c.cache.mu.Lock()
			c.cache.sums[p] = fileSum{st.Size(), st.ModTime(), f.SHA256}
			c.cache.mu.Unlock()
		}
	}
	return files != nil
}

// fileSum is the sha256 (hex) and size of the file at path, read once per
// run: a file whose size and mtime are those it had when its sum was
// taken (or when it was restored and verified) is not read again.
// Without the stage cache, every call reads the file.
func (c *Context) fileSum(path string) (string, int64, error) {
	before, err := os.Stat(path)
	if err != nil {
		return "", 0, err
	}
	if !before.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%s: not a regular file", path)
	}
	if c.cache != nil {
		c.cache.mu.Lock()
		m, ok := c.cache.sums[path]
		c.cache.mu.Unlock()
		if ok && m.size == before.Size() && m.mtime.Equal(before.ModTime()) {
			return m.sum, m.size, nil
		}
	}
	sum, err := stagecache.FileSHA256(path)
	if err != nil {
		return "", 0, err
	}
	// Noted only when the file did not change while it was read.
	if after, err := os.Stat(path); c.cache != nil && err == nil && after.Size() == before.Size() && after.ModTime().Equal(before.ModTime()) {
		c.cache.mu.Lock()
		c.cache.sums[path] = fileSum{after.Size(), after.ModTime(), sum}
		c.cache.mu.Unlock()
	}
	return sum, before.Size(), nil
}

// keyFile adds the sum of the file at path to k, as k.File does.
func (c *Context) keyFile(k *stagecache.Key, name, path string) {
	sum, _, err := c.fileSum(path)
	k.FileSum(name, sum, err)
}

// save stores the files names of root as entry key. A cache that cannot
// store is reported and the build goes on: its outputs are in dist/.
func (c *Context) save(key, root string, names []string, meta any) {
	if err := c.cache.store.Put(key, root, names, meta); err != nil {
		c.Options.Progress.Note(err.Error())
	}
}

// treeFile is one file of a work tree as keys and codegen's entries see it.
type treeFile struct {
	Mode fs.FileMode
	Link string
	Sum  string
}

// readTree reads every file under dir with its mode and sha256 (or link
// target).
func readTree(dir string) (map[string]treeFile, error) {
	files := map[string]treeFile{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		r, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := treeFile{Mode: info.Mode()}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if f.Link, err = os.Readlink(p); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			if f.Sum, err = stagecache.FileSHA256(p); err != nil {
				return err
			}
		}
		files[filepath.ToSlash(r)] = f
		return nil
	})
	return files, err
}

// treeDigest is one sha256 over a tree's names, modes, links and contents.
func treeDigest(files map[string]treeFile) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		f := files[n]
		fmt.Fprintf(h, "%q %o %q %s\n", n, uint32(f.Mode), f.Link, f.Sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// workTree is the digest of the work copy as compile and package read it:
// after codegen, which records it, or as unpacked when codegen is skipped.
func (c *Context) workTree() (string, error) {
	c.cache.mu.Lock()
	tree := c.cache.tree
	c.cache.mu.Unlock()
	if tree != "" {
		return tree, nil
	}
	files, err := readTree(c.SourceDir)
	if err != nil {
		return "", fmt.Errorf("stage cache: %w", err)
	}
	c.setWorkTree(treeDigest(files))
	return c.workTree()
}

func (c *Context) setWorkTree(digest string) {
	c.cache.mu.Lock()
	defer c.cache.mu.Unlock()
	c.cache.tree = digest
}

// codegenChange is codegen's entry: the files it wrote are the entry's
// files; those it removed are listed.
type codegenChange struct {
	Removed []string `json:"removed,omitempty"`
	// Symlinks codegen made or changed, which entries do not store.
	Links map[string]string `json:"links,omitempty"`
}

// treeChange lists what turned before into after: files added or changed
// (regular files), symbolic links made or changed, and files removed.
func treeChange(before, after map[string]treeFile) (written []string, ch codegenChange) {
	for n, a := range after {
		if b, ok := before[n]; ok && b == a {
			continue
		}
		if a.Link != "" {
			if ch.Links == nil {
				ch.Links = map[string]string{}
			}
			ch.Links[n] = a.Link
			continue
		}
		written = append(written, n)
	}
	for n := range before {
		if _, ok := after[n]; !ok {
			ch.Removed = append(ch.Removed, n)
		}
	}
	sort.Strings(written)
	sort.Strings(ch.Removed)
	return written, ch
}

// apply makes codegen's removals and links in dir (its files are
// restored by the cache).
func (ch codegenChange) apply(dir string) error {
	for _, n := range ch.Removed {
		if !filepath.IsLocal(filepath.FromSlash(n)) {
			return fmt.Errorf("stage cache: %q outside the work copy", n)
		}
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(n))); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	for n, link := range ch.Links {
		if !filepath.IsLocal(filepath.FromSlash(n)) {
			return fmt.Errorf("stage cache: %q outside the work copy", n)
		}
		p := filepath.Join(dir, filepath.FromSlash(n))
		os.Remove(p)
		if err := os.Symlink(link, p); err != nil {
			return err
		}
	}
	return nil
}

// stageArtifacts lists the dist/ paths recorded for plan stage id.
func (c *Context) stageArtifacts(id string) []string {
	var out []string
	for _, a := range c.Artifacts() {
		if a.Stage == id {
			out = append(out, a.Path)
		}
	}
	return out
}
