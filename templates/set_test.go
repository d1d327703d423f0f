package templates

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/packyard/packyard/buildspec"
)

// setProject is a project template that exercises what a Set shares
// between packages: cpkg_ functions met in every kind of node, helpers in
// pipelines, {{define}} in two files under the same name, and a verbatim
// file.
var setProject = map[string]string{
	"el/x/template.yaml": `properties: {dist: el8, greeting: hello}
info:
  summary: '{{capitalize cpkg_name}} {{if truthy cpkg_manage_conf}}managed{{else}}unmanaged{{end}}'
contents:
  - {src: a.txt, dst: /usr/share/x/a.txt}
  - {src: b.txt, dst: /usr/share/x/b.txt}
  - {src: raw.txt, dst: /usr/share/x/raw.txt, verbatim: true}
  - {each: '{{.roles}}', src: item.txt, dst: '/usr/share/x/{{.item}}.txt'}
`,
	"el/x/a.txt": `{{define "part"}}A:{{.}}{{end}}{{template "part" cpkg_greeting}}
{{range split cpkg_roles}}{{. | quote}} {{end}}
{{with $n := cpkg_name}}{{trimPrefix $n "back"}}{{end}}
{{(cpkg_etcdir)}} {{printf "%s-%s" cpkg_name cpkg_version | printf "%q"}}
`,
	"el/x/b.txt":    `{{define "part"}}B:{{.}}{{end}}{{template "part" cpkg_name}} {{join (split .roles) ","}}` + "\n",
	"el/x/raw.txt":  "{{not rendered}}\n",
	"el/x/item.txt": "{{cpkg_item}} of {{cpkg_name}} {{if hasPrefix .item \"ag\"}}agent{{end}}\n",
}

// setInputs are packages of the project above and of the embedded
// templates, with differing properties and targets.
func setInputs(dir string) []Input {
	var ins []Input
	add := func(tmpl string, target *buildspec.CompileTarget, props map[string]string) {
		in := input(tmpl, props)
		in.ProjectDir = dir
		in.Target = target
		in.Package.Name = fmt.Sprintf("pkg%d", len(ins))
		ins = append(ins, in)
	}
	amd64 := &buildspec.CompileTarget{Name: "l64", OS: "linux", Arch: "amd64"}
	arm64 := &buildspec.CompileTarget{Name: "a64", OS: "linux", Arch: "arm64"}
	for _, props := range []map[string]string{
		{"roles": "server agent", "manage_conf": "1"},
		{"roles": "server", "manage_conf": "0", "name": "other"},
		{"roles": "agent server", "services": "", "greeting": "hi", "extra": "only here"},
	} {
		add("el/x", amd64, props)
		add("el/x", arm64, props)
	}
	for _, tmpl := range Names() {
		add(tmpl, amd64, map[string]string{"dist": "el8"})
		add(tmpl, arm64, map[string]string{"dist": "el9", "services": ""})
	}
	return ins
}

// TestSetMatchesRender renders every input with one Set, in turn and from
// several goroutines at once (run with -race), and wants exactly what a
// one-shot Render gives.
func TestSetMatchesRender(t *testing.T) {
	dir := project(t, setProject)
	ins := setInputs(dir)
	want := make([]*Rendered, len(ins))
	for i, in := range ins {
		r, err := Render(in)
		if err != nil {
			t.Fatalf("Render %s (%s): %v", in.Package.Name, in.Package.Template, err)
		}
		want[i] = r
	}
	a := want[0].Info
	for dst, text := range map[string]string{
		"/usr/share/x/a.txt":     "A:hello\n'server' 'agent' \nplane\n/etc/acme/backplane \"backplane-0.26.0acme\"\n",
		"/usr/share/x/b.txt":     "B:backplane server,agent\n",
		"/usr/share/x/raw.txt":   "{{not rendered}}\n",
		"/usr/share/x/agent.txt": "agent of backplane agent\n",
	} {
		if c := content(a, dst); c == nil {
			t.Errorf("%s not shipped", dst)
		} else if string(c.Data) != text {
			t.Errorf("%s = %q, want %q", dst, c.Data, text)
		}
	}
	if a.Summary != "Backplane managed" {
		t.Errorf("summary = %q", a.Summary)
	}

	t.Run("sequential", func(t *testing.T) {
		set := NewSet()
		for round := range 2 {
			for i, in := range ins {
				got, err := set.Render(in)
				if err != nil {
					t.Fatalf("round %d, %s: %v", round, in.Package.Name, err)
				}
				if !reflect.DeepEqual(got, want[i]) {
					t.Errorf("round %d, %s (%s): Set.Render differs from Render:\n%+v\n%+v", round, in.Package.Name, in.Package.Template, got.Info, want[i].Info)
				}
			}
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		set := NewSet()
		var wg sync.WaitGroup
		errs := make([]error, 4*len(ins))
		for i := range errs {
			wg.Go(func() {
				k := i % len(ins)
				got, err := set.Render(ins[k])
				switch {
				case err != nil:
					errs[i] = err
				case !reflect.DeepEqual(got, want[k]):
					errs[i] = fmt.Errorf("%s: Set.Render differs from Render", ins[k].Package.Name)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
	})
}

// TestSetErrors checks that a Set reports what Render reports, whichever
// package it met first: a text parsed for a package that has a property
// must not be reused for one that lacks it, and an error of a file shared
// by a family's templates must name the template being rendered.
func TestSetErrors(t *testing.T) {
	dir := project(t, map[string]string{
		"el/x/template.yaml":     "properties: {dist: el8}\ncontents:\n  - {src: uses.txt, dst: /usr/share/x/uses.txt}\n",
		"el/x/uses.txt":          "{{if .extra}}{{cpkg_extra}}{{end}}\n",
		"el/y/template.yaml":     "properties: {dist: el8}\ncontents:\n  - {src: bad.txt, dst: /usr/share/y/bad.txt}\n",
		"el/z/template.yaml":     "properties: {dist: el8}\ncontents:\n  - {src: bad.txt, dst: /usr/share/y/bad.txt}\n",
		"el/global/bad.txt":      "{{.missing}}\n",
		"el/d1/template.yaml":    "properties: {dist: el8}\ncontents:\n  - {src: dir.txt, dst: /usr/share/d/dir.txt}\n",
		"el/d2/template.yaml":    "properties: {dist: el8}\ncontents:\n  - {src: dir.txt, dst: /usr/share/d/dir.txt}\n",
		"el/global/dir.txt/file": "a directory where a file should be\n",
		"el/w/template.yaml":     "properties: {dist: el8}\ncontents:\n  - {src: defines.txt, dst: /usr/share/w/defines.txt}\n  - {src: calls.txt, dst: /usr/share/w/calls.txt}\n",
		"el/w/defines.txt":       `{{define "helper"}}h{{end}}{{template "helper"}}` + "\n",
		"el/w/calls.txt":         `{{template "helper"}}` + "\n",
		"debian/v/template.yaml": "contents:\n  - {src: bad.txt, dst: /usr/share/v/bad.txt}\n",
	})
	with := func(tmpl string, props map[string]string) Input {
		in := input(tmpl, props)
		in.ProjectDir = dir
		return in
	}
	tests := []struct {
		name string
		ins  []Input // rendered in order with one Set; the last must fail
		want string
	}{
		{"property present, then absent",
			[]Input{with("el/x", map[string]string{"extra": "yes"}), with("el/x", nil)},
			`function "cpkg_extra" not defined`},
		{"shared file, other template",
			[]Input{with("el/y", nil), with("el/z", nil)},
			`template el/z: template: ` + dir},
		{"unreadable shared file, other template",
			[]Input{with("el/d1", nil), with("el/d2", nil)},
			`template el/d2: read ` + dir},
		{"define of one file is not another's",
			[]Input{with("el/w", nil)},
			`template "helper" not defined`},
		{"no such file in another family",
			[]Input{with("el/y", nil), with("debian/v", nil)},
			"template debian/v: file bad.txt not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last := tt.ins[len(tt.ins)-1]
			_, oneShot := Render(last)
			if oneShot == nil || !strings.Contains(oneShot.Error(), tt.want) {
				t.Fatalf("Render: err = %v, want one containing %q", oneShot, tt.want)
			}
			set := NewSet()
			var err error
			for _, in := range tt.ins {
				_, err = set.Render(in)
			}
			if err == nil || err.Error() != oneShot.Error() {
				t.Errorf("Set.Render: err = %v\nwant %v", err, oneShot)
			}
		})
	}
}

// TestSetVerbatimNotShared checks that a package's verbatim file is its
// own copy: writers may modify Content.Data.
func TestSetVerbatimNotShared(t *testing.T) {
	in := input("el/x", nil)
	in.ProjectDir = project(t, setProject)
	in.Package.Properties["roles"] = ""
	set := NewSet()
	r1, err := set.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	c := content(r1.Info, "/usr/share/x/raw.txt")
	copy(c.Data, "XX")
	r2, err := set.Render(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(content(r2.Info, "/usr/share/x/raw.txt").Data); got != "{{not rendered}}\n" {
		t.Errorf("second render's raw.txt = %q", got)
	}
}

// BenchmarkSetRender renders 200 packages of the embedded templates (el8
// and Debian in turn, one service each) with one Set, as `packyard plan`
// does to name their outputs.
func BenchmarkSetRender(b *testing.B) {
	ins := make([]Input, 200)
	for i := range ins {
		tmpl := "el/el8"
		if i%2 == 1 {
			tmpl = "debian/generic"
		}
		ins[i] = input(tmpl, map[string]string{"dist": "el8", "services": "server", "index": fmt.Sprint(i)})
		ins[i].Target = &buildspec.CompileTarget{Name: "t", OS: "linux", Arch: "amd64"}
	}
	for b.Loop() {
		set := NewSet()
		for _, in := range ins {
			if _, err := set.Render(in); err != nil {
				b.Fatal(err)
			}
		}
	}
}
