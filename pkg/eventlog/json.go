package eventlog

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// EventJSON returns ev as JSON, for people and for SQL queries: the event's
// exported fields, as encoding/json renders them (byte slices in base64),
// except that a value held in an interface-typed field (the message of a
// SendMessage, follow-up events) gets a "$type" member naming its type, as
// registered with package codec, so that a query can tell a Ping from a
// Pong:
//
//	{"DestModule":"net","Next":null,"MsgDest":"pingpong","Destinations":["1"],"Msg":{"$type":"pingpong.Ping","Seq":1}}
//
// An event encoding/json cannot render (a channel or function field, a
// cycle) comes out as an object {"unrenderable": "<Go syntax>", "error":
// "..."}, so rendering never fails.
func EventJSON(ev stdtypes.Event) []byte {
	data, err := typedJSON(reflect.ValueOf(ev), 0)
	if err == nil {
		return data
	}
	data, err2 := json.Marshal(struct {
		Unrenderable string `json:"unrenderable"`
		Error        string `json:"error"`
	}{fmt.Sprintf("%+v", ev), err.Error()})
	if err2 != nil {
		// Marshalling two strings cannot fail; keep a valid object anyway.
		return []byte(`{"unrenderable":""}`)
	}
	return data
}

// maxTypedDepth bounds how deep typedJSON annotates nested values; deeper
// ones are rendered by encoding/json alone.
const maxTypedDepth = 8

// typedJSON renders v with encoding/json, then renders again the members
// that hold interface values, annotated with their type.
func typedJSON(v reflect.Value, depth int) ([]byte, error) {
	data, err := json.Marshal(v.Interface())
	if err != nil || depth >= maxTypedDepth {
		return data, err
	}
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return data, nil
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct || v.Type().Implements(jsonMarshaler) || reflect.PointerTo(v.Type()).Implements(jsonMarshaler) {
		return data, nil
	}
	typed := map[string][]byte{}
	if err := typedMembers(v, depth, typed); err != nil || len(typed) == 0 {
		return data, err
	}
	return replaceMembers(data, typed)
}

var jsonMarshaler = reflect.TypeFor[json.Marshaler]()

// typedMembers finds the members of struct v (with those of embedded
// structs, as encoding/json promotes them) that hold non-nil interface
// values, or slices of them, and renders them annotated.
func typedMembers(v reflect.Value, depth int, typed map[string][]byte) error {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, skip := jsonName(f)
		if skip {
			continue
		}
		fv := v.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			if err := typedMembers(fv, depth, typed); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		switch {
		case f.Type.Kind() == reflect.Interface && !fv.IsNil():
			data, err := annotated(fv.Elem(), depth+1)
			if err != nil {
				return err
			}
			typed[name] = data
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Interface && !fv.IsNil():
			var b bytes.Buffer
			b.WriteByte('[')
			for j := range fv.Len() {
				if j > 0 {
					b.WriteByte(',')
				}
				el := fv.Index(j)
				if el.IsNil() {
					b.WriteString("null")
					continue
				}
				data, err := annotated(el.Elem(), depth+1)
				if err != nil {
					return err
				}
				b.Write(data)
			}
			b.WriteByte(']')
			typed[name] = b.Bytes()
		}
	}
	return nil
}

// jsonName returns the member name encoding/json gives field f, and whether
// it leaves f out.
func jsonName(f reflect.StructField) (string, bool) {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", true
	}
	name, _, _ := bytes.Cut([]byte(tag), []byte(","))
	if len(name) > 0 {
		return string(name), false
	}
	return f.Name, false
}

// annotated renders v with a "$type" member first if it renders as an
// object, or as {"$type": ..., "value": ...} otherwise.
func annotated(v reflect.Value, depth int) ([]byte, error) {
	data, err := typedJSON(v, depth)
	if err != nil {
		return nil, err
	}
	name, ok := codec.Name(v.Interface())
	if !ok {
		name = stdtypes.TypeName(v.Interface())
	}
	return withMember(appendJSONString([]byte(`"$type":`), name), data), nil
}

// withMember returns the JSON data with member ("name":value) put first
// if data is an object, or else {member,"value":data}.
func withMember(member, data []byte) []byte {
	b := append([]byte{'{'}, member...)
	switch {
	case bytes.Equal(data, []byte("{}")):
		return append(b, '}')
	case len(data) > 0 && data[0] == '{':
		b = append(b, ',')
		return append(b, data[1:]...)
	}
	b = append(b, `,"value":`...)
	b = append(b, data...)
	return append(b, '}')
}

// replaceMembers returns the JSON object data with the members named in
// typed replaced, keeping their order.
func replaceMembers(data []byte, typed map[string][]byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return data, err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for first := true; dec.More(); first = false {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if !first {
			b.WriteByte(',')
		}
		quoted, err := json.Marshal(key)
		if err != nil {
			return nil, err
		}
		b.Write(quoted)
		b.WriteByte(':')
		if rep, ok := typed[key]; ok {
			b.Write(rep)
		} else {
			b.Write(raw)
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
