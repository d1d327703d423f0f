package templates

import (
	"errors"
	"testing"
)

// TestTargetArchSpelling renders packages whose target_arch is a GNU
// triplet, a Go arch or the other distribution's name: the package's arch
// is the format's own name, so that dpkg and rpm install it.
func TestTargetArchSpelling(t *testing.T) {
	tests := []struct {
		tmpl, targetArch, want string
	}{
		{"debian/generic", "x86_64-linux-gnu", "amd64"},
		{"debian/generic", "arm-linux-gnueabihf", "armhf"},
		{"debian/generic", "aarch64-linux-gnu", "arm64"},
		{"debian/generic", "powerpc64le-linux-gnu", "ppc64el"},
		{"debian/generic", "x86_64", "amd64"},
		{"debian/generic", "aarch64", "arm64"},
		{"debian/generic", "ppc64le", "ppc64el"},
		{"debian/generic", "386", "i386"},
		{"debian/generic", "amd64", "amd64"},
		{"el/el8", "x86_64-linux-gnu", "x86_64"},
		{"el/el8", "amd64", "x86_64"},
		{"el/el8", "arm64", "aarch64"},
		{"el/el8", "arm-linux-gnueabihf", "armv7hl"},
		{"el/el8", "ppc64el", "ppc64le"},
		{"el/el8", "powerpc64le-linux-gnu", "ppc64le"},
		{"tarball/basic", "x86_64-linux-gnu", "x86_64-linux-gnu"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl+"/"+tt.targetArch, func(t *testing.T) {
			r, err := Render(input(tt.tmpl, map[string]string{"dist": "el8", "target_arch": tt.targetArch}))
			if err != nil {
				t.Fatal(err)
			}
			if r.Info.Arch != tt.want {
				t.Errorf("Arch = %q, want %q", r.Info.Arch, tt.want)
			}
		})
	}
}

func TestUnknownTargetArch(t *testing.T) {
	for _, tmpl := range []string{"debian/generic", "el/el8"} {
		_, err := Render(input(tmpl, map[string]string{"dist": "el8", "target_arch": "x86_64-linux-gnux"}))
		var ue *UnknownArchError
		if !errors.As(err, &ue) || ue.Arch != "x86_64-linux-gnux" {
			t.Errorf("%s: error %v, want an *UnknownArchError", tmpl, err)
		}
	}
}
