package client_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/trantor/client"
)

// TestSlowReaderCutOff: a client that submits and reads no reply is cut
// off after WriteTimeout and counted among the timeouts; an honest client
// is served meanwhile.
func TestSlowReaderCutOff(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{WriteTimeout: 100 * time.Millisecond})
	// A small receive buffer, set before connecting, so that the
	// server's writes block soon.
	d := net.Dialer{Control: smallReceiveBuffer}
	nc, err := d.Dial("tcp", n.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	payload := bytes.Repeat([]byte("r"), 60<<10)
	nc.SetWriteDeadline(time.Now().Add(waitTimeout))
	// Replies of 60 KiB, unread, until the server cuts the connection off.
	for txNo := uint64(0); ; txNo++ {
		if _, err := nc.Write(client.AppendSubmitFrame(nil, "sloth", txNo, payload)); err != nil {
			if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
				break
			}
			t.Fatalf("after %d transactions: %v", txNo, err)
		}
	}
	submit(t, dial(t, []string{n.addr()}, 0, client.Options{ClientID: "honest"}), "served")
	if got := n.srv.Metrics().Timeouts; got != 1 {
		t.Fatalf("%d timeouts, want 1: the slow reader", got)
	}
}

// TestCachedRepliesShareResults: a client that resubmits an executed
// transaction, in frames of a few bytes, and reads no reply costs the
// server a frame header per resubmission, not a copy of the result: the
// reply queue's MaxReplyQueue frames hold the cached result once.
func TestCachedRepliesShareResults(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{WriteTimeout: time.Minute, MaxReplyQueue: 1000})
	d := net.Dialer{Control: smallReceiveBuffer}
	nc, err := d.Dial("tcp", n.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(waitTimeout))
	if _, err := nc.Write(client.AppendSubmitFrame(nil, "amp", 0, bytes.Repeat([]byte("r"), 60<<10))); err != nil {
		t.Fatal(err)
	}
	readReply(t, nc, bufio.NewReader(nc)) // Executed, and its result cached.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	const resubmits = 1000
	var frames []byte
	for range resubmits {
		frames = client.AppendSubmitFrame(frames, "amp", 0, nil)
	}
	if _, err := nc.Write(frames); err != nil {
		t.Fatal(err)
	}
	for n.srv.Metrics().CachedReplies < resubmits {
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// 1,000 copies of the result would be 60 MB.
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
		t.Fatalf("the heap grew by %d bytes for %d cached replies queued", grew, resubmits)
	}
}

// TestHostileConnection: a connection that names thousands of clients is
// closed at the first past MaxClientsPerConn, and one that sends garbage
// after valid frames at the garbage, each counted; the valid frames
// before are executed; neither stops an honest client.
func TestHostileConnection(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{})
	many := connect(t, n.addr())
	var b []byte
	for i := range client.DefaultServerOptions().MaxClientsPerConn + 1000 {
		b = client.AppendSubmitFrame(b, fmt.Sprint("sybil-", i), 0, nil)
	}
	go many.Write(b) // Fails once the connection is closed.
	waitClosed(t, many)
	garbled := connect(t, n.addr())
	b = client.AppendSubmitFrame(nil, "garbler", 0, []byte("first"))
	b = client.AppendSubmitFrame(b, "garbler", 1, []byte("second"))
	if _, err := garbled.Write(append(b, "\x00\x00\x00\x05\x01\x07junk"...)); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, garbled)
	// The frames before the garbage were executed: submitted again on a
	// new connection, they are answered (from the cache).
	again := connect(t, n.addr())
	if _, err := again.Write(b); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(again)
	for _, want := range []string{"ok:first", "ok:second"} {
		if body := readReply(t, again, br); !bytes.HasSuffix(body, []byte(want)) {
			t.Fatalf("reply %q, want one ending in %q", body, want)
		}
	}
	submit(t, dial(t, []string{n.addr()}, 0, client.Options{ClientID: "honest"}), "served")
	if m := n.srv.Metrics(); m.TooManyClients != 1 || m.BadFrames != 1 {
		t.Fatalf("%d connections closed for too many clients, %d for bad frames; want 1 and 1", m.TooManyClients, m.BadFrames)
	}
}
