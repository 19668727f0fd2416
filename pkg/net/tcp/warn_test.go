package tcp

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/logging"
)

// fakeClock is a clock that moves only when told to.
type fakeClock struct{ offset atomic.Int64 }

var clockStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *fakeClock) now() time.Time          { return clockStart.Add(time.Duration(c.offset.Load())) }
func (c *fakeClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// setClock makes tr's warnings use c.
func setClock(tr *Transport, c *fakeClock) {
	tr.warnings.mu.Lock()
	defer tr.warnings.mu.Unlock()
	tr.warnings.now = c.now
}

func TestWarnLimiter(t *testing.T) {
	var c fakeClock
	l := newWarnLimiter()
	l.now = c.now
	check := func(source, cause string, wantOK bool, wantSuppressed uint64) {
		t.Helper()
		if ok, n := l.allow(source, cause); ok != wantOK || n != wantSuppressed {
			t.Errorf("allow(%s, %s) = %v, %d; want %v, %d", source, cause, ok, n, wantOK, wantSuppressed)
		}
	}
	check("a", "x", true, 0)
	for range 4 {
		check("a", "x", false, 0)
	}
	check("a", "y", true, 0) // Another cause.
	check("b", "x", true, 0) // Another source.
	c.advance(warnInterval - 1)
	check("a", "x", false, 0)
	c.advance(1)
	check("a", "x", true, 5)
	check("a", "x", false, 0)
}

// TestWarnLimiterBound: ever new sources, past maxWarnSources, share one
// pair per cause, until the old pairs can be forgotten.
func TestWarnLimiterBound(t *testing.T) {
	var c fakeClock
	l := newWarnLimiter()
	l.now = c.now
	check := func(source, cause string, wantOK bool) {
		t.Helper()
		if ok, _ := l.allow(source, cause); ok != wantOK {
			t.Errorf("allow(%s, %s) = %v, want %v", source, cause, ok, wantOK)
		}
	}
	for i := 0; len(l.last) < maxWarnSources; i++ {
		l.allow(fmt.Sprint("s", i), "x")
	}
	check("new", "x", true)
	check("newer", "x", false)
	check("newer", "y", true)
	if len(l.last) > maxWarnSources+2 {
		t.Errorf("%d pairs remembered, bound %d", len(l.last), maxWarnSources+2)
	}
	// Once their warnings are old, the pairs are forgotten and new sources
	// get their own again.
	c.advance(warnInterval)
	check("newest", "x", true)
	check("newest", "x", false)
	if len(l.last) != 1 {
		t.Errorf("%d pairs remembered after the old ones were forgotten, want 1", len(l.last))
	}
}

// records is a slog.Handler that keeps the records of every level,
// with the attributes of the logger (With) and of the record, in one
// store its children share.
type records struct {
	store *recordStore
	with  []slog.Attr
}

type recordStore struct {
	mu   sync.Mutex
	recs []map[string]string // Each record's attributes, and "msg".
}

func newRecords() *records { return &records{store: &recordStore{}} }

func (h *records) Enabled(context.Context, slog.Level) bool { return true }
func (h *records) WithGroup(string) slog.Handler            { return h }

func (h *records) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &records{store: h.store, with: append(append([]slog.Attr(nil), h.with...), attrs...)}
}

func (h *records) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message, "level": r.Level.String()}
	add := func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	}
	for _, a := range h.with {
		add(a)
	}
	r.Attrs(add)
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	h.store.recs = append(h.store.recs, m)
	return nil
}

// warnings returns the warnings with message msg, each as its attributes.
func (h *records) warnings(msg string) []map[string]string {
	return h.find(msg, slog.LevelWarn)
}

// find returns the records with message msg at level or above, each as its
// attributes.
func (h *records) find(msg string, level slog.Level) []map[string]string {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	var out []map[string]string
	for _, r := range h.store.recs {
		var l slog.Level
		if r["msg"] == msg && l.UnmarshalText([]byte(r["level"])) == nil && l >= level {
			out = append(out, r)
		}
	}
	return out
}

// waitWarnings waits until there are at least n warnings with message msg
// and returns them. A warning is logged just after its cause is counted:
// waiting for the count is not enough.
func waitWarnings(t *testing.T, h *records, msg string, n int) []map[string]string {
	t.Helper()
	waitUntil(t, fmt.Sprintf("%d warnings %q", n, msg), func() bool { return len(h.warnings(msg)) >= n })
	return h.warnings(msg)
}

// warnArena is an arena whose victim logs to the returned records and
// whose warnings follow the returned clock.
func warnArena(t *testing.T, opts Options) (*arena, *records, *fakeClock) {
	t.Helper()
	h := newRecords()
	opts.Logger = logging.New(h)
	a := newArena(t, opts)
	c := &fakeClock{}
	setClock(a.victim, c)
	return a, h, c
}

// TestRefusedConnectionWarnings: a flood of refused connections from one
// address is one warning per cause and minute; the next after the minute
// says how many were suppressed. A member refused is warned about apart.
func TestRefusedConnectionWarnings(t *testing.T) {
	a, h, c := warnArena(t, Options{})
	const flood = 20
	for range flood {
		if _, err := dialVictim(t, a.addr, nil, &hello{Version: protocolVersion, From: "2", To: "0"}); err == nil {
			t.Fatal("a connection without a certificate was accepted")
		}
	}
	waitUntil(t, "the flood is refused", func() bool { return a.victim.Metrics().Refused == flood })
	if got := waitWarnings(t, h, "refused a connection", 1); len(got) != 1 || got[0]["cause"] != causeHandshake {
		t.Fatalf("warnings after a flood of %d: %v, want one", flood, got)
	}

	member2 := []tls.Certificate{certOf(t, a.keys[2])}
	if _, err := dialVictim(t, a.addr, member2, &hello{Version: protocolVersion, From: "2", To: "1"}); err == nil {
		t.Fatal("a hello for another node was accepted")
	}
	if got := waitWarnings(t, h, "refused a connection", 2); len(got) != 2 || got[1]["cause"] != causeHello || got[1]["peer"] != "2" {
		t.Fatalf("warnings after a member's bad hello: %v, want a second one", got)
	}

	c.advance(warnInterval)
	dialVictim(t, a.addr, nil, nil)
	got := waitWarnings(t, h, "refused a connection", 3)
	if len(got) != 3 || got[2]["suppressed"] != fmt.Sprint(flood-1) {
		t.Errorf("warnings a minute later: %v; want a third saying %d were suppressed", got, flood-1)
	}
}

// TestHungUpConnections: a connection whose other end closes it before it
// is set up, as a peer that stops while it dials does, refuses nothing: it
// is counted and logged at Info, once a minute per address, not warned
// about. Whether it closes before or during the TLS handshake, or after
// it, before its hello.
func TestHungUpConnections(t *testing.T) {
	a, h, _ := warnArena(t, Options{})
	const n = 5
	for range n {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	// A member that proves its key, then hangs up before its hello: the
	// TLS handshake is over when the client has read the server's
	// Finished, so the server may not have the client's yet.
	member2 := []tls.Certificate{certOf(t, a.keys[2])}
	raw, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	conn := tls.Client(raw, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: member2, InsecureSkipVerify: true})
	if err := conn.Handshake(); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	waitUntil(t, "the hang-ups are counted", func() bool { return a.victim.Metrics().Refused == n+1 })
	waitUntil(t, "the hang-ups are logged", func() bool { return len(h.find(msgHungUp, slog.LevelDebug)) == n+1 })
	if got := h.find(msgHungUp, slog.LevelWarn); len(got) != 0 {
		t.Errorf("hang-ups warned about: %v", got)
	}
	if got := h.warnings("refused a connection"); len(got) != 0 {
		t.Errorf("hang-ups refused: %v", got)
	}
	if got := h.find(msgHungUp, slog.LevelInfo); len(got) < 1 || len(got) > 2 {
		t.Errorf("hang-ups logged at Info: %v; want one for the address, and one for member 2 if it had proved its key", got)
	}
	a.checkHonest(t)
}

// TestHandshakeSlotWarnings: a flood of connections that never set up,
// more than there are handshake slots, makes at most one warning per
// cause: full slots, and set-ups that timed out.
func TestHandshakeSlotWarnings(t *testing.T) {
	a, h, _ := warnArena(t, Options{HandshakeTimeout: 100 * time.Millisecond, MaxPendingHandshakes: 2})
	a.checkHonest(t) // Connected before the flood takes the slots.
	const flood = 30
	for range flood {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
	}
	waitUntil(t, "the flood is refused", func() bool { return a.victim.Metrics().Refused == flood })
	slots := waitWarnings(t, h, "too many connections being set up, refusing one", 1)
	refused := h.warnings("refused a connection")
	if len(slots) != 1 || len(refused) > 1 {
		t.Errorf("warnings after a flood of %d: %v and %v; want one about the slots and at most one about time-outs", flood, slots, refused)
	}
	a.checkHonest(t)
}

// TestLostPeerWarning: a peer whose connection breaks, and that stays
// unreachable for unreachableWarnAfter, is warned about; a lost connection
// alone is not (an orderly stop looks the same).
func TestLostPeerWarning(t *testing.T) {
	a, h, c := warnArena(t, Options{ReconnectMin: time.Millisecond, ReconnectMax: 10 * time.Millisecond})
	a.checkHonest(t)
	a.honest.Stop()
	before := a.victim.Metrics().Peers["1"].DialFailures
	waitUntil(t, "the victim redials in vain", func() bool { return a.victim.Metrics().Peers["1"].DialFailures > before })
	if got := h.warnings("peer unreachable"); len(got) != 0 {
		t.Fatalf("warnings right after the loss: %v, want none", got)
	}
	c.advance(unreachableWarnAfter)
	if got := waitWarnings(t, h, "peer unreachable", 1); len(got) != 1 || got[0]["peer"] != "1" || got[0]["cause"] != causeUnreachable {
		t.Errorf("warnings: %v, want one about peer 1", got)
	}
}

// TestBadFrameWarnings: a member that sends bad frame after bad frame is
// warned about once.
func TestBadFrameWarnings(t *testing.T) {
	a, h, _ := warnArena(t, Options{})
	member2 := []tls.Certificate{certOf(t, a.keys[2])}
	const n = 5
	for range n {
		conn, err := dialVictim(t, a.addr, member2, &hello{Version: protocolVersion, From: "2", To: "0"})
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte{0, 0, 0, 0})
	}
	waitUntil(t, "the bad frames are counted", func() bool { return a.victim.Metrics().Peers["2"].BadFrames == n })
	if got := waitWarnings(t, h, "closing connection from peer: bad frame", 1); len(got) != 1 || got[0]["peer"] != "2" {
		t.Errorf("warnings: %v, want one about peer 2", got)
	}
}
