// Package packtest holds the helpers that the rpm and deb writers' tests
// share: a real Go binary to package, running the distro tools, a
// throwaway root where maintainer scripts run under a recording systemctl,
// and a throwaway OpenPGP key. It is imported by tests only.
package packtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/packyard/packyard/pack"
)

// Main builds a small static linux/amd64 Go program into *binary, runs
// the tests and exits with their code. Packaging a real binary lets
// rpmlint and lintian judge what the pipeline ships.
func Main(m *testing.M, binary *string) {
	dir, err := os.MkdirTemp("", "packyard-pack-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*binary, err = GoBinary(dir, "backplane", "linux", "amd64")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// GoBinary builds a program printing "<name> test" for goos/goarch into
// dir/name, statically and reproducibly, and returns its path.
func GoBinary(dir, name, goos, goarch string) (string, error) {
	src := filepath.Join(dir, name+".go")
	prog := fmt.Sprintf("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(%q) }\n", name+" test")
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		return "", err
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s/%s: %v: %s", goos, goarch, err, b)
	}
	return out, nil
}

// Write writes info with p into dir under p's file name and returns the
// file's path; a failure fails the test.
func Write(t testing.TB, p pack.Packager, info *pack.Info, dir string) string {
	t.Helper()
	var b bytes.Buffer
	if err := p.Package(info, &b); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, p.FileName(info))
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// Run runs a command with env added to the test's environment and
// returns its combined output; a failure fails the test.
func Run(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Root makes a throwaway root for rpm --root or dpkg --root: the
// directories dirs, a real /dev/null (scriptlets redirect to it), a
// static busybox as /bin/sh and each of tools, and a systemctl stand-in
// that appends its argv to /systemctl.log (see SystemctlLog).
func Root(t testing.TB, dirs, tools []string) string {
	t.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal("busybox is required: apt-get install busybox-static")
	}
	root := t.TempDir()
	for _, d := range append([]string{"bin", "dev", "usr/bin", "tmp"}, dirs...) {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// The character device 1,3 is /dev/null on Linux.
	if err := syscall.Mknod(filepath.Join(root, "dev/null"), syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, l := range append([]string{"sh"}, tools...) {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", l)); err != nil {
			t.Fatal(err)
		}
	}
	rec := "#!/bin/sh\necho \"$*\" >> /systemctl.log\n"
	if err := os.WriteFile(filepath.Join(root, "usr/bin/systemctl"), []byte(rec), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// SystemctlLog returns, and clears, the systemctl calls recorded in a
// Root since the last call.
func SystemctlLog(t testing.TB, root string) []string {
	t.Helper()
	log := filepath.Join(root, "systemctl.log")
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if err := os.Remove(log); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// ExpectCalls reports an error unless the systemctl calls of one step
// are want, in order.
func ExpectCalls(t testing.TB, step string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: systemctl calls\n%s\nwant\n%s", step, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// GPGKey makes a passphrase-protected signing key in a throwaway
// GNUPGHOME; it returns that home, the armored private key file and the
// armored public key file.
func GPGKey(t testing.TB, passphrase string) (home, priv, pub string) {
	t.Helper()
	home = t.TempDir()
	env := []string{"GNUPGHOME=" + home}
	Run(t, env, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase,
		"--quick-gen-key", "Packyard Test <test@packyard.example>", "rsa2048", "sign", "never")
	priv = filepath.Join(home, "key.asc")
	pub = filepath.Join(home, "pub.asc")
	Run(t, env, "gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase,
		"--armor", "--output", priv, "--export-secret-keys")
	Run(t, env, "gpg", "--batch", "--armor", "--output", pub, "--export")
	return home, priv, pub
}

// SafeCpioEnv returns the environment for running rpmlint. rpmlint
// extracts payloads with "rpm2cpio | cpio -id"; nfpm writes absolute cpio
// names, which GNU cpio would unpack into / when run as root. The cpio
// put first on PATH keeps extraction inside rpmlint's directory.
func SafeCpioEnv(t testing.TB) []string {
	t.Helper()
	dir := t.TempDir()
	wrapper := "#!/bin/sh\nexec /usr/bin/cpio --no-absolute-filenames \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "cpio"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	return []string{"PATH=" + dir + ":" + os.Getenv("PATH")}
}
