package tcp

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// note is the message of the bad-input tests.
type note struct {
	stdtypes.MessageBase
	N int
}

var _ = codec.Register[note]("tcp.note")

// arena is a test setup: node 0, the victim, and node 1, an honest peer,
// run transports; node 2 is a member whose key the attacker holds, and
// outsider a key outside the membership.
type arena struct {
	members  *membership.Membership
	keys     []crypto.PrivateKey
	victim   *Transport
	honest   *Transport
	addr     string       // The victim's address.
	node2    net.Listener // Node 2's address, for a fake node 2.
	outsider crypto.PrivateKey
}

const testTimeout = 20 * time.Second

func newArena(t *testing.T, opts Options) *arena {
	t.Helper()
	var ls []net.Listener
	var addrs []string
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	members, keys, err := membership.WithAddrs(addrs)
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := crypto.GenerateKey(crypto.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	a := &arena{members: members, keys: keys, addr: addrs[0], node2: ls[2], outsider: outsider}
	for i, tr := range []**Transport{&a.victim, &a.honest} {
		o := opts
		o.Listener = ls[i]
		if *tr, err = New(stdtypes.NewNodeIDFromInt(i), members, keys[i], o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup((*tr).Stop)
		if err := (*tr).Start(); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// checkHonest checks that the victim and the honest node still exchange
// messages both ways.
func (a *arena) checkHonest(t *testing.T) {
	t.Helper()
	for _, pair := range [][2]*Transport{{a.honest, a.victim}, {a.victim, a.honest}} {
		from, to := pair[0], pair[1]
		ev := stdevents.NewSendMessage("net", &note{N: 42}, stdevents.To("app", to.ID()))
		if err := from.ApplyEvents(context.Background(), stdtypes.ListOf(ev)); err != nil {
			t.Fatal(err)
		}
		waitMessage(t, to, from.ID())
	}
}

// waitMessage waits for a note from node from in tr's incoming queue,
// skipping others.
func waitMessage(t *testing.T, tr *Transport, from stdtypes.NodeID) {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case list := <-tr.EventsOut():
			for _, ev := range list.Slice() {
				if rcv := ev.(*stdevents.MessageReceived); rcv.From == from {
					return
				}
			}
		case <-timeout:
			t.Fatalf("node %s got no message from %s; metrics %+v", tr.ID(), from, tr.Metrics())
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// certOf returns a self-signed certificate of key.
func certOf(t *testing.T, key crypto.PrivateKey) tls.Certificate {
	t.Helper()
	cert, err := selfSignedCert("attacker", key)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// dialVictim sets up a TLS connection to addr presenting certs, sends h
// (unless nil) and reads the acknowledgment. It returns the connection
// and the set-up's error.
func dialVictim(t *testing.T, addr string, certs []tls.Certificate, h *hello) (*tls.Conn, error) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(testTimeout))
	conn := tls.Client(raw, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: certs, InsecureSkipVerify: true})
	if err := conn.Handshake(); err != nil {
		return conn, err
	}
	if h != nil {
		frame, err := appendHello(nil, *h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Write(frame); err != nil {
			return conn, err
		}
	}
	var ack [1]byte
	if _, err := io.ReadFull(conn, ack[:]); err != nil {
		return conn, err
	}
	if ack[0] != ackByte {
		return conn, errors.New("bad acknowledgment")
	}
	return conn, nil
}

// TestRefusedConnections: each attempt is refused during set-up, counted,
// and the victim keeps serving its honest peer.
func TestRefusedConnections(t *testing.T) {
	a := newArena(t, Options{})
	member2 := []tls.Certificate{certOf(t, a.keys[2])}
	cases := []struct {
		name  string
		certs []tls.Certificate
		hello *hello
	}{
		{"no client certificate", nil, &hello{Version: protocolVersion, From: "2", To: "0"}},
		{"key outside the membership", []tls.Certificate{certOf(t, a.outsider)}, &hello{Version: protocolVersion, From: "2", To: "0"}},
		{"member claiming another member's ID", member2, &hello{Version: protocolVersion, From: "1", To: "0"}},
		{"member claiming the victim's ID", member2, &hello{Version: protocolVersion, From: "0", To: "0"}},
		{"member claiming an unknown ID", member2, &hello{Version: protocolVersion, From: "9", To: "0"}},
		{"hello for another node", member2, &hello{Version: protocolVersion, From: "2", To: "1"}},
		{"other protocol version", member2, &hello{Version: protocolVersion + 1, From: "2", To: "0"}},
		{"the victim's own key", []tls.Certificate{certOf(t, a.keys[0])}, &hello{Version: protocolVersion, From: "0", To: "0"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := dialVictim(t, a.addr, c.certs, c.hello)
			if err == nil {
				t.Fatal("the connection was accepted")
			}
			waitUntil(t, "the refusal is counted", func() bool { return a.victim.Metrics().Refused == uint64(i+1) })
			if m := a.victim.Metrics().Peers["2"]; m.Inbound || m.MessagesIn != 0 {
				t.Errorf("metrics of node 2: %+v", m)
			}
			a.checkHonest(t)
		})
	}
	// The same member with a proper hello is accepted.
	if _, err := dialVictim(t, a.addr, member2, &hello{Version: protocolVersion, From: "2", To: "0"}); err != nil {
		t.Fatalf("an honest hello was refused: %v", err)
	}
}

// TestBadHello sends hellos that are not hellos.
func TestBadHello(t *testing.T) {
	a := newArena(t, Options{})
	member2 := []tls.Certificate{certOf(t, a.keys[2])}
	for i, garbage := range [][]byte{
		{0xff, 0xff, 0xff, 0xff},       // A hello of 4 GiB.
		{0, 0, 0, 3, 0xff, 0xff, 0xff}, // Not CBOR.
		{0, 0, 0, 1, 0x01},             // A number, not a hello.
		{0, 0, 0, 10, 1, 2},            // Truncated.
	} {
		conn, err := tlsConn(t, a.addr, member2)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write(garbage)
		if garbage[3] == 10 {
			conn.CloseWrite()
		}
		var ack [1]byte
		if _, err := conn.Read(ack[:]); err == nil {
			t.Errorf("case %d: got an answer to a bad hello", i)
		}
		waitUntil(t, "the refusal is counted", func() bool { return a.victim.Metrics().Refused == uint64(i+1) })
	}
	a.checkHonest(t)
}

// tlsConn sets up a TLS connection to addr, without a hello.
func tlsConn(t *testing.T, addr string, certs []tls.Certificate) (*tls.Conn, error) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, testTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	raw.SetDeadline(time.Now().Add(testTimeout))
	conn := tls.Client(raw, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: certs, InsecureSkipVerify: true})
	return conn, conn.Handshake()
}

// TestBadFrames: a member that passed the set-up sends bad frames. Each
// closes its connection and is counted; nothing else happens.
func TestBadFrames(t *testing.T) {
	a := newArena(t, Options{})
	member2 := []tls.Certificate{certOf(t, a.keys[2])}
	valid, err := (&frameArena{}).frame("app", &note{N: 1}, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		bytes     []byte
		closeSend bool // End the stream after the bytes.
	}{
		{"garbage", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false},
		{"header claiming 4 GiB", []byte{0xff, 0xff, 0xff, 0xff}, false},
		{"header above the maximum", binary.BigEndian.AppendUint32(nil, DefaultMaxFrameBytes+1), false},
		{"truncated body", append(binary.BigEndian.AppendUint32(nil, 100), make([]byte, 10)...), true},
		{"truncated header", []byte{0, 0}, true},
		{"empty frame", []byte{0, 0, 0, 0}, false},
		{"empty destination", append([]byte{0, 0, 0, 2, 0}, 0xf6), false},
		{"invalid destination", append([]byte{0, 0, 0, 6, 4}, "a//b\xf6"...), false},
		{"body not CBOR", append(binary.BigEndian.AppendUint32(nil, 6), 3, 'a', 'p', 'p', 0xff, 0xff), false},
		{"event instead of message", mustFrameOf(t, stdevents.NewInit("x")), false},
		{"valid frame, then garbage", append(append([]byte{}, valid.b...), 0xff, 0xff, 0xff, 0xff, 1), false},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := dialVictim(t, a.addr, member2, &hello{Version: protocolVersion, From: "2", To: "0"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Write(c.bytes); err != nil {
				t.Fatal(err)
			}
			if c.closeSend {
				conn.CloseWrite()
			}
			var b [1]byte
			if _, err := conn.Read(b[:]); err == nil {
				t.Error("the victim wrote something")
			}
			waitUntil(t, "the bad frame is counted", func() bool {
				return a.victim.Metrics().Peers["2"].BadFrames == uint64(i+1)
			})
			a.checkHonest(t)
		})
	}
	if got := a.victim.Metrics().Peers["2"].MessagesIn; got != 1 {
		t.Errorf("MessagesIn from node 2 = %d, want 1 (the valid frame)", got)
	}
}

// mustFrameOf returns a frame whose body holds ev where a message belongs.
func mustFrameOf(t *testing.T, ev stdtypes.Event) []byte {
	t.Helper()
	enc, err := codec.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	body := append([]byte{3, 'a', 'p', 'p'}, enc...)
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestSilentConnections: connections that never start a handshake are
// closed after HandshakeTimeout, and at most MaxPendingHandshakes are
// held at once.
func TestSilentConnections(t *testing.T) {
	a := newArena(t, Options{HandshakeTimeout: 300 * time.Millisecond, MaxPendingHandshakes: 2})
	// Let the honest peer connect first, so that its set-up does not
	// compete with the silent ones for the two slots.
	a.checkHonest(t)
	var conns []net.Conn
	for range 5 {
		c, err := net.Dial("tcp", a.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(testTimeout))
		var b [1]byte
		if _, err := c.Read(b[:]); err == nil || errors.Is(err, net.ErrClosed) {
			t.Errorf("connection %d: read %v, want the victim to close it", i, err)
		}
	}
	waitUntil(t, "all five are refused", func() bool { return a.victim.Metrics().Refused == 5 })
	a.checkHonest(t)
}

// TestSlowPeer: a member that accepts the victim's connection and never
// reads. The victim's queue for it stays bounded and drops; the write
// times out and the victim redials; the honest peer is served throughout.
func TestSlowPeer(t *testing.T) {
	const queueCap = 64
	a := newArena(t, Options{SendQueueMessages: queueCap, WriteTimeout: 300 * time.Millisecond, ReconnectMax: 100 * time.Millisecond})
	cert := certOf(t, a.keys[2])
	stop := make(chan struct{})
	served := make(chan struct{})
	go func() { // Fake node 2: set-up done properly, then never reads.
		defer close(served)
		for {
			raw, err := a.node2.Accept()
			if err != nil {
				return
			}
			defer raw.Close()
			conn := tls.Server(raw, serverTLSConfig(cert, a.members))
			if err := conn.Handshake(); err != nil {
				continue
			}
			if _, err := readHello(bufio.NewReader(conn)); err != nil {
				continue
			}
			conn.Write([]byte{ackByte})
		}
	}()
	t.Cleanup(func() {
		close(stop)
		a.node2.Close()
		<-served
	})

	payload := make([]byte, 32<<10)
	deadline := time.Now().Add(testTimeout)
	for a.victim.Metrics().Peers["2"].Connects < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the victim never gave up on the slow peer: %+v", a.victim.Metrics().Peers["2"])
		}
		list := stdtypes.EmptyList()
		for range 16 {
			list.PushBack(stdevents.NewSendMessage("net", &blobNote{Data: payload}, stdevents.To("app", "2")))
		}
		if err := a.victim.ApplyEvents(context.Background(), list); err != nil {
			t.Fatal(err)
		}
		if m := a.victim.Metrics().Peers["2"]; m.QueueMessages > queueCap {
			t.Fatalf("queue of %d messages, bound %d", m.QueueMessages, queueCap)
		}
		a.checkHonest(t)
		time.Sleep(time.Millisecond)
	}
	if m := a.victim.Metrics().Peers["2"]; m.DroppedOut == 0 {
		t.Errorf("nothing dropped for the slow peer: %+v", m)
	}
}

// blobNote is a message with a payload.
type blobNote struct {
	stdtypes.MessageBase
	Data []byte
}

var _ = codec.Register[blobNote]("tcp.blobNote")

// TestImpostorListener: something listening on node 2's address with
// another key (a stranger's, or another member's) is never sent a
// message: the victim's dials to node 2 fail in the handshake.
func TestImpostorListener(t *testing.T) {
	a := newArena(t, Options{ReconnectMax: 50 * time.Millisecond})
	for i, impostor := range []crypto.PrivateKey{a.outsider, a.keys[1]} {
		cert := certOf(t, impostor)
		hellos := make(chan hello, 16)
		served := make(chan struct{})
		go func() {
			defer close(served)
			for {
				raw, err := a.node2.Accept()
				if err != nil {
					return
				}
				conn := tls.Server(raw, &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequireAnyClientCert})
				raw.SetDeadline(time.Now().Add(testTimeout))
				if conn.Handshake() == nil {
					if h, err := readHello(bufio.NewReader(conn)); err == nil {
						hellos <- h
					}
				}
				raw.Close()
			}
		}()
		before := a.victim.Metrics().Peers["2"].DialFailures
		ev := stdevents.NewSendMessage("net", &note{N: 1}, stdevents.To("app", "2"))
		if err := a.victim.ApplyEvents(context.Background(), stdtypes.ListOf(ev)); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "dials to the impostor fail", func() bool {
			return a.victim.Metrics().Peers["2"].DialFailures >= before+3
		})
		if m := a.victim.Metrics().Peers["2"]; m.Connected || m.MessagesOut != 0 || m.QueueMessages != i+1 {
			t.Errorf("metrics of node 2: %+v; want the messages still queued", m)
		}
		select {
		case h := <-hellos:
			t.Errorf("the impostor got a hello: %+v", h)
		default:
		}
		a.checkHonest(t)
		// Free node 2's address for the next impostor.
		a.node2.Close()
		<-served
		l, err := net.Listen("tcp", a.node2.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		a.node2 = l
	}
}
