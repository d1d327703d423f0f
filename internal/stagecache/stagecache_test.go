package stagecache

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// keyOf is a valid key for a test label.
func keyOf(t *testing.T, label string) string {
	t.Helper()
	k := NewKey("test")
	k.String("label", label)
	s, err := k.Sum()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeFiles writes name→content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) []string {
	t.Helper()
	var names []string
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

func open(t *testing.T, dir string, max int64) (*Cache, *[]string) {
	t.Helper()
	c, err := Open(dir, max)
	if err != nil {
		t.Fatal(err)
	}
	var logged []string
	var mu sync.Mutex
	c.Log = func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		logged = append(logged, msg)
	}
	return c, &logged
}

func TestPutGet(t *testing.T) {
	c, logged := open(t, t.TempDir(), 0)
	src := t.TempDir()
	names := writeFiles(t, src, map[string]string{"binaries/a": "binary a", "rpm/b.rpm": "package b"})
	key := keyOf(t, "put-get")
	type meta struct{ Files []string }

	dst := t.TempDir()
	if ok, err := c.Get(key, dst, nil); ok || err != nil {
		t.Fatalf("Get before Put: %v, %v", ok, err)
	}
	if err := c.Put(key, src, names, meta{names}); err != nil {
		t.Fatal(err)
	}
	var got meta
	if ok, err := c.Get(key, dst, &got); !ok || err != nil {
		t.Fatalf("Get after Put: %v, %v", ok, err)
	}
	if len(got.Files) != 2 {
		t.Errorf("meta: %v", got)
	}
	for _, name := range names {
		a, _ := os.ReadFile(filepath.Join(src, name))
		b, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: restored %q (%v), stored %q", name, b, err, a)
		}
		if st, err := os.Stat(filepath.Join(dst, name)); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v (%v), want 0755", name, st.Mode(), err)
		}
	}
	if ok, _ := c.Get(keyOf(t, "other"), t.TempDir(), nil); ok {
		t.Error("another key hit")
	}
	// Restore gives each restored file's verified size and sum.
	files, err := c.Restore(key, t.TempDir(), nil)
	if err != nil || len(files) != len(names) {
		t.Fatalf("Restore: %v, %v", files, err)
	}
	for _, f := range files {
		want, err := FileSHA256(filepath.Join(src, f.Name))
		if err != nil || f.SHA256 != want || f.Size != int64(len("binary a")) && f.Size != int64(len("package b")) {
			t.Errorf("Restore: %+v, want sha256 %s (%v)", f, want, err)
		}
	}
	if files, err := c.Restore(keyOf(t, "other"), t.TempDir(), nil); files != nil || err != nil {
		t.Errorf("Restore of a missing entry: %v, %v", files, err)
	}
	if len(*logged) > 0 {
		t.Errorf("logged %q", *logged)
	}
}

// TestDamagedEntry damages a stored entry in each way a disk or a killed
// process can: every one must be a miss that leaves no file behind,
// remove the entry and log it; a Put after it stores the entry again.
func TestDamagedEntry(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, entry string)
	}{
		{"changed byte", func(t *testing.T, entry string) {
			p := filepath.Join(entry, "files", "1")
			b, _ := os.ReadFile(p)
			b[0] ^= 0xff
			os.WriteFile(p, b, 0o644)
		}},
		{"truncated", func(t *testing.T, entry string) {
			if err := os.Truncate(filepath.Join(entry, "files", "1"), 3); err != nil {
				t.Fatal(err)
			}
		}},
		{"longer", func(t *testing.T, entry string) {
			f, _ := os.OpenFile(filepath.Join(entry, "files", "1"), os.O_APPEND|os.O_WRONLY, 0)
			f.WriteString("more")
			f.Close()
		}},
		{"file missing", func(t *testing.T, entry string) {
			if err := os.Remove(filepath.Join(entry, "files", "0")); err != nil {
				t.Fatal(err)
			}
		}},
		{"index truncated", func(t *testing.T, entry string) {
			if err := os.Truncate(filepath.Join(entry, indexFile), 10); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, logged := open(t, t.TempDir(), 0)
			src := t.TempDir()
			names := []string{"a", "sub/b"}
			writeFiles(t, src, map[string]string{"a": "first file", "sub/b": "second file"})
			key := keyOf(t, tt.name)
			if err := c.Put(key, src, names, nil); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, c.entryDir(key))

			dst := t.TempDir()
			if ok, err := c.Get(key, dst, nil); ok || err != nil {
				t.Fatalf("damaged entry: hit %v, err %v", ok, err)
			}
			for _, n := range names {
				if _, err := os.Stat(filepath.Join(dst, n)); err == nil {
					t.Errorf("%s restored from a damaged entry", n)
				}
			}
			if len(*logged) != 1 || !strings.Contains((*logged)[0], "damaged") {
				t.Errorf("log: %q", *logged)
			}
			if _, err := os.Stat(c.entryDir(key)); err == nil {
				t.Error("damaged entry still there")
			}
			// The stage runs again and stores its result afresh.
			if err := c.Put(key, src, names, nil); err != nil {
				t.Fatal(err)
			}
			if ok, err := c.Get(key, dst, nil); !ok || err != nil {
				t.Fatalf("after re-Put: %v, %v", ok, err)
			}
		})
	}
}

// TestEvictLeastRecentlyUsed fills a cache past its cap: the entries
// used longest ago go first, and one just read stays.
func TestEvictLeastRecentlyUsed(t *testing.T) {
	const size = 1000
	c, _ := open(t, t.TempDir(), 3*size+size/2) // room for three entries
	src := t.TempDir()
	writeFiles(t, src, map[string]string{"f": strings.Repeat("x", size)})
	keys := make([]string, 5)
	base := time.Now().Add(-time.Hour)
	for i := range 4 {
		keys[i] = keyOf(t, fmt.Sprint(i))
		if err := c.Put(keys[i], src, []string{"f"}, nil); err != nil {
			t.Fatal(err)
		}
		// Times of use an hour ago, a minute apart: 0 is the oldest.
		at := base.Add(time.Duration(i) * time.Minute)
		if err := os.Chtimes(filepath.Join(c.entryDir(keys[i]), indexFile), at, at); err != nil {
			t.Fatal(err)
		}
	}
	// Four entries of 1000 bytes (plus their small indexes) do not fit
	// 3500: the oldest, 0, went when the fourth was stored.
	if ok, _ := c.Get(keys[0], t.TempDir(), nil); ok {
		t.Error("entry 0 (least recently used) was kept")
	}
	// Reading 1 makes it the most recently used: storing a fifth evicts 2.
	if ok, _ := c.Get(keys[1], t.TempDir(), nil); !ok {
		t.Fatal("entry 1 missing")
	}
	keys[4] = keyOf(t, "4")
	if err := c.Put(keys[4], src, []string{"f"}, nil); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, true, false, true, true} {
		if _, err := os.Stat(c.entryDir(keys[i])); (err == nil) != want {
			t.Errorf("entry %d: present %v, want %v", i, err == nil, want)
		}
	}
	// The leftover of a killed build goes with the next eviction.
	stale := filepath.Join(c.dir, "tmp", "put-killed")
	if err := os.Mkdir(stale, 0o755); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * staleTemp)
	os.Chtimes(stale, old, old)
	if err := c.Put(keyOf(t, "5"), src, []string{"f"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); err == nil {
		t.Error("stale temporary directory kept")
	}
	total, err := c.Size()
	if err != nil {
		t.Fatal(err)
	}
	if total > 3*size+size/2 {
		t.Errorf("cache holds %d bytes, cap %d", total, 3*size+size/2)
	}
}

// TestConcurrentWriters has several writers, each with its own Cache on
// the same directory (as two builds at once have), store and read the
// same keys: every read is a whole, verified entry or a miss.
func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	src := t.TempDir()
	payload := strings.Repeat("0123456789", 50_000)
	writeFiles(t, src, map[string]string{"a": payload, "b/c": payload[:1000]})
	keys := []string{keyOf(t, "x"), keyOf(t, "y")}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Open(dir, 0)
			if err != nil {
				errs <- err
				return
			}
			c.Log = func(msg string) { errs <- fmt.Errorf("writer %d: %s", w, msg) }
			for i := range 10 {
				key := keys[(w+i)%2]
				dst := filepath.Join(t.TempDir(), "out")
				ok, err := c.Get(key, dst, nil)
				if err != nil {
					errs <- err
					return
				}
				if !ok {
					if err := c.Put(key, src, []string{"a", "b/c"}, nil); err != nil {
						errs <- err
						return
					}
					continue
				}
				if b, err := os.ReadFile(filepath.Join(dst, "a")); err != nil || string(b) != payload {
					errs <- fmt.Errorf("writer %d: restored a of %d bytes (%v)", w, len(b), err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	leftovers, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestKeyEncoding(t *testing.T) {
	sum := func(f func(k *Key)) string {
		k := NewKey("t")
		f(k)
		s, err := k.Sum()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// Values that concatenate alike must not key alike.
	a := sum(func(k *Key) { k.String("x", "ab"); k.String("y", "c") })
	b := sum(func(k *Key) { k.String("x", "a"); k.String("y", "bc") })
	c := sum(func(k *Key) { k.Strings("x", []string{"a", "b"}) })
	d := sum(func(k *Key) { k.Strings("x", []string{"ab"}) })
	if a == b || c == d {
		t.Error("length-prefixed encoding collides")
	}
	k := NewKey("t")
	k.File("missing", filepath.Join(t.TempDir(), "nope"))
	if _, err := k.Sum(); err == nil {
		t.Error("a key of a missing file has no error")
	}
	// FileSum with the file's sum keys as File does.
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, []byte("bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	fsum, err := FileSHA256(f)
	if err != nil {
		t.Fatal(err)
	}
	if sum(func(k *Key) { k.File("f", f) }) != sum(func(k *Key) { k.FileSum("f", fsum, nil) }) {
		t.Error("FileSum keys otherwise than File")
	}
	if _, err := (&Cache{}).Get("../../etc", t.TempDir(), nil); err == nil {
		t.Error("a malformed key is accepted")
	}
}
