package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// An alias is a template name of Choria's packager that one of Packyard's
// embedded templates stands in for, so that a Choria spec whose project
// has no templates of its own builds as it is.
type alias struct {
	format string
	// target is the embedded template, given the package's properties.
	target func(props map[string]string) (string, error)
}

// aliases are Choria's template names Packyard maps. windows/64bit is not
// among them: Choria's is a Windows installer, which Packyard has no
// writer for; archive/basic with format: zip ships the windows binary.
func aliases() map[string]alias {
	fixed := func(t string) func(map[string]string) (string, error) {
		return func(map[string]string) (string, error) { return t, nil }
	}
	return map[string]alias{
		"el/generic":    {FormatRPM, elGeneric},
		"archive/basic": {FormatTar, fixed("tarball/basic")},
	}
}

// elGeneric picks el/el7, el/el8 or el/el9 from the dist property, or
// distro, the other name Choria's specs give it.
func elGeneric(props map[string]string) (string, error) {
	d := strings.TrimSpace(props["dist"])
	if d == "" {
		d = strings.TrimSpace(props["distro"])
	}
	switch d {
	case "el7", "el8", "el9":
		return "el/" + d, nil
	case "":
		return "", &AliasError{Template: "el/generic", Property: "dist", Msg: "el/generic needs dist (or distro): el7, el8 or el9"}
	}
	key := "dist"
	if strings.TrimSpace(props["dist"]) == "" {
		key = "distro"
	}
	return "", &AliasError{Template: "el/generic", Property: key, Msg: fmt.Sprintf("el/generic: dist %q: want el7, el8 or el9", d)}
}

// AliasError is a package property that a Choria template name cannot be
// mapped with, such as el/generic without a dist.
type AliasError struct {
	Template string
	Property string // the property at fault, for the message's position
	Msg      string
}

func (e *AliasError) Error() string { return e.Msg }

// ChoriaFormatError is a project template in Choria's own format
// (config.yaml and build.sh) met where only a Packyard template will do:
// rendering it as one (the Dagger module, rpmspec), or Packyard's template
// of a family whose global is Choria's. Using its files one by one over
// Packyard's would mix two packagings into one package.
type ChoriaFormatError struct {
	Template string
	Dir      string // the directory holding config.yaml or build.sh
}

func (e *ChoriaFormatError) Error() string {
	return fmt.Sprintf("template %s: %s is in Choria's format (config.yaml, build.sh); its files are never mixed with Packyard's templates: "+
		"packyard build and package run a template of that format whole, and nothing else uses it (docs/choria.md)",
		e.Template, e.Dir)
}

// resolve returns the template that renders a package naming tmpl: tmpl
// itself when the project or the embedded templates have it, else the
// embedded template a Choria name stands for. A project template in
// Choria's format is an error, whichever name.
func resolve(projectDir, tmpl string, props map[string]string) (string, error) {
	if err := choriaFormat(projectDir, tmpl); err != nil {
		return "", err
	}
	if exists(projectDir, tmpl) {
		return tmpl, nil
	}
	if a, ok := aliases()[tmpl]; ok {
		return a.target(props)
	}
	return tmpl, nil
}

// exists reports whether the project or the embedded templates have
// tmpl's template.yaml.
func exists(projectDir, tmpl string) bool {
	rel := tmpl + "/template.yaml"
	if projectDir != "" {
		if _, err := os.Stat(filepath.Join(projectDir, filepath.FromSlash(ProjectDir), filepath.FromSlash(rel))); err == nil {
			return true
		}
	}
	_, err := fs.Stat(embedded, rel)
	return err == nil
}

// choriaFormat returns a *ChoriaFormatError when the project's directory
// of tmpl, or its family's global, is in Choria's format: it holds
// config.yaml or build.sh, or (global) it has no template.yaml while a
// template of the family is in Choria's format, so that its files are
// Choria's too.
func choriaFormat(projectDir, tmpl string) error {
	if projectDir == "" {
		return nil
	}
	family, name, ok := strings.Cut(tmpl, "/")
	if !ok {
		return nil
	}
	root := filepath.Join(projectDir, filepath.FromSlash(ProjectDir), family)
	for _, dir := range []string{name, "global"} {
		is, err := choriaDir(filepath.Join(root, dir))
		if err != nil {
			return fmt.Errorf("template %s: %w", tmpl, err)
		}
		if is {
			return &ChoriaFormatError{Template: tmpl, Dir: filepath.Join(ProjectDir, family, dir)}
		}
	}
	global := filepath.Join(root, "global")
	if _, err := os.Stat(global); err != nil {
		return nil
	}
	if _, err := os.Stat(filepath.Join(global, "template.yaml")); err == nil {
		return nil
	}
	dirs, _ := os.ReadDir(root)
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		if is, err := choriaDir(filepath.Join(root, d.Name())); err == nil && is {
			return &ChoriaFormatError{Template: tmpl, Dir: filepath.Join(ProjectDir, family, "global")}
		}
	}
	return nil
}

// choriaDir reports whether dir holds Choria's config.yaml or build.sh.
func choriaDir(dir string) (bool, error) {
	for _, f := range []string{"config.yaml", "build.sh"} {
		_, err := os.Stat(filepath.Join(dir, f))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return false, err
		}
	}
	return false, nil
}
