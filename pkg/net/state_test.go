package net_test

import (
	"errors"
	"testing"

	"github.com/mirframework/mir/pkg/net"
)

func TestStateTransitions(t *testing.T) {
	errListen := errors.New("address in use")
	tests := []struct {
		name  string
		from  net.State
		op    string // start, start-fail, stop
		want  net.State
		err   error // of Start
		calls int   // of the start function
		first bool  // Stop's result
	}{
		{"new starts", net.StateNew, "start", net.StateStarted, nil, 1, false},
		{"a failed start stays new", net.StateNew, "start-fail", net.StateNew, errListen, 1, false},
		{"started starts again, harmlessly", net.StateStarted, "start", net.StateStarted, nil, 0, false},
		{"stopped does not start", net.StateStopped, "start", net.StateStopped, net.ErrStopped, 0, false},
		{"new stops", net.StateNew, "stop", net.StateStopped, nil, 0, true},
		{"started stops", net.StateStarted, "stop", net.StateStopped, nil, 0, true},
		{"stopped stops again, not first", net.StateStopped, "stop", net.StateStopped, nil, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.from
			calls := 0
			var err error
			var first bool
			switch tt.op {
			case "start":
				err = s.Start(func() error { calls++; return nil })
			case "start-fail":
				err = s.Start(func() error { calls++; return errListen })
			case "stop":
				first = s.Stop()
			}
			if s != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) || calls != tt.calls || first != tt.first {
				t.Errorf("%v %s: state %v, error %v, start called %d times, first stop %v; want %v, %v, %d, %v",
					tt.from, tt.op, s, err, calls, first, tt.want, tt.err, tt.calls, tt.first)
			}
		})
	}
}

func TestStateZeroAndNames(t *testing.T) {
	var s net.State
	if s != net.StateNew {
		t.Errorf("zero State is %v, want new", s)
	}
	if err := s.Start(nil); err != nil || s != net.StateStarted {
		t.Errorf("Start(nil) = %v, state %v; want nil, started", err, s)
	}
	for st, want := range map[net.State]string{net.StateNew: "new", net.StateStarted: "started", net.StateStopped: "stopped", 7: "State(7)"} {
		if got := st.String(); got != want {
			t.Errorf("State(%d).String() = %q, want %q", uint8(st), got, want)
		}
	}
}
