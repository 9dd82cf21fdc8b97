package generator

import (
	"bytes"
	"errors"
	"io"

	"gopkg.in/yaml.v3"
)

// The whole-document parse holds yaml.v3's node tree of the file: about
// 2.5 KiB per deployment of the original format (254 MiB for 100k
// deployments, against ~30 MiB of file). Most files are one mapping with a
// block list under `deployments:`, and such a list can be cut into its
// items by their indentation alone, then parsed a few hundred items at a
// time, each batch's tree dropped once its items are read.
//
// The cut is only a shortcut: it is taken when the file has that plain
// shape and every piece parses and validates; anything else (anchors or
// aliases, a directive, a problem of any kind) parses the whole document
// instead, which alone decides the result and reports the errors. So a file
// means the same either way; FuzzSplitMatchesWhole holds it to that.

// splitFile is a config file cut at its deployments list.
type splitFile struct {
	// rest is the file with the lines of the list emptied (the
	// `deployments:` line kept, its value now null), so every other line
	// keeps its number.
	rest    []byte
	batches []splitBatch
}

// splitBatch is the text of consecutive list items: their lines, from the
// one with the first `-` on, as written (columns unchanged).
type splitBatch struct {
	line  int // 1-based line of the first `-`
	items int
	text  []byte
}

// batchItems is how many items one yaml.v3 parse takes: a few hundred
// items' nodes are little memory, and a parse per item would spend more
// on setting up decoders than on parsing.
const batchItems = 256

// splitDeployments cuts data at a top-level `deployments:` key followed by
// a block list; ok is false when data does not have that shape.
func splitDeployments(data []byte) (f splitFile, ok bool) {
	if hasOtherLineBreaks(data) {
		return f, false // lines would not be where yaml.v3 sees them
	}
	var (
		keyEnd   = -1 // offset after the `deployments:` line
		indent   = -1 // the items' `-` column
		blockEnd = -1 // offset of the first line after the list
		starts   []int
		lines    []int
	)
	line := 0
	for off := 0; off < len(data); {
		cur := off
		end := len(data)
		if i := bytes.IndexByte(data[off:], '\n'); i >= 0 {
			end = off + i
		}
		off = min(end+1, len(data))
		line++
		text := bytes.TrimSuffix(data[cur:end], []byte("\r"))
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\uFEFF"))
		}
		body := bytes.TrimLeft(text, " ")
		spaces := len(text) - len(body)
		if len(body) > 0 && body[0] == '\t' || len(text) > 0 && text[0] == '%' {
			return f, false // tab indentation, directives: leave them to yaml.v3
		}
		if len(body) == 0 || body[0] == '#' {
			continue // blank and comment lines belong to no structure
		}
		if keyEnd < 0 || blockEnd >= 0 {
			// Outside the list: find its key, and refuse a second one.
			if spaces == 0 && isDeploymentsKey(body) {
				if keyEnd >= 0 {
					return f, false
				}
				keyEnd = off
			}
			continue
		}
		if indent < 0 { // the first line under the key opens the list
			if !isItemStart(body) {
				return f, false // not a block list
			}
			indent = spaces
		}
		switch {
		case spaces < indent || spaces == 0 && !isItemStart(body):
			blockEnd = cur // the next top-level key
			if spaces == 0 && isDeploymentsKey(body) {
				return f, false
			}
		case spaces == indent && isItemStart(body):
			starts = append(starts, cur)
			lines = append(lines, line)
		case spaces == indent:
			return f, false // something other than an item at the items' column
		}
	}
	if len(starts) == 0 {
		return f, false
	}
	if blockEnd < 0 {
		blockEnd = len(data)
	}
	for i := 0; i < len(starts); i += batchItems {
		n := min(batchItems, len(starts)-i)
		stop := blockEnd
		if i+n < len(starts) {
			stop = starts[i+n]
		}
		f.batches = append(f.batches, splitBatch{line: lines[i], items: n, text: data[starts[i]:stop]})
	}
	blanked := bytes.Count(data[keyEnd:blockEnd], []byte("\n"))
	f.rest = make([]byte, 0, keyEnd+blanked+len(data)-blockEnd)
	f.rest = append(f.rest, data[:keyEnd]...)
	f.rest = append(f.rest, bytes.Repeat([]byte("\n"), blanked)...)
	f.rest = append(f.rest, data[blockEnd:]...)
	return f, true
}

// hasOtherLineBreaks tells whether data breaks lines other than with "\n"
// or "\r\n": yaml.v3 also breaks them on a lone "\r", U+0085, U+2028 and
// U+2029, which this cutter does not follow.
func hasOtherLineBreaks(data []byte) bool {
	for i := bytes.IndexByte(data, '\r'); i >= 0; {
		if i+1 == len(data) || data[i+1] != '\n' {
			return true
		}
		next := bytes.IndexByte(data[i+1:], '\r')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return bytes.Contains(data, []byte("\u0085")) || bytes.Contains(data, []byte("\u2028")) || bytes.Contains(data, []byte("\u2029"))
}

// isDeploymentsKey tells whether a line at column 0 is `deployments:` with
// nothing after it but a comment.
func isDeploymentsKey(body []byte) bool {
	after, found := bytes.CutPrefix(body, []byte("deployments:"))
	if !found {
		return false
	}
	if len(after) == 0 {
		return true
	}
	if after[0] != ' ' {
		return false
	}
	after = bytes.TrimLeft(after, " ")
	return len(after) == 0 || after[0] == '#'
}

// isItemStart tells whether a line, from its first non-space, opens a
// block list item.
func isItemStart(body []byte) bool {
	return body[0] == '-' && (len(body) == 1 || body[1] == ' ')
}

// nodes parses a batch of list items alone into their nodes, with the
// lines they have in the whole file. Nil when it does not parse as exactly
// its items, or holds an anchor or an alias (which may name or be named
// from elsewhere): the caller then parses the whole document.
func (b splitBatch) nodes() []*yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(b.text))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.SequenceNode || len(doc.Content[0].Content) != b.items {
		return nil
	}
	items := doc.Content[0].Content
	for _, item := range items {
		if !shiftLines(item, b.line-1) {
			return nil
		}
	}
	return items
}

// shiftLines adds offset to the line of n and of every node under it; false
// when one of them is an anchor or an alias.
func shiftLines(n *yaml.Node, offset int) bool {
	if n.Anchor != "" || n.Kind == yaml.AliasNode {
		return false
	}
	n.Line += offset
	for _, c := range n.Content {
		if !shiftLines(c, offset) {
			return false
		}
	}
	return true
}
