package codec

import "unicode/utf8"

// appendJSONString appends s as a quoted JSON string in the envelope's
// form (see AppendEnvelope): HTML characters as they are, \b and \f as
// \u0008 and \u000c. The wire has always carried this form.
func appendJSONString(dst []byte, s string) []byte { return appendQuoted(dst, s, false) }

// AppendJSONString appends s quoted exactly as encoding/json.Marshal
// quotes it: as the envelope does, but with <, > and & escaped and \b and
// \f in their short forms. It is how a receiver prints what it got (see
// AppendJSONLine), where the output must match encoding/json's.
func AppendJSONString(dst []byte, s string) []byte { return appendQuoted(dst, s, true) }

const lowerHex = "0123456789abcdef"

// jsonSafe and htmlSafe tell the ASCII bytes written as they are: jsonSafe
// in the envelope's form, htmlSafe in encoding/json's.
var jsonSafe, htmlSafe = func() (json, html [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		json[b] = b != '"' && b != '\\'
		html[b] = json[b] && b != '<' && b != '>' && b != '&'
	}
	return json, html
}()

// appendQuoted is both forms: '"', '\\' and control characters are
// escaped, U+2028 and U+2029 too (for JavaScript consumers), and invalid
// UTF-8 bytes become U+FFFD, as encoding/json does; asEncodingJSON adds
// what encoding/json does besides (see AppendJSONString).
func appendQuoted(dst []byte, s string, asEncodingJSON bool) []byte {
	safe := &jsonSafe
	if asEncodingJSON {
		safe = &htmlSafe
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if safe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch {
			case b == '"' || b == '\\':
				dst = append(dst, '\\', b)
			case b == '\n':
				dst = append(dst, '\\', 'n')
			case b == '\r':
				dst = append(dst, '\\', 'r')
			case b == '\t':
				dst = append(dst, '\\', 't')
			case b == '\b' && asEncodingJSON:
				dst = append(dst, '\\', 'b')
			case b == '\f' && asEncodingJSON:
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', lowerHex[b>>4], lowerHex[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', lowerHex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
