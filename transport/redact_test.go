package transport

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestRedactURI(t *testing.T) {
	tests := []struct {
		name, in, want, secret string
	}{
		{"password", "amqp://guest:guest@localhost:5672/", "amqp://guest:***@localhost:5672/", ""},
		{"secret password", "amqps://user:s3cret@rabbit:5671/vhost", "amqps://user:***@rabbit:5671/vhost", "s3cret"},
		{"no password", "amqp://guest@localhost:5672/", "amqp://guest@localhost:5672/", ""},
		{"no user info", "amqp://localhost:5672/", "amqp://localhost:5672/", ""},
		{"empty", "", "", ""},
		{"empty password", "amqp://guest:@host/", "amqp://guest:***@host/", ""},
		{"at sign in password", "amqp://u:p@ss@host/", "amqp://u:***@host/", "p@ss"},
		{"space in password", "amqp://u:pa ss@host/", "amqp://u:***@host/", "pa ss"},
		{"percent in password", "amqp://u:50%zz@host/", "amqp://u:***@host/", "50%zz"},
		{"slash in password", "amqp://u:a/b@host/", "amqp://u:***@host/", "a/b"},
		{"opaque", "amqp:u:topsecret@host", "amqp:u:***@host", "topsecret"},
		{"no scheme", "u:topsecret@host", "u:***@host", "topsecret"},
		{"nats", "nats://u:topsecret@127.0.0.1:4222", "nats://u:***@127.0.0.1:4222", "topsecret"},
		{"list", "amqp://u:pw1@h1:5673/,amqp://u:pw2@h2:5674/", "amqp://u:***@h1:5673/,amqp://u:***@h2:5674/", "pw"},
		{"list with spaces", "amqp://u:pw1@h1, amqp://u:pw2@h2 ,amqp://u:pw3@h3", "amqp://u:***@h1, amqp://u:***@h2 ,amqp://u:***@h3", "pw"},
		{"comma in password", "amqp://u:a,b@h1,amqp://u:a,b@h2", "amqp://u:***@h1,amqp://u:***@h2", "a,b"},
		{"list, one without password", "amqp://h1,amqp://u:pw2@h2", "amqp://h1,amqp://u:***@h2", "pw2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RedactURI(tt.in)
			if got != tt.want {
				t.Errorf("RedactURI(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if tt.secret != "" && strings.Contains(got, tt.secret) {
				t.Errorf("RedactURI(%q) = %q leaks %q", tt.in, got, tt.secret)
			}
		})
	}
}

func TestScrubError(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name, uri string
		err       error
		want      string
	}{
		{"quoted uri", "amqp://u:hunter2@h/", fmt.Errorf("parse %q: %w", "amqp://u:hunter2@h/", base), `parse "amqp://u:***@h/": boom`},
		{"unparsable uri", "amqp://u:p@ss@h/", fmt.Errorf("bad amqp://u:p@ss@h/: %w", base), "bad amqp://u:***@h/: boom"},
		{"no secret in text", "amqp://u:hunter2@h/", fmt.Errorf("dial: %w", base), "dial: boom"},
		{"no password", "amqp://h/", fmt.Errorf("dial: %w", base), "dial: boom"},
		{"list", "amqp://u:first1@h1/,amqp://u:second2@h2/", fmt.Errorf("dial amqp://u:second2@h2/ (first1): %w", base), "dial amqp://u:***@h2/ (***): boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scrubError(tt.err, tt.uri)
			if got.Error() != tt.want {
				t.Errorf("scrubError() = %q, want %q", got.Error(), tt.want)
			}
			if !errors.Is(got, base) {
				t.Errorf("scrubError() lost the chain: %v", got)
			}
		})
	}
	t.Run("nil", func(t *testing.T) {
		if err := scrubError(nil, "amqp://u:p@h/"); err != nil {
			t.Errorf("scrubError(nil) = %v", err)
		}
	})
}

func TestHasPassword(t *testing.T) {
	tests := []struct {
		name string
		uris []string
		want bool
	}{
		{"none", nil, false},
		{"user only", []string{"amqp://guest@h:5672/"}, false},
		{"password", []string{"amqp://guest:secret@h:5672/"}, true},
		{"the second of a list", []string{"amqp://h1/", "amqp://u:p@h2/"}, true},
		{"empty and garbage", []string{"", "%zz"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HasPassword(tt.uris...); got != tt.want {
				t.Errorf("HasPassword(%q) = %v, want %v", tt.uris, got, tt.want)
			}
		})
	}
}
