package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"gopkg.in/yaml.v3"
)

// kebab is the CLI spelling Dagger gives a Go name: sourceDateEpoch is
// source-date-epoch.
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('-')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// moduleAPI reads the constructor's and every function's arguments, in
// their CLI spelling, from the module source. A function that returns the
// module (with-secret-variable, ...) also has the key "chain" set, as
// another function may follow it in a call.
func moduleAPI(t *testing.T) (ctor map[string]bool, funcs map[string]map[string]bool) {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var decls []ast.Decl
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		decls = append(decls, f.Decls...)
	}
	params := func(ft *ast.FuncType) map[string]bool {
		out := map[string]bool{}
		for _, p := range ft.Params.List {
			for _, n := range p.Names {
				if n.Name != "ctx" {
					out["--"+kebab(n.Name)] = true
				}
			}
		}
		return out
	}
	funcs = map[string]map[string]bool{}
	for _, d := range decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || !fd.Name.IsExported() {
			continue
		}
		if fd.Recv == nil {
			if fd.Name.Name == "New" {
				ctor = params(fd.Type)
			}
			continue
		}
		ps := params(fd.Type)
		if res := fd.Type.Results; res != nil {
			if star, ok := res.List[0].Type.(*ast.StarExpr); ok {
				if id, ok := star.X.(*ast.Ident); ok && id.Name == "Packyard" {
					ps["chain"] = true
				}
			}
		}
		funcs[kebab(fd.Name.Name)] = ps
	}
	if ctor == nil || len(funcs) < 10 {
		t.Fatalf("main.go: constructor %v, %d functions", ctor, len(funcs))
	}
	return ctor, funcs
}

// checkCall checks the arguments of one `dagger call`: constructor flags,
// a function and its flags, then core API calls (export, publish) that
// end the check.
func checkCall(t *testing.T, where, call string, ctor map[string]bool, funcs map[string]map[string]bool) {
	t.Helper()
	fields := strings.Fields(call)
	fn := ""
	for i := 0; i < len(fields); i++ {
		tok := fields[i]
		if !strings.HasPrefix(tok, "--") {
			if fn != "" && !funcs[fn]["chain"] {
				return // export --path …, publish --address …: the core API's
			}
			if _, ok := funcs[tok]; !ok {
				t.Errorf("%s: %q: no function %s in the module", where, call, tok)
				return
			}
			fn = tok
			continue
		}
		flag, _, hasValue := strings.Cut(tok, "=")
		switch {
		case fn == "" && !ctor[flag]:
			t.Errorf("%s: %q: the constructor has no %s", where, call, flag)
		case fn != "" && !funcs[fn][flag]:
			t.Errorf("%s: %q: %s has no %s", where, call, fn, flag)
		}
		if !hasValue && i+1 < len(fields) && !strings.HasPrefix(fields[i+1], "--") && flag != "--json" {
			i++ // the flag's value
		}
	}
	if fn == "" {
		t.Errorf("%s: %q: no function called", where, call)
	}
}

// exprRE matches CI expressions and variables, which stand for values.
var exprRE = regexp.MustCompile(`\$\{\{[^}]*\}\}|"?\$[A-Z_]+"?`)

// TestCIAndDocsCalls checks every `dagger call` in the CI definitions and
// in docs/dagger.md against the module's functions and arguments.
func TestCIAndDocsCalls(t *testing.T) {
	ctor, funcs := moduleAPI(t)
	var calls [][2]string

	var gh struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(readRepoFile(t, "ci/github/packyard.yml"), &gh); err != nil {
		t.Fatalf("ci/github/packyard.yml: %v", err)
	}
	for name, job := range gh.Jobs {
		for _, s := range job.Steps {
			if strings.HasPrefix(s.Uses, "dagger/dagger-for-github@") {
				if s.With["version"] != "0.21.8" {
					t.Errorf("github job %s: dagger version %q, want 0.21.8", name, s.With["version"])
				}
				calls = append(calls, [2]string{"github job " + name, s.With["args"]})
			}
		}
	}

	var gl map[string]any
	if err := yaml.Unmarshal(readRepoFile(t, "ci/gitlab/packyard.gitlab-ci.yml"), &gl); err != nil {
		t.Fatalf("ci/gitlab/packyard.gitlab-ci.yml: %v", err)
	}
	if v, _ := gl["variables"].(map[string]any); v["DAGGER_VERSION"] != "0.21.8" {
		t.Errorf("gitlab: DAGGER_VERSION %v, want 0.21.8", v["DAGGER_VERSION"])
	}
	for name, job := range gl {
		j, ok := job.(map[string]any)
		if !ok {
			continue
		}
		script, _ := j["script"].([]any)
		for _, line := range script {
			if s, _ := line.(string); strings.Contains(s, " call ") {
				_, after, _ := strings.Cut(s, " call ")
				calls = append(calls, [2]string{"gitlab job " + name, after})
			}
		}
	}

	for _, line := range strings.Split(string(readRepoFile(t, filepath.Join("docs", "dagger.md"))), "\n") {
		if strings.HasPrefix(line, "dagger ") && strings.Contains(line, " call ") {
			_, after, _ := strings.Cut(line, " call ")
			calls = append(calls, [2]string{"docs/dagger.md", after})
		}
	}
	if len(calls) < 8 {
		t.Fatalf("found only %d dagger calls", len(calls))
	}
	for _, c := range calls {
		// The version-argument variables expand to --version V or nothing.
		call := strings.NewReplacer("${{ steps.v.outputs.args }}", "--version V", "$PACKYARD_VERSION_ARGS", "--version V").Replace(c[1])
		checkCall(t, c[0], exprRE.ReplaceAllString(call, "V"), ctor, funcs)
	}
}

func TestKebab(t *testing.T) {
	for in, want := range map[string]string{"sourceDateEpoch": "source-date-epoch", "el8Image": "el8-image", "Build": "build", "sourceUrl": "source-url"} {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
}
