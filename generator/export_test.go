package generator

// ParseSplit is Parse's item-by-item path alone (split.go): nil when it
// does not apply or gives up.
func ParseSplit(path string, data []byte) *Config {
	f, ok := splitDeployments(data)
	if !ok {
		return nil
	}
	p := newParser(path)
	p.split = &f
	if cfg := p.parse(f.rest); cfg != nil && !p.bail {
		return cfg
	}
	return nil
}

// ParseWhole is Parse's whole-document path alone.
func ParseWhole(path string, data []byte) (*Config, error) {
	p := newParser(path)
	if cfg := p.parse(data); cfg != nil {
		return cfg, nil
	}
	return nil, p.err()
}
