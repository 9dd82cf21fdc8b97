package generator

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// literalIndent finds how the text of the literal block v sits in the
// manifest data: each non-empty line k (0-based) of the text is line
// v.Line+1+k of the manifest, after indent spaces. It checks every line
// rather than trust the indentation indicator or the first line, so a
// mapping it returns is exact; indent is -1 when v is not a literal block
// or its lines are not found so (line breaks yaml.v3 reads but this does
// not split on). lines counts the text's lines up to its last non-empty
// one.
func literalIndent(data []byte, v *yaml.Node, text string) (indent, lines int) {
	if v.Style&yaml.LiteralStyle == 0 || hasOtherLineBreaks(data) {
		return -1, 0
	}
	// Skip to the line after the block's header.
	rest := data
	for range v.Line {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return -1, 0
		}
		rest = rest[i+1:]
	}
	indent = -1
	for k, want := range strings.Split(text, "\n") {
		var raw []byte
		raw, rest, _ = bytes.Cut(rest, []byte("\n"))
		raw = bytes.TrimSuffix(raw, []byte("\r"))
		if want == "" {
			continue
		}
		if indent < 0 {
			indent = len(raw) - len(want)
		}
		if indent < 1 || len(raw) != indent+len(want) || string(raw[indent:]) != want ||
			len(bytes.TrimLeft(raw[:indent], " ")) != 0 {
			return -1, 0
		}
		lines = k + 1
	}
	return indent, lines
}

// relocate moves the positions of err's problems, found in e's text, to
// the manifest: exactly for a literal block, else to the scalar's start
// with the position in the text added to the message.
func (e *embedded) relocate(err error) {
	v := e.key.val
	for _, fe := range FieldErrors(err) {
		if fe.Line == 0 {
			continue
		}
		if e.indent < 0 {
			fe.Msg += fmt.Sprintf(" (line %d, column %d of the text of %s)", fe.Line, max(fe.Col, 1), e.source())
			fe.Line, fe.Col = v.Line, v.Column
			continue
		}
		fe.Line = v.Line + min(fe.Line, max(e.lines, 1))
		fe.Col = max(fe.Col, 1) + e.indent
	}
}
