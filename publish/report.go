package publish

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/packyard/packyard/version"
)

// WriteTable writes the report as the table that ends a publish's
// progress: per target the files uploaded and found unchanged, the
// requests and bytes sent and the time taken, then the totals. Bytes are
// exact, so that scripts (bench/run-publish.sh) can read them.
func (r *Report) WriteTable(w io.Writer) error {
	up := "uploaded"
	if r.DryRun {
		up = "to upload"
	}
	rows := [][]string{{"target", "type", up, "unchanged", "requests", "bytes sent", "time", "result"}}
	var total TargetReport
	for _, t := range r.Targets {
		result := "ok"
		if t.Err != nil {
			result = "failed"
		}
		rows = append(rows, t.row(t.Name, t.Type, result))
		total.Uploaded += t.Uploaded
		total.Unchanged += t.Unchanged
		total.Requests += t.Requests
		total.Sent += t.Sent
		total.Elapsed += t.Elapsed
	}
	if len(r.Targets) > 1 {
		rows = append(rows, total.row("total", "", ""))
	}
	width := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		var line strings.Builder
		for i, c := range row {
			switch {
			case i == 0:
				fmt.Fprintf(&line, "%-*s", width[i], c)
			case i == 1 || i == len(row)-1:
				// Names and words read left-aligned, figures right-aligned.
				fmt.Fprintf(&line, "  %-*s", width[i], c)
			default:
				fmt.Fprintf(&line, "  %*s", width[i], c)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// row is the table row of t's figures.
func (t TargetReport) row(name, typ, result string) []string {
	return []string{name, typ, strconv.Itoa(t.Uploaded), strconv.Itoa(t.Unchanged), strconv.Itoa(t.Requests),
		strconv.FormatInt(t.Sent, 10), fmt.Sprintf("%.2fs", t.Elapsed.Seconds()), result}
}

// DistTime is the time of the release in dist: the "time" line of the
// .version file in its source tarball (PRODUCT-VERSION.tar.gz), which is
// the SOURCE_DATE_EPOCH packyard build stamped every artifact with. It
// is zero when the dist holds no such tarball or the file no time.
func DistTime(dist, product, v string) (time.Time, error) {
	st, err := DistStamp(dist, product, v)
	return st.Time, err
}

// DistStamp is the .version file of the release in dist, from its source
// tarball (PRODUCT-VERSION.tar.gz): the version, commit and time packyard
// build stamped the artifacts with. It is empty when the dist holds no
// such tarball or the tarball no .version.
func DistStamp(dist, product, v string) (version.Version, error) {
	prefix := product + "-" + v
	name := filepath.Join(dist, prefix+".tar.gz")
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return version.Version{}, nil
	}
	if err != nil {
		return version.Version{}, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return version.Version{}, fmt.Errorf("%s: %w", name, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return version.Version{}, nil
		}
		if err != nil {
			return version.Version{}, fmt.Errorf("%s: %w", name, err)
		}
		if path.Clean(h.Name) != prefix+"/"+version.FileName {
			continue
		}
		// A .version is a few lines; a bound keeps a forged entry from
		// filling memory.
		b, err := io.ReadAll(io.LimitReader(tr, 4096))
		if err != nil {
			return version.Version{}, fmt.Errorf("%s: %w", name, err)
		}
		return version.ParseFile(name+":"+h.Name, b)
	}
}
