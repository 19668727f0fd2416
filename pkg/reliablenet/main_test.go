package reliablenet_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// real nodes, transports and timers must all stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
