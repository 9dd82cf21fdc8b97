package generator

import "time"

// gridKey identifies a tick grid: every deployment with the same interval
// and phase ticks at the same instants, so they share one group.
type gridKey struct {
	interval time.Duration
	phase    time.Duration
}

// group is the set of deployments on one grid. The scheduler keeps one heap
// entry per group, not per deployment, so 100,000 deployments on one interval
// cost one heap operation per tick.
type group struct {
	key  gridKey
	k    int64         // index of the next tick on the grid
	due  time.Duration // key.phase + k*key.interval: elapsed time of tick k
	deps []*dep        // in config order (dep.index ascending)
	hi   int           // position in the heap, -1 when not in it
}

// at returns the elapsed time of tick k on the group's grid.
func (g *group) at(k int64) time.Duration {
	return g.key.phase + time.Duration(k)*g.key.interval
}

// firstTick returns the index of the first tick at or after from.
func firstTick(key gridKey, from time.Duration) int64 {
	if from <= key.phase {
		return 0
	}
	return int64((from - key.phase + key.interval - 1) / key.interval)
}

// groupHeap is a min-heap of groups by due time; ties break on interval and
// phase so the order of groups is deterministic. Typed (no container/heap)
// so push and pop do not box values in interfaces.
type groupHeap []*group

func (h groupHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	if a.due != b.due {
		return a.due < b.due
	}
	if a.key.interval != b.key.interval {
		return a.key.interval < b.key.interval
	}
	return a.key.phase < b.key.phase
}

func (h groupHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hi = i
	h[j].hi = j
}

func (h *groupHeap) push(g *group) {
	g.hi = len(*h)
	*h = append(*h, g)
	h.up(g.hi)
}

// pop removes and returns the earliest group; the heap must not be empty.
func (h *groupHeap) pop() *group {
	return h.remove(0)
}

// remove takes the group at position i out of the heap.
func (h *groupHeap) remove(i int) *group {
	old := *h
	n := len(old) - 1
	g := old[i]
	if i != n {
		old.swap(i, n)
	}
	old[n] = nil
	*h = old[:n]
	if i != n {
		h.down(i)
		h.up(i)
	}
	g.hi = -1
	return g
}

func (h groupHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h groupHeap) down(i int) {
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}
