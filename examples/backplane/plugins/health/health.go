// Package health is a default Backplane plugin that reports the daemon's
// health as JSON. It registers itself from init.
package health

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/acme/backplane/plugin"
)

func init() {
	if err := plugin.Register("health", New()); err != nil {
		panic(err)
	}
}

// Health reports status and uptime.
type Health struct {
	started time.Time
}

// New returns a Health whose uptime counts from now.
func New() *Health { return &Health{started: time.Now()} }

// Name implements plugin.Plugin.
func (*Health) Name() string { return "health" }

// ServeHTTP writes {"status":"ok","uptime_seconds":N}.
func (h *Health) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Status string `json:"status"`
		Uptime int64  `json:"uptime_seconds"`
	}{"ok", int64(time.Since(h.started).Seconds())})
}
