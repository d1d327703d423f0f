package bench

import (
	"time"

	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/rpkg"
)

// The package the packaging benchmarks write.
const (
	PayloadName    = "bench-payload"
	PayloadVersion = "1.0.0"
)

// PayloadInfo is the package of the file payload that format's writer is
// given (rpm, rpmspec, deb, rpkg or tarball): one binary, as the package
// stage gives it, with the fields each format requires.
func PayloadInfo(format, payload string, mtime time.Time) *pack.Info {
	info := &pack.Info{
		Name:          PayloadName,
		Version:       PayloadVersion,
		Release:       "1",
		Arch:          "x86_64",
		Platform:      "linux",
		Summary:       "Payload of Packyard's packaging benchmark",
		Description:   "A large binary packaged to measure the package writers.",
		Maintainer:    "Packyard <packyard@localhost>",
		License:       "Apache-2.0",
		Group:         "System Environment/Base",
		Section:       "misc",
		Priority:      "optional",
		ChangelogText: "Benchmark build",
		MTime:         mtime,
		Contents: []pack.Content{
			{Type: pack.File, Source: payload, Destination: "/usr/bin/" + PayloadName, Mode: 0o755},
		},
	}
	switch format {
	case "deb", "tarball":
		info.Arch = "amd64"
	case "rpkg":
		// Rudder versions are <rudder_version>-<major>.<minor>.
		info.Name = "rudder-plugin-" + PayloadName
		info.Version = "8.1.0-1.0"
		info.Arch = "amd64"
		dir := "/opt/rudder/share/plugins/" + PayloadName
		info.Contents[0].Destination = dir + "/bin/" + PayloadName
		info.Properties = map[string]string{
			rpkg.PropBuildCommit:     "0000000000000000000000000000000000000000",
			rpkg.PropContent:         "files.txz:" + dir,
			rpkg.PropRequiresLicense: "false",
		}
	}
	return info
}
