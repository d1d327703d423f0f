// Package ping is a default Backplane plugin that answers liveness probes.
// It registers itself from init, so a blank import is all it takes.
package ping

import (
	"net/http"

	"github.com/acme/backplane/plugin"
)

func init() {
	// A failed registration means the binary was assembled wrong (the
	// same plugin twice); there is no caller to report to from init.
	if err := plugin.Register("ping", Ping{}); err != nil {
		panic(err)
	}
}

// Ping answers every request with "pong".
type Ping struct{}

// Name implements plugin.Plugin.
func (Ping) Name() string { return "ping" }

// ServeHTTP answers "pong".
func (Ping) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("pong\n"))
}
