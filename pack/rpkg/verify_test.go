package rpkg

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
)

type ent struct {
	name, link string
	typ        byte
	mode       int64
	body       string
}

// rawTar builds a tar exactly as given, so that tests can make the mistakes
// our writer refuses to make.
func rawTar(t *testing.T, ents ...ent) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range ents {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.mode
		if mode == 0 {
			mode = 0o644
		}
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: typ, Mode: mode, Size: int64(len(e.body)), Format: tar.FormatPAX}
		if typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func xzOf(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const craftedMeta = `{"type":"plugin","name":"rudder-plugin-x","version":"8.1.0-1.0","build-date":"2024-01-01T00:00:00+00:00","build-commit":"abcdef0","content":{"files.txz":"/opt/rudder/share/plugins/x"}}`

func arOf(t *testing.T, members ...arMember) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := writeAr(&b, members); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withFiles makes a package whose files.txz member holds filesTXZ.
func withFiles(t *testing.T, filesTXZ []byte) []byte {
	return arOf(t,
		arMember{"metadata", []byte(craftedMeta)},
		arMember{"files.txz", filesTXZ},
		arMember{"scripts.txz", xzOf(t, rawTar(t))})
}

func TestVerifyRules(t *testing.T) {
	dir := t.TempDir()
	// Real tools make the classic mistakes: `tar cJ -C dir .` adds "./".
	if err := os.MkdirAll(filepath.Join(dir, "tree", "share"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tree", "share", "a.py"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	dotTar := run(t, dir, nil, "tar", "--sort=name", "-cJf", "-", "-C", "tree", ".")
	plainTar := run(t, dir, nil, "tar", "--sort=name", "-cf", "-", "-C", "tree", "share")
	sha256XZ := run(t, dir, plainTar, "xz", "--check=sha256", "-c")
	crc32XZ := run(t, dir, plainTar, "xz", "--check=crc32", "-c")
	bcjXZ := run(t, dir, plainTar, "xz", "--x86", "--lzma2", "-c")
	good := xzOf(t, rawTar(t, ent{name: "share/", typ: tar.TypeDir, mode: 0o755}))

	// An odd-sized metadata member whose pad byte is wrong.
	badPad := arOf(t, arMember{"metadata", []byte(craftedMeta + " ")}, arMember{"files.txz", good}, arMember{"scripts.txz", xzOf(t, rawTar(t))})
	badPad[len(arMagic)+arHeaderLen+len(craftedMeta)+1] = 0

	tests := []struct {
		name       string
		data       []byte
		refuse     string // substring of Open's error; "" means Open succeeds
		wantErrors []string
	}{
		{"our own kind of package", withFiles(t, good), "", nil},
		{"xz CRC32 is fine", withFiles(t, crc32XZ), "", nil},
		{"tar cJ -C dir .", withFiles(t, dotTar), "", []string{
			`error: files.txz: ./: path starts with "./"; paths are relative to the destination without it [tar-path]`,
			`error: files.txz: ./share/: path starts with "./"; paths are relative to the destination without it [tar-path]`,
			`error: files.txz: ./share/a.py: path starts with "./"; paths are relative to the destination without it [tar-path]`,
		}},
		{"xz SHA-256 check", withFiles(t, sha256XZ), "", []string{"error: files.txz: xz check SHA-256, want CRC64 or CRC32 [xz]"}},
		// The decoder cannot list it, so Open refuses; Verify names the rule.
		{"xz with a BCJ filter", withFiles(t, bcjXZ), "unsupported filter", []string{`error: files.txz: xz filter chain "x86,lzma2", want lzma2 alone [xz]`}},
		{"two xz streams", withFiles(t, append(append([]byte{}, good...), good...)), "", []string{"error: files.txz: 2 xz streams, want exactly one [xz]"}},
		{"stream padding", withFiles(t, append(append([]byte{}, good...), 0, 0, 0, 0)), "", []string{"error: files.txz: 4 bytes of stream padding after the xz stream [xz]"}},
		{"garbage after the stream", withFiles(t, append(append([]byte{}, good...), "junk"...)), "no stream footer magic", nil},
		{"not xz", withFiles(t, []byte("plain text")), "xz", nil},
		{"absolute path", withFiles(t, xzOf(t, rawTar(t, ent{name: "/etc/passwd", body: "x"}))), `"/etc/passwd": absolute path`, nil},
		{"dot-dot", withFiles(t, xzOf(t, rawTar(t, ent{name: "share/../../etc/x", body: "x"}))), `".." in path`, nil},
		{"hardlink out", withFiles(t, xzOf(t, rawTar(t, ent{name: "x", typ: tar.TypeLink, link: "../../etc/shadow"}))), "escapes the destination", nil},
		{"through a symlink", withFiles(t, xzOf(t, rawTar(t,
			ent{name: "etc", typ: tar.TypeSymlink, link: "/etc"},
			ent{name: "etc/cron.d/evil", body: "x"}))), `path goes through symlink "etc"`, nil},
		{"symlink escaping", withFiles(t, xzOf(t, rawTar(t, ent{name: "a/b", typ: tar.TypeSymlink, link: "../../x"}))), "", []string{
			`error: files.txz: a/b: symlink target "../../x" escapes the destination [tar-link]`}},
		{"directory without slash and a device", withFiles(t, xzOf(t, rawTar(t,
			ent{name: "share", typ: tar.TypeDir, mode: 0o755},
			ent{name: "null", typ: tar.TypeChar}))), "", []string{
			`error: files.txz: share: directory path does not end in "/" [tar-path]`,
			`error: files.txz: null: entry type char is not allowed (files, directories and symlinks only) [tar-type]`}},
		{"duplicate and hardlink", withFiles(t, xzOf(t, rawTar(t, ent{name: "a", body: "x"}, ent{name: "a", typ: tar.TypeLink, link: "a"}))), "", []string{
			`error: files.txz: a: path appears more than once [tar-duplicate]`,
			`error: files.txz: a: hardlink to "a": installers refuse hardlinks [tar-hardlink]`}},
		{"script not executable", arOf(t,
			arMember{"metadata", []byte(craftedMeta)},
			arMember{"files.txz", good},
			arMember{"scripts.txz", xzOf(t, rawTar(t, ent{name: "postinst", mode: 0o644, body: "#!/bin/sh\n"}))}), "", []string{
			"error: scripts.txz: postinst: script mode 0644 is not executable [script]"}},
		{"unlisted tarball", arOf(t,
			arMember{"metadata", []byte(craftedMeta)},
			arMember{"files.txz", good},
			arMember{"agent-policy.txz", good},
			arMember{"scripts.txz", good}), "", []string{
			"error: agent-policy.txz: tarball is not listed in metadata content (installers fail on it) [content-members]"}},
		{"duplicate member", arOf(t,
			arMember{"metadata", []byte(craftedMeta)},
			arMember{"metadata", []byte(craftedMeta)},
			arMember{"files.txz", good},
			arMember{"scripts.txz", good}), "member appears more than once", nil},
		{"bad pad byte", badPad, "", []string{`error: metadata: pad byte at offset 253 is 0x00, want '\n' [ar-pad]`}},
		{"metadata fields", arOf(t,
			arMember{"metadata", []byte(`{"type":"library","name":"rudder-plugin-../../etc","version":"8.1.0-2.5.1","build-date":"yesterday","build-commit":"","content":{"files.txz":"opt"},"jar-files":["x.jar"]}`)},
			arMember{"files.txz", good},
			arMember{"scripts.txz", good}), "", []string{
			`error: metadata: type: type is "library", want "plugin" [metadata-field]`,
			`error: metadata: name: name "rudder-plugin-../../etc" does not match ^rudder-plugin-[a-z0-9-]+$ [metadata-field]`,
			`error: metadata: version: version "8.1.0-2.5.1": plugin part "2.5.1" is not N.N[-nightly] [metadata-field]`,
			`error: metadata: build-date: build-date "yesterday" is not RFC 3339 [metadata-field]`,
			`error: metadata: build-commit: build-commit is empty [metadata-field]`,
			`error: metadata: content: destination "opt" of files.txz is not absolute [metadata-field]`,
			`error: metadata: jar-files: jar file "x.jar" is not an absolute path [metadata-field]`}},
		{"missing keys", arOf(t,
			arMember{"metadata", []byte(`{"type":"plugin","name":"rudder-plugin-x","version":"8.1.0-1.0"}`)},
			arMember{"scripts.txz", good}), "", []string{
			`error: metadata: build-date: required key is missing [metadata-field]`,
			`error: metadata: build-commit: required key is missing [metadata-field]`,
			`error: metadata: content: required key is missing [metadata-field]`}},
		{"metadata with BOM", arOf(t, arMember{"metadata", append([]byte("\xEF\xBB\xBF"), craftedMeta...)}, arMember{"scripts.txz", good}), "byte order mark", nil},
		{"BSD names, metadata last", bsdAr([]arMember{
			{"files.txz", good}, {"scripts.txz", xzOf(t, rawTar(t))}, {"metadata", []byte(craftedMeta)}}), "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Open(bytes.NewReader(tt.data), int64(len(tt.data)))
			switch {
			case tt.refuse == "" && err != nil:
				t.Errorf("Open: %v", err)
			case tt.refuse != "" && (err == nil || !strings.Contains(err.Error(), tt.refuse)):
				t.Errorf("Open err = %v, want it to contain %q", err, tt.refuse)
			}
			fs := Verify(bytes.NewReader(tt.data), int64(len(tt.data)))
			var got []string
			for _, f := range findingsOf(fs, Error) {
				got = append(got, f.String())
			}
			if tt.refuse != "" {
				// Verify goes on past what Open refuses; the wanted
				// findings must be among what it reports.
				if !HasErrors(fs) {
					t.Errorf("Verify found no error on a file Open refuses")
				}
				for _, w := range tt.wantErrors {
					if !strings.Contains(strings.Join(got, "\n"), w) {
						t.Errorf("Verify lacks %q in\n%s", w, strings.Join(got, "\n"))
					}
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tt.wantErrors, "\n") {
				t.Errorf("errors =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.wantErrors, "\n"))
			}
		})
	}
}

func TestOpenLimits(t *testing.T) {
	big := xzOf(t, rawTar(t, ent{name: "zeros", body: strings.Repeat("\x00", 1<<20)}))
	data := withFiles(t, big)
	if _, err := Open(bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Open with default limits: %v", err)
	}
	tests := []struct {
		lim  Limits
		want string
	}{
		{Limits{MaxTotal: 512 << 10, MaxMembers: 10, MaxEntries: 10}, "past 524288 bytes"},
		{Limits{MaxTotal: 1 << 30, MaxMembers: 2, MaxEntries: 10}, "more than 2 ar members"},
		{Limits{MaxTotal: 1 << 30, MaxMembers: 10, MaxEntries: 0}, ""}, // zero means the default
	}
	for _, tt := range tests {
		_, err := OpenLimits(bytes.NewReader(data), int64(len(data)), tt.lim)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("OpenLimits(%+v) err = %v, want %q", tt.lim, err, tt.want)
		}
	}
	// A tiny file whose block header asks for a 4 GiB dictionary.
	huge := xzOf(t, rawTar(t, ent{name: "a", body: "x"}))
	if huge[12+2] != 0x21 || huge[12+3] != 1 {
		t.Fatalf("unexpected block header % x", huge[12:24])
	}
	huge[12+4] = 40
	hsize := (int(huge[12]) + 1) * 4
	binary.LittleEndian.PutUint32(huge[12+hsize-4:], crc32.ChecksumIEEE(huge[12:12+hsize-4]))
	data = withFiles(t, huge)
	if _, err := Open(bytes.NewReader(data), int64(len(data))); err == nil || !strings.Contains(err.Error(), "xz dictionary of 4294967296 bytes is past the 67108864-byte limit") {
		t.Errorf("huge dictionary: err = %v", err)
	}

	many := make([]ent, 20)
	for i := range many {
		many[i] = ent{name: "f" + strings.Repeat("x", i), body: "x"}
	}
	data = withFiles(t, xzOf(t, rawTar(t, many...)))
	if _, err := OpenLimits(bytes.NewReader(data), int64(len(data)), Limits{MaxTotal: 1 << 20, MaxMembers: 10, MaxEntries: 5}); err == nil || !strings.Contains(err.Error(), "more than 5 tar entries") {
		t.Errorf("entry limit: err = %v", err)
	}
}

// FuzzRead feeds arbitrary bytes to Open and Verify: they must never
// panic, and Verify must report an error whenever Open refuses.
func FuzzRead(f *testing.F) {
	for _, v := range []string{"rudder-plugin-notify-8.0.0-2.2.rpkg", "broken-archive.rpkg", "with_metadata.rpkg", "malformed_metadata.rpkg", "without_metadata.rpkg"} {
		f.Add(readVector(f, v))
	}
	f.Add(writePkg(f, testInfo()))
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxTotal: 64 << 20, MaxMembers: 64, MaxEntries: 4096}
		_, err := OpenLimits(bytes.NewReader(data), int64(len(data)), lim)
		fs := VerifyLimits(bytes.NewReader(data), int64(len(data)), lim)
		if err != nil && !HasErrors(fs) {
			t.Errorf("Open refused (%v) but Verify found no error", err)
		}
	})
}
