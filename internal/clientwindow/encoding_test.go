package clientwindow

import (
	"bytes"
	"testing"
)

var testLimits = Limits{MaxClients: 3, MaxIDBytes: 4, Window: 8, MaxNo: 1<<63 - 1}

// clientsOf executes requests, given as client and number in turn.
func clientsOf(reqs ...any) Clients {
	cs := Clients{}
	for i := 0; i < len(reqs); i += 2 {
		cs.Execute(reqs[i].(string), uint64(reqs[i+1].(int)))
	}
	return cs
}

// TestEncodingRoundTrip: what Append writes decodes to the same clients,
// up to the rest of the data, and re-encodes to the same bytes.
func TestEncodingRoundTrip(t *testing.T) {
	for _, cs := range []Clients{
		{},
		clientsOf("", 0),
		clientsOf("b", 7, "a", 0, "b", 3, "b", 0),
		{"big": &Client{Low: 1 << 63, Above: map[uint64]struct{}{}}},
		{"big": &Client{Low: 1<<63 - 2, Above: map[uint64]struct{}{1<<63 - 1: {}}}},
	} {
		data := cs.Append([]byte("head"))
		got, rest, err := Decode(append(data[4:], "tail"...), testLimits)
		if err != nil {
			t.Fatalf("%x: %v", data, err)
		}
		if string(rest) != "tail" || !bytes.Equal(got.Append([]byte("head")), data) {
			t.Fatalf("%x decoded to %+v, rest %q", data, got, rest)
		}
	}
}

// TestDecodeRefuses: what Append would not write, or beyond the limits.
func TestDecodeRefuses(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":              nil,
		"too many clients":   {4, 1, 'a', 1, 0, 1, 'b', 1, 0, 1, 'c', 1, 0, 1, 'd', 1, 0},
		"more than the data": {2, 1, 'a', 1, 0},
		"long ID":            {1, 5, 'a', 'b', 'c', 'd', 'e', 1, 0},
		"IDs out of order":   {2, 1, 'b', 1, 0, 1, 'a', 1, 0},
		"ID twice":           {2, 1, 'a', 1, 0, 1, 'a', 2, 0},
		"nothing executed":   {1, 1, 'a', 0, 0},
		"zero distance":      {1, 1, 'a', 0, 1, 0},
		"beyond the window":  {1, 1, 'a', 0, 1, 8},
		"window full":        {1, 1, 'a', 0, 8, 1, 1, 1, 1, 1, 1, 1, 1},
		"watermark too high": {1, 1, 'a', 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0},
		"number too high":    {1, 1, 'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 1},
		"truncated":          {1, 1, 'a', 0, 2, 1},
	} {
		if cs, _, err := Decode(data, testLimits); err == nil {
			t.Errorf("%s: %x decoded to %+v", name, data, cs)
		}
	}
}

// FuzzDecode: Decode never panics, and what it accepts is within its
// limits and re-encodes to a prefix of the same length or shorter (longer
// varints decode, and the callers refuse them by re-encoding).
func FuzzDecode(f *testing.F) {
	f.Add(clientsOf("b", 7, "a", 0, "b", 3).Append(nil))
	f.Add([]byte{1, 1, 'a', 0, 2, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, rest, err := Decode(data, testLimits)
		if err != nil {
			return
		}
		if len(cs) > testLimits.MaxClients {
			t.Fatalf("%d clients", len(cs))
		}
		for id, c := range cs {
			if len(id) > testLimits.MaxIDBytes || uint64(len(c.Above)) >= testLimits.Window || c.Low == 0 && len(c.Above) == 0 {
				t.Fatalf("client %q: %+v", id, c)
			}
			for no := range c.Above {
				if no <= c.Low || no-c.Low >= testLimits.Window {
					t.Fatalf("client %q: %d above %d", id, no, c.Low)
				}
			}
		}
		if n := len(cs.Append(nil)); n > len(data)-len(rest) {
			t.Fatalf("%d bytes re-encoded from %d", n, len(data)-len(rest))
		}
	})
}
