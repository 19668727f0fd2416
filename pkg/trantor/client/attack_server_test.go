package client_test

import (
	"bytes"
	"errors"
	"net"
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
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4<<10)
		})
		return errors.Join(err, serr)
	}}
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
