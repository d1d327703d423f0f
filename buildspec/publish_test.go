package buildspec

import (
	"reflect"
	"strings"
	"testing"
)

// publishSpec has one target of each type, auth shared through a YAML
// anchor, and the defaults Parse fills in.
const publishSpec = `
.auth: &auth {username_env: REPO_USER, password_env: REPO_PASSWORD}
foss:
  compile_targets:
    64bit_linux: {os: linux, arch: amd64}
  packages:
    defaults: {name: app, release: 1, binary: 64bit_linux}
    el8_64: {template: el/el8, dist: el8, target_arch: x86_64}
    el9_64: {template: el/el9, dist: el9, target_arch: x86_64}
    bookworm_64: {template: debian/generic, dist: bookworm, target_arch: amd64}
    rudder: {template: rudder/plugin, rudder_version: 8.1.0}
  publish:
    el:
      <<: *auth
      type: yum
      url: https://repo.example.com/el/{{dist}}/{{arch}}
      packages: [el8_64, el9_64]
    debian:
      type: apt
      url: file:///srv/apt
      packages: [bookworm_64]
    aptly:
      type: aptly
      url: http://127.0.0.1:8080
      repo: backplane
      suite: stable
      gpg_key: 3DD6334545E18CB4
      packages: [bookworm_64]
    files:
      type: http
      url: https://files.example.com/app/{{ version }}/
      token_env: FILES_TOKEN
    image:
      type: oci
      image: ghcr.io/acme/app
      tags: ["{{version}}", latest]
    plugins:
      type: rudder
      url: https://plugins.example.com/
      packages: [rudder]
`

func TestLoadPublish(t *testing.T) {
	spec, err := Parse("packager/buildspec.yaml", []byte(publishSpec))
	if err != nil {
		t.Fatal(err)
	}
	fl, err := spec.Flavour("foss")
	if err != nil {
		t.Fatal(err)
	}
	for _, pt := range fl.Publish {
		if pt.Line == 0 {
			t.Errorf("%s: no line", pt.Name)
		}
		pt.Line = 0
	}
	want := []*PublishTarget{
		{Name: "aptly", Type: PublishAptly, URL: "http://127.0.0.1:8080", Packages: []string{"bookworm_64"},
			Suite: "stable", Repo: "backplane", Prefix: ".", GPGKey: "3DD6334545E18CB4"},
		{Name: "debian", Type: PublishApt, URL: "file:///srv/apt", Packages: []string{"bookworm_64"},
			Suite: "{{dist}}", Component: "main"},
		{Name: "el", Type: PublishYum, URL: "https://repo.example.com/el/{{dist}}/{{arch}}",
			Packages: []string{"el8_64", "el9_64"}, UsernameEnv: "REPO_USER", PasswordEnv: "REPO_PASSWORD"},
		{Name: "files", Type: PublishHTTP, URL: "https://files.example.com/app/{{ version }}/", TokenEnv: "FILES_TOKEN"},
		{Name: "image", Type: PublishOCI, Image: "ghcr.io/acme/app", Tags: []string{"{{version}}", "latest"}, Base: DefaultBaseImage, Binaries: []string{"64bit_linux"}},
		{Name: "plugins", Type: PublishRudder, URL: "https://plugins.example.com/", Packages: []string{"rudder"}, Channel: "release"},
	}
	if !reflect.DeepEqual(fl.Publish, want) {
		t.Errorf("publish:\n got %s\nwant %s", dump(fl.Publish), dump(want))
	}
}

func TestNoPublish(t *testing.T) {
	spec, err := Parse("packager/buildspec.yaml", []byte(strings.SplitN(publishSpec, "  publish:", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	if fl := spec.Flavours["foss"]; fl.Publish != nil {
		t.Errorf("Publish = %v, want nil", fl.Publish)
	}
}

func TestExpandURL(t *testing.T) {
	tests := []struct{ pattern, want string }{
		{"https://r/el/{{dist}}/{{arch}}", "https://r/el/el8/x86_64"},
		{"file:///srv/{{ version }}/", "file:///srv/1.2.0~rc1/"},
		{"https://r/{{other}}", "https://r/{{other}}"},
	}
	for _, tt := range tests {
		if got := ExpandURL(tt.pattern, "1.2.0~rc1", "el8", "x86_64"); got != tt.want {
			t.Errorf("ExpandURL(%q) = %q, want %q", tt.pattern, got, tt.want)
		}
	}
}
