package client_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/trantor/client"
)

// connect opens a raw connection to addr.
func connect(t testing.TB, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// waitClosed waits until the server closes nc: a read returns EOF or a
// reset.
func waitClosed(t testing.TB, nc net.Conn) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(waitTimeout))
	_, err := io.Copy(io.Discard, nc)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("server did not close the connection")
	}
}

// readReply reads one reply frame from br and returns its body.
func readReply(t testing.TB, nc net.Conn, br *bufio.Reader) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(waitTimeout))
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
	if _, err := io.ReadFull(br, body); err != nil {
		t.Fatal(err)
	}
	return body
}

// TestBadFrames: each bad frame closes its connection and is counted; the
// node goes on serving an honest client.
func TestBadFrames(t *testing.T) {
	valid := client.AppendSubmitFrame(nil, "mallory", 0, []byte("x"))
	huge := binary.BigEndian.AppendUint32(nil, 1<<31)
	tooLongTx := client.AppendSubmitFrame(nil, "mallory", 0, make([]byte, 1025))
	cases := map[string][]byte{
		"garbage":             []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		"huge header":         huge,
		"transaction limit":   tooLongTx,
		"empty body":          {0, 0, 0, 0},
		"bad version":         append([]byte{0, 0, 0, 3, 9, 1}, 1),
		"reply kind":          append(append([]byte{}, valid[:4]...), append([]byte{1, 2}, valid[6:]...)...),
		"empty client ID":     {0, 0, 0, 4, 1, 1, 0, 0},
		"long client ID":      client.AppendSubmitFrame(nil, string(make([]byte, client.MaxClientIDBytes+1)), 0, nil),
		"client ID not UTF-8": client.AppendSubmitFrame(nil, "\xff", 0, nil),
		"non-minimal varint":  {0, 0, 0, 6, 1, 1, 1, 'a', 0x80, 0},
		"truncated":           valid[:len(valid)-1],
	}
	n := startNode(t, "", false, client.ServerOptions{MaxTxBytes: 1024, MaxBufferedBytes: 4096})
	for name, b := range cases {
		nc := connect(t, n.addr())
		if _, err := nc.Write(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "truncated" {
			nc.(*net.TCPConn).CloseWrite()
		}
		waitClosed(t, nc)
	}
	if got, want := n.srv.Metrics().BadFrames, uint64(len(cases)); got != want {
		t.Errorf("%d bad frames counted, want %d", got, want)
	}
	submit(t, dial(t, []string{n.addr()}, 0, client.Options{}), "still serving")
}

// TestTooManyClients: a connection speaks for at most MaxClientsPerConn
// clients and all connections for at most MaxClients; a frame of one more
// closes its connection, counted, and the clients already bound are
// served on.
func TestTooManyClients(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{MaxClientsPerConn: 2, MaxClients: 3})
	a := connect(t, n.addr())
	ra := bufio.NewReader(a)
	for i, id := range []string{"ann", "bob", "ann"} {
		if _, err := a.Write(client.AppendSubmitFrame(nil, id, uint64(i), []byte("x"))); err != nil {
			t.Fatal(err)
		}
		if body := readReply(t, a, ra); !bytes.Contains(body, []byte(id)) {
			t.Fatalf("%s's reply %q", id, body)
		}
	}
	if _, err := a.Write(client.AppendSubmitFrame(nil, "cid", 0, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, a) // A third client on the connection.
	b := connect(t, n.addr())
	rb := bufio.NewReader(b)
	for i, id := range []string{"dan", "eve"} {
		if _, err := b.Write(client.AppendSubmitFrame(nil, id, uint64(i), []byte("x"))); err != nil {
			t.Fatal(err)
		}
		readReply(t, b, rb)
	}
	// ann and bob were forgotten with a; dan, eve and fay are 3: gus is one
	// too many.
	c := connect(t, n.addr())
	if _, err := c.Write(client.AppendSubmitFrame(nil, "fay", 0, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	readReply(t, c, bufio.NewReader(c))
	if _, err := c.Write(client.AppendSubmitFrame(nil, "gus", 0, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, c)
	if got := n.srv.Metrics().TooManyClients; got != 2 {
		t.Fatalf("%d connections closed for too many clients, want 2", got)
	}
	submit(t, dial(t, []string{n.addr()}, 0, client.Options{ClientID: "dan", FirstTxNo: 10}), "still serving")
}

// TestSlowloris: a client that sends part of a frame and stalls is cut off
// after FrameTimeout, one that sends nothing after IdleTimeout.
func TestSlowloris(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{FrameTimeout: 50 * time.Millisecond, IdleTimeout: 100 * time.Millisecond})
	partial := connect(t, n.addr())
	if _, err := partial.Write(client.AppendSubmitFrame(nil, "slow", 0, []byte("payload"))[:7]); err != nil {
		t.Fatal(err)
	}
	idle := connect(t, n.addr())
	waitClosed(t, partial)
	waitClosed(t, idle)
	if got := n.srv.Metrics().Timeouts; got != 2 {
		t.Errorf("%d timeouts, want 2", got)
	}
}

// TestTooManyConnections: past MaxConns a connection is closed at once and
// counted; the connections within the limit are served.
func TestTooManyConnections(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{MaxConns: 2})
	for i, id := range []string{"a", "b"} {
		nc := connect(t, n.addr())
		if _, err := nc.Write(client.AppendSubmitFrame(nil, id, 7, []byte("x"))); err != nil {
			t.Fatal(err)
		}
		readReply(t, nc, bufio.NewReader(nc)) // Accepted and served.
		if got := n.srv.Metrics().Accepted; got != uint64(i+1) {
			t.Fatalf("%d accepted, want %d", got, i+1)
		}
	}
	extra := connect(t, n.addr())
	waitClosed(t, extra)
	if got := n.srv.Metrics().Refused; got != 1 {
		t.Errorf("%d refused, want 1", got)
	}
}

// TestFlooderThrottled: a connection sending faster than FramesPerSecond
// is slowed down, not cut off: all its transactions are served.
func TestFlooderThrottled(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{FramesPerSecond: 100})
	nc := connect(t, n.addr())
	var b []byte
	const frames = 150 // Burst of 100, then 50 more at 100 per second.
	for i := range frames {
		b = client.AppendSubmitFrame(b, "flood", uint64(i), []byte("x"))
	}
	if _, err := nc.Write(b); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	for range frames {
		readReply(t, nc, br)
	}
	if got := n.srv.Metrics().Throttled; got == 0 {
		t.Error("no frame throttled")
	}
}

// FuzzServerConn writes arbitrary bytes to a real server on a connection
// of their own and closes it: the server never crashes, and answers an
// honest client after each.
func FuzzServerConn(f *testing.F) {
	f.Add(client.AppendSubmitFrame(nil, "fuzz", 0, []byte("x")))
	f.Add(append(client.AppendSubmitFrame(nil, "fuzz", 1, nil), client.AppendSubmitFrame(nil, "other", 1, nil)...))
	f.Add([]byte{0, 0, 0, 6, 1, 1, 1, 'a', 0x80, 0})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})
	n := startNode(f, "", false, client.ServerOptions{MaxTxBytes: 1 << 10, MaxBufferedBytes: 1 << 16})
	probe := 0
	f.Fuzz(func(t *testing.T, in []byte) {
		nc := connect(t, n.addr())
		nc.Write(in)
		nc.(*net.TCPConn).CloseWrite()
		waitClosed(t, nc)
		probe++
		p := connect(t, n.addr())
		id := fmt.Sprint("probe-", probe)
		if _, err := p.Write(client.AppendSubmitFrame(nil, id, 0, []byte("p"))); err != nil {
			t.Fatal(err)
		}
		if body := readReply(t, p, bufio.NewReader(p)); !bytes.HasSuffix(body, []byte("ok:p")) {
			t.Fatalf("probe reply %q", body)
		}
	})
}

// TestSlowlorisBehindFrame: a stalled frame that arrives behind a whole
// one, in the same segment, is cut off after FrameTimeout too, its header
// partial or whole: the server skips setting deadlines only for frames it
// holds whole.
func TestSlowlorisBehindFrame(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{FrameTimeout: 50 * time.Millisecond, IdleTimeout: time.Hour})
	next := client.AppendSubmitFrame(nil, "slow", 1, []byte("payload"))
	for i, cut := range []int{2, 7} {
		nc := connect(t, n.addr())
		b := client.AppendSubmitFrame(nil, "slow", 0, []byte("x"))
		if _, err := nc.Write(append(b, next[:cut]...)); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, nc)
		if got := n.srv.Metrics().Timeouts; got != uint64(i+1) {
			t.Fatalf("%d timeouts, want %d", got, i+1)
		}
	}
}
