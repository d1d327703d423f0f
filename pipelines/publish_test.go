package main

import (
	"strings"
	"testing"
)

// TestWithSecretVariable checks the names it takes and that chaining
// copies: a call never changes the module it was called on.
func TestWithSecretVariable(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"REPO_TOKEN", true},
		{"_x1", true},
		{"", false},
		{"1TOKEN", false},
		{"REPO TOKEN", false},
		{"TOKEN=x", false},
	}
	base := &Packyard{}
	for _, tt := range tests {
		m, err := base.WithSecretVariable(tt.name, nil)
		if (err == nil) != tt.ok {
			t.Errorf("%q: err = %v", tt.name, err)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), "not an environment variable name") {
			t.Errorf("%q: err = %v", tt.name, err)
		}
		if tt.ok && (len(m.SecretNames) != 1 || m.SecretNames[0] != tt.name || len(m.Secrets) != 1) {
			t.Errorf("%q: names %v, %d secrets", tt.name, m.SecretNames, len(m.Secrets))
		}
	}
	if len(base.SecretNames) != 0 {
		t.Errorf("the base module changed: %v", base.SecretNames)
	}
	a, _ := base.WithSecretVariable("A", nil)
	b, _ := a.WithSecretVariable("B", nil)
	c, _ := a.WithSecretVariable("C", nil)
	if strings.Join(b.SecretNames, ",") != "A,B" || strings.Join(c.SecretNames, ",") != "A,C" {
		t.Errorf("chains share their slices: %v, %v", b.SecretNames, c.SecretNames)
	}
	s := base.WithServiceBinding("files", nil).WithServiceBinding("registry", nil)
	if strings.Join(s.ServiceAliases, ",") != "files,registry" || len(s.Services) != 2 || len(base.ServiceAliases) != 0 {
		t.Errorf("service bindings %v", s.ServiceAliases)
	}
}
