package stage

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/packyard/packyard/buildspec"
	"github.com/packyard/packyard/pack/checksums"
	"github.com/packyard/packyard/pack/inspect"
	"github.com/packyard/packyard/pack/rpkg"
	"github.com/packyard/packyard/pack/sign"
)

// Checksums writes SHA256SUMS, manifest.json and, with a key,
// SHA256SUMS.asc over everything the run wrote.
type Checksums struct{}

func (Checksums) String() string { return "checksums" }

// Skip never skips: every release carries its checksums.
func (Checksums) Skip(*Context) string { return "" }

// Run hashes the artifacts recorded by the earlier stages into the
// staging dist/. When none were (packyard checksums on an existing
// dist/), it hashes every file of Options.Out and writes the sums there,
// each file atomically.
func (Checksums) Run(c *Context) error {
	dist, arts := c.Dist, c.Artifacts()
	if len(arts) == 0 {
		var err error
		dist = c.Options.Out
		if arts, err = c.scan(dist); err != nil {
			return err
		}
	}
	list := make([]checksums.Artifact, len(arts))
	for i, a := range arts {
		list[i] = checksums.Artifact{Path: a.Path, Stage: a.Stage, Inputs: a.Inputs}
		if c.cache != nil && dist == c.Dist {
			p := filepath.Join(dist, filepath.FromSlash(a.Path))
			list[i].Sum = func() (string, int64, error) { return c.fileSum(p) }
		}
	}
	var signer checksums.Signer
	if c.Options.Signing != nil {
		key, err := sign.FromSigning(c.Options.Signing)
		if err != nil {
			return &UsageError{Err: err}
		}
		signer = key.WithTime(c.Version.Time)
	}
	return checksums.Write(dist, list, signer)
}

// scan lists the files of an existing dist/ with the plan's stage for
// each, so that packyard checksums gives the manifest build would.
func (c *Context) scan(dist string) ([]Artifact, error) {
	byOutput := map[string]buildspec.Stage{}
	for _, s := range c.Plan.Stages {
		for _, o := range s.Outputs {
			byOutput[o] = s
		}
	}
	var arts []Artifact
	err := filepath.Walk(dist, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		r := rel(dist, p)
		switch r {
		case buildspec.ChecksumsFile, buildspec.SignatureFile, buildspec.ManifestFile:
			return nil
		}
		a := Artifact{Path: r, Stage: "unplanned"}
		if s, ok := byOutput[r]; ok {
			a.Stage, a.Inputs = s.ID, s.Inputs
		}
		arts = append(arts, a)
		return nil
	})
	return arts, err
}

// Verify checks every package the run wrote against its format's rules.
type Verify struct{}

func (Verify) String() string { return "verify" }

// Skip skips runs that wrote no package.
func (Verify) Skip(c *Context) string {
	for _, a := range c.Artifacts() {
		if IsPackage(a.Path) {
			return ""
		}
	}
	return "no packages"
}

// Run fails on the first package (in path order) with an error-level
// finding. The packages are read in parallel: verifying one decompresses
// its whole payload, and this stage ends the build with nothing else to
// run beside it. With the stage cache, a package whose bytes passed
// before is not read again.
func (Verify) Run(c *Context) error {
	type check struct {
		path, key string
		problems  []string
		err       error
	}
	var checks []*check
	for _, a := range c.Artifacts() {
		if IsPackage(a.Path) {
			checks = append(checks, &check{path: a.Path})
		}
	}
	var g errgroup.Group
	g.SetLimit(c.Options.Jobs)
	for _, ch := range checks {
		g.Go(func() error {
			if c.cache != nil {
				k := c.key("verify")
				k.String("name", ch.path)
				c.keyFile(k, "package", filepath.Join(c.Dist, ch.path))
				if ch.key, ch.err = k.Sum(); ch.err != nil {
					return nil
				}
				if c.restore(ch.key, c.Dist, nil) {
					c.markCached("verify/" + ch.path)
					return nil
				}
			}
			for _, f := range VerifyFile(filepath.Join(c.Dist, ch.path)) {
				if f.Error {
					ch.problems = append(ch.problems, f.Message)
				}
			}
			return nil
		})
	}
	_ = g.Wait() // each check keeps its own error
	all := true
	for _, ch := range checks {
		if ch.err != nil {
			return ch.err
		}
		if len(ch.problems) > 0 {
			return fmt.Errorf("verify %s:\n  %s", ch.path, strings.Join(ch.problems, "\n  "))
		}
		if c.wasCached("verify/" + ch.path) {
			continue
		}
		all = false
		if ch.key != "" {
			// No files: the entry records that these bytes passed.
			c.save(ch.key, c.Dist, nil, nil)
		}
	}
	if all && c.cache != nil {
		c.markCached(Verify{}.String())
	}
	return nil
}

// Finding is one result of VerifyFile.
type Finding struct {
	Error   bool   `json:"error"`
	Message string `json:"message"`
}

// VerifyFile checks an .rpkg against every rule of Rudder's format and an
// .rpm or .deb against the basic rules of theirs.
func VerifyFile(path string) []Finding {
	var out []Finding
	if strings.HasSuffix(path, ".rpkg") {
		f, err := os.Open(path)
		if err != nil {
			return []Finding{{true, err.Error()}}
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return []Finding{{true, err.Error()}}
		}
		for _, x := range rpkg.Verify(f, st.Size()) {
			out = append(out, Finding{x.Severity == rpkg.Error, x.String()})
		}
		return out
	}
	for _, x := range inspect.Verify(path) {
		out = append(out, Finding{x.Severity == inspect.Error, x.String()})
	}
	return out
}
