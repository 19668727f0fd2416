package metrics

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: Serve
// must stop its server, and the test cluster every node it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
