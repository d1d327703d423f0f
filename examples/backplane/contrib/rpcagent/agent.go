// Package rpcagent is a custom Backplane RPC agent kept in its own module,
// as a third party would ship it. It does not import Backplane: it satisfies
// Backplane's plugin.Plugin and net/http.Handler interfaces structurally, and
// the main module's generated init registers it (see
// packager/user_plugins.yaml), so the two modules never depend on each other
// in a cycle.
package rpcagent

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Agent answers JSON RPC requests: POST {"action": "echo"|"upper", "data": "..."}.
type Agent struct{}

// New returns the agent.
func New() *Agent { return &Agent{} }

// Name is the agent's name.
func (*Agent) Name() string { return "rpcagent" }

// Request is one RPC call.
type Request struct {
	Action string `json:"action"`
	Data   string `json:"data"`
}

// Reply is the answer to a Request.
type Reply struct {
	Data  string `json:"data,omitempty"`
	Error string `json:"error,omitempty"`
}

// Call runs one action.
func (*Agent) Call(req Request) (Reply, error) {
	switch req.Action {
	case "echo":
		return Reply{Data: req.Data}, nil
	case "upper":
		return Reply{Data: strings.ToUpper(req.Data)}, nil
	default:
		return Reply{}, fmt.Errorf("rpcagent: unknown action %q", req.Action)
	}
}

// ServeHTTP decodes a Request from the body and writes the Reply.
func (a *Agent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST a JSON request", http.StatusMethodNotAllowed)
		return
	}
	var req Request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	rep, err := a.Call(req)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		rep.Error = err.Error()
	}
	_ = json.NewEncoder(w).Encode(rep)
}
