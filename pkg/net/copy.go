package net

import (
	"fmt"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// CopyMessage returns a copy of msg made by encoding and decoding it, as
// the receiver gets it over a real network, and the encoding. Transports
// whose nodes share a process (package local, the simulator's) hand the
// receiver such a copy, so that a receiver never shares memory with the
// sender, and a message type the codec cannot carry fails in a test as it
// would in a deployment.
//
// data is msg's encoding if the caller has it already, or nil: a message
// sent to several nodes is encoded once, by passing the returned encoding
// back in for each further destination. A failure is a bug of the message
// type or of the module that made msg (an unregistered type, a value the
// codec refuses), not something the network did, so transports treat it
// as an error of the node.
func CopyMessage(msg stdtypes.Message, data []byte) (copied stdtypes.Message, encoding []byte, err error) {
	if data == nil {
		if data, err = codec.EncodeMessage(msg); err != nil {
			return nil, nil, fmt.Errorf("message %s cannot be sent: %w", stdtypes.TypeName(msg), err)
		}
	}
	copied, err = codec.DecodeMessage(data)
	if err != nil {
		return nil, nil, fmt.Errorf("message %s encodes but does not decode: %w", stdtypes.TypeName(msg), err)
	}
	return copied, data, nil
}
