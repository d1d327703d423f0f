package rpkg

import (
	"fmt"
	"io/fs"
	"sort"
)

// Summary is what `packyard inspect x.rpkg` prints: the metadata, each
// tarball's files and the scripts. The JSON tags are the --json output.
type Summary struct {
	Metadata *Metadata        `json:"metadata"`
	Members  []string         `json:"members"`
	Tarballs []TarballSummary `json:"tarballs"`
	Scripts  []ScriptSummary  `json:"scripts"`
}

// TarballSummary lists one tarball's entries.
type TarballSummary struct {
	Name        string        `json:"name"`
	Destination string        `json:"destination,omitempty"` // from metadata content
	Check       string        `json:"check"`
	Files       []FileSummary `json:"files"`
}

// FileSummary is one tar entry.
type FileSummary struct {
	Path     string `json:"path"`
	Type     string `json:"type"`
	Mode     string `json:"mode"` // octal, e.g. "0755"
	Size     int64  `json:"size"`
	Linkname string `json:"linkname,omitempty"`
}

// ScriptSummary is one maintainer script of scripts.txz.
type ScriptSummary struct {
	Name string `json:"name"`
	Mode string `json:"mode"`
	Body string `json:"body"`
}

// Inspect summarizes a package read by Open.
func (p *Package) Inspect() *Summary {
	s := &Summary{Metadata: p.Metadata, Members: []string{}, Tarballs: []TarballSummary{}, Scripts: []ScriptSummary{}}
	for _, m := range p.Members {
		s.Members = append(s.Members, m.Name)
	}
	for _, t := range p.Tarballs {
		ts := TarballSummary{Name: t.Name, Check: t.Check, Files: []FileSummary{}}
		if p.Metadata != nil {
			ts.Destination = p.Metadata.Content[t.Name]
		}
		for _, e := range t.Entries {
			ts.Files = append(ts.Files, FileSummary{
				Path: e.Path, Type: e.Type, Mode: octal(e), Size: e.Size, Linkname: e.Linkname,
			})
			if t.Name == scriptsMember && e.Type == "file" && isScriptName(e.Path) {
				s.Scripts = append(s.Scripts, ScriptSummary{Name: e.Path, Mode: octal(e), Body: string(t.Scripts[e.Path])})
			}
		}
		s.Tarballs = append(s.Tarballs, ts)
	}
	// Scripts in the order an install runs them.
	order := map[string]int{}
	for i, n := range scriptNames {
		order[n] = i
	}
	sort.SliceStable(s.Scripts, func(i, j int) bool { return order[s.Scripts[i].Name] < order[s.Scripts[j].Name] })
	return s
}

// octal spells a mode as tar and ls -l users read it, set-id bits included.
func octal(e Entry) string {
	m := uint32(e.Mode.Perm())
	if e.Mode&fs.ModeSetuid != 0 {
		m |= 0o4000
	}
	if e.Mode&fs.ModeSetgid != 0 {
		m |= 0o2000
	}
	if e.Mode&fs.ModeSticky != 0 {
		m |= 0o1000
	}
	return fmt.Sprintf("%04o", m)
}
