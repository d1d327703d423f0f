// Package publish puts a release's artifacts (the dist/ directory that
// packyard build writes) into repositories: a yum repository, a static
// apt repository, an aptly server, a Rudder plugin repository, or any
// HTTP server that takes PUT, as a flavour's publish section says (see
// buildspec.PublishTarget), and a container registry.
//
// Every target type is a Publisher over one Transport, which talks to
// file:// directories and http(s):// servers, retries transient failures
// and never sends a file the remote already has. A Publisher uploads the
// artifacts first and the indexes and their signatures last, so that an
// index never names a file that is not there yet; a run that changes
// nothing uploads nothing, and reads the indexes rather than the
// packages. Indexes are dated and signed as of the release's time, so
// that the same release gives the same bytes. Publish returns a Report of
// the requests and bytes each target took.
package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack/checksums"
	"github.com/packyard/packyard/pack/sign"
)

// ErrNotImplemented is returned for target types that the spec accepts
// but that cannot be published yet.
var ErrNotImplemented = errors.New("not implemented yet")

// ErrNoCredentials is returned when a variable a target names for its
// credentials is unset or empty.
var ErrNoCredentials = errors.New("credentials not set")

// Publisher publishes a release to one target of one type.
type Publisher interface {
	Publish(ctx context.Context, job *Job) error
}

// New returns the Publisher for a target type.
func New(typ string) (Publisher, error) {
	switch typ {
	case buildspec.PublishHTTP:
		return HTTP{}, nil
	case buildspec.PublishYum:
		return Yum{}, nil
	case buildspec.PublishApt:
		return Apt{}, nil
	case buildspec.PublishRudder:
		return Rudder{}, nil
	case buildspec.PublishAptly:
		return Aptly{}, nil
	case buildspec.PublishOCI:
		return OCI{}, nil
	}
	return nil, fmt.Errorf("publish type %s: %w", typ, ErrNotImplemented)
}

// Job is one target to publish one release to.
type Job struct {
	Target  *buildspec.PublishTarget
	Flavour *buildspec.Flavour
	// Dist is the directory packyard build wrote, with its manifest.json.
	Dist string
	// Version is the product version, for {{version}} in URLs.
	Version string
	// Key signs the repository indexes; nil publishes them unsigned.
	// It signs as of Time when that is set.
	Key *sign.Key
	// Time is the release's time (SOURCE_DATE_EPOCH), the date written
	// into the indexes; zero means now.
	Time time.Time
	// Transport talks to the target, with its credentials.
	Transport *Transport
	// Overwrite replaces a remote package whose content differs.
	Overwrite bool
	// Work is scratch space for the job, removed by the caller.
	Work string
	// Env is the environment of the tools run (createrepo_c, ...);
	// nil means the process's own.
	Env []string
	// Getenv reads settings such as SSL_CERT_FILE; nil reads none.
	Getenv func(string) string
	// OCIBase is an OCI image layout holding an oci target's base image,
	// used instead of pulling it; "" pulls.
	OCIBase string

	manifest *checksums.Manifest
}

func (j *Job) logf(format string, args ...any) { j.Transport.logf(format, args...) }

// Manifest reads dist/manifest.json once.
func (j *Job) Manifest() (*checksums.Manifest, error) {
	if j.manifest != nil {
		return j.manifest, nil
	}
	b, err := os.ReadFile(filepath.Join(j.Dist, checksums.ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("read the release's manifest (is %s a dist/ that packyard build wrote?): %w", j.Dist, err)
	}
	var m checksums.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(j.Dist, checksums.ManifestFile), err)
	}
	j.manifest = &m
	return &m, nil
}

// File is one package file of the release, with the package that made it.
type File struct {
	Package *buildspec.Package
	// Path is relative to Dist, slash-separated.
	Path   string
	SHA256 string
	Size   int64
}

// Local is the file's path on disk.
func (f File) Local(dist string) string { return filepath.Join(dist, filepath.FromSlash(f.Path)) }

// Packages returns the release's files of the target's packages (every
// package of the flavour when the target names none) that match: for a
// yum target the binary rpms, for apt the debs. A package the target
// names that made no such file is an error, as is finding none at all.
func (j *Job) Packages(what string, match func(name string) bool) ([]File, error) {
	m, err := j.Manifest()
	if err != nil {
		return nil, err
	}
	var out []File
	for _, pk := range j.Flavour.Packages {
		named := len(j.Target.Packages) == 0 || slices.Contains(j.Target.Packages, pk.Name)
		if !named {
			continue
		}
		n := len(out)
		for _, e := range m.Artifacts {
			if e.Stage == "package/"+pk.Name && match(path.Base(e.Path)) {
				out = append(out, File{Package: pk, Path: e.Path, SHA256: e.SHA256, Size: e.Size})
			}
		}
		if len(out) == n && len(j.Target.Packages) > 0 {
			return nil, fmt.Errorf("package %s has no %s in %s (a %s target publishes %s)", pk.Name, what, j.Dist, j.Target.Type, what)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no %s in %s to publish", what, j.Dist)
	}
	// The manifest's hashes are the release's: a file changed since the
	// build is not published.
	for _, f := range out {
		d, err := fileDigests(f.Local(j.Dist))
		if err != nil {
			return nil, err
		}
		if d.sha256 != f.SHA256 {
			return nil, fmt.Errorf("%s changed since the build: its sha256 is not the one in manifest.json", f.Path)
		}
	}
	return out, nil
}

// BaseURL expands the target's URL for a package (nil for none) and
// returns it with a trailing slash, so that paths resolve under it.
func (j *Job) BaseURL(pk *buildspec.Package) (*url.URL, error) {
	var dist, arch string
	if pk != nil {
		dist, arch = pk.Properties["dist"], pk.Properties["target_arch"]
	}
	raw := buildspec.ExpandURL(j.Target.URL, j.Version, dist, arch)
	if !strings.HasSuffix(raw, "/") {
		raw += "/"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", raw, err)
	}
	return u, nil
}

// At resolves a slash-separated relative path under base, escaping each
// segment (a ~ or + in a version stays a literal character).
func At(base *url.URL, rel string) *url.URL {
	u := *base
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u.Path = base.Path + rel
	u.RawPath = base.EscapedPath() + strings.Join(segs, "/")
	return &u
}

// upload is one file of a publish: local, its remote path under base,
// and whether it may replace a different remote file.
type upload struct {
	base   *url.URL
	rel    string
	local  string
	policy Policy
	// listed is the sha256 the remote index gives the file, if any (see
	// Transport.UploadListed).
	listed string
}

// uploadAll sends the files in order, stopping at the first failure, and
// reports how many were sent (not unchanged).
func (j *Job) uploadAll(ctx context.Context, files []upload) (int, error) {
	sent := 0
	for _, f := range files {
		st, err := j.Transport.UploadListed(ctx, At(f.base, f.rel), f.local, f.policy, j.Overwrite, f.listed)
		if err != nil {
			return sent, err
		}
		if st != Same {
			sent++
		}
	}
	return sent, nil
}

// Options say what Publish publishes where.
type Options struct {
	Spec    *buildspec.Spec
	Flavour *buildspec.Flavour
	// Targets names the targets to publish to; empty means all.
	Targets []string
	Dist    string
	Version string
	Key     *sign.Key
	// Time is the release's time (SOURCE_DATE_EPOCH, as packyard build
	// used it). The indexes are dated and signed as of it, so that
	// publishing the same release into the same repository state gives
	// the same bytes; zero means now.
	Time time.Time
	// DryRun reads the remote repositories and prints what would be
	// written, writing nothing.
	DryRun    bool
	Overwrite bool
	// Getenv reads the credentials the targets name.
	Getenv func(string) string
	Logf   func(format string, args ...any)
	// Transport, when set, is copied for each target (tests set retry
	// timings); the credentials and dry-run flag are set per target.
	Transport *Transport
	// OCIBase is an OCI image layout holding the oci targets' base image
	// (one image per platform), used instead of pulling it from its
	// registry; "" pulls.
	OCIBase string
}

// Report is what a publish did: one entry per target, in the order they
// were published; a target that failed is the last.
type Report struct {
	DryRun  bool
	Targets []TargetReport
}

// TargetReport is what the publish to one target did.
type TargetReport struct {
	Name, Type string
	Stats
	Elapsed time.Duration
	Err     error
}

// Publish publishes the release in opts.Dist to each selected target in
// turn, stopping at the first that fails. The report lists the targets
// published so far, also when err is not nil.
func Publish(ctx context.Context, opts Options) (*Report, error) {
	rep := &Report{DryRun: opts.DryRun}
	targets, err := Check(opts.Spec, opts.Flavour, opts.Targets, opts.Getenv)
	if err != nil {
		return rep, err
	}
	for _, t := range targets {
		start := time.Now()
		stats, err := publishOne(ctx, opts, t)
		if err != nil {
			err = fmt.Errorf("publish target %s (%s): %w", t.Name, t.Type, err)
		}
		rep.Targets = append(rep.Targets, TargetReport{Name: t.Name, Type: t.Type, Stats: stats, Elapsed: time.Since(start), Err: err})
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Check returns the targets called names (all when names is empty) once
// every one of them can be published: its type is implemented and the
// variables it names for its credentials are set. Publish checks this
// before the first upload, rather than stop half way at an unimplemented
// type or a missing password; packyard build --publish checks it before
// building.
func Check(spec *buildspec.Spec, fl *buildspec.Flavour, names []string, getenv func(string) string) ([]*buildspec.PublishTarget, error) {
	targets, err := Select(spec.File, fl, names)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		if _, err := New(t.Type); err != nil {
			return nil, fmt.Errorf("publish target %s: %w", t.Name, err)
		}
		if _, err := AuthFromEnv(t, getenv); err != nil {
			return nil, fmt.Errorf("publish target %s: %w", t.Name, err)
		}
	}
	return targets, nil
}

// Select returns the targets called names, all when names is empty
// (buildspec.SelectPublish).
func Select(file string, fl *buildspec.Flavour, names []string) ([]*buildspec.PublishTarget, error) {
	return buildspec.SelectPublish(file, fl, names)
}

func publishOne(ctx context.Context, opts Options, t *buildspec.PublishTarget) (Stats, error) {
	p, err := New(t.Type)
	if err != nil {
		return Stats{}, err
	}
	auth, err := AuthFromEnv(t, opts.Getenv)
	if err != nil {
		return Stats{}, err
	}
	tr := &Transport{}
	if opts.Transport != nil {
		c := *opts.Transport
		tr = &c
	}
	tr.Auth, tr.DryRun, tr.Stats = auth, opts.DryRun, Stats{}
	defer tr.client().CloseIdleConnections()
	name := t.Name
	tr.Logf = func(format string, args ...any) {
		if opts.Logf != nil {
			opts.Logf("publish %s: "+format, append([]any{name}, args...)...)
		}
	}
	work, err := os.MkdirTemp("", "packyard-publish-")
	if err != nil {
		return Stats{}, err
	}
	defer os.RemoveAll(work)
	key := opts.Key
	if key != nil && !opts.Time.IsZero() {
		key = key.WithTime(opts.Time)
	}
	err = p.Publish(ctx, &Job{
		Target: t, Flavour: opts.Flavour, Dist: opts.Dist, Version: opts.Version, Key: key, Time: opts.Time,
		Transport: tr, Overwrite: opts.Overwrite, Work: work,
		Getenv: opts.Getenv, OCIBase: opts.OCIBase,
	})
	return tr.Stats, err
}

// AuthFromEnv reads the credentials the target names. A named variable
// that is unset or empty is an error, rather than an anonymous upload
// that fails later with a less helpful 401.
func AuthFromEnv(t *buildspec.PublishTarget, getenv func(string) string) (Auth, error) {
	get := func(name string) (string, error) {
		if name == "" {
			return "", nil
		}
		v := ""
		if getenv != nil {
			v = getenv(name)
		}
		if v == "" {
			return "", fmt.Errorf("$%s is not set (the target's credentials are read from it): %w", name, ErrNoCredentials)
		}
		return v, nil
	}
	var a Auth
	var err error
	if a.Username, err = get(t.UsernameEnv); err != nil {
		return Auth{}, err
	}
	if a.Password, err = get(t.PasswordEnv); err != nil {
		return Auth{}, err
	}
	if a.Token, err = get(t.TokenEnv); err != nil {
		return Auth{}, err
	}
	return a, nil
}

// DistVersion is the version of the release in dist, read from the name
// of its source tarball (PRODUCT-VERSION.tar.gz) in manifest.json; ""
// when the manifest lists none.
func DistVersion(dist, product string) (string, error) {
	j := &Job{Dist: dist}
	m, err := j.Manifest()
	if err != nil {
		return "", err
	}
	for _, e := range m.Artifacts {
		if e.Stage != "source" {
			continue
		}
		if v, ok := strings.CutPrefix(e.Path, product+"-"); ok && strings.HasSuffix(v, ".tar.gz") && !strings.Contains(v, "/") {
			return strings.TrimSuffix(v, ".tar.gz"), nil
		}
	}
	return "", nil
}
