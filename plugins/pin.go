package plugins

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
//   - with Version only: `go get Import@Version` (also run after the edit
//     above, to check the package exists and complete go.sum);
//   - with neither: nothing, the plugin's package must come from the main
//     module or a module go.mod already requires.
//
// The go tool runs in projectDir with env as its environment (nil: this
// process's), so callers may set GOPROXY, GOFLAGS or GOPRIVATE.
//
// On failure go.mod and go.sum are put back as they were.
func Pin(ctx context.Context, projectDir string, plugins []Plugin, env []string) (err error) {
	restore, err := snapshot(projectDir, "go.mod", "go.sum")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rerr := restore(); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()
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
			if _, err := runGo(ctx, projectDir, env, "mod", "edit",
				"-require="+mod+"@"+version, "-replace="+mod+"="+p.Replace); err != nil {
				return fmt.Errorf("plugin %s: pinning %s@%s with go mod edit: %w", p.Name, mod, version, err)
			}
			target = p.Import + "@" + version
		}
		// go get of the package rather than the module also checks that
		// the module provides it, and fills go.sum for its imports.
		if err := goGet(ctx, projectDir, env, target); err != nil {
			return fmt.Errorf("%splugin %s: resolving %s: %w", p.where(), p.Name, target, err)
		}
	}
	return nil
}

// goGet runs `go get target` in dir, first from the module cache alone
// (GOPROXY=off), then, if that fails, with env as given.
//
// Without GOPROXY=off, go get asks the module proxy about every prefix of
// a package path (github.com/acme/@v/v0.3.0.info, github.com/@v/…) to
// see whether another module provides it, even when the plugin's module
// is replaced by a local directory: a network round trip (about 0.3 s)
// per run, and codegen runs in the codegen stage and again in each
// target's `go generate`. When everything is in the module cache (and
// go.sum, or the checksum database, vouches for it) the cache-only run
// writes the same go.mod and go.sum; anything it cannot resolve — a
// module not downloaded yet, a version query such as latest or a branch —
// fails it, and the second run resolves as before.
func goGet(ctx context.Context, dir string, env []string, target string) error {
	offline := env
	if offline == nil {
		offline = os.Environ()
	}
	offline = append(slices.Clip(offline), "GOPROXY=off")
	if _, err := runGo(ctx, dir, offline, "get", target); err == nil {
		return nil
	}
	_, err := runGo(ctx, dir, env, "get", target)
	return err
}

// snapshot saves the named files of dir and returns a function that puts
// them back, removing those that did not exist.
func snapshot(dir string, names ...string) (func() error, error) {
	saved := make(map[string][]byte, len(names))
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case err == nil:
			saved[name] = data
		case errors.Is(err, fs.ErrNotExist):
			saved[name] = nil
		default:
			return nil, fmt.Errorf("plugins: %w", err)
		}
	}
	return func() error {
		var errs []error
		for name, data := range saved {
			path := filepath.Join(dir, name)
			if data == nil {
				if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
					errs = append(errs, err)
				}
				continue
			}
			if err := writeAtomic(path, data); err != nil {
				errs = append(errs, fmt.Errorf("plugins: restoring %s: %w", path, err))
			}
		}
		return errors.Join(errs...)
	}, nil
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
