package codec

import (
	"bytes"
	"fmt"
	"slices"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// envelope is a parsed JSON envelope. Its byte slices are decoded JSON
// strings; they may alias the body, so copy what is kept.
type envelope struct {
	app     []byte
	metrics []rawMetric // sorted by name
	seq     uint64
	run     []byte
	time    time.Time
}

type rawMetric struct{ name, text []byte }

// Field bits of the envelope, to find missing and duplicate fields.
const (
	fieldApp = 1 << iota
	fieldMetrics
	fieldSeq
	fieldRun
	fieldTime
	allFields = fieldApp | fieldMetrics | fieldSeq | fieldRun | fieldTime
)

var fieldNames = [...]string{"app", "metrics", "seq", "run", "time"}

// parseEnvelope parses b strictly: one JSON object with exactly the fields
// app (string), metrics (object of strings), seq (unsigned integer), run
// (string) and time (RFC 3339 string); no null, no unknown or duplicate
// field or metric, nothing after the object. Strings decode as
// encoding/json decodes them (invalid UTF-8 and lone surrogates become
// U+FFFD). It does not recurse, so no input can exhaust the stack.
// metricsHint is the expected number of metrics (the headers').
func parseEnvelope(b []byte, metricsHint int) (envelope, error) {
	s := jsonScanner{b: b}
	var env envelope
	if err := s.expect('{'); err != nil {
		return env, err
	}
	seen := 0
	if !s.consume('}') {
		for {
			key, err := s.str()
			if err != nil {
				return env, err
			}
			if err := s.expect(':'); err != nil {
				return env, err
			}
			bit := 0
			for i, name := range fieldNames {
				if string(key) == name {
					bit = 1 << i
				}
			}
			switch {
			case bit == 0:
				return env, s.errorf("unknown field %q", clip(string(key)))
			case seen&bit != 0:
				return env, s.errorf("duplicate field %q", key)
			}
			seen |= bit
			switch bit {
			case fieldApp:
				env.app, err = s.str()
			case fieldMetrics:
				env.metrics, err = s.metrics(metricsHint)
			case fieldSeq:
				env.seq, err = s.uint()
			case fieldRun:
				env.run, err = s.str()
			case fieldTime:
				env.time, err = s.time()
			}
			if err != nil {
				return env, err
			}
			if s.consume(',') {
				continue
			}
			if err := s.expect('}'); err != nil {
				return env, err
			}
			break
		}
	}
	s.skipSpace()
	if s.i != len(b) {
		return env, s.errorf("data after the object")
	}
	for i, name := range fieldNames {
		if seen&(1<<i) == 0 {
			return env, fmt.Errorf("envelope: missing field %q", name)
		}
	}
	return env, nil
}

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

// metrics reads an object of string values, sorted by name.
func (s *jsonScanner) metrics(hint int) ([]rawMetric, error) {
	if err := s.expect('{'); err != nil {
		return nil, err
	}
	ms := make([]rawMetric, 0, hint)
	if !s.consume('}') {
		for {
			name, err := s.str()
			if err != nil {
				return nil, err
			}
			if err := s.expect(':'); err != nil {
				return nil, err
			}
			text, err := s.str()
			if err != nil {
				return nil, err
			}
			ms = append(ms, rawMetric{name: name, text: text})
			if s.consume(',') {
				continue
			}
			if err := s.expect('}'); err != nil {
				return nil, err
			}
			break
		}
	}
	// Sort, then find duplicates: linear in a huge body, unlike pairwise.
	slices.SortFunc(ms, func(a, b rawMetric) int { return bytes.Compare(a.name, b.name) })
	for i := 1; i < len(ms); i++ {
		if bytes.Equal(ms[i].name, ms[i-1].name) {
			return nil, fmt.Errorf("envelope: duplicate metric %q", clip(string(ms[i].name)))
		}
	}
	return ms, nil
}

// uint reads a JSON number that is an unsigned 64-bit integer.
func (s *jsonScanner) uint() (uint64, error) {
	s.skipSpace()
	start := s.i
	var v uint64
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		d := uint64(s.b[s.i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, s.errorf("seq overflows uint64")
		}
		v = v*10 + d
		s.i++
	}
	switch {
	case s.i == start:
		return 0, s.errorf("seq: want an unsigned integer")
	case s.i-start > 1 && s.b[start] == '0':
		return 0, s.errorf("seq: leading zero")
	case s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E'):
		return 0, s.errorf("seq: want an integer")
	}
	return v, nil
}

// time reads an RFC 3339 time string.
func (s *jsonScanner) time() (time.Time, error) {
	text, err := s.str()
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, string(text))
	if err != nil {
		return time.Time{}, fmt.Errorf("envelope: time %q: not RFC 3339", clip(string(text)))
	}
	return t, nil
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
