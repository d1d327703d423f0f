package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
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

// rpmbuildSetupScript installs rpmbuild in an EL image. It is its own
// step so that the engine caches the layer across packages and versions.
// A Debian image with apt (the acceptance mirror's stand-in for EL) gets
// Debian's rpm package instead.
const rpmbuildSetupScript = `if command -v rpmbuild >/dev/null 2>&1; then exit 0; fi
if command -v dnf >/dev/null 2>&1; then
  dnf install -y rpm-build systemd-rpm-macros || dnf install -y rpm-build
  dnf clean all
elif command -v yum >/dev/null 2>&1; then
  yum install -y rpm-build
  yum clean all
elif command -v apt-get >/dev/null 2>&1; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rpm
else
  echo "packyard: no dnf, yum or apt-get in the image to install rpmbuild" >&2
  exit 1
fi`

// collectRPMsScript moves rpmbuild's RPMS/ARCH and SRPMS outputs into the
// rpm/ and srpm/ layout of dist/.
func collectRPMsScript(topdir, out string) string {
	return fmt.Sprintf(`mkdir -p %[2]s/rpm %[2]s/srpm
find %[1]s/RPMS -type f -name '*.rpm' -exec cp {} %[2]s/rpm/ \;
find %[1]s/SRPMS -type f -name '*.src.rpm' -exec cp {} %[2]s/srpm/ \;
ls %[2]s/rpm/*.rpm %[2]s/srpm/*.src.rpm >/dev/null`, shellQuote(topdir), shellQuote(out))
}

// gitInfoScript prints the commit id and its commit time (a Unix time),
// the defaults of the image revision and of SOURCE_DATE_EPOCH.
func gitInfoScript(dir string) string {
	return fmt.Sprintf("git config --global --add safe.directory '*'\ngit -C %s log -1 --format='%%H %%ct'", shellQuote(dir))
}

// parseGitInfo reads the output of gitInfoScript.
func parseGitInfo(out string) (rev string, epoch int64, err error) {
	f := strings.Fields(out)
	if len(f) != 2 {
		return "", 0, fmt.Errorf("git log: unexpected output %q", out)
	}
	epoch, err = strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return "", 0, fmt.Errorf("git log: commit time %q: %w", f[1], err)
	}
	return f[0], epoch, nil
}

// installCheckScript installs one package in a clean distro container
// and checks it like a user would: the binary runs (buildinfo) and the
// systemd units it ships pass systemd-analyze verify. file is the package
// inside the container.
func installCheckScript(format, file, binary string) (string, error) {
	var install, list string
	q := shellQuote(file)
	switch format {
	case formatRPM:
		// dnf resolves dependencies from the distro; a Debian stand-in
		// only has rpm, whose Debian build wants --force-debian.
		install = "if command -v dnf >/dev/null 2>&1; then dnf install -y " + q +
			"; else rpm -i --nodeps --force-debian " + q + "; fi"
		list = "rpm -qlp " + q
	case formatDeb:
		install = "apt-get update\nDEBIAN_FRONTEND=noninteractive apt-get install -y " + q
		list = "dpkg-deb --fsys-tarfile " + q + " | tar -t | sed 's|^\\./|/|'"
	default:
		return "", fmt.Errorf("install check: format %s is not installable", format)
	}
	return fmt.Sprintf(`%s
echo "== %s buildinfo"
%s buildinfo
units=$(%s | grep -E '^/(usr/)?lib/systemd/system/[^/]+\.(service|socket|timer)$' || true)
if [ -n "$units" ]; then
  if ! command -v systemd-analyze >/dev/null 2>&1; then
    if command -v dnf >/dev/null 2>&1; then dnf install -y systemd; else DEBIAN_FRONTEND=noninteractive apt-get install -y systemd; fi
  fi
  echo "== systemd-analyze verify" $units
  systemd-analyze verify $units
fi`, install, binary, shellQuote(binary), list), nil
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
