package generator

// state parses a deployment's `state:`, its initial observed state:
//
//	state: {replicas: 2, ready: 1, allocation: {cpu: 500m, memory: 1Gi}}
//
// Every key is optional: replicas defaults to 1, ready to replicas.
// Values are numbers or Kubernetes quantities, >= 0, kept in base units.
// nil when a problem was recorded.
func (p *parser) state(e entry, field string) *State {
	before := len(p.errs)
	_, keys, ok := p.mapping(e.key, e.val, field, "replicas", "ready", "allocation")
	if !ok {
		return nil
	}
	st := defaultState
	replicasSet := false
	if r, ok := keys["replicas"]; ok {
		st.Replicas, replicasSet = p.stateNumber(r, join(field, "replicas"))
	}
	if r, ok := keys["ready"]; ok {
		st.Ready, _ = p.stateNumber(r, join(field, "ready"))
	} else if replicasSet {
		st.Ready = st.Replicas
	}
	if a, ok := keys["allocation"]; ok {
		st.Allocation = metricMap(p, a, join(field, "allocation"), p.stateNumber)
	}
	if len(p.errs) > before {
		return nil
	}
	return &st
}

// stateNumber parses one state value: a number or quantity, >= 0.
func (p *parser) stateNumber(e entry, field string) (float64, bool) {
	s, ok := p.scalar(e.key, e.val, field)
	if !ok {
		return 0, false
	}
	n, err := parseNumber(s)
	if err != nil {
		p.fail(e.key, field, "%v", err)
		return 0, false
	}
	if n.v < 0 {
		p.fail(e.key, field, "must be >= 0, got %s", s)
		return 0, false
	}
	return n.v, true
}

// metricMap parses the mapping of e, keyed by metric names (a bad name is
// reported at its key and left out), into the values value makes of its
// entries (false: left out; value reports why). An empty or bad mapping
// gives nil.
func metricMap[T any](p *parser, e entry, field string, value func(m entry, mf string) (T, bool)) map[string]T {
	entries, _, ok := p.mapping(e.key, e.val, field)
	if !ok || len(entries) == 0 {
		return nil
	}
	out := make(map[string]T, len(entries))
	for _, m := range entries {
		mf := join(field, m.key.Value)
		if msg := metricNameProblem(m.key.Value); msg != "" {
			p.fail(m.key, mf, "%s", msg)
			continue
		}
		if v, ok := value(m, mf); ok {
			out[m.key.Value] = v
		}
	}
	return out
}
