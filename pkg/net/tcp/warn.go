package tcp

import (
	"log/slog"
	gonet "net"
	"sync"
	"time"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/stdtypes"
)

// What an operator must see, an attack or a lost peer, is logged at Warn:
// a refused connection, a full set of handshake slots, a bad frame, a peer
// unreachable for a while (see unreachableWarnAfter). Each may repeat as
// fast as a stranger can connect, or a peer can be dialed, so each
// is logged at most once per warnInterval for each source (a peer, or a
// stranger's address) and cause; the next warning after a quiet spell says
// how many were suppressed, and the suppressed ones are logged at Debug.
// Metrics count them all.
const warnInterval = time.Minute

// maxWarnSources bounds the (source, cause) pairs the limiter remembers:
// strangers connecting from ever new addresses would otherwise grow it
// without bound. Past it, and once the pairs older than warnInterval are
// forgotten, new sources share one pair per cause, so that the warnings
// per interval stay below maxWarnSources plus the number of causes.
const maxWarnSources = 1024

// Causes of warnings.
const (
	causeSlots       = "handshake slots full"
	causeHandshake   = "handshake refused"
	causeHello       = "hello refused"
	causeBadFrame    = "bad frame"
	causeUnreachable = "peer unreachable"
	causeHungUp      = "closed during set-up" // Logged at Info.
)

// otherSources is the source that sources past maxWarnSources share.
const otherSources = "other addresses"

// warnLimiter decides which warnings are logged. It is safe for concurrent
// use.
type warnLimiter struct {
	mu sync.Mutex
	// now is the clock; tests set it, before the transport starts.
	now  func() time.Time
	last map[warnKey]*warnState
}

type warnKey struct{ source, cause string }

// warnState is what the limiter keeps for a source and cause: when it last
// let a warning through, and how many it suppressed since.
type warnState struct {
	at         time.Time
	suppressed uint64
}

func newWarnLimiter() *warnLimiter {
	return &warnLimiter{now: time.Now, last: make(map[warnKey]*warnState)}
}

// clock returns the limiter's time.
func (l *warnLimiter) clock() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now()
}

// allow reports whether a warning about source and cause is logged now,
// and if so how many about them were suppressed since the last one.
func (l *warnLimiter) allow(source, cause string) (ok bool, suppressed uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	k := warnKey{source, cause}
	st := l.last[k]
	if st == nil && len(l.last) >= maxWarnSources {
		l.forget(now)
		if len(l.last) >= maxWarnSources {
			k.source = otherSources
			st = l.last[k]
		}
	}
	if st == nil {
		l.last[k] = &warnState{at: now}
		return true, 0
	}
	if now.Sub(st.at) < warnInterval {
		st.suppressed++
		return false, 0
	}
	suppressed = st.suppressed
	*st = warnState{at: now}
	return true, suppressed
}

// forget drops the pairs whose last warning is older than warnInterval:
// the next about them is logged anyway, only without its count of
// suppressed ones.
func (l *warnLimiter) forget(now time.Time) {
	for k, st := range l.last {
		if now.Sub(st.at) >= warnInterval {
			delete(l.last, k)
		}
	}
}

// warn logs msg with attrs to logger at Warn if the limiter lets a warning
// about source and cause through, with the count of those suppressed
// since the last one, and at Debug otherwise.
func (t *Transport) warn(logger *logging.Logger, source, cause, msg string, attrs ...slog.Attr) {
	t.logLimited(logging.LevelWarn, logger, source, cause, msg, attrs...)
}

// logLimited is warn at another level: for what is worth an operator's
// notice but may come as fast as a stranger can connect.
func (t *Transport) logLimited(level logging.Level, logger *logging.Logger, source, cause, msg string, attrs ...slog.Attr) {
	attrs = append(attrs, slog.String("cause", cause))
	ok, suppressed := t.warnings.allow(source, cause)
	if !ok {
		logger.LogAttrs(logging.LevelDebug, msg, attrs...)
		return
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Uint64("suppressed", suppressed))
	}
	logger.LogAttrs(level, msg, attrs...)
}

// peerSource names a member as the source of warnings.
func peerSource(id stdtypes.NodeID) string { return "node " + string(id) }

// addrSource names a stranger as the source of warnings: by its host, not
// its port, which changes with every connection.
func addrSource(addr gonet.Addr) string {
	host, _, err := gonet.SplitHostPort(addr.String())
	if err != nil {
		host = addr.String()
	}
	return "address " + host
}
