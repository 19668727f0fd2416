package stdmodules

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// timer goroutine must end with the context it runs under.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
