//go:build race

package proctest

// raceEnabled: this test binary was built with -race.
const raceEnabled = true
