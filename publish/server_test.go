package publish

import (
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack"
	"github.com/packyard/packyard/pack/sign"
)

// startNginx is packtest.StartNginx.
func startNginx(t *testing.T) *packtest.Nginx { return packtest.StartNginx(t) }

// nginxTransport is a Transport with the server's credentials and short
// retry waits.
func nginxTransport(s *packtest.Nginx) *Transport {
	return &Transport{Auth: Auth{Username: s.User, Password: s.Pass}, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

// faultyProxy forwards to target but fails a share of the requests, with
// a 500 or a reset connection, from a seeded source so that runs repeat.
type faultyProxy struct {
	URL    string
	mu     sync.Mutex
	rnd    *rand.Rand
	rate   float64
	faults map[string]int // "500", "reset"
	total  int
	// methods counts the requests by method, as they arrive (nginx's
	// access log is written after the response, too late to count).
	methods map[string]int
	// gets are the paths of the GET requests, in order.
	gets []string
}

func startFaultyProxy(t *testing.T, target string, rate float64) *faultyProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultyProxy{rnd: rand.New(rand.NewPCG(8, 42)), rate: rate, faults: map[string]int{}, methods: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.total++
		p.methods[r.Method]++
		if r.Method == http.MethodGet {
			p.gets = append(p.gets, r.URL.Path)
		}
		roll, kind := p.rnd.Float64(), p.rnd.IntN(2)
		fail := roll < p.rate
		if fail {
			p.faults[[]string{"500", "reset"}[kind]]++
		}
		p.mu.Unlock()
		switch {
		case fail && kind == 0:
			io.Copy(io.Discard, r.Body)
			http.Error(w, "injected failure", http.StatusInternalServerError)
		case fail:
			// Drop the connection with a RST, as a crashed server or a
			// load balancer does.
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				panic(err)
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			conn.Close()
		default:
			rp.ServeHTTP(w, r)
		}
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	p.URL = "http://" + l.Addr().String() + "/"
	return p
}

func (p *faultyProxy) counts() (faults map[string]int, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := map[string]int{}
	for k, v := range p.faults {
		f[k] = v
	}
	return f, p.total
}

// requests counts the requests of a method so far.
func (p *faultyProxy) requests(method string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.methods[method]
}

// getsSince returns the paths of the GET requests after the first n.
func (p *faultyProxy) getsSince(n int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.gets[min(n, len(p.gets)):]...)
}

// repoKey is a passphrase-protected test key, as gpg has it (to verify
// with) and as the publishers sign with.
func repoKey(t *testing.T) (packtest.Key, *sign.Key) {
	t.Helper()
	gpg := packtest.GPGKey(t, "repo-pass")
	key, err := sign.FromSigning(&pack.Signing{KeyFile: gpg.Private, Passphrase: "repo-pass"})
	if err != nil {
		t.Fatal(err)
	}
	return gpg, key
}
