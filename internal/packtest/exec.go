package packtest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// aptPackage names the Debian package that ships a tool, for the failure
// message: CI installs them all (ci/install-deps).
func aptPackage(tool string) string {
	switch tool {
	case "rpm", "rpmbuild", "rpm2cpio":
		return "rpm"
	case "dpkg", "dpkg-deb":
		return "dpkg"
	case "ar":
		return "binutils"
	case "xz":
		return "xz-utils"
	case "gpg":
		return "gnupg"
	case "busybox":
		return "busybox-static"
	case "sha256sum":
		return "coreutils"
	}
	return tool
}

// Need fails, rather than skips, when a tool is missing: the package
// tests are the acceptance of the packages, and a skip would pass them
// unseen.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	for _, name := range tools {
		if _, err := exec.LookPath(name); err != nil {
			t.Fatalf("%s is required: apt-get install %s", name, aptPackage(name))
		}
	}
}

// Result is how a command run by Exec ended.
type Result struct {
	// Code is the exit code: 0 for success.
	Code           int
	Stdout, Stderr string
}

// command makes the command the runners share: name run in dir (the
// test's working directory when empty) with env added to the test's own.
func command(dir string, env []string, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

// Exec runs a command in dir (the test's working directory when empty)
// with env added to the test's environment. A non-zero exit is reported
// in the Result, for tests of exit codes; a command that cannot be
// started fails the test.
func Exec(t testing.TB, dir string, env []string, name string, args ...string) Result {
	t.Helper()
	cmd := command(dir, env, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return Result{code, stdout.String(), stderr.String()}
}

// Output runs a command with env added to the test's environment and
// returns its stdout alone, which may be binary (ar p, rpm2cpio); a
// non-zero exit fails the test.
func Output(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	r := Exec(t, "", env, name, args...)
	if r.Code != 0 {
		t.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), r.Code, clip(r.Stdout), r.Stderr)
	}
	return r.Stdout
}

// Run runs a command with env added to the test's environment and
// returns its stdout and stderr interleaved, for tools that report on
// either (gpg --verify); a non-zero exit fails the test.
func Run(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	out, err := command("", env, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// clip shortens output that may be binary to a readable head.
func clip(s string) string {
	if len(s) > 2000 {
		return s[:2000] + "…\n"
	}
	return s
}

// RpmlintEnv returns the environment for running rpmlint. rpmlint
// extracts payloads with "rpm2cpio | cpio -id"; nfpm writes absolute cpio
// names, which GNU cpio would unpack into / when run as root. The cpio
// put first on PATH keeps extraction inside rpmlint's directory.
func RpmlintEnv(t testing.TB) []string {
	t.Helper()
	Need(t, "rpmlint", "cpio", "rpm2cpio")
	cpio, err := exec.LookPath("cpio")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	wrapper := "#!/bin/sh\nexec " + cpio + " --no-absolute-filenames \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "cpio"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")}
}
