// Package wiretest builds and reads wire messages for tests the way a
// foreign client would (WIRE.md), so that tests of more than one package
// (codec, feedback, app) share one copy instead of each writing its own:
// a raw Allocation message as the operator publishes it, and the JSON
// envelope as encoding/json reads it, refusing unknown fields.
//
// It reads the envelope with encoding/json, not codec, so it stays an
// independent check of codec's encoder and decoder. It imports codec only
// for the header names.
package wiretest
