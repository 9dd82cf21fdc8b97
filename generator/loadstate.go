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
		af := join(field, "allocation")
		entries, _, ok := p.mapping(a.key, a.val, af)
		if ok && len(entries) > 0 {
			st.Allocation = make(map[string]float64, len(entries))
		}
		for _, m := range entries {
			mf := join(af, m.key.Value)
			if msg := metricNameProblem(m.key.Value); msg != "" {
				p.fail(m.key, mf, "%s", msg)
				continue
			}
			if v, ok := p.stateNumber(m, mf); ok {
				st.Allocation[m.key.Value] = v
			}
		}
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
