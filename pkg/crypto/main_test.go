package crypto_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a goroutine outlives them: the
// pools' workers must end with the context they were started with.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
