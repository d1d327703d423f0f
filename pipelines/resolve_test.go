package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"dagger/packyard/internal/dagger"

	"github.com/packyard/packyard/version"
)

func TestStampOf(t *testing.T) {
	const (
		head  = "00c02d111ee99ffaf52f62e38af00d158adc19b3"
		other = "1111111111111111111111111111111111111111"
	)
	at := func(s int64) time.Time { return time.Unix(s, 0).UTC() }
	tests := []struct {
		name    string
		v       version.Version
		commit  string
		epoch   int64
		fromGit bool
		want    version.Version
		err     string
	}{
		{name: "git gives both", v: version.Version{Commit: head, Time: at(1700000000)}, fromGit: true,
			want: version.Version{Commit: head, Time: at(1700000000)}},
		{name: "epoch overrides the commit time", v: version.Version{Commit: head, Time: at(1700000000)}, epoch: 1600000000, fromGit: true,
			want: version.Version{Commit: head, Time: at(1600000000)}},
		{name: "the same commit again", v: version.Version{Commit: head, Time: at(1700000000)}, commit: head, fromGit: true,
			want: version.Version{Commit: head, Time: at(1700000000)}},
		{name: "arguments alone", v: version.Version{Time: at(0)}, commit: head, epoch: 1700000000,
			want: version.Version{Commit: head, Time: at(1700000000)}},
		{name: "another commit than HEAD", v: version.Version{Commit: head, Time: at(1700000000)}, commit: other, fromGit: true,
			err: "the source's HEAD is " + head},
		{name: "subdirectory without anything", v: version.Version{Time: at(0)},
			err: "commit and its time: no git repository and source's .version has none: pass --repo with the repository's root, or --commit and --source-date-epoch"},
		{name: "commit without time", v: version.Version{Time: at(0)}, commit: head, err: "pass --repo with"},
		{name: "time without commit", v: version.Version{Time: at(0)}, epoch: 1700000000, err: "pass --repo with"},
		{name: "repository without commits", v: version.Version{Time: at(0)}, fromGit: true, err: "git gave none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.v
			err := stampOf(&v, tc.commit, tc.epoch, tc.fromGit)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one containing %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error %q is more than one line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v != tc.want {
				t.Errorf("got %+v, want %+v", v, tc.want)
			}
		})
	}
}

func TestVerifyReport(t *testing.T) {
	checks := []check{
		{pkg: "deb_64", title: "packyard verify deb/a.deb", out: "deb/a.deb: ok\n"},
		{pkg: "el8_64", title: "artifact", err: errors.New("no rpm/a-*.el8.x86_64.rpm in dist")},
		{pkg: "el9_64", title: "install rpm/a.rpm in almalinux:9", err: &dagger.ExecError{
			Cmd: []string{"sh", "-ec", "rpm -i"}, ExitCode: 1, Stdout: "== /opt/a buildinfo\n", Stderr: "error: Failed dependencies\n"}},
		{pkg: "el9_64", title: "systemd units of rpm/a.rpm in almalinux:9", skipped: true,
			out: "systemd-analyze is not in the image and 'dnf install -y systemd' failed: cannot verify /usr/lib/systemd/system/a.service\n"},
		{pkg: "rpkg", title: "packyard verify rpkg/a.rpkg", out: "rpkg/a.rpkg: ok"},
	}
	report, failed := verifyReport(checks)
	if failed != 2 {
		t.Errorf("failed = %d, want 2", failed)
	}
	want := `## PASS deb_64: packyard verify deb/a.deb
deb/a.deb: ok
## FAIL el8_64: artifact
no rpm/a-*.el8.x86_64.rpm in dist
## FAIL el9_64: install rpm/a.rpm in almalinux:9
== /opt/a buildinfo
error: Failed dependencies
exit code 1: sh -ec rpm -i
## SKIP el9_64: systemd units of rpm/a.rpm in almalinux:9
systemd-analyze is not in the image and 'dnf install -y systemd' failed: cannot verify /usr/lib/systemd/system/a.service
## PASS rpkg: packyard verify rpkg/a.rpkg
rpkg/a.rpkg: ok
verify: 5 checks, 2 failed, 1 skipped
`
	if report != want {
		t.Errorf("report:\n%s\nwant:\n%s", report, want)
	}
}

func TestNormalizeCommit(t *testing.T) {
	for in, want := range map[string]string{
		"": "",
		" 00C02D111EE99FFAF52F62E38AF00D158ADC19B3 ": "00c02d111ee99ffaf52f62e38af00d158adc19b3",
		strings.Repeat("ab", 32):                     strings.Repeat("ab", 32),
	} {
		if got, err := normalizeCommit(in); err != nil || got != want {
			t.Errorf("normalizeCommit(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"00c02d1", "HEAD", strings.Repeat("g", 40), strings.Repeat("a", 41)} {
		if _, err := normalizeCommit(bad); err == nil {
			t.Errorf("normalizeCommit(%q) accepted", bad)
		}
	}
}

func TestPlanFormat(t *testing.T) {
	for in, want := range map[string]bool{"": false, "text": false, "json": true, " json ": true} {
		if got, err := planFormat(in); err != nil || got != want {
			t.Errorf("planFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := planFormat("yaml"); err == nil {
		t.Error("planFormat(yaml) accepted")
	}
}
