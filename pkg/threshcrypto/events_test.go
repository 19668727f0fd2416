package threshcrypto_test

import (
	"reflect"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdtypes"
)

// TestEventsCodec checks that every event of the package is registered and
// survives encoding, as recording and replay need.
func TestEventsCodec(t *testing.T) {
	o := crypto.Origin{Module: "app", ID: 42}
	events := []stdtypes.Event{
		threshcrypto.NewSignShareRequest("tc", o, []byte("m")),
		threshcrypto.NewSignShareResult(o, [][]byte{{1}}),
		threshcrypto.NewVerifyShareRequest("tc", o, threshcrypto.ShareItem{Msg: []byte("m"), Share: []byte{1}, Signer: "2"}),
		threshcrypto.NewVerifyShareResult(o, []bool{false}),
		threshcrypto.NewRecoverRequest("tc", o, threshcrypto.RecoverItem{Msg: []byte("m"), Shares: [][]byte{{1}, {2}}}),
		threshcrypto.NewRecoverResult(o, [][]byte{nil, {7}}, []bool{false, true}),
		threshcrypto.NewVerifyFullRequest("tc", o, threshcrypto.FullItem{Msg: []byte("m"), Sig: []byte{3}}),
		threshcrypto.NewVerifyFullResult(o, []bool{true}),
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
