package generator

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
	"gopkg.in/yaml.v3"
)

// maxNodes bounds the nodes a document may expand to through aliases, so a
// few lines of nested aliases ("billion laughs") cannot stall the loader.
const maxNodes = 1_000_000

// parser walks a YAML document, collecting every problem as a *FieldError.
type parser struct {
	file    string // for errors; "" for ParseModel
	baseDir string // replay files are relative to it
	noPos   bool   // leave positions out (ParseModel)
	what    string // what the document holds, for "empty" errors
	errs    []*FieldError
	replays map[string]*Replay // read once per file and column

	kube *Kubernetes // the top-level `kubernetes:`, beneath each deployment's

	exprs    map[string]*exprCode   // compiled once per expression and var set
	celEnv   *cel.Env               // the expressions' environment, made on first use
	varNames map[string]string      // varNameProblem's answers, by name
	models   map[string]cachedModel // definitions parsed so far, by modelKey
	// metricSets are the metrics lists parsed so far, by their names and
	// modelKeys: deployments written alike share one.
	metricSets map[string][]MetricSpec

	split *splitFile // the deployments list, item by item (see split.go)
	bail  bool       // the split parse gave up: parse the whole document

	objects  bool // the document may be a Kubernetes manifest (manifest.go)
	manifest bool // it is one: document gave up on it without a problem
}

// fail records a problem at node n (its position; nil for none).
func (p *parser) fail(n *yaml.Node, field, format string, args ...any) {
	var at position
	if n != nil {
		at = positionOf(n)
	}
	p.failAt(at, field, format, args...)
}

// position is where a node was written (1-based; 0 when unknown).
type position struct{ line, col int32 }

func positionOf(n *yaml.Node) position { return position{int32(n.Line), int32(n.Column)} }

// deploymentField names entry i of `deployments` in messages.
func deploymentField(i int) string { return fmt.Sprintf("deployments[%d]", i) }

// failAt is fail with the position of a node no longer held.
func (p *parser) failAt(at position, field, format string, args ...any) {
	e := &FieldError{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if !p.noPos {
		e.Line, e.Col = int(at.line), int(at.col)
	}
	if p.noPos {
		e.File = ""
	}
	p.errs = append(p.errs, e)
}

// err joins the problems recorded, in document order.
func (p *parser) err() error {
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data into its root node. A syntax error, an empty
// document, a second document or too many aliases are recorded and yield
// nil. With p.objects, a Kubernetes object in the first or second document
// sets p.manifest and yields nil with no problem recorded.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.fail(&yaml.Node{Line: 1, Column: 1}, "", "empty document: want %s", cmpOr(p.what, "a mapping with deployments"))
		} else {
			p.syntax(err)
		}
		return nil
	}
	var extra yaml.Node
	err := dec.Decode(&extra)
	if p.objects && (isObject(&doc) || err == nil && isObject(&extra)) {
		p.manifest = true
		return nil
	}
	if !errors.Is(err, io.EOF) {
		if err != nil {
			p.syntax(err)
		} else {
			p.fail(&extra, "", "a second YAML document: want exactly one")
		}
		return nil
	}
	if len(doc.Content) == 0 {
		p.fail(&doc, "", "empty document")
		return nil
	}
	// The bound is on what aliases add, not on the document's own nodes:
	// 100k deployments in the original format are 1.5M nodes of their own.
	limit := ownSize(&doc) + maxNodes
	if n := expandedSize(&doc, map[*yaml.Node]int{}, limit); n > limit {
		p.fail(&doc, "", "aliases expand the document by more than %d nodes (or an alias names a node that contains it)", maxNodes)
		return nil
	}
	return doc.Content[0]
}

// syntax records a YAML syntax error at the line yaml.v3 gives (col 1).
func (p *parser) syntax(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if parserProblem(msg) {
			line++ // yaml.v3 prints parser (not scanner) marks 0-based
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.fail(&yaml.Node{Line: line, Column: 1}, "", "YAML syntax: %s", msg)
}

// parserProblem reports whether msg is one of yaml.v3's parser errors
// (parserc.go), whose line it prints 0-based, unlike its scanner errors.
func parserProblem(msg string) bool {
	switch msg {
	case "did not find expected ',' or ']'", "did not find expected ',' or '}'",
		"did not find expected '-' indicator", "did not find expected key",
		"did not find expected node content", "did not find expected <document start>",
		"did not find expected <stream-start>", "found duplicate %YAML directive",
		"found duplicate %TAG directive", "found incompatible YAML document",
		"found undefined tag handle":
		return true
	}
	return false
}

// expandedSize counts the nodes of n with aliases expanded. Anchored nodes
// (the only ones an alias can name) are memoized, so the count stays linear
// in the document. An alias to a node that contains it (yaml.v3 builds
// such a node tree) expands without end: it counts as over limit.
func expandedSize(n *yaml.Node, memo map[*yaml.Node]int, limit int) int {
	if n.Anchor != "" {
		if s, ok := memo[n]; ok {
			return s
		}
		memo[n] = limit + 1 // while inside n: an alias back to it is a cycle
	}
	s := 1
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		s += expandedSize(n.Alias, memo, limit)
	}
	for _, c := range n.Content {
		if s > limit {
			break
		}
		s += expandedSize(c, memo, limit)
	}
	if n.Anchor != "" {
		memo[n] = s
	}
	return s
}

// ownSize counts the nodes of the document as written, aliases not followed.
func ownSize(n *yaml.Node) int {
	s := 1
	for _, c := range n.Content {
		s += ownSize(c)
	}
	return s
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// kindName names a node's kind for messages.
func kindName(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return "a scalar"
	}
	return "an alias"
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// entry is one key of a mapping with its value.
type entry struct {
	key, val *yaml.Node
}

// mapping returns the entries of the mapping n (at is where to point for a
// wrong kind), reporting non-scalar, duplicate and unknown keys (known nil:
// any key). Entries come in document order. ok is false when n is not a
// mapping.
func (p *parser) mapping(at, n *yaml.Node, field string, known ...string) (entries []entry, byKey map[string]entry, ok bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		p.fail(at, field, "want a mapping, got %s", kindName(n))
		return nil, nil, false
	}
	byKey = make(map[string]entry, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.fail(k, field, "keys must be scalars, got %s", kindName(k))
			continue
		}
		if k.Tag == "!!merge" {
			p.fail(k, field, "merge keys (<<) are not supported")
			continue
		}
		if first, dup := byKey[k.Value]; dup {
			p.fail(k, join(field, k.Value), "duplicate key (first at line %d)", first.key.Line)
			continue
		}
		if known != nil && !contains(known, k.Value) {
			if guess := closest(k.Value, known); strings.EqualFold(guess, k.Value) {
				p.fail(k, join(field, k.Value), "unknown key (keys are case-sensitive: did you mean %q?)", guess)
			} else if guess != "" {
				p.fail(k, join(field, k.Value), "unknown key (did you mean %q?)", guess)
			} else {
				p.fail(k, join(field, k.Value), "unknown key (want one of: %s)", strings.Join(known, ", "))
			}
			continue
		}
		e := entry{key: k, val: v}
		byKey[k.Value] = e
		entries = append(entries, e)
	}
	return entries, byKey, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// scalar returns the text of the scalar v, reporting anything else at at.
func (p *parser) scalar(at, v *yaml.Node, field string) (string, bool) {
	v = resolve(v)
	if v == nil || v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.fail(at, field, "want a value, got %s", kindName(v))
		return "", false
	}
	return v.Value, true
}
