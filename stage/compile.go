package stage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/version"
)

// LDFlags returns the -ldflags value for target t: the -X flags of
// flags_map (Version, SHA and BuildTime from v, the rest from the target's
// flags), sorted by name, then the target's own ldflags. Binaries are
// stripped of symbol tables (-s -w), as distributions ship them; the Go
// build information that `go version -m` reads stays.
func LDFlags(flagsMap map[string]string, t *buildspec.CompileTarget, v version.Version) string {
	values := map[string]string{}
	for name, val := range t.Flags {
		values[name] = val
	}
	values[buildspec.FlagVersion] = v.Product
	values[buildspec.FlagSHA] = v.Commit
	values[buildspec.FlagBuildTime] = v.Time.UTC().Format(time.RFC3339)

	names := make([]string, 0, len(flagsMap))
	for name := range flagsMap {
		if _, ok := values[name]; ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	parts := []string{"-s", "-w"}
	for _, name := range names {
		parts = append(parts, "-X", quoteFlag(flagsMap[name]+"="+values[name]))
	}
	if t.LDFlags != "" {
		parts = append(parts, t.LDFlags)
	}
	return strings.Join(parts, " ")
}

// quoteFlag quotes s the way cmd/go splits -ldflags: single or double
// quotes, no escapes inside.
func quoteFlag(s string) string {
	if !strings.ContainsAny(s, " \t\n'\"") {
		return s
	}
	if !strings.Contains(s, "'") {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// GoBuildArgs is the go command line for target t writing to out.
func GoBuildArgs(flagsMap map[string]string, t *buildspec.CompileTarget, v version.Version, out string) []string {
	args := []string{"build", "-trimpath", "-buildvcs=false"}
	if len(t.Tags) > 0 {
		args = append(args, "-tags="+strings.Join(t.Tags, ","))
	}
	if t.PIE {
		args = append(args, "-buildmode=pie")
	}
	args = append(args, "-ldflags="+LDFlags(flagsMap, t, v), "-o", out)
	pkg := t.Package
	if pkg == "" {
		pkg = "."
	}
	return append(args, pkg)
}

// GoBuildEnv is the environment go build runs with for target t, added
// to base: the target's env, then GOOS, GOARCH, GOARM/GOAMD64 and
// CGO_ENABLED, which the spec decides and the caller's environment may
// not override.
func GoBuildEnv(base []string, t *buildspec.CompileTarget) []string {
	env := append(append([]string(nil), base...), t.Env...)
	env = append(env, "GOOS="+t.OS, "GOARCH="+t.Arch)
	if t.Arch == "arm" && t.ARM != "" {
		env = append(env, "GOARM="+t.ARM)
	}
	if t.Arch == "amd64" {
		amd64 := t.AMD64
		if amd64 == "" {
			amd64 = "v1"
		}
		env = append(env, "GOAMD64="+amd64)
	}
	if t.CGO {
		env = append(env, "CGO_ENABLED=1")
	} else {
		env = append(env, "CGO_ENABLED=0")
	}
	return env
}

// CommandError is a pre, post or go build command that failed; its output
// is kept for the message.
type CommandError struct {
	// File and Line name the target in the spec, when known.
	File    string
	Line    int
	Target  string
	Step    string // pre, post, go build
	Command string
	Output  string
	Err     error
}

func (e *CommandError) Error() string {
	out := strings.TrimSpace(e.Output)
	if len(out) > 4000 {
		out = "…" + out[len(out)-4000:]
	}
	msg := fmt.Sprintf("compile %s: %s command %q: %v", e.Target, e.Step, e.Command, e.Err)
	if e.File != "" && e.Line > 0 {
		msg = fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
	}
	if out != "" {
		msg += "\n" + out
	}
	return msg
}

func (e *CommandError) Unwrap() error { return e.Err }

// PreKey says which targets' pre commands do the same: those commands
// see the work copy and env plus the target's own env, and nothing else
// of the target (not its GOOS or GOARCH, not its name), so targets with
// equal keys may share one run of them. "" for a target without pre
// commands.
func PreKey(t *buildspec.CompileTarget) string {
	if len(t.Pre) == 0 {
		return ""
	}
	return strings.Join(t.Pre, "\x00") + "\x00\x00" + strings.Join(t.Env, "\x00")
}

// RunPre runs target t's pre commands in src, in order, with env plus the
// target's env. src must be a copy owned by this call: pre commands may
// change it. BuildTarget then builds from it.
func RunPre(ctx context.Context, t *buildspec.CompileTarget, src string, env []string) error {
	shellEnv := append(append([]string(nil), env...), t.Env...)
	for _, c := range t.Pre {
		if err := runShell(ctx, src, c, shellEnv); err != nil {
			return &CommandError{Target: t.Name, Step: "pre", Command: c, Output: err.output, Err: err.err}
		}
	}
	return nil
}

// BuildTarget builds target t from the work copy at src (its pre commands
// already run, see RunPre) into out: go build, then the post commands, in
// src.
func BuildTarget(ctx context.Context, flagsMap map[string]string, t *buildspec.CompileTarget, v version.Version, src, out string, env []string) error {
	shellEnv := append(append([]string(nil), env...), t.Env...)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	args := GoBuildArgs(flagsMap, t, v, tmp)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = src
	cmd.Env = GoBuildEnv(env, t)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return &CommandError{Target: t.Name, Step: "go build", Command: "go " + strings.Join(args, " "), Output: buf.String(), Err: err}
	}
	for _, c := range t.Post {
		if err := runShell(ctx, src, c, shellEnv); err != nil {
			os.Remove(tmp)
			return &CommandError{Target: t.Name, Step: "post", Command: c, Output: err.output, Err: err.err}
		}
	}
	return os.Rename(tmp, out)
}

type shellError struct {
	output string
	err    error
}

func runShell(ctx context.Context, dir, command string, env []string) *shellError {
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Dir = dir
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return &shellError{output: buf.String(), err: err}
	}
	return nil
}
