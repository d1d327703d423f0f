package rpcagent

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestServeHTTP(t *testing.T) {
	tests := []struct {
		name, method, body string
		wantCode           int
		wantBody           string
	}{
		{"echo", "POST", `{"action":"echo","data":"hi"}`, 200, `{"data":"hi"}`},
		{"upper", "POST", `{"action":"upper","data":"hi"}`, 200, `{"data":"HI"}`},
		{"unknown action", "POST", `{"action":"nope"}`, 400, `{"error":"rpcagent: unknown action \"nope\""}`},
		{"bad json", "POST", `{`, 400, "bad request"},
		{"get", "GET", "", 405, "POST a JSON request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			New().ServeHTTP(rec, httptest.NewRequest(tt.method, "/", strings.NewReader(tt.body)))
			if rec.Code != tt.wantCode {
				t.Errorf("code = %d, want %d", rec.Code, tt.wantCode)
			}
			if got := strings.TrimSpace(rec.Body.String()); !strings.HasPrefix(got, tt.wantBody) {
				t.Errorf("body = %q, want prefix %q", got, tt.wantBody)
			}
		})
	}
	if New().Name() != "rpcagent" {
		t.Errorf("Name() = %q", New().Name())
	}
	var _ http.Handler = New()
}
