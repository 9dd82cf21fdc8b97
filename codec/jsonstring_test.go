package codec_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/labsea/metricsender/codec"
)

// The two forms of one string writer: AppendJSONString is encoding/json's
// to the byte; the envelope's form is encoding/json's without HTML
// escaping and with \b and \f spelled \u0008 and \u000c, as the wire has
// always carried them.
func TestAppendJSONString(t *testing.T) {
	var ascii strings.Builder
	for b := range 0x80 {
		ascii.WriteByte(byte(b))
	}
	tests := []struct{ name, s string }{
		{"empty", ""},
		{"plain", "app1"},
		{"every ASCII byte", ascii.String()},
		{"odd characters", "q\"b\\s\n\t<&>é\u2028\u2029\x01\x1f"},
		{"invalid UTF-8", "a\xffb\xfe\xc3"},
		{"backspace and form feed", "\b\f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if got := codec.AppendJSONString([]byte("x"), tt.s); string(got) != "x"+string(want) {
				t.Errorf("AppendJSONString\n got %s\nwant x%s", got, want)
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tt.s); err != nil {
				t.Fatal(err)
			}
			// No input holds a backslash before b or f, so these are the escapes.
			wantEnv := strings.NewReplacer(`\b`, `\u0008`, `\f`, `\u000c`).Replace(strings.TrimSuffix(b.String(), "\n"))
			if got := codec.AppendEnvelopeString(nil, tt.s); string(got) != wantEnv {
				t.Errorf("envelope form\n got %s\nwant %s", got, wantEnv)
			}
		})
	}
}
