package version

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FileName is the name of the version file written into every source
// tarball, so that a build without git gets the same version, commit and
// time as the build from the work tree.
const FileName = ".version"

// commitRE accepts SHA-1 and SHA-256 object names.
var commitRE = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// Format returns the bytes of a .version file for v: the product version on
// the first line, then "commit <sha>" and "time <unix seconds>" lines when
// known.
func Format(v Version) []byte {
	var b bytes.Buffer
	b.WriteString(v.Product)
	b.WriteByte('\n')
	if v.Commit != "" {
		fmt.Fprintf(&b, "commit %s\n", v.Commit)
	}
	if !v.Time.IsZero() {
		fmt.Fprintf(&b, "time %d\n", v.Time.Unix())
	}
	return b.Bytes()
}

// ReadFile reads dir/.version. The first line is the product version; the
// optional "commit" and "time" lines fill Commit and Time. A file holding
// only the version is accepted.
func ReadFile(dir string) (Version, error) {
	name := filepath.Join(dir, FileName)
	data, err := os.ReadFile(name)
	if err != nil {
		return Version{}, fmt.Errorf("version file: %w", err)
	}
	return parseFile(name, data)
}

// ParseFile parses the contents of a .version file read from elsewhere
// than a directory (a source tarball); name is used in errors.
func ParseFile(name string, data []byte) (Version, error) { return parseFile(name, data) }

// parseFile parses the contents of a .version file; name is used in errors.
func parseFile(name string, data []byte) (Version, error) {
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	first := strings.TrimSpace(lines[0])
	if first == "" {
		return Version{}, fmt.Errorf("%s:1: empty version line", name)
	}
	v, err := Parse(first)
	if err != nil {
		return Version{}, fmt.Errorf("%s:1: %w", name, err)
	}
	seen := map[string]bool{}
	for i, line := range lines[1:] {
		lineNo := i + 2
		// Tolerate CRLF and blank lines: the file may have passed through
		// an editor on its way into a tarball.
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, value, ok := strings.Cut(line, " ")
		value = strings.TrimSpace(value)
		if !ok || value == "" {
			return Version{}, fmt.Errorf("%s:%d: want \"commit <sha>\" or \"time <unix seconds>\", got %q", name, lineNo, line)
		}
		if seen[key] {
			return Version{}, fmt.Errorf("%s:%d: %s: given twice", name, lineNo, key)
		}
		seen[key] = true
		switch key {
		case "commit":
			if !commitRE.MatchString(value) {
				return Version{}, fmt.Errorf("%s:%d: commit %q: want a full lower-case hex commit id", name, lineNo, value)
			}
			v.Commit = value
		case "time":
			t, err := parseEpoch(value)
			if err != nil {
				return Version{}, fmt.Errorf("%s:%d: time: %w", name, lineNo, err)
			}
			v.Time = t
		default:
			return Version{}, fmt.Errorf("%s:%d: unknown field %q (want commit or time)", name, lineNo, key)
		}
	}
	return v, nil
}

// parseEpoch parses decimal Unix seconds, as in SOURCE_DATE_EPOCH.
func parseEpoch(s string) (time.Time, error) {
	// ParseInt alone would accept a sign; the convention is digits only.
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strings.Trim(s, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%q: want decimal Unix seconds", s)
	}
	return time.Unix(n, 0).UTC(), nil
}
