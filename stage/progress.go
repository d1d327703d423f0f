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
func (p *Progress) Start(id string) func(err error) { return p.Begin(id).Done }

// Step is a stage that has begun.
type Step struct {
	p     *Progress
	id    string
	begin time.Time
}

// Begin reports that stage id has begun.
func (p *Progress) Begin(id string) *Step {
	p.line(ansiBlue, "start", id, "")
	return &Step{p: p, id: id, begin: time.Now()}
}

func (s *Step) took() string { return time.Since(s.begin).Round(time.Millisecond).String() }

// Done reports the end of the step: done, or FAIL when err is set.
func (s *Step) Done(err error) {
	if err != nil {
		s.p.line(ansiRed, "FAIL ", s.id, s.took())
		return
	}
	s.p.line(ansiGreen, "done ", s.id, s.took())
}

// Cached reports the end of a step whose outputs were restored from the
// stage cache instead of made.
func (s *Step) Cached() { s.p.line(ansiGreen, "cached", s.id, s.took()) }

// Note prints a line about the run that is no stage's outcome, such as a
// damaged cache entry.
func (p *Progress) Note(msg string) { p.line(ansiGrey, "note ", msg, "") }

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
