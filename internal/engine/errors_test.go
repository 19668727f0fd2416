package engine

import (
	"strings"
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

func TestDescribeEvents(t *testing.T) {
	one := DescribeEvents([]stdtypes.Event{newTestEvent("a/b")})
	if one != `event [engine.testEvent to "a/b"]` {
		t.Errorf("one event described as %s", one)
	}
	evs := make([]stdtypes.Event, 6)
	for i := range evs {
		evs[i] = newTestEvent("m")
	}
	many := DescribeEvents(evs)
	if !strings.HasPrefix(many, "a batch of 6 events [") || !strings.HasSuffix(many, ", ...]") ||
		strings.Count(many, "engine.testEvent") != describeEventsMax {
		t.Errorf("six events described as %s", many)
	}
	if DescribeEvent(nil) != "<nil>" {
		t.Error("nil event")
	}
}
