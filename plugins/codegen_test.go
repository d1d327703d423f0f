package plugins

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCodegenErrors(t *testing.T) {
	tests := []struct {
		name string
		user string
		want string
	}{
		{"manifest error is a *Error", "a: {import: example.com/a, version: \"1.2\"}\n",
			`packager/user_plugins.yaml:1:37: a.version: "1.2" is not a semantic version (want vX.Y.Z)`},
		{"unresolvable module names the plugin", "rpcagent: {import: example.invalid/x, version: v1.0.0}\n",
			"plugin rpcagent: resolving example.invalid/x@v1.0.0: go: example.invalid/x@v1.0.0: module lookup disabled by GOPROXY=off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, appFiles)
			writeFiles(t, dir, map[string]string{UserFile: tt.user})
			err := Codegen(context.Background(), dir, "", goEnv())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			var e *Error
			if isManifest := strings.HasPrefix(tt.want, "packager/"); errors.As(err, &e) != isManifest {
				t.Errorf("errors.As(err, *Error) = %v, want %v, for %v", !isManifest, isManifest, err)
			}
			// Nothing is generated when a step fails.
			if m, _ := filepath.Glob(filepath.Join(dir, "plugin_*.go")); len(m) != 0 {
				t.Errorf("generated %v", m)
			}
			if _, err := os.Stat(filepath.Join(dir, "go.sum")); !os.IsNotExist(err) {
				t.Errorf("go.sum written: %v", err)
			}
		})
	}
}
