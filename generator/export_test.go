package generator

// ParseSplit is Parse's item-by-item path alone (split.go): nil when it
// does not apply or gives up.
func ParseSplit(path string, data []byte) *Config { return parseSplit(path, data) }

// ParseWhole is Parse's whole-document path alone.
func ParseWhole(path string, data []byte) (*Config, error) { return parseWhole(path, data) }

// ExprProgram is the compiled program an Expr runs (for pointer comparison).
func ExprProgram(m Model) any { return m.(*Expr).def.code }
