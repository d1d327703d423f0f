package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// project copies the example into a fresh directory (no .git, so every
// run passes --version) and returns its path.
func project(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "backplane")
	copyDir(t, filepath.Join(repoRoot(t), "examples/backplane"), dst)
	return dst
}

// edit replaces the first old in file by new and returns the 1-based line
// where new starts.
func edit(t *testing.T, file, old, new string) int {
	return editAfter(t, file, "", old, new)
}

// editAfter is edit for the first old after anchor, such as a flavour's key.
func editAfter(t *testing.T, file, anchor, old, new string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(b), anchor)
	j := strings.Index(string(b[max(start, 0):]), old)
	if start < 0 || j < 0 {
		t.Fatalf("%s has no %q after %q", file, old, anchor)
	}
	i := start + j
	s := string(b[:i]) + new + string(b[i+len(old):])
	if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return strings.Count(s[:i], "\n") + 1
}

func appendFile(t *testing.T, file, text string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, append(b, []byte(text)...), 0o644); err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n") + 1
}

// TestBadInput runs the CLI on broken specs, manifests and command lines:
// each must name the file, line and field (where there is one), exit with
// the right code, and leave no output directory behind.
func TestBadInput(t *testing.T) {
	const spec = "packager/buildspec.yaml"
	const user = "packager/user_plugins.yaml"
	tests := []struct {
		name string
		// setup breaks the project and returns the substrings the error
		// must hold.
		setup func(t *testing.T, dir string) []string
		args  []string
		env   []string
		code  int
	}{
		{"yaml syntax", func(t *testing.T, dir string) []string {
			line := appendFile(t, filepath.Join(dir, spec), "broken: [unclosed\n")
			return []string{"buildspec.yaml:", fmt.Sprint(line)}
		}, nil, nil, 2},
		{"unknown key", func(t *testing.T, dir string) []string {
			line := editAfter(t, filepath.Join(dir, spec), "\nacme:", "    64bit_linux:\n      os: linux", "    64bit_linux:\n      ouptut: x\n      os: linux")
			return []string{fmt.Sprintf("buildspec.yaml:%d:", line+1), "acme.compile_targets.64bit_linux.ouptut"}
		}, nil, nil, 2},
		{"wrong type", func(t *testing.T, dir string) []string {
			line := editAfter(t, filepath.Join(dir, spec), "\nacme:", "    64bit_linux:\n      os: linux", "    64bit_linux:\n      cgo: maybe\n      os: linux")
			return []string{fmt.Sprintf("buildspec.yaml:%d:", line+1), "acme.compile_targets.64bit_linux.cgo"}
		}, nil, nil, 2},
		{"dangling binary", func(t *testing.T, dir string) []string {
			line := editAfter(t, filepath.Join(dir, spec), "\nacme:", "binary: 64bit_linux", "binary: 64bit_linx")
			return []string{fmt.Sprintf("buildspec.yaml:%d:", line), "acme.packages.el8_64.binary", "64bit_linx"}
		}, nil, nil, 2},
		{"empty flavour", func(t *testing.T, dir string) []string {
			line := appendFile(t, filepath.Join(dir, spec), "empty: {}\n")
			return []string{fmt.Sprintf("buildspec.yaml:%d:", line), "empty"}
		}, []string{"--build", "empty"}, nil, 2},
		{"unsupported os", func(t *testing.T, dir string) []string {
			line := edit(t, filepath.Join(dir, spec), "os: linux", "os: plan10")
			return []string{fmt.Sprintf("buildspec.yaml:%d:", line), "compile_targets.64bit_linux.os", "plan10"}
		}, nil, nil, 2},
		{"unsupported arch", func(t *testing.T, dir string) []string {
			line := edit(t, filepath.Join(dir, spec), "arch: arm64", "arch: z80")
			return []string{fmt.Sprintf("buildspec.yaml:%d:", line), "compile_targets.arm64_linux.arch", "z80"}
		}, nil, nil, 2},
		{"flag not in flags_map", func(t *testing.T, dir string) []string {
			line := edit(t, filepath.Join(dir, spec), "        ConfigDir: /etc/backplane\n", "        ConfigDir: /etc/backplane\n        Colour: blue\n")
			return []string{fmt.Sprintf("buildspec.yaml:%d:", line+1), "Colour"}
		}, []string{"--build", "foss"}, nil, 2},
		{"missing template property", func(t *testing.T, dir string) []string {
			editAfter(t, filepath.Join(dir, spec), "\nacme:", "      rudder_version: 8.1.0\n", "")
			return []string{"package rudder", "template rudder/plugin", `property "rudder_version"`}
		}, nil, nil, 2},
		{"missing template", func(t *testing.T, dir string) []string {
			line := editAfter(t, filepath.Join(dir, spec), "\nacme:", "template: el/el8", "template: el/el99")
			return []string{fmt.Sprintf("buildspec.yaml:%d:7: acme.packages.el8_64.template: no template \"el/el99\"", line)}
		}, nil, nil, 2},
		{"misspelt property in another flavour", func(t *testing.T, dir string) []string {
			line := edit(t, filepath.Join(dir, spec), "      target_arch: x86_64\n", "      target_arhc: x86_64\n")
			return []string{fmt.Sprintf("buildspec.yaml:%d:7: foss.packages.el8_64.target_arhc: unknown property", line), `did you mean "target_arch"?`}
		}, nil, nil, 2},
		{"unknown target_arch", func(t *testing.T, dir string) []string {
			line := editAfter(t, filepath.Join(dir, spec), "\nacme:", "target_arch: amd64", "target_arch: x86_64-linux-gnux")
			return []string{fmt.Sprintf("buildspec.yaml:%d:7: acme.packages.bookworm_64.target_arch", line)}
		}, nil, nil, 2},
		{"no build time", func(t *testing.T, dir string) []string {
			return []string{"no build time", "set SOURCE_DATE_EPOCH"}
		}, nil, []string{"SOURCE_DATE_EPOCH="}, 2},
		{"bad version", func(t *testing.T, dir string) []string { return []string{"1 2"} },
			[]string{"--version", "1 2"}, nil, 2},
		{"unknown flavour", func(t *testing.T, dir string) []string { return []string{"nope", "acme"} },
			[]string{"--build", "nope"}, nil, 2},
		{"unknown package", func(t *testing.T, dir string) []string { return []string{"nope"} },
			[]string{"--packages", "nope"}, nil, 2},
		{"missing spec", func(t *testing.T, dir string) []string {
			os.Remove(filepath.Join(dir, spec))
			return []string{"buildspec.yaml"}
		}, nil, nil, 2},
		{"unknown flag", func(t *testing.T, dir string) []string { return []string{"--colour"} },
			[]string{"--colour"}, nil, 2},
		{"bad builder", func(t *testing.T, dir string) []string { return []string{"--builder", "mock"} },
			[]string{"--builder", "mock"}, nil, 2},
		{"duplicate plugin", func(t *testing.T, dir string) []string {
			line := appendFile(t, filepath.Join(dir, user), "rpcagent: github.com/acme/other\n")
			return []string{fmt.Sprintf("user_plugins.yaml:%d:", line), "rpcagent"}
		}, nil, nil, 2},
		{"bad plugin version", func(t *testing.T, dir string) []string {
			line := edit(t, filepath.Join(dir, user), "version: v0.3.0", "version: 0.3")
			return []string{fmt.Sprintf("user_plugins.yaml:%d:", line), "rpcagent.version"}
		}, nil, nil, 2},
		{"unresolvable plugin module", func(t *testing.T, dir string) []string {
			line := appendFile(t, filepath.Join(dir, user), "nope:\n  import: example.invalid/nope\n  version: v1.0.0\n")
			return []string{fmt.Sprintf("user_plugins.yaml:%d: plugin nope: resolving example.invalid/nope@v1.0.0", line)}
		}, nil, []string{"GOPROXY=off", "GOFLAGS=-mod=mod"}, 1},
		{"failing pre command", func(t *testing.T, dir string) []string {
			line := editAfter(t, filepath.Join(dir, spec), "\nacme:", "        - go generate --run plugin\n    64bit_linux", "        - go generate --run plugin\n        - exit 3\n    64bit_linux")
			return []string{fmt.Sprintf("buildspec.yaml:%d: compile 64bit_linux: pre command \"exit 3\"", line+2)}
		}, []string{"--packages", "el8_64"}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := project(t)
			want := tt.setup(t, dir)
			parent := t.TempDir()
			out := filepath.Join(parent, "dist")
			args := []string{"build", "--source", dir, "--out", out}
			if !slices.Contains(tt.args, "--build") {
				args = append(args, "--build", "acme")
			}
			if !slices.Contains(tt.args, "--version") {
				args = append(args, "--version", "0.26.0acme")
			}
			args = append(args, tt.args...)
			// The copy has no .git: its time is SOURCE_DATE_EPOCH's.
			env := append([]string{"SOURCE_DATE_EPOCH=1709294400"}, tt.env...)
			r := packyard(t, t.TempDir(), env, args...)
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d\n%s", r.code, tt.code, r.stderr)
			}
			for _, w := range want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error lacks %q:\n%s", w, r.stderr)
				}
			}
			left, _ := os.ReadDir(parent)
			if len(left) != 0 {
				t.Errorf("output left behind: %v", left)
			}
		})
	}
}
