// Package buildinfo reports what a Backplane binary is made of: the values
// set by the release build, and each registered plugin with the module and
// version it came from, read from the binary's embedded build information.
package buildinfo

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/acme/backplane/build"
	"github.com/acme/backplane/plugin"
)

// Info is the report.
type Info struct {
	Version   string `json:"version"`
	SHA       string `json:"sha"`
	BuildTime string `json:"build_time"`
	GoVersion string `json:"go_version"`
	// MainModule is the main module's path.
	MainModule string `json:"main_module"`
	// MainVersion is the main module's version as the Go tool recorded
	// it: "(devel)" unless built from a module proxy.
	MainVersion string       `json:"main_version"`
	Flags       []build.Flag `json:"flags"`
	Plugins     []Plugin     `json:"plugins"`
}

// Plugin is one registered plugin and where it came from.
type Plugin struct {
	Name    string `json:"name"`
	Package string `json:"package"`
	// Module and Version are the module that provides Package, as the Go
	// tool recorded it; a plugin of the main module shows the main module.
	Module  string `json:"module"`
	Version string `json:"version"`
	// Replace is the replacement the module was built from, if any, e.g.
	// ./contrib/rpcagent.
	Replace string `json:"replace,omitempty"`
}

// Collect builds the report from the registered plugins and the binary's
// build information; bi may be nil when the binary has none.
func Collect(plugins []plugin.Info, bi *debug.BuildInfo) Info {
	info := Info{
		Version:   build.Version,
		SHA:       build.SHA,
		BuildTime: build.BuildDate,
		Flags:     build.Flags(),
		Plugins:   []Plugin{},
	}
	var mods []*debug.Module
	if bi != nil {
		info.GoVersion = bi.GoVersion
		info.MainModule, info.MainVersion = bi.Main.Path, bi.Main.Version
		mods = append(mods, &bi.Main)
		mods = append(mods, bi.Deps...)
	}
	for _, p := range plugins {
		out := Plugin{Name: p.Name, Package: p.Package}
		if m := moduleOf(p.Package, mods); m != nil {
			out.Module, out.Version = m.Path, m.Version
			if m.Replace != nil {
				out.Replace = m.Replace.Path
				// A local replacement has no version of its own: Go
				// records "(devel)", which says nothing here.
				if v := m.Replace.Version; v != "" && v != "(devel)" {
					out.Replace += "@" + v
				}
			}
		}
		info.Plugins = append(info.Plugins, out)
	}
	return info
}

// moduleOf finds the module providing pkg: the one with the longest path
// that is pkg or a prefix of it, because modules may nest
// (example.com/a and example.com/a/b).
func moduleOf(pkg string, mods []*debug.Module) *debug.Module {
	var best *debug.Module
	for _, m := range mods {
		if m == nil || m.Path == "" {
			continue
		}
		if pkg == m.Path || strings.HasPrefix(pkg, m.Path+"/") {
			if best == nil || len(m.Path) > len(best.Path) {
				best = m
			}
		}
	}
	return best
}

// WriteText writes the report for people.
func WriteText(w io.Writer, info Info) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Backplane %s\n", info.Version)
	fmt.Fprintf(tw, "  SHA:\t%s\n", info.SHA)
	fmt.Fprintf(tw, "  Build time:\t%s\n", info.BuildTime)
	fmt.Fprintf(tw, "  Go:\t%s\n", orNone(info.GoVersion))
	fmt.Fprintf(tw, "  Main module:\t%s\n", orNone(strings.TrimSpace(info.MainModule+" "+info.MainVersion)))
	fmt.Fprintf(tw, "\nFlags:\n")
	for _, f := range info.Flags {
		fmt.Fprintf(tw, "  %s:\t%s\n", f.Name, orNone(f.Value))
	}
	fmt.Fprintf(tw, "\nPlugins (%d):\n", len(info.Plugins))
	for _, p := range info.Plugins {
		mod := orNone(p.Module)
		if p.Version != "" {
			mod += " " + p.Version
		}
		if p.Replace != "" {
			mod += " => " + p.Replace
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.Name, p.Package, mod)
	}
	return tw.Flush()
}

// WriteJSON writes the report for programs.
func WriteJSON(w io.Writer, info Info) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(info)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
