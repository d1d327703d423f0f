package plugins

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

func TestPin(t *testing.T) {
	tests := []struct {
		name        string
		plugins     []Plugin
		wantRequire map[string]string // module -> version
		wantReplace map[string]string // module -> dir
	}{
		{"replace with version",
			[]Plugin{{Name: "ext", Import: "example.com/ext", Version: "v1.4.0", Replace: "./contrib/ext"}},
			map[string]string{"example.com/ext": "v1.4.0"}, map[string]string{"example.com/ext": "./contrib/ext"}},
		{"replace without version takes Go's zero pseudo-version",
			[]Plugin{{Name: "ext", Import: "example.com/ext", Replace: "./contrib/ext"}},
			map[string]string{"example.com/ext": zeroPseudo}, map[string]string{"example.com/ext": "./contrib/ext"}},
		{"package inside the replaced module",
			[]Plugin{{Name: "ext", Import: "example.com/ext/agent", Version: "v1.0.0", Replace: "./contrib/ext"}},
			map[string]string{"example.com/ext": "v1.0.0"}, map[string]string{"example.com/ext": "./contrib/ext"}},
		{"plugins of the main module need nothing",
			[]Plugin{{Name: "self", Import: "example.com/app/plugins/self"}},
			map[string]string{}, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, appFiles)
			writeFiles(t, dir, map[string]string{"contrib/ext/agent/agent.go": "package agent\n"})
			if err := Pin(context.Background(), dir, tt.plugins, goEnv()); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "go.mod")
			f, err := modfile.Parse(path, []byte(readFile(t, path)), nil)
			if err != nil {
				t.Fatal(err)
			}
			gotRequire := map[string]string{}
			for _, r := range f.Require {
				gotRequire[r.Mod.Path] = r.Mod.Version
			}
			gotReplace := map[string]string{}
			for _, r := range f.Replace {
				gotReplace[r.Old.Path] = r.New.Path
			}
			if !mapsEqual(gotRequire, tt.wantRequire) || !mapsEqual(gotReplace, tt.wantReplace) {
				t.Errorf("go.mod require %v replace %v, want %v %v", gotRequire, gotReplace, tt.wantRequire, tt.wantReplace)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestPinErrors(t *testing.T) {
	tests := []struct {
		name   string
		plugin Plugin
		want   []string // substrings of the error, in order
	}{
		{"unresolvable module names the plugin and keeps go's message",
			Plugin{Name: "rpcagent", Import: "example.invalid/x", Version: "v1.0.0"},
			[]string{"plugin rpcagent: resolving example.invalid/x@v1.0.0: ", "go: ", "GOPROXY=off"}},
		{"missing replace directory",
			Plugin{Name: "ext", Import: "example.com/ext", Version: "v1.0.0", Replace: "./contrib/none"},
			[]string{"plugin ext: replace ./contrib/none: ", "no such file or directory"}},
		{"replace holds another module",
			Plugin{Name: "ext", Import: "example.com/other", Version: "v1.0.0", Replace: "./contrib/ext"},
			[]string{"plugin ext: replace ./contrib/ext: ", "is module example.com/ext, which does not provide example.com/other"}},
		{"failure after an edit restores go.mod",
			Plugin{Name: "ext", Import: "example.com/ext/missing", Version: "v1.0.0", Replace: "./contrib/ext"},
			[]string{"plugin ext: resolving example.com/ext/missing@v1.0.0: ", "does not contain package"}},
		{"module path is a prefix of the name only",
			Plugin{Name: "ext", Import: "example.com/extra", Replace: "./contrib/ext"},
			[]string{"plugin ext: replace ./contrib/ext: ", "does not provide example.com/extra"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, appFiles)
			before := readFile(t, filepath.Join(dir, "go.mod"))
			err := Pin(context.Background(), dir, []Plugin{tt.plugin}, goEnv())
			if err == nil {
				t.Fatal("Pin succeeded")
			}
			rest := err.Error()
			for _, want := range tt.want {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("error %q lacks %q", err, want)
				}
				rest = rest[i+len(want):]
			}
			if after := readFile(t, filepath.Join(dir, "go.mod")); after != before {
				t.Errorf("go.mod changed despite the error:\n%s", after)
			}
		})
	}
}
