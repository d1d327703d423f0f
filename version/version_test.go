package version

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// spelled is the three spellings a test expects.
type spelled struct{ product, rpm, deb string }

func spellings(v Version) spelled { return spelled{v.Product, v.RPM, v.Deb} }

// parseCases are explicit --version values and their spellings.
var parseCases = []struct {
	in   string
	want spelled
}{
	{"0.26.0acme", spelled{"0.26.0acme", "0.26.0acme", "0.26.0acme"}},
	{"v0.26.0acme", spelled{"0.26.0acme", "0.26.0acme", "0.26.0acme"}},
	{"3", spelled{"3", "3", "3"}},
	{"v1.2.0", spelled{"1.2.0", "1.2.0", "1.2.0"}},
	{"1.2.0-rc1", spelled{"1.2.0-rc1", "1.2.0~rc1", "1.2.0~rc1"}},
	{"1.2.0-RC1", spelled{"1.2.0-RC1", "1.2.0~RC1", "1.2.0~RC1"}},
	{"1.2.0-alpha", spelled{"1.2.0-alpha", "1.2.0~alpha", "1.2.0~alpha"}},
	{"1.2.0-beta.2", spelled{"1.2.0-beta.2", "1.2.0~beta.2", "1.2.0~beta.2"}},
	{"1.2.0-pre3", spelled{"1.2.0-pre3", "1.2.0~pre3", "1.2.0~pre3"}},
	{"1.2.0-preview1", spelled{"1.2.0-preview1", "1.2.0~preview1", "1.2.0~preview1"}},
	{"1.2.0-dev", spelled{"1.2.0-dev", "1.2.0~dev", "1.2.0~dev"}},
	// Not a pre-release word: a post-release suffix.
	{"1.2.0-hotfix1", spelled{"1.2.0-hotfix1", "1.2.0_hotfix1", "1.2.0+hotfix1"}},
	{"1.2.0-release", spelled{"1.2.0-release", "1.2.0_release", "1.2.0+release"}},
	// Product spellings that FromDescribe makes map back to the same
	// rpm and deb spellings, so a .version file round-trips.
	{"3.1-g9eca", spelled{"3.1-g9eca", "3.1_g9eca", "3.1+g9eca"}},
	{"1.2.0-rc1.3-gabcd", spelled{"1.2.0-rc1.3-gabcd", "1.2.0~rc1.3_gabcd", "1.2.0~rc1.3+gabcd"}},
	{"1.2.0-rc1-dev", spelled{"1.2.0-rc1-dev", "1.2.0~rc1~dev", "1.2.0~rc1~dev"}},
	// Already in rpm/deb spelling.
	{"1.2.0~rc1", spelled{"1.2.0~rc1", "1.2.0~rc1", "1.2.0~rc1"}},
	{"1.2.0+git5", spelled{"1.2.0+git5", "1.2.0+git5", "1.2.0+git5"}},
	// '_' is legal for rpm but not for Debian.
	{"1.2.0_5", spelled{"1.2.0_5", "1.2.0_5", "1.2.0+5"}},
}

func TestParse(t *testing.T) {
	for _, tc := range parseCases {
		t.Run(tc.in, func(t *testing.T) {
			v, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got := spellings(v); got != tc.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			if v.Commit != "" || !v.Time.IsZero() {
				t.Errorf("Parse(%q) filled Commit %q / Time %v", tc.in, v.Commit, v.Time)
			}
		})
	}
}

// badVersions are rejected; reason is part of the error, and tool, when
// set, names the real tool that rejects the raw spelling too ("rpm": as a
// spec Version, "deb": dpkg --validate-version), proving the reason real.
var badVersions = []struct {
	in, reason, tool string
}{
	{"", "empty", ""},
	{"v", "no number after the leading", ""},
	{"1.0 beta", "whitespace", "deb"},
	{"1.0\tx", "whitespace", "deb"},
	{"\n1.0", "whitespace", ""},
	{"latest", "must start with a digit", "deb"},
	{"vv1.0", "must start with a digit", "deb"},
	{"V1.0", "must start with a digit", "deb"},
	{"1..2", `".."`, "rpm"},
	{"1.0-", "empty part", ""},
	{"1.0--rc1", "empty part", ""},
	{"1:2.0", "epoch", ""},
	{"1.0^git1", "'^'", "deb"},
	{"1.0/2", "path", "deb"},
	{"1.0#2", "'#'", "rpm"},
	{"1.0%{x}", "'%'", "deb"},
	{"1.0é", "'é'", "deb"},
	{"1.0,2", "','", "rpm"},
}

func TestParseRejects(t *testing.T) {
	for _, tc := range badVersions {
		t.Run(tc.in, func(t *testing.T) {
			v, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want an error", tc.in, v)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Parse(%q) error %q does not give the reason %q", tc.in, err, tc.reason)
			}
			if !strings.Contains(err.Error(), "version") {
				t.Errorf("Parse(%q) error %q does not say it is about the version", tc.in, err)
			}
			raw := strings.TrimPrefix(tc.in, "v")
			switch tc.tool {
			case "rpm":
				if _, err := rpmSpecVersion(t, raw); err == nil {
					t.Errorf("rpmspec accepts Version %q that Parse rejects", raw)
				}
			case "deb":
				if err := dpkgValidate(t, raw+"-1"); err == nil {
					t.Errorf("dpkg accepts version %q that Parse rejects", raw)
				}
			}
		})
	}
}

var describeCases = []struct {
	in   string
	want spelled
}{
	{"v3-0-g9eca", spelled{"3", "3", "3"}},
	{"v3-1-g9eca", spelled{"3.1-g9eca", "3.1_g9eca", "3.1+g9eca"}},
	{"v1.2.0-rc1-0-g0123abcd", spelled{"1.2.0-rc1", "1.2.0~rc1", "1.2.0~rc1"}},
	{"v1.2.0-rc1-3-gabcd", spelled{"1.2.0-rc1.3-gabcd", "1.2.0~rc1.3_gabcd", "1.2.0~rc1.3+gabcd"}},
	{"0.26.0acme-0-gabcdef012345", spelled{"0.26.0acme", "0.26.0acme", "0.26.0acme"}},
	{"v0.0.0-17-g0123456789ab", spelled{"0.0.0.17-g0123456789ab", "0.0.0.17_g0123456789ab", "0.0.0.17+g0123456789ab"}},
	{"v1.2.0-12-gabcd\n", spelled{"1.2.0.12-gabcd", "1.2.0.12_gabcd", "1.2.0.12+gabcd"}},
	// A tag that itself looks like describe output: only the last part counts.
	{"v1.0-1-gaaaa-2-gbbbb", spelled{"1.0-1-gaaaa.2-gbbbb", "1.0_1_gaaaa.2_gbbbb", "1.0+1+gaaaa.2+gbbbb"}},
}

func TestFromDescribe(t *testing.T) {
	for _, tc := range describeCases {
		t.Run(tc.in, func(t *testing.T) {
			v, err := FromDescribe(tc.in)
			if err != nil {
				t.Fatalf("FromDescribe(%q): %v", tc.in, err)
			}
			if got := spellings(v); got != tc.want {
				t.Errorf("FromDescribe(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
			// The product is what .version stores: it must map back.
			back, err := Parse(v.Product)
			if err != nil {
				t.Fatalf("Parse(%q) of a describe product: %v", v.Product, err)
			}
			if spellings(back) != spellings(v) {
				t.Errorf("Parse(%q) = %+v, want %+v as from describe", v.Product, spellings(back), spellings(v))
			}
		})
	}
}

func TestFromDescribeRejects(t *testing.T) {
	for _, tc := range []struct{ in, reason string }{
		{"", "TAG-N-gHASH"},
		{"v3", "TAG-N-gHASH"},
		{"v3-1", "TAG-N-gHASH"},
		{"v3-1-9eca", "TAG-N-gHASH"},
		{"v3-x-g9eca", "TAG-N-gHASH"},
		{"v3-0-g9eca-dirty", "TAG-N-gHASH"},
		{"v3-0-gXYZW", "TAG-N-gHASH"},
		{"latest-0-gabcd", "must start with a digit"},
		{"v1..0-2-gabcd", `".."`},
		{"v1.0-99999999999999999999-gabcd", "commit count"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			v, err := FromDescribe(tc.in)
			if err == nil {
				t.Fatalf("FromDescribe(%q) = %+v, want an error", tc.in, v)
			}
			if !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), "git describe") {
				t.Errorf("FromDescribe(%q) error %q, want it to name git describe and %q", tc.in, err, tc.reason)
			}
		})
	}
}

// TestOrdering feeds every pair of a sequence of mapped versions, oldest
// first, to the real rpm and dpkg comparison.
func TestOrdering(t *testing.T) {
	needTool(t, "rpm")
	needTool(t, "dpkg")
	inputs := []string{
		"describe v0.0.0-3-g0123456789ab", // untagged work tree
		"describe v0.1.0-0-gabcd",
		"describe v1.1.9-5-g0123456789ab",
		"describe v1.2.0-alpha1-0-gabcd",
		"describe v1.2.0-beta2-0-gabcd",
		"describe v1.2.0-beta2-4-gabcd",
		"describe v1.2.0-rc1-0-gabcd", // 1.2.0~rc1
		"describe v1.2.0-rc1-3-gabcd", // 1.2.0~rc1.3_gabcd
		"describe v1.2.0-rc1-12-g0bcd",
		"describe v1.2.0-0-gabcd",          // 1.2.0
		"version 1.2.0-hotfix1",            // a post-release word: after the release, before any count
		"describe v1.2.0-1-g0123456789ab",  // 1.2.0.1_g…
		"describe v1.2.0-2-g0000000000aa",  // count beats hash
		"describe v1.2.0-10-g0000000000aa", // numerically, not by text
		"version 1.2.1-rc1",                // next pre-release
		"version 1.2.1",                    // next release
		"version 1.2.1acme",                // vendor suffix after the release
		"version 1.10.0",                   // numeric, not textual
	}
	var vs []Version
	for _, in := range inputs {
		kind, s, _ := strings.Cut(in, " ")
		var v Version
		var err error
		if kind == "describe" {
			v, err = FromDescribe(s)
		} else {
			v, err = Parse(s)
		}
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		vs = append(vs, v)
	}
	for i := range vs {
		for j := i + 1; j < len(vs); j++ {
			a, b := vs[i], vs[j]
			t.Run(a.Product+"<"+b.Product, func(t *testing.T) {
				if got := rpmVercmp(t, a.RPM, b.RPM); got != "-1" {
					t.Errorf("rpm.vercmp(%q, %q) = %s, want -1", a.RPM, b.RPM, got)
				}
				if got := rpmVercmp(t, b.RPM, a.RPM); got != "1" {
					t.Errorf("rpm.vercmp(%q, %q) = %s, want 1", b.RPM, a.RPM, got)
				}
				if !dpkgCompare(t, a.Deb, "lt", b.Deb) {
					t.Errorf("dpkg --compare-versions %s lt %s is false", a.Deb, b.Deb)
				}
				if !dpkgCompare(t, b.Deb, "gt", a.Deb) {
					t.Errorf("dpkg --compare-versions %s gt %s is false", b.Deb, a.Deb)
				}
			})
		}
	}
}

// TestToolsAccept checks every spelling the tables expect with the real
// tools: rpmspec parses it as a Version tag and dpkg validates it as the
// upstream part of NAME_VERSION-1.
func TestToolsAccept(t *testing.T) {
	needTool(t, "rpmspec")
	needTool(t, "dpkg")
	var all []spelled
	for _, tc := range parseCases {
		all = append(all, tc.want)
	}
	for _, tc := range describeCases {
		all = append(all, tc.want)
	}
	for _, s := range all {
		t.Run(s.product, func(t *testing.T) {
			got, err := rpmSpecVersion(t, s.rpm)
			if err != nil {
				t.Errorf("rpmspec rejects Version %q: %v", s.rpm, err)
			} else if got != s.rpm {
				t.Errorf("rpmspec reads Version %q as %q", s.rpm, got)
			}
			if err := dpkgValidate(t, s.deb+"-1"); err != nil {
				t.Errorf("dpkg rejects %q: %v", s.deb+"-1", err)
			}
		})
	}
}

func TestRudder(t *testing.T) {
	for _, tc := range []struct{ product, rudder, want string }{
		{"0.26.0acme", "8.1.0", "8.1.0-0.26"},
		{"3", "8.1.0", "8.1.0-3.0"},
		{"3.1-g9eca", "8.0.3", "8.0.3-3.1"},
		{"1.2.0-rc1.3-gabcd", "8.1.0~rc1", "8.1.0~rc1-1.2"},
		{"2.5.1", "10.0.0~alpha2", "10.0.0~alpha2-2.5"},
		{"12.34", "4.1", "4.1-12.34"},
		{"7beta", "8.1.0~beta3", "8.1.0~beta3-7.0"},
	} {
		t.Run(tc.product+"@"+tc.rudder, func(t *testing.T) {
			v, err := Parse(tc.product)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Rudder(tc.rudder)
			if err != nil {
				t.Fatalf("Rudder(%q) of %q: %v", tc.rudder, tc.product, err)
			}
			if got != tc.want {
				t.Errorf("Rudder(%q) of %q = %q, want %q", tc.rudder, tc.product, got, tc.want)
			}
		})
	}
}

func TestRudderRejects(t *testing.T) {
	for _, tc := range []struct{ product, rudder, reason string }{
		{"1.0", "", "rudder_version"},
		{"1.0", "8", "rudder_version"},
		{"1.0", "v8.1.0", "rudder_version"},
		{"1.0", "8.1.0-1", "rudder_version"},
		{"1.0", "8.1.0~nightly", "rudder_version"},
		{"1.0", "8.1~rc1", "rudder_version"},
		{"1.0", "8.1.0.2", "rudder_version"},
		{"1.0", "8.1.0~rc", "rudder_version"},
		{"", "8.1.0", "does not start with a number"},
	} {
		t.Run(tc.product+"@"+tc.rudder, func(t *testing.T) {
			v := Version{Product: tc.product}
			got, err := v.Rudder(tc.rudder)
			if err == nil {
				t.Fatalf("Rudder(%q) of %q = %q, want an error", tc.rudder, tc.product, got)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Rudder(%q) error %q does not say %q", tc.rudder, err, tc.reason)
			}
		})
	}
}

func TestSpelling(t *testing.T) {
	v := Version{Product: "1.2.0-rc1", RPM: "1.2.0~rc1", Deb: "1.2.0~rc1x"}
	for _, tc := range []struct{ format, want string }{
		{"", "1.2.0-rc1"}, {"product", "1.2.0-rc1"}, {"rpm", "1.2.0~rc1"}, {"deb", "1.2.0~rc1x"},
	} {
		got, err := v.Spelling(tc.format)
		if err != nil || got != tc.want {
			t.Errorf("Spelling(%q) = %q, %v, want %q", tc.format, got, err, tc.want)
		}
	}
	if _, err := v.Spelling("rpkg"); err == nil || !strings.Contains(err.Error(), "product, rpm or deb") {
		t.Errorf("Spelling(rpkg) error %v, want the valid formats listed", err)
	}
}

// needTool fails the test when a real tool is missing (skips it under -short).
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if testing.Short() {
			t.Skipf("%s not installed", name)
		}
		t.Fatalf("%s not installed: these tests check versions with the real tool", name)
	}
}

func rpmVercmp(t *testing.T, a, b string) string {
	t.Helper()
	out, err := exec.Command("rpm", "--eval", `%{lua: print(rpm.vercmp("`+a+`", "`+b+`"))}`).CombinedOutput()
	if err != nil {
		t.Fatalf("rpm vercmp %q %q: %v: %s", a, b, err, out)
	}
	return strings.TrimSpace(string(out))
}

// dpkgCompare runs dpkg --compare-versions; a warning about bad syntax
// counts as a failure, since dpkg would then compare garbage.
func dpkgCompare(t *testing.T, a, op, b string) bool {
	t.Helper()
	cmd := exec.Command("dpkg", "--compare-versions", a, op, b)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if stderr.Len() > 0 {
		t.Fatalf("dpkg --compare-versions %s %s %s: %s", a, op, b, stderr.String())
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("dpkg: %v", err)
	}
	return err == nil
}

func dpkgValidate(t *testing.T, v string) error {
	t.Helper()
	needTool(t, "dpkg")
	out, err := exec.Command("dpkg", "--validate-version", v).CombinedOutput()
	if err != nil {
		return &toolError{err: err, out: string(out)}
	}
	return nil
}

// rpmSpecVersion writes a minimal spec with the given Version tag and
// returns the version rpmspec reads from it, or rpmspec's error.
func rpmSpecVersion(t *testing.T, version string) (string, error) {
	t.Helper()
	needTool(t, "rpmspec")
	spec := filepath.Join(t.TempDir(), "t.spec")
	body := "Name: t\nVersion: " + version + "\nRelease: 1\nSummary: t\nLicense: MIT\n%description\nt\n"
	if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("rpmspec", "-q", "--srpm", "--qf", "%{version}\n", spec).CombinedOutput()
	if err != nil {
		return "", &toolError{err: err, out: string(out)}
	}
	return strings.TrimSpace(string(out)), nil
}

type toolError struct {
	err error
	out string
}

func (e *toolError) Error() string { return e.err.Error() + ": " + strings.TrimSpace(e.out) }
