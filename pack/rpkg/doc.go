// Package rpkg writes, reads and verifies Rudder plugin packages (.rpkg),
// following /work/shared/rpkg-format.md: a GNU ar archive, as `ar rcD`
// writes it, of a JSON "metadata" member, content tarballs (*.txz: one xz
// stream around a tar) and scripts.txz.
//
// Writer implements pack.Packager. Open lists a package without extracting
// anything and refuses files that cannot be read safely; Verify reports
// every rule a package breaks, as errors (installers refuse or mishandle
// it) and warnings (accepted, but not as a clean writer makes it); Inspect
// summarizes an opened package for `packyard inspect`.
package rpkg
