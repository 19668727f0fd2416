package codec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Event types whose fields shadow those of stdtypes.Header, which
// Register refuses.
type (
	shadowDest struct {
		stdtypes.Header
		DestModule string
	}
	shadowNext struct {
		stdtypes.Header
		Next uint64
	}
	shadowByTag struct {
		stdtypes.Header
		Target string `cbor:"DestModule"`
	}
	shadowByJSONTag struct {
		stdtypes.Header
		Then []int `json:"Next,omitempty"`
	}
	shadowRenamed struct {
		stdtypes.Header
		DestModule string `cbor:"dest"`
	}
	shadowBase   struct{ stdtypes.Header }
	shadowDeeper struct {
		shadowBase
		Next bool
	}
	shadowMeta      struct{ Next int }
	shadowSameDepth struct {
		stdtypes.Header
		shadowMeta
	}
	shadowPointer struct {
		*stdtypes.Header
		DestModule int
	}
	Next            int
	shadowEmbedName struct {
		stdtypes.Header
		Next
	}
)

// Types that name no field like the header's, or only where the
// encoding keeps them apart, which Register accepts.
type (
	headerOK struct {
		stdtypes.Header
		Dest string
		Seq  uint64
	}
	headerInner struct {
		stdtypes.Header
		Inner shadowMeta // A field of its own, not embedded.
		Meta  struct{ DestModule string }
	}
	headerTagged struct {
		stdtypes.Header
		shadowMeta `cbor:"meta"` // Embedded under a name: one field.
	}
	messageNext struct {
		stdtypes.MessageBase
		Next       uint64 // No header: nothing to shadow.
		DestModule string
	}
)

func TestRegisterRefusesHeaderShadows(t *testing.T) {
	onceOnly(t)
	tests := []struct {
		name     string
		register func()
		field    string // the path of the clashing field
		shadows  string // the header's field
	}{
		{"own DestModule", func() { codec.Register[shadowDest]("codectest.ShadowDest") }, "DestModule", "DestModule"},
		{"own Next", func() { codec.Register[shadowNext]("codectest.ShadowNext") }, "Next", "Next"},
		{"cbor tag", func() { codec.Register[shadowByTag]("codectest.ShadowByTag") }, "Target", "DestModule"},
		{"json tag", func() { codec.Register[shadowByJSONTag]("codectest.ShadowByJSONTag") }, "Then", "Next"},
		{"renamed in the encoding", func() { codec.Register[shadowRenamed]("codectest.ShadowRenamed") }, "DestModule", "DestModule"},
		{"header embedded deeper", func() { codec.Register[shadowDeeper]("codectest.ShadowDeeper") }, "Next", "Next"},
		{"same depth", func() { codec.Register[shadowSameDepth]("codectest.ShadowSameDepth") }, "shadowMeta.Next", "Next"},
		{"header by pointer", func() { codec.Register[shadowPointer]("codectest.ShadowPointer") }, "DestModule", "DestModule"},
		{"embedded non-struct", func() { codec.Register[shadowEmbedName]("codectest.ShadowEmbedName") }, "Next", "Next"},
	}
	before := codec.Registered()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				err, ok := r.(error)
				if !ok {
					t.Fatalf("Register panicked with %v, want an error", r)
				}
				msg := err.Error()
				want := fmt.Sprintf("field %s shadows stdtypes.Header's field %s", tt.field, tt.shadows)
				if !strings.HasPrefix(msg, "codec: register ") || !strings.Contains(msg, want) {
					t.Errorf("Register panicked with %q, want it to say %q", msg, want)
				}
			}()
			tt.register()
		})
	}
	if after := codec.Registered(); len(after) != len(before) {
		t.Errorf("refused types were registered: %d names before, %d after", len(before), len(after))
	}
}

func TestRegisterAcceptsHeaderWithoutShadows(t *testing.T) {
	onceOnly(t)
	codec.Register[headerOK]("codectest.HeaderOK")
	codec.Register[headerInner]("codectest.HeaderInner")
	codec.Register[headerTagged]("codectest.HeaderTagged")
	codec.Register[messageNext]("codectest.MessageNext")

	// The destination survives the encoding.
	ev := &headerInner{Header: stdtypes.NewHeader("app/sub"), Inner: shadowMeta{Next: 7}}
	ev.Meta.DestModule = "elsewhere"
	data, err := codec.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := codec.DecodeEvent(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Dest() != "app/sub" || got.(*headerInner).Inner.Next != 7 || got.(*headerInner).Meta.DestModule != "elsewhere" {
		t.Errorf("decoded %+v, want destination app/sub and the fields kept apart", got)
	}
}
