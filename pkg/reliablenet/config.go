package reliablenet

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules the reliablenet module talks to.
type ModuleConfig struct {
	// Self is the module's own ID. Peers' reliablenet modules must have
	// the same: data and acknowledgments go to Self on the other nodes.
	Self stdtypes.ModuleID
	// Net is the transport.
	Net stdtypes.ModuleID
	// Timer sends the Ticks that drive retransmission.
	Timer stdtypes.ModuleID
	// Users are the modules this one delivers messages to: a message from
	// a peer for any other module is dropped (the peer chooses the
	// destination, so an open list would let it reach any module of the
	// node). A user's submodules are users too ("iss" admits "iss/pbft/3").
	// Local SendMessages may only address users too: nodes run the same
	// modules, so a destination that is not one here is not one there.
	Users []stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs the samples and tests use,
// with users as the modules that send and receive through it.
func DefaultModuleConfig(users ...stdtypes.ModuleID) ModuleConfig {
	return ModuleConfig{Self: "reliablenet", Net: "net", Timer: "timer", Users: slices.Clone(users)}
}

// Validate reports whether every ID is a valid module ID and the users are
// distinct and other than Self.
func (mc ModuleConfig) Validate() error {
	var errs []error
	for _, m := range []struct {
		name string
		id   stdtypes.ModuleID
	}{{"Self", mc.Self}, {"Net", mc.Net}, {"Timer", mc.Timer}} {
		if err := m.id.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("ModuleConfig.%s: %w", m.name, err))
		}
	}
	for i, u := range mc.Users {
		switch {
		case u.Validate() != nil:
			errs = append(errs, fmt.Errorf("ModuleConfig.Users[%d]: %w", i, u.Validate()))
		case u.IsSubOf(mc.Self) || mc.Self.IsSubOf(u):
			// A peer could make this module deliver to itself.
			errs = append(errs, fmt.Errorf("ModuleConfig.Users[%d] %q: the module itself cannot be a user", i, u))
		case slices.Contains(mc.Users[:i], u):
			errs = append(errs, fmt.Errorf("ModuleConfig.Users[%d] %q: listed twice", i, u))
		}
	}
	return errors.Join(errs...)
}

// allowed tells whether dest is one of the users or below one.
func (mc ModuleConfig) allowed(dest stdtypes.ModuleID) bool {
	for _, u := range mc.Users {
		if dest.IsSubOf(u) {
			return true
		}
	}
	return false
}

// ModuleParams are the module's parameters.
type ModuleParams struct {
	// Incarnation tells this run of the node from its earlier ones: the
	// deployment chooses it at start-up, different at every start (a
	// counter kept on disk, or the start time in nanoseconds), so that
	// the module stays deterministic. Acknowledgments name it: one meant
	// for a message of an earlier run, still on its way, does not
	// acknowledge the message this run sends under the same number.
	Incarnation uint64
	// TickPeriod is the period of the Ticks from the timer, the module's
	// only clock.
	TickPeriod time.Duration
	// MinBackoffTicks is the number of ticks between a message's first
	// transmission and its first retransmission, MaxBackoffTicks the most
	// there ever are between two transmissions: the wait doubles after
	// each one, up to that. A wait of k ticks lasts between k-1 and k
	// periods, as the first tick comes at any time after a send.
	MinBackoffTicks int
	MaxBackoffTicks int
	// MaxPendingMessages bounds the messages the module retransmits at
	// once, and MaxPendingBytes their size (as encoded by package codec).
	// A SendMessage beyond either is an error, which stops the node: the
	// protocol sends faster than its peers acknowledge, and must bound
	// what it has in flight (bcb does with its window) rather than have
	// this module forget what it promised to deliver.
	MaxPendingMessages int
	MaxPendingBytes    int
}

// maxBackoffTicks bounds MaxBackoffTicks: beyond, retransmissions would be
// days apart with any sensible tick.
const maxBackoffTicks = 1 << 20

// DefaultModuleParams returns parameters for a deployment on a LAN:
// retransmission after 100 to 200 ms, then at most every 5 s; and room for
// 65,536 messages and 1 GiB in flight.
func DefaultModuleParams(incarnation uint64) ModuleParams {
	return ModuleParams{
		Incarnation:        incarnation,
		TickPeriod:         50 * time.Millisecond,
		MinBackoffTicks:    4,
		MaxBackoffTicks:    100,
		MaxPendingMessages: 1 << 16,
		MaxPendingBytes:    1 << 30,
	}
}

// Validate reports whether the parameters can be used.
func (p ModuleParams) Validate() error {
	var errs []error
	if p.TickPeriod <= 0 {
		errs = append(errs, fmt.Errorf("TickPeriod is %v; it must be positive", p.TickPeriod))
	}
	if p.MinBackoffTicks < 1 || p.MaxBackoffTicks < p.MinBackoffTicks || p.MaxBackoffTicks > maxBackoffTicks {
		errs = append(errs, fmt.Errorf("MinBackoffTicks %d and MaxBackoffTicks %d: want 1 ≤ min ≤ max ≤ %d",
			p.MinBackoffTicks, p.MaxBackoffTicks, maxBackoffTicks))
	}
	if p.MaxPendingMessages < 1 {
		errs = append(errs, fmt.Errorf("MaxPendingMessages is %d; it must be positive", p.MaxPendingMessages))
	}
	if p.MaxPendingBytes < 1 {
		errs = append(errs, fmt.Errorf("MaxPendingBytes is %d; it must be positive", p.MaxPendingBytes))
	}
	return errors.Join(errs...)
}
