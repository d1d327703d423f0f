// Command packyard turns a Go project and its packager/buildspec.yaml into
// release artifacts. Each stage of the pipeline is a subcommand; build
// runs them all in-process, with no container engine.
//
// Exit codes: 0 done, 1 a stage failed, 2 a usage or configuration error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Packyard's own version, set with -ldflags -X by its own build spec
// (packager/buildspec.yaml at the repository root).
var (
	Version   = "development"
	Commit    = "unknown"
	BuildTime = "unknown"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	root := newRoot(stdout, stderr, getenv)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintf(stderr, "packyard: %v\n", err)
	return exitCode(err)
}

// usageError is a command line the commands cannot take.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode is 2 for errors in what the user asked for or wrote (flags,
// spec, manifests, templates, versions) and 1 for a stage that failed.
func exitCode(err error) int {
	if isConfigError(err) {
		return 2
	}
	var u usageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}
