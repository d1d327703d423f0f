package rpm

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
)

// TestSameBytesAsNFPM writes each Info with the streaming writer and with
// the nfpm writer it replaced. The packages are the same but for the
// compressed payload: the header as rpm reads it (every tag but the
// payload's digest) and the uncompressed cpio archive must be
// byte-identical. The payload's compression differs by design since large
// files are spliced in (pack/splice) instead of compressed in pgzip's
// stream-aligned blocks.
func TestSameBytesAsNFPM(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	// Over a few of pgzip's 1 MiB blocks, with a tail that is not a
	// multiple of any buffer size.
	payload := bytes.Repeat([]byte("packyard streams the rpm payload\n"), 150_001)
	if err := os.WriteFile(big, payload, 0o644); err != nil {
		t.Fatal(err)
	}
	key := packtest.GPGKey(t, "s3cret")
	base := func() *pack.Info {
		return &pack.Info{
			Name: "demo", Version: "1.2.0~rc1", Release: "3", Dist: "el9", Arch: "x86_64",
			Summary: "A demo", Description: "A demo.\nOn two lines.", License: "MIT",
			MTime: packtest.CommitTime(),
			Contents: []pack.Content{
				{Type: pack.File, Source: big, Destination: "/usr/bin/demo", Mode: 0o755},
				{Type: pack.ConfigNoReplace, Data: []byte("a = 1\n"), Destination: "/etc/demo/demo.conf", Mode: 0o640},
				{Type: pack.Config, Data: []byte(""), Destination: "/etc/demo/empty.conf"},
				{Type: pack.Dir, Destination: "/etc/demo"},
				{Type: pack.Dir, Destination: "/var/lib/demo/", Mode: 0o750, Owner: "demo", Group: "demo"},
				{Type: pack.Symlink, Source: "/usr/bin/demo", Destination: "/usr/sbin/demo"},
			},
		}
	}
	tests := []struct {
		name string
		edit func(*pack.Info)
	}{
		{"files, dirs, symlink, config", func(*pack.Info) {}},
		{"every tag", func(i *pack.Info) {
			i.Epoch, i.Vendor, i.Homepage, i.Group, i.Maintainer = "2", "Acme", "https://acme.example", "Applications/System", "Ops <ops@acme.example>"
			i.Depends = []string{"glibc", "systemd >= 239", "(logrotate or cronie)", "glibc"}
			i.Recommends = []string{"bash-completion"}
			i.Provides = []string{"demo-tool = 1.2"}
			i.Conflicts = []string{"old-demo < 1.0"}
			i.Replaces = []string{"demo-legacy <= 0.9"}
			i.Scripts = pack.Scripts{PreInstall: "getent group demo || groupadd -r demo\n", PostInstall: "systemctl daemon-reload\n",
				PreRemove: "true\n", PostRemove: "systemctl try-restart demo\n", PostTrans: ":\n"}
			i.ChangelogText = "Release 1.2.0~rc1\n\n  * with a detail\n\t\nlast line  \n"
		}},
		{"summary from the description, go arch, no dist", func(i *pack.Info) {
			i.Summary, i.Arch, i.Dist, i.Release = "", "arm64", "", ""
			i.Contents = append(i.Contents, pack.Content{Type: pack.Dir, Destination: "/"})
		}},
		{"description from the summary, no contents", func(i *pack.Info) {
			i.Description, i.Contents, i.ChangelogText = "", nil, "One line"
		}},
		{"signed", func(i *pack.Info) {
			i.Signing = &pack.Signing{KeyFile: key.Private, Passphrase: "s3cret"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := base()
			tt.edit(info)
			var got bytes.Buffer
			if err := (Packager{}).Package(info, &got); err != nil {
				t.Fatal(err)
			}
			want, err := nfpmPackage(info)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			ours, theirs := filepath.Join(dir, "ours.rpm"), filepath.Join(dir, "nfpm.rpm")
			if err := os.WriteFile(ours, got.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(theirs, want, 0o644); err != nil {
				t.Fatal(err)
			}
			if o, n := headerXML(t, ours), headerXML(t, theirs); o != n {
				t.Errorf("rpm -qp --xml differs beyond the payload's digest:\n%s", lineDiff(o, n))
			}
			// rpm2cpio exits 1 on nfpm's packages: their ARCHIVESIZE is wrong.
			theirCpio, _ := exec.Command("rpm2cpio", theirs).Output()
			ourCpio := packtest.Output(t, nil, "rpm2cpio", ours)
			if ourCpio != string(theirCpio) {
				t.Errorf("the uncompressed payloads differ: %d bytes, nfpm's %d", len(ourCpio), len(theirCpio))
			}
			if size := packtest.Output(t, nil, "rpm", "-qp", "--qf", "%{ARCHIVESIZE}", ours); size != fmt.Sprint(len(ourCpio)) {
				t.Errorf("ARCHIVESIZE %s, want the cpio archive's %d bytes", size, len(ourCpio))
			}
			packtest.Run(t, nil, "rpm", "-K", "--nosignature", ours)
		})
	}
}

// headerXML is the package's header as rpm reads it, without the tags
// that hold the compressed payload's digest and size, which differ by
// design: see TestSameBytesAsNFPM.
func headerXML(t *testing.T, rpm string) string {
	t.Helper()
	var keep []string
	skip := false
	for _, l := range strings.Split(packtest.Output(t, nil, "rpm", "-qp", "--xml", rpm), "\n") {
		if strings.Contains(l, "<rpmTag name=") {
			name := strings.Split(l, `"`)[1]
			skip = payloadTags[name]
		}
		if !skip {
			keep = append(keep, l)
		}
		if strings.Contains(l, "</rpmTag>") {
			skip = false
		}
	}
	return strings.Join(keep, "\n")
}

// payloadTags are the header (and merged signature) tags that depend on
// the compressed payload's bytes: its digest and size, and the header's
// digests and signatures, since the header holds the payload's digest.
var payloadTags = map[string]bool{
	"Payloaddigest": true, "Payloaddigestalt": true, "Sigsize": true, "Longsigsize": true,
	// The uncompressed archive's size, which rpmpack got wrong (it wrote
	// the files' size); checked against rpm2cpio below.
	"Archivesize": true, "Longarchivesize": true,
	"Sha256header": true, "Sha1header": true, "Rsaheader": true, "Dsaheader": true,
	"Sigpgp": true, "Siggpg": true, "Sigmd5": true,
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "ours: "+x, "nfpm: "+y)
		}
	}
	return strings.Join(out, "\n")
}

// TestBadContents checks what the streaming writer refuses, with the entry
// named, instead of writing a package rpm would not install.
func TestBadContents(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "x")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Sparse: no disk is used, and the writer refuses it before reading.
	huge := filepath.Join(dir, "huge")
	if err := os.WriteFile(huge, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 1<<32); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		contents []pack.Content
		want     string
	}{
		{"file of 4 GiB", []pack.Content{{Type: pack.File, Source: huge, Destination: "/huge"}}, "/huge: 4294967296 bytes; rpm's 32-bit file sizes stop at 4 GiB"},
		{"missing source", []pack.Content{{Type: pack.File, Source: filepath.Join(dir, "nope"), Destination: "/usr/bin/x"}}, "/usr/bin/x: stat "},
		{"no source", []pack.Content{{Type: pack.File, Destination: "/usr/bin/x"}}, "/usr/bin/x: no source and no data"},
		{"directory source", []pack.Content{{Type: pack.File, Source: dir, Destination: "/usr/bin/x"}}, "is not a regular file"},
		{"unknown type", []pack.Content{{Type: "ghost", Destination: "/x"}}, `/x: unknown content type "ghost"`},
		{"symlink without target", []pack.Content{{Type: pack.Symlink, Destination: "/x"}}, "/x: symlink without a target"},
		{"twice", []pack.Content{{Type: pack.File, Source: src, Destination: "/etc/x"}, {Type: pack.Config, Data: []byte{}, Destination: "etc//x"}}, "/etc/x: in the package twice"},
		{"file as a parent", []pack.Content{{Type: pack.File, Source: src, Destination: "/etc/x"}, {Type: pack.Dir, Destination: "/etc/x/y/z"}}, "/etc/x/y/z: its parent /etc/x is not a directory"},
		{"bad relation", nil, `relation "x >< 1"`},
		{"bad epoch", nil, `epoch "one"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := &pack.Info{Name: "x", Version: "1", Arch: "x86_64", MTime: packtest.CommitTime(), Contents: tt.contents}
			switch tt.name {
			case "bad relation":
				info.Depends = []string{"x >< 1"}
			case "bad epoch":
				info.Epoch = "one"
			}
			err := (Packager{}).Package(info, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "rpm x: ") {
				t.Fatalf("err = %v, want one starting %q and containing %q", err, "rpm x: ", tt.want)
			}
		})
	}
}

// TestNoTempFileLeft checks that the spooled payload is removed, after a
// package and after a failure.
func TestNoTempFileLeft(t *testing.T) {
	packtest.NoTempFileLeft(t, "x86_64", Packager{}.Package)
}
