package codec

// ParseEnvelopeError is why b is not metricsender's envelope (nil when it
// is): Decode reads such a body as foreign and says nothing, so the tests
// look at the parser's reason here.
func ParseEnvelopeError(b []byte) error {
	_, err := parseEnvelope(b, 0)
	return err
}

// AppendEnvelopeString is how the envelope quotes a string, for the tests
// that pin its form next to encoding/json's.
var AppendEnvelopeString = appendJSONString
