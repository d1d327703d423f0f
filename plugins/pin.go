package plugins

import (
	"bytes"
	"errors"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// zeroPseudo is the version Go itself writes for a module that is only
// ever used through a replace directive.
const zeroPseudo = "v0.0.0-00010101000000-000000000000"

// Pin records each plugin's module in projectDir's go.mod, as xcaddy and
// the OpenTelemetry Collector Builder do, and resolves it so that go.sum is
// complete:
//
//   - with Replace: the local directory must hold a go.mod whose module
//     path is Import or a prefix of it; go.mod gets
//     require MODULE Version (a zero pseudo-version without Version) and
//     replace MODULE => Replace;
//   - with Version only: `go get Import@Version`;
//   - with neither: nothing, the plugin's package must come from the main
//     module or a module go.mod already requires.
//
// The go tool runs in projectDir with env as its environment (nil: this
// process's), so callers may set GOPROXY, GOFLAGS or GOPRIVATE.
func Pin(ctx context.Context, projectDir string, plugins []Plugin, env []string) error {
	for _, p := range plugins {
		if p.Replace == "" && p.Version == "" {
			continue
		}
		target := p.Import + "@" + p.Version
		if p.Replace != "" {
			mod, err := localModule(projectDir, p)
			if err != nil {
				return err
			}
			version := p.Version
			if version == "" {
				version = zeroPseudo
			}
			target = mod + "@" + version
			if _, err := runGo(ctx, projectDir, env, "mod", "edit",
				"-require="+target, "-replace="+mod+"="+p.Replace); err != nil {
				return fmt.Errorf("plugin %s: pinning %s with go mod edit: %w", p.Name, target, err)
			}
		}
		if _, err := runGo(ctx, projectDir, env, "get", target); err != nil {
			return fmt.Errorf("plugin %s: resolving %s: %w", p.Name, target, err)
		}
	}
	return nil
}

// localModule checks p.Replace's go.mod and returns its module path.
func localModule(projectDir string, p Plugin) (string, error) {
	dir := p.Replace
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(projectDir, dir)
	}
	gomod := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("plugin %s: replace %s: %w", p.Name, p.Replace, err)
	}
	mod := modfile.ModulePath(data)
	if mod == "" {
		return "", fmt.Errorf("plugin %s: replace %s: %s has no module line", p.Name, p.Replace, gomod)
	}
	if p.Import != mod && !strings.HasPrefix(p.Import, mod+"/") {
		return "", fmt.Errorf("plugin %s: replace %s: %s is module %s, which does not provide %s", p.Name, p.Replace, gomod, mod, p.Import)
	}
	return mod, nil
}

// runGo runs the go tool in dir; its error is the tool's own message, which
// callers wrap with what they were doing.
func runGo(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	return stdout.Bytes(), nil
}
