// Command choria is the stand-in daemon of a Choria-like project: the
// fixture that packyard's tests build with Choria's template names.
package main

import (
	"fmt"
	"os"
)

// Set with -ldflags -X through the spec's flags_map.
var (
	Version   = "development"
	SHA       = ""
	BuildTime = ""
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "--version" {
		fmt.Printf("choria %s (%s, %s)\n", Version, SHA, BuildTime)
		return
	}
	fmt.Println("choria: a fixture, not a daemon")
}
