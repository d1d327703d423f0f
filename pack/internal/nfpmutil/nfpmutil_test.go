package nfpmutil

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2/files"

	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
)

var mtime = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func TestCheck(t *testing.T) {
	good := pack.Info{Name: "x", Version: "1", Arch: "amd64", MTime: mtime}
	tests := []struct {
		name string
		edit func(*pack.Info)
		want string // "" for no error
	}{
		{"good", func(*pack.Info) {}, ""},
		{"no name", func(i *pack.Info) { i.Name = "" }, "deb : name is empty"},
		{"first problem first", func(i *pack.Info) { i.Version, i.Arch = "", "" }, "deb x: version is empty"},
		{"no arch", func(i *pack.Info) { i.Arch = "" }, "deb x: arch is empty"},
		{"no mtime", func(i *pack.Info) { i.MTime = time.Time{} }, "deb x: no MTime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := good
			tt.edit(&info)
			err := Check("deb", &info)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one starting %q", err, tt.want)
			}
		})
	}
	if err := Check("rpm", nil); err == nil || err.Error() != "rpm: no package info" {
		t.Errorf("nil info: %v", err)
	}
}

func TestMapContents(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "x")
	if err := os.WriteFile(bin, []byte("binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	stage := t.TempDir()
	info := &pack.Info{Name: "x", Version: "1", Arch: "amd64", MTime: mtime, Contents: []pack.Content{
		{Type: pack.File, Source: bin, Destination: "/usr/bin/x", Mode: 0o755},
		{Type: pack.ConfigNoReplace, Data: []byte("a = 1\n"), Destination: "/etc/x.conf", Group: "x"},
		{Type: pack.Dir, Destination: "/var/log/x", Mode: 0o750, Owner: "x"},
		{Type: pack.Symlink, Source: "/usr/bin/x", Destination: "/usr/sbin/x"},
	}}
	ni, err := Map(info, stage, "1.el9")
	if err != nil {
		t.Fatal(err)
	}
	if ni.Platform != "linux" || ni.Release != "1.el9" || ni.VersionSchema != "none" || !ni.MTime.Equal(mtime) {
		t.Errorf("mapped %s %s %s %v", ni.Platform, ni.Release, ni.VersionSchema, ni.MTime)
	}
	want := []struct {
		typ, owner, group string
		mode              os.FileMode
		size              int64
	}{
		{files.TypeFile, "root", "root", 0o755, 6},
		{"config|noreplace", "root", "x", 0o644, 6},
		{files.TypeDir, "x", "root", 0o750, 0},
		{files.TypeSymlink, "root", "root", 0, 0},
	}
	if len(ni.Contents) != len(want) {
		t.Fatalf("%d contents, want %d", len(ni.Contents), len(want))
	}
	for i, w := range want {
		c := ni.Contents[i]
		fi := c.FileInfo
		if c.Type != w.typ || fi.Owner != w.owner || fi.Group != w.group || fi.Mode != w.mode || fi.Size != w.size || !fi.MTime.Equal(mtime) {
			t.Errorf("%s: %s %s:%s %o %d %v", c.Destination, c.Type, fi.Owner, fi.Group, fi.Mode, fi.Size, fi.MTime)
		}
	}
	// Rendered data is staged inside the staging directory.
	if src := ni.Contents[1].Source; !strings.HasPrefix(src, stage+string(filepath.Separator)) {
		t.Errorf("config staged at %s, outside %s", src, stage)
	} else if b, err := os.ReadFile(src); err != nil || string(b) != "a = 1\n" {
		t.Errorf("staged config %q, %v", b, err)
	}

	bad := []struct {
		name string
		c    pack.Content
		want string
	}{
		{"missing source", pack.Content{Type: pack.File, Source: "/nonexistent/x", Destination: "/usr/bin/x"}, "/usr/bin/x: stat /nonexistent/x"},
		{"no source", pack.Content{Type: pack.File, Destination: "/usr/bin/x"}, "/usr/bin/x: no source and no data"},
		{"directory source", pack.Content{Type: pack.File, Source: stage, Destination: "/usr/bin/x"}, "is not a regular file"},
		{"bad type", pack.Content{Type: "ghost", Destination: "/x"}, `/x: unknown content type "ghost"`},
	}
	for _, tt := range bad {
		info := &pack.Info{Name: "x", Version: "1", Arch: "amd64", MTime: mtime, Contents: []pack.Content{tt.c}}
		if _, err := Map(info, t.TempDir(), "1"); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

func TestWriteScriptsAndChangelog(t *testing.T) {
	stage := t.TempDir()
	var pre, post string
	if err := WriteScripts(stage, []Script{{"preinst", "", &pre}, {"postinst", "#!/bin/sh\necho hi\n", &post}}); err != nil {
		t.Fatal(err)
	}
	if pre != "" {
		t.Errorf("an empty script was staged at %s", pre)
	}
	if b, err := os.ReadFile(post); err != nil || string(b) != "#!/bin/sh\necho hi\n" {
		t.Errorf("postinst %q, %v", b, err)
	}

	info := &pack.Info{Name: "x", Version: "1.2", MTime: mtime}
	if p, err := WriteChangelog(info, stage, "1", nil); err != nil || p != "" {
		t.Errorf("no changelog text: %q, %v", p, err)
	}
	info.ChangelogText = "Release 1.2"
	p, err := WriteChangelog(info, stage, "3", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"semver: 1.2-3", "date: 2024-03-01T12:00:00Z", "packager: packyard", "note: Release 1.2"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("changelog lacks %q:\n%s", want, b)
		}
	}
}

func TestSignature(t *testing.T) {
	if s, err := Signature(nil, time.Time{}, false); err != nil || s.SignFn != nil || s.KeyFile != "" {
		t.Errorf("nil signing: %+v, %v", s, err)
	}
	if _, err := Signature(&pack.Signing{KeyFile: filepath.Join(t.TempDir(), "none.asc")}, time.Time{}, false); err == nil {
		t.Error("a missing key file was accepted")
	}
	key := packtest.GPGKey(t, "secret words")
	signing := &pack.Signing{KeyFile: key.Private, Passphrase: "secret words"}
	at := time.Unix(1700000000, 0)
	data := []byte("debian-binary control.tar.gz data.tar.xz")
	for _, armored := range []bool{false, true} {
		sign := func() []byte {
			t.Helper()
			s, err := Signature(signing, at, armored)
			if err != nil {
				t.Fatal(err)
			}
			if s.KeyFile != "" || s.KeyPassphrase != "" {
				t.Errorf("the key reached nfpm's own signer: %+v", s)
			}
			sig, err := s.SignFn(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			return sig
		}
		first, second := sign(), sign()
		// The same key, data and time give the same bytes: signed
		// packages are reproducible.
		if !bytes.Equal(first, second) {
			t.Errorf("armored %v: two signatures of the same data differ", armored)
		}
		if got := bytes.HasPrefix(first, []byte("-----BEGIN PGP SIGNATURE-----")); got != armored {
			t.Errorf("armored %v: signature starts %q", armored, first[:min(len(first), 30)])
		}
		dir := t.TempDir()
		sigFile, dataFile := filepath.Join(dir, "sig"), filepath.Join(dir, "data")
		if err := os.WriteFile(sigFile, first, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dataFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out := packtest.Output(t, key.Env(), "gpg", "--batch", "--status-fd", "1", "--verify", sigFile, dataFile)
		if !strings.Contains(out, "GOODSIG") {
			t.Errorf("armored %v: gpg --verify:\n%s", armored, out)
		}
	}
}
