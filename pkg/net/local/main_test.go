package local_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// transports start none, and the nodes' must end when they stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
