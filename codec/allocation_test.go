package codec_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/generator"
	"github.com/labsea/metricsender/internal/wiretest"
)

// feedback is an Allocation as the bus feedback source records it (the
// shape these cases were first written against, in package feedback).
type feedback struct {
	App           string
	CorrelationID string
	Sent          time.Time
	Observation   generator.Observation
}

func feedbackOf(a codec.Allocation) feedback {
	return feedback{App: a.App, CorrelationID: a.CorrelationID, Sent: a.Time, Observation: a.Observation("bus")}
}

func TestDecodeAllocation(t *testing.T) {
	sent := time.UnixMilli(1795627800123).UTC()
	cases := []struct {
		name    string
		msg     *message.Message
		want    feedback
		wantErr error
		errText string // a substring of the error
	}{
		{name: "replicas alone", msg: wiretest.Allocation("web", "replicas", "4"),
			want: feedback{App: "web", Observation: generator.Observation{Source: "bus", Replicas: 4, HasReplicas: true}}},
		{name: "replicas and ready", msg: wiretest.Allocation("web", "replicas", "4", "ready", "3"),
			want: feedback{App: "web", Observation: generator.Observation{Source: "bus", Replicas: 4, HasReplicas: true, Ready: 3, HasReady: true}}},
		{name: "any other header is an allocation, quantities in base units", msg: wiretest.Allocation("web", "cpu", "750m", "memory", "1Gi", "gpu", "1"),
			want: feedback{App: "web", Observation: generator.Observation{Source: "bus",
				Allocation: map[string]float64{"cpu": 0.75, "memory": 1 << 30, "gpu": 1}}}},
		{name: "reply_to names the app; correlation id and timestamp kept", msg: func() *message.Message {
			m := wiretest.Allocation("routing-key", "cpu", "2")
			m.Metadata.Set(codec.KeyReplyTo, "web")
			m.Metadata.Set(codec.KeyCorrelationID, "9F3A0C11D2E4B577")
			m.Metadata.Set(codec.KeyTimestamp, "1795627800123")
			return m
		}(), want: feedback{App: "web", CorrelationID: "9F3A0C11D2E4B577", Sent: sent,
			Observation: generator.Observation{Source: "bus", Allocation: map[string]float64{"cpu": 2}, CorrelationID: "9F3A0C11D2E4B577"}}},
		{name: "an integer header as Python prints it", msg: wiretest.Allocation("web", "replicas", "10"),
			want: feedback{App: "web", Observation: generator.Observation{Source: "bus", Replicas: 10, HasReplicas: true}}},
		{name: "no header", msg: wiretest.Allocation("web"), wantErr: codec.ErrNoField},
		{name: "not a number", msg: wiretest.Allocation("web", "replicas", "four", "cpu", "1"), wantErr: codec.ErrBadValue,
			errText: `header "replicas": not a number or Kubernetes quantity: "four"`},
		{name: "every bad header is named", msg: wiretest.Allocation("web", "cpu", "lots", "ready", ""), wantErr: codec.ErrBadValue,
			errText: `header "cpu": not a number or Kubernetes quantity: "lots"` + "\n" + `header "ready": empty`},
		{name: "finer than 1m", msg: wiretest.Allocation("web", "cpu", "1u"), wantErr: codec.ErrBadValue, errText: "finer than 1m"},
		{name: "a long value is not quoted", msg: wiretest.Allocation("web", "cpu", strings.Repeat("9", 300)), wantErr: codec.ErrBadValue,
			errText: `header "cpu": 300 bytes, too long for a number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := codec.DecodeAllocation(tc.msg, "Allocation.")
			got := feedbackOf(a)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err %v, want %v with %q", err, tc.wantErr, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// An Allocation encoded and decoded again is the same Allocation.
func TestAllocationRoundTrip(t *testing.T) {
	at := time.UnixMilli(1795627800123).UTC()
	cases := []struct {
		name string
		a    codec.Allocation
	}{
		{name: "replicas, as the HPA answers", a: codec.Allocation{App: "web", CorrelationID: "C0FFEE", Time: at, Replicas: 4, HasReplicas: true}},
		{name: "follow: replicas and resources", a: codec.Allocation{App: "web", Time: at, Replicas: 3, HasReplicas: true,
			Resources: map[string]float64{"cpu": 0.75, "memory": 1 << 30, "gpu": 1e-3}}},
		{name: "ready alone", a: codec.Allocation{App: "api", Ready: 2, HasReady: true}},
		{name: "zero values are carried", a: codec.Allocation{App: "a", Replicas: 0, HasReplicas: true, Resources: map[string]float64{"cpu": 0}}},
		{name: "fractions and the largest magnitude", a: codec.Allocation{App: "a",
			Resources: map[string]float64{"x": 0.1 + 0.2, "y": 9e15, "z": -2.5, "w": 123456.789}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := codec.DecodeAllocation(codec.EncodeAllocation(tc.a), codec.AllocationPrefix)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.a) {
				t.Errorf("round trip\n got  %+v\n want %+v", got, tc.a)
			}
		})
	}
}

// The wire form of an Allocation is WIRE.md's: topic, reply_to,
// correlation id, timestamp in ms, string headers, no body.
func TestEncodeAllocation(t *testing.T) {
	cases := []struct {
		name string
		a    codec.Allocation
		want map[string]string
	}{
		{name: "every field", a: codec.Allocation{App: "web", CorrelationID: "C0FFEE", Time: time.UnixMilli(1795627800123),
			Replicas: 4, HasReplicas: true, Resources: map[string]float64{"cpu": 0.75, "memory": 536870912}},
			want: map[string]string{codec.KeyTopic: "Allocation.web", codec.KeyReplyTo: "web", codec.KeyCorrelationID: "C0FFEE",
				codec.KeyTimestamp: "1795627800123", "metric.replicas": "4", "metric.cpu": "0.75", "metric.memory": "536870912"}},
		{name: "no correlation id, no time: neither is sent", a: codec.Allocation{App: "a", Ready: 1, HasReady: true},
			want: map[string]string{codec.KeyTopic: "Allocation.a", codec.KeyReplyTo: "a", "metric.ready": "1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := codec.EncodeAllocation(tc.a)
			if !reflect.DeepEqual(map[string]string(msg.Metadata), tc.want) {
				t.Errorf("metadata %v\nwant     %v", msg.Metadata, tc.want)
			}
			if len(msg.Payload) != 0 || msg.UUID == "" {
				t.Errorf("payload %q, uuid %q: want no body and a uuid", msg.Payload, msg.UUID)
			}
		})
	}
}

// FuzzAllocation: DecodeAllocation never panics, fails only with its
// three errors, and what it accepts encodes back to itself, unless a
// value's plain decimal text is too long to read back ("1e-70": see
// EncodeAllocation).
func FuzzAllocation(f *testing.F) {
	f.Add("web", "Allocation.web", "replicas", "4", "cpu", "750m")
	f.Add("", "Allocation.api", "ready", "3", "memory", "1Gi")
	f.Add("a", "", "cpu", "1u", "replicas", "")
	f.Add("a", "", "x", "9e15", "y", "-0.5")
	f.Add("a", "", "x", "1e-70", "y", "1e-40")
	f.Fuzz(func(t *testing.T, replyTo, topic, h1, v1, h2, v2 string) {
		msg := message.NewMessage("id", nil)
		for k, v := range map[string]string{codec.KeyReplyTo: replyTo, codec.KeyTopic: topic} {
			if v != "" {
				msg.Metadata.Set(k, v)
			}
		}
		msg.Metadata.Set(codec.MetricPrefix+h1, v1)
		msg.Metadata.Set(codec.MetricPrefix+h2, v2)
		a, err := codec.DecodeAllocation(msg, codec.AllocationPrefix)
		if err != nil {
			if !errors.Is(err, codec.ErrDecode) && !errors.Is(err, codec.ErrNoField) && !errors.Is(err, codec.ErrBadValue) {
				t.Fatalf("error %v is none of DecodeAllocation's", err)
			}
			return
		}
		msg = codec.EncodeAllocation(a)
		for k, v := range msg.Metadata {
			if strings.HasPrefix(k, codec.MetricPrefix) && len(v) > 64 {
				return
			}
		}
		again, err := codec.DecodeAllocation(msg, codec.AllocationPrefix)
		if err != nil || !reflect.DeepEqual(again, a) {
			t.Fatalf("round trip of %+v: %+v, %v", a, again, err)
		}
	})
}
