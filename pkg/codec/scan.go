package codec

import (
	"encoding/binary"
	"fmt"
)

// CBOR major types (RFC 8949, section 3.1).
const (
	majorUint   = 0
	majorNegInt = 1
	majorBytes  = 2
	majorText   = 3
	majorArray  = 4
	majorMap    = 5
	majorTag    = 6
	majorSimple = 7
)

// Tags the CBOR library writes for Go types without registration: an
// RFC 3339 date/time string for time.Time, and positive and negative
// bignums for big.Int values that do not fit 64 bits.
const (
	tagDateTime  = 0
	tagPosBignum = 2
	tagNegBignum = 3
)

// builtinTag reports whether num is a tag the library writes by itself.
func builtinTag(num uint64) bool {
	return num == tagDateTime || num == tagPosBignum || num == tagNegBignum
}

// head is the initial bytes of a data item: its major type and argument
// (a value, a length, a count or a tag number, depending on the type).
type head struct {
	major byte
	arg   uint64
	size  int // Bytes the head takes.
}

// readHead parses the head at the start of data. It refuses indefinite
// lengths, breaks and the reserved additional-information values.
func readHead(data []byte) (head, error) {
	if len(data) == 0 {
		return head{}, fmt.Errorf("%w: unexpected end of input", ErrMalformed)
	}
	major, info := data[0]>>5, data[0]&0x1f
	if info < 24 {
		return head{major: major, arg: uint64(info), size: 1}, nil
	}
	var n int
	switch info {
	case 24:
		n = 1
	case 25:
		n = 2
	case 26:
		n = 4
	case 27:
		n = 8
	case 31:
		return head{}, fmt.Errorf("%w: indefinite length or break (0x%02x)", ErrMalformed, data[0])
	default:
		return head{}, fmt.Errorf("%w: reserved additional information (0x%02x)", ErrMalformed, data[0])
	}
	if len(data) < 1+n {
		return head{}, fmt.Errorf("%w: unexpected end of input", ErrMalformed)
	}
	var arg uint64
	switch n {
	case 1:
		arg = uint64(data[1])
	case 2:
		arg = uint64(binary.BigEndian.Uint16(data[1:]))
	case 4:
		arg = uint64(binary.BigEndian.Uint32(data[1:]))
	case 8:
		arg = binary.BigEndian.Uint64(data[1:])
	}
	return head{major: major, arg: arg, size: 1 + n}, nil
}

// scan checks, in one pass without recursion and before the CBOR library
// sees the input, what the library does not check or checks too late:
//
//   - every tag is the tag of a registered type or a builtinTag: the
//     library would otherwise accept an unknown tag around an integer or
//     inside an `any` field (unless r is nil: DecodeGeneric takes any tag);
//   - counts are within lim, and no count claims more items than there are
//     bytes left, so that a short input cannot announce a huge array;
//   - nothing follows the first data item.
//
// The library then checks well-formedness in full (nesting depth, simple
// values, UTF-8) as it decodes.
func scan(data []byte, r *registry, lim Limits) error {
	off := 0
	pending := 1 // Data items still to read; each takes at least one byte.
	for pending > 0 {
		h, err := readHead(data[off:])
		if err != nil {
			return err
		}
		off += h.size
		pending--
		left := uint64(len(data) - off)
		switch h.major {
		case majorBytes, majorText:
			if h.arg > left {
				return fmt.Errorf("%w: string of %d bytes with %d bytes left", ErrMalformed, h.arg, left)
			}
			off += int(h.arg)
		case majorArray:
			if h.arg > uint64(lim.MaxArrayElements) {
				return fmt.Errorf("%w: array of %d elements, limit %d", ErrTooManyElements, h.arg, lim.MaxArrayElements)
			}
			if h.arg > left {
				return fmt.Errorf("%w: array of %d elements with %d bytes left", ErrMalformed, h.arg, left)
			}
			pending += int(h.arg)
		case majorMap:
			if h.arg > uint64(lim.MaxMapPairs) {
				return fmt.Errorf("%w: map of %d pairs, limit %d", ErrTooManyPairs, h.arg, lim.MaxMapPairs)
			}
			if h.arg > left/2 {
				return fmt.Errorf("%w: map of %d pairs with %d bytes left", ErrMalformed, h.arg, left)
			}
			pending += 2 * int(h.arg)
		case majorTag:
			if r != nil && !builtinTag(h.arg) {
				if _, ok := r.byTag[h.arg]; !ok {
					return fmt.Errorf("%w: tag %d", ErrUnknownType, h.arg)
				}
			}
			pending++
		}
		// Counts are at most the bytes left, so pending stays below
		// 2*len(data) and cannot overflow.
		if pending > len(data)-off {
			return fmt.Errorf("%w: %d more data items announced with %d bytes left", ErrMalformed, pending, len(data)-off)
		}
	}
	if off < len(data) {
		return fmt.Errorf("%w: %d bytes after the value", ErrTrailingData, len(data)-off)
	}
	return nil
}
