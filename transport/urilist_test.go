package transport_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/labsea/metricsender/transport"
)

func TestSplitURIs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"one", "amqp://g:g@h:5672/", []string{"amqp://g:g@h:5672/"}},
		{"three", "amqp://g:g@h1:5673/,amqp://g:g@h2:5674/,amqp://g:g@h3:5675/",
			[]string{"amqp://g:g@h1:5673/", "amqp://g:g@h2:5674/", "amqp://g:g@h3:5675/"}},
		{"spaces and empties", " amqp://h1 , ,amqp://h2,", []string{"amqp://h1", "amqp://h2"}},
		{"comma in password", "amqp://u:a,b@h1/,amqp://u:a,b@h2/", []string{"amqp://u:a,b@h1/", "amqp://u:a,b@h2/"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transport.SplitURIs(tt.in); !slices.Equal(got, tt.want) {
				t.Errorf("SplitURIs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCheckURIList(t *testing.T) {
	tests := []struct {
		name string
		uris []string
		want string // "" = fine; else a word of the error
	}{
		{"one", []string{"amqp://u:p@h/"}, ""},
		{"same but host and port", []string{"amqp://u:secret1@h1:5673/v", "amqp://u:secret1@h2:5674/v"}, ""},
		{"default vhost both ways", []string{"amqp://u:p@h1", "amqp://u:p@h2/"}, ""},
		{"scheme", []string{"amqp://u:secret1@h1/", "amqps://u:secret1@h2/"}, "scheme"},
		{"user", []string{"amqp://u:secret1@h1/", "amqp://v:secret1@h2/"}, "user or password"},
		{"password", []string{"amqp://u:secret1@h1/", "amqp://u:secret2@h2/"}, "user or password"},
		{"vhost", []string{"amqp://u:secret1@h1/a", "amqp://u:secret1@h2/b"}, "virtual host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := transport.CheckURIList(tt.uris)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckURIList(%q) = %v, want nil", tt.uris, err)
				}
				return
			}
			if !errors.Is(err, transport.ErrURIList) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CheckURIList = %v, want an ErrURIList naming the %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error leaks a password: %v", err)
			}
		})
	}
}
