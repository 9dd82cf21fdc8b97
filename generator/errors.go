package generator

import (
	"errors"
	"strconv"
	"strings"
)

// FieldError is one problem found in a config file or a model definition.
//
// Error() reads "file:line:col: field: msg", the form editors jump to, for
// example "examples/bad.yaml:14:7: deployments[1].metrics.cpu: empty list".
// The position is left out when Line is 0 (a model given to ParseModel), the
// file when File is empty, and the field when Field is empty (a problem of
// the whole document, such as a YAML syntax error).
type FieldError struct {
	File      string
	Line, Col int
	// Field is the path of the offending field: "interval",
	// "deployments[1].metrics.cpu", "deployments[0].metrics.tier.weights[2]".
	Field string
	Msg   string
}

// Error implements error.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(max(e.Col, 1)))
		b.WriteByte(':')
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// FieldErrors returns the *FieldError values joined in err (as returned by
// Load, Parse and ParseModel), in the order they were found.
func FieldErrors(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		if fe, ok := err.(*FieldError); ok {
			out = append(out, fe)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if e := errors.Unwrap(err); e != nil {
			walk(e)
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

// MaskURI returns uri with the password of its user info replaced by "***"
// ("amqp://user:***@host/"). It works on text that does not parse as a URL
// too, so a malformed URI can be quoted in an error without leaking a secret.
func MaskURI(uri string) string {
	scheme := strings.Index(uri, "://")
	if scheme < 0 {
		return uri
	}
	rest := uri[scheme+3:]
	// The user info ends at the last '@': a password may hold '@' or '/'
	// when badly escaped, so rather mask too much than too little.
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return uri
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 {
		return uri
	}
	return uri[:scheme+3] + rest[:colon+1] + "***" + rest[at:]
}

// OneLine is err's text on one line: joined errors (Load's, Apply's)
// print one per line, so a log field or a JSON answer joins them with "; ".
func OneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
