package buildspec

import "strings"

// ports is the GOOS/GOARCH pairs a compile target may name: Go's
// first-class ports plus the common secondary ones, as `go tool dist list`
// prints them. It is a table rather than a call to the go command so that
// loading a spec needs no toolchain and gives the same answer everywhere.
func ports() []string {
	return []string{
		"darwin/amd64", "darwin/arm64",
		"freebsd/386", "freebsd/amd64", "freebsd/arm64",
		"illumos/amd64",
		"linux/386", "linux/amd64", "linux/arm", "linux/arm64", "linux/loong64",
		"linux/mips64le", "linux/ppc64le", "linux/riscv64", "linux/s390x",
		"netbsd/amd64", "netbsd/arm64",
		"openbsd/amd64", "openbsd/arm64",
		"solaris/amd64",
		"windows/386", "windows/amd64", "windows/arm64",
	}
}

// supportedPort reports whether goos/goarch is in the ports table.
func supportedPort(goos, goarch string) bool {
	want := goos + "/" + goarch
	for _, p := range ports() {
		if p == want {
			return true
		}
	}
	return false
}

// portOSes is every GOOS of the table, sorted and without repeats.
func portOSes() []string {
	var oses []string
	for _, p := range ports() {
		goos, _, _ := strings.Cut(p, "/")
		if len(oses) == 0 || oses[len(oses)-1] != goos {
			oses = append(oses, goos)
		}
	}
	return oses
}

// portArches is every GOARCH the table has for goos, sorted.
func portArches(goos string) []string {
	var arches []string
	for _, p := range ports() {
		if o, a, _ := strings.Cut(p, "/"); o == goos {
			arches = append(arches, a)
		}
	}
	return arches
}
