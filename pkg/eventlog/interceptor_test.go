package eventlog

import (
	"errors"
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

type testEvent struct{ stdtypes.Header }

func TestInterceptorFunc(t *testing.T) {
	var got int
	fail := errors.New("full")
	var icp Interceptor = InterceptorFunc(func(evs *stdtypes.EventList) error {
		got += evs.Len()
		return fail
	})
	err := icp.Intercept(stdtypes.ListOf(&testEvent{}, &testEvent{}))
	if got != 2 || !errors.Is(err, fail) {
		t.Errorf("InterceptorFunc saw %d events and returned %v", got, err)
	}
}
