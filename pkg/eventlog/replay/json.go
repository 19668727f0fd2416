package replay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// JSONMeta returns the metadata to record with a node
// (eventlog.StreamOptions.Meta) so that the builder JSONBuilder(name, ...)
// rebuilds it for replay: MetaBuilder is name, and MetaParams holds params
// as JSON. Most protocols record their configuration and parameters this
// way; the struct P is theirs.
func JSONMeta[P any](name string, params P) (map[string]string, error) {
	data, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("%s: replay parameters: %w", name, err)
	}
	return map[string]string{MetaBuilder: name, MetaParams: string(data)}, nil
}

// JSONBuilder returns the builder named name that decodes the parameters
// JSONMeta recorded into a P and hands them to build. It decodes strictly:
// a field P does not have, or anything after the JSON value, is an error,
// so that parameters recorded by another version of the protocol are
// refused rather than half read.
func JSONBuilder[P any](name string, build func(node stdtypes.NodeID, params P) (modules.Modules, error)) Builder {
	return Builder{Name: name, Build: func(node stdtypes.NodeID, data []byte) (modules.Modules, error) {
		var params P
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&params); err != nil {
			return nil, fmt.Errorf("%s: replay parameters: %w", name, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("%s: replay parameters: data after the JSON value", name)
		}
		return build(node, params)
	}}
}
