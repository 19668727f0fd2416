package bracha_test

import (
	"testing"

	"github.com/mirframework/mir/internal/docquote"
)

// docs/tutorial.md walks through this package: it quotes its code and
// runs its commands. The tests in this file keep the page true.

// tutorialPath is the tutorial, from this package's directory.
const tutorialPath = "../../docs/tutorial.md"

// TestTutorialQuotes checks that the tutorial's quotes of this package
// are still in its files (see docquote.Check), so that the page cannot
// drift from the code unnoticed. Blocks of language sh (commands) are not
// quotes: TestTutorialCommands runs them.
func TestTutorialQuotes(t *testing.T) {
	if quotes := docquote.Check(t, tutorialPath, "."); quotes < 10 {
		t.Errorf("%d quotes found in %s; the parser must be broken", quotes, tutorialPath)
	}
}
