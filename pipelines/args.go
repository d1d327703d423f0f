package main

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/packyard/packyard/buildspec"
)

// Builders the rpm packages can be made with; nfpm is the default because
// it needs no EL container.
const (
	builderNfpm     = "nfpm"
	builderRpmbuild = "rpmbuild"
)

// Default images. AlmaLinux is the freely redistributable rebuild of RHEL
// that publishes plain el8/el9 images with dnf; any image with rpmbuild
// (or dnf, or apt-get to fetch rpm) can stand in.
const (
	defaultEL8Image  = "almalinux:8"
	defaultEL9Image  = "almalinux:9"
	defaultDebImage  = "debian:bookworm"
	defaultBaseImage = "busybox:glibc"
)

// normalizeFlavour gives the flavour to build: the spec's default when
// none is named.
func normalizeFlavour(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return buildspec.DefaultFlavour
	}
	return name
}

// normalizeSpec checks the spec path given to the constructor. It is
// relative to the source directory and may not leave it, because the
// containers only ever see that directory.
func normalizeSpec(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return buildspec.DefaultFile, nil
	}
	if path.IsAbs(p) {
		return "", fmt.Errorf("spec %q: must be relative to the source directory", p)
	}
	clean := path.Clean(p)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("spec %q: leaves the source directory", p)
	}
	return clean, nil
}

// normalizeList turns a list argument into a sorted set. Each element may
// itself be comma separated, so that --packages a,b and --packages a
// --packages b mean the same, as they do for the packyard CLI.
func normalizeList(in []string) []string {
	var out []string
	for _, s := range in {
		for _, part := range strings.Split(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// normalizeBuilder checks the rpm builder name.
func normalizeBuilder(b string) (string, error) {
	switch b = strings.TrimSpace(b); b {
	case "", builderNfpm:
		return builderNfpm, nil
	case builderRpmbuild:
		return builderRpmbuild, nil
	default:
		return "", fmt.Errorf("builder %q: want %s or %s", b, builderNfpm, builderRpmbuild)
	}
}

// goImageFromMod gives the golang image matching the go directive of a
// go.mod: "go 1.26.1" gives golang:1.26. Only major.minor is kept because
// every patch release of a minor version builds the same language and
// image mirrors carry the minor tags.
func goImageFromMod(file string, data []byte) (string, error) {
	mf, err := modfile.ParseLax(file, data, nil)
	if err != nil {
		return "", fmt.Errorf("go image: %w", err)
	}
	if mf.Go == nil || mf.Go.Version == "" {
		return "", fmt.Errorf("go image: %s has no go directive; pass the image explicitly", file)
	}
	v := mf.Go.Version
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		// go 1 or an old "go 1" line; the tag is the version itself.
		return "golang:" + v, nil
	}
	minor := parts[1]
	// Pre-release versions such as 1.27rc1 have no image of their own
	// minor tag before the release; keep them whole.
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		return "golang:" + v, nil
	}
	return "golang:" + parts[0] + "." + minor, nil
}

// planFormat checks plan's --format and tells whether it asks for JSON.
func planFormat(f string) (asJSON bool, err error) {
	switch f = strings.TrimSpace(f); f {
	case "", "text":
		return false, nil
	case "json":
		return true, nil
	default:
		return false, fmt.Errorf("format %q: want text or json", f)
	}
}

// normalizeCommit checks a commit id given as an argument: a full SHA-1
// or SHA-256 object name, as git log prints it, so that the SHA build
// flag and the image revision never carry an abbreviation.
func normalizeCommit(c string) (string, error) {
	c = strings.ToLower(strings.TrimSpace(c))
	if c == "" {
		return "", nil
	}
	if len(c) != 40 && len(c) != 64 || strings.Trim(c, "0123456789abcdef") != "" {
		return "", fmt.Errorf("commit %q: want a full commit id (40 or 64 hex digits, git rev-parse HEAD)", c)
	}
	return c, nil
}
