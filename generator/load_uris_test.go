package generator_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/labsea/metricsender/generator"
)

func TestLoadURIs(t *testing.T) {
	cfg, err := generator.Parse("c.yaml", []byte(`connection:
  uris:
    - amqp://u:p@rabbit-0:5672/v
    - amqp://u:p@rabbit-1:5673/v
  exchange: is
`+okDeployments))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"amqp://u:p@rabbit-0:5672/v", "amqp://u:p@rabbit-1:5673/v"}
	if !slices.Equal(cfg.Connection.URIs, want) || cfg.Connection.URI != "" {
		t.Errorf("Connection = %+v, want URIs %q and no URI", cfg.Connection, want)
	}
	if !cfg.Connection.Equal(cfg.Clone().Connection) || cfg.Connection.Equal(generator.Connection{URIs: want[:1], Exchange: "is"}) {
		t.Error("Connection.Equal does not compare the URIs")
	}
}

func TestLoadBadURIs(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"uri and uris", "connection:\n  uri: amqp://h1\n  uris: [amqp://h2]\n",
			[]string{"bad.yaml:3:3: connection.uris: give uri or uris, not both (uri is at line 2)"}},
		{"not a list", "connection:\n  uris: amqp://h1\n",
			[]string{"bad.yaml:2:3: connection.uris: want a list of URIs, got a scalar"}},
		{"empty", "connection:\n  uris: []\n",
			[]string{"bad.yaml:2:3: connection.uris: empty list"}},
		{"bad scheme", "connection:\n  uris:\n    - amqp://h1\n    - http://h2\n",
			[]string{`bad.yaml:4:7: connection.uris[1]: unsupported scheme "http" (want amqp, amqps or nats)`}},
		{"other password", "connection:\n  uris:\n    - amqp://u:secret1@h1\n    - amqp://u:secret2@h2\n",
			[]string{"bad.yaml:4:7: connection.uris[1]: amqp://u:***@h2 differs from connection.uris[0]'s user or password: the URIs of a cluster differ only in host and port"}},
		{"other vhost", "connection:\n  uris:\n    - amqp://h1/a\n    - amqp://h2/b\n",
			[]string{"bad.yaml:4:7: connection.uris[1]: amqp://h2/b differs from connection.uris[0]'s virtual host: the URIs of a cluster differ only in host and port"}},
		{"other scheme", "connection:\n  uris:\n    - amqp://h1\n    - amqps://h2\n",
			[]string{"bad.yaml:4:7: connection.uris[1]: amqps://h2 differs from connection.uris[0]'s scheme: the URIs of a cluster differ only in host and port"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := generator.Parse("bad.yaml", []byte(tt.yaml+okDeployments))
			if err == nil {
				t.Fatal("no error")
			}
			var got []string
			for _, fe := range generator.FieldErrors(err) {
				got = append(got, fe.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error leaks a password: %v", err)
			}
		})
	}
}
