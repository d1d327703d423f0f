package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		wantStdout string
		wantStderr string
	}{
		{[]string{"--version"}, 0, "development\n", ""},
		{[]string{"buildinfo"}, 0, "Backplane development\n", ""},
		{[]string{"buildinfo", "--json"}, 0, `"version": "development"`, ""},
		{[]string{"buildinfo", "--bogus"}, 2, "", "flag provided but not defined"},
		{nil, 2, "", "usage:"},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"server", "--config", "/nonexistent/server.conf"}, 2, "", "no such file"},
		{[]string{"broker", "--listen", "256.0.0.1:1", "--config", "/dev/null"}, 1, "", "broker:"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}
