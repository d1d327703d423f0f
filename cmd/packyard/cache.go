package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/packyard/packyard/internal/stagecache"
	"github.com/packyard/packyard/stage"
)

// cacheFlags say where packyard build keeps its stage cache, how large it
// may grow, or that it is not to be used.
type cacheFlags struct {
	dir, size string
	off       bool
}

func (f *cacheFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dir, "cache-dir", "", "the stage cache directory (default: $PACKYARD_CACHE_DIR, else the user cache directory's packyard/)")
	cmd.Flags().StringVar(&f.size, "cache-size", "", "the stage cache's size cap, e.g. 2GiB, 500MiB (default: $PACKYARD_CACHE_SIZE, else 2GiB)")
	cmd.Flags().BoolVar(&f.off, "no-cache", false, "run every stage, neither reading nor writing the stage cache (also: PACKYARD_NO_CACHE=1)")
}

// open opens the stage cache, or returns nil when it is off. A user
// without a cache directory (no HOME, as in some containers) builds
// without one, and is told so.
func (f *cacheFlags) open(getenv func(string) string, progress *stage.Progress) (*stagecache.Cache, error) {
	if f.off || isTrue(getenv("PACKYARD_NO_CACHE")) {
		return nil, nil
	}
	size := f.size
	if size == "" {
		size = getenv("PACKYARD_CACHE_SIZE")
	}
	max, err := parseSize(size)
	if err != nil {
		return nil, usagef("--cache-size: %v", err)
	}
	dir := f.dir
	if dir == "" {
		dir = getenv("PACKYARD_CACHE_DIR")
	}
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			progress.Note(fmt.Sprintf("stage cache off: %v (set --cache-dir or PACKYARD_CACHE_DIR)", err))
			return nil, nil
		}
		dir = filepath.Join(base, "packyard")
	}
	c, err := stagecache.Open(dir, max)
	if err != nil {
		return nil, err
	}
	c.Log = progress.Note
	return c, nil
}

func isTrue(s string) bool {
	b, err := strconv.ParseBool(s)
	return err == nil && b
}

// parseSize reads a byte count with an optional binary or decimal unit:
// 2GiB, 500MiB, 1G, 1048576; "" is the default cap (0).
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40}, {"B", 1},
	}
	mult := int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 2GiB or 500MiB", s)
	}
	return int64(n * float64(mult)), nil
}
