package eventlog

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/mirframework/mir/pkg/codec"
)

// DecodeGeneric decodes the event as plain data (codec.DecodeGeneric), for
// a tool to show an event that Decode cannot give as a Go value: one whose
// type, or the type of a value it holds (a SendMessage's message), is not
// registered in this binary. The event's type is named by the name the log
// records (Type). It fails for Unencodable records (ErrUnencodable) and
// for data that is no encoding of an event.
func (r *Record) DecodeGeneric() (*codec.Generic, error) {
	if r.Unencodable {
		return nil, fmt.Errorf("%s: %w: %s", r.Type, ErrUnencodable, r.Data)
	}
	v, err := codec.DecodeGeneric(r.Data, r.Type)
	if err != nil {
		return nil, fmt.Errorf("decode %s (node %s, seq %d): %w", r.Type, r.Node, r.Seq, err)
	}
	g, ok := v.(*codec.Generic)
	if !ok {
		return nil, fmt.Errorf("decode %s (node %s, seq %d): %w: %T where an event's type tag belongs",
			r.Type, r.Node, r.Seq, codec.ErrMalformed, v)
	}
	return g, nil
}

// GenericJSON returns v, a value codec.DecodeGeneric decoded, as JSON in
// the form of EventJSON: a *codec.Generic is an object with a "$type"
// member naming its type ("$tag" with the tag number when no name is
// known), its fields as the other members; byte strings are in base64;
// the floats JSON cannot hold (NaN, infinities) are strings. Map members
// are sorted by key, so the output is a function of v.
func GenericJSON(v any) []byte {
	return appendGenericJSON(nil, v)
}

func appendGenericJSON(b []byte, v any) []byte {
	switch v := v.(type) {
	case *codec.Generic:
		var member []byte
		if v.Name != "" {
			member = appendJSONString([]byte(`"$type":`), v.Name)
		} else {
			member = strconv.AppendUint([]byte(`"$tag":`), v.Tag, 10)
		}
		return append(b, withMember(member, appendGenericJSON(nil, v.Value))...)
	case map[string]any:
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendGenericJSON(b, v[k])
		}
		return append(b, '}')
	case []any:
		b = append(b, '[')
		for i, el := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendGenericJSON(b, el)
		}
		return append(b, ']')
	}
	data, err := json.Marshal(v)
	if err != nil {
		// NaN and the infinities: JSON has no numbers for them.
		return appendJSONString(b, fmt.Sprint(v))
	}
	return append(b, data...)
}

// appendJSONString appends s as a JSON string, as encoding/json writes it.
func appendJSONString(b []byte, s string) []byte {
	data, _ := json.Marshal(s) // Never fails: invalid UTF-8 is replaced.
	return append(b, data...)
}
