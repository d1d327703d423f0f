package templates

import (
	"fmt"
	"sort"
	"strings"
)

// An arch is one machine architecture under the names rpm and dpkg give
// it, and the other spellings a spec may use for it: Go's GOARCH, GNU
// triplets (Choria's target_arch, e.g. x86_64-linux-gnu) and the other
// distribution's name.
type arch struct {
	rpm, deb string
	aliases  []string
}

// arches are the architectures rpm and deb packages may name. A Go arch
// without GOARM ("arm") is armv7 hard-float, as Go builds it by default
// for linux and as Debian's armhf is.
func arches() []arch {
	return []arch{
		{"x86_64", "amd64", []string{"x86_64-linux-gnu", "x86-64"}},
		{"aarch64", "arm64", []string{"aarch64-linux-gnu", "armv8", "arm64-linux-gnu"}},
		{"i686", "i386", []string{"386", "i486", "i586", "i686-linux-gnu", "i386-linux-gnu", "x86"}},
		{"armv7hl", "armhf", []string{"arm", "arm7", "armv7", "armv7l", "arm-linux-gnueabihf", "armv7-linux-gnueabihf"}},
		{"armv6hl", "armel", []string{"arm6", "armv6", "armv6l"}},
		{"armv5tel", "armel", []string{"arm5", "armv5", "arm-linux-gnueabi"}},
		{"ppc64le", "ppc64el", []string{"powerpc64le-linux-gnu"}},
		{"ppc64", "ppc64", []string{"powerpc64-linux-gnu"}},
		{"s390x", "s390x", []string{"s390x-linux-gnu"}},
		{"riscv64", "riscv64", []string{"riscv64-linux-gnu"}},
		{"loongarch64", "loong64", []string{"loongarch64-linux-gnu"}},
		{"mips64el", "mips64el", []string{"mips64le", "mips64el-linux-gnuabi64"}},
		{"mipsel", "mipsel", []string{"mipsle", "mipsel-linux-gnu"}},
		{"noarch", "all", nil},
	}
}

// UnknownArchError is a target_arch that no rpm or deb architecture is
// known by.
type UnknownArchError struct {
	Arch   string
	Format string
	Known  []string // every spelling accepted, sorted
}

func (e *UnknownArchError) Error() string {
	return fmt.Sprintf("target_arch %q: no %s architecture is known by that name; use an rpm, Debian, Go or GNU triplet name such as x86_64, amd64 or x86_64-linux-gnu",
		e.Arch, e.Format)
}

// FormatArch spells a target_arch as the package format names it: for
// rpm x86_64, aarch64, armv7hl...; for deb amd64, arm64, armhf... It
// accepts either distribution's name, Go's GOARCH and GNU triplets, so
// that a Choria spec's target_arch: x86_64-linux-gnu makes a deb dpkg
// installs on amd64. Other formats (tar, rpkg) take the name as given.
func FormatArch(format, name string) (string, error) {
	if format != FormatRPM && format != FormatDeb {
		return name, nil
	}
	key := strings.ToLower(strings.TrimSpace(name))
	var known []string
	for _, a := range arches() {
		names := append([]string{a.rpm, a.deb}, a.aliases...)
		for _, n := range names {
			if n == key {
				if format == FormatRPM {
					return a.rpm, nil
				}
				return a.deb, nil
			}
		}
		known = append(known, names...)
	}
	sort.Strings(known)
	return "", &UnknownArchError{Arch: name, Format: format, Known: known}
}
