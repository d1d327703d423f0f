package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:+,@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// shArgv runs script with sh -ec, the argv of every shell step.
func shArgv(script string) []string {
	return []string{"sh", "-ec", script}
}

// rpmbuildSetupScript installs rpmbuild, rpmsign and gpg in an EL image.
// It is its own step so that the engine caches the layer across packages
// and versions. A Debian image with apt (the acceptance mirror's stand-in
// for EL) gets Debian's rpm package, which has both, and gnupg.
const rpmbuildSetupScript = `if command -v rpmbuild && command -v rpmsign && command -v gpg; then exit 0; fi >/dev/null 2>&1
if command -v dnf >/dev/null 2>&1; then
  dnf install -y rpm-build rpm-sign gnupg2 systemd-rpm-macros || dnf install -y rpm-build rpm-sign gnupg2
  dnf clean all
elif command -v yum >/dev/null 2>&1; then
  yum install -y rpm-build rpm-sign gnupg2
  yum clean all
elif command -v apt-get >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rpm gnupg
else
  echo "packyard: no dnf, yum or apt-get in the image to install rpmbuild" >&2
  exit 1
fi`

// debBuildSetupScript installs what a Debian package build needs, in its
// own cached layer: dpkg-buildpackage and dh, as Choria's
// packager:<distro>-go images have them.
const debBuildSetupScript = `if command -v dpkg-buildpackage && command -v dh && command -v fakeroot; then exit 0; fi >/dev/null 2>&1
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dpkg-dev debhelper fakeroot`

// installCheckScript installs one package in a clean distro container
// and runs its binary as a user would (buildinfo). file is the package
// inside the container.
func installCheckScript(format, file, binary string) (string, error) {
	var install string
	q := shellQuote(file)
	switch format {
	case formatRPM:
		// dnf resolves dependencies from the distro; a Debian stand-in
		// only has rpm, whose Debian build wants --force-debian.
		install = "if command -v dnf >/dev/null 2>&1; then dnf install -y " + q +
			"; else rpm -i --nodeps --force-debian " + q + "; fi"
	case formatDeb:
		// apt-get update only warns when the mirror cannot be reached; the
		// install then needs no more than the image has.
		install = "apt-get update\nDEBIAN_FRONTEND=noninteractive apt-get install -y " + q
	default:
		return "", fmt.Errorf("install check: format %s is not installable", format)
	}
	return fmt.Sprintf("%s\necho \"== %s buildinfo\"\n%s buildinfo", install, binary, shellQuote(binary)), nil
}

// unitsSkipped is the exit code of unitsCheckScript when it cannot check:
// systemd-analyze is not in the image and cannot be installed (no
// network, no repositories). The check is then reported as skipped, with
// the reason, never as passed.
const unitsSkipped = 3

// unitsCheckScript runs systemd-analyze verify on the systemd units a
// package ships, in the container it was installed in.
func unitsCheckScript(format, file string) (string, error) {
	q := shellQuote(file)
	var list, install string
	switch format {
	case formatRPM:
		list = "rpm -qlp " + q
		install = "dnf install -y systemd"
	case formatDeb:
		list = "dpkg-deb --fsys-tarfile " + q + " | tar -t | sed 's|^\\./|/|'"
		install = "DEBIAN_FRONTEND=noninteractive apt-get install -y systemd"
	default:
		return "", fmt.Errorf("units check: format %s is not installable", format)
	}
	return fmt.Sprintf(`units=$(%s | grep -E '^/(usr/)?lib/systemd/system/[^/]+\.(service|socket|timer)$' || true)
if [ -z "$units" ]; then echo "no systemd units"; exit 0; fi
if ! command -v systemd-analyze >/dev/null 2>&1 && ! %s >/dev/null 2>&1; then
  echo "systemd-analyze is not in the image and '%s' failed: cannot verify" $units
  exit %d
fi
echo "== systemd-analyze verify" $units
systemd-analyze verify $units`, list, install, install, unitsSkipped), nil
}

// OCI annotation keys set on images.
const (
	annVersion  = "org.opencontainers.image.version"
	annRevision = "org.opencontainers.image.revision"
	annSource   = "org.opencontainers.image.source"
	annCreated  = "org.opencontainers.image.created"
)

// imageAnnotations are the OCI annotations of an image, as sorted
// key/value pairs so that the layer order never changes. created is the
// commit time, never the build time, so the image is reproducible;
// empty values are left out.
func imageAnnotations(version, revision, source string, created int64) [][2]string {
	m := map[string]string{
		annVersion:  version,
		annRevision: revision,
		annSource:   source,
		annCreated:  time.Unix(created, 0).UTC().Format(time.RFC3339),
	}
	var out [][2]string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != "" {
			out = append(out, [2]string{k, m[k]})
		}
	}
	return out
}
