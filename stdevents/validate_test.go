package stdevents

import (
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/stdtypes"
)

func TestValidateTimerRequest(t *testing.T) {
	ok := NewInit("app")
	cases := []struct {
		ev   stdtypes.Event
		want string // "" for valid
	}{
		{NewInit("timer"), ""},
		{NewTimerGarbageCollect("timer", 3), ""},
		{NewTimerDelay("timer", 0, ok), ""},
		{NewTimerDelay("timer", -time.Second, ok), "negative delay"},
		{NewTimerDelay("timer", time.Second, ok, nil), "event 1 is nil"},
		{NewTimerDelay("timer", time.Second, NewInit("a//b")), "event 0 (stdevents.Init)"},
		{NewTimerRepeat("timer", time.Second, 1, ok), ""},
		{NewTimerRepeat("timer", 0, 1, ok), "not positive"},
		{NewTimerRepeat("timer", time.Second, 1, NewInit("")), "event 0"},
		{nil, "nil event"},
		{NewGarbageCollect("timer", 1), "unexpected event stdevents.GarbageCollect"},
	}
	for i, c := range cases {
		err := ValidateTimerRequest(c.ev)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("case %d: unexpected error %v", i, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("case %d: error %v, want one about %q", i, err, c.want)
		}
	}
}
