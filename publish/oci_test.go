package publish

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/internal/packtest"
	"github.com/packyard/packyard/pack/checksums"
	"github.com/packyard/packyard/version"
)

// ociFlavour is the acme flavour's two linux targets and an oci target.
func ociFlavour(t *buildspec.PublishTarget) *buildspec.Flavour {
	fl := testFlavour(t)
	fl.CompileTargets = []*buildspec.CompileTarget{
		{Name: "64bit_linux", OS: "linux", Arch: "amd64"},
		{Name: "arm64_linux", OS: "linux", Arch: "arm64"},
	}
	return fl
}

// ociRelease writes a dist/ with what an image is made of: the source
// tarball with its .version (commit and time) and the two binaries.
// salt changes the binaries, as a rebuild of the same version would.
func ociRelease(t *testing.T, v, salt string) string {
	t.Helper()
	dist := t.TempDir()
	var src bytes.Buffer
	zw := gzip.NewWriter(&src)
	tw := tar.NewWriter(zw)
	vf := version.Format(version.Version{Product: v, Commit: strings.Repeat("ab", 20), Time: packtest.CommitTime()})
	tw.WriteHeader(&tar.Header{Name: "backplane-" + v + "/" + version.FileName, Mode: 0o644, Size: int64(len(vf))})
	tw.Write(vf)
	tw.Close()
	zw.Close()
	tarballName := "backplane-" + v + ".tar.gz"
	arts := []checksums.Artifact{{Path: tarballName, Stage: "source"}}
	if err := os.WriteFile(filepath.Join(dist, tarballName), src.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dist, "binaries"), 0o755)
	for _, b := range []struct{ target, arch string }{{"64bit_linux", "amd64"}, {"arm64_linux", "arm64"}} {
		rel := "binaries/backplane-" + v + "-linux-" + b.arch
		if err := os.WriteFile(filepath.Join(dist, rel), []byte("\x7fELF "+b.arch+" "+v+salt), 0o755); err != nil {
			t.Fatal(err)
		}
		arts = append(arts, checksums.Artifact{Path: rel, Stage: "compile/" + b.target})
	}
	if err := checksums.Write(dist, arts, nil); err != nil {
		t.Fatal(err)
	}
	return dist
}

// ociBase is a two-platform stand-in base image (a shell per arch, docker
// media types as Docker Hub serves), pushed to reg and written as an OCI
// layout, the two ways a publish gets its base.
func ociBase(t *testing.T, reg string) (ref, layoutDir string) {
	t.Helper()
	idx, err := packtest.StandinBase([]byte("#!busybox"), "linux/amd64", "linux/arm64")
	if err != nil {
		t.Fatal(err)
	}
	ref = reg + "/base/busybox:glibc"
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	layoutDir = t.TempDir()
	if _, err := layout.Write(layoutDir, idx); err != nil {
		t.Fatal(err)
	}
	return ref, layoutDir
}

func TestOCIPublish(t *testing.T) {
	reg := packtest.StartRegistry(t)
	base, baseLayout := ociBase(t, reg.Host)
	target := &buildspec.PublishTarget{Name: "images", Type: buildspec.PublishOCI,
		Image: reg.Host + "/acme/backplane", Tags: []string{"latest", "{{version}}"}, Base: base,
		Binaries: []string{"64bit_linux", "arm64_linux"}}
	fl := ociFlavour(target)
	spec := &buildspec.Spec{File: "buildspec.yaml"}
	var log strings.Builder
	publish := func(dist, v, baseDir string, overwrite bool) error {
		log.Reset()
		defer func(start time.Time) { t.Logf("%v: %s", time.Since(start), log.String()) }(time.Now())
		_, err := Publish(context.Background(), Options{Spec: spec, Flavour: fl, Dist: dist, Version: v,
			Overwrite: overwrite, OCIBase: baseDir, Getenv: os.Getenv,
			Logf: func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }})
		return err
	}
	pull := func(tag string) (v1.ImageIndex, v1.Hash) {
		t.Helper()
		ref, err := name.ParseReference(reg.Host + "/acme/backplane:" + tag)
		if err != nil {
			t.Fatal(err)
		}
		idx, err := remote.Index(ref)
		if err != nil {
			t.Fatalf("pull %s: %v", ref, err)
		}
		d, _ := idx.Digest()
		return idx, d
	}

	dist := ociRelease(t, "0.26.0acme", "")
	if err := publish(dist, "0.26.0acme", "", false); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	idx, digest := pull("0.26.0acme")
	if _, latest := pull("latest"); latest != digest {
		t.Errorf("latest is %s, the version tag %s", latest, digest)
	}
	im, _ := idx.IndexManifest()
	if im.MediaType != types.OCIImageIndex || len(im.Manifests) != 2 {
		t.Fatalf("index %s with %d manifests", im.MediaType, len(im.Manifests))
	}
	if im.Annotations["org.opencontainers.image.version"] != "0.26.0acme" || im.Annotations["org.opencontainers.image.revision"] != strings.Repeat("ab", 20) ||
		im.Annotations["org.opencontainers.image.created"] != "2024-03-01T12:00:00Z" {
		t.Errorf("index annotations %v", im.Annotations)
	}
	for i, arch := range []string{"amd64", "arm64"} {
		d := im.Manifests[i]
		if d.Platform == nil || d.Platform.Architecture != arch {
			t.Errorf("manifest %d: platform %v, want linux/%s", i, d.Platform, arch)
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		if cf.Architecture != arch || strings.Join(cf.Config.Entrypoint, " ") != "/usr/local/bin/backplane" || cf.Config.User != "65534:65534" {
			t.Errorf("%s: config %s %+v", arch, cf.Architecture, cf.Config)
		}
		layers, _ := img.Layers()
		top, _ := layers[len(layers)-1].Uncompressed()
		tr := tar.NewReader(top)
		found := false
		for h, err := tr.Next(); err == nil; h, err = tr.Next() {
			if h.Name == "usr/local/bin/backplane" {
				b, _ := io.ReadAll(tr)
				found = string(b) == "\x7fELF "+arch+" 0.26.0acme"
			}
		}
		top.Close()
		if !found {
			t.Errorf("%s: the top layer lacks the binary", arch)
		}
	}

	// The base from an OCI layout (as the Dagger module hands it over)
	// gives the same image: the second publish finds every tag holding it.
	if err := publish(dist, "0.26.0acme", baseLayout, false); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if got := log.String(); strings.Count(got, "unchanged ") != 2 || strings.Contains(got, "pushed") {
		t.Errorf("the same release again must send nothing:\n%s", got)
	}

	// The same version rebuilt differently: its tag is the release's.
	rebuilt := ociRelease(t, "0.26.0acme", " rebuilt")
	err := publish(rebuilt, "0.26.0acme", "", false)
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "/acme/backplane:0.26.0acme holds "+digest.String()) {
		t.Errorf("a rebuilt release: err = %v", err)
	}
	if _, d := pull("0.26.0acme"); d != digest {
		t.Errorf("the refused publish changed the tag")
	}
	if err := publish(rebuilt, "0.26.0acme", "", true); err != nil {
		t.Fatalf("--overwrite: %v\n%s", err, log.String())
	}
	if _, d := pull("0.26.0acme"); d == digest {
		t.Errorf("--overwrite did not replace the tag")
	}

	// A new version moves latest and leaves the old version's tag.
	next := ociRelease(t, "0.26.1acme", "")
	if err := publish(next, "0.26.1acme", "", false); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	_, d1 := pull("0.26.1acme")
	if _, l := pull("latest"); l != d1 {
		t.Errorf("latest %s, want the new version's %s", l, d1)
	}
}

// TestOCIFaults publishes through a proxy that fails 30% of the requests:
// the image arrives whole.
func TestOCIFaults(t *testing.T) {
	reg := packtest.StartRegistry(t)
	base, _ := ociBase(t, reg.Host)
	proxy := startFaultyProxy(t, "http://"+reg.Host, 0.3)
	host := strings.TrimSuffix(strings.TrimPrefix(proxy.URL, "http://"), "/")
	target := &buildspec.PublishTarget{Name: "images", Type: buildspec.PublishOCI,
		Image: host + "/acme/backplane", Tags: []string{"{{version}}"}, Base: base,
		Binaries: []string{"64bit_linux", "arm64_linux"}}
	dist := ociRelease(t, "0.26.0acme", "")
	rep, err := Publish(context.Background(), Options{Spec: &buildspec.Spec{}, Flavour: ociFlavour(target),
		Dist: dist, Version: "0.26.0acme", Getenv: os.Getenv})
	if err != nil {
		t.Fatal(err)
	}
	faults, total := proxy.counts()
	if faults["500"]+faults["reset"] == 0 {
		t.Fatalf("no fault injected in %d requests", total)
	}
	ref, _ := name.ParseReference(reg.Host + "/acme/backplane:0.26.0acme")
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateIndex(idx); err != nil {
		t.Errorf("the pushed image is not whole: %v", err)
	}
	// Every try is counted, also one that died before the proxy read it.
	if got := rep.Targets[0].Requests; got < total {
		t.Errorf("the report counts %d requests, the proxy saw %d", got, total)
	}
	t.Logf("%d requests, faults %v", total, faults)
}

// validateIndex reads every blob of every image of idx.
func validateIndex(idx v1.ImageIndex) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			return err
		}
		layers, err := img.Layers()
		if err != nil {
			return err
		}
		for _, l := range layers {
			rc, err := l.Compressed()
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// TestCACerts checks the image's bundle: PEM that Go parses, Mozilla's
// roots (well over a hundred), the same bytes every time.
func TestCACerts(t *testing.T) {
	a, b := caCerts(), caCerts()
	if !bytes.Equal(a, b) {
		t.Fatal("the bundle differs between two calls")
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(a) {
		t.Fatal("no certificate parsed")
	}
	if n := bytes.Count(a, []byte("-----BEGIN CERTIFICATE-----")); n < 100 {
		t.Errorf("%d certificates, want Mozilla's roots", n)
	}
}

// TestOCIStall pushes through a proxy that never answers the first
// manifest upload: the response-header timeout ends that try, and the
// retry lands the image.
func TestOCIStall(t *testing.T) {
	reg := packtest.StartRegistry(t)
	base, _ := ociBase(t, reg.Host)
	release := make(chan struct{})
	var mu sync.Mutex
	stalled := 0
	host := interceptingProxy(t, reg.Host, func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		stall := r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && stalled == 0
		if stall {
			stalled++
		}
		mu.Unlock()
		if stall {
			io.Copy(io.Discard, r.Body)
			<-release
		}
		return stall
	})
	// Before the proxy closes (a cleanup), which waits for the stalled
	// handler.
	defer close(release)
	target := &buildspec.PublishTarget{Name: "images", Type: buildspec.PublishOCI,
		Image: host + "/acme/backplane", Tags: []string{"{{version}}"}, Base: base,
		Binaries: []string{"64bit_linux", "arm64_linux"}}
	var log strings.Builder
	client := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 300 * time.Millisecond}}
	_, err := Publish(context.Background(), Options{Spec: &buildspec.Spec{}, Flavour: ociFlavour(target),
		Dist: ociRelease(t, "0.26.0acme", ""), Version: "0.26.0acme", Getenv: os.Getenv,
		Transport: &Transport{Client: client, Backoff: time.Millisecond},
		Logf:      func(f string, a ...any) { fmt.Fprintf(&log, f+"\n", a...) }})
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	mu.Lock()
	n := stalled
	mu.Unlock()
	if n != 1 || !strings.Contains(log.String(), "retry 2/5 of PUT") || !strings.Contains(log.String(), "timeout awaiting response headers") {
		t.Errorf("stalled %d times; want one stall, retried:\n%s", n, log.String())
	}
	ref, _ := name.ParseReference(reg.Host + "/acme/backplane:0.26.0acme")
	idx, err := remote.Index(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateIndex(idx); err != nil {
		t.Errorf("the pushed image is not whole: %v", err)
	}
}

// TestOCIForbidden checks that a 403 is not retried and that the error
// names the target and the registry, never the password.
func TestOCIForbidden(t *testing.T) {
	reg := packtest.StartRegistry(t)
	base, _ := ociBase(t, reg.Host)
	var mu sync.Mutex
	posts := 0
	host := interceptingProxy(t, reg.Host, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		mu.Lock()
		posts++
		mu.Unlock()
		http.Error(w, `{"errors":[{"code":"DENIED","message":"no push for you"}]}`, http.StatusForbidden)
		return true
	})
	target := &buildspec.PublishTarget{Name: "images", Type: buildspec.PublishOCI,
		Image: host + "/acme/backplane", Tags: []string{"{{version}}"}, Base: base,
		Binaries: []string{"64bit_linux"}, UsernameEnv: "REG_USER", PasswordEnv: "REG_PASS"}
	const pass = "s3cret-Registry-Pa55"
	env := map[string]string{"REG_USER": "ci", "REG_PASS": pass}
	_, err := Publish(context.Background(), Options{Spec: &buildspec.Spec{}, Flavour: ociFlavour(target),
		Dist: ociRelease(t, "0.26.0acme", ""), Version: "0.26.0acme", Getenv: func(k string) string { return env[k] },
		Transport: &Transport{Backoff: time.Millisecond}})
	if err == nil {
		t.Fatal("a registry that refuses every push: no error")
	}
	msg := err.Error()
	if !strings.Contains(msg, "publish target images (oci)") || !strings.Contains(msg, host+"/acme/backplane") || !strings.Contains(msg, "DENIED") {
		t.Errorf("error %q: want the target, the registry and its answer", msg)
	}
	if strings.Contains(msg, pass) {
		t.Errorf("the password is in the error: %q", msg)
	}
	mu.Lock()
	defer mu.Unlock()
	// One image: three blobs, each started with a POST (the base layer's
	// a cross-repository mount); a refused one is not tried again.
	if posts > 3 {
		t.Errorf("%d upload starts: a 403 was retried", posts)
	}
}

// interceptingProxy puts a server on 127.0.0.1 in front of the registry
// at host and returns its host:port. intercept sees each request first;
// what it does not answer (false) goes on to the registry.
func interceptingProxy(t *testing.T, host string, intercept func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !intercept(w, r) {
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
