package packtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// RootSpec says what a throwaway Root holds besides /bin/sh, a real
// /dev/null and the recording systemctl.
type RootSpec struct {
	// Dirs are made below the root, such as var/tmp for rpm's scriptlets.
	Dirs []string
	// Tools are the busybox applets linked into /bin, besides sh: the
	// writers' tests name the few their scripts use, so a script that
	// needs another fails there.
	Tools []string
	// AllApplets links every busybox applet, for packages whose scripts
	// are not the writers' tests' to know, such as the example's.
	AllApplets bool
	// Dpkg adds dpkg's database and /run/systemd/system: the deb scripts
	// reload systemd only on a booted systemd host.
	Dpkg bool
}

// Root makes a throwaway root for rpm --root or dpkg --root, which chroot
// into it to run scriptlets: the directories and busybox applets spec
// names, a real /dev/null (scriptlets redirect to it: a regular file
// there would fill up), a static busybox as /bin/sh, and a systemctl
// stand-in that appends its argv to /systemctl.log (see SystemctlLog).
func Root(t testing.TB, spec RootSpec) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("rpm --root and dpkg --root run scriptlets chrooted: run the tests as root")
	}
	Need(t, "busybox")
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dirs := append([]string{"bin", "dev", "usr/bin", "tmp"}, spec.Dirs...)
	if spec.Dpkg {
		dirs = append(dirs, "run/systemd/system", "var/lib/dpkg/info", "var/lib/dpkg/updates")
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if spec.Dpkg {
		if err := os.WriteFile(filepath.Join(root, "var/lib/dpkg/status"), nil, 0o644); err != nil {
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
	tools := append([]string{"sh"}, spec.Tools...)
	if spec.AllApplets {
		tools = append(tools, strings.Fields(Output(t, nil, bb, "--list"))...)
	}
	slices.Sort(tools)
	for _, applet := range slices.Compact(tools) {
		// busybox is the file itself; systemctl must stay the recorder.
		if applet == "busybox" || applet == "systemctl" {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(root, "bin", applet)); err != nil {
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

// ExpectCalls reports an error unless the systemctl calls recorded in
// root since the last look (see SystemctlLog) are want, in order; step
// names what made them.
func ExpectCalls(t testing.TB, step, root string, want ...string) {
	t.Helper()
	if got := SystemctlLog(t, root); !slices.Equal(got, want) {
		t.Errorf("%s: systemctl calls\n\t%s\nwant\n\t%s", step, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
