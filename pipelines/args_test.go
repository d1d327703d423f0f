package main

import (
	"slices"
	"strings"
	"testing"
)

func TestNormalizeSpec(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{in: "", want: "packager/buildspec.yaml"},
		{in: " packager/buildspec.yaml ", want: "packager/buildspec.yaml"},
		{in: "build/./spec.yaml", want: "build/spec.yaml"},
		{in: "/etc/spec.yaml", err: "must be relative"},
		{in: "../other/spec.yaml", err: "leaves the source"},
		{in: "a/../../spec.yaml", err: "leaves the source"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := normalizeSpec(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("normalizeSpec(%q) = %q, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("normalizeSpec(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNormalizeFlavour(t *testing.T) {
	for in, want := range map[string]string{"": "foss", "  ": "foss", "acme": "acme", " acme ": "acme"} {
		if got := normalizeFlavour(in); got != want {
			t.Errorf("normalizeFlavour(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNormalizeList(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil", nil, nil},
		{"sorted set", []string{"el9_64", "el8_64", "el9_64"}, []string{"el8_64", "el9_64"}},
		{"commas", []string{"deb,el8_64", " rpkg "}, []string{"deb", "el8_64", "rpkg"}},
		{"blanks dropped", []string{"", " , ", "a"}, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := normalizeList(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("normalizeList(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeBuilder(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: "", want: "nfpm"},
		{in: "nfpm", want: "nfpm"},
		{in: " rpmbuild", want: "rpmbuild"},
		{in: "mock", err: `builder "mock": want nfpm or rpmbuild`},
	}
	for _, tt := range tests {
		got, err := normalizeBuilder(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("normalizeBuilder(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("normalizeBuilder(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestGoImageFromMod(t *testing.T) {
	tests := []struct {
		name, mod, want, err string
	}{
		{name: "patch dropped", mod: "module x\n\ngo 1.26.1\n", want: "golang:1.26"},
		{name: "dot zero", mod: "module x\n\ngo 1.26.0\n", want: "golang:1.26"},
		{name: "minor only", mod: "module x\ngo 1.22\n", want: "golang:1.22"},
		{name: "toolchain ignored", mod: "module x\ngo 1.25.3\ntoolchain go1.26.1\n", want: "golang:1.25"},
		{name: "release candidate kept", mod: "module x\ngo 1.27rc1\n", want: "golang:1.27rc1"},
		{name: "no go line", mod: "module x\n", err: "x/go.mod has no go directive"},
		{name: "syntax error", mod: "module x\ngo 1.26\nrequire (\n", err: "x/go.mod:4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := goImageFromMod("x/go.mod", []byte(tt.mod))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %q, %v; want error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// The root module's own go.mod decides the tool image; it must parse.
func TestGoImageOfPackyard(t *testing.T) {
	data := readRepoFile(t, "go.mod")
	got, err := goImageFromMod("go.mod", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "golang:1.") {
		t.Fatalf("tool image %q", got)
	}
}
