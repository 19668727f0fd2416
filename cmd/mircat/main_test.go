package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/mircat"
)

// This mircat decodes the events of the repository's protocols and of the
// standard modules, and replays the protocols.
func TestProtocols(t *testing.T) {
	for _, name := range []string{"mir.SendMessage", "crypto.SignRequest", "bcb.Broadcast", "bcb.Echo", "pingpong.Ping"} {
		if _, err := codec.New(name); err != nil {
			t.Errorf("mircat cannot decode %s: %v", name, err)
		}
	}
	var out, errOut bytes.Buffer
	code := mircat.Run(t.Context(), []string{"replay", "--builders"}, strings.NewReader(""), &out, &errOut, builders)
	if code != 0 || out.String() != "bcb\npingpong\n" {
		t.Errorf("replay --builders: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
}
