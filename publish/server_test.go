package publish

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// nginxServer is a real nginx serving a temporary directory on
// 127.0.0.1 over WebDAV: GET and HEAD for anyone, PUT and DELETE with
// Basic auth, as a repository host is usually set up.
type nginxServer struct {
	URL        string // http://127.0.0.1:PORT/
	Root       string // the served directory
	User, Pass string
}

// startNginx starts nginx for the test, stopped at its end. It skips the
// test when nginx is not installed, saying how to get it.
func startNginx(t *testing.T) *nginxServer {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			t.Skip("nginx is not installed (Debian: apt-get install nginx-light; ci/install-deps installs it)")
		}
	}
	dir := t.TempDir()
	s := &nginxServer{Root: filepath.Join(dir, "root"),
		User: "uploader", Pass: "s3cret-Pa55"}
	for _, d := range []string{"root", "tmp", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// {PLAIN} is a password scheme nginx reads from the user file.
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, []byte(s.User+":{PLAIN}"+s.Pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	tmp := filepath.Join(dir, "tmp")
	conf := fmt.Sprintf(`master_process off;
daemon off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/logs/error.log info;
events { worker_connections 64; }
http {
  access_log %[2]s;
  client_body_temp_path %[3]s/body;
  proxy_temp_path %[3]s/proxy;
  fastcgi_temp_path %[3]s/fastcgi;
  uwsgi_temp_path %[3]s/uwsgi;
  scgi_temp_path %[3]s/scgi;
  client_max_body_size 0;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:%[4]d;
    root %[5]s;
    location / {
      autoindex on;
      dav_methods PUT DELETE;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
      limit_except GET HEAD {
        auth_basic "packyard test";
        auth_basic_user_file %[6]s;
      }
    }
  }
}
`, dir, filepath.Join(dir, "logs", "access.log"), tmp, port, s.Root, htpasswd)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confFile, "-e", filepath.Join(dir, "logs", "error.log"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	s.URL = fmt.Sprintf("http://127.0.0.1:%d/", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			return s
		}
		select {
		case err := <-done:
			errLog, _ := os.ReadFile(filepath.Join(dir, "logs", "error.log"))
			t.Fatalf("nginx exited: %v\n%s%s", err, out.String(), errLog)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on port %d: %s", port, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *nginxServer) transport() *Transport {
	return &Transport{Auth: Auth{Username: s.User, Password: s.Pass}, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
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
