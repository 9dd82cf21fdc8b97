package judge

import "time"

// Clock is where a Tracker reads the time and waits: the system clock in
// a run, a fake one in tests, so that no verdict depends on how fast the
// machine is.
type Clock interface {
	Now() time.Time
	// After sends the time on the channel once d has passed, as
	// time.After does.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock: time.Now and time.After.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
