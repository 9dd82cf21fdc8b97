package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// A config may also be kept as a Kubernetes manifest, the file a lab
// applies with `kubectl apply -f`: a ConfigMap holding the config under a
// key, then other objects (a Deployment, a Service) after `---`. A file is
// such a manifest when a document of it is a Kubernetes object (a mapping
// with an apiVersion or a kind key, which a config never has); any other
// file is a config and loads as it always did.
//
// Only ConfigMaps are read; their other keys and every other object are
// ignored without a warning. The config is the `metricsender.yaml` key of
// the one ConfigMap that has it; when none has it, the only key of the one
// ConfigMap whose only key holds a config (text with a top-level
// `deployments` key). Anything else is refused, naming what was found.
//
// Problems of the embedded config point at the manifest's own lines: a
// literal block (`|`, `|-`, `|+`, with or without an indentation
// indicator) is the config's text shifted by its indentation, so a
// position maps exactly. Any other scalar (quoted, folded, plain) cannot
// be mapped line for line: its problems point at the scalar's start and
// say where they are in the embedded text.

// configKey is the key a ConfigMap holds the config under.
const configKey = "metricsender.yaml"

// configMap is a ConfigMap of a manifest.
type configMap struct {
	name string
	root *yaml.Node // the object, for its position
	data *yaml.Node // its `data` resolved; nil when it has none
	keys []entry    // the entries of data, when a mapping
}

// embedded is the config text one key of a ConfigMap holds.
type embedded struct {
	cm   *configMap
	key  entry
	text string
	// indent is how many columns the text's lines are shifted by in the
	// manifest; -1 when positions cannot be mapped line for line.
	indent int
	lines  int // the text's lines up to its last non-empty one
}

// source names where the config was read: "ConfigMap x, key y".
func (e *embedded) source() string {
	return fmt.Sprintf("%s, key %s", e.cm.title(), e.key.key.Value)
}

// isObject reports whether a decoded document is a Kubernetes object.
func isObject(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return false
	}
	root := resolve(doc.Content[0])
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	return lookup(root, "apiVersion") != nil || lookup(root, "kind") != nil
}

// lookup returns the value of key in the mapping m (aliases followed),
// nil when m is not a mapping or lacks it.
func lookup(m *yaml.Node, key string) *yaml.Node {
	if m = resolve(m); m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(m.Content[i+1])
		}
	}
	return nil
}

// text is the value of a non-null scalar, "" for anything else.
func text(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// parseManifest loads the config a manifest's ConfigMap holds.
func parseManifest(path string, data []byte) (*Config, error) {
	p := newParser(path)
	src := p.pick(data)
	if src == nil {
		return nil, p.err()
	}
	cfg, err := parseConfig(path, []byte(src.text))
	if err != nil {
		src.relocate(err)
		return nil, err
	}
	cfg.Source = src.source()
	return cfg, nil
}

// pick reads the manifest's documents and returns the config text to
// load; nil when it recorded why there is none.
func (p *parser) pick(data []byte) *embedded {
	var maps []*configMap
	var others []string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			p.syntax(err)
			return nil
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := resolve(doc.Content[0])
		if root == nil || root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			continue // an empty document, as between two `---`
		}
		kind := text(lookup(root, "kind"))
		if kind != "ConfigMap" {
			others = append(others, fmt.Sprintf("%s (line %d)", describeObject(root, kind), root.Line))
			continue
		}
		cm := &configMap{name: text(lookup(lookup(root, "metadata"), "name")), root: root, data: lookup(root, "data")}
		if cm.data != nil && cm.data.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(cm.data.Content); i += 2 {
				cm.keys = append(cm.keys, entry{key: resolve(cm.data.Content[i]), val: cm.data.Content[i+1]})
			}
		}
		maps = append(maps, cm)
	}
	if len(maps) == 0 {
		found := "nothing else"
		if len(others) > 0 {
			found = strings.Join(others, ", ")
		}
		p.fail(&yaml.Node{Line: 1, Column: 1}, "", "no ConfigMap in the manifest (found %s): want a ConfigMap with the config under a %s key", found, configKey)
		return nil
	}
	var named, holding []*embedded
	for _, cm := range maps {
		for _, e := range cm.keys {
			if e.key.Value == configKey {
				named = append(named, &embedded{cm: cm, key: e})
			}
		}
		if len(cm.keys) == 1 && holdsConfig(resolve(cm.keys[0].val)) {
			holding = append(holding, &embedded{cm: cm, key: cm.keys[0]})
		}
	}
	switch {
	case len(named) > 1:
		p.fail(named[1].key.key, "", "%s each have a %s key: want exactly one", listMaps(named, false), configKey)
		return nil
	case len(named) == 1:
		return p.embed(named[0], data)
	case len(holding) > 1:
		p.fail(holding[1].key.key, "", "%s each hold a config under their only key: name the one to use %s", listMaps(holding, true), configKey)
		return nil
	case len(holding) == 1:
		return p.embed(holding[0], data)
	}
	var why []string
	for _, cm := range maps {
		why = append(why, cm.title()+" (line "+fmt.Sprint(cm.root.Line)+") "+cm.unusable())
	}
	p.fail(maps[0].root, "", "no ConfigMap with a usable key: %s; want a %s key, or one ConfigMap whose only key holds the config",
		strings.Join(why, "; "), configKey)
	return nil
}

// embed checks that the chosen key holds text and finds where it sits.
func (p *parser) embed(e *embedded, data []byte) *embedded {
	v := resolve(e.key.val)
	if v == nil || v.Kind != yaml.ScalarNode {
		p.fail(e.key.key, "", "%s: want the config as text (a block: %s: |), got %s", e.source(), e.key.key.Value, kindName(v))
		return nil
	}
	e.text = text(v)
	if strings.TrimSpace(e.text) == "" {
		p.fail(e.key.key, "", "%s: empty: want the config", e.source())
		return nil
	}
	e.key.val = v
	e.indent, e.lines = literalIndent(data, v, e.text)
	return e
}

// title names a ConfigMap in messages.
func (cm *configMap) title() string {
	if cm.name == "" {
		return "ConfigMap (no name)"
	}
	return "ConfigMap " + cm.name
}

// unusable says why a ConfigMap offers no config.
func (cm *configMap) unusable() string {
	switch {
	case cm.data == nil || cm.data.Tag == "!!null":
		return "has no data"
	case cm.data.Kind != yaml.MappingNode:
		return "has data that is not a mapping"
	case len(cm.keys) == 0:
		return "has empty data"
	case len(cm.keys) == 1:
		return fmt.Sprintf("has one key, %s, which holds no config (no top-level deployments key)", cm.keys[0].key.Value)
	}
	names := make([]string, 0, len(cm.keys))
	for _, e := range cm.keys {
		names = append(names, e.key.Value)
	}
	return fmt.Sprintf("has keys %s and no %s", strings.Join(names, ", "), configKey)
}

// listMaps names candidates in messages: "ConfigMap a (line 1) and
// ConfigMap b (line 9)", with their keys when withKey.
func listMaps(list []*embedded, withKey bool) string {
	names := make([]string, len(list))
	for i, e := range list {
		names[i] = fmt.Sprintf("%s (line %d)", e.cm.title(), e.key.key.Line)
		if withKey {
			names[i] = fmt.Sprintf("%s (key %s, line %d)", e.cm.title(), e.key.key.Value, e.key.key.Line)
		}
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// describeObject names an object that is not a ConfigMap in messages.
func describeObject(root *yaml.Node, kind string) string {
	if root.Kind != yaml.MappingNode {
		return kindName(root)
	}
	if kind == "" {
		kind = "an object without a kind"
	}
	if name := text(lookup(lookup(root, "metadata"), "name")); name != "" {
		return kind + " " + name
	}
	return kind
}

// holdsConfig reports whether a ConfigMap value is config text: a
// top-level `deployments` key, found by its line (cheap, and true of a
// config with a syntax error too) or else by decoding it (flow style).
func holdsConfig(v *yaml.Node) bool {
	s := text(v)
	for line := range strings.Lines(s) {
		for _, k := range []string{"deployments:", `"deployments":`, "'deployments':"} {
			if strings.HasPrefix(line, k) {
				return true
			}
		}
	}
	var doc yaml.Node
	if s == "" || yaml.Unmarshal([]byte(s), &doc) != nil {
		return false
	}
	return len(doc.Content) == 1 && lookup(doc.Content[0], "deployments") != nil
}
