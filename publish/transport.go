package publish

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNotFound is what Fetch returns for a remote file that does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is what Upload returns when a different file already has
// the name, and the caller did not ask to overwrite it.
var ErrConflict = errors.New("a different file already exists there")

// Auth holds the credentials a Transport sends: a username and password
// (Basic) or a token (Bearer). It formats as a description only, so that
// printing it by mistake leaks nothing.
type Auth struct {
	Username, Password, Token string
}

// String says which kind of auth it is, never the secret.
func (a Auth) String() string {
	switch {
	case a.Token != "":
		return "bearer token"
	case a.Username != "":
		return "basic auth as " + a.Username
	}
	return "no auth"
}

// GoString is String, for %#v.
func (a Auth) GoString() string { return a.String() }

// Transport reads and writes the files of a remote repository: file://
// directories, written atomically, and http(s):// servers that take PUT
// (WebDAV, Artifactory, Nexus raw, S3-style gateways). Requests that fail
// transiently are retried, a bounded number of times, with backoff.
type Transport struct {
	// Client sends the requests; nil means a client with connect and
	// response-header timeouts (an upload itself may take long).
	Client *http.Client
	Auth   Auth
	// Attempts bounds the tries of one request; 0 means 5.
	Attempts int
	// Backoff is the first wait between tries, doubled each time up to
	// MaxBackoff, with full jitter; 0 means 500ms and 20s.
	Backoff, MaxBackoff time.Duration
	// DryRun makes writes print what they would do; reads still happen,
	// so that a dry run shows what a real one would change.
	DryRun bool
	// Logf prints progress; nil prints nothing. It never sees secrets.
	Logf func(format string, args ...any)
	// Stats count what the Transport did so far.
	Stats Stats
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

func (t *Transport) logf(format string, args ...any) {
	if t.Logf != nil {
		t.Logf(format, args...)
	}
}

// client is Client, made on first use so that the connections of one
// publish are reused. A Transport is used by one goroutine at a time.
func (t *Transport) client() *http.Client {
	if t.Client == nil {
		t.Client = defaultClient()
	}
	return t.Client
}

func defaultClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		MaxIdleConnsPerHost:   4,
	}}
}

// Stats count the work of a Transport, for the publish report: they are
// how a benchmark or a user sees that a rerun sent no package again.
type Stats struct {
	// Requests are the HTTP requests sent, each try of a retried one
	// counted; for file:// the files read, compared or written.
	Requests int
	// Sent is the bytes of the request bodies (each try counted); for
	// file:// the bytes written.
	Sent int64
	// Uploaded counts the files written (in a dry run: that would be),
	// Unchanged those the remote had already, which were not sent.
	Uploaded, Unchanged int
}

// HTTPError is a response that ended a request: a status that is not
// retried, or the last of the retries. It names the method and the URL,
// which never holds credentials.
type HTTPError struct {
	Method, URL string
	Status      int
	Reason      string // the status line's text, e.g. 401 Unauthorized
	Detail      string // an API's own error message, if it sent one
}

func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("%s %s: %s", e.Method, e.URL, e.Reason)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	switch e.Status {
	case http.StatusUnauthorized:
		msg += " (check the credentials in the target's username_env/password_env or token_env)"
	case http.StatusForbidden:
		msg += " (the credentials may not write here)"
	}
	return msg
}

// digests are the checksums of a local file, sent as the
// X-Checksum-* headers that Artifactory and Nexus verify.
type digests struct {
	sha256, sha1, md5 string
	size              int64
}

func fileDigests(name string) (digests, error) {
	f, err := os.Open(name)
	if err != nil {
		return digests{}, err
	}
	defer f.Close()
	h256, h1, h5 := sha256.New(), sha1.New(), md5.New()
	n, err := io.Copy(io.MultiWriter(h256, h1, h5), f)
	if err != nil {
		return digests{}, fmt.Errorf("read %s: %w", name, err)
	}
	hexsum := func(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }
	return digests{sha256: hexsum(h256), sha1: hexsum(h1), md5: hexsum(h5), size: n}, nil
}

// State is how a remote file compares with a local one.
type State int

const (
	Missing   State = iota // no remote file of the name
	Same                   // the remote file has the same content
	Different              // the remote file's content differs
)

// Fetch returns the content of the remote file u, or ErrNotFound.
func (t *Transport) Fetch(ctx context.Context, u *url.URL) ([]byte, error) {
	if u.Scheme == "file" {
		t.Stats.Requests++
		b, err := os.ReadFile(filepath.FromSlash(u.Path))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", u.Redacted(), ErrNotFound)
		}
		return b, err
	}
	resp, err := t.do(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	return b, nil
}

// Compare says whether the remote file u has the content of the local
// file whose digests are d: a HEAD first (the size, or a server's
// X-Checksum-Sha256, decides most cases), then a GET hashed on the fly.
func (t *Transport) Compare(ctx context.Context, u *url.URL, d digests) (State, error) {
	if u.Scheme == "file" {
		t.Stats.Requests++
		rd, err := fileDigests(filepath.FromSlash(u.Path))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return Missing, nil
		case err != nil:
			return 0, err
		case rd.sha256 == d.sha256:
			return Same, nil
		}
		return Different, nil
	}
	resp, err := t.do(ctx, http.MethodHead, u, nil)
	if errors.Is(err, ErrNotFound) {
		return Missing, nil
	}
	var he *HTTPError
	if errors.As(err, &he) && he.Status == http.StatusMethodNotAllowed {
		resp, err = nil, nil // some servers take no HEAD: compare by GET
	} else if err != nil {
		return 0, err
	}
	if resp != nil {
		resp.Body.Close()
		if sum := resp.Header.Get("X-Checksum-Sha256"); len(sum) == 64 {
			if strings.EqualFold(sum, d.sha256) {
				return Same, nil
			}
			return Different, nil
		}
		if resp.ContentLength >= 0 && resp.ContentLength != d.size {
			return Different, nil
		}
	}
	resp, err = t.do(ctx, http.MethodGet, u, nil)
	if errors.Is(err, ErrNotFound) {
		return Missing, nil
	}
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	h := sha256.New()
	if _, err := io.Copy(h, resp.Body); err != nil {
		return 0, fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	if hex.EncodeToString(h.Sum(nil)) == d.sha256 {
		return Same, nil
	}
	return Different, nil
}

// present returns Same when a HEAD finds the remote file u with the size
// of the local file whose digests are d (or a server's X-Checksum-Sha256
// equal to its sha256), and Missing otherwise, for Compare to decide.
func (t *Transport) present(ctx context.Context, u *url.URL, d digests) (State, error) {
	resp, err := t.do(ctx, http.MethodHead, u, nil)
	var he *HTTPError
	switch {
	case errors.Is(err, ErrNotFound), errors.As(err, &he) && he.Status == http.StatusMethodNotAllowed:
		return Missing, nil
	case err != nil:
		return 0, err
	}
	resp.Body.Close()
	if sum := resp.Header.Get("X-Checksum-Sha256"); len(sum) == 64 {
		if strings.EqualFold(sum, d.sha256) {
			return Same, nil
		}
		return Missing, nil
	}
	if resp.ContentLength == d.size {
		return Same, nil
	}
	return Missing, nil
}

// Put writes the local file to u: into place with a rename for file://,
// so that readers never see a partial file, and with PUT for http(s).
func (t *Transport) Put(ctx context.Context, u *url.URL, local string, d digests) error {
	t.Stats.Uploaded++
	if t.DryRun {
		t.logf("would upload %s (%s)", u.Redacted(), size(d.size))
		return nil
	}
	t.logf("upload %s (%s)", u.Redacted(), size(d.size))
	if u.Scheme == "file" {
		t.Stats.Requests++
		t.Stats.Sent += d.size
		return putFile(filepath.FromSlash(u.Path), local)
	}
	resp, err := t.do(ctx, http.MethodPut, u, &body{
		open: func() (io.ReadCloser, error) { return os.Open(local) }, size: d.size, digests: &d,
	})
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// Policy says what Upload does with a different remote file of the name.
type Policy int

const (
	// Immutable files (packages, release files) fail with ErrConflict.
	Immutable Policy = iota
	// Replace files (indexes, their signatures) are meant to change.
	Replace
)

// Upload puts local at u unless the remote file is the same already: an
// unchanged remote file is not sent again, so a rerun uploads nothing.
// A different remote file is replaced when policy is Replace or
// overwrite is set, and is otherwise an ErrConflict.
func (t *Transport) Upload(ctx context.Context, u *url.URL, local string, policy Policy, overwrite bool) (State, error) {
	return t.UploadListed(ctx, u, local, policy, overwrite, "")
}

// UploadListed is Upload for a file that the remote repository's index
// lists with the sha256 listed: when that is the local file's, a remote
// file of the same size, which a HEAD says, is taken as the same without
// being downloaded and hashed, so that a rerun reads the indexes and no
// package. Otherwise, or when the remote file's size differs or it is
// missing, the file is compared and sent as by Upload.
func (t *Transport) UploadListed(ctx context.Context, u *url.URL, local string, policy Policy, overwrite bool, listed string) (State, error) {
	d, err := fileDigests(local)
	if err != nil {
		return 0, err
	}
	st := Missing
	if strings.EqualFold(listed, d.sha256) && u.Scheme != "file" {
		if st, err = t.present(ctx, u, d); err != nil {
			return 0, err
		}
	}
	if st != Same {
		if st, err = t.Compare(ctx, u, d); err != nil {
			return 0, err
		}
	}
	switch {
	case st == Same:
		t.Stats.Unchanged++
		t.logf("unchanged %s", u.Redacted())
		return st, nil
	case st == Different && policy == Immutable && !overwrite:
		return st, fmt.Errorf("%s: %w (use --overwrite to replace it)", u.Redacted(), ErrConflict)
	}
	return st, t.Put(ctx, u, local, d)
}

// putFile copies local to name through a temporary file in name's
// directory and a rename.
func putFile(name, local string) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	src, err := os.Open(local)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, a no-op
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}

// retryStatus says whether a response status is worth asking again: the
// server's trouble (5xx), too many requests (429) and a request timeout
// (408). Other statuses (401, 403, 404, ...) will not change by asking
// again.
func retryStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

// do sends one request, retried while it fails transiently: on 5xx, 408, 429,
// a connection reset or refused, or a timeout, up to Attempts tries with
// exponential backoff and full jitter (or the server's Retry-After).
// Other statuses fail at once: a 401, 403 or 404 will not change by
// asking again. A 404 is ErrNotFound. body reopens the upload for each
// try.
func (t *Transport) do(ctx context.Context, method string, u *url.URL, b *body) (*http.Response, error) {
	attempts := t.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	where := method + " " + u.Redacted()
	for try := 1; ; try++ {
		resp, err := t.send(ctx, method, u, b)
		var wait time.Duration
		var why string
		switch {
		case err != nil:
			if ctx.Err() != nil || !transient(err) {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			why = err.Error()
		case resp.StatusCode == http.StatusNotFound:
			resp.Body.Close()
			return nil, fmt.Errorf("%s: %w", where, ErrNotFound)
		case retryStatus(resp.StatusCode):
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			why = resp.Status
			wait = retryAfter(resp.Header.Get("Retry-After"), time.Now())
			err = &HTTPError{Method: method, URL: u.Redacted(), Status: resp.StatusCode, Reason: resp.Status}
		case resp.StatusCode >= 300:
			detail := apiError(resp.Body)
			resp.Body.Close()
			return nil, &HTTPError{Method: method, URL: u.Redacted(), Status: resp.StatusCode, Reason: resp.Status, Detail: detail}
		default:
			return resp, nil
		}
		if try >= attempts {
			if _, ok := err.(*HTTPError); ok {
				return nil, fmt.Errorf("after %d tries: %w", try, err)
			}
			return nil, fmt.Errorf("%s: after %d tries: %w", where, try, err)
		}
		t.logf("retry %d/%d of %s: %s", try+1, attempts, where, why)
		if err := t.pause(ctx, try, wait, where); err != nil {
			return nil, err
		}
	}
}

// pause waits before try+1 of a request: the server's Retry-After when
// it gave one (wait), else exponential backoff with full jitter (a
// uniform wait up to the doubled ceiling keeps many clients from
// retrying in step); never longer than MaxBackoff.
func (t *Transport) pause(ctx context.Context, try int, wait time.Duration, where string) error {
	backoff, maxBackoff := t.Backoff, t.MaxBackoff
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	if maxBackoff <= 0 {
		maxBackoff = 20 * time.Second
	}
	if wait <= 0 {
		ceil := maxBackoff
		if try <= 32 && backoff<<(try-1) > 0 && backoff<<(try-1) < maxBackoff {
			ceil = backoff << (try - 1) // no overflow: try is small
		}
		wait = time.Duration(rand.Int64N(int64(ceil)) + 1)
	}
	wait = min(wait, maxBackoff)
	sleep := t.sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	if err := sleep(ctx, wait); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// body is what a request sends: open reopens it for each try.
type body struct {
	open        func() (io.ReadCloser, error)
	size        int64
	contentType string   // default application/octet-stream
	digests     *digests // sent as X-Checksum-* headers when set
}

// send makes and sends one request.
func (t *Transport) send(ctx context.Context, method string, u *url.URL, b *body) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if b != nil {
		rc, err := b.open()
		if err != nil {
			return nil, err
		}
		req.Body, req.ContentLength, req.GetBody = rc, b.size, b.open
		ct := b.contentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		req.Header.Set("Content-Type", ct)
		if d := b.digests; d != nil {
			req.Header.Set("X-Checksum-Sha256", d.sha256)
			req.Header.Set("X-Checksum-Sha1", d.sha1)
			req.Header.Set("X-Checksum-Md5", d.md5)
		}
	}
	switch {
	case t.Auth.Token != "":
		req.Header.Set("Authorization", "Bearer "+t.Auth.Token)
	case t.Auth.Username != "":
		req.SetBasicAuth(t.Auth.Username, t.Auth.Password)
	}
	req.Header.Set("User-Agent", "packyard-publish")
	t.Stats.Requests++
	t.Stats.Sent += req.ContentLength
	return t.client().Do(req)
}

// Call sends one request to an HTTP API (aptly's) and returns the
// response body, retried as uploads are. A failing status is an
// *HTTPError with the API's own message when it gave one as JSON
// {"error": "..."}. In a dry run only GETs are sent; other methods are
// printed and return nil.
func (t *Transport) Call(ctx context.Context, method string, u *url.URL, contentType string, data []byte) ([]byte, error) {
	if t.DryRun && method != http.MethodGet {
		t.logf("would %s %s", method, u.Redacted())
		return nil, nil
	}
	var b *body
	if data != nil {
		b = &body{open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
			size: int64(len(data)), contentType: contentType}
	}
	resp, err := t.do(ctx, method, u, b)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	return out, nil
}

// apiError is the message of a JSON error body ({"error": "..."}), as
// aptly sends; "" for anything else, such as a web server's HTML page.
func apiError(r io.Reader) string {
	var e struct {
		Error string `json:"error"`
	}
	b, _ := io.ReadAll(io.LimitReader(r, 4096))
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	return e.Error
}

// transient reports whether a request error may go away by trying again.
func transient(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		// What net/http reports when the server drops the connection
		// while the request body is still being written.
		errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return true
	}
	return false
}

// retryAfter reads a Retry-After header, seconds or an HTTP date; 0 when
// absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// size formats a byte count for progress lines.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
