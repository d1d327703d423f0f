package rpkg

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// vectorDir holds the real .rpkg files from Rudder's repository.
const vectorDir = "../../../shared/testdata/rpkg"

func readVector(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(vectorDir, name))
	if err != nil {
		t.Fatalf("read vector: %v", err)
	}
	return b
}

// run runs a real tool and returns its stdout, failing the test on error.
func run(t testing.TB, dir string, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: %v", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, stderr.Bytes())
	}
	return out
}

// findingsOf drops the rules a test does not look at.
func findingsOf(fs []Finding, sev Severity) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Severity == sev {
			out = append(out, f)
		}
	}
	return out
}
