package transport

import (
	"net/url"
	"strings"
)

// mask replaces a password wherever the transport shows a URI.
const mask = "***"

// RedactURI returns uri with its password replaced by "***"
// (amqp://guest:***@host:5672/), for logs and errors; in a comma-separated
// list (see SplitURIs) every URI's password. It never returns a password,
// even for strings that do not parse as a URI: it then masks more than
// needed rather than less. A URI without a password is returned
// unchanged. Safe for concurrent use.
func RedactURI(uri string) string {
	if strings.IndexByte(uri, ',') < 0 {
		return redactOne(uri)
	}
	var b strings.Builder
	start := 0
	for i := 0; i < len(uri); i++ {
		if uri[i] == ',' && listComma(uri[i+1:]) {
			b.WriteString(redactOne(uri[start:i]))
			b.WriteByte(',')
			start = i + 1
		}
	}
	b.WriteString(redactOne(uri[start:]))
	return b.String()
}

// redactOne is RedactURI for one URI.
func redactOne(uri string) string {
	i, j, ok := passwordSpan(uri)
	if !ok {
		return uri
	}
	return uri[:i] + mask + uri[j:]
}

// passwordSpan finds the password in s by position, as url.Parse does for
// a valid URI (user info ends at the last '@' of the authority), and for
// anything else at the last '@' of the string. It works on the raw text so
// that the masked form keeps the rest of s byte for byte.
func passwordSpan(s string) (start, end int, ok bool) {
	rest, off := s, 0
	opaque := false
	if i := strings.Index(s, "://"); i >= 0 {
		rest, off = s[i+3:], i+3
	} else if i := strings.IndexByte(s, ':'); i >= 0 {
		// scheme:user:pass@host (opaque), or user:pass@host.
		rest, off, opaque = s[i+1:], i+1, true
	}
	authority := rest
	if k := strings.IndexAny(rest, "/?#"); k >= 0 {
		authority = rest[:k]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		if at = strings.LastIndexByte(rest, '@'); at < 0 {
			return 0, 0, false
		}
	}
	userinfo := rest[:at]
	colon := strings.IndexByte(userinfo, ':')
	switch {
	case colon >= 0:
		return off + colon + 1, off + at, true
	case opaque:
		// The colon before may have separated user and password.
		return off, off + at, true
	default:
		return 0, 0, false
	}
}

// redactedError hides a secret in the text of an error that may quote it
// (a library error quoting the URI), while keeping the chain for errors.Is.
type redactedError struct {
	err     error
	secrets []string
}

func (e *redactedError) Error() string {
	text := e.err.Error()
	for _, s := range e.secrets {
		text = strings.ReplaceAll(text, s, mask)
	}
	return text
}

func (e *redactedError) Unwrap() error { return e.err }

// scrubError returns err with the password of uri (if any) masked in its
// text. A nil err stays nil.
func scrubError(err error, uri string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	var leaked []string
	for _, pw := range uriPasswords(uri) {
		if strings.Contains(text, pw) {
			leaked = append(leaked, pw)
		}
	}
	if len(leaked) == 0 {
		return err
	}
	return &redactedError{err: err, secrets: leaked}
}

// uriPasswords returns the password of uri (of each URI of a list) as
// written and, when it differs, percent-decoded: an error may quote either
// form.
func uriPasswords(uri string) []string {
	var pws []string
	for _, one := range SplitURIs(uri) {
		i, j, ok := passwordSpan(one)
		if !ok || i == j {
			continue
		}
		pws = append(pws, one[i:j])
		if dec, err := url.PathUnescape(one[i:j]); err == nil && dec != one[i:j] && dec != "" {
			pws = append(pws, dec)
		}
	}
	return pws
}

// HasPassword tells whether any of uris carries a password (so the app
// can warn when one sits in the ConfigMap file).
func HasPassword(uris ...string) bool {
	for _, uri := range uris {
		u, err := url.Parse(uri)
		if err != nil || u.User == nil {
			continue
		}
		if _, ok := u.User.Password(); ok {
			return true
		}
	}
	return false
}
