package pbft_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Every message crosses the network, every record the WAL (inside an
// iss.OrdererRecord) and every timeout the timer: each decodes to what was
// encoded.
func TestCodecRoundTrip(t *testing.T) {
	d := digest(0, []byte("v"))
	certs := []pbft.Cert{{SeqNr: 4, View: 2, Digest: d}}
	for _, msg := range []stdtypes.Message{
		&pbft.PrePrepareMsg{View: 0, SeqNr: 4, Value: []byte("v")},
		&pbft.PrepareMsg{View: 1, SeqNr: 4, Digest: d},
		&pbft.CommitMsg{View: 1, SeqNr: 4, Digest: d},
		&pbft.ViewChangeMsg{View: 3, Prepared: certs, PrePrepared: certs, Values: [][]byte{[]byte("v")}, Signature: []byte("sig")},
		&pbft.NewViewMsg{View: 3, ViewChanges: []pbft.SignedViewChange{{From: "1", Prepared: certs, Signature: []byte("s")}},
			Slots: []pbft.NewViewSlot{{Value: []byte("v")}, {Aborted: true}}},
		&pbft.DoneMsg{Digests: [][]byte{d}},
		&pbft.DoneRequestMsg{},
		&pbft.CatchUpRequestMsg{SeqNr: 8},
		&pbft.CatchUpResponseMsg{SeqNr: 8, Value: []byte("v")},
	} {
		data, err := codec.EncodeMessage(msg)
		if err != nil {
			t.Fatalf("%T: %v", msg, err)
		}
		got, err := codec.DecodeMessage(data)
		if err != nil || !reflect.DeepEqual(got, msg) {
			t.Errorf("%T: decoded %+v (%v); want %+v", msg, got, err, msg)
		}
	}
	h := stdtypes.NewHeader(ord)
	for _, ev := range []stdtypes.Event{
		&pbft.PrePrepareRecord{Header: h, View: 0, SeqNr: 4, Value: []byte("v")},
		&pbft.PreparedRecord{Header: h, View: 2, SeqNr: 4, Digest: d},
		&pbft.ViewRecord{Header: h, View: 2},
		&pbft.NewViewRecord{Header: h, NewView: pbft.NewViewMsg{View: 2, Slots: []pbft.NewViewSlot{{Aborted: true}}}},
	} {
		rec := &iss.OrdererRecord{Header: stdtypes.NewHeader(mc.ISS), Epoch: 3, Segment: 1, Event: ev}
		data, err := codec.EncodeEvent(rec)
		if err != nil {
			t.Fatalf("%T: %v", ev, err)
		}
		got, err := codec.DecodeEvent(data)
		if err != nil || !reflect.DeepEqual(got, stdtypes.Event(rec)) {
			t.Errorf("%T: decoded %+v (%v); want %+v", ev, got, err, rec)
		}
	}
	timer := stdevents.NewTimerDelay("timer", time.Second, &pbft.ViewChangeTimeout{Header: h, Progress: 3}, &pbft.ProposeTimeout{Header: h, SeqNr: 4})
	data, err := codec.EncodeEvent(timer)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := codec.DecodeEvent(data); err != nil || !reflect.DeepEqual(got, stdtypes.Event(timer)) {
		t.Errorf("timer: decoded %+v (%v)", got, err)
	}
}
