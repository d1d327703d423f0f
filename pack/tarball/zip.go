package tarball

import (
	"archive/zip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/packyard/packyard/pack"
)

// WriteZip writes a as a zip archive to w, as reproducibly as Write
// writes a tar.gz: entries sorted with their parent directories, every
// timestamp a.MTime, modes normalised, and no extra fields. The time is
// kept only in the MS-DOS fields (2-second resolution, UTC, 1980 at the
// earliest): archive/zip would otherwise add an extended-timestamp
// field, and owners' ids have no place in a zip at all.
func WriteZip(w io.Writer, a Archive) error {
	entries, err := normalise(a)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	date, tm := msDosTime(a.MTime)
	for _, e := range entries {
		if err := writeZipEntry(zw, e, date, tm); err != nil {
			return fmt.Errorf("zip %s: %w", e.Name, err)
		}
	}
	return zw.Close()
}

func writeZipEntry(zw *zip.Writer, e Entry, date, tm uint16) error {
	h := &zip.FileHeader{Name: e.Name, Method: zip.Deflate, ModifiedDate: date, ModifiedTime: tm}
	switch {
	case e.Dir:
		h.Name += "/"
		h.Method = zip.Store
		h.SetMode(fs.ModeDir | modeOr(e.Mode, 0o755))
		_, err := zw.CreateHeader(h)
		return err
	case e.Link != "":
		h.Method = zip.Store
		h.SetMode(fs.ModeSymlink | 0o777)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return err
		}
		_, err = io.WriteString(fw, e.Link)
		return err
	}
	h.SetMode(modeOr(e.Mode, 0o644))
	fw, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if e.Data != nil {
		_, err := fw.Write(e.Data)
		return err
	}
	f, err := os.Open(e.Source)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(fw, f)
	return err
}

// msDosTime is t in UTC as MS-DOS date and time fields, clamped to the
// range they hold (1980 to 2107).
func msDosTime(t time.Time) (date, tm uint16) {
	t = t.UTC()
	switch {
	case t.Year() < 1980:
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	case t.Year() > 2107:
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tm
}

// ZipPackager writes the tarball/basic template as a zip, for format:
// zip (Choria's windows archives): the package's contents under
// NAME-VERSION-OS-ARCH/.
type ZipPackager struct{}

// FileName is NAME-VERSION-PLATFORM-ARCH.zip.
func (ZipPackager) FileName(info *pack.Info) string {
	return fmt.Sprintf("%s-%s-%s-%s.zip", info.Name, info.Version, platform(info), info.Arch)
}

// Package writes info's contents as a zip.
func (p ZipPackager) Package(info *pack.Info, w io.Writer) error {
	a := archiveOf(info, strings.TrimSuffix(p.FileName(info), ".zip"))
	return WriteZip(w, a)
}
