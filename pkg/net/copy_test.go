package net_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/stdtypes"
)

// payload is a registered message that holds memory a copy must not share.
type payload struct {
	stdtypes.MessageBase
	Data []byte
	Tags map[string]uint64
}

var _ = codec.Register[payload]("net_test.Payload")

func TestCopyMessage(t *testing.T) {
	orig := &payload{Data: []byte{1, 2, 3}, Tags: map[string]uint64{"a": 1}}
	got, data, err := net.CopyMessage(orig, nil)
	if err != nil {
		t.Fatalf("CopyMessage: %v", err)
	}
	cp, ok := got.(*payload)
	if !ok || !reflect.DeepEqual(cp, orig) {
		t.Fatalf("CopyMessage = %#v, want a copy of %#v", got, orig)
	}
	cp.Data[0], cp.Tags["a"] = 9, 9
	if orig.Data[0] != 1 || orig.Tags["a"] != 1 {
		t.Errorf("the copy shares memory with the original: %+v", orig)
	}
	want, err := codec.EncodeMessage(orig)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(want) {
		t.Errorf("encoding %x, want %x", data, want)
	}

	// The encoding passed back in serves the next destination: a copy
	// of its own, from the same bytes, with no new encoding.
	again, data2, err := net.CopyMessage(orig, data)
	if err != nil {
		t.Fatalf("CopyMessage with the encoding: %v", err)
	}
	if again == got || again.(*payload).Data[0] != 1 {
		t.Errorf("second copy %+v shares with the first or misses the original's values", again)
	}
	if &data2[0] != &data[0] {
		t.Error("CopyMessage encoded again although handed the encoding")
	}
}

// unregistered is a message type the codec does not know.
type unregistered struct{ stdtypes.MessageBase }

func TestCopyMessageErrors(t *testing.T) {
	_, _, err := net.CopyMessage(&unregistered{}, nil)
	if !errors.Is(err, codec.ErrUnknownType) || !strings.Contains(err.Error(), "cannot be sent") {
		t.Errorf("unregistered type: %v, want an error wrapping codec.ErrUnknownType that says it cannot be sent", err)
	}
	_, _, err = net.CopyMessage(&payload{}, []byte{0xff})
	if err == nil || !strings.Contains(err.Error(), "does not decode") {
		t.Errorf("encoding that does not decode: %v, want an error that says so", err)
	}
}
