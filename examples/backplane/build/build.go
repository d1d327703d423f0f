// Package build holds the values a release build sets with
// -ldflags "-X github.com/acme/backplane/build.NAME=VALUE". The names are the
// targets of packager/buildspec.yaml's flags_map; the defaults are what a
// plain `go build` gets.
package build

// These are variables, not constants, because the linker's -X flag can
// only set package-level string variables.
var (
	// Version is the product version, e.g. 0.26.0acme.
	Version = "development"
	// SHA is the commit the binary was built from.
	SHA = "development"
	// BuildDate is when the binary was built (from SOURCE_DATE_EPOCH for
	// reproducible builds).
	BuildDate = "development"
	// ProvisionJWTFile is where a provisioning token is looked for;
	// empty disables provisioning.
	ProvisionJWTFile = ""
	// ConfigDir is the flavour's etcdir, where the default config files
	// live.
	ConfigDir = "/etc/backplane"
)

// Flag is one flags_map value compiled into the binary.
type Flag struct {
	Name  string
	Value string
}

// Flags lists every flags_map value, in a fixed order, so that buildinfo can
// show what a package's build set.
func Flags() []Flag {
	return []Flag{
		{"Version", Version},
		{"SHA", SHA},
		{"BuildTime", BuildDate},
		{"ProvisionJWTFile", ProvisionJWTFile},
		{"ConfigDir", ConfigDir},
	}
}
