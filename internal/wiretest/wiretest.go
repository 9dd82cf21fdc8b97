package wiretest

import (
	"encoding/json"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
)

// Allocation builds an Allocation message: headers as name, text pairs.
func Allocation(app string, kv ...string) *message.Message {
	msg := message.NewMessage("id", nil)
	msg.Metadata.Set(codec.KeyTopic, "Allocation."+app)
	for i := 0; i+1 < len(kv); i += 2 {
		msg.Metadata.Set(codec.MetricPrefix+kv[i], kv[i+1])
	}
	return msg
}

// Envelope is the JSON envelope of a Metrics message as encoding/json
// reads it; Time is left as text for the caller to parse.
type Envelope struct {
	App     string            `json:"app"`
	Metrics map[string]string `json:"metrics"`
	Seq     uint64            `json:"seq"`
	Run     string            `json:"run"`
	Time    string            `json:"time"`
}

// DecodeEnvelope reads body with encoding/json, refusing a field the
// envelope does not have.
func DecodeEnvelope(body []byte) (Envelope, error) {
	var env Envelope
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	err := dec.Decode(&env)
	return env, err
}
