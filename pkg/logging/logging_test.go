package logging

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestStreamLoggerFiltersByLevel(t *testing.T) {
	var buf bytes.Buffer
	l := NewStreamLogger(LevelInfo, &buf)
	l.Log(LevelDebug, "hidden", "k", 1)
	l.Log(LevelInfo, "shown", "k", 2)
	l.LogAttrs(LevelError, "loud", slog.Int("n", 9))
	out := buf.String()
	if strings.Contains(out, "hidden") {
		t.Errorf("debug message written at info level: %q", out)
	}
	for _, want := range []string{"msg=shown k=2", "level=INFO", "msg=loud n=9", "level=ERROR"} {
		if !strings.Contains(out, want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}

func TestOddArgumentsAreKept(t *testing.T) {
	var buf bytes.Buffer
	NewStreamLogger(LevelInfo, &buf).Log(LevelInfo, "odd", "k", 1, 42)
	if out := buf.String(); !strings.Contains(out, "k=1 !BADKEY=42") {
		t.Errorf("output %q does not show the dangling value", out)
	}
}

func TestTraceLevelName(t *testing.T) {
	var buf bytes.Buffer
	l := NewStreamLogger(LevelTrace, &buf)
	l.Log(LevelTrace, "fine")
	if !strings.Contains(buf.String(), "level=TRACE") {
		t.Errorf("trace message printed as %q", buf.String())
	}
	if LevelDisabled.String() != "DISABLED" || LevelWarn.String() != "WARN" {
		t.Errorf("level names: %v %v", LevelDisabled, LevelWarn)
	}
}

func TestFromSlogReadsMinLevel(t *testing.T) {
	var buf bytes.Buffer
	h := slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})
	l := FromSlog(slog.New(h))
	if got := l.MinLevel(); got != LevelWarn {
		t.Fatalf("MinLevel = %v, want WARN", got)
	}
	l.Log(LevelInfo, "no")
	l.Log(LevelWarn, "yes", "n", 3)
	if out := buf.String(); strings.Contains(out, `"no"`) || !strings.Contains(out, `"msg":"yes","n":3`) {
		t.Errorf("unexpected output %q", out)
	}
}

func TestWithAddsPairs(t *testing.T) {
	var buf bytes.Buffer
	l := NewStreamLogger(LevelInfo, &buf).With("node", "n1")
	l.Log(LevelInfo, "hello", "k", "v")
	if out := buf.String(); !strings.Contains(out, "msg=hello node=n1 k=v") {
		t.Errorf("output %q lacks the added pair", out)
	}
	if NilLogger.With("a", 1) != nil {
		t.Error("With on the nil logger returned a non-nil logger")
	}
}

func TestNilLoggerIsSafe(t *testing.T) {
	var l *Logger
	l.Log(LevelError, "x", "k", 1)
	l.LogAttrs(LevelError, "x", slog.Int("k", 1))
	if l.Enabled(LevelError) || l.MinLevel() != LevelDisabled {
		t.Error("nil logger claims to be enabled")
	}
	l.Slog().Error("discarded")
	(&Logger{}).Log(LevelError, "zero value logs nothing")
}

func TestSlogShareHandler(t *testing.T) {
	var buf bytes.Buffer
	NewStreamLogger(LevelInfo, &buf).Slog().Info("via slog", "k", 1)
	if !strings.Contains(buf.String(), "msg=\"via slog\" k=1") {
		t.Errorf("output %q", buf.String())
	}
}

// TestDisabledLevelAllocatesNothing: a message below the minimum level costs
// no allocation, with key/value pairs of pointer or constant values, and
// with typed attributes of any value.
func TestDisabledLevelAllocatesNothing(t *testing.T) {
	var buf bytes.Buffer
	n, ptr := 12345, &buf
	loggers := map[string]*Logger{
		"nil":    NilLogger,
		"stream": NewStreamLogger(LevelError, &buf),
		"with":   NewStreamLogger(LevelError, &buf).With("a", "b"),
		"slog":   FromSlog(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))),
	}
	for name, l := range loggers {
		kv := testing.AllocsPerRun(100, func() {
			l.Log(LevelDebug, "dropped", "ptr", ptr, "const", 7)
		})
		attrs := testing.AllocsPerRun(100, func() {
			l.LogAttrs(LevelDebug, "dropped", slog.Int("n", n), slog.String("s", "text"))
		})
		if kv != 0 || attrs != 0 {
			t.Errorf("%s: %v allocations per disabled Log, %v per disabled LogAttrs, want 0", name, kv, attrs)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("disabled messages were written: %q", buf.String())
	}
}

func BenchmarkDisabledLog(b *testing.B) {
	l := NewStreamLogger(LevelError, &bytes.Buffer{})
	n := 1000
	b.ReportAllocs()
	for b.Loop() {
		l.LogAttrs(LevelDebug, "dropped", slog.Int("n", n))
	}
}
