package stdevents

import (
	"errors"
	"fmt"

	"github.com/mirframework/mir/stdtypes"
)

// Validate reports why the timer could not honour ev: a negative delay, or
// an event to emit that is nil or has an invalid destination.
func (ev *TimerDelay) Validate() error {
	if ev.Delay < 0 {
		return fmt.Errorf("%s: negative delay %v", stdtypes.TypeName(ev), ev.Delay)
	}
	return validateEmitted(ev, ev.Events)
}

// Validate reports why the timer could not honour ev: a period that is not
// positive, or an event to emit that is nil or has an invalid destination.
func (ev *TimerRepeat) Validate() error {
	if ev.Period <= 0 {
		return fmt.Errorf("%s: period %v is not positive", stdtypes.TypeName(ev), ev.Period)
	}
	return validateEmitted(ev, ev.Events)
}

// ValidateTimerRequest checks an event sent to a timer module, real or
// simulated: Init and TimerGarbageCollect are always fine, TimerDelay and
// TimerRepeat must pass their Validate, and anything else is an error. A
// MessageReceived is no request either, but it is no local module's bug:
// its sender chose the timer, so timers drop and count it before they
// validate (see modules.StrayMessages).
func ValidateTimerRequest(ev stdtypes.Event) error {
	switch ev := ev.(type) {
	case *Init, *TimerGarbageCollect:
		return nil
	case *TimerDelay:
		return ev.Validate()
	case *TimerRepeat:
		return ev.Validate()
	case nil:
		return errors.New("nil event")
	default:
		return fmt.Errorf("unexpected event %s", stdtypes.TypeName(ev))
	}
}

// validateEmitted checks that every event a request asks to emit can be
// routed: not nil, with a valid destination.
func validateEmitted(req stdtypes.Event, evs []stdtypes.Event) error {
	for i, ev := range evs {
		if ev == nil {
			return fmt.Errorf("%s: event %d is nil", stdtypes.TypeName(req), i)
		}
		if err := ev.Dest().Validate(); err != nil {
			return fmt.Errorf("%s: event %d (%s): %w", stdtypes.TypeName(req), i, stdtypes.TypeName(ev), err)
		}
	}
	return nil
}
