//go:build !race

package proctest

// raceEnabled: this test binary was built without -race.
const raceEnabled = false
