package stdevents

import "github.com/mirframework/mir/pkg/codec"

// The standard events are registered with package codec so that they can be
// recorded in event logs and write-ahead logs. The names are part of every
// encoding: renaming one makes recorded data unreadable.
var (
	_ = codec.Register[Init]("mir.Init")
	_ = codec.Register[SendMessage]("mir.SendMessage")
	_ = codec.Register[MessageReceived]("mir.MessageReceived")
	_ = codec.Register[TimerDelay]("mir.TimerDelay")
	_ = codec.Register[TimerRepeat]("mir.TimerRepeat")
	_ = codec.Register[TimerGarbageCollect]("mir.TimerGarbageCollect")
	_ = codec.Register[NewSubmodule]("mir.NewSubmodule")
	_ = codec.Register[GarbageCollect]("mir.GarbageCollect")
)
