package crypto_test

import (
	"reflect"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

// TestEventsCodec checks that every event of the package is registered and
// survives encoding, as recording and replay need.
func TestEventsCodec(t *testing.T) {
	o := crypto.Origin{Module: "app/sub", ID: 1<<64 - 1}
	events := []stdtypes.Event{
		crypto.NewSignRequest("crypto", o, []byte("a"), []byte{}),
		crypto.NewSignResult(o, [][]byte{{1, 2}, {3}}),
		crypto.NewVerifyRequest("crypto", o, crypto.SigItem{Msg: []byte("m"), Sig: []byte{9}, Signer: "3"}),
		crypto.NewVerifyResult(o, []bool{true, false}),
		crypto.NewHashRequest("hasher", o, [][]byte{[]byte("x"), []byte("y")}, [][]byte{}),
		crypto.NewHashResult(o, [][]byte{make([]byte, 32)}),
	}
	for _, ev := range events {
		data, err := codec.EncodeEvent(ev)
		if err != nil {
			t.Fatalf("%s: %v", stdtypes.TypeName(ev), err)
		}
		got, err := codec.DecodeEvent(data)
		if err != nil {
			t.Fatalf("%s: %v", stdtypes.TypeName(ev), err)
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("%s: decoded %+v, want %+v", stdtypes.TypeName(ev), got, ev)
		}
	}
}

func TestOriginValidate(t *testing.T) {
	if err := (crypto.Origin{Module: "a/b"}).Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []stdtypes.ModuleID{"", "a//b", "/a"} {
		if (crypto.Origin{Module: bad}).Validate() == nil {
			t.Errorf("origin %q accepted", bad)
		}
	}
}
