package generator

import "time"

// MinInterval returns the shortest effective interval among the
// deployments the schedule sends (its shard's, after the last Apply), and
// 0 when it sends none. It is the tightest time grid of the run: a tick
// later than half of it is about to run into the next one. Safe for
// concurrent use.
func (s *Schedule) MinInterval() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var shortest time.Duration
	for _, d := range s.order {
		if shortest == 0 || d.interval < shortest {
			shortest = d.interval
		}
	}
	return shortest
}
