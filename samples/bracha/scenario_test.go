package bracha_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/samples/bracha"
)

// TestScenarios plays the broadcast's stored scenarios,
// testdata/scenarios/*.txt: Byzantine nodes, faults, and the bugs the
// simulation found. After a deliberate change of behaviour, -sim.rewrite
// writes the new outcomes into the files, to be reviewed in the diff:
//
//	go test ./samples/bracha -run TestScenarios -sim.rewrite
func TestScenarios(t *testing.T) {
	scenario.RunDir(t, "testdata/scenarios", bracha.Scenarios())
}
