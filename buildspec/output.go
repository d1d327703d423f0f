package buildspec

import (
	"regexp"
	"strings"
)

// placeholderRE matches one {{name}} of an output pattern; spaces inside
// the braces are allowed, as text/template allows them.
var placeholderRE = regexp.MustCompile(`\{\{\s*([^{}\s]*)\s*\}\}`)

// outputPlaceholders are the names an output pattern may use. Choria's
// own specs use {{arm}} for their armv5/armv7 binaries, so it is accepted
// beside the documented {{version}}, {{os}} and {{arch}}.
func outputPlaceholders() []string {
	return []string{"arch", "arm", "os", "version"}
}

// defaultOutput is the output pattern of a target that sets none.
func defaultOutput(product string) string {
	return product + "-{{version}}-{{os}}-{{arch}}"
}

// OutputName is the file name of the target's binary for version: its
// Output pattern with {{version}}, {{os}}, {{arch}} and {{arm}} expanded.
// A target without an Output (Parse always sets one) is named after the
// target itself.
func (t *CompileTarget) OutputName(version string) string {
	pattern := t.Output
	if pattern == "" {
		pattern = defaultOutput(t.Name)
	}
	return placeholderRE.ReplaceAllStringFunc(pattern, func(m string) string {
		switch placeholderRE.FindStringSubmatch(m)[1] {
		case "version":
			return version
		case "os":
			return t.OS
		case "arch":
			return t.Arch
		case "arm":
			return t.ARM
		}
		return m
	})
}

// checkOutput returns what is wrong with an output pattern, or "".
func checkOutput(pattern string) string {
	if strings.TrimSpace(pattern) == "" {
		return "must not be empty"
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(pattern, -1) {
		known := false
		for _, name := range outputPlaceholders() {
			known = known || m[1] == name
		}
		if !known {
			return "unknown placeholder " + m[0] + " (known: {{version}}, {{os}}, {{arch}}, {{arm}})" +
				didYouMean(m[1], outputPlaceholders())
		}
	}
	rest := placeholderRE.ReplaceAllString(pattern, "x")
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return "unbalanced {{ }} in output pattern"
	}
	// The binary lands in dist/binaries/: a file name, never a path.
	if strings.ContainsAny(rest, `/\`) || rest == "." || rest == ".." {
		return "must be a file name, not a path"
	}
	return ""
}
