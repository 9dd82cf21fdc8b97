package codec

import (
	"fmt"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonScanner reads JSON tokens from b at i.
type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("envelope: byte %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *jsonScanner) skipSpace() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips space and then c if it is next.
func (s *jsonScanner) consume(c byte) bool {
	s.skipSpace()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *jsonScanner) expect(c byte) error {
	if !s.consume(c) {
		if s.i >= len(s.b) {
			return s.errorf("unexpected end, want %q", c)
		}
		return s.errorf("want %q", c)
	}
	return nil
}

// str reads a JSON string and returns it decoded: a slice of b when it
// is plain ASCII without escapes, a new slice otherwise.
func (s *jsonScanner) str() ([]byte, error) {
	s.skipSpace()
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, s.errorf("want a string")
	}
	s.i++
	start := s.i
	// Fast path: plain ASCII without escapes.
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '"' {
			v := s.b[start:s.i:s.i]
			s.i++
			return v, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		s.i++
	}
	buf := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return buf, nil
		case c < 0x20:
			return nil, s.errorf("control character in string")
		case c == '\\':
			var err error
			if buf, err = s.escape(buf); err != nil {
				return nil, err
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				buf = utf8.AppendRune(buf, unicode.ReplacementChar)
			} else {
				buf = append(buf, s.b[s.i:s.i+size]...)
			}
			s.i += size
		}
	}
	return nil, s.errorf("unterminated string")
}

// escape decodes the escape sequence at i (a backslash) into buf.
func (s *jsonScanner) escape(buf []byte) ([]byte, error) {
	if s.i+1 >= len(s.b) {
		return buf, s.errorf("unterminated string")
	}
	e := s.b[s.i+1]
	s.i += 2
	switch e {
	case '"', '\\', '/':
		return append(buf, e), nil
	case 'b':
		return append(buf, '\b'), nil
	case 'f':
		return append(buf, '\f'), nil
	case 'n':
		return append(buf, '\n'), nil
	case 'r':
		return append(buf, '\r'), nil
	case 't':
		return append(buf, '\t'), nil
	case 'u':
		r, ok := s.hex4()
		if !ok {
			return buf, s.errorf("bad \\u escape")
		}
		if utf16.IsSurrogate(r) {
			// A pair makes one rune; otherwise U+FFFD, and what follows
			// is read on its own (as encoding/json does).
			r1 := r
			r = unicode.ReplacementChar
			if s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
				save := s.i
				s.i += 2
				r2, ok := s.hex4()
				if dec := utf16.DecodeRune(r1, r2); ok && dec != unicode.ReplacementChar {
					return utf8.AppendRune(buf, dec), nil
				}
				s.i = save
			}
		}
		return utf8.AppendRune(buf, r), nil
	}
	return buf, s.errorf("bad escape")
}

// hex4 reads four hex digits.
func (s *jsonScanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	s.i += 4
	return r, true
}

// clip shortens s for an error message (quote it with %q).
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
