package buildinfo

import (
	"bytes"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/acme/backplane/plugin"
)

type fake struct{}

func (fake) Name() string { return "fake" }

func TestCollect(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.0",
		Main:      debug.Module{Path: "github.com/acme/backplane", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "github.com/acme/backplane-rpcagent", Version: "v0.3.0",
				Replace: &debug.Module{Path: "./contrib/rpcagent", Version: "(devel)"}},
			{Path: "example.com/fork", Version: "v1.0.0",
				Replace: &debug.Module{Path: "example.com/myfork", Version: "v1.0.1"}},
			{Path: "example.com/a", Version: "v1.0.0"},
			{Path: "example.com/a/b", Version: "v2.0.0"},
		},
	}
	tests := []struct {
		pkg                   string
		module, version, repl string
	}{
		{"github.com/acme/backplane/plugins/ping", "github.com/acme/backplane", "(devel)", ""},
		{"github.com/acme/backplane-rpcagent", "github.com/acme/backplane-rpcagent", "v0.3.0", "./contrib/rpcagent"},
		{"example.com/fork/p", "example.com/fork", "v1.0.0", "example.com/myfork@v1.0.1"},
		{"example.com/a/x", "example.com/a", "v1.0.0", ""},
		{"example.com/a/b/c", "example.com/a/b", "v2.0.0", ""}, // nested module wins
		{"example.com/ab", "", "", ""},                         // a prefix of the name, not of the path
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			info := Collect([]plugin.Info{{Name: "p", Package: tt.pkg}}, bi)
			got := info.Plugins[0]
			if got.Module != tt.module || got.Version != tt.version || got.Replace != tt.repl {
				t.Errorf("got %s %s %q, want %s %s %q", got.Module, got.Version, got.Replace, tt.module, tt.version, tt.repl)
			}
		})
	}
}

func TestCollectWithoutBuildInfo(t *testing.T) {
	info := Collect([]plugin.Info{{Name: "p", Package: "x/y"}}, nil)
	if info.Plugins[0].Module != "" || info.GoVersion != "" || info.Version != "development" {
		t.Errorf("unexpected %+v", info)
	}
}

func TestWrite(t *testing.T) {
	var r plugin.Registry
	if err := r.Register("fake", fake{}); err != nil {
		t.Fatal(err)
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/acme/backplane", Version: "(devel)"}}
	info := Collect(r.Registered(), bi)

	var text bytes.Buffer
	if err := WriteText(&text, info); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Backplane development\n",
		"SHA:",
		"Build time:",
		"ProvisionJWTFile:",
		"ConfigDir:",
		"Plugins (1):",
		"fake  github.com/acme/backplane/buildinfo  github.com/acme/backplane (devel)",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, text.String())
		}
	}

	var js bytes.Buffer
	if err := WriteJSON(&js, info); err != nil {
		t.Fatal(err)
	}
	var back Info
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Plugins) != 1 || back.Plugins[0].Module != "github.com/acme/backplane" || back.MainModule != "github.com/acme/backplane" {
		t.Errorf("JSON round trip: %+v", back)
	}
}
