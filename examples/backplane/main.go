// Command backplane is a small fleet daemon built the Choria way: its
// plugins are compiled in, chosen by packager/plugins.yaml and
// packager/user_plugins.yaml and wired up by generated plugin_*.go files in
// this directory. Without those files it still builds, with no plugins.
//
// Usage:
//
//	backplane buildinfo [--json]
//	backplane server [--config FILE] [--listen ADDR]
//	backplane broker [--config FILE] [--listen ADDR]
//	backplane --version
package main

// The word "plugin" in these directives is what `go generate --run plugin`
// (a buildspec pre command) matches.
//go:generate -command plugin packyard codegen
//go:generate plugin --dir .

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/acme/backplane/build"
	"github.com/acme/backplane/buildinfo"
	"github.com/acme/backplane/daemon"
	"github.com/acme/backplane/plugin"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  backplane buildinfo [--json]
  backplane server [--config FILE] [--listen ADDR]
  backplane broker [--config FILE] [--listen ADDR]
  backplane --version
`

// run is main without the exit, returning the exit code: 0 done, 1 failed,
// 2 usage error.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "--version", "-version", "version":
		fmt.Fprintln(stdout, build.Version)
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "buildinfo":
		return runBuildinfo(args[1:], stdout, stderr)
	case "server", "broker":
		return runDaemon(args[0], args[1:], stderr)
	default:
		fmt.Fprintf(stderr, "backplane: unknown command %q\n%s", args[0], usage)
		return 2
	}
}

func runBuildinfo(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("buildinfo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	bi, _ := debug.ReadBuildInfo()
	info := buildinfo.Collect(plugin.Registered(), bi)
	write := buildinfo.WriteText
	if *asJSON {
		write = buildinfo.WriteJSON
	}
	if err := write(stdout, info); err != nil {
		fmt.Fprintf(stderr, "backplane: %v\n", err)
		return 1
	}
	return 0
}

func runDaemon(role string, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet(role, flag.ContinueOnError)
	fs.SetOutput(stderr)
	defaultConfig := filepath.Join(build.ConfigDir, role+".conf")
	config := fs.String("config", defaultConfig, "configuration file")
	listen := fs.String("listen", "", "address to listen on, overriding the configuration")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	logger := log.New(stderr, "backplane: ", log.LstdFlags)
	// The packaged default file is optional; a file named on the command
	// line must exist.
	cfg, err := daemon.LoadConfig(*config, daemon.DefaultConfig(role), *config == defaultConfig)
	if err != nil {
		logger.Print(err)
		return 2
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := daemon.Run(ctx, role, cfg, logger, nil); err != nil && !errors.Is(err, context.Canceled) {
		logger.Print(err)
		return 1
	}
	return 0
}
