package publish

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path"
	"path/filepath"
)

// signature is a remote signature file of an index: an armored detached
// signature, or the index clear-signed (InRelease).
type signature struct {
	rel   string
	clear bool
}

// repairSignatures is for an index that is up to date, which a rerun
// leaves alone: it checks that the remote signatures are valid
// signatures of the remote index (data) by the key, and signs again and
// uploads each one that is missing or is not, as of the release's time.
// A run that failed after uploading an index and before its signatures
// left them stale, and clients that check them refuse the repository
// until this repairs it. It reports whether it uploaded any.
func repairSignatures(ctx context.Context, j *Job, base *url.URL, data []byte, dir string, sigs ...signature) (bool, error) {
	if j.Key == nil {
		return false, nil
	}
	var ups []upload
	for _, s := range sigs {
		remote, err := fetchOr(ctx, j, At(base, s.rel), nil)
		if err != nil {
			return false, err
		}
		if remote != nil {
			verify := func() error { return j.Key.Verify(data, remote) }
			if s.clear {
				verify = func() error { return j.Key.VerifyClearsigned(remote, data) }
			}
			if verify() == nil {
				continue
			}
		}
		j.logf("%s%s is missing or is not a valid signature of the index by %s: signing it again", base.Redacted(), s.rel, j.Key.KeyID())
		sign := j.Key.DetachArmored
		if s.clear {
			sign = j.Key.Clearsign
		}
		var b bytes.Buffer
		if err := sign(bytes.NewReader(data), &b); err != nil {
			return false, err
		}
		local := filepath.Join(dir, "resigned-"+path.Base(s.rel))
		if err := os.WriteFile(local, b.Bytes(), 0o644); err != nil {
			return false, err
		}
		ups = append(ups, upload{base: base, rel: s.rel, local: local, policy: Replace})
	}
	if len(ups) == 0 {
		return false, nil
	}
	_, err := j.uploadAll(ctx, ups)
	return err == nil, err
}
