// Package stagecache stores the results of pipeline stages under a key of
// exactly their inputs, so that packyard build can restore a stage instead
// of running it again: the idea of a container engine's step cache,
// without the engine.
//
// An entry is a directory named by its key holding the stage's files and
// an index with each file's size and sha256. Entries are written in a
// temporary directory and renamed into place, so a reader sees a whole
// entry or none. Every file is verified against the index as it is
// restored: a corrupted or truncated entry is a miss (and is removed), never
// an output. The cache keeps to a size cap by removing the entries used
// least recently. A lock file serialises the changes of concurrent
// processes; readers share it.
package stagecache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultMaxBytes is the size cap when none is given.
const DefaultMaxBytes = 2 << 30

// indexFile names the index in an entry directory.
const indexFile = "index.json"

// Cache is a stage cache in one directory.
type Cache struct {
	dir string
	max int64
	// Log receives one line for each entry found damaged; nil discards.
	Log func(msg string)
}

// Open opens (creating it if need be) the cache in dir, capped at max
// bytes of stored files (0: DefaultMaxBytes).
func Open(dir string, max int64) (*Cache, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	for _, d := range []string{dir, filepath.Join(dir, "entries"), filepath.Join(dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("stage cache: %w", err)
		}
	}
	return &Cache{dir: dir, max: max}, nil
}

// Dir is the cache's directory.
func (c *Cache) Dir() string { return c.dir }

// File is one stored file of an entry, named relative to the directory it
// is restored into.
type File struct {
	Name   string      `json:"name"`
	Mode   fs.FileMode `json:"mode"`
	Size   int64       `json:"size"`
	SHA256 string      `json:"sha256"`
}

type index struct {
	Files []File          `json:"files"`
	Meta  json.RawMessage `json:"meta,omitempty"`
}

func (c *Cache) entryDir(key string) string {
	return filepath.Join(c.dir, "entries", key[:2], key)
}

func validKey(key string) error {
	if len(key) != 64 || strings.Trim(key, "0123456789abcdef") != "" {
		return fmt.Errorf("stage cache: malformed key %q", key)
	}
	return nil
}

// Get restores the entry key into root: each file is written beside its
// place, verified against the index and renamed into place. It returns
// the entry's metadata and true on a hit. A missing entry is a miss; a
// damaged one (a file missing, short, long or changed, or an unreadable
// index) is logged, removed and a miss, and no file of it is left in root.
func (c *Cache) Get(key, root string, meta any) (bool, error) {
	files, err := c.Restore(key, root, meta)
	return files != nil, err
}

// Restore is Get returning the files restored (with the size and sha256
// each was verified against) on a hit, nil on a miss: callers that hash
// those files again may take the sums instead.
func (c *Cache) Restore(key, root string, meta any) ([]File, error) {
	if err := validKey(key); err != nil {
		return nil, err
	}
	unlock, err := c.lock(unix.LOCK_SH)
	if err != nil {
		return nil, err
	}
	files, damage, err := c.restore(key, root, meta)
	unlock()
	if err != nil {
		return nil, err
	}
	if damage != nil {
		c.logf("stage cache: entry %s is damaged (%v); rebuilding", key[:12], damage)
		for _, f := range files {
			os.Remove(filepath.Join(root, filepath.FromSlash(f.Name)))
		}
		return nil, c.remove(key)
	}
	if files == nil {
		return nil, nil
	}
	// The entry's time of last use, which eviction goes by.
	now := time.Now()
	os.Chtimes(filepath.Join(c.entryDir(key), indexFile), now, now)
	return files, nil
}

// restore copies the entry's files into root. It returns the files
// written, and damage when the entry does not match its index; err is for
// failures of root, not of the entry.
func (c *Cache) restore(key, root string, meta any) (written []File, damage, err error) {
	dir := c.entryDir(key)
	b, err := os.ReadFile(filepath.Join(dir, indexFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, err, nil
	}
	var idx index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("index: %w", err), nil
	}
	if meta != nil && len(idx.Meta) > 0 {
		if err := json.Unmarshal(idx.Meta, meta); err != nil {
			return nil, fmt.Errorf("index meta: %w", err), nil
		}
	}
	written = []File{}
	for i, f := range idx.Files {
		if !filepath.IsLocal(filepath.FromSlash(f.Name)) {
			return written, fmt.Errorf("file %q outside the entry", f.Name), nil
		}
		dst := filepath.Join(root, filepath.FromSlash(f.Name))
		damage, err := copyVerified(filepath.Join(dir, "files", fmt.Sprint(i)), dst, f)
		if damage != nil || err != nil {
			return written, damage, err
		}
		written = append(written, f)
	}
	return written, nil, nil
}

// copyVerified copies src to dst through a temporary file, renamed into
// place only when its size and sha256 are those of f.
func copyVerified(src, dst string, f File) (damage, err error) {
	in, err := os.Open(src)
	if err != nil {
		return err, nil
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	// One byte more than the index says, to tell a long file from a good one.
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(in, f.Size+1))
	if err != nil {
		tmp.Close()
		return fmt.Errorf("%s: %w", f.Name, err), nil
	}
	if err := tmp.Chmod(f.Mode.Perm()); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if n != f.Size {
		return fmt.Errorf("%s: %d bytes, want %d", f.Name, n, f.Size), nil
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != f.SHA256 {
		return fmt.Errorf("%s: sha256 %s, want %s", f.Name, sum[:12], f.SHA256[:12]), nil
	}
	return nil, os.Rename(tmp.Name(), dst)
}

// Put stores the files names (slash-separated, relative to root) and meta
// (any JSON value, nil for none) as the entry key, then evicts the entries
// used least recently until the cache is within its cap. When another
// process stored the same key meanwhile, its entry is kept.
func (c *Cache) Put(key, root string, names []string, meta any) (err error) {
	if err := validKey(key); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Join(c.dir, "tmp"), "put-*")
	if err != nil {
		return fmt.Errorf("stage cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := os.Mkdir(filepath.Join(tmp, "files"), 0o755); err != nil {
		return err
	}
	idx := index{Files: make([]File, len(names))}
	for i, name := range names {
		if !filepath.IsLocal(filepath.FromSlash(name)) {
			return fmt.Errorf("stage cache: %q is not inside %s", name, root)
		}
		f, err := storeFile(filepath.Join(root, filepath.FromSlash(name)), filepath.Join(tmp, "files", fmt.Sprint(i)))
		if err != nil {
			return fmt.Errorf("stage cache: %w", err)
		}
		f.Name = name
		idx.Files[i] = f
	}
	if meta != nil {
		if idx.Meta, err = json.Marshal(meta); err != nil {
			return fmt.Errorf("stage cache: %w", err)
		}
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, indexFile), b, 0o644); err != nil {
		return fmt.Errorf("stage cache: %w", err)
	}
	unlock, err := c.lock(unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	dst := c.entryDir(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("stage cache: %w", err)
	}
	if _, err := os.Stat(dst); err == nil {
		return nil // stored by another build meanwhile: same inputs, same files
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("stage cache: %w", err)
	}
	return c.evict()
}

func storeFile(src, dst string) (File, error) {
	in, err := os.Open(src)
	if err != nil {
		return File{}, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return File{}, err
	}
	if !st.Mode().IsRegular() {
		return File{}, fmt.Errorf("%s: not a regular file", src)
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return File{}, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return File{}, err
	}
	return File{Mode: st.Mode().Perm(), Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// entry is a stored entry as eviction sees it.
type entry struct {
	key  string
	size int64
	used time.Time
}

// staleTemp is the age past which a temporary directory is taken for the
// leftover of a build that was killed, and removed.
const staleTemp = 24 * time.Hour

// evict removes the entries used least recently until the stored files
// fit the cap, and stale temporary directories. The caller holds the
// exclusive lock.
func (c *Cache) evict() error {
	if tmps, err := os.ReadDir(filepath.Join(c.dir, "tmp")); err == nil {
		for _, t := range tmps {
			if info, err := t.Info(); err == nil && time.Since(info.ModTime()) > staleTemp {
				os.RemoveAll(filepath.Join(c.dir, "tmp", t.Name()))
			}
		}
	}
	entries, total, err := c.list()
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].used.Before(entries[j].used) })
	for _, e := range entries {
		if total <= c.max {
			break
		}
		if err := c.removeLocked(e.key); err != nil {
			return err
		}
		total -= e.size
	}
	return nil
}

// list reads every entry's size and time of last use.
func (c *Cache) list() ([]entry, int64, error) {
	var entries []entry
	var total int64
	shards, err := os.ReadDir(filepath.Join(c.dir, "entries"))
	if err != nil {
		return nil, 0, fmt.Errorf("stage cache: %w", err)
	}
	for _, s := range shards {
		keys, err := os.ReadDir(filepath.Join(c.dir, "entries", s.Name()))
		if err != nil {
			continue
		}
		for _, k := range keys {
			e := entry{key: k.Name()}
			dir := filepath.Join(c.dir, "entries", s.Name(), k.Name())
			if st, err := os.Stat(filepath.Join(dir, indexFile)); err == nil {
				e.used = st.ModTime()
			}
			// The files on disk, not the index: a damaged entry counts as
			// what it occupies.
			filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if info, err := d.Info(); err == nil {
						e.size += info.Size()
					}
				}
				return nil
			})
			entries = append(entries, e)
			total += e.size
		}
	}
	return entries, total, nil
}

// Size is the bytes the entries occupy.
func (c *Cache) Size() (int64, error) {
	unlock, err := c.lock(unix.LOCK_SH)
	if err != nil {
		return 0, err
	}
	defer unlock()
	_, total, err := c.list()
	return total, err
}

// remove removes the entry key, under the exclusive lock.
func (c *Cache) remove(key string) error {
	unlock, err := c.lock(unix.LOCK_EX)
	if err != nil {
		return err
	}
	defer unlock()
	return c.removeLocked(key)
}

// removeLocked moves the entry out of entries/ first, so that it
// disappears as a whole even if the removal is cut short.
func (c *Cache) removeLocked(key string) error {
	trash, err := os.MkdirTemp(filepath.Join(c.dir, "tmp"), "evict-*")
	if err != nil {
		return fmt.Errorf("stage cache: %w", err)
	}
	defer os.RemoveAll(trash)
	err = os.Rename(c.entryDir(key), filepath.Join(trash, key))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("stage cache: %w", err)
	}
	return nil
}

// lock takes the cache's lock file, shared or exclusive, and returns the
// function that releases it.
func (c *Cache) lock(how int) (func(), error) {
	f, err := os.OpenFile(filepath.Join(c.dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("stage cache: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stage cache: lock: %w", err)
	}
	return func() {
		unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

func (c *Cache) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(fmt.Sprintf(format, args...))
	}
}
