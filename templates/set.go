package templates

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"text/template"
	"text/template/parse"
)

// A Set renders many packages in one run. It reads and parses each
// template.yaml and template file once, and parses each text once per set
// of property names, where Render does all of that again for every
// package: naming the outputs of a 200-package plan renders 200 packages.
//
// A Set assumes the template files do not change while it is in use; make
// one per run. Its methods may be called from several goroutines at once.
// The zero Set is not usable; call NewSet.
type Set struct {
	helpers template.FuncMap // read-only once made

	mu    sync.Mutex
	specs map[specKey]*specEntry
	files map[fileKey]*fileEntry
	texts map[textKey]*parsed
	// parsers by the names of their functions (see renderer.names).
	parsers map[string]*parser
}

// NewSet returns an empty Set.
func NewSet() *Set {
	return &Set{
		helpers: helpers(),
		specs:   map[specKey]*specEntry{},
		files:   map[fileKey]*fileEntry{},
		texts:   map[textKey]*parsed{},
		parsers: map[string]*parser{},
	}
}

type specKey struct{ project, template string }

type specEntry struct {
	spec *Spec
	err  error
}

type fileKey struct{ project, rel string }

type fileEntry struct {
	data  []byte
	where string
	err   error
}

// textKey names a parse: the same text parses alike under the same
// function names (text/template checks them at parse time), whatever
// the functions return.
type textKey struct{ funcs, name, text string }

// parsed is the outcome of parsing one text: its templates (more than
// one when the text defines some) or the parse error.
type parsed struct {
	trees []namedTree
	funcs []string // the functions of the map the trees call, sorted
	err   error
}

type namedTree struct {
	name string
	tree *parse.Tree
}

// Render renders the package's template into a pack.Info, as the
// package-level Render does, reusing what the set has read and parsed.
func (s *Set) Render(in Input) (*Rendered, error) {
	if in.Package == nil {
		return nil, errors.New("render: no package")
	}
	tmpl, err := resolve(in.ProjectDir, in.Package.Template, in.Package.Properties)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", in.Package.Name, err)
	}
	src, err := newSource(in.ProjectDir, tmpl)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", in.Package.Name, err)
	}
	src.cache = s
	spec, err := s.spec(src)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", in.Package.Name, err)
	}
	data, err := properties(in, spec)
	if err != nil {
		return nil, err
	}
	r := s.renderer(src, data)
	info, err := r.info(in, spec)
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", in.Package.Name, err)
	}
	format, err := archiveFormat(spec.Format, data["format"])
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", in.Package.Name, err)
	}
	return &Rendered{Format: format, Info: info}, nil
}

// archiveFormat is the writer's format of a package of a template of
// format: a tar template writes a tar.gz, or a zip when the package's
// format property says so, as Choria's archive templates do.
func archiveFormat(format, property string) (string, error) {
	if format != FormatTar {
		return format, nil
	}
	switch property {
	case "", "tgz", "tar.gz":
		return FormatTar, nil
	case "zip":
		return FormatZip, nil
	}
	return "", fmt.Errorf("format %q: want tgz or zip", property)
}

// spec returns the merged template.yaml of src's template. The Spec is
// shared by every package of that template: the renderer only reads it.
func (s *Set) spec(src *source) (*Spec, error) {
	k := specKey{src.project, src.template}
	s.mu.Lock()
	e, ok := s.specs[k]
	s.mu.Unlock()
	if !ok {
		// Two goroutines may both load a spec; they get equal results,
		// and the first one stored is kept.
		sp, err := src.spec()
		e = &specEntry{sp, err}
		s.mu.Lock()
		if old, ok := s.specs[k]; ok {
			e = old
		} else {
			s.specs[k] = e
		}
		s.mu.Unlock()
	}
	return e.spec, e.err
}

// file reads rel from the project's templates directory, else the
// embedded templates, once per set. Errors other than fs.ErrNotExist are
// returned unwrapped, for the caller to name its template.
func (s *Set) file(project, rel string) ([]byte, string, error) {
	k := fileKey{project, rel}
	s.mu.Lock()
	e, ok := s.files[k]
	s.mu.Unlock()
	if !ok {
		b, where, err := readLayer(project, rel)
		e = &fileEntry{b, where, err}
		s.mu.Lock()
		if old, ok := s.files[k]; ok {
			e = old
		} else {
			s.files[k] = e
		}
		s.mu.Unlock()
	}
	return e.data, e.where, e.err
}

// parse returns text parsed as template name for r.
func (s *Set) parse(r *renderer, name, text string) *parsed {
	k := textKey{r.names, name, text}
	s.mu.Lock()
	p, ok := s.texts[k]
	s.mu.Unlock()
	if ok {
		return p
	}
	p = parseText(s.parser(r), name, text)
	s.mu.Lock()
	if old, ok := s.texts[k]; ok {
		p = old
	} else {
		s.texts[k] = p
	}
	s.mu.Unlock()
	return p
}

// parser returns a template holding r's function map fm, to parse copies
// of: one per set of function names, as Funcs is the costly part.
func (s *Set) parser(r *renderer) *parser {
	s.mu.Lock()
	p, ok := s.parsers[r.names]
	s.mu.Unlock()
	if ok {
		return p
	}
	fm := funcs(s.helpers, r.data)
	p = &parser{template.New("").Option("missingkey=error").Funcs(fm), fm}
	s.mu.Lock()
	if old, ok := s.parsers[r.names]; ok {
		p = old
	} else {
		s.parsers[r.names] = p
	}
	s.mu.Unlock()
	return p
}

// A parser is a template holding a function map, to parse copies of.
type parser struct {
	t  *template.Template // never parsed into, and so safe to share
	fm template.FuncMap   // t's functions, read-only
}

// parseText parses text as a template of its own with pr's functions, as
// a one-shot render would, and keeps the trees the parse made and the
// functions of pr's map they call.
func parseText(pr *parser, name, text string) *parsed {
	c, err := pr.t.Clone()
	if err != nil {
		return &parsed{err: err}
	}
	t, err := c.New(name).Parse(text)
	if err != nil {
		return &parsed{err: err}
	}
	p := &parsed{}
	called := map[string]bool{}
	all := false
	for _, t := range t.Templates() {
		if t.Tree == nil {
			continue
		}
		p.trees = append(p.trees, namedTree{t.Name(), t.Tree})
		if !calls(t.Tree.Root, called) {
			all = true
		}
	}
	// Sorted so that binding adds the trees in the same order every time.
	sort.Slice(p.trees, func(i, j int) bool { return p.trees[i].name < p.trees[j].name })
	for f := range pr.fm {
		// Builtins such as printf are not in fm and need no binding.
		if all || called[f] {
			p.funcs = append(p.funcs, f)
		}
	}
	sort.Strings(p.funcs)
	return p
}

// calls adds to called the functions the tree under n calls. It returns
// false if it met a node it does not know, whose calls it cannot tell:
// the caller then binds every function.
func calls(n parse.Node, called map[string]bool) bool {
	switch n := n.(type) {
	case nil:
		return true
	case *parse.IdentifierNode:
		called[n.Ident] = true
	case *parse.ListNode:
		if n == nil {
			return true
		}
		for _, c := range n.Nodes {
			if !calls(c, called) {
				return false
			}
		}
	case *parse.ActionNode:
		return calls(n.Pipe, called)
	case *parse.PipeNode:
		if n == nil {
			return true
		}
		for _, c := range n.Cmds {
			if !calls(c, called) {
				return false
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if !calls(a, called) {
				return false
			}
		}
	case *parse.ChainNode:
		return calls(n.Node, called)
	case *parse.IfNode:
		return calls(n.Pipe, called) && calls(n.List, called) && calls(n.ElseList, called)
	case *parse.RangeNode:
		return calls(n.Pipe, called) && calls(n.List, called) && calls(n.ElseList, called)
	case *parse.WithNode:
		return calls(n.Pipe, called) && calls(n.List, called) && calls(n.ElseList, called)
	case *parse.TemplateNode:
		return calls(n.Pipe, called)
	case *parse.TextNode, *parse.CommentNode, *parse.FieldNode, *parse.VariableNode,
		*parse.DotNode, *parse.NilNode, *parse.BoolNode, *parse.NumberNode,
		*parse.StringNode, *parse.BreakNode, *parse.ContinueNode:
	default:
		return false
	}
	return true
}

// bind returns template name of p ready to run with base's functions.
// Parse trees are read-only once parsed, so every package shares them.
func (p *parsed) bind(base *template.Template, name string) (*template.Template, error) {
	if p.err != nil {
		return nil, p.err
	}
	if len(p.trees) == 1 {
		// The common case, a text that defines no template of its own,
		// needs no entry in base's set of templates: nothing can call it.
		t := base.New(name)
		t.Tree = p.trees[0].tree
		return t, nil
	}
	// The text defines templates: bind them in a copy of base, so that
	// they do not leak into the other values base renders.
	c, err := base.Clone()
	if err != nil {
		return nil, err
	}
	var t *template.Template
	for _, nt := range p.trees {
		added, err := c.AddParseTree(nt.name, nt.tree)
		if err != nil {
			return nil, err
		}
		if nt.name == name {
			t = added
		}
	}
	if t == nil {
		return nil, fmt.Errorf("template: %s: parsed to nothing", name)
	}
	return t, nil
}
