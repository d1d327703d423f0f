package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"time"

	"github.com/packyard/packyard/buildspec"
)

// Aptly publishes debs through an aptly server's REST API: it uploads
// the debs (POST /api/files/DIR), adds them to the target's local repo
// (POST /api/repos/REPO/file/DIR) and updates the repo's publish point
// (PUT /api/publish/PREFIX/SUITE), which aptly signs with its own key.
// The publish point must exist: publishing a repo the first time chooses
// its architectures and signing, which is the aptly admin's call.
//
// A deb already in the repo with the same SHA256 is not uploaded again;
// one with the same name, version and architecture but other content is
// a conflict unless --overwrite (forceReplace).
type Aptly struct{}

// Publish implements Publisher.
func (Aptly) Publish(ctx context.Context, j *Job) error {
	files, err := j.Packages("deb", func(name string) bool { return strings.HasSuffix(name, ".deb") })
	if err != nil {
		return err
	}
	api, err := j.BaseURL(nil)
	if err != nil {
		return err
	}
	var suites []string
	bySuite := map[string][]File{}
	for _, f := range files {
		suite := buildspec.ExpandURL(j.Target.Suite, j.Version, f.Package.Properties["dist"], f.Package.Properties["target_arch"])
		if !cleanRel(suite) || strings.Contains(suite, "/") {
			return fmt.Errorf("package %s: suite %q is not a single path segment", f.Package.Name, suite)
		}
		if _, ok := bySuite[suite]; !ok {
			suites = append(suites, suite)
		}
		bySuite[suite] = append(bySuite[suite], f)
	}
	for _, suite := range suites {
		if err := publishAptly(ctx, j, api, suite, bySuite[suite]); err != nil {
			return err
		}
	}
	return nil
}

func publishAptly(ctx context.Context, j *Job, api *url.URL, suite string, files []File) error {
	repo := j.Target.Repo
	var send []File
	for _, f := range files {
		name := path.Base(f.Path)
		parts := strings.Split(strings.TrimSuffix(name, ".deb"), "_")
		if len(parts) != 3 {
			return fmt.Errorf("%s: want a deb named NAME_VERSION_ARCH.deb", f.Path)
		}
		// aptly's package query: name (= version) {arch}.
		q := url.Values{"q": {fmt.Sprintf("%s (= %s) {%s}", parts[0], parts[1], parts[2])}, "format": {"details"}}
		u := At(api, "api/repos/"+repo+"/packages")
		u.RawQuery = q.Encode()
		b, err := j.Transport.Call(ctx, http.MethodGet, u, "", nil)
		if err != nil {
			return err
		}
		var found []struct {
			SHA256 string `json:"SHA256"`
		}
		if err := json.Unmarshal(b, &found); err != nil {
			return fmt.Errorf("aptly repo %s: package list: %w", j.Target.Repo, err)
		}
		switch {
		case len(found) == 0:
			send = append(send, f)
		case found[0].SHA256 == f.SHA256:
			j.Transport.Stats.Unchanged++
			j.logf("unchanged %s in aptly repo %s", name, j.Target.Repo)
		case j.Overwrite:
			send = append(send, f)
		default:
			return fmt.Errorf("%s in aptly repo %s: %w (use --overwrite to replace it)", name, j.Target.Repo, ErrConflict)
		}
	}
	if len(send) > 0 {
		// A directory of the server's upload area for this run alone;
		// aptly empties it when it adds the files.
		dir := fmt.Sprintf("packyard-%s-%d", j.Flavour.Product, time.Now().UnixNano())
		body, contentType, err := multipartDebs(j, send)
		if err != nil {
			return err
		}
		verb := "upload"
		if j.Transport.DryRun {
			verb = "would upload"
		}
		for _, f := range send {
			j.logf("%s %s (%s)", verb, path.Base(f.Path), size(f.Size))
		}
		j.logf("%s %d deb(s) to %s (%s)", verb, len(send), At(api, "api/files/"+dir).Redacted(), size(int64(len(body))))
		if _, err := j.Transport.Call(ctx, http.MethodPost, At(api, "api/files/"+dir), contentType, body); err != nil {
			return err
		}
		j.Transport.Stats.Uploaded += len(send)
		add := At(api, "api/repos/"+repo+"/file/"+dir)
		if j.Overwrite {
			add.RawQuery = "forceReplace=1"
		}
		b, err := j.Transport.Call(ctx, http.MethodPost, add, "", nil)
		if err != nil {
			return err
		}
		if err := aptlyReport(b, j.Target.Repo); err != nil {
			return err
		}
	}
	// Updating the publish point regenerates and re-signs its indexes on
	// the server; done on every run, so that a run that failed after
	// adding the debs is completed by the next.
	prefix := aptlyPrefix(j.Target.Prefix)
	signing := map[string]any{"Batch": true}
	if j.Target.GPGKey != "" {
		signing["GpgKey"] = j.Target.GPGKey
	}
	req, _ := json.Marshal(map[string]any{"Signing": signing, "ForceOverwrite": j.Overwrite})
	pub := At(api, "api/publish/"+prefix+"/"+suite)
	if _, err := j.Transport.Call(ctx, http.MethodPut, pub, "application/json", req); err != nil {
		return fmt.Errorf("update the publish point %s/%s (publish the repo once with aptly first): %w", j.Target.Prefix, suite, err)
	}
	j.logf("aptly repo %s: %d deb(s) added, publish point %s/%s updated", j.Target.Repo, len(send), j.Target.Prefix, suite)
	return nil
}

// multipartDebs is a multipart/form-data body holding the files, as
// aptly's /api/files takes them. It is built in memory, so that each try
// of the request can send it again.
func multipartDebs(j *Job, files []File) ([]byte, string, error) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range files {
		part, err := w.CreateFormFile("file", path.Base(f.Path))
		if err != nil {
			return nil, "", err
		}
		in, err := os.Open(f.Local(j.Dist))
		if err != nil {
			return nil, "", err
		}
		_, err = io.Copy(part, in)
		in.Close()
		if err != nil {
			return nil, "", fmt.Errorf("read %s: %w", f.Path, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return b.Bytes(), w.FormDataContentType(), nil
}

// aptlyReport checks the answer to adding files to a repo.
func aptlyReport(b []byte, repo string) error {
	var r struct {
		FailedFiles []string
		Report      struct {
			Warnings []string
			Added    []string
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("aptly repo %s: add: %w", repo, err)
	}
	if len(r.FailedFiles) > 0 {
		return fmt.Errorf("aptly repo %s refused %s: %s", repo, strings.Join(r.FailedFiles, ", "), strings.Join(r.Report.Warnings, "; "))
	}
	return nil
}

// aptlyPrefix spells a publish prefix for the API: "." is ":.", and in
// others "_" is doubled and "/" becomes "_".
func aptlyPrefix(p string) string {
	if p == "" || p == "." {
		return ":."
	}
	return strings.ReplaceAll(strings.ReplaceAll(p, "_", "__"), "/", "_")
}
