package plugins

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
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

// TestPinFromModuleCacheFirst checks goGet's two tries against a module
// proxy of files: a module not in the module cache is fetched (the
// cache-only try fails, the second resolves with the given GOPROXY), and
// once it is cached a second project pins it with the proxy gone, writing
// the same go.mod and go.sum as the fetch did.
func TestPinFromModuleCacheFirst(t *testing.T) {
	proxy := t.TempDir()
	dep := module.Version{Path: "example.com/dep", Version: "v1.0.0"}
	src := t.TempDir()
	writeFiles(t, src, map[string]string{
		"go.mod": "module example.com/dep\n\ngo 1.26\n",
		"dep.go": "package dep\n",
	})
	at := filepath.Join(proxy, "example.com", "dep", "@v")
	writeFiles(t, at, map[string]string{
		"list":        "v1.0.0\n",
		"v1.0.0.info": `{"Version":"v1.0.0","Time":"2024-03-01T12:00:00Z"}`,
		"v1.0.0.mod":  "module example.com/dep\n\ngo 1.26\n",
	})
	zf, err := os.Create(filepath.Join(at, "v1.0.0.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromDir(zf, dep, src); err != nil {
		t.Fatal(err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GOPROXY=file://"+filepath.ToSlash(proxy), "GOSUMDB=off",
		"GOMODCACHE="+t.TempDir(), "GOFLAGS=-mod=mod -modcacherw", "GOWORK=off", "GOTOOLCHAIN=local")
	plugin := []Plugin{{Name: "dep", Import: "example.com/dep", Version: "v1.0.0"}}

	fetched := t.TempDir()
	writeFiles(t, fetched, appFiles)
	if err := Pin(context.Background(), fetched, plugin, env); err != nil {
		t.Fatalf("pinning a module only the proxy has: %v", err)
	}
	if err := os.RemoveAll(proxy); err != nil {
		t.Fatal(err)
	}
	cached := t.TempDir()
	writeFiles(t, cached, appFiles)
	if err := Pin(context.Background(), cached, plugin, env); err != nil {
		t.Fatalf("pinning a cached module with the proxy gone: %v", err)
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		a, b := readFile(t, filepath.Join(fetched, name)), readFile(t, filepath.Join(cached, name))
		if a != b {
			t.Errorf("%s from the cache:\n%s\nfetched:\n%s", name, b, a)
		}
	}
	if !strings.Contains(readFile(t, filepath.Join(cached, "go.mod")), "example.com/dep v1.0.0") {
		t.Errorf("go.mod does not require the plugin:\n%s", readFile(t, filepath.Join(cached, "go.mod")))
	}
}
