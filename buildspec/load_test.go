package buildspec

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.err from the current messages (review the diff!)")

// TestBadSpecs loads every spec of testdata/bad and compares the error
// with the sibling .err file, which holds file:line:col: field: message.
func TestBadSpecs(t *testing.T) {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 12 {
		t.Fatalf("only %d bad specs in testdata/bad", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			_, err := Load(file)
			if err == nil {
				t.Fatal("loaded without error")
			}
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T) is not a *ConfigError", err, err)
			}
			if ce.File != file {
				t.Errorf("File = %q, want %q", ce.File, file)
			}
			errFile := strings.TrimSuffix(file, ".yaml") + ".err"
			if *update {
				if err := os.WriteFile(errFile, []byte(err.Error()+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err2 := os.ReadFile(errFile)
			if err2 != nil {
				t.Fatal(err2)
			}
			if got := err.Error(); got != strings.TrimSpace(string(want)) {
				t.Errorf("error\n got: %s\nwant: %s", got, strings.TrimSpace(string(want)))
			}
		})
	}
}

// TestSyntaxErrorLines checks that YAML syntax errors carry the 1-based
// line of the problem (or of the construct left open), whichever part
// of yaml.v3 found it.
func TestSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		line int
		msg  string
	}{
		{"unclosed flow mapping", "a: 1\nb: {x: 1\nc: 2\n", 2, "did not find expected ',' or '}'"},
		{"unclosed flow sequence", "a: 1\nb: [1, 2\nc: 2\n", 2, "did not find expected ',' or ']'"},
		// yaml.v3 has no context line for a construct on line 1 and gives
		// the line where the problem was seen instead.
		{"unclosed on line 1", "b: {x: 1\nc: 2\n", 2, "did not find expected ',' or '}'"},
		{"mapping in plain scalar", "a: 1\nb: c: d\n", 2, "mapping values are not allowed in this context"},
		{"tab indentation", "a: 1\n\tb: 2\n", 2, "found a tab character that violates indentation"},
		{"list item missing dash", "a: 1\nb:\n  - x\n  y: 2\n", 3, "did not find expected '-' indicator"},
		{"bad indentation", "a: 1\n  b: 2\n", 2, "mapping values are not allowed in this context"},
		{"unknown anchor", "a: 1\nb: *nope\n", 0, "unknown anchor 'nope' referenced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("spec.yaml", []byte(tt.yaml))
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfigError", err)
			}
			if ce.Line != tt.line || ce.Msg != "YAML: "+tt.msg || ce.File != "spec.yaml" {
				t.Errorf("got %s:%d %q, want spec.yaml:%d %q", ce.File, ce.Line, ce.Msg, tt.line, "YAML: "+tt.msg)
			}
		})
	}
}
