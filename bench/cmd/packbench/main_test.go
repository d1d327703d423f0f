package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPackageRoundTrip packages a small payload with each writer and gets
// the payload back out with the distro tools.
func TestPackageRoundTrip(t *testing.T) {
	payload := filepath.Join(t.TempDir(), "payload")
	want := bytes.Repeat([]byte("\x7fELF packbench payload\n"), 4096)
	if err := os.WriteFile(payload, want, 0o755); err != nil {
		t.Fatal(err)
	}
	// Each extract command prints the installed payload of the package $1.
	tests := []struct {
		format, file, extract string
	}{
		{"rpm", "bench-payload-1.0.0-1.x86_64.rpm", `rpm2cpio "$1" | cpio -i --quiet --to-stdout "*usr/bin/bench-payload"`},
		{"rpm+srpm", "bench-payload-1.0.0-1.x86_64.rpm", `rpm2cpio "$1" | cpio -i --quiet --to-stdout "*usr/bin/bench-payload"`},
		{"rpmspec", "bench-payload-1.0.0-1.x86_64.rpm", `rpm2cpio "$1" | cpio -i --quiet --to-stdout "*usr/bin/bench-payload"`},
		{"deb", "bench-payload_1.0.0-1_amd64.deb", `dpkg-deb --fsys-tarfile "$1" | tar -xOf - ./usr/bin/bench-payload`},
		{"rpkg", "rudder-plugin-bench-payload-8.1.0-1.0.rpkg", `ar p "$1" files.txz | tar -xJOf - bin/bench-payload`},
		{"tarball", "bench-payload-1.0.0-linux-amd64.tar.gz", `tar -xzOf "$1" bench-payload-1.0.0-linux-amd64/usr/bin/bench-payload`},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"-format", tt.format, "-payload", payload, "-out", dir}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			path := filepath.Join(dir, tt.file)
			if got := strings.TrimSpace(stdout.String()); got != path {
				t.Errorf("printed %q, want %q", got, path)
			}
			out, err := exec.Command("sh", "-c", tt.extract, "sh", path).Output()
			if err != nil {
				t.Fatalf("%s: %v", tt.extract, err)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("extracted %d bytes, want the %d of the payload", len(out), len(want))
			}
			// Only the package (and for rpm+srpm and rpmspec the srpm,
			// which rpm must accept) is left.
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			srpms := 0
			for _, e := range entries {
				switch {
				case strings.HasSuffix(e.Name(), ".src.rpm"):
					srpms++
					if out, err := exec.Command("rpm", "-K", "--nosignature", filepath.Join(dir, e.Name())).CombinedOutput(); err != nil {
						t.Errorf("rpm -K %s: %v\n%s", e.Name(), err, out)
					}
				case e.Name() != tt.file:
					t.Errorf("left behind: %s", e.Name())
				}
			}
			if wantSRPM := strings.Contains(tt.format, "rpm") && tt.format != "rpm"; wantSRPM != (srpms == 1) {
				t.Errorf("%d srpms written", srpms)
			}
		})
	}
}

// TestReproducible checks that the writers measured are the reproducible
// ones: two runs give the same bytes.
func TestReproducible(t *testing.T) {
	payload := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(payload, []byte("payload\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, format := range []string{"rpm", "deb", "rpkg", "tarball"} {
		t.Run(format, func(t *testing.T) {
			var got [2][]byte
			for i := range got {
				p, err := Package(context.Background(), format, payload, t.TempDir(), mtime)
				if err != nil {
					t.Fatal(err)
				}
				if got[i], err = os.ReadFile(p); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got[0], got[1]) {
				t.Error("two runs differ")
			}
		})
	}
}

func TestMakePayload(t *testing.T) {
	name := filepath.Join(t.TempDir(), "payload")
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"-make-payload", "2", "-payload", name}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 2<<20 || !bytes.HasPrefix(data, []byte("\x7fELF")) {
		t.Errorf("%d bytes starting %q, want 2 MiB of Go binaries", len(data), data[:4])
	}
}

func TestBadInput(t *testing.T) {
	payload := filepath.Join(t.TempDir(), "payload")
	if err := os.WriteFile(payload, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  string
		want string
	}{
		{"no args", nil, "", "usage: packbench"},
		{"unknown format", []string{"-format", "msi", "-payload", payload}, "", `-format "msi"`},
		{"missing payload", []string{"-format", "rpm", "-payload", "/nonexistent/payload"}, "", "payload: stat /nonexistent/payload"},
		{"payload is a dir", []string{"-format", "deb", "-payload", t.TempDir()}, "", "not a regular file"},
		{"negative payload size", []string{"-make-payload", "-1", "-payload", payload}, "", "usage: packbench -make-payload"},
		{"bad epoch", []string{"-format", "rpm", "-payload", payload}, "yesterday", `SOURCE_DATE_EPOCH="yesterday"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", tt.env)
			dir := t.TempDir()
			args := tt.args
			if args != nil {
				args = append(args, "-out", dir)
			}
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files written: %v", entries)
			}
		})
	}
}
