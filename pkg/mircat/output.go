package mircat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// newOutput returns stdout behind a buffer: one write call per line would
// cost a system call each. The buffer's error is sticky, so a failed write
// shows in every later one and the commands stop reading at the first.
func newOutput(w io.Writer) *bufio.Writer {
	return bufio.NewWriterSize(w, 64<<10)
}

// outputError is the error that ends a command whose output failed with
// err: none if whoever read the output has closed the pipe (mircat show |
// head), which is how such a reader says it has seen enough.
func outputError(err error) error {
	if err == nil || errors.Is(err, syscall.EPIPE) {
		return nil
	}
	return failure(fmt.Errorf("writing the output: %w", err))
}

// isTerminal tells whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

const (
	// progressDelay is how long a scan runs before it gets a progress bar:
	// short scans do not flash one.
	progressDelay = 500 * time.Millisecond
	// progressEvery is how many records pass between two looks at the
	// clock and the bar, so that progress costs nothing per record.
	progressEvery = 4096
)

// progress shows how far a scan of a logSet has got, on stderr, when stderr
// is a terminal (never in tests or pipes).
type progress struct {
	stderr io.Writer
	set    *logSet
	start  time.Time
	n      int
	// bar is nil if progress is not shown.
	bar *progressbar.ProgressBar
	// shown tells whether the bar was drawn.
	shown bool
}

// newProgress returns the progress of a scan of set; enabled false makes
// it do nothing.
func (e *env) newProgress(set *logSet, enabled bool) *progress {
	p := &progress{stderr: e.stderr, set: set, start: time.Now()}
	if enabled && isTerminal(e.stderr) {
		p.bar = p.newBar()
		// Started now but drawn only after progressDelay: its rate counts
		// from the start of the scan.
		p.bar.StartWithoutRender()
	}
	return p
}

// update is called once per record read.
func (p *progress) update() {
	if p.bar == nil {
		return
	}
	p.n++
	if p.n%progressEvery != 0 || !p.shown && time.Since(p.start) < progressDelay {
		return
	}
	p.shown = true
	if p.set.total > 0 {
		_ = p.bar.Set64(*p.set.read)
	} else {
		_ = p.bar.Set(p.n)
	}
}

// newBar returns a bar of the bytes of the stream files, or a spinner
// counting events where there are none (SQLite logs).
func (p *progress) newBar() *progressbar.ProgressBar {
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(p.stderr),
		progressbar.OptionSetDescription("reading logs"),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetWidth(30),
	}
	if p.set.total > 0 {
		opts = append(opts, progressbar.OptionShowBytes(true))
		return progressbar.NewOptions64(p.set.total, opts...)
	}
	opts = append(opts, progressbar.OptionShowCount(), progressbar.OptionSetItsString("events"))
	return progressbar.NewOptions64(-1, opts...)
}

// finish removes the bar, before anything else is written to stderr.
func (p *progress) finish() {
	if p.shown {
		_ = p.bar.Clear()
	}
	p.bar, p.shown = nil, false
}
