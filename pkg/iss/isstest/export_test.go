package isstest

import "encoding/binary"

// EncodeParts is encodeParts, for the tests of package isstest_test.
var EncodeParts = encodeParts

// encodeParts writes what the decoders of this package read, to craft
// encodings that EncodeBatch and state.encode would not write: version,
// then each part, an int or uint64 as a uvarint, a string with its
// length, a []byte as it is.
func encodeParts(version byte, parts ...any) []byte {
	out := []byte{version}
	for _, p := range parts {
		switch p := p.(type) {
		case int:
			out = binary.AppendUvarint(out, uint64(p))
		case uint64:
			out = binary.AppendUvarint(out, p)
		case string:
			out = binary.AppendUvarint(out, uint64(len(p)))
			out = append(out, p...)
		case []byte:
			out = append(out, p...)
		default:
			panic("encodeParts: a part of an unknown type")
		}
	}
	return out
}
