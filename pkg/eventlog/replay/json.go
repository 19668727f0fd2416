package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// JSON is how the nodes of a protocol are replayed when their replay
// parameters are a P kept as JSON, as most protocols keep theirs (P is the
// protocol's struct of configuration and parameters). Meta makes the
// metadata to record with a node and Builder the builder that reads it
// back; both take the name from Name, so they cannot disagree. A protocol
// exports one as a variable:
//
//	// Replay rebuilds a node for replay from what its recording carries.
//	var Replay = replay.JSON[ReplayParams]{Name: "myproto", Build: buildForReplay}
type JSON[P any] struct {
	// Name is what recordings name the builder by (MetaBuilder).
	Name string
	// Build builds a node's modules from the parameters recorded with it
	// (see BuildFunc).
	Build func(node stdtypes.NodeID, params P) (modules.Modules, error)
}

// Meta returns the metadata to record with a node
// (eventlog.StreamOptions.Meta) so that Builder rebuilds it for replay:
// MetaBuilder is j.Name, and MetaParams holds params as JSON.
func (j JSON[P]) Meta(params P) (map[string]string, error) {
	data, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("%s: replay parameters: %w", j.Name, err)
	}
	return map[string]string{MetaBuilder: j.Name, MetaParams: string(data)}, nil
}

// Builder returns the builder named j.Name that decodes the parameters
// Meta recorded into a P and hands them to j.Build: give it to a tool that
// replays (Builders, mircat.WithReplayBuilders). It decodes strictly: a
// field P does not have, or anything after the JSON value, is an error, so
// that parameters recorded by another version of the protocol are refused
// rather than half read.
func (j JSON[P]) Builder() Builder {
	return Builder{Name: j.Name, Build: func(node stdtypes.NodeID, data []byte) (modules.Modules, error) {
		var params P
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&params); err != nil {
			return nil, fmt.Errorf("%s: replay parameters: %w", j.Name, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("%s: replay parameters: data after the JSON value", j.Name)
		}
		return j.Build(node, params)
	}}
}
