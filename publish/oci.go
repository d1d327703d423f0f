package publish

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"golang.org/x/crypto/x509roots/fallback/bundle"

	"github.com/packyard/packyard/pack/oci"
	"github.com/packyard/packyard/version"
)

// OCI pushes the flavour's image, one manifest per linux compile target
// under one index (see pack/oci), to a registry under the target's tags.
// The tags holding {{version}} are the release's: one that holds another
// image fails the publish unless Overwrite; other tags (latest) move.
type OCI struct{}

// Publish builds the index from the dist's binaries and pushes it.
func (OCI) Publish(ctx context.Context, j *Job) error {
	idx, platforms, err := j.ociIndex(ctx)
	if err != nil {
		return err
	}
	dg, err := idx.Digest()
	if err != nil {
		return err
	}
	// The targets' own HTTP client: its connect and response-header
	// timeouts turn a stalled registry into an error that is retried,
	// where go-containerregistry's default transport would wait forever.
	next := j.Transport.client().Transport
	if next == nil {
		next = http.DefaultTransport
	}
	counter := &registryTransport{next: next, tr: j.Transport}
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithTransport(counter),
		remote.WithAuth(registryAuth(j.Transport.Auth)),
		remote.WithRetryBackoff(remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: 5}),
		remote.WithRetryPredicate(retriable),
	}
	var nameOpts []name.Option
	if j.Target.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	j.logf("image %s: %s (%s)", j.Target.Image, dg, strings.Join(platforms, ", "))
	pushed := false
	// The release's tags first, so that a moving tag never points at an
	// image that its version tag does not hold.
	for _, release := range []bool{true, false} {
		for _, raw := range j.Target.Tags {
			if strings.Contains(raw, "{{version}}") != release {
				continue
			}
			tag := strings.ReplaceAll(raw, "{{version}}", j.Version)
			ref, err := name.NewTag(j.Target.Image+":"+tag, nameOpts...)
			if err != nil {
				return fmt.Errorf("image tag %q: %w", tag, err)
			}
			desc, err := remote.Head(ref, opts...)
			var terr *transport.Error
			switch {
			case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
			case err != nil:
				return fmt.Errorf("%s: %w", ref, err)
			case desc.Digest == dg:
				j.logf("unchanged %s", ref)
				j.Transport.Stats.Unchanged++
				continue
			case release && !j.Overwrite:
				return fmt.Errorf("%s holds %s, not this release's %s (%w; --overwrite replaces it)", ref, desc.Digest, dg, ErrConflict)
			}
			if j.Transport.DryRun {
				j.logf("would push %s to %s", dg, ref)
				j.Transport.Stats.Uploaded++
				continue
			}
			if !pushed {
				err = remote.WriteIndex(ref, idx, opts...)
				pushed = true
			} else {
				err = remote.Tag(ref, idx, opts...)
			}
			if err != nil {
				return fmt.Errorf("push %s: %w", ref, err)
			}
			j.logf("pushed %s", ref)
			j.Transport.Stats.Uploaded++
		}
	}
	j.Transport.Stats.Requests += int(counter.requests.Load())
	j.Transport.Stats.Sent += counter.sent.Load()
	return nil
}

// ociIndex builds the target's image index from the dist and the base
// image, and names its platforms.
func (j *Job) ociIndex(ctx context.Context) (v1.ImageIndex, []string, error) {
	stamp, err := j.releaseStamp()
	if err != nil {
		return nil, nil, err
	}
	m, err := j.Manifest()
	if err != nil {
		return nil, nil, err
	}
	bases, baseDigest, err := j.baseImages(ctx)
	if err != nil {
		return nil, nil, err
	}
	var platforms []oci.Platform
	var names []string
	for _, tn := range j.Target.Binaries {
		ct := j.Flavour.CompileTarget(tn)
		if ct == nil {
			return nil, nil, fmt.Errorf("no compile target %s in flavour %s", tn, j.Flavour.Name)
		}
		var bin string
		for _, e := range m.Artifacts {
			if e.Stage == "compile/"+tn {
				if d, err := fileDigests(filepath.Join(j.Dist, filepath.FromSlash(e.Path))); err != nil {
					return nil, nil, err
				} else if d.sha256 != e.SHA256 {
					return nil, nil, fmt.Errorf("%s changed since the build: its sha256 is not the one in manifest.json", e.Path)
				}
				bin = filepath.Join(j.Dist, filepath.FromSlash(e.Path))
			}
		}
		if bin == "" {
			return nil, nil, fmt.Errorf("compile target %s has no binary in %s", tn, j.Dist)
		}
		data, err := os.ReadFile(bin)
		if err != nil {
			return nil, nil, err
		}
		p := oci.Platform{OS: ct.OS, Arch: ct.Arch, Binary: data}
		if ct.ARM != "" {
			p.Variant = "v" + ct.ARM
		}
		if p.Base, err = bases(p); err != nil {
			return nil, nil, fmt.Errorf("base image %s for %s: %w", j.Target.Base, p, err)
		}
		platforms = append(platforms, p)
		names = append(names, p.String())
	}
	bin := j.Flavour.Product
	idx, err := oci.Build(oci.Image{
		Name:    bin,
		CACerts: caCerts(),
		Created: stamp.Time,
		Annotations: map[string]string{
			oci.AnnotationVersion:    j.Version,
			oci.AnnotationRevision:   stamp.Commit,
			oci.AnnotationTitle:      bin,
			oci.AnnotationBaseDigest: baseDigest.String(),
		},
	}, platforms)
	return idx, names, err
}

// baseImages returns a function giving the base image of a platform,
// and the digest of what the base names (its index, or its one
// manifest): from the OCI layout in j.OCIBase when set, else pulled from
// the base's registry.
func (j *Job) baseImages(ctx context.Context) (func(oci.Platform) (v1.Image, error), v1.Hash, error) {
	if j.OCIBase != "" {
		idx, err := layout.ImageIndexFromPath(j.OCIBase)
		if err != nil {
			return nil, v1.Hash{}, fmt.Errorf("base image layout %s: %w", j.OCIBase, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, v1.Hash{}, fmt.Errorf("base image layout %s: %w", j.OCIBase, err)
		}
		// A layout holding one index (as crane pull --format oci writes
		// it) names the base by that index; one listing the platform
		// manifests itself is the index.
		d, err := idx.Digest()
		if len(im.Manifests) == 1 && im.Manifests[0].MediaType.IsIndex() {
			d, err = im.Manifests[0].Digest, nil
		}
		if err != nil {
			return nil, v1.Hash{}, err
		}
		return func(p oci.Platform) (v1.Image, error) { return layoutImage(idx, p) }, d, nil
	}
	var nameOpts []name.Option
	if j.Target.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	ref, err := name.ParseReference(j.Target.Base, nameOpts...)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("base image %q: %w", j.Target.Base, err)
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithRetryPredicate(retriable)}
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("base image %s: %w", ref, err)
	}
	// Pull by digest, so every platform comes from the same index even
	// if the tag moves meanwhile.
	byDigest := ref.Context().Digest(desc.Digest.String())
	return func(p oci.Platform) (v1.Image, error) {
		return remote.Image(byDigest, append(opts,
			remote.WithPlatform(v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant}))...)
	}, desc.Digest, nil
}

// layoutImage finds p's image in an OCI layout, looking through nested
// indexes (an exported multi-platform image is an index in index.json).
func layoutImage(idx v1.ImageIndex, p oci.Platform) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var seen []string
	for _, d := range im.Manifests {
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			if img, err := layoutImage(child, p); err == nil {
				return img, nil
			}
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		if cf.OS == p.OS && cf.Architecture == p.Arch && (p.Variant == "" || cf.Variant == p.Variant) {
			return img, nil
		}
		seen = append(seen, cf.OS+"/"+cf.Architecture)
	}
	return nil, fmt.Errorf("no %s image in the layout (it has %s)", p, strings.Join(seen, ", "))
}

// releaseStamp is the commit and time of the release, from the .version
// file of its source tarball, so that an image built from a dist, on any
// machine, carries what the packages carry.
func (j *Job) releaseStamp() (version.Version, error) {
	st, err := DistStamp(j.Dist, j.Flavour.Product, j.Version)
	if err != nil {
		return version.Version{}, err
	}
	if st.Time.IsZero() {
		return version.Version{}, fmt.Errorf("no %s with a time in %s's source tarball %s-%s.tar.gz: the image's commit and time come from it",
			version.FileName, j.Dist, j.Flavour.Product, j.Version)
	}
	return st, nil
}

// caCerts is the bundle the image gets: the Mozilla roots that
// golang.org/x/crypto/x509roots/fallback carries, at the version go.mod
// pins, as PEM. Not the publishing machine's bundle: two machines' differ
// (a proxy's CA added, another ca-certificates release), and the image
// would then differ by where it was published from.
func caCerts() []byte {
	var b bytes.Buffer
	for r := range bundle.Roots() {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: r.Certificate})
	}
	return b.Bytes()
}

// retriable says whether a failed registry operation is tried again:
// connection resets and timeouts (which go-containerregistry's default
// predicate leaves out for uploads), 5xx, 408 and 429; not other 4xx
// (401, 403, 404 say something a retry cannot change) nor cancellation.
func retriable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		return retryStatus(terr.StatusCode)
	}
	return true
}

// registryAuth maps a target's credentials to the registry's: a
// username and password, or a token used as the password of a token
// login (as GHCR and GitLab's registry take a PAT), or anonymous.
func registryAuth(a Auth) authn.Authenticator {
	switch {
	case a.Token != "":
		return authn.FromConfig(authn.AuthConfig{Username: "token", Password: a.Token})
	case a.Username != "":
		return authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password})
	}
	return authn.Anonymous
}

// registryTransport sends a registry client's requests: each retried on
// its own (a reset, a timeout, 5xx, 429 with its Retry-After) with
// backoff and jitter, as the other targets' uploads are, so that one
// flaky request does not restart a whole blob upload; and counted.
// Bodies up to maxRetryBody are kept in memory to be sent again; larger
// ones go once, left to go-containerregistry's per-operation retry.
type registryTransport struct {
	next     http.RoundTripper
	tr       *Transport
	requests atomic.Int64
	sent     atomic.Int64
}

const maxRetryBody = 64 << 20

func (c *registryTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var data []byte
	rewind := r.Body == nil || r.Body == http.NoBody
	if !rewind && r.ContentLength >= 0 && r.ContentLength <= maxRetryBody {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		data, rewind = b, true
	}
	attempts := 1
	if rewind {
		attempts = 5
	}
	for try := 1; ; try++ {
		req := r
		if data != nil {
			req = r.Clone(r.Context())
			req.Body = io.NopCloser(bytes.NewReader(data))
		}
		c.requests.Add(1)
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = &countingBody{ReadCloser: req.Body, n: &c.sent}
		}
		resp, err := c.next.RoundTrip(req)
		var wait time.Duration
		var why string
		switch {
		case err != nil:
			if r.Context().Err() != nil || !transient(err) || try >= attempts {
				return nil, err
			}
			why = err.Error()
		case retryStatus(resp.StatusCode):
			if try >= attempts {
				return resp, nil
			}
			why = resp.Status
			wait = retryAfter(resp.Header.Get("Retry-After"), time.Now())
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		default:
			return resp, nil
		}
		where := r.Method + " " + redactURL(r)
		c.tr.logf("retry %d/%d of %s: %s", try+1, attempts, where, why)
		if err := c.tr.pause(r.Context(), try, wait, where); err != nil {
			return nil, err
		}
	}
}

// redactURL is the request's URL without its query, which holds upload
// state tokens.
func redactURL(r *http.Request) string {
	u := *r.URL
	u.RawQuery = ""
	return u.Redacted()
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
