package plugin

import (
	"strings"
	"testing"
)

type named string

func (n named) Name() string { return string(n) }

type ptr struct{}

func (*ptr) Name() string { return "ptr" }

func TestRegister(t *testing.T) {
	var nilPtr *ptr
	tests := []struct {
		name    string
		regName string
		p       Plugin
		wantErr string
	}{
		{"ok", "a", named("a"), ""},
		{"pointer ok", "b", &ptr{}, ""},
		{"duplicate", "a", named("a"), "plugin: register a: already registered"},
		{"empty name", "", named("x"), "empty name"},
		{"nil", "c", nil, "nil plugin"},
		{"nil pointer", "d", nilPtr, "nil plugin"},
	}
	var r Registry
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Register(tt.regName, tt.p)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Register(%q) = %v, want error containing %q", tt.regName, err, tt.wantErr)
			}
		})
	}
	got := r.Registered()
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Fatalf("Registered() = %+v, want a, b", got)
	}
	const pkg = "github.com/acme/backplane/plugin"
	for _, in := range got {
		if in.Package != pkg {
			t.Errorf("%s: Package = %q, want %q", in.Name, in.Package, pkg)
		}
	}
}

func TestDefaultRegistry(t *testing.T) {
	if err := Register("default-test", named("x")); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, in := range Registered() {
		found = found || in.Name == "default-test"
	}
	if !found {
		t.Error("Registered() lacks default-test")
	}
}
