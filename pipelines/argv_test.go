package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the root module, the module's replace target: the parent
// directory, or PACKYARD_PIPELINES_ROOT when ci/dagger-typecheck.sh runs
// the tests in a copy of the module.
func repoRoot(t *testing.T) string {
	t.Helper()
	root := os.Getenv("PACKYARD_PIPELINES_ROOT")
	if root == "" {
		root = ".."
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// readRepoFile reads a file of the root module.
func readRepoFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var acme = globals{Source: "/src", Spec: "packager/buildspec.yaml", Flavour: "acme", Version: "0.26.0acme"}

// TestArgv pins the argv of every container step to the command a person
// types on the host (docs/cli.md), so both paths run the same stage.
func TestArgv(t *testing.T) {
	tests := []struct {
		name string
		got  []string
		want string
	}{
		{"compile one target", compileArgv(acme, []string{"64bit_linux"}, "/in/tarball/b.tar.gz", "/out"),
			"packyard compile --source /src --build acme --version 0.26.0acme --tarball /in/tarball/b.tar.gz --target 64bit_linux --out /out"},
		{"compile all targets", compileArgv(acme, nil, "/in/tarball/b.tar.gz", "/out"),
			"packyard compile --source /src --build acme --version 0.26.0acme --tarball /in/tarball/b.tar.gz --out /out"},
		{"default flavour is explicit", compileArgv(globals{Source: "/src", Version: "1.0.0"}, nil, "/t.tar.gz", "/out"),
			"packyard compile --source /src --build foss --version 1.0.0 --tarball /t.tar.gz --out /out"},
		{"other spec", sourceArgv(globals{Source: "/src", Spec: "build/spec.yaml", Flavour: "foss", Version: "1"}, "/out"),
			"packyard source --source /src --spec build/spec.yaml --build foss --version 1 --out /out"},
		{"source", sourceArgv(acme, "/out"),
			"packyard source --source /src --build acme --version 0.26.0acme --out /out"},
		{"version left to the tool", versionJSONArgv(globals{Source: "/src", Flavour: "acme"}),
			"packyard version --source /src --build acme --json"},
		{"version of a git dir", versionJSONArgv(globals{Source: "/repo", Flavour: "acme", Version: "0.26.0acme"}),
			"packyard version --source /repo --build acme --version 0.26.0acme --json"},
		{"plan", planArgv(acme, false), "packyard plan --source /src --build acme --version 0.26.0acme"},
		{"plan json", planArgv(acme, true), "packyard plan --source /src --build acme --version 0.26.0acme --json"},
		{"codegen", codegenArgv(acme, ""), "packyard codegen --source /src --build acme --version 0.26.0acme"},
		{"codegen dir", codegenArgv(acme, "/src/cmd/x"),
			"packyard codegen --source /src --build acme --version 0.26.0acme --dir /src/cmd/x"},
		{"package nfpm rpm", packageArgv(acme, "el8_64", "/in/binaries", "/in/tarball/backplane-0.26.0acme.tar.gz", "nfpm", "/out"),
			"packyard package --source /src --build acme --version 0.26.0acme --package el8_64 --binaries /in/binaries --tarball /in/tarball/backplane-0.26.0acme.tar.gz --builder nfpm --out /out"},
		{"package deb", packageArgv(acme, "deb_64", "/in/binaries", "", "", "/out"),
			"packyard package --source /src --build acme --version 0.26.0acme --package deb_64 --binaries /in/binaries --out /out"},
		{"package rpmbuild", packageArgv(acme, "el8_64", "/in/binaries", "/in/tarball/t.tar.gz", "rpmbuild", "/out"),
			"packyard package --source /src --build acme --version 0.26.0acme --package el8_64 --binaries /in/binaries --tarball /in/tarball/t.tar.gz --builder rpmbuild --out /out"},
		{"checksums", checksumsArgv(acme, "/dist"),
			"packyard checksums --source /src --build acme --version 0.26.0acme --dist /dist"},
		{"publish", publishArgv(acme, "/dist", "files", false, false),
			"packyard publish --source /src --build acme --version 0.26.0acme --dist /dist --target files"},
		{"publish dry run", publishArgv(acme, "/dist", "images", true, true),
			"packyard publish --source /src --build acme --version 0.26.0acme --dist /dist --target images --dry-run --overwrite"},
		{"verify", verifyArgv([]string{"/dist/rpm/a.rpm", "/dist/deb/a.deb"}),
			"packyard verify /dist/rpm/a.rpm /dist/deb/a.deb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if want := strings.Fields(tt.want); !slices.Equal(tt.got, want) {
				t.Fatalf("argv\n got %q\nwant %q", tt.got, want)
			}
		})
	}
}

// TestArgvFlagsDocumented checks every flag the module passes against the
// docs/cli.md tables, so that a renamed flag fails here and not on an
// engine.
func TestArgvFlagsDocumented(t *testing.T) {
	doc := string(readRepoFile(t, "docs/cli.md"))
	globalFlags, cmdFlags := cliFlags(t, doc)
	argvs := append(toolArgvs(), verifyArgv([]string{"/f"}))
	for _, a := range argvs {
		if a[0] != "packyard" {
			t.Fatalf("%q: not a packyard command", a)
		}
		flags, ok := cmdFlags[a[1]]
		if !ok {
			t.Errorf("%q: subcommand %s not in docs/cli.md", a, a[1])
			continue
		}
		for _, f := range a[2:] {
			if strings.HasPrefix(f, "--") && !globalFlags[f] && !flags[f] {
				t.Errorf("%q: flag %s of %s not in docs/cli.md", a, f, a[1])
			}
		}
	}
}

// cliFlags reads the global flags and each command's flags out of the
// Markdown tables of docs/cli.md.
func cliFlags(t *testing.T, doc string) (map[string]bool, map[string]map[string]bool) {
	t.Helper()
	flagRE := regexp.MustCompile(`--[a-z][a-z-]*`)
	cellRE := regexp.MustCompile("^\\| `([^`]*)`")
	globalFlags := map[string]bool{}
	cmds := map[string]map[string]bool{}
	for _, line := range strings.Split(doc, "\n") {
		m := cellRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if strings.HasPrefix(m[1], "--") { // the global flags table
			globalFlags[flagRE.FindString(m[1])] = true
			continue
		}
		name, _, _ := strings.Cut(m[1], " ")
		fl := map[string]bool{}
		for _, f := range flagRE.FindAllString(m[1], -1) {
			fl[f] = true
		}
		cmds[name] = fl
	}
	if len(globalFlags) < 4 || len(cmds) < 8 {
		t.Fatalf("docs/cli.md: found %d global flags and %d commands; has the table format changed?", len(globalFlags), len(cmds))
	}
	return globalFlags, cmds
}

// toolArgvs is one argv of every packyard subcommand the module runs with
// the global flags.
func toolArgvs() [][]string {
	return [][]string{
		compileArgv(acme, []string{"a"}, "/in/tarball/a.tar.gz", "/out"),
		sourceArgv(globals{Source: "/src", Spec: "x.yaml"}, "/out"),
		versionJSONArgv(acme),
		planArgv(acme, true),
		codegenArgv(acme, "/src"),
		packageArgv(acme, "p", "/b", "/t", "rpmbuild", "/out"),
		checksumsArgv(acme, "/dist"),
		publishArgv(acme, "/dist", "t", true, true),
	}
}
