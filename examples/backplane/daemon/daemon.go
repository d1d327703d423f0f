// Package daemon is Backplane's long-running process: a small HTTP service
// that serves the registered plugins, used by both the server and the
// broker roles.
package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/acme/backplane/build"
	"github.com/acme/backplane/plugin"
)

// Config is a role's configuration.
type Config struct {
	// Listen is the TCP address to serve on.
	Listen string
	// Identity names this node in logs and /version.
	Identity string
}

// DefaultConfig is the configuration of role when its file sets nothing.
func DefaultConfig(role string) Config {
	host, _ := os.Hostname()
	c := Config{Listen: "127.0.0.1:8222", Identity: host}
	if role == "broker" {
		c.Listen = "127.0.0.1:4222"
	}
	return c
}

// LoadConfig reads a Choria-like "key = value" file over base. Blank lines
// and lines starting with # are ignored. When optional is true a missing
// file leaves base as is, so that a package's default path need not exist.
func LoadConfig(path string, base Config, optional bool) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return base, nil
		}
		return base, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	c := base
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return base, fmt.Errorf("%s:%d: want key = value", path, n)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "listen":
			if _, _, err := net.SplitHostPort(value); err != nil {
				return base, fmt.Errorf("%s:%d: listen: %w", path, n, err)
			}
			c.Listen = value
		case "identity":
			c.Identity = value
		default:
			return base, fmt.Errorf("%s:%d: unknown setting %q", path, n, key)
		}
	}
	if err := sc.Err(); err != nil {
		return base, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Handler is the daemon's HTTP interface: /healthz, /version, and each
// plugin that is an http.Handler under /plugins/NAME/.
func Handler(role string, cfg Config, plugins []plugin.Info) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	names := make([]string, 0, len(plugins))
	for _, p := range plugins {
		names = append(names, p.Name)
	}
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"role": role, "identity": cfg.Identity, "version": build.Version, "plugins": names,
		})
	})
	for _, p := range plugins {
		if h, ok := p.Plugin.(http.Handler); ok {
			prefix := "/plugins/" + p.Name
			mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
		}
	}
	return mux
}

// Run serves role until ctx is done, then shuts down gracefully. When ready
// is not nil it receives the bound address once the listener is open, which
// lets callers use port 0.
func Run(ctx context.Context, role string, cfg Config, logger *log.Logger, ready func(addr string)) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("%s: %w", role, err)
	}
	plugins := plugin.Registered()
	srv := &http.Server{
		Handler:           Handler(role, cfg, plugins),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	logger.Printf("backplane %s %s (%s) listening on %s with %d plugins", role, build.Version, cfg.Identity, ln.Addr(), len(plugins))
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("%s: %w", role, err)
	case <-ctx.Done():
	}
	logger.Printf("backplane %s stopping", role)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("%s: shutdown: %w", role, err)
	}
	return nil
}
