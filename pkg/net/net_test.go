package net_test

import (
	"errors"
	"testing"

	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

type note struct {
	stdtypes.MessageBase
}

func TestValidateSendMessage(t *testing.T) {
	cases := []struct {
		name string
		ev   *stdevents.SendMessage
		want error
	}{
		{"nil event", nil, net.ErrNilMessage},
		{"nil message", stdevents.NewSendMessage("net", nil, stdevents.To("app", "1")), net.ErrNilMessage},
		{"no destinations", stdevents.NewSendMessage("net", &note{}, stdevents.To("app")), net.ErrNoDestinations},
		{"empty module", stdevents.NewSendMessage("net", &note{}, stdevents.To("", "1")), net.ErrBadModuleID},
		{"trailing separator", stdevents.NewSendMessage("net", &note{}, stdevents.To("app/", "1")), net.ErrBadModuleID},
		{"valid", stdevents.NewSendMessage("net", &note{}, stdevents.To("app/sub", "1", "1")), nil},
	}
	for _, c := range cases {
		err := net.ValidateSendMessage(c.ev)
		if c.want == nil && err != nil || !errors.Is(err, c.want) {
			t.Errorf("%s: ValidateSendMessage = %v, want %v", c.name, err, c.want)
		}
	}
}

func TestTotal(t *testing.T) {
	s := net.TransportStats{Peers: map[stdtypes.NodeID]net.PeerStats{
		"0": {Out: 1, In: 2, DroppedOut: 3, DroppedIn: 4},
		"1": {Out: 10, In: 20, DroppedOut: 30, DroppedIn: 40},
	}}
	if got, want := s.Total(), (net.PeerStats{Out: 11, In: 22, DroppedOut: 33, DroppedIn: 44}); got != want {
		t.Errorf("Total() = %+v, want %+v", got, want)
	}
}
