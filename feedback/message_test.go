package feedback_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/labsea/metricsender/codec"
	"github.com/labsea/metricsender/feedback"
	"github.com/labsea/metricsender/generator"
)

// allocation builds a decoded feedback message: headers as name, text pairs.
func allocation(app string, kv ...string) *message.Message {
	msg := message.NewMessage("id", nil)
	msg.Metadata.Set(codec.KeyTopic, "Allocation."+app)
	for i := 0; i+1 < len(kv); i += 2 {
		msg.Metadata.Set(codec.MetricPrefix+kv[i], kv[i+1])
	}
	return msg
}

func TestParse(t *testing.T) {
	sent := time.UnixMilli(1795627800123).UTC()
	cases := []struct {
		name    string
		msg     *message.Message
		want    feedback.Feedback
		wantErr error
		errText string // a substring of the error
	}{
		{name: "replicas alone", msg: allocation("web", "replicas", "4"),
			want: feedback.Feedback{App: "web", Observation: generator.Observation{Source: "bus", Replicas: 4, HasReplicas: true}}},
		{name: "replicas and ready", msg: allocation("web", "replicas", "4", "ready", "3"),
			want: feedback.Feedback{App: "web", Observation: generator.Observation{Source: "bus", Replicas: 4, HasReplicas: true, Ready: 3, HasReady: true}}},
		{name: "any other header is an allocation, quantities in base units", msg: allocation("web", "cpu", "750m", "memory", "1Gi", "gpu", "1"),
			want: feedback.Feedback{App: "web", Observation: generator.Observation{Source: "bus",
				Allocation: map[string]float64{"cpu": 0.75, "memory": 1 << 30, "gpu": 1}}}},
		{name: "reply_to names the app; correlation id and timestamp kept", msg: func() *message.Message {
			m := allocation("routing-key", "cpu", "2")
			m.Metadata.Set(codec.KeyReplyTo, "web")
			m.Metadata.Set(codec.KeyCorrelationID, "9F3A0C11D2E4B577")
			m.Metadata.Set(codec.KeyTimestamp, "1795627800123")
			return m
		}(), want: feedback.Feedback{App: "web", CorrelationID: "9F3A0C11D2E4B577", Sent: sent,
			Observation: generator.Observation{Source: "bus", Allocation: map[string]float64{"cpu": 2}, CorrelationID: "9F3A0C11D2E4B577"}}},
		{name: "an integer header as Python prints it", msg: allocation("web", "replicas", "10"),
			want: feedback.Feedback{App: "web", Observation: generator.Observation{Source: "bus", Replicas: 10, HasReplicas: true}}},
		{name: "no header", msg: allocation("web"), wantErr: feedback.ErrNoField},
		{name: "not a number", msg: allocation("web", "replicas", "four", "cpu", "1"), wantErr: feedback.ErrBadValue,
			errText: `header "replicas": not a number or Kubernetes quantity: "four"`},
		{name: "every bad header is named", msg: allocation("web", "cpu", "lots", "ready", ""), wantErr: feedback.ErrBadValue,
			errText: `header "cpu": not a number or Kubernetes quantity: "lots"` + "\n" + `header "ready": empty`},
		{name: "finer than 1m", msg: allocation("web", "cpu", "1u"), wantErr: feedback.ErrBadValue, errText: "finer than 1m"},
		{name: "a long value is not quoted", msg: allocation("web", "cpu", strings.Repeat("9", 300)), wantErr: feedback.ErrBadValue,
			errText: `header "cpu": 300 bytes, too long for a number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rcv, err := codec.DecodeTopic(tc.msg, "Allocation.")
			if err != nil {
				t.Fatal(err)
			}
			got, err := feedback.Parse(rcv)
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

func TestTopicPrefix(t *testing.T) {
	cases := []struct {
		pattern, want string
		bad           bool
	}{
		{pattern: "Allocation.*", want: "Allocation."},
		{pattern: "Allocation.#", want: "Allocation."},
		{pattern: "lab.Allocation.*", want: "lab.Allocation."},
		{pattern: "Allocation", bad: true},
		{pattern: "Allocation.web", bad: true},
		{pattern: "*.web", bad: true},
		{pattern: "*", bad: true},
		{pattern: "Allocation..*", bad: true},
		{pattern: "", bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.pattern, func(t *testing.T) {
			got, err := feedback.TopicPrefix(tc.pattern)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("TopicPrefix(%q) = %q, %v; want %q (error: %v)", tc.pattern, got, err, tc.want, tc.bad)
			}
		})
	}
}
