package stage

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress prints one line when a stage starts and one when it ends, with
// its duration. Colour is for terminals only; the caller decides (NO_COLOR,
// isatty) and passes Color.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	color bool
}

// NewProgress writes to w; a nil w discards.
func NewProgress(w io.Writer, color bool) *Progress {
	if w == nil {
		w = io.Discard
	}
	return &Progress{w: w, color: color}
}

const (
	ansiReset = "\x1b[0m"
	ansiBlue  = "\x1b[34m"
	ansiGreen = "\x1b[32m"
	ansiRed   = "\x1b[31m"
	ansiGrey  = "\x1b[90m"
)

// Start reports that stage id has begun and returns the function that
// reports its end.
func (p *Progress) Start(id string) func(err error) {
	p.line(ansiBlue, "start", id, "")
	begin := time.Now()
	return func(err error) {
		d := time.Since(begin).Round(time.Millisecond).String()
		if err != nil {
			p.line(ansiRed, "FAIL ", id, d)
			return
		}
		p.line(ansiGreen, "done ", id, d)
	}
}

// Skip reports a stage the plan leaves out, with the reason.
func (p *Progress) Skip(id, why string) { p.line(ansiGrey, "skip ", id, why) }

func (p *Progress) line(color, verb, id, tail string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if tail != "" {
		tail = " (" + tail + ")"
	}
	if p.color {
		fmt.Fprintf(p.w, "%s%s%s %s%s\n", color, verb, ansiReset, id, tail)
		return
	}
	fmt.Fprintf(p.w, "%s %s%s\n", verb, id, tail)
}
