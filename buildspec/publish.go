package buildspec

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// keyPublish is the flavour key holding the publish targets.
const keyPublish = "publish"

// The publish target types.
const (
	PublishYum    = "yum"
	PublishApt    = "apt"
	PublishAptly  = "aptly"
	PublishOCI    = "oci"
	PublishHTTP   = "http"
	PublishRudder = "rudder"
)

// PublishTarget is one named destination of a flavour's publish section:
//
//	publish:
//	  el:
//	    type: yum
//	    url: https://repo.example.com/el/{{dist}}/{{arch}}
//	    packages: [el8_64, el9_64]
//	    username_env: REPO_USER
//	    password_env: REPO_PASSWORD
//
// Credentials are never in the spec: it names the environment variables
// that hold them, read when publishing.
type PublishTarget struct {
	Name string
	Type string
	// URL is the repository base, with {{version}}, {{dist}} and {{arch}}
	// unexpanded (see ExpandURL); empty for oci.
	URL string
	// Packages names packages of the flavour; empty means every package
	// whose files the type publishes.
	Packages []string
	// The names of the environment variables holding credentials: a
	// username and password (Basic auth) or a token (Bearer), or none.
	UsernameEnv, PasswordEnv, TokenEnv string
	// Suite is the apt/aptly distribution, e.g. bookworm; default {{dist}}.
	Suite string
	// Component is the apt component; default main.
	Component string
	// Repo is the aptly local repository, Prefix its publish point's
	// prefix (default "."), GPGKey the key id the aptly server signs
	// with (default: its default key).
	Repo, Prefix, GPGKey string
	// Image and Tags are the oci repository and its tags (default
	// {{version}}); Base is the base image (default DefaultBaseImage),
	// Binaries the linux compile targets that get an image (default all),
	// Insecure allows a plain-HTTP registry.
	Image    string
	Tags     []string
	Base     string
	Binaries []string
	Insecure bool
	// Channel is the rudder repository's channel (release or nightly).
	Channel string
	// Line is where the target is named in the spec; 0 when unknown.
	Line int
}

// publishTypes are the target types and the keys each takes beside type.
func publishTypes() map[string][]string {
	auth := []string{"password_env", "token_env", "username_env"}
	with := func(keys ...string) []string {
		out := append(append([]string{}, auth...), keys...)
		sort.Strings(out)
		return out
	}
	return map[string][]string{
		PublishYum:    with("url", "packages"),
		PublishApt:    with("url", "packages", "suite", "component"),
		PublishAptly:  with("url", "packages", "repo", "suite", "prefix", "gpg_key"),
		PublishOCI:    with("image", "tags", "base", "binaries", "insecure"),
		PublishHTTP:   with("url"),
		PublishRudder: with("url", "packages", "channel"),
	}
}

func publishTypeNames() []string {
	var names []string
	for n := range publishTypes() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// urlPlaceholders are the names a publish URL may use. {{dist}} and
// {{arch}} come from each package's dist and target_arch properties, so
// only the types whose repositories are per distribution take them (a
// Rudder repository is laid out by Rudder version instead).
func urlPlaceholders(typ string) []string {
	switch typ {
	case PublishYum, PublishApt, PublishAptly:
		return []string{"arch", "dist", "version"}
	}
	return []string{"version"}
}

// gpgKeyRE is a key id or fingerprint, with or without 0x.
var gpgKeyRE = regexp.MustCompile(`^(0x)?([0-9A-Fa-f]{8}|[0-9A-Fa-f]{16}|[0-9A-Fa-f]{40})$`)

// envNameRE is what an environment variable name named by *_env may be.
var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ExpandURL expands {{version}}, {{dist}} and {{arch}} in pattern.
func ExpandURL(pattern, version, dist, arch string) string {
	return placeholderRE.ReplaceAllStringFunc(pattern, func(m string) string {
		switch placeholderRE.FindStringSubmatch(m)[1] {
		case "version":
			return version
		case "dist":
			return dist
		case "arch":
			return arch
		}
		return m
	})
}

// publish parses a flavour's publish section. Packages must be parsed
// already: targets name them.
func (p *parser) publish(fl *Flavour, kv pair) ([]*PublishTarget, error) {
	pairs, err := p.mapping(kv.val, kv.path)
	if err != nil {
		return nil, err
	}
	var out []*PublishTarget
	for _, e := range pairs {
		if e.name == keyDefaults {
			// Targets of different types share little; YAML anchors
			// share what they do without a merge rule to learn.
			return nil, p.errAt(e.key, e.path, "publish has no defaults; share keys with a YAML anchor and merge key (<<: *name)")
		}
		if !entryNameRE.MatchString(e.name) {
			return nil, p.errAt(e.key, e.path, "publish target name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", e.name)
		}
		t, err := p.publishTarget(fl, e)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (p *parser) publishTarget(fl *Flavour, e pair) (*PublishTarget, error) {
	v := resolve(e.val)
	if v.Kind != yaml.MappingNode {
		return nil, p.errAt(v, e.path, "a publish target must be a mapping with a type, got %s", describe(v))
	}
	own, err := p.mapping(v, e.path)
	if err != nil {
		return nil, err
	}
	t := &PublishTarget{Name: e.name, Line: line(e.key)}
	typeField, ok := lookup(own, nil, "type")
	if !ok {
		return nil, p.errAt(e.key, join(e.path, "type"), "required: one of %s", strings.Join(publishTypeNames(), ", "))
	}
	if t.Type, err = p.str(typeField); err != nil {
		return nil, err
	}
	keys, ok := publishTypes()[t.Type]
	if !ok {
		return nil, p.errAt(resolve(typeField.val), typeField.path, "unknown type %q; want one of %s%s",
			t.Type, strings.Join(publishTypeNames(), ", "), didYouMean(t.Type, publishTypeNames()))
	}
	fields := map[string]pair{}
	for _, f := range own {
		if f.name == "type" {
			continue
		}
		if !contains(keys, f.name) {
			return nil, p.errAt(f.key, f.path, "unknown key for type %s, which takes %s%s",
				t.Type, strings.Join(append([]string{"type"}, keys...), ", "), didYouMean(f.name, keys))
		}
		if isNull(f.val) {
			continue
		}
		fields[f.name] = f
	}
	str := func(k string, dst *string) error {
		if f, ok := fields[k]; ok {
			s, err := p.str(f)
			if err != nil {
				return err
			}
			if strings.TrimSpace(s) == "" {
				return p.errAt(resolve(f.val), f.path, "must not be empty")
			}
			*dst = s
		}
		return nil
	}
	for _, s := range []struct {
		key string
		dst *string
	}{
		{"url", &t.URL}, {"username_env", &t.UsernameEnv}, {"password_env", &t.PasswordEnv},
		{"token_env", &t.TokenEnv}, {"suite", &t.Suite}, {"component", &t.Component},
		{"repo", &t.Repo}, {"image", &t.Image}, {"channel", &t.Channel}, {"base", &t.Base},
		{"prefix", &t.Prefix}, {"gpg_key", &t.GPGKey},
	} {
		if err := str(s.key, s.dst); err != nil {
			return nil, err
		}
	}
	if f, ok := fields["packages"]; ok {
		if t.Packages, err = p.publishPackages(fl, f); err != nil {
			return nil, err
		}
	}
	if f, ok := fields["tags"]; ok {
		if t.Tags, err = p.strList(f); err != nil {
			return nil, err
		}
	}
	if f, ok := fields["binaries"]; ok {
		if t.Binaries, err = p.publishBinaries(fl, f); err != nil {
			return nil, err
		}
	}
	if f, ok := fields["insecure"]; ok {
		if t.Insecure, err = p.boolean(f); err != nil {
			return nil, err
		}
	}
	if err := p.publishAuth(t, e, fields); err != nil {
		return nil, err
	}

	switch t.Type {
	case PublishOCI:
		if t.Image == "" {
			return nil, p.errAt(e.key, join(e.path, "image"), "required: the image repository, e.g. ghcr.io/acme/backplane")
		}
		if t.Base == "" {
			t.Base = DefaultBaseImage
		}
		if len(t.Tags) == 0 {
			t.Tags = []string{"{{version}}"}
		}
		if err := p.publishOCI(fl, t, e, fields); err != nil {
			return nil, err
		}
	default:
		if t.URL == "" {
			return nil, p.errAt(e.key, join(e.path, "url"), "required: the repository's base URL (https://, http:// or file://)")
		}
		if err := p.publishURL(fl, t, fields["url"]); err != nil {
			return nil, err
		}
	}
	switch t.Type {
	case PublishApt, PublishAptly:
		if t.Suite == "" {
			t.Suite = "{{dist}}"
		}
		if t.Type == PublishApt && t.Component == "" {
			t.Component = "main"
		}
		if f, ok := fields["component"]; ok && !entryNameRE.MatchString(t.Component) {
			return nil, p.errAt(resolve(f.val), f.path, "component %q: one word such as main", t.Component)
		}
		if t.Type == PublishAptly && t.Prefix == "" {
			t.Prefix = "."
		}
		if f, ok := fields["prefix"]; ok && (path.Clean(t.Prefix) != t.Prefix || path.IsAbs(t.Prefix) || t.Prefix == ".." || strings.HasPrefix(t.Prefix, "../")) {
			return nil, p.errAt(resolve(f.val), f.path, "prefix %q: a relative path such as . or debian/stable", t.Prefix)
		}
		if f, ok := fields["gpg_key"]; ok && !gpgKeyRE.MatchString(t.GPGKey) {
			return nil, p.errAt(resolve(f.val), f.path, "gpg_key %q: the hex id or fingerprint of the key on the aptly server", t.GPGKey)
		}
		at, path := e.key, join(e.path, "suite")
		if f, ok := fields["suite"]; ok {
			at, path = resolve(f.val), f.path
		}
		if err := p.publishPattern(fl, t, at, path, t.Suite, "suite"); err != nil {
			return nil, err
		}
	case PublishRudder:
		if t.Channel == "" {
			t.Channel = "release"
		}
		if f, ok := fields["channel"]; ok && t.Channel != "release" && t.Channel != "nightly" {
			return nil, p.errAt(resolve(f.val), f.path, "channel %q: want release or nightly", t.Channel)
		}
	}
	if t.Type == PublishAptly && t.Repo == "" {
		return nil, p.errAt(e.key, join(e.path, "repo"), "required: the aptly local repository to add the packages to")
	}
	return t, nil
}

// publishPackages reads a target's packages: names of packages of fl,
// each once.
func (p *parser) publishPackages(fl *Flavour, f pair) ([]string, error) {
	names, err := p.strList(f)
	if err != nil {
		return nil, err
	}
	known := make([]string, len(fl.Packages))
	for i, pk := range fl.Packages {
		known[i] = pk.Name
	}
	seen := map[string]bool{}
	v := resolve(f.val)
	for i, n := range names {
		at, path := resolve(v.Content[i]), fmt.Sprintf("%s[%d]", f.path, i)
		if !contains(known, n) {
			return nil, p.errAt(at, path, "no package %q in flavour %s%s", n, fl.Name, didYouMean(n, known))
		}
		if seen[n] {
			return nil, p.errAt(at, path, "package %q is listed twice", n)
		}
		seen[n] = true
	}
	if len(names) == 0 {
		return nil, p.errAt(v, f.path, "an empty list publishes nothing; leave packages out to publish every package of the type")
	}
	return names, nil
}

// DefaultBaseImage is an oci target's base image when it names none: a
// shell and glibc, so that cgo binaries and a debugging shell work.
const DefaultBaseImage = "busybox:glibc"

// ociRefRE is a registry/repository reference without tag or digest
// (docker's grammar, simplified: lower-case path components).
var ociRefRE = regexp.MustCompile(`^([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$`)

// ociTagRE is a tag once {{version}} is expanded.
var ociTagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// publishOCI checks an oci target: a repository without a tag, tags that
// stay valid once {{version}} is filled in, and linux compile targets to
// make images of.
func (p *parser) publishOCI(fl *Flavour, t *PublishTarget, e pair, fields map[string]pair) error {
	if f := fields["image"]; !ociRefRE.MatchString(t.Image) {
		return p.errAt(resolve(f.val), f.path, "image %q: a repository such as ghcr.io/acme/backplane, without a tag or digest (tags go in tags)", t.Image)
	}
	for i, tag := range t.Tags {
		if !ociTagRE.MatchString(strings.ReplaceAll(tag, "{{version}}", "1.0.0")) {
			f := fields["tags"]
			return p.errAt(resolve(resolve(f.val).Content[i]), fmt.Sprintf("%s[%d]", f.path, i), "tag %q: letters, digits, _ . - and {{version}} only", tag)
		}
	}
	if len(t.Binaries) == 0 {
		for _, ct := range fl.CompileTargets {
			if ct.OS == "linux" {
				t.Binaries = append(t.Binaries, ct.Name)
			}
		}
		if len(t.Binaries) == 0 {
			return p.errAt(e.key, e.path, "flavour %s has no linux compile target to make an image of", fl.Name)
		}
	}
	return nil
}

// publishBinaries reads an oci target's binaries: linux compile targets
// of fl, each once.
func (p *parser) publishBinaries(fl *Flavour, f pair) ([]string, error) {
	names, err := p.strList(f)
	if err != nil {
		return nil, err
	}
	var known []string
	for _, ct := range fl.CompileTargets {
		known = append(known, ct.Name)
	}
	seen := map[string]bool{}
	v := resolve(f.val)
	for i, n := range names {
		at, path := resolve(v.Content[i]), fmt.Sprintf("%s[%d]", f.path, i)
		ct := fl.CompileTarget(n)
		switch {
		case ct == nil:
			return nil, p.errAt(at, path, "no compile target %q in flavour %s%s", n, fl.Name, didYouMean(n, known))
		case ct.OS != "linux":
			return nil, p.errAt(at, path, "compile target %s builds for %s: images are linux only", n, ct.OS)
		case seen[n]:
			return nil, p.errAt(at, path, "compile target %q is listed twice", n)
		}
		seen[n] = true
	}
	if len(names) == 0 {
		return nil, p.errAt(v, f.path, "an empty list makes no image; leave binaries out for every linux target")
	}
	return names, nil
}

// publishAuth checks the credential variables: a username with a password,
// or a token, and valid variable names.
func (p *parser) publishAuth(t *PublishTarget, e pair, fields map[string]pair) error {
	for _, k := range []string{"username_env", "password_env", "token_env"} {
		f, ok := fields[k]
		if !ok {
			continue
		}
		s, _ := p.str(f)
		if !envNameRE.MatchString(s) {
			return p.errAt(resolve(f.val), f.path, "want the name of an environment variable such as REPO_PASSWORD, got %q (the spec never holds the secret itself)", s)
		}
	}
	switch {
	case t.TokenEnv != "" && (t.UsernameEnv != "" || t.PasswordEnv != ""):
		f := fields["token_env"]
		return p.errAt(f.key, f.path, "a target uses a token or a username and password, not both")
	case t.UsernameEnv != "" && t.PasswordEnv == "":
		return p.errAt(e.key, join(e.path, "password_env"), "required with username_env: the variable holding the password")
	case t.PasswordEnv != "" && t.UsernameEnv == "":
		return p.errAt(e.key, join(e.path, "username_env"), "required with password_env: the variable holding the username")
	}
	return nil
}

// publishURL checks a target's URL: known placeholders, which the named
// packages can fill, and an https, http or file URL without credentials.
func (p *parser) publishURL(fl *Flavour, t *PublishTarget, f pair) error {
	at := resolve(f.val)
	if err := p.publishPattern(fl, t, at, f.path, t.URL, "url"); err != nil {
		return err
	}
	u, err := url.Parse(placeholderRE.ReplaceAllString(t.URL, "x"))
	if err != nil {
		return p.errAt(at, f.path, "not a URL: %v", urlReason(err))
	}
	// First, so that no later message quotes a URL holding a secret.
	if u.User != nil {
		return p.errAt(at, f.path, "credentials do not belong in the URL, which is printed: name their environment variables with username_env and password_env, or token_env")
	}
	switch u.Scheme {
	case "https", "http":
		if u.Host == "" {
			return p.errAt(at, f.path, "%q has no host", t.URL)
		}
	case "file":
		if t.Type == PublishAptly {
			return p.errAt(at, f.path, "an aptly target's url is its REST API: https:// or http://")
		}
		if (u.Host != "" && u.Host != "localhost") || !strings.HasPrefix(u.Path, "/") {
			return p.errAt(at, f.path, "a file URL names an absolute local path: file:///srv/repo, got %q", t.URL)
		}
		if t.UsernameEnv != "" || t.TokenEnv != "" {
			return p.errAt(at, f.path, "a file URL takes no credentials; remove username_env, password_env and token_env")
		}
	default:
		return p.errAt(at, f.path, "scheme %q: want https, http or file", u.Scheme)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return p.errAt(at, f.path, "a repository URL has no query or fragment")
	}
	return nil
}

// publishPattern checks the placeholders of a URL or suite pattern, and
// that every package the target publishes has the properties they need.
func (p *parser) publishPattern(fl *Flavour, t *PublishTarget, at *yaml.Node, path, pattern, what string) error {
	known := urlPlaceholders(t.Type)
	var used []string
	for _, m := range placeholderRE.FindAllStringSubmatch(pattern, -1) {
		if !contains(known, m[1]) {
			return p.errAt(at, path, "unknown placeholder %s (known here: {{%s}})%s",
				m[0], strings.Join(known, "}}, {{"), didYouMean(m[1], known))
		}
		used = append(used, m[1])
	}
	rest := placeholderRE.ReplaceAllString(pattern, "x")
	if strings.Contains(rest, "{{") || strings.Contains(rest, "}}") {
		return p.errAt(at, path, "unbalanced {{ }} in %s", what)
	}
	props := map[string]string{"dist": "dist", "arch": "target_arch"}
	for _, name := range used {
		prop, ok := props[name]
		if !ok {
			continue
		}
		for _, pk := range fl.Packages {
			if len(t.Packages) > 0 && !contains(t.Packages, pk.Name) {
				continue
			}
			if pk.Properties[prop] == "" {
				msg := fmt.Sprintf("{{%s}} needs the %s property, which package %s does not set", name, prop, pk.Name)
				if len(t.Packages) == 0 {
					msg += "; list the packages to publish with packages"
				}
				return p.errAt(at, path, "%s", msg)
			}
		}
	}
	return nil
}

// urlReason shortens a url.Parse error to its reason: the URL is in the
// message already.
func urlReason(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

// SelectPublish returns fl's publish targets called names, all when
// names is empty. file is the spec's, for the error.
func SelectPublish(file string, fl *Flavour, names []string) ([]*PublishTarget, error) {
	if len(fl.Publish) == 0 {
		return nil, &ConfigError{File: file, Field: fl.Name + ".publish", Msg: "flavour " + fl.Name + " has no publish targets"}
	}
	if len(names) == 0 {
		return fl.Publish, nil
	}
	var out []*PublishTarget
	for _, n := range names {
		found := false
		for _, t := range fl.Publish {
			if t.Name == n {
				out = append(out, t)
				found = true
			}
		}
		if !found {
			var have []string
			for _, t := range fl.Publish {
				have = append(have, t.Name)
			}
			sort.Strings(have)
			return nil, &ConfigError{File: file, Field: fl.Name + ".publish",
				Msg: fmt.Sprintf("no publish target %q; flavour %s has %s", n, fl.Name, strings.Join(have, ", "))}
		}
	}
	return out, nil
}
