package main

import (
	"fmt"
	"slices"
	"syscall"
	"time"
)

// sample is one measured run of one side.
type sample struct {
	msgs    int
	start   time.Time     // when the timed part began
	dur     time.Duration // the timed part (see each side)
	written time.Duration // confirms off: start to the last write; dur is then start to landing
	wall    time.Duration // CLI: process start to exit
	cpu     time.Duration // client CPU, user+system
	broker  time.Duration // broker CPU during the run
	rss     int64         // CLI: peak RSS, bytes
}

func (s sample) rate() float64 {
	if s.dur <= 0 {
		return 0
	}
	return float64(s.msgs) / s.dur.Seconds()
}

// perMsg returns d per message in microseconds.
func (s sample) perMsg(d time.Duration) float64 {
	if s.msgs == 0 {
		return 0
	}
	return float64(d.Microseconds()) / float64(s.msgs)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile is the nearest-rank percentile p (0..100) of xs.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(p/100*float64(len(s))+0.999999) - 1
	return s[max(0, min(rank, len(s)-1))]
}

// selfCPU is this process's user+system CPU so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// series collects the samples of one side over the rounds.
type series []sample

func (ss series) medianRate() float64 {
	r := make([]float64, len(ss))
	for i, s := range ss {
		r[i] = s.rate()
	}
	return median(r)
}

// medianPerMsg is the median over rounds of f per message, in µs.
func (ss series) medianPerMsg(f func(sample) time.Duration) float64 {
	r := make([]float64, len(ss))
	for i, s := range ss {
		r[i] = s.perMsg(f(s))
	}
	return median(r)
}

// ratios are a's rate over b's, round by round (a and b ran in the same
// round, back to back).
func ratios(a, b series) []float64 {
	r := make([]float64, 0, len(a))
	for i := range min(len(a), len(b)) {
		if b[i].rate() > 0 {
			r = append(r, a[i].rate()/b[i].rate())
		}
	}
	return r
}

func fmtRate(r float64) string { return fmt.Sprintf("%.1fk msg/s", r/1000) }

func fmtRatios(r []float64) string {
	s := ""
	for i, x := range r {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.2f", x)
	}
	return s
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
