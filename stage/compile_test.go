package stage

import (
	"reflect"
	"testing"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/version"
)

func TestLDFlags(t *testing.T) {
	flags := map[string]string{
		"Version":          "example.com/p/build.Version",
		"SHA":              "example.com/p/build.SHA",
		"BuildTime":        "example.com/p/build.BuildDate",
		"ProvisionJWTFile": "example.com/p/build.ProvisionJWTFile",
		"Unset":            "example.com/p/build.Unset",
	}
	v := version.Version{Product: "0.26.0acme", Commit: "9eca", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))}
	tests := []struct {
		name   string
		target buildspec.CompileTarget
		want   string
	}{
		{
			name:   "filled and target flags, sorted",
			target: buildspec.CompileTarget{Flags: map[string]string{"ProvisionJWTFile": "/etc/acme/p.jwt"}},
			want: "-s -w -X example.com/p/build.BuildDate=2026-01-02T02:04:05Z -X example.com/p/build.ProvisionJWTFile=/etc/acme/p.jwt" +
				" -X example.com/p/build.SHA=9eca -X example.com/p/build.Version=0.26.0acme",
		},
		{
			name:   "values with spaces are quoted, extra ldflags last",
			target: buildspec.CompileTarget{Flags: map[string]string{"ProvisionJWTFile": "a b"}, LDFlags: "-extldflags=-static"},
			want: "-s -w -X example.com/p/build.BuildDate=2026-01-02T02:04:05Z -X 'example.com/p/build.ProvisionJWTFile=a b'" +
				" -X example.com/p/build.SHA=9eca -X example.com/p/build.Version=0.26.0acme -extldflags=-static",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LDFlags(flags, &tt.target, v); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestGoBuildArgsAndEnv(t *testing.T) {
	v := version.Version{Product: "1", Time: time.Unix(0, 0)}
	tgt := &buildspec.CompileTarget{OS: "linux", Arch: "arm", ARM: "7", Tags: []string{"a", "b"}, PIE: true, Package: "./cmd/x", Env: []string{"FOO=1"}}
	args := GoBuildArgs(nil, tgt, v, "/out/x")
	want := []string{"build", "-trimpath", "-buildvcs=false", "-tags=a,b", "-buildmode=pie", "-ldflags=-s -w", "-o", "/out/x", "./cmd/x"}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("args: got %q, want %q", args, want)
	}
	env := GoBuildEnv([]string{"GOOS=windows", "PATH=/bin"}, tgt)
	wantEnv := []string{"GOOS=windows", "PATH=/bin", "FOO=1", "GOOS=linux", "GOARCH=arm", "GOARM=7", "CGO_ENABLED=0"}
	if !reflect.DeepEqual(env, wantEnv) {
		t.Errorf("env: got %q, want %q", env, wantEnv)
	}
	amd := GoBuildEnv(nil, &buildspec.CompileTarget{OS: "linux", Arch: "amd64", CGO: true})
	if want := []string{"GOOS=linux", "GOARCH=amd64", "GOAMD64=v1", "CGO_ENABLED=1"}; !reflect.DeepEqual(amd, want) {
		t.Errorf("amd64 env: got %q, want %q", amd, want)
	}
}
