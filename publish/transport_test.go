package publish

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRetries checks which responses are retried, how often and how
// long the waits are, against a server that answers from a script.
func TestRetries(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		header    http.Header // sent with every scripted response
		wantTries int
		wantErr   string // "" for success
		wantWaits []time.Duration
	}{
		{"ok", []int{200}, nil, 1, "", nil},
		{"503 then ok", []int{503, 502, 200}, nil, 3, "", nil},
		{"429 with Retry-After", []int{429, 200}, http.Header{"Retry-After": {"2"}}, 2, "", []time.Duration{2 * time.Second}},
		{"Retry-After capped", []int{503, 200}, http.Header{"Retry-After": {"3600"}}, 2, "", []time.Duration{10 * time.Second}},
		{"bounded", []int{500, 500, 500, 500, 500, 500}, nil, 4, "after 4 tries: PUT %s: 500 Internal Server Error", nil},
		{"401 not retried", []int{401, 200}, nil, 1, "PUT %s: 401 Unauthorized (check the credentials", nil},
		{"403 not retried", []int{403, 200}, nil, 1, "PUT %s: 403 Forbidden", nil},
		{"404 not retried", []int{404, 200}, nil, 1, "not found", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			tries := 0
			var auth []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				status := tt.statuses[min(tries, len(tt.statuses)-1)]
				tries++
				auth = append(auth, r.Header.Get("Authorization"))
				mu.Unlock()
				for k, v := range tt.header {
					w.Header()[k] = v
				}
				w.WriteHeader(status)
			}))
			defer srv.Close()
			var waits []time.Duration
			tr := &Transport{
				Auth: Auth{Token: "tok-SECRET"}, Attempts: 4, Backoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second,
				sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil },
			}
			local := filepath.Join(t.TempDir(), "f")
			os.WriteFile(local, []byte("data"), 0o644)
			d, _ := fileDigests(local)
			u, _ := url.Parse(srv.URL + "/repo/f")
			err := tr.Put(context.Background(), u, local, d)
			if tries != tt.wantTries {
				t.Errorf("%d tries, want %d", tries, tt.wantTries)
			}
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != "" {
				want := tt.wantErr
				if strings.Contains(want, "%s") {
					want = fmt.Sprintf(want, u)
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("err = %v, want one containing %q", err, want)
				}
				if strings.Contains(err.Error(), "SECRET") {
					t.Errorf("the error shows the token: %v", err)
				}
			}
			if tt.wantWaits != nil && fmt.Sprint(waits) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits %v, want %v", waits, tt.wantWaits)
			}
			if len(waits) != tt.wantTries-1 && tt.wantErr == "" {
				t.Errorf("%d waits for %d tries", len(waits), tt.wantTries)
			}
			for i, w := range waits {
				if ceil := min(100*time.Millisecond<<i, 10*time.Second); tt.header == nil && (w <= 0 || w > ceil) {
					t.Errorf("wait %d is %v, want within (0, %v]", i, w, ceil)
				}
			}
			for _, a := range auth {
				if a != "Bearer tok-SECRET" {
					t.Errorf("Authorization %q", a)
				}
			}
		})
	}
}

// TestManyAttempts checks that a long retry budget keeps its waits
// within MaxBackoff, with no overflow of the doubling.
func TestManyAttempts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
	defer srv.Close()
	var waits []time.Duration
	tr := &Transport{Attempts: 80, Backoff: time.Second, MaxBackoff: time.Minute,
		sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	u, _ := url.Parse(srv.URL)
	if _, err := tr.Fetch(context.Background(), u); err == nil || !strings.Contains(err.Error(), "after 80 tries") {
		t.Fatalf("err = %v", err)
	}
	for i, w := range waits {
		if w <= 0 || w > time.Minute {
			t.Fatalf("wait %d = %v", i, w)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"-1", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.v, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// TestAuthNeverPrinted checks that credentials do not show in the ways a
// value is printed by mistake.
func TestAuthNeverPrinted(t *testing.T) {
	a := Auth{Username: "ci", Password: "hunter2", Token: ""}
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%v %+v %#v %s", a, a, a, a)} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("printed %q", s)
		}
	}
	tr := Transport{Auth: Auth{Token: "tok-SECRET"}}
	if s := fmt.Sprintf("%v %+v", tr, &tr); strings.Contains(s, "tok-SECRET") {
		t.Errorf("printed %q", s)
	}
}

// TestFileTransport uploads to a file:// directory: atomic, idempotent,
// conflicts unless overwrite.
func TestFileTransport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	remote := filepath.Join(t.TempDir(), "repo")
	tr := &Transport{}
	u := &url.URL{Scheme: "file", Path: remote + "/a/b/pkg.rpm"}
	one, two := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	os.WriteFile(one, []byte("one"), 0o600)
	os.WriteFile(two, []byte("two"), 0o600)

	steps := []struct {
		local     string
		policy    Policy
		overwrite bool
		want      State
		wantErr   error
		content   string
	}{
		{one, Immutable, false, Missing, nil, "one"},
		{one, Immutable, false, Same, nil, "one"},
		{two, Immutable, false, Different, ErrConflict, "one"},
		{two, Immutable, true, Different, nil, "two"},
		{one, Replace, false, Different, nil, "one"},
	}
	for i, s := range steps {
		st, err := tr.Upload(ctx, u, s.local, s.policy, s.overwrite)
		if st != s.want || !errors.Is(err, s.wantErr) {
			t.Errorf("step %d: state %v, err %v; want %v, %v", i, st, err, s.want, s.wantErr)
		}
		b, _ := os.ReadFile(filepath.Join(remote, "a", "b", "pkg.rpm"))
		if string(b) != s.content {
			t.Errorf("step %d: remote holds %q, want %q", i, b, s.content)
		}
	}
	fi, err := os.Stat(filepath.Join(remote, "a", "b", "pkg.rpm"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, err %v: want 0644", fi.Mode(), err)
	}
	entries, _ := os.ReadDir(filepath.Join(remote, "a", "b"))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if _, err := tr.Fetch(ctx, &url.URL{Scheme: "file", Path: remote + "/nope"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch of a missing file: %v, want ErrNotFound", err)
	}
}

// TestNginxUpload runs the transport against a real WebDAV server:
// upload, an unchanged rerun that sends nothing, a conflict, overwrite,
// and a wrong password that fails at once without showing it.
func TestNginxUpload(t *testing.T) {
	ctx := context.Background()
	srv := startNginx(t)
	counter := startFaultyProxy(t, srv.URL, 0)
	tr := nginxTransport(srv)
	dir := t.TempDir()
	one, two := filepath.Join(dir, "one"), filepath.Join(dir, "two")
	os.WriteFile(one, []byte("version one"), 0o644)
	os.WriteFile(two, []byte("version two!"), 0o644)
	base, _ := url.Parse(counter.URL + "el/el8/")
	u := At(base, "backplane-1.2.0~rc1-1.el8.x86_64.rpm")

	if st, err := tr.Upload(ctx, u, one, Immutable, false); err != nil || st != Missing {
		t.Fatalf("first upload: %v, %v", st, err)
	}
	served := filepath.Join(srv.Root, "el", "el8", "backplane-1.2.0~rc1-1.el8.x86_64.rpm")
	if b, err := os.ReadFile(served); err != nil || string(b) != "version one" {
		t.Fatalf("served file %q, %v", b, err)
	}
	puts := counter.requests("PUT")
	if st, err := tr.Upload(ctx, u, one, Immutable, false); err != nil || st != Same {
		t.Fatalf("rerun: %v, %v", st, err)
	}
	if n := counter.requests("PUT"); n != puts {
		t.Errorf("the unchanged rerun sent %d PUTs", n-puts)
	}
	if _, err := tr.Upload(ctx, u, two, Immutable, false); !errors.Is(err, ErrConflict) {
		t.Fatalf("different file: %v, want ErrConflict", err)
	}
	if _, err := tr.Upload(ctx, u, two, Immutable, true); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if b, _ := os.ReadFile(served); string(b) != "version two!" {
		t.Errorf("after overwrite the server holds %q", b)
	}
	b, err := tr.Fetch(ctx, u)
	if err != nil || string(b) != "version two!" {
		t.Errorf("Fetch: %q, %v", b, err)
	}
	if _, err := tr.Fetch(ctx, At(base, "nope")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Fetch of a missing file: %v", err)
	}

	bad := nginxTransport(srv)
	bad.Auth.Password = "wrong-Pa55word"
	puts = counter.requests("PUT")
	_, err = bad.Upload(ctx, At(base, "other.rpm"), one, Immutable, false)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v, want a 401", err)
	}
	if n := counter.requests("PUT"); n != puts+1 {
		t.Errorf("a 401 was tried %d times, want once", n-puts)
	}
	if !strings.Contains(err.Error(), At(base, "other.rpm").String()) || strings.Contains(err.Error(), "Pa55") {
		t.Errorf("error %q: want the URL and no password", err)
	}
}

// TestFaultyServer publishes through a proxy that fails 30% of the
// requests with a 500 or a reset connection: every file arrives whole.
func TestFaultyServer(t *testing.T) {
	ctx := context.Background()
	srv := startNginx(t)
	proxy := startFaultyProxy(t, srv.URL, 0.3)
	tr := nginxTransport(srv)
	tr.Attempts = 12
	var mu sync.Mutex
	retries := 0
	tr.Logf = func(format string, args ...any) {
		if strings.HasPrefix(format, "retry") {
			mu.Lock()
			retries++
			mu.Unlock()
		}
	}
	dir := t.TempDir()
	base, _ := url.Parse(proxy.URL + "files/")
	for i := range 20 {
		name := fmt.Sprintf("file-%02d", i)
		local := filepath.Join(dir, name)
		os.WriteFile(local, []byte(strings.Repeat(name, 1000*(i+1))), 0o644)
		if _, err := tr.Upload(ctx, At(base, name), local, Immutable, false); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := os.ReadFile(filepath.Join(srv.Root, "files", name))
		if err != nil || string(got) != strings.Repeat(name, 1000*(i+1)) {
			t.Fatalf("%s arrived as %d bytes (%v)", name, len(got), err)
		}
	}
	faults, total := proxy.counts()
	t.Logf("%d requests, faults %v, %d retries", total, faults, retries)
	// net/http itself retries a request whose reused connection was
	// reset before any response, so not every fault reaches the Transport.
	if faults["500"] == 0 || faults["reset"] == 0 || retries < faults["500"] || retries > faults["500"]+faults["reset"] {
		t.Errorf("faults %v and %d retries: want both kinds injected, every 500 retried", faults, retries)
	}
}

// TestCompare checks how a remote file is compared without downloading
// it when the server says enough: a server's X-Checksum-Sha256 or a
// different size decides at HEAD; otherwise, or when HEAD is not
// allowed, a GET is hashed. When the remote index lists the file with
// the local checksum (UploadListed), a HEAD that finds the size is
// enough: the index, which clients check the file against, is trusted.
func TestCompare(t *testing.T) {
	local := filepath.Join(t.TempDir(), "f")
	os.WriteFile(local, []byte("the content"), 0o644)
	d, _ := fileDigests(local)
	tests := []struct {
		name     string
		head     func(w http.ResponseWriter)
		body     string
		want     State
		wantGETs int
		// listedGETs are the GETs of UploadListed with the local sum,
		// which gives want too.
		listedGETs int
	}{
		{"checksum header same", func(w http.ResponseWriter) { w.Header().Set("X-Checksum-Sha256", d.sha256) }, "", Same, 0, 0},
		{"checksum header differs", func(w http.ResponseWriter) { w.Header().Set("X-Checksum-Sha256", strings.Repeat("0", 64)) }, "", Different, 0, 0},
		{"size differs", func(w http.ResponseWriter) { w.Header().Set("Content-Length", "3") }, "", Different, 0, 0},
		{"same size, same content", func(w http.ResponseWriter) { w.Header().Set("Content-Length", "11") }, "the content", Same, 1, 0},
		{"HEAD not allowed", func(w http.ResponseWriter) { w.WriteHeader(http.StatusMethodNotAllowed) }, "the content", Same, 1, 1},
		{"missing", func(w http.ResponseWriter) { w.WriteHeader(http.StatusNotFound) }, "", Missing, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gets := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.Method {
				case http.MethodHead:
					tt.head(w)
				case http.MethodGet:
					gets++
					w.Write([]byte(tt.body))
				}
			}))
			defer srv.Close()
			u, _ := url.Parse(srv.URL + "/f")
			st, err := (&Transport{}).Compare(context.Background(), u, d)
			if err != nil || st != tt.want || gets != tt.wantGETs {
				t.Errorf("Compare = %v, %v with %d GETs; want %v with %d", st, err, gets, tt.want, tt.wantGETs)
			}
			gets = 0
			st, err = (&Transport{}).UploadListed(context.Background(), u, local, Immutable, false, d.sha256)
			if tt.want == Different && errors.Is(err, ErrConflict) {
				err = nil
			}
			if err != nil || st != tt.want || gets != tt.listedGETs {
				t.Errorf("UploadListed = %v, %v with %d GETs; want %v with %d", st, err, gets, tt.want, tt.listedGETs)
			}
		})
	}
	// Without the index's word, a file of the same size is downloaded
	// and found different.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "11")
		if r.Method == http.MethodGet {
			w.Write([]byte("the_content"))
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/f")
	if st, err := (&Transport{}).Compare(context.Background(), u, d); err != nil || st != Different {
		t.Errorf("same size, other content: Compare = %v, %v; want Different", st, err)
	}
	if _, err := (&Transport{}).UploadListed(context.Background(), u, local, Immutable, false, strings.Repeat("0", 64)); !errors.Is(err, ErrConflict) {
		t.Errorf("same size, other content, listed with another sum: %v, want a conflict", err)
	}
}

// TestTimeoutRetried checks that a request that times out (here the
// client's own timeout, as a stalled server causes) is tried again.
func TestTimeoutRetried(t *testing.T) {
	var mu sync.Mutex
	tries := 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tries++
		first := tries == 1
		mu.Unlock()
		if first {
			<-release // stall the first request past the client's timeout
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	defer close(release)
	tr := &Transport{Client: &http.Client{Timeout: 100 * time.Millisecond}, Backoff: time.Millisecond}
	u, _ := url.Parse(srv.URL + "/f")
	b, err := tr.Fetch(context.Background(), u)
	mu.Lock()
	n := tries
	mu.Unlock()
	if err != nil || string(b) != "ok" || n != 2 {
		t.Errorf("Fetch = %q, %v after %d tries; want ok after 2", b, err, n)
	}
}
