package main

// The packages whose event and message types mircat decodes, and whose
// nodes it can replay: each registers its types with package codec, and
// its replay builder with package replay, when imported. A log may hold
// events of types not listed here; mircat shows them by their type name.
// Add a protocol's package here to see its events' fields.
import (
	_ "github.com/mirframework/mir/pkg/bcb"
	_ "github.com/mirframework/mir/pkg/crypto"
	_ "github.com/mirframework/mir/samples/pingpong/protocol"
	_ "github.com/mirframework/mir/stdevents"
)
