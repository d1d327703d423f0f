package packtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Nginx is a real nginx serving a temporary directory on
// 127.0.0.1 over WebDAV: GET and HEAD for anyone, PUT and DELETE with
// Basic auth, as a repository host is usually set up.
type Nginx struct {
	URL        string // http://127.0.0.1:PORT/
	Root       string // the served directory
	User, Pass string
}

// StartNginx starts nginx for the test, stopped at its end. It skips the
// test when nginx is not installed, saying how to get it.
func StartNginx(t testing.TB) *Nginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/nginx"); err != nil {
			t.Skip("nginx is not installed (Debian: apt-get install nginx-light; ci/install-deps installs it)")
		}
	}
	dir := t.TempDir()
	s := &Nginx{Root: filepath.Join(dir, "root"),
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
	// nginx is killed with the test binary, even one killed by a timeout
	// (Linux ties it to the thread that started nginx; Go keeps threads).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
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

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
