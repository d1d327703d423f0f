package version

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sha1 = "9eca0e5b1d2c3f4a5b6c7d8e9f00112233445566"

func TestFormatReadFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    Version
		file string
	}{
		{
			name: "full",
			v: Version{Product: "1.2.0-rc1.3-gabcd", RPM: "1.2.0~rc1.3_gabcd", Deb: "1.2.0~rc1.3+gabcd",
				Commit: sha1, Time: time.Unix(1700000000, 0).UTC()},
			file: "1.2.0-rc1.3-gabcd\ncommit " + sha1 + "\ntime 1700000000\n",
		},
		{
			name: "version only",
			v:    Version{Product: "0.26.0acme", RPM: "0.26.0acme", Deb: "0.26.0acme"},
			file: "0.26.0acme\n",
		},
		{
			name: "epoch zero is a time",
			v:    Version{Product: "3", RPM: "3", Deb: "3", Time: time.Unix(0, 0).UTC()},
			file: "3\ntime 0\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(Format(tc.v))
			if got != tc.file {
				t.Errorf("Format = %q, want %q", got, tc.file)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			back, err := ReadFile(dir)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if back != tc.v {
				t.Errorf("ReadFile = %+v, want %+v", back, tc.v)
			}
		})
	}
}

func TestReadFileLenient(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       Version
	}{
		{"no final newline", "v1.0", Version{Product: "1.0", RPM: "1.0", Deb: "1.0"}},
		{"crlf and blank lines", "1.0-rc1\r\n\r\ntime 5\r\n\r\n",
			Version{Product: "1.0-rc1", RPM: "1.0~rc1", Deb: "1.0~rc1", Time: time.Unix(5, 0).UTC()}},
		{"time before commit", "2\ntime 7\ncommit " + sha1 + "\n",
			Version{Product: "2", RPM: "2", Deb: "2", Commit: sha1, Time: time.Unix(7, 0).UTC()}},
		{"sha256 repository", "2\ncommit " + strings.Repeat("ab", 32) + "\n",
			Version{Product: "2", RPM: "2", Deb: "2", Commit: strings.Repeat("ab", 32)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(dir)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if got != tc.want {
				t.Errorf("ReadFile = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestReadFileRejects(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{"empty", "", ".version:1: empty version line"},
		{"blank first line", "\n1.0\n", ".version:1: empty version line"},
		{"bad version", "1.0 final\n", ".version:1: version \"1.0 final\": contains whitespace"},
		{"short commit", "1.0\ncommit 9eca\n", ".version:2: commit \"9eca\""},
		{"upper-case commit", "1.0\ncommit " + strings.ToUpper(sha1) + "\n", ".version:2: commit"},
		{"bad time", "1.0\ncommit " + sha1 + "\ntime yesterday\n", ".version:3: time: \"yesterday\""},
		{"negative time", "1.0\ntime -1\n", ".version:2: time"},
		{"signed time", "1.0\ntime +1\n", ".version:2: time"},
		{"unknown field", "1.0\n\nbranch main\n", ".version:3: unknown field \"branch\""},
		{"key without value", "1.0\ncommit\n", ".version:2: want \"commit <sha>\""},
		{"twice", "1.0\ntime 1\ntime 2\n", ".version:3: time: given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			v, err := ReadFile(dir)
			if err == nil {
				t.Fatalf("ReadFile = %+v, want an error", v)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), dir) {
				t.Errorf("ReadFile error %q, want the file's path and %q", err, tc.want)
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		_, err := ReadFile(t.TempDir())
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile of a directory without .version: %v, want a not-exist error", err)
		}
	})
}
