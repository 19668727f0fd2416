package client

import (
	"log/slog"
	"sync"
	"time"

	"github.com/mirframework/mir/pkg/logging"
)

// What an operator must see (a refused connection, a bad frame) is logged
// at Warn, at most once per warnInterval for each cause: anyone who can
// reach the port can cause them as fast as they can connect. The next
// warning after a quiet spell says how many were suppressed; suppressed
// ones go to Debug. Metrics count them all. The limiter keys on the cause
// only, not the client's address, so its memory is bounded by the causes.
const warnInterval = time.Minute

// Causes of warnings.
const (
	causeAccept   = "accept failed"
	causeConns    = "too many connections"
	causeBadFrame = "bad frame"
	causeClients  = "too many clients"
)

// warnLimiter decides which warnings are logged. It is safe for concurrent
// use.
type warnLimiter struct {
	mu   sync.Mutex
	now  func() time.Time
	last map[string]*warnState
}

type warnState struct {
	at         time.Time
	suppressed uint64
}

// allow reports whether a warning of cause is logged now, and how many
// were suppressed since the last one.
func (l *warnLimiter) allow(cause string) (bool, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.last == nil {
		l.last = make(map[string]*warnState)
	}
	st := l.last[cause]
	if st == nil {
		l.last[cause] = &warnState{at: now}
		return true, 0
	}
	if now.Sub(st.at) < warnInterval {
		st.suppressed++
		return false, 0
	}
	n := st.suppressed
	*st = warnState{at: now}
	return true, n
}

// warn logs msg at Warn if the limiter lets a warning of cause through,
// at Debug otherwise.
func (s *Server) warn(cause, msg string, attrs ...slog.Attr) {
	attrs = append(attrs, slog.String("cause", cause))
	ok, suppressed := s.warns.allow(cause)
	if !ok {
		s.logger.LogAttrs(logging.LevelDebug, msg, attrs...)
		return
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Uint64("suppressed", suppressed))
	}
	s.logger.LogAttrs(logging.LevelWarn, msg, attrs...)
}
