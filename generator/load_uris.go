package generator

import (
	"fmt"
	"net/url"

	"gopkg.in/yaml.v3"
)

// uris parses `connection.uris`: a non-empty list of broker URIs naming the
// nodes of one cluster, so they may differ only in host and port (the same
// scheme, user, password and virtual host). Each problem is reported at
// its item.
func (p *parser) uris(e entry) []string {
	const field = "connection.uris"
	list := resolve(e.val)
	if list == nil || list.Kind != yaml.SequenceNode {
		p.fail(e.key, field, "want a list of URIs, got %s", kindName(list))
		return nil
	}
	if len(list.Content) == 0 {
		p.fail(e.key, field, "empty list")
		return nil
	}
	var out []string
	var first *url.URL
	good := true
	for i, item := range list.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		s, ok := p.scalar(item, item, f)
		if !ok {
			good = false
			continue
		}
		if msg := uriProblem(s); msg != "" {
			p.fail(item, f, "%s", msg)
			good = false
			continue
		}
		u, _ := url.Parse(s) // uriProblem parsed it
		if first == nil {
			first = u
		} else if what := clusterMismatch(first, u); what != "" {
			p.fail(item, f, "%s differs from %s's %s: the URIs of a cluster differ only in host and port", MaskURI(s), field+"[0]", what)
			good = false
			continue
		}
		out = append(out, s)
	}
	if !good {
		return nil
	}
	return out
}

// clusterMismatch names what b sets differently from a, besides host and
// port ("" when nothing).
func clusterMismatch(a, b *url.URL) string {
	vhost := func(u *url.URL) string {
		if u.Path == "" {
			return "/"
		}
		return u.Path
	}
	switch {
	case a.Scheme != b.Scheme:
		return "scheme"
	case a.User.String() != b.User.String():
		return "user or password"
	case vhost(a) != vhost(b):
		return "virtual host"
	}
	return ""
}

// Equal reports whether c and o set the same connection.
func (c Connection) Equal(o Connection) bool {
	if c.URI != o.URI || c.Exchange != o.Exchange || len(c.URIs) != len(o.URIs) {
		return false
	}
	for i := range c.URIs {
		if c.URIs[i] != o.URIs[i] {
			return false
		}
	}
	return true
}
