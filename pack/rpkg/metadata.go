package rpkg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Metadata is the JSON document in an .rpkg's "metadata" member. Field
// order here is the key order written, so the output is stable.
type Metadata struct {
	Type            string            `json:"type"`
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	BuildDate       string            `json:"build-date"`
	BuildCommit     string            `json:"build-commit"`
	Content         map[string]string `json:"content"`
	Description     string            `json:"description,omitempty"`
	JarFiles        []string          `json:"jar-files,omitempty"`
	Depends         *Depends          `json:"depends,omitempty"`
	RequiresLicense *bool             `json:"requires-license,omitempty"`
}

// Depends lists what a plugin needs on the target host.
type Depends struct {
	Binary []string `json:"binary,omitempty"`
	Apt    []string `json:"apt,omitempty"`
	RPM    []string `json:"rpm,omitempty"`
	// Python is deprecated by Rudder but still found in published plugins.
	Python []string `json:"python,omitempty"`
}

var (
	nameRE = regexp.MustCompile(`^rudder-plugin-[a-z0-9-]+$`)
	// Rudder part: X.Y (old) or X.Y.Z with an optional ~alphaN/~betaN/~rcN.
	rudderVersionRE = regexp.MustCompile(`^(?:[0-9]+\.[0-9]+|[0-9]+\.[0-9]+\.[0-9]+(?:~(?:alpha|beta|rc)[0-9]+)?)$`)
	// Plugin part: N.N with an optional -nightly.
	pluginVersionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(?:-nightly)?$`)
	commitRE        = regexp.MustCompile(`^[0-9a-f]{7,64}$`)
)

// metadataKeys are the keys Rudder's installers know; others are ignored
// by them and flagged by Verify.
var metadataKeys = []string{"type", "name", "version", "build-date", "build-commit", "content",
	"description", "jar-files", "depends", "requires-license"}

// CheckName reports whether name is a valid plugin package name. Rudder's
// installers use it as a path without checking it, so it must be strict.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("name %q does not match ^rudder-plugin-[a-z0-9-]+$", name)
	}
	return nil
}

// CheckVersion reports whether v is a full Rudder plugin version,
// "<rudder version>-<plugin version>", e.g. "8.1.0-0.26" or
// "10.0.0~alpha2-2.1-nightly".
func CheckVersion(v string) error {
	rudder, plugin, ok := strings.Cut(v, "-")
	if !ok {
		return fmt.Errorf("version %q: want <rudder version>-<plugin version>, e.g. 8.1.0-2.5", v)
	}
	if !rudderVersionRE.MatchString(rudder) {
		return fmt.Errorf("version %q: Rudder part %q is not X.Y or X.Y.Z[~alphaN|~betaN|~rcN]", v, rudder)
	}
	if !pluginVersionRE.MatchString(plugin) {
		return fmt.Errorf("version %q: plugin part %q is not N.N[-nightly]", v, plugin)
	}
	return nil
}

// ParseMetadata decodes a metadata member strictly: UTF-8 without BOM, one
// JSON object, the known keys with their JSON types, nothing after it.
// Syntax errors name the line and column.
func ParseMetadata(data []byte) (*Metadata, error) {
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		return nil, errors.New("metadata starts with a UTF-8 byte order mark")
	}
	if !utf8.Valid(data) {
		return nil, errors.New("metadata is not valid UTF-8")
	}
	// Validate the syntax first so that the error carries a position.
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(data, se.Offset)
			return nil, fmt.Errorf("metadata: invalid JSON at line %d, column %d: %v", line, col, se)
		}
		return nil, fmt.Errorf("metadata: invalid JSON: %w", err)
	}
	var m Metadata
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			line, col := lineCol(data, te.Offset)
			return nil, fmt.Errorf("metadata: key %q at line %d, column %d: want a JSON %s, got %s", te.Field, line, col, te.Type, te.Value)
		}
		return nil, fmt.Errorf("metadata: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("metadata: data after the JSON object")
	}
	if err := checkTopKeys(data); err != nil {
		return nil, err
	}
	return &m, nil
}

// checkTopKeys makes sure the document is an object whose keys appear once:
// encoding/json keeps the last of duplicate keys, serde (Rudder 8.1+)
// refuses them.
func checkTopKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return errors.New("metadata: want a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		key, _ := tok.(string)
		if seen[key] {
			line, col := lineCol(data, dec.InputOffset())
			return fmt.Errorf("metadata: key %q repeated at line %d, column %d", key, line, col)
		}
		seen[key] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
	}
	return nil
}

// lineCol turns a byte offset (as json errors give, pointing just past the
// offending byte) into a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off > 0 {
		off-- // json reports the offset after the bad byte
	}
	line, col = 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// check returns the rule violations of metadata that decoded: required
// keys, the name and version grammars, the date, absolute paths.
func (m *Metadata) check(raw []byte, fs *findings) {
	const member = "metadata"
	var obj map[string]json.RawMessage
	_ = json.Unmarshal(raw, &obj) // raw already decoded into m
	for _, k := range []string{"type", "name", "version", "build-date", "build-commit", "content"} {
		if _, ok := obj[k]; !ok {
			fs.add(Error, RuleMetadataField, member, k, "required key is missing")
		}
	}
	for k := range obj {
		known := false
		for _, kk := range metadataKeys {
			known = known || k == kk
		}
		if !known {
			fs.add(Warning, RuleMetadataField, member, k, "unknown key, ignored by installers")
		}
	}
	if _, ok := obj["type"]; ok && m.Type != "plugin" {
		fs.add(Error, RuleMetadataField, member, "type", fmt.Sprintf("type is %q, want \"plugin\"", m.Type))
	}
	if _, ok := obj["name"]; ok {
		if err := CheckName(m.Name); err != nil {
			fs.add(Error, RuleMetadataField, member, "name", err.Error())
		}
	}
	if _, ok := obj["version"]; ok {
		if err := CheckVersion(m.Version); err != nil {
			fs.add(Error, RuleMetadataField, member, "version", err.Error())
		}
	}
	if _, ok := obj["build-date"]; ok {
		if _, err := time.Parse(time.RFC3339, m.BuildDate); err != nil {
			fs.add(Error, RuleMetadataField, member, "build-date", fmt.Sprintf("build-date %q is not RFC 3339", m.BuildDate))
		}
	}
	if _, ok := obj["build-commit"]; ok && strings.TrimSpace(m.BuildCommit) == "" {
		fs.add(Error, RuleMetadataField, member, "build-commit", "build-commit is empty")
	} else if ok && !commitRE.MatchString(m.BuildCommit) {
		fs.add(Warning, RuleMetadataField, member, "build-commit", fmt.Sprintf("build-commit %q is not a hex git commit id", m.BuildCommit))
	}
	if c, ok := obj["content"]; ok && string(c) == "null" {
		fs.add(Error, RuleMetadataField, member, "content", "content is null, want an object")
	}
	for _, name := range sortedKeys(m.Content) {
		dest := m.Content[name]
		if !strings.HasSuffix(name, ".txz") || strings.Contains(name, "/") {
			fs.add(Error, RuleMetadataField, member, "content", fmt.Sprintf("content key %q is not a .txz member name", name))
		}
		if name == scriptsMember {
			fs.add(Error, RuleMetadataField, member, "content", "content must not list scripts.txz")
		}
		if !path.IsAbs(dest) {
			fs.add(Error, RuleMetadataField, member, "content", fmt.Sprintf("destination %q of %s is not absolute", dest, name))
		}
	}
	for _, j := range m.JarFiles {
		if !path.IsAbs(j) {
			fs.add(Error, RuleMetadataField, member, "jar-files", fmt.Sprintf("jar file %q is not an absolute path", j))
		}
	}
	if m.Depends != nil && len(m.Depends.Python) > 0 {
		fs.add(Warning, RuleMetadataField, member, "depends", "depends.python is deprecated and ignored by Rudder 8.1+")
	}
}
