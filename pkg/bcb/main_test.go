package bcb_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// benchmark's nodes, transports and crypto pools must all stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
