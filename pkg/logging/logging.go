// Package logging is the logger Mir's engine, modules and tools write to:
// levelled messages with key/value pairs, built on log/slog so that any
// slog.Handler can receive them.
//
// Logger is a concrete type, like slog.Logger, rather than an interface:
// arguments passed through an interface method always escape, so even a
// disabled call would allocate. A nil *Logger is valid and logs nothing. To
// send Mir's logs elsewhere, implement slog.Handler and pass it to New.
//
// A call at a disabled level does no work and allocates nothing. Go boxes
// a non-constant, non-pointer value (an int variable, a struct) when it is
// passed as ...any, before the logger can look at the level; LogAttrs with
// slog.Int, slog.String and friends avoids even that:
//
//	logger.LogAttrs(logging.LevelDebug, "batch applied", slog.Int("events", n))
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
)

// Level is the importance of a log message. The values match log/slog's, so
// levels convert without a table.
type Level int

// The levels, from least to most important. LevelDisabled is above them all:
// a logger with that minimum level logs nothing.
const (
	LevelTrace    Level = -8
	LevelDebug    Level = Level(slog.LevelDebug)
	LevelInfo     Level = Level(slog.LevelInfo)
	LevelWarn     Level = Level(slog.LevelWarn)
	LevelError    Level = Level(slog.LevelError)
	LevelDisabled Level = 1 << 30
)

// String returns the level's name, as slog spells it, or "TRACE" or
// "DISABLED".
func (l Level) String() string {
	switch {
	case l == LevelTrace:
		return "TRACE"
	case l >= LevelDisabled:
		return "DISABLED"
	}
	return slog.Level(l).String()
}

// Logger writes levelled messages with key/value pairs to a slog.Handler.
// It is safe for concurrent use. The zero value and a nil *Logger log
// nothing.
type Logger struct {
	h        slog.Handler
	minLevel Level
}

// NilLogger logs nothing. It is a nil *Logger; any nil *Logger does the same.
var NilLogger *Logger

// New returns a Logger writing to h. Its minimum level is read once from h,
// which decides in the end what is written.
func New(h slog.Handler) *Logger {
	minLevel := LevelDisabled
	for _, lvl := range []Level{LevelError, LevelWarn, LevelInfo, LevelDebug, LevelTrace} {
		if h.Enabled(context.Background(), slog.Level(lvl)) {
			minLevel = lvl
		}
	}
	return &Logger{h: h, minLevel: minLevel}
}

// FromSlog returns a Logger writing to l's handler.
func FromSlog(l *slog.Logger) *Logger { return New(l.Handler()) }

// NewStreamLogger returns a Logger writing text lines (slog's text format)
// of at least minLevel to w.
func NewStreamLogger(minLevel Level, w io.Writer) *Logger {
	h := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level:       slog.Level(minLevel),
		ReplaceAttr: replaceLevelName,
	})
	return &Logger{h: h, minLevel: minLevel}
}

// ConsoleLogger returns a Logger writing messages of at least minLevel to
// standard error.
func ConsoleLogger(minLevel Level) *Logger { return NewStreamLogger(minLevel, os.Stderr) }

// replaceLevelName makes slog print our TRACE level by its name.
func replaceLevelName(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.LevelKey {
		if lvl, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(Level(lvl).String())
		}
	}
	return a
}

// MinLevel returns the lowest level written; LevelDisabled for a nil Logger.
func (l *Logger) MinLevel() Level {
	if l == nil || l.h == nil {
		return LevelDisabled
	}
	return l.minLevel
}

// Enabled reports whether messages at level are written.
func (l *Logger) Enabled(level Level) bool { return level >= l.MinLevel() }

// Log writes text at level with args, alternating keys and values as in
// log/slog, if level is enabled.
func (l *Logger) Log(level Level, text string, args ...any) {
	if !l.Enabled(level) {
		return
	}
	r := slog.NewRecord(timeNow(), slog.Level(level), text, 0)
	// Adding the arguments one by one, rather than passing the slice on,
	// keeps the slice itself from escaping: the caller's ...any array stays
	// on its stack.
	for i := 0; i < len(args); i++ {
		if key, ok := args[i].(string); ok && i+1 < len(args) {
			r.AddAttrs(slog.Any(key, args[i+1]))
			i++
			continue
		}
		r.AddAttrs(slog.Any("!BADKEY", args[i]))
	}
	_ = l.h.Handle(context.Background(), r)
}

// LogAttrs writes text at level with attrs, if level is enabled. With typed
// attributes (slog.Int, slog.String, ...) nothing allocates at a disabled
// level, whatever the values.
func (l *Logger) LogAttrs(level Level, text string, attrs ...slog.Attr) {
	if !l.Enabled(level) {
		return
	}
	r := slog.NewRecord(timeNow(), slog.Level(level), text, 0)
	for _, a := range attrs {
		r.AddAttrs(a)
	}
	_ = l.h.Handle(context.Background(), r)
}

// With returns a Logger that adds args (key/value pairs) to every message,
// e.g. the node or module it belongs to. With on a nil Logger returns nil.
func (l *Logger) With(args ...any) *Logger {
	if l == nil || l.h == nil {
		return nil
	}
	return &Logger{h: slog.New(l.h).With(args...).Handler(), minLevel: l.minLevel}
}

// Slog returns a *slog.Logger writing to the same handler, for libraries
// that take one. For a nil Logger it discards everything.
func (l *Logger) Slog() *slog.Logger {
	if l == nil || l.h == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(l.h)
}
