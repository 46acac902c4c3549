package envelope

import "unicode/utf8"

// Kryo 4 writeClassAndObject of an unregistered class (Spark registers none of the
// deploy.master classes) starts with varint NAME+2 = 1, then the name id (0 for the first
// class in the stream), then the class name as a Kryo string: either ASCII with the high
// bit set on the last byte, or a length varint (first byte 0x80 | 6 bits, +1) and UTF-8.
const kryoMaxClassName = 512

// KryoClass returns the class name of a Kryo-serialized record, if data starts with a Kryo
// class-name marker naming a plausible Java class.
func KryoClass(data []byte) (string, bool) {
	if len(data) < 4 || data[0] != 0x01 || data[1] != 0x00 {
		return "", false
	}
	s := data[2:]
	var name []byte
	if s[0]&0x80 == 0 {
		for i := 0; i < len(s) && i < kryoMaxClassName; i++ {
			if s[i]&0x80 != 0 {
				name = append(append(name, s[:i]...), s[i]&0x7F)
				break
			}
		}
	} else {
		// Length varint: 6 bits in the first byte (0x40 = more), then 7 bits per byte.
		n := uint64(s[0] & 0x3F)
		i, shift := 1, 6
		for more := s[0]&0x40 != 0; more; i++ {
			if i >= len(s) || shift > 28 {
				return "", false
			}
			n |= uint64(s[i]&0x7F) << shift
			more = s[i]&0x80 != 0
			shift += 7
		}
		if n < 2 || n-1 > kryoMaxClassName || n-1 > uint64(len(s)-i) {
			return "", false
		}
		// Class names here are ASCII; Kryo writes chars < 0x80 as one byte each.
		name = s[i : i+int(n-1)]
	}
	if !isJavaClassName(name) {
		return "", false
	}
	return string(name), true
}

func isJavaClassName(b []byte) bool {
	if len(b) < 3 || !utf8.Valid(b) {
		return false
	}
	dot := false
	for i, c := range b {
		switch {
		case c == '.':
			if i == 0 || i == len(b)-1 || b[i-1] == '.' {
				return false
			}
			dot = true
		case c == '$' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9':
			if i == 0 || b[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return dot
}
