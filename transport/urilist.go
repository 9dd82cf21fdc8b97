package transport

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// SplitURIs splits a comma-separated list of broker URIs (one URI is a
// list of one). It splits only at a comma followed by a scheme and "://",
// so a comma inside a URI (in a password, say) stays where it is. Empty
// items are dropped; the result is nil for an empty s.
func SplitURIs(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ',' && listComma(s[i+1:]) {
			out = appendURI(out, s[start:i])
			start = i + 1
		}
	}
	return appendURI(out, s[start:])
}

func appendURI(list []string, u string) []string {
	if u = strings.TrimSpace(u); u != "" {
		list = append(list, u)
	}
	return list
}

// listComma tells whether a comma followed by rest separates URIs: rest
// starts (after spaces) with a scheme, another comma, or nothing.
func listComma(rest string) bool {
	r := strings.TrimLeft(rest, " ")
	return r == "" || r[0] == ',' || startsWithScheme(r)
}

// startsWithScheme reports whether s starts with "scheme://" (RFC 3986:
// a letter, then letters, digits, '+', '-' or '.'), after optional spaces.
func startsWithScheme(s string) bool {
	s = strings.TrimLeft(s, " ")
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for k, c := range s[:i] {
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if !letter && (k == 0 || !('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// ErrURIList is wrapped by CheckURIList when the URIs of a list disagree.
var ErrURIList = errors.New("the URIs of a list must differ only in host and port")

// CheckURIList checks that the URIs of a list name nodes of one cluster the
// same way: the same scheme, user, password and virtual host, so that
// whichever node answers, the session is the same. The error masks every
// password. One URI always passes; parse errors are left to the transport.
func CheckURIList(uris []string) error {
	if len(uris) < 2 {
		return nil
	}
	first, err := url.Parse(uris[0])
	if err != nil {
		return nil
	}
	for _, raw := range uris[1:] {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		var what string
		switch {
		case u.Scheme != first.Scheme:
			what = "scheme"
		case u.User.String() != first.User.String():
			what = "user or password"
		case vhostOf(u) != vhostOf(first):
			what = "virtual host"
		default:
			continue
		}
		return fmt.Errorf("%w: %s and %s differ in their %s", ErrURIList, RedactURI(uris[0]), RedactURI(raw), what)
	}
	return nil
}

// vhostOf is the virtual host an AMQP URI names: its path without the
// leading slash; no path and "/" both mean the default vhost "/".
func vhostOf(u *url.URL) string {
	if u.Path == "" || u.Path == "/" {
		return "/"
	}
	return u.Path[1:]
}
