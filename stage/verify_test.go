package stage

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/rpm"
)

// TestVerifyStage runs the verify stage over packages read in parallel:
// good packages pass, and of several bad ones the first in path order is
// the one reported, whatever order the checks end in.
func TestVerifyStage(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "rpm", "x-1-1.x86_64.rpm")
	if err := os.MkdirAll(filepath.Dir(good), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(good)
	if err != nil {
		t.Fatal(err)
	}
	info := &pack.Info{Name: "x", Version: "1", Release: "1", Arch: "x86_64", Summary: "x", License: "MIT",
		MTime:    time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC),
		Contents: []pack.Content{{Type: pack.File, Data: []byte("x\n"), Destination: "/usr/share/x/x"}}}
	if err := (rpm.Packager{}).Package(info, f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"deb/b_1_amd64.deb", "rpm/a-1-1.x86_64.rpm", "rpkg/c.rpkg"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(bad)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, bad), []byte("not a package"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		artifacts []string
		want      string // "" for success
	}{
		{"good package", []string{"rpm/x-1-1.x86_64.rpm", "SHA256SUMS"}, ""},
		{"first bad in path order", []string{"rpkg/c.rpkg", "rpm/x-1-1.x86_64.rpm", "rpm/a-1-1.x86_64.rpm", "deb/b_1_amd64.deb"}, "verify deb/b_1_amd64.deb:"},
		{"bad rpm", []string{"rpm/x-1-1.x86_64.rpm", "rpm/a-1-1.x86_64.rpm"}, "verify rpm/a-1-1.x86_64.rpm:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Context{Context: context.Background(), Options: Options{Jobs: 4}, Plan: &buildspec.Plan{},
				Dist: dir, artifacts: map[string]Artifact{}}
			for _, a := range tt.artifacts {
				c.record("package/x", a)
			}
			err := (Verify{}).Run(c)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one starting %q", err, tt.want)
			}
		})
	}
}
