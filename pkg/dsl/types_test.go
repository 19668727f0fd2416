package dsl_test

import (
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Events and messages for the tests and benchmarks.
type (
	ev0 struct {
		stdtypes.Header
		N int
	}
	ev1 struct{ stdtypes.Header }
	ev2 struct{ stdtypes.Header }
	ev3 struct{ stdtypes.Header }
	ev4 struct{ stdtypes.Header }
	ev5 struct{ stdtypes.Header }
	ev6 struct{ stdtypes.Header }
	ev7 struct{ stdtypes.Header }

	msg0 struct {
		stdtypes.MessageBase
		N int
	}
	msg1 struct{ stdtypes.MessageBase }
	msg2 struct{ stdtypes.MessageBase }
	msg3 struct{ stdtypes.MessageBase }
)

const self stdtypes.ModuleID = "mod"

func recv(from stdtypes.NodeID, msg stdtypes.Message) *stdevents.MessageReceived {
	return stdevents.NewMessageReceived(self, from, msg)
}

func hdr() stdtypes.Header { return stdtypes.NewHeader(self) }
