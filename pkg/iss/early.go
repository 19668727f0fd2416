package iss

import (
	"github.com/mirframework/mir/pkg/messagebuffer"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// OrdererRetention is the index function of the orderers' factory: an
// orderer's name ("<epoch>.<segment>") maps to its epoch, the retention
// index ISS creates it with; any other name to false.
func OrdererRetention(name stdtypes.ModuleID) (stdtypes.RetentionIndex, bool) {
	e, _, ok := ParseOrdererName(name)
	return stdtypes.RetentionIndex(e), ok
}

// EarlyOrdererMessages returns the configuration with which the orderers'
// factory keeps the messages for orderers this node has not created yet
// (stdmodules.WithEarlyMessages): by epoch, within MsgBufferCount and
// MsgBufferBytes per sender, from up to twice as many senders as epoch 0
// has voters (room for a membership that changes entirely), so that the
// whole buffer stays below 2 × |Voters| × MsgBufferBytes.
func EarlyOrdererMessages(p Params) stdmodules.EarlyMessages {
	return stdmodules.EarlyMessages{
		Index:      OrdererRetention,
		Limits:     messagebuffer.Limits{MessagesPerSenderMax: p.MsgBufferCount, BytesPerSenderMax: p.MsgBufferBytes},
		MaxSenders: max(2*len(p.Voters), 1),
	}
}
