package plugins

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// project writes the manifests given (an empty string means no file) into a
// new project directory.
func project(t *testing.T, defaults, user string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "packager"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{DefaultsFile: defaults, UserFile: user} {
		if body == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	const defaults = `# defaults, Choria's flat form
ping: github.com/acme/backplane/plugins/ping
health: github.com/acme/backplane/plugins/health
`
	ping := Plugin{Name: "ping", Import: "github.com/acme/backplane/plugins/ping"}
	health := Plugin{Name: "health", Import: "github.com/acme/backplane/plugins/health"}
	agent := Plugin{
		Name: "rpcagent", Import: "github.com/acme/backplane-rpcagent", Version: "v0.3.0",
		Replace: "./contrib/rpcagent", Register: `plugin.Register("rpcagent", plugin_rpcagent.New())`,
		Imports: []string{"github.com/acme/backplane/plugin"},
	}
	tests := []struct {
		name           string
		defaults, user string
		want           []Plugin
	}{
		{"no manifests", "", "", []Plugin{}},
		{"empty files", "# nothing\n", "---\n", []Plugin{}},
		{"defaults only, sorted", defaults, "", []Plugin{health, ping}},
		{"user only", "", "ping: github.com/acme/backplane/plugins/ping\n", []Plugin{ping}},
		{"user adds extended", defaults, `rpcagent:
  import: github.com/acme/backplane-rpcagent
  version: v0.3.0
  replace: ./contrib/rpcagent
  imports: [github.com/acme/backplane/plugin]
  register: plugin.Register("rpcagent", plugin_rpcagent.New())
`, []Plugin{health, ping, agent}},
		{"user overrides whole entry", defaults, "ping: {import: example.com/ping/v2, version: v2.1.0}\n",
			[]Plugin{health, {Name: "ping", Import: "example.com/ping/v2", Version: "v2.1.0"}}},
		{"user removes with null", defaults, "ping: null\n", []Plugin{health}},
		{"user removes with ~ and empty", defaults, "ping: ~\nhealth:\n", []Plugin{}},
		{"user removes with remove: true", defaults, "health: {remove: true}\n", []Plugin{ping}},
		{"remove: false with import is a plugin", "", "x: {remove: false, import: example.com/x}\n",
			[]Plugin{{Name: "x", Import: "example.com/x"}}},
		{"incompatible and pseudo versions", "", "a: {import: example.com/a, version: v2.0.0+incompatible}\nb: {import: example.com/b, version: v0.0.0-20240101000000-abcdefabcdef}\n",
			[]Plugin{{Name: "a", Import: "example.com/a", Version: "v2.0.0+incompatible"}, {Name: "b", Import: "example.com/b", Version: "v0.0.0-20240101000000-abcdefabcdef"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := project(t, tt.defaults, tt.user)
			got, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			// Where each entry was read is checked, then left out of the
			// comparison of the values.
			for i, p := range got {
				if !strings.HasPrefix(p.File, filepath.Join(dir, "packager")) || p.Line < 1 {
					t.Errorf("%s: read from %s:%d, want a manifest line", p.Name, p.File, p.Line)
				}
				got[i].File, got[i].Line = "", 0
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Load() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name           string
		defaults, user string
		// want is the message after the project directory; line, col
		// and field are checked through errors.As.
		want      string
		line, col int
		field     string
	}{
		{"version not semver", "", "rpcagent:\n  import: example.com/x\n  version: \"1.2\"\n",
			`packager/user_plugins.yaml:3:12: rpcagent.version: "1.2" is not a semantic version (want vX.Y.Z)`, 3, 12, "rpcagent.version"},
		{"version without v", "a: {import: example.com/a, version: 1.2.3}\n", "",
			`packager/plugins.yaml:1:37: a.version: "1.2.3" is not a semantic version (want vX.Y.Z)`, 1, 37, "a.version"},
		{"version with build metadata", "a: {import: example.com/a, version: v1.2.3+meta}\n", "",
			`packager/plugins.yaml:1:37: a.version: "v1.2.3+meta" is not a semantic version (want vX.Y.Z)`, 1, 37, "a.version"},
		{"unknown key", "", "a:\n  import: example.com/a\n  versoin: v1.0.0\n",
			`packager/user_plugins.yaml:3:3: a.versoin: unknown key (want import, version, replace, register, imports or remove)`, 3, 3, "a.versoin"},
		{"duplicate key", "", "a:\n  import: example.com/a\n  import: example.com/b\n",
			`packager/user_plugins.yaml:3:3: a.import: duplicate key`, 3, 3, "a.import"},
		{"int value", "a: 12\n", "",
			`packager/plugins.yaml:1:4: a: want an import path or a mapping with import, version, replace, register, imports`, 1, 4, "a"},
		{"list value", "a: [x]\n", "",
			`packager/plugins.yaml:1:4: a: want an import path or a mapping with import, version, replace, register, imports`, 1, 4, "a"},
		{"import not a string", "a: {import: 3}\n", "",
			`packager/plugins.yaml:1:13: a.import: want a string`, 1, 13, "a.import"},
		{"imports not a list", "a: {import: example.com/a, register: f(), imports: example.com/b}\n", "",
			`packager/plugins.yaml:1:52: a.imports: want a list of import paths`, 1, 52, "a.imports"},
		{"duplicate name", "a: example.com/a\nb: example.com/b\na: example.com/c\n", "",
			`packager/plugins.yaml:3:1: a: duplicate plugin name (first on line 1)`, 3, 1, "a"},
		{"upper-case name", "", "RpcAgent: example.com/a\n",
			`packager/user_plugins.yaml:1:1: RpcAgent: bad plugin name "RpcAgent" (want lower case letters, digits and _, starting with a letter)`, 1, 1, "RpcAgent"},
		{"name with dash", "rpc-agent: example.com/a\n", "",
			`packager/plugins.yaml:1:1: rpc-agent: bad plugin name "rpc-agent" (want lower case letters, digits and _, starting with a letter)`, 1, 1, "rpc-agent"},
		{"name makes a test file", "x_test: example.com/a\n", "",
			`packager/plugins.yaml:1:1: x_test: bad plugin name "x_test": plugin_x_test.go would be a test or GOOS/GOARCH-specific file`, 1, 1, "x_test"},
		{"name makes a GOOS file", "agent_linux: example.com/a\n", "",
			`packager/plugins.yaml:1:1: agent_linux: bad plugin name "agent_linux": plugin_agent_linux.go would be a test or GOOS/GOARCH-specific file`, 1, 1, "agent_linux"},
		{"bad import path", "a: \"example.com/a b\"\n", "",
			`packager/plugins.yaml:1:4: a: bad import path "example.com/a b": invalid char ' '`, 1, 4, "a"},
		{"bad import path in extended form", "", "a:\n  import: example.com//a\n",
			`packager/user_plugins.yaml:2:11: a.import: bad import path "example.com//a": double slash`, 2, 11, "a.import"},
		{"bad path in imports", "", "a: {import: example.com/a, register: f(), imports: [\"../x\"]}\n",
			`packager/user_plugins.yaml:1:53: a.imports: bad import path "../x": invalid path element ".."`, 1, 53, "a.imports"},
		{"missing import", "", "a:\n  version: v1.0.0\n",
			`packager/user_plugins.yaml:2:3: a.import: missing`, 2, 3, "a.import"},
		{"replace not local", "", "a: {import: example.com/a, replace: contrib/a}\n",
			`packager/user_plugins.yaml:1:37: a.replace: "contrib/a" is not a local directory (want ./dir, ../dir or an absolute path)`, 1, 37, "a.replace"},
		{"register not an expression", "", "a: {import: example.com/a, register: \"f(\"}\n",
			`packager/user_plugins.yaml:1:38: a.register: not a Go expression: 1:3: expected ')', found 'EOF'`, 1, 38, "a.register"},
		{"imports without register", "", "a: {import: example.com/a, imports: [example.com/b]}\n",
			`packager/user_plugins.yaml:1:4: a.imports: only used by register, which is not set`, 1, 4, "a.imports"},
		{"null in defaults", "a: null\n", "",
			`packager/plugins.yaml:1:4: a: null removes a plugin and is only allowed in packager/user_plugins.yaml`, 1, 4, "a"},
		{"remove in defaults", "a: {remove: true}\n", "",
			`packager/plugins.yaml:1:13: a.remove: only allowed in packager/user_plugins.yaml`, 1, 13, "a.remove"},
		{"remove with other keys", "a: example.com/a\n", "a: {remove: true, import: example.com/a}\n",
			`packager/user_plugins.yaml:1:13: a.remove: a removal takes no other keys`, 1, 13, "a.remove"},
		{"remove not a bool", "a: example.com/a\n", "a: {remove: yes please}\n",
			`packager/user_plugins.yaml:1:13: a.remove: want true or false`, 1, 13, "a.remove"},
		{"remove unknown plugin", "a: example.com/a\n", "\nb: null\n",
			`packager/user_plugins.yaml:2:4: b: no plugin "b" in packager/plugins.yaml to remove`, 2, 4, "b"},
		{"root not a mapping", "- a\n- b\n", "",
			`packager/plugins.yaml:1:1: want a mapping of plugin names to import paths`, 1, 1, ""},
		{"two documents", "a: example.com/a\n---\nb: example.com/b\n", "",
			`packager/plugins.yaml:2:1: more than one YAML document`, 2, 1, ""},
		{"syntax error", "a: example.com/a\n b: c\n", "",
			`packager/plugins.yaml:2: mapping values are not allowed in this context`, 2, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := project(t, tt.defaults, tt.user)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load() succeeded")
			}
			if want := dir + string(filepath.Separator) + tt.want; err.Error() != want {
				t.Errorf("error\n got %s\nwant %s", err, want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *plugins.Error", err)
			}
			if e.Line != tt.line || e.Col != tt.col || e.Field != tt.field {
				t.Errorf("position %d:%d field %q, want %d:%d %q", e.Line, e.Col, e.Field, tt.line, tt.col, tt.field)
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir()
	// A directory where the manifest should be cannot be read.
	if err := os.MkdirAll(filepath.Join(dir, DefaultsFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Fatal("Load() succeeded on an unreadable manifest")
	}
}
