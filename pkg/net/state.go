package net

import (
	"errors"
	"fmt"
)

// ErrNotStarted is the error of a transport's ApplyEvents before Start:
// the deployment forgot to start it, a wiring bug that stops the node.
var ErrNotStarted = errors.New("transport not started; call Start before running the node")

// State is a transport's place in its lifecycle, which every transport
// goes through in the same way: StateNew when made, StateStarted once
// Start succeeds, StateStopped once Stop is called. The state only moves
// forward: a stopped transport never starts again (Start returns
// ErrStopped), and a transport may be stopped without ever having started.
// The zero value is StateNew.
//
// State holds no lock: a transport guards it with its own, together with
// what changes with it (a listener, the connections).
type State uint8

// The states of a transport, in the order it goes through them.
const (
	StateNew State = iota
	StateStarted
	StateStopped
)

// stateNames are the names of the states, by value.
var stateNames = [...]string{StateNew: "new", StateStarted: "started", StateStopped: "stopped"}

// String returns the state's name: "new", "started" or "stopped".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Start moves s from StateNew to StateStarted once start, the transport's
// own work of starting (listening, dialing; nil if it has none), succeeds;
// if start fails, s stays StateNew and Start returns its error. Start
// returns ErrStopped if s is StateStopped, and nil, without calling start,
// if s is StateStarted already: starting twice is harmless.
func (s *State) Start(start func() error) error {
	switch *s {
	case StateStopped:
		return ErrStopped
	case StateStarted:
		return nil
	}
	if start != nil {
		if err := start(); err != nil {
			return err
		}
	}
	*s = StateStarted
	return nil
}

// Stop moves s to StateStopped. It reports whether s was not stopped
// already, that is, whether the caller is the one to release what the
// transport holds.
func (s *State) Stop() bool {
	if *s == StateStopped {
		return false
	}
	*s = StateStopped
	return true
}
