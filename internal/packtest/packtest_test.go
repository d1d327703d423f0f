package packtest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/deb"
	"github.com/packyard/packyard/pack/rpm"
)

// recorder is a testing.TB that records the failures a helper reports
// instead of failing the test: the package tests trust these helpers to
// fail, so each check is also shown to fail on a bad package.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failures = append(r.failures, fmt.Sprint(args...))
	runtime.Goexit()
}

// check runs f with a recorder in a goroutine, where Fatal may end it,
// and returns the failures f reported.
func check(t *testing.T, f func(tb testing.TB)) []string {
	t.Helper()
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.failures
}

func TestExec(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		dir    string
		script string
		want   packtest.Result
	}{
		{"success", "", "echo out", packtest.Result{Code: 0, Stdout: "out\n"}},
		{"exit code and streams apart", "", "echo out; echo err >&2; exit 3", packtest.Result{Code: 3, Stdout: "out\n", Stderr: "err\n"}},
		{"directory", dir, "pwd", packtest.Result{Stdout: dir + "\n"}},
		{"environment", "", `echo "$PACKTEST"`, packtest.Result{Stdout: "set\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := packtest.Exec(t, tt.dir, []string{"PACKTEST=set"}, "sh", "-c", tt.script); got != tt.want {
				t.Errorf("Exec = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestOutputFails(t *testing.T) {
	tests := []struct {
		name string
		run  func(tb testing.TB)
		want string
	}{
		{"Output", func(tb testing.TB) { packtest.Output(tb, nil, "sh", "-c", "echo why >&2; exit 4") }, "exit 4\nwhy\n"},
		{"Run", func(tb testing.TB) { packtest.Run(tb, nil, "sh", "-c", "echo why; exit 4") }, "exit status 4\nwhy\n"},
		{"Need", func(tb testing.TB) { packtest.Need(tb, "packtest-no-such-tool") }, "packtest-no-such-tool is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := check(t, tt.run)
			if len(f) != 1 || !strings.Contains(f[0], tt.want) {
				t.Errorf("failures %q, want one holding %q", f, tt.want)
			}
		})
	}
}

func TestRoot(t *testing.T) {
	packtest.Need(t, "chroot")
	tests := []struct {
		name     string
		spec     packtest.RootSpec
		have     []string
		haveNot  []string
		script   string
		calls    []string
		notCalls []string
	}{
		{
			"few tools", packtest.RootSpec{Dirs: []string{"var/tmp"}, Tools: []string{"cat"}},
			[]string{"bin/sh", "bin/cat", "var/tmp", "dev/null"}, []string{"bin/ls", "var/lib/dpkg/status"},
			"systemctl daemon-reload; systemctl try-restart a.service b.service",
			[]string{"daemon-reload", "try-restart a.service b.service"}, []string{"daemon-reload"},
		},
		{
			"dpkg and every applet", packtest.RootSpec{AllApplets: true, Dpkg: true},
			[]string{"bin/ls", "bin/rm", "var/lib/dpkg/status", "var/lib/dpkg/info", "run/systemd/system"}, []string{"bin/systemctl"},
			"[ -d /run/systemd/system ] && systemctl --system daemon-reload >/dev/null",
			[]string{"--system daemon-reload"}, nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := packtest.Root(t, tt.spec)
			for _, p := range tt.have {
				if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
					t.Errorf("root lacks %s: %v", p, err)
				}
			}
			for _, p := range tt.haveNot {
				if _, err := os.Lstat(filepath.Join(root, p)); !os.IsNotExist(err) {
					t.Errorf("root has %s: %v", p, err)
				}
			}
			packtest.Output(t, nil, "chroot", root, "/bin/sh", "-c", tt.script)
			// A wrong expectation is reported, and the look clears the log.
			packtest.Output(t, nil, "chroot", root, "/bin/sh", "-c", tt.script)
			if f := check(t, func(tb testing.TB) { packtest.ExpectCalls(tb, "wrong", root, tt.notCalls...) }); len(f) != 1 {
				t.Errorf("ExpectCalls of %q: failures %q, want one", tt.notCalls, f)
			}
			packtest.Output(t, nil, "chroot", root, "/bin/sh", "-c", tt.script)
			packtest.ExpectCalls(t, "script", root, tt.calls...)
			packtest.ExpectCalls(t, "nothing since", root)
		})
	}
}

// TestVerifySignatures signs an rpm and a deb and checks that the
// verifiers pass them with the signer's key and fail them with another.
func TestVerifySignatures(t *testing.T) {
	signer, other := packtest.GPGKey(t, "s3cret"), packtest.GPGKey(t, "0ther")
	if b, err := os.ReadFile(signer.PassphraseFile); err != nil || string(b) != "s3cret\n" {
		t.Fatalf("passphrase file: %q %v", b, err)
	}
	info := func(arch string) *pack.Info {
		return &pack.Info{
			Name: "x", Version: "1", Release: "1", Arch: arch, MTime: packtest.CommitTime(),
			Maintainer: "Packyard Test <test@packyard.example>", Summary: "x", Description: "x",
			Signing: &pack.Signing{KeyFile: signer.Private, Passphrase: "s3cret"},
		}
	}
	dir := t.TempDir()
	rpmFile := packtest.Write(t, rpm.Packager{}, info("x86_64"), dir)
	debFile := packtest.Write(t, deb.Packager{}, info("amd64"), dir)
	unsigned := info("amd64")
	unsigned.Signing = nil
	unsignedDeb := packtest.Write(t, deb.Packager{}, unsigned, t.TempDir())

	tests := []struct {
		name  string
		check func(tb testing.TB)
		fails bool
	}{
		{"rpm, signer", func(tb testing.TB) { packtest.VerifyRPMSignatures(tb, signer.Public, rpmFile) }, false},
		{"rpm, other key", func(tb testing.TB) { packtest.VerifyRPMSignatures(tb, other.Public, rpmFile) }, true},
		{"deb, signer", func(tb testing.TB) { packtest.VerifyDebSignature(tb, signer.Env(), debFile) }, false},
		{"deb, other key", func(tb testing.TB) { packtest.VerifyDebSignature(tb, other.Env(), debFile) }, true},
		{"deb, unsigned", func(tb testing.TB) { packtest.VerifyDebSignature(tb, signer.Env(), unsignedDeb) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if f := check(t, tt.check); (len(f) > 0) != tt.fails {
				t.Errorf("failures %q, want failing %v", f, tt.fails)
			}
		})
	}
}
