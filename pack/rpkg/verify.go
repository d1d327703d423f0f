package rpkg

import (
	"fmt"
	"io"
	"strings"
)

// Severity says whether a finding makes a package unacceptable.
type Severity string

// Severities of findings.
const (
	// Error: an installer refuses or mishandles the package.
	Error Severity = "error"
	// Warning: accepted by installers, but not how a clean writer makes it.
	Warning Severity = "warning"
)

// Rule names the rule of rpkg-format.md a finding is about.
type Rule string

// The rules Verify checks.
const (
	RuleArchive         Rule = "ar-archive"       // the ar container cannot be walked
	RulePad             Rule = "ar-pad"           // pad byte after odd-sized data
	RuleHeader          Rule = "ar-header"        // mtime/uid/gid/mode as `ar rcD` writes them
	RuleMemberName      Rule = "ar-name"          // GNU "name/" form
	RuleDuplicateMember Rule = "ar-duplicate"     // a member name twice
	RuleLimit           Rule = "limit"            // size or count past the reader's limits
	RuleMetadataMissing Rule = "metadata-missing" // no metadata member
	RuleMetadataJSON    Rule = "metadata-json"    // not strict JSON of the right shape
	RuleMetadataField   Rule = "metadata-field"   // a key's value breaks its rule
	RuleContent         Rule = "content-members"  // content keys vs .txz members
	RuleScriptsMissing  Rule = "scripts-missing"  // no scripts.txz
	RuleScript          Rule = "script"           // scripts.txz entries
	RuleXZ              Rule = "xz"               // one stream, LZMA2, CRC32/CRC64
	RuleTar             Rule = "tar"              // the tar cannot be read safely
	RuleTarPath         Rule = "tar-path"         // relative, no "./", dirs end in "/"
	RuleTarDuplicate    Rule = "tar-duplicate"    // a path twice
	RuleTarHardlink     Rule = "tar-hardlink"     // hardlinks are refused
	RuleTarLink         Rule = "tar-link"         // symlinks pointing outside
	RuleTarType         Rule = "tar-type"         // devices, fifos…
)

// Finding is one rule violation.
type Finding struct {
	Severity Severity `json:"severity"`
	Rule     Rule     `json:"rule"`
	// Member is the ar member concerned, if any.
	Member string `json:"member,omitempty"`
	// Path is the tar entry, or the metadata key, concerned, if any.
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	// refuse marks the problems that make Open fail.
	refuse bool
}

// String formats a finding as "error: files.txz: share/x: message [rule]".
func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(string(f.Severity))
	b.WriteString(": ")
	if f.Member != "" {
		b.WriteString(f.Member)
		b.WriteString(": ")
	}
	if f.Path != "" {
		b.WriteString(f.Path)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s [%s]", f.Message, f.Rule)
	return b.String()
}

type findings struct{ list []Finding }

func (fs *findings) add(sev Severity, rule Rule, member, path, msg string) {
	fs.list = append(fs.list, Finding{Severity: sev, Rule: rule, Member: member, Path: path, Message: msg})
}

func (fs *findings) refuse(rule Rule, member, msg string) {
	fs.list = append(fs.list, Finding{Severity: Error, Rule: rule, Member: member, Message: msg, refuse: true})
}

// Verify checks an .rpkg against every rule of rpkg-format.md and returns
// what it found, errors and warnings, in the order met. A package whose
// findings hold no Error is installable. Verify never fails on bad input:
// an unreadable file is itself a finding.
func Verify(r io.ReaderAt, size int64) []Finding {
	return VerifyLimits(r, size, DefaultLimits())
}

// VerifyLimits is Verify with explicit reader limits.
func VerifyLimits(r io.ReaderAt, size int64, lim Limits) []Finding {
	_, fs := scan(r, size, lim)
	return fs.list
}

// HasErrors reports whether any finding is an Error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Error {
			return true
		}
	}
	return false
}
