package eventlog

import (
	"encoding/json"
	"fmt"

	"github.com/mirframework/mir/stdtypes"
)

// EventJSON returns ev as JSON, for people and for SQL queries: the event's
// exported fields, as encoding/json renders them (byte slices in base64,
// messages and follow-ups by their fields). An event encoding/json cannot
// render (a channel or function field, a cycle) comes out as an object
// {"unrenderable": "<Go syntax>", "error": "..."}, so rendering never fails.
func EventJSON(ev stdtypes.Event) []byte {
	data, err := json.Marshal(ev)
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
