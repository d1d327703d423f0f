package daemon

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/backplane/plugin"
)

func TestLoadConfig(t *testing.T) {
	base := Config{Listen: "127.0.0.1:1", Identity: "base"}
	tests := []struct {
		name, body string
		want       Config
		wantErr    string
	}{
		{"empty", "", base, ""},
		{"values", "# c\n\nlisten = 127.0.0.1:9\nidentity=n1\n", Config{Listen: "127.0.0.1:9", Identity: "n1"}, ""},
		{"unknown", "listen = 127.0.0.1:9\nport = 3\n", base, ":2: unknown setting \"port\""},
		{"no equals", "listen\n", base, ":1: want key = value"},
		{"bad listen", "listen = nowhere\n", base, ":1: listen:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "server.conf")
			if err := os.WriteFile(path, []byte(tt.body), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := LoadConfig(path, base, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), path+tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, path+tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "none.conf")
	if got, err := LoadConfig(missing, base, true); err != nil || got != base {
		t.Errorf("optional missing: %+v, %v", got, err)
	}
	if _, err := LoadConfig(missing, base, false); err == nil {
		t.Error("required missing file: no error")
	}
}

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var logs bytes.Buffer
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, "server", Config{Listen: "127.0.0.1:0", Identity: "t1"}, log.New(&logs, "", 0), func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("Run: %v", err)
	}
	for path, want := range map[string]string{
		"/healthz": "ok\n",
		"/version": `"identity":"t1"`,
	} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}
	if !strings.Contains(logs.String(), "listening on "+addr) || !strings.Contains(logs.String(), "stopping") {
		t.Errorf("logs: %s", logs.String())
	}
}

type echoPlugin struct{}

func (echoPlugin) Name() string { return "echo" }

func (echoPlugin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = w.Write([]byte("echo " + r.URL.Path))
}

type plainPlugin struct{}

func (plainPlugin) Name() string { return "plain" }

func TestHandlerServesPlugins(t *testing.T) {
	h := Handler("broker", Config{Identity: "b1"}, []plugin.Info{
		{Name: "echo", Plugin: echoPlugin{}},
		{Name: "plain", Plugin: plainPlugin{}},
	})
	tests := []struct {
		path     string
		code     int
		wantBody string
	}{
		{"/plugins/echo/x/y", 200, "echo /x/y"},
		{"/plugins/plain/", 404, ""},
		{"/version", 200, `"plugins":["echo","plain"]`},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
		if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.wantBody) {
			t.Errorf("GET %s = %d %q, want %d %q", tt.path, rec.Code, rec.Body.String(), tt.code, tt.wantBody)
		}
	}
}
