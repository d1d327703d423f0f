package publish

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWriteTable checks the table that ends a publish: a row per target
// with exact figures, the totals with more than one target, the header of
// a dry run, a failed target.
func TestWriteTable(t *testing.T) {
	el := TargetReport{Name: "el", Type: "yum", Stats: Stats{Requests: 22, Sent: 5299807, Uploaded: 10}, Elapsed: 80 * time.Millisecond}
	files := TargetReport{Name: "files", Type: "http", Stats: Stats{Requests: 11, Unchanged: 11}, Elapsed: 130 * time.Millisecond}
	broken := TargetReport{Name: "debian", Type: "apt", Stats: Stats{Requests: 3}, Elapsed: time.Second, Err: errors.New("boom")}
	tests := []struct {
		name string
		rep  Report
		want string
	}{
		{"one target", Report{Targets: []TargetReport{el}}, `
target  type  uploaded  unchanged  requests  bytes sent   time  result
el      yum         10          0        22     5299807  0.08s  ok
`},
		{"totals", Report{Targets: []TargetReport{el, files}}, `
target  type  uploaded  unchanged  requests  bytes sent   time  result
el      yum         10          0        22     5299807  0.08s  ok
files   http         0         11        11           0  0.13s  ok
total               10         11        33     5299807  0.21s
`},
		{"dry run, failed", Report{DryRun: true, Targets: []TargetReport{files, broken}}, `
target  type  to upload  unchanged  requests  bytes sent   time  result
files   http          0         11        11           0  0.13s  ok
debian  apt           0          0         3           0  1.00s  failed
total                 0         11        14           0  1.13s
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.rep.WriteTable(&b); err != nil {
				t.Fatal(err)
			}
			if got := "\n" + b.String(); got != tt.want {
				t.Errorf("got:%s\nwant:%s", got, tt.want)
			}
		})
	}
}

// TestDistTime checks that the release's time is read from the .version
// in the dist's source tarball, and what happens without one.
func TestDistTime(t *testing.T) {
	tarball := func(name, content string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: "backplane-1.0/README", Mode: 0o644, Size: 2})
		tw.Write([]byte("hi"))
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content))})
		tw.Write([]byte(content))
		tw.Close()
		zw.Close()
		return b.Bytes()
	}
	tests := []struct {
		name    string
		tarball []byte // nil: none in the dist
		want    int64  // Unix seconds; 0 for the zero time
		err     string
	}{
		{"time", tarball("backplane-1.0/.version", "1.0\ncommit "+strings.Repeat("a", 40)+"\ntime 1795943299\n"), 1795943299, ""},
		{"./ prefix", tarball("./backplane-1.0/.version", "1.0\ntime 1795943299\n"), 1795943299, ""},
		{"no time line", tarball("backplane-1.0/.version", "1.0\n"), 0, ""},
		{"no .version", tarball("backplane-1.0/other", "x"), 0, ""},
		{"no tarball", nil, 0, ""},
		{"bad .version", tarball("backplane-1.0/.version", "1.0\ntime soon\n"), 0, "want decimal Unix seconds"},
		{"not gzip", []byte("source"), 0, "backplane-1.0.tar.gz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dist := t.TempDir()
			if tt.tarball != nil {
				os.WriteFile(filepath.Join(dist, "backplane-1.0.tar.gz"), tt.tarball, 0o644)
			}
			got, err := DistTime(dist, "backplane", "1.0")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("err = %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tt.want == 0) != got.IsZero() || (tt.want != 0 && got.Unix() != tt.want) {
				t.Errorf("DistTime = %v, want %d", got, tt.want)
			}
		})
	}
}
