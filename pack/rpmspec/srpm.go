package rpmspec

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildSource runs `rpmbuild -bs` on the top dir written by Write and
// returns the srpm's path. It is how the pure-Go rpm builder still ships
// an SRPM: the spec and sources are the same ones rpmbuild -ba would use,
// and no compiler runs.
func BuildSource(ctx context.Context, topdir, specPath string, env []string) (string, error) {
	abs, err := filepath.Abs(topdir)
	if err != nil {
		return "", fmt.Errorf("rpmbuild -bs %s: %w", specPath, err)
	}
	argv := Argv("-bs", abs, specPath, "")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = env
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("rpmbuild -bs %s: %w\n%s", specPath, err, tail(out, 40))
	}
	for _, line := range strings.Split(string(out), "\n") {
		if p, ok := strings.CutPrefix(line, "Wrote: "); ok && strings.HasSuffix(p, ".src.rpm") {
			return p, nil
		}
	}
	return "", fmt.Errorf("rpmbuild -bs %s: no srpm in its output\n%s", specPath, tail(out, 40))
}
