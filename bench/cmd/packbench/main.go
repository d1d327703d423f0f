// Command packbench packages one payload file with one of Packyard's
// package writers, so that each writer can be measured as a process of its
// own (wall time and peak RSS under /usr/bin/time -v) beside the distro
// tools; bench/run-packaging.sh drives it.
//
// Usage:
//
//	packbench -format rpm|rpm+srpm|deb|rpkg|rpmspec|tarball -payload FILE -out DIR
//	packbench -make-payload MiB -payload FILE
//
// The payload is installed as one executable, /usr/bin/bench-payload (for
// rpkg /opt/rudder/share/plugins/bench-payload/bin/bench-payload), in a
// package named bench-payload, version 1.0.0, release 1, for x86_64/amd64.
// The package is written into DIR (atomically: a temporary file renamed
// into place) and its path printed. rpm+srpm writes the rpm and then the
// srpm as the default builder of `packyard package` does: pack/rpm for
// both, one pack/splice cache, so the srpm copies the payload's blocks the
// rpm compressed. rpmspec writes an rpmbuild top dir
// under DIR, runs `rpmbuild -ba` (so it also writes the srpm, as the
// rpmbuild builder of `packyard package` does) and removes the top dir.
// Every timestamp is SOURCE_DATE_EPOCH, 0 when unset.
//
// -make-payload writes a payload of that many MiB to FILE instead: the Go
// tool binaries concatenated (see package bench/payload), as the Go
// benchmarks of the writers use.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/packyard/packyard/bench"
	payloadpkg "github.com/packyard/packyard/bench/payload"
	"github.com/packyard/packyard/internal/fsutil"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/deb"
	"github.com/packyard/packyard/pack/rpkg"
	"github.com/packyard/packyard/pack/rpm"
	"github.com/packyard/packyard/pack/rpmspec"
	"github.com/packyard/packyard/pack/splice"
	"github.com/packyard/packyard/pack/tarball"
)

// Formats are the writers packbench can run, in the order the usage
// message lists them.
var Formats = []string{"rpm", "rpm+srpm", "deb", "rpkg", "rpmspec", "tarball"}

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("packbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "", "the writer: rpm, rpm+srpm, deb, rpkg, rpmspec or tarball")
	payload := fs.String("payload", "", "the file to package")
	out := fs.String("out", "", "the directory to write the package into")
	makeMiB := fs.Int64("make-payload", 0, "write a payload of this many MiB to -payload, and nothing else")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *makeMiB != 0 {
		if fs.NArg() != 0 || *payload == "" || *makeMiB < 0 {
			fmt.Fprintln(stderr, "usage: packbench -make-payload MiB -payload FILE")
			return 2
		}
		if err := payloadpkg.WriteFile(*payload, *makeMiB<<20); err != nil {
			fmt.Fprintln(stderr, "packbench:", err)
			return 1
		}
		return 0
	}
	if fs.NArg() != 0 || *format == "" || *payload == "" || *out == "" {
		fmt.Fprintln(stderr, "usage: packbench -format rpm|rpm+srpm|deb|rpkg|rpmspec|tarball -payload FILE -out DIR")
		return 2
	}
	mtime, err := sourceDateEpoch(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		fmt.Fprintln(stderr, "packbench:", err)
		return 2
	}
	path, err := Package(ctx, *format, *payload, *out, mtime)
	if err != nil {
		fmt.Fprintln(stderr, "packbench:", err)
		var u usageError
		if errors.As(err, &u) {
			return 2
		}
		return 1
	}
	fmt.Fprintln(stdout, path)
	return 0
}

// usageError is a bad -format or -payload, as opposed to a writer that
// failed.
type usageError struct{ error }

func sourceDateEpoch(v string) (time.Time, error) {
	if v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

// Package writes payload's package in format into dir and returns its path.
func Package(ctx context.Context, format, payload, dir string, mtime time.Time) (string, error) {
	if fi, err := os.Stat(payload); err != nil {
		return "", usageError{fmt.Errorf("payload: %w", err)}
	} else if !fi.Mode().IsRegular() {
		return "", usageError{fmt.Errorf("payload %s: not a regular file", payload)}
	}
	info := bench.PayloadInfo(format, payload, mtime)
	var w pack.Packager
	switch format {
	case "rpm":
		w = rpm.Packager{}
	case "deb":
		w = deb.Packager{}
	case "tarball":
		w = tarball.Packager{}
	case "rpkg":
		p, err := rpkg.Writer{}.WriteFile(info, dir)
		if err != nil {
			return "", fmt.Errorf("rpkg: %w", err)
		}
		return p, nil
	case "rpm+srpm":
		return buildRPMAndSource(info, dir)
	case "rpmspec":
		return buildRPMSpec(ctx, info, dir)
	default:
		return "", usageError{fmt.Errorf("-format %q: want one of %v", format, Formats)}
	}
	dst := filepath.Join(dir, w.FileName(info))
	if err := fsutil.WriteFile(dst, 0o644, func(f io.Writer) error { return w.Package(info, f) }); err != nil {
		return "", fmt.Errorf("%s: %w", format, err)
	}
	return dst, nil
}

// buildRPMAndSource is the default builder: the rpm, then the srpm from
// the same Info, both with pack/rpm and one splice cache.
func buildRPMAndSource(info *pack.Info, dir string) (string, error) {
	work, err := os.MkdirTemp(dir, ".srpm-")
	if err != nil {
		return "", fmt.Errorf("rpm+srpm: %w", err)
	}
	defer os.RemoveAll(work)
	tarName, err := sourceRelease(info, work)
	if err != nil {
		return "", fmt.Errorf("rpm+srpm: %w", err)
	}
	top, err := rpmspec.Render(info, tarName)
	if err != nil {
		return "", err
	}
	p := rpm.Packager{Cache: splice.NewCache(filepath.Join(work, "splice"))}
	dst := filepath.Join(dir, p.FileName(info))
	if err := fsutil.WriteFile(dst, 0o644, func(f io.Writer) error { return p.Package(info, f) }); err != nil {
		return "", fmt.Errorf("rpm: %w", err)
	}
	src := filepath.Join(dir, p.SourceFileName(info))
	if err := fsutil.WriteFile(src, 0o644, func(f io.Writer) error { return p.Source(info, top, f) }); err != nil {
		return "", fmt.Errorf("srpm: %w", err)
	}
	return dst, nil
}

// sourceRelease writes the one-file source release that stands in for
// Source0 of the spec into dir.
func sourceRelease(info *pack.Info, dir string) (string, error) {
	tarName := filepath.Join(dir, info.Name+"-"+info.Version+".tar.gz")
	err := fsutil.WriteFile(tarName, 0o644, func(f io.Writer) error {
		return tarball.Write(f, tarball.Archive{
			Prefix:  info.Name + "-" + info.Version,
			MTime:   info.MTime,
			Entries: []tarball.Entry{{Name: "README", Data: []byte("bench payload\n"), Mode: 0o644}},
		})
	})
	if err != nil {
		return "", fmt.Errorf("source release: %w", err)
	}
	return tarName, nil
}

// buildRPMSpec is the rpmbuild builder: spec and SOURCES, then rpmbuild -ba.
func buildRPMSpec(ctx context.Context, info *pack.Info, dir string) (string, error) {
	top, err := os.MkdirTemp(dir, ".rpmbuild-")
	if err != nil {
		return "", fmt.Errorf("rpmspec: %w", err)
	}
	defer os.RemoveAll(top)
	tarName, err := sourceRelease(info, top)
	if err != nil {
		return "", fmt.Errorf("rpmspec: %w", err)
	}
	spec, err := rpmspec.Write(info, tarName, top)
	if err != nil {
		return "", err
	}
	bin, srpm, err := rpmspec.Build(ctx, top, spec, nil)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, filepath.Base(bin))
	for _, mv := range [][2]string{{srpm, filepath.Join(dir, filepath.Base(srpm))}, {bin, dst}} {
		if err := os.Rename(mv[0], mv[1]); err != nil {
			return "", fmt.Errorf("rpmspec: %w", err)
		}
	}
	return dst, nil
}
