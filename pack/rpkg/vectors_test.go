package rpkg

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"
)

func ruleSet(fs []Finding) string {
	seen := map[string]bool{}
	for _, f := range fs {
		seen[string(f.Rule)] = true
	}
	var rules []string
	for r := range seen {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	return strings.Join(rules, ",")
}

func TestVectorNotify(t *testing.T) {
	data := readVector(t, "rudder-plugin-notify-8.0.0-2.2.rpkg")
	p, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if p.Metadata.Name != "rudder-plugin-notify" || p.Metadata.Version != "8.0.0-2.2" || p.Metadata.Content["files.txz"] != "/opt/rudder/" {
		t.Errorf("metadata = %+v", p.Metadata)
	}
	files, _ := p.Tarball("files.txz")
	var paths []string
	for _, e := range files.Entries {
		paths = append(paths, e.Path)
	}
	if got, want := strings.Join(paths, " "), "share/ share/python/ share/python/glpi.py share/python/notifyd.py"; got != want {
		t.Errorf("files.txz = %s, want %s", got, want)
	}
	s := p.Inspect()
	if len(s.Scripts) != 1 || s.Scripts[0].Name != "postinst" || s.Scripts[0].Mode != "0755" || !strings.HasPrefix(s.Scripts[0].Body, "#!") {
		t.Errorf("scripts = %+v", s.Scripts)
	}
	if files.Check != "CRC64" {
		t.Errorf("check = %s", files.Check)
	}

	fs := Verify(bytes.NewReader(data), int64(len(data)))
	if HasErrors(fs) {
		t.Errorf("notify is valid, Verify found errors: %v", findingsOf(fs, Error))
	}
	want := []string{
		"warning: files.txz: header mtime 1697806595, uid 1000, gid 1000, mode 100644; ar rcD writes 0, 0, 0, 644 [ar-header]",
		"warning: metadata: depends: depends.python is deprecated and ignored by Rudder 8.1+ [metadata-field]",
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestVectorBrokenArchive(t *testing.T) {
	data := readVector(t, "broken-archive.rpkg")
	p, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Open (listing only): %v", err)
	}
	if p.Metadata.Name != "rudder-plugin-system-updates" {
		t.Errorf("name = %s", p.Metadata.Name)
	}
	fs := Verify(bytes.NewReader(data), int64(len(data)))
	errs := findingsOf(fs, Error)
	if got := ruleSet(errs); got != "tar-duplicate,tar-hardlink" {
		t.Errorf("error rules = %s, want tar-duplicate,tar-hardlink", got)
	}
	const sql = "system-updates/system-update-schema.sql"
	wantSQL := []Finding{
		{Severity: Error, Rule: RuleTarDuplicate, Member: "files.txz", Path: sql, Message: "path appears more than once"},
		{Severity: Error, Rule: RuleTarHardlink, Member: "files.txz", Path: sql, Message: fmt.Sprintf("hardlink to %q: installers refuse hardlinks", sql)},
	}
	var gotSQL []Finding
	hardlinks := 0
	for _, f := range errs {
		if f.Path == sql {
			gotSQL = append(gotSQL, f)
		}
		if f.Rule == RuleTarHardlink {
			hardlinks++
		}
	}
	if fmt.Sprint(gotSQL) != fmt.Sprint(wantSQL) {
		t.Errorf("findings on %s = %v, want %v", sql, gotSQL, wantSQL)
	}
	// `tar -tvJ` counts 39 "link to" entries in this vector.
	if hardlinks != 39 {
		t.Errorf("%d hardlink findings, want 39", hardlinks)
	}
}

func TestVectorWithMetadata(t *testing.T) {
	data := readVector(t, "with_metadata.rpkg")
	p, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if p.Metadata.Name != "rudder-plugin-aix" || p.Metadata.Version != "8.0.0~rc1-2.1" {
		t.Errorf("metadata = %+v", p.Metadata)
	}
	if len(p.Members) != 3 || p.Members[2].Name != "metadata" || len(p.Tarballs) != 0 {
		t.Errorf("members = %+v, tarballs = %+v", p.Members, p.Tarballs)
	}
	errs := findingsOf(Verify(bytes.NewReader(data), int64(len(data))), Error)
	want := []string{
		"error: metadata: content: content lists files.txz but there is no such member [content-members]",
		"error: no scripts.txz member (it must be present, possibly an empty tar) [scripts-missing]",
	}
	if got := fmt.Sprint(errs); got != fmt.Sprint(want) {
		t.Errorf("errors = %v\nwant %v", got, want)
	}
}

func TestVectorMalformedMetadata(t *testing.T) {
	data := readVector(t, "malformed_metadata.rpkg")
	const reason = `invalid JSON at line 4, column 3: invalid character '"' after object key:value pair`
	_, err := Open(bytes.NewReader(data), int64(len(data)))
	if err == nil || !strings.Contains(err.Error(), reason) {
		t.Fatalf("Open err = %v, want %q", err, reason)
	}
	errs := findingsOf(Verify(bytes.NewReader(data), int64(len(data))), Error)
	if len(errs) == 0 || errs[0].Rule != RuleMetadataJSON || errs[0].Message != reason {
		t.Errorf("errors = %v, want first %q", errs, reason)
	}
}

func TestVectorWithoutMetadata(t *testing.T) {
	data := readVector(t, "without_metadata.rpkg")
	_, err := Open(bytes.NewReader(data), int64(len(data)))
	if err == nil || err.Error() != `rpkg: no "metadata" member [metadata-missing]` {
		t.Fatalf("Open err = %v", err)
	}
	errs := findingsOf(Verify(bytes.NewReader(data), int64(len(data))), Error)
	if got := ruleSet(errs); got != "metadata-missing,scripts-missing" {
		t.Errorf("error rules = %s", got)
	}
}

func BenchmarkVerifyBrokenArchive(b *testing.B) {
	data := readVector(b, "broken-archive.rpkg")
	for b.Loop() {
		Verify(bytes.NewReader(data), int64(len(data)))
	}
}
