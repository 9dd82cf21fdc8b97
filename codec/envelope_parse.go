package codec

import (
	"bytes"
	"fmt"
	"slices"
	"time"
)

// envelope is a parsed JSON envelope. Its byte slices are decoded JSON
// strings; they may alias the body, so copy what is kept.
type envelope struct {
	app     []byte
	metrics []rawMetric // sorted by name
	seq     uint64
	run     []byte
	time    time.Time
	fault   []byte // optional
	dropped uint64 // optional
}

type rawMetric struct{ name, text []byte }

// Field bits of the envelope, to find missing and duplicate fields.
const (
	fieldApp = 1 << iota
	fieldMetrics
	fieldSeq
	fieldRun
	fieldTime
	fieldFault
	fieldDropped
	requiredFields = fieldApp | fieldMetrics | fieldSeq | fieldRun | fieldTime
)

var fieldNames = [...]string{"app", "metrics", "seq", "run", "time", "fault", "dropped"}

// parseEnvelope parses b strictly: one JSON object with exactly the fields
// app (string), metrics (object of strings), seq (unsigned integer), run
// (string) and time (RFC 3339 string), and optionally fault (string) and
// dropped (unsigned integer); no null, no unknown or duplicate
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
				env.seq, err = s.uint("seq")
			case fieldRun:
				env.run, err = s.str()
			case fieldTime:
				env.time, err = s.time()
			case fieldFault:
				env.fault, err = s.str()
			case fieldDropped:
				env.dropped, err = s.uint("dropped")
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
		if requiredFields&(1<<i) != 0 && seen&(1<<i) == 0 {
			return env, fmt.Errorf("envelope: missing field %q", name)
		}
	}
	return env, nil
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
func (s *jsonScanner) uint(name string) (uint64, error) {
	s.skipSpace()
	start := s.i
	var v uint64
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		d := uint64(s.b[s.i] - '0')
		if v > (1<<64-1-d)/10 {
			return 0, s.errorf("%s overflows uint64", name)
		}
		v = v*10 + d
		s.i++
	}
	switch {
	case s.i == start:
		return 0, s.errorf("%s: want an unsigned integer", name)
	case s.i-start > 1 && s.b[start] == '0':
		return 0, s.errorf("%s: leading zero", name)
	case s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E'):
		return 0, s.errorf("%s: want an integer", name)
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
