package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// generatedNames are the identifiers the code `dagger develop` generates
// (dagger.gen.go, Go SDK v0.21.8) uses inside the function that decodes a
// call's arguments into local variables named after the parameters: the
// packages it imports and its own variables. A parameter of one of these
// names shadows it and the module no longer compiles on the engine
// (`json.Unmarshal undefined (type bool has no field or method
// Unmarshal)` from Plan's former json parameter).
var generatedNames = map[string]bool{
	// packages imported by the template _dagger.gen.go/module.go.tmpl
	"context": true, "json": true, "fmt": true, "slog": true, "os": true,
	"gqlerror": true, "otel": true, "trace": true, "resource": true,
	"semconv": true, "telemetry": true, "dagger": true, "querybuilder": true,
	// variables of the generated invoke function, and the client
	"parentJSON": true, "parentName": true, "fnName": true, "inputArgs": true,
	"parent": true, "err": true, "dag": true,
}

// TestParamsDoNotShadowGeneratedCode checks every argument of the
// constructor and of every exported function against generatedNames.
func TestParamsDoNotShadowGeneratedCode(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if matched, _ := filepath.Match("*_test.go", name); matched {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || !fd.Name.IsExported() || (fd.Recv == nil && fd.Name.Name != "New") {
				continue
			}
			for _, p := range fd.Type.Params.List {
				for _, n := range p.Names {
					checked++
					if generatedNames[n.Name] {
						t.Errorf("%s: %s has a parameter named %s, which shadows %s in the generated dagger.gen.go",
							fset.Position(n.Pos()), fd.Name.Name, n.Name, n.Name)
					}
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d parameters: is the module still in this directory?", checked)
	}
}

// TestGeneratedNamesCoverTemplate reads the Go SDK's template, where the
// engine build of ../shared/engine keeps the dagger sources, and checks
// that generatedNames has every package it imports, so that a new SDK
// version cannot add one silently.
func TestGeneratedNamesCoverTemplate(t *testing.T) {
	home := os.Getenv("PACKYARD_DAGGER_HOME")
	if home == "" {
		home = "/var/cache/packyard-dagger"
	}
	tmpl := filepath.Join(home, "src", "dagger@v0.21.8", "cmd", "codegen", "generator", "go", "templates", "src", "_dagger.gen.go", "module.go.tmpl")
	data, err := os.ReadFile(tmpl)
	if os.IsNotExist(err) {
		t.Skipf("no dagger sources at %s (built by ../shared/engine/ensure.sh)", tmpl)
	}
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)import \((.*?)\)`).FindSubmatch(data)
	if block == nil {
		t.Fatalf("%s: no import block", tmpl)
	}
	imports := regexp.MustCompile(`(?m)^\s*(\w+\s+)?"([^"{]+)"`).FindAllSubmatch(block[1], -1)
	if len(imports) < 5 {
		t.Fatalf("%s: found %d imports", tmpl, len(imports))
	}
	for _, m := range imports {
		name := filepath.Base(string(m[2]))
		if len(m[1]) > 0 {
			name = string(regexp.MustCompile(`\w+`).Find(m[1]))
		}
		if !generatedNames[name] {
			t.Errorf("the generated code imports %s as %s, missing from generatedNames", m[2], name)
		}
	}
}
