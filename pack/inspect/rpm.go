package inspect

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	rpmutils "github.com/sassoftware/go-rpmutils"
)

// rpm header tags and flags go-rpmutils does not name.
const (
	tagPostTrans = 1152
	senseInterp  = 1 << 8 // requirement of a scriptlet's interpreter
	senseRPMLib  = 1 << 24
)

var headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01}

// checkRPMSizes walks the lead and both header intros and refuses sizes
// past maxHeader before go-rpmutils allocates them.
func checkRPMSizes(f *os.File) error {
	if _, err := f.Seek(96, io.SeekStart); err != nil {
		return err
	}
	for i, name := range []string{"signature", "main"} {
		intro := make([]byte, 16)
		if _, err := io.ReadFull(f, intro); err != nil {
			return fmt.Errorf("%s header: %w", name, err)
		}
		if string(intro[:4]) != string(headerMagic) {
			return fmt.Errorf("%s header: bad magic % x", name, intro[:4])
		}
		il := int64(binary.BigEndian.Uint32(intro[8:12]))
		dl := int64(binary.BigEndian.Uint32(intro[12:16]))
		size := il*16 + dl
		if il > 1<<16 || size > maxHeader {
			return fmt.Errorf("%s header: %d entries, %d bytes: larger than allowed", name, il, size)
		}
		if i == 0 {
			size += (8 - size%8) % 8 // the signature header is padded to 8
		}
		if _, err := f.Seek(size, io.SeekCurrent); err != nil {
			return err
		}
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

func rpmString(h *rpmutils.RpmHeader, tag int) string {
	s, err := h.GetString(tag)
	if err != nil {
		return ""
	}
	return s
}

func readRPM(f *os.File) (*Report, error) {
	if err := checkRPMSizes(f); err != nil {
		return nil, err
	}
	pkg, err := rpmutils.ReadRpm(f)
	if err != nil {
		return nil, fmt.Errorf("rpm header: %w", err)
	}
	h := pkg.Header
	r := &Report{
		Format:      "rpm",
		Name:        rpmString(h, rpmutils.NAME),
		Version:     rpmString(h, rpmutils.VERSION),
		Release:     rpmString(h, rpmutils.RELEASE),
		Arch:        rpmString(h, rpmutils.ARCH),
		Summary:     rpmString(h, rpmutils.SUMMARY),
		Description: rpmString(h, rpmutils.DESCRIPTION),
		Maintainer:  rpmString(h, rpmutils.PACKAGER),
		License:     rpmString(h, rpmutils.LICENSE),
		Homepage:    rpmString(h, rpmutils.URL),
		Depends:     []string{},
		Scripts: Scripts{
			PreInstall:  rpmString(h, rpmutils.PREIN),
			PostInstall: rpmString(h, rpmutils.POSTIN),
			PreRemove:   rpmString(h, rpmutils.PREUN),
			PostRemove:  rpmString(h, rpmutils.POSTUN),
			PostTrans:   rpmString(h, tagPostTrans),
		},
	}
	if e, err := h.GetInts(rpmutils.EPOCH); err == nil && len(e) > 0 {
		r.Epoch = fmt.Sprint(e[0])
	}
	if r.Depends, err = rpmDepends(h); err != nil {
		return nil, err
	}
	files, err := h.GetFiles()
	if err != nil {
		return nil, fmt.Errorf("rpm file list: %w", err)
	}
	if len(files) > maxEntries {
		return nil, fmt.Errorf("rpm file list: %d files, more than %d", len(files), maxEntries)
	}
	r.Files = make([]Entry, 0, len(files))
	for _, fi := range files {
		p, err := entryPath(fi.Name())
		if err != nil {
			return nil, err
		}
		mode := uint32(fi.Mode())
		r.Files = append(r.Files, Entry{
			Path: p, Type: fileType(mode), Mode: modeString(mode), Size: fi.Size(),
			Owner: fi.UserName(), Group: fi.GroupName(),
			Config:    fi.Flags()&rpmutils.RPMFILE_CONFIG != 0,
			NoReplace: fi.Flags()&rpmutils.RPMFILE_NOREPLACE != 0,
			Link:      fi.Linkname(),
		})
	}
	sort.Slice(r.Files, func(i, j int) bool { return r.Files[i].Path < r.Files[j].Path })
	return r, nil
}

// rpmDepends lists the Requires the packager declared, leaving out what
// rpmbuild adds by itself (rpmlib features, scriptlet interpreters).
func rpmDepends(h *rpmutils.RpmHeader) ([]string, error) {
	deps := []string{}
	names, err := h.GetStrings(rpmutils.REQUIRENAME)
	var nst rpmutils.NoSuchTagError
	if errors.As(err, &nst) {
		return deps, nil
	} else if err != nil {
		return nil, fmt.Errorf("rpm requires: %w", err)
	}
	flags, _ := h.GetInts(rpmutils.REQUIREFLAGS)
	versions, _ := h.GetStrings(rpmutils.REQUIREVERSION)
	for i, n := range names {
		var fl int
		if i < len(flags) {
			fl = flags[i]
		}
		if strings.HasPrefix(n, "rpmlib(") || fl&senseRPMLib != 0 {
			continue
		}
		// A scriptlet's interpreter (Requires(post): /bin/sh), which
		// rpmbuild adds by itself; a declared Requires has its own entry.
		if fl&senseInterp != 0 {
			continue
		}
		d := n
		if i < len(versions) && versions[i] != "" {
			op := ""
			if fl&rpmutils.RPMSENSE_LESS != 0 {
				op += "<"
			}
			if fl&rpmutils.RPMSENSE_GREATER != 0 {
				op += ">"
			}
			if fl&rpmutils.RPMSENSE_EQUAL != 0 {
				op += "="
			}
			d += " " + op + " " + versions[i]
		}
		deps = append(deps, d)
	}
	return deps, nil
}

func verifyRPM(f *os.File) []Finding {
	if err := checkRPMSizes(f); err != nil {
		return []Finding{{Error, "rpm: " + err.Error()}}
	}
	var out []Finding
	// Header digests (SHA1/SHA256 of the main header) and the payload
	// digest, when the rpm carries them; signatures are reported by key id
	// only, as no keyring is given.
	if _, _, err := rpmutils.Verify(f, nil); err != nil {
		out = append(out, Finding{Error, "rpm digests: " + err.Error()})
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return append(out, Finding{Error, err.Error()})
	}
	pkg, err := rpmutils.ReadRpm(f)
	if err != nil {
		return append(out, Finding{Error, "rpm header: " + err.Error()})
	}
	if !pkg.Header.HasTag(rpmutils.PAYLOADDIGEST) {
		out = append(out, Finding{Warning, "rpm: no payload digest (rpm < 4.14 or a minimal writer)"})
	}
	for _, tag := range []struct {
		tag  int
		name string
	}{{rpmutils.NAME, "Name"}, {rpmutils.VERSION, "Version"}, {rpmutils.RELEASE, "Release"}, {rpmutils.SUMMARY, "Summary"}, {rpmutils.LICENSE, "License"}} {
		if rpmString(pkg.Header, tag.tag) == "" {
			out = append(out, Finding{Error, "rpm: empty " + tag.name})
		}
	}
	pr, err := pkg.PayloadReaderExtended()
	if err != nil {
		return append(out, Finding{Error, "rpm payload: " + err.Error()})
	}
	for n := 0; ; n++ {
		if n > maxEntries {
			return append(out, Finding{Error, fmt.Sprintf("rpm payload: more than %d entries", maxEntries)})
		}
		fi, err := pr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return append(out, Finding{Error, "rpm payload: " + err.Error()})
		}
		p, err := entryPath(fi.Name())
		if err != nil {
			out = append(out, Finding{Error, "rpm payload: " + err.Error()})
			continue
		}
		if fileType(uint32(fi.Mode())) == "symlink" && linkEscapes(p, fi.Linkname()) {
			out = append(out, Finding{Error, fmt.Sprintf("rpm payload: symlink %s -> %s leaves the root", p, fi.Linkname())})
		}
		if _, err := io.Copy(io.Discard, pr); err != nil {
			return append(out, Finding{Error, fmt.Sprintf("rpm payload: %s: %v", p, err)})
		}
	}
	return out
}
