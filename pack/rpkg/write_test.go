package rpkg

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/packyard/packyard/pack"
)

func testInfo() *pack.Info {
	return &pack.Info{
		Name:        "rudder-plugin-backplane",
		Version:     "8.1.0-0.26",
		Description: "Backplane agent for Rudder",
		MTime:       time.Date(2024, 3, 1, 12, 30, 45, 0, time.UTC),
		Contents: []pack.Content{
			{Type: pack.File, Data: []byte("#!/bin/sh\necho backplane\n"), Destination: "/opt/rudder/share/plugins/backplane/bin/backplane", Mode: 0o755},
			{Type: pack.Config, Data: []byte("level: info\n"), Destination: "/opt/rudder/share/plugins/backplane/etc/backplane.yaml", Mode: 0o640},
			{Type: pack.Dir, Destination: "/opt/rudder/share/plugins/backplane/var", Mode: 0o750},
			{Type: pack.Symlink, Source: "bin/backplane", Destination: "/opt/rudder/share/plugins/backplane/current"},
			{Type: pack.File, Data: []byte("policy\n"), Destination: "/var/rudder/configuration-repository/techniques/backplane/metadata.xml"},
		},
		Scripts: pack.Scripts{PostInstall: "#!/bin/sh\necho installed \"$1\"\n", PreRemove: "#!/bin/sh\n"},
		Properties: map[string]string{
			PropBuildCommit:     "9eca0c1d2e3f40516273849506a7b8c9d0e1f203",
			PropContent:         "files.txz:/opt/rudder/share/plugins/backplane, agent-policy-techniques.txz:/var/rudder/configuration-repository/techniques",
			PropJarFiles:        "/opt/rudder/share/plugins/backplane/backplane.jar",
			PropDependsBinary:   "curl",
			PropDependsApt:      "libc6",
			PropRequiresLicense: "false",
			"rudder_version":    "8.1.0", // another writer's property: ignored
		},
	}
}

func writePkg(t testing.TB, info *pack.Info) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := (Writer{}).Package(info, &b); err != nil {
		t.Fatalf("Package: %v", err)
	}
	return b.Bytes()
}

// TestWriteAcceptance checks our output with the standard tools, as
// rpkg-format.md says one inspects a package.
func TestWriteAcceptance(t *testing.T) {
	dir := t.TempDir()
	info := testInfo()
	path, err := Writer{}.WriteFile(info, dir)
	if err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	if filepath.Base(path) != "rudder-plugin-backplane-8.1.0-0.26.rpkg" {
		t.Errorf("file name = %s", filepath.Base(path))
	}
	f := filepath.Base(path)

	if got, want := string(run(t, dir, nil, "ar", "t", f)), "metadata\nagent-policy-techniques.txz\nfiles.txz\nscripts.txz\n"; got != want {
		t.Errorf("ar t = %q, want %q", got, want)
	}

	meta := run(t, dir, nil, "ar", "p", f, "metadata")
	var m map[string]any
	if err := json.Unmarshal(meta, &m); err != nil {
		t.Fatalf("ar p metadata is not JSON: %v\n%s", err, meta)
	}
	wantMeta := `{
  "type": "plugin",
  "name": "rudder-plugin-backplane",
  "version": "8.1.0-0.26",
  "build-date": "2024-03-01T12:30:45+00:00",
  "build-commit": "9eca0c1d2e3f40516273849506a7b8c9d0e1f203",
  "content": {
    "agent-policy-techniques.txz": "/var/rudder/configuration-repository/techniques",
    "files.txz": "/opt/rudder/share/plugins/backplane"
  },
  "description": "Backplane agent for Rudder",
  "jar-files": [
    "/opt/rudder/share/plugins/backplane/backplane.jar"
  ],
  "depends": {
    "binary": [
      "curl"
    ],
    "apt": [
      "libc6"
    ]
  },
  "requires-license": false
}
`
	if string(meta) != wantMeta {
		t.Errorf("metadata =\n%s\nwant\n%s", meta, wantMeta)
	}

	files := run(t, dir, nil, "ar", "p", f, "files.txz")
	listing := string(run(t, dir, files, "tar", "-tvJ", "--numeric-owner"))
	wantList := []string{
		"drwxr-xr-x 0/0               0 2024-03-01 12:30 bin/",
		"-rwxr-xr-x 0/0              25 2024-03-01 12:30 bin/backplane",
		"lrwxrwxrwx 0/0               0 2024-03-01 12:30 current -> bin/backplane",
		"drwxr-xr-x 0/0               0 2024-03-01 12:30 etc/",
		"-rw-r----- 0/0              12 2024-03-01 12:30 etc/backplane.yaml",
		"drwxr-x--- 0/0               0 2024-03-01 12:30 var/",
	}
	if got := strings.Split(strings.TrimSpace(listing), "\n"); !reflect.DeepEqual(got, wantList) {
		t.Errorf("tar -tvJ files.txz =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantList, "\n"))
	}
	if owners := string(run(t, dir, files, "tar", "-tvJ")); strings.Count(owners, "root/root") != len(wantList) {
		t.Errorf("tar -tvJ owners are not all root/root:\n%s", owners)
	}
	scripts := run(t, dir, nil, "ar", "p", f, "scripts.txz")
	if got := string(run(t, dir, scripts, "tar", "-tJ")); got != "postinst\nprerm\n" {
		t.Errorf("scripts.txz lists %q", got)
	}
	if got := string(run(t, dir, scripts, "tar", "-xJO", "postinst")); got != info.Scripts.PostInstall {
		t.Errorf("postinst = %q", got)
	}

	// xz -l cannot read standard input, so list a copy.
	for _, member := range []string{"files.txz", "scripts.txz", "agent-policy-techniques.txz"} {
		data := run(t, dir, nil, "ar", "p", f, member)
		tmp := filepath.Join(dir, member)
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			t.Fatal(err)
		}
		run(t, dir, nil, "xz", "-t", tmp)
		lv := string(run(t, dir, nil, "xz", "-lvv", tmp))
		for _, want := range []string{"Streams:           1", "Check:             CRC64", "Stream Padding:    0 B", "--lzma2="} {
			if !strings.Contains(lv, want) {
				t.Errorf("xz -lvv %s lacks %q:\n%s", member, want, lv)
			}
		}
	}

	// The file is written with a fixed mode, and no temporary file is left.
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v", st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".rpkg-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestWriteDeterministic(t *testing.T) {
	a := writePkg(t, testInfo())
	b := writePkg(t, testInfo())
	if !bytes.Equal(a, b) {
		t.Fatal("two writes of the same Info differ")
	}
	// Content order in Info does not matter: entries are sorted.
	info := testInfo()
	c := info.Contents
	for i, j := 0, len(c)-1; i < j; i, j = i+1, j-1 {
		c[i], c[j] = c[j], c[i]
	}
	if !bytes.Equal(a, writePkg(t, info)) {
		t.Error("reordering Contents changed the package")
	}
	later := testInfo()
	later.MTime = later.MTime.Add(time.Hour)
	if bytes.Equal(a, writePkg(t, later)) {
		t.Error("a different MTime gave the same bytes")
	}
}

// TestWriteRoundTrip reads our own output back: it must open, verify with
// no finding at all, and summarize to what was written.
func TestWriteRoundTrip(t *testing.T) {
	data := writePkg(t, testInfo())
	if fs := Verify(bytes.NewReader(data), int64(len(data))); len(fs) != 0 {
		t.Errorf("Verify on our own output: %v", fs)
	}
	p, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	s := p.Inspect()
	if s.Metadata.Name != "rudder-plugin-backplane" || s.Metadata.RequiresLicense == nil || *s.Metadata.RequiresLicense {
		t.Errorf("metadata = %+v", s.Metadata)
	}
	if got := strings.Join(s.Members, ","); got != "metadata,agent-policy-techniques.txz,files.txz,scripts.txz" {
		t.Errorf("members = %s", got)
	}
	if len(s.Tarballs) != 3 || s.Tarballs[1].Name != "files.txz" || s.Tarballs[1].Destination != "/opt/rudder/share/plugins/backplane" {
		t.Fatalf("tarballs = %+v", s.Tarballs)
	}
	wantFiles := []FileSummary{
		{Path: "bin/", Type: "dir", Mode: "0755"},
		{Path: "bin/backplane", Type: "file", Mode: "0755", Size: 25},
		{Path: "current", Type: "symlink", Mode: "0777", Linkname: "bin/backplane"},
		{Path: "etc/", Type: "dir", Mode: "0755"},
		{Path: "etc/backplane.yaml", Type: "file", Mode: "0640", Size: 12},
		{Path: "var/", Type: "dir", Mode: "0750"},
	}
	if !reflect.DeepEqual(s.Tarballs[1].Files, wantFiles) {
		t.Errorf("files.txz =\n%+v\nwant\n%+v", s.Tarballs[1].Files, wantFiles)
	}
	wantScripts := []ScriptSummary{
		{Name: "postinst", Mode: "0755", Body: "#!/bin/sh\necho installed \"$1\"\n"},
		{Name: "prerm", Mode: "0755", Body: "#!/bin/sh\n"},
	}
	if !reflect.DeepEqual(s.Scripts, wantScripts) {
		t.Errorf("scripts = %+v, want %+v", s.Scripts, wantScripts)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Errorf("summary does not marshal: %v", err)
	}
}

func TestWriteDefaults(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "notifyd.py")
	if err := os.WriteFile(src, []byte("print('hi')\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	info := &pack.Info{
		Name:    "rudder-plugin-notify",
		Version: "10.0.0~alpha2-2.1-nightly",
		MTime:   time.Unix(1700000000, 0),
		Contents: []pack.Content{
			{Type: pack.File, Source: src, Destination: "/opt/rudder/share/plugins/notify/python/notifyd.py"},
		},
		Properties: map[string]string{PropBuildCommit: "d22c6bc"},
	}
	data := writePkg(t, info)
	p, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	want := map[string]string{"files.txz": "/opt/rudder/share/plugins/notify"}
	if !reflect.DeepEqual(p.Metadata.Content, want) {
		t.Errorf("content = %v, want %v", p.Metadata.Content, want)
	}
	if p.Metadata.BuildDate != "2023-11-14T22:13:20+00:00" {
		t.Errorf("build-date = %s", p.Metadata.BuildDate)
	}
	if p.Metadata.Depends != nil || p.Metadata.JarFiles != nil || p.Metadata.RequiresLicense != nil {
		t.Errorf("optional keys set: %+v", p.Metadata)
	}
	files, _ := p.Tarball("files.txz")
	var paths []string
	for _, e := range files.Entries {
		paths = append(paths, e.Path+" "+octal(e))
	}
	if got := strings.Join(paths, ","); got != "python/ 0755,python/notifyd.py 0644" {
		t.Errorf("files.txz = %s", got)
	}
	scripts, ok := p.Tarball("scripts.txz")
	if !ok || len(scripts.Entries) != 0 {
		t.Errorf("scripts.txz = %+v, want an empty tar", scripts)
	}
	if fs := Verify(bytes.NewReader(data), int64(len(data))); len(fs) != 0 {
		t.Errorf("Verify: %v", fs)
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*pack.Info)
		want   string
	}{
		{"name without prefix", func(i *pack.Info) { i.Name = "backplane" }, `name "backplane" does not match`},
		{"name with a slash", func(i *pack.Info) { i.Name = "rudder-plugin-../x" }, "does not match"},
		{"upper-case name", func(i *pack.Info) { i.Name = "rudder-plugin-Foo" }, "does not match"},
		{"product version", func(i *pack.Info) { i.Version = "0.26.0acme" }, "want <rudder version>-<plugin version>"},
		{"bad Rudder part", func(i *pack.Info) { i.Version = "8.1.0acme-0.26" }, `Rudder part "8.1.0acme"`},
		{"three-part plugin version", func(i *pack.Info) { i.Version = "8.1.0-2.5.1" }, `plugin part "2.5.1"`},
		{"snapshot", func(i *pack.Info) { i.Version = "8.1.0-2.5-SNAPSHOT" }, `plugin part "2.5-SNAPSHOT"`},
		{"tilde on X.Y", func(i *pack.Info) { i.Version = "8.1~rc1-2.5" }, "Rudder part"},
		{"no MTime", func(i *pack.Info) { i.MTime = time.Time{} }, "MTime is not set"},
		{"no commit", func(i *pack.Info) { delete(i.Properties, PropBuildCommit) }, "rpkg.build_commit is required"},
		{"bad commit", func(i *pack.Info) { i.Properties[PropBuildCommit] = "HEAD" }, "not a hex git commit id"},
		{"typo in a property", func(i *pack.Info) { i.Properties["rpkg.jarfiles"] = "/x.jar" }, `unknown property "rpkg.jarfiles"`},
		{"bad requires_license", func(i *pack.Info) { i.Properties[PropRequiresLicense] = "yes" }, `"yes" is not "true" or "false"`},
		{"relative jar", func(i *pack.Info) { i.Properties[PropJarFiles] = "x.jar" }, `"x.jar" is not a clean absolute path`},
		{"content pair without colon", func(i *pack.Info) { i.Properties[PropContent] = "files.txz" }, "is not member.txz:/abs/dest"},
		{"content not txz", func(i *pack.Info) { i.Properties[PropContent] = "files.tgz:/opt" }, `"files.tgz" is not a .txz member name`},
		{"content scripts", func(i *pack.Info) { i.Properties[PropContent] = "scripts.txz:/opt" }, "reserved"},
		{"content relative", func(i *pack.Info) { i.Properties[PropContent] = "files.txz:opt" }, `destination "opt"`},
		{"content twice", func(i *pack.Info) { i.Properties[PropContent] = "files.txz:/opt,files.txz:/var" }, "listed twice"},
		{"file outside every destination", func(i *pack.Info) {
			i.Contents = append(i.Contents, pack.Content{Type: pack.File, Data: []byte("x"), Destination: "/etc/backplane.conf"})
		}, "/etc/backplane.conf is under no content destination"},
		{"prefix is not a parent", func(i *pack.Info) {
			i.Contents = append(i.Contents, pack.Content{Type: pack.File, Data: []byte("x"), Destination: "/opt/rudder/share/plugins/backplane2/x"})
		}, "backplane2/x is under no content destination"},
		{"file at the destination", func(i *pack.Info) {
			i.Contents = append(i.Contents, pack.Content{Type: pack.File, Data: []byte("x"), Destination: "/opt/rudder/share/plugins/backplane"})
		}, "is the destination directory"},
		{"duplicate file", func(i *pack.Info) { i.Contents = append(i.Contents, i.Contents[0]) }, "declared twice"},
		{"file under a file", func(i *pack.Info) {
			i.Contents = append(i.Contents, pack.Content{Type: pack.File, Data: []byte("x"), Destination: "/opt/rudder/share/plugins/backplane/bin/backplane/x"})
		}, "is not a directory"},
		{"unclean destination", func(i *pack.Info) { i.Contents[0].Destination = "/opt/rudder/share/plugins/backplane/../x" }, "not a clean absolute path"},
		{"non-root owner", func(i *pack.Info) { i.Contents[0].Owner = "backplane" }, "owned by root"},
		{"missing source", func(i *pack.Info) { i.Contents[0].Data = nil; i.Contents[0].Source = "/nonexistent/file" }, "read source"},
		{"no bytes at all", func(i *pack.Info) { i.Contents[0].Data = nil }, "neither Data nor Source"},
		{"symlink without target", func(i *pack.Info) { i.Contents[3].Source = "" }, "symlink without a target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := testInfo()
			tt.change(info)
			var b bytes.Buffer
			err := Writer{}.Package(info, &b)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("%d bytes written despite the error", b.Len())
			}
		})
	}
}

func TestWriteFileLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	info := testInfo()
	info.Version = "bad"
	if _, err := (Writer{}).WriteFile(info, dir); err == nil {
		t.Fatal("WriteFile succeeded with a bad version")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left in %s: %v", dir, entries)
	}
}

func BenchmarkPackage(b *testing.B) {
	info := testInfo()
	info.Contents = append(info.Contents, pack.Content{Type: pack.File, Data: bytes.Repeat([]byte("backplane binary "), 1<<16), Destination: "/opt/rudder/share/plugins/backplane/bin/big"})
	for b.Loop() {
		if err := (Writer{}).Package(info, &bytes.Buffer{}); err != nil {
			b.Fatal(err)
		}
	}
}
