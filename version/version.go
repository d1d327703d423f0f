// Package version resolves a product's version from an explicit --version,
// from `git describe --tags --long`, or from a .version file, and spells it
// for each output format: the product (tarball) spelling, the rpm Version
// tag and the Debian upstream version.
//
// The mapping keeps the three spellings in the same order under each
// format's own comparison (rpmvercmp and dpkg --compare-versions):
//
//	input                      product            rpm                deb
//	--version 0.26.0acme       0.26.0acme         0.26.0acme         0.26.0acme
//	describe v3-0-g9eca        3                  3                  3
//	describe v3-1-g9eca        3.1-g9eca          3.1_g9eca          3.1+g9eca
//	describe v1.2.0-rc1-0-gX   1.2.0-rc1          1.2.0~rc1          1.2.0~rc1
//	describe v1.2.0-rc1-3-gabcd 1.2.0-rc1.3-gabcd 1.2.0~rc1.3_gabcd  1.2.0~rc1.3+gabcd
//
// A '-' that introduces a pre-release word (alpha, beta, rc, pre, preview,
// dev) becomes '~', which both rpm and dpkg sort before the release; any
// other '-' becomes '_' for rpm (which forbids '-' in Version) and '+' for
// Debian (whose upstream version may not contain '_'), both of which sort
// after the release.
package version

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Version is one resolved version in every spelling Packyard needs.
type Version struct {
	// Product is the spelling of tarball and binary names, e.g. 1.2.0-rc1.
	Product string `json:"product"`
	// RPM is the rpm Version tag, e.g. 1.2.0~rc1.
	RPM string `json:"rpm"`
	// Deb is the Debian upstream version, e.g. 1.2.0~rc1.
	Deb string `json:"deb"`
	// Commit is the full git commit id, or "" when unknown.
	Commit string `json:"commit,omitempty"`
	// Time is the commit time in UTC, used as SOURCE_DATE_EPOCH everywhere.
	Time time.Time `json:"time"`
}

// String returns the product spelling.
func (v Version) String() string { return v.Product }

// Spelling returns the version as written for format: "product", "rpm" or
// "deb" (the values of `packyard version --format`).
func (v Version) Spelling(format string) (string, error) {
	switch format {
	case "", "product":
		return v.Product, nil
	case "rpm":
		return v.RPM, nil
	case "deb":
		return v.Deb, nil
	}
	return "", fmt.Errorf("version format %q: want product, rpm or deb", format)
}

// SourceDateEpoch returns Time as the decimal seconds that the
// SOURCE_DATE_EPOCH environment variable expects.
func (v Version) SourceDateEpoch() string {
	return strconv.FormatInt(v.Time.Unix(), 10)
}

// preReleaseWords are the words that, after a '-', mark a pre-release and
// therefore take '~' so that they sort before the release.
var preReleaseWords = map[string]bool{
	"alpha": true, "beta": true, "rc": true, "pre": true, "preview": true, "dev": true,
}

// Parse maps an explicit version such as the value of --version. A leading
// "v" is dropped. The error says why a version cannot be mapped.
func Parse(s string) (Version, error) {
	rpm, deb, product, err := mapProduct(s)
	if err != nil {
		return Version{}, fmt.Errorf("version %q: %w", s, err)
	}
	return Version{Product: product, RPM: rpm, Deb: deb}, nil
}

// mapProduct validates s and returns its rpm, deb and product spellings.
func mapProduct(s string) (rpm, deb, product string, err error) {
	if s == "" {
		return "", "", "", fmt.Errorf("empty")
	}
	product = s
	if strings.HasPrefix(product, "v") {
		product = product[1:]
	}
	if product == "" {
		return "", "", "", fmt.Errorf("no number after the leading \"v\"")
	}
	for _, r := range product {
		switch {
		case r == ' ' || r < 0x20 || r == 0x7f:
			return "", "", "", fmt.Errorf("contains whitespace or a control character")
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r == '.', r == '+', r == '~', r == '_', r == '-':
		case r == ':':
			return "", "", "", fmt.Errorf("contains ':', which rpm and dpkg read as an epoch separator")
		case r == '^':
			return "", "", "", fmt.Errorf("contains '^', which Debian versions do not allow")
		case r == '/' || r == '\\':
			return "", "", "", fmt.Errorf("contains %q, which would make the tarball name a path", r)
		default:
			return "", "", "", fmt.Errorf("contains %q: rpm Version and Debian versions allow only letters, digits and . + ~ (and - mapped to ~, _ or +)", r)
		}
	}
	if c := product[0]; c < '0' || c > '9' {
		return "", "", "", fmt.Errorf("must start with a digit (a Debian upstream version does)")
	}
	if strings.Contains(product, "..") {
		return "", "", "", fmt.Errorf("contains \"..\", which rpm rejects in Version")
	}

	var r, d strings.Builder
	for i, part := range strings.Split(product, "-") {
		if part == "" {
			return "", "", "", fmt.Errorf("empty part between '-' separators")
		}
		if i > 0 {
			switch {
			case isPreRelease(part):
				r.WriteByte('~')
				d.WriteByte('~')
			default:
				r.WriteByte('_')
				d.WriteByte('+')
			}
		}
		r.WriteString(part)
		// Debian forbids '_' anywhere; '+' sorts the same way after a
		// release, so it is the faithful stand-in.
		d.WriteString(strings.ReplaceAll(part, "_", "+"))
	}
	rpm, deb = r.String(), d.String()
	if err := checkRPM(rpm); err != nil {
		return "", "", "", err
	}
	if err := checkDeb(deb); err != nil {
		return "", "", "", err
	}
	return rpm, deb, product, nil
}

// isPreRelease reports whether part (the text after a '-') starts with a
// pre-release word followed by a non-letter, as in rc1, beta.2 or dev.
func isPreRelease(part string) bool {
	n := 0
	for n < len(part) && (part[n] >= 'a' && part[n] <= 'z' || part[n] >= 'A' && part[n] <= 'Z') {
		n++
	}
	return preReleaseWords[strings.ToLower(part[:n])]
}

// checkRPM applies rpmbuild's rule for the Version tag: letters, digits and
// "._+~^" only (rpm also allows %{} for macros, which a literal must not
// use), no "..".
func checkRPM(s string) error {
	if s == "" {
		return fmt.Errorf("empty rpm Version")
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune("._+~^", r) {
			return fmt.Errorf("rpm Version %q: illegal character %q", s, r)
		}
	}
	if strings.Contains(s, "..") {
		return fmt.Errorf("rpm Version %q: illegal sequence \"..\"", s)
	}
	return nil
}

// checkDeb applies Debian policy 5.6.12 to an upstream version that is
// followed by a revision and has no epoch: it starts with a digit and
// holds only letters, digits and ".+~" (we never emit '-' in it).
func checkDeb(s string) error {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return fmt.Errorf("deb version %q: must start with a digit", s)
	}
	for _, r := range s {
		if !isAlnum(r) && !strings.ContainsRune(".+~", r) {
			return fmt.Errorf("deb version %q: illegal character %q", s, r)
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

// describeRE matches `git describe --tags --long` output: the tag, the
// number of commits since it and the abbreviated commit id.
var describeRE = regexp.MustCompile(`^(.+)-([0-9]+)-g([0-9a-f]{4,64})$`)

// FromDescribe maps the output of `git describe --tags --long`. Exactly on a
// tag (v1.2.0-rc1-0-gX) the version is the tag's; N commits later
// (v1.2.0-rc1-3-gabcd) it is the tag's, then ".N", then the commit id:
// 1.2.0-rc1.3-gabcd, rpm 1.2.0~rc1.3_gabcd, deb 1.2.0~rc1.3+gabcd.
// Commit and Time are left empty: describe gives neither in full.
func FromDescribe(desc string) (Version, error) {
	desc = strings.TrimSpace(desc)
	m := describeRE.FindStringSubmatch(desc)
	if m == nil {
		return Version{}, fmt.Errorf("git describe %q: want TAG-N-gHASH (the output of git describe --tags --long)", desc)
	}
	tag, count, hash := m[1], m[2], m[3]
	v, err := Parse(tag)
	if err != nil {
		return Version{}, fmt.Errorf("git describe %q: tag: %w", desc, err)
	}
	n, err := strconv.ParseUint(count, 10, 64)
	if err != nil {
		return Version{}, fmt.Errorf("git describe %q: commit count %q: %w", desc, count, err)
	}
	if n == 0 {
		return v, nil
	}
	// The count is a new numeric component so that N commits after 1.2.0
	// sort after 1.2.0 and before 1.2.1, and N commits after 1.2.0-rc1
	// stay before 1.2.0.
	suffix := "." + strconv.FormatUint(n, 10)
	v.Product += suffix + "-g" + hash
	v.RPM += suffix + "_g" + hash
	v.Deb += suffix + "+g" + hash
	return v, nil
}

// rudderRE is the Rudder part of an .rpkg version: X.Y, or X.Y.Z with an
// optional ~alphaN, ~betaN or ~rcN (rpkg-format.md).
var rudderRE = regexp.MustCompile(`^[0-9]+\.[0-9]+(\.[0-9]+(~(alpha|beta|rc)[0-9]+)?)?$`)

// majorMinorRE takes the leading numeric components of the product.
var majorMinorRE = regexp.MustCompile(`^([0-9]+)(?:\.([0-9]+))?`)

// Rudder returns the version of a Rudder plugin package (.rpkg):
// "<rudderVersion>-<major>.<minor>" of the product, e.g. 8.1.0-0.26 for
// product 0.26.0acme. A product without a minor number gets ".0".
func (v Version) Rudder(rudderVersion string) (string, error) {
	if !rudderRE.MatchString(rudderVersion) {
		return "", fmt.Errorf("rudder_version %q: want X.Y or X.Y.Z with an optional ~alphaN, ~betaN or ~rcN", rudderVersion)
	}
	m := majorMinorRE.FindStringSubmatch(v.Product)
	if m == nil {
		return "", fmt.Errorf("rudder plugin version of %q: the product version does not start with a number", v.Product)
	}
	minor := m[2]
	if minor == "" {
		minor = "0"
	}
	return rudderVersion + "-" + m[1] + "." + minor, nil
}
