// Package plugin is Backplane's compile-time plugin registry, in the style of
// Choria: a plugin package registers itself from its init function (or is
// registered by a generated init in the main package), and the daemon and the
// buildinfo command read the registry.
package plugin

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
)

// Plugin is the least a plugin provides. A plugin that also implements
// net/http.Handler is served by the daemon under /plugins/NAME/.
type Plugin interface {
	// Name is the plugin's own name, used in logs.
	Name() string
}

// Info describes one registered plugin.
type Info struct {
	// Name is the name the plugin was registered under.
	Name string
	// Package is the Go import path of the plugin's concrete type, which
	// buildinfo maps to a module with runtime/debug.ReadBuildInfo.
	Package string
	// Plugin is the registered value.
	Plugin Plugin
}

// Registry holds plugins by name. The zero value is ready to use and it is
// safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	plugins map[string]Plugin
}

// Register adds p under name. Names are unique: registering the same name
// twice is an error, since two builds of a plugin in one binary is a
// packaging mistake that should not be resolved silently.
func (r *Registry) Register(name string, p Plugin) error {
	if name == "" {
		return errors.New("plugin: register: empty name")
	}
	if p == nil || reflect.ValueOf(p).Kind() == reflect.Pointer && reflect.ValueOf(p).IsNil() {
		return fmt.Errorf("plugin: register %s: nil plugin", name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.plugins[name]; ok {
		return fmt.Errorf("plugin: register %s: already registered", name)
	}
	if r.plugins == nil {
		r.plugins = make(map[string]Plugin)
	}
	r.plugins[name] = p
	return nil
}

// Registered lists the registered plugins sorted by name.
func (r *Registry) Registered() []Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Info, 0, len(r.plugins))
	for name, p := range r.plugins {
		out = append(out, Info{Name: name, Package: packagePath(p), Plugin: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// packagePath is the import path of the package that defines p's type.
func packagePath(p Plugin) string {
	t := reflect.TypeOf(p)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath()
}

// registry is the process-wide registry. It is package state on purpose:
// plugins register from init functions, before main can hand them anything.
var registry Registry

// Register adds p to the process-wide registry under name.
func Register(name string, p Plugin) error {
	return registry.Register(name, p)
}

// Registered lists the plugins of the process-wide registry, sorted by name.
func Registered() []Info {
	return registry.Registered()
}
