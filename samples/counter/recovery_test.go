package counter_test

import (
	"testing"

	"github.com/mirframework/mir/internal/docquote"
)

// TestRecoveryQuotes checks that docs/recovery.md, which walks through
// this package and pkg/wal, quotes them as they are.
func TestRecoveryQuotes(t *testing.T) {
	const page = "../../docs/recovery.md"
	if quotes := docquote.Check(t, page, ".", "../../pkg/wal", "../bracha/node"); quotes < 8 {
		t.Errorf("%d quotes found in %s; the parser must be broken", quotes, page)
	}
}
