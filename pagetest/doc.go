// Package pagetest tests send's live page (GET / on --http-addr, package
// live) the way a person uses it: in a real headless Chromium (Debian's
// chromium, driven by internal/browsertest), against the real
// metricsender binary and, where the wire is asserted, the real RabbitMQ
// read by a plain amqp091-go consumer. It holds only tests (and this
// comment).
//
// # What it proves
//
//   - The page loads, connects to its event stream and shows the run with
//     no error in the browser's console.
//   - After N ticks the chart of a followed deployment holds N points,
//     and their values are, seq by seq, the headers a plain consumer read
//     off the wire.
//   - In a closed loop with the stand-in operator, the judge panel shows
//     exactly send's exit summary line.
//   - The page's pause button (--enable-control) stops the deployment's
//     messages on the wire from the next tick, and resume brings them
//     back.
//   - A sender restart shows "disconnected", then the new run's data,
//     without a reload.
//   - With 10,000 deployments the list stays bounded and the filter finds
//     one by name, whose chart then fills.
//   - The stand-in operator's own page shows its policy, counts and
//     decisions, and after it stops the account of its stopped line.
//
// With METRICSENDER_SCREENSHOT=FILE, TestScreenshot writes a PNG of a
// closed-loop run there (the README's docs/live.png).
//
// # How to run
//
//	METRICSENDER_BROWSER_TESTS=1 go test -count=1 -p 1 ./pagetest/
//	METRICSENDER_BROWSER_TESTS=1 METRICSENDER_SCREENSHOT=$PWD/docs/live.png go test -count=1 -run TestScreenshot ./pagetest/
//
// Without METRICSENDER_BROWSER_TESTS=1 every test skips and says how to
// run it. They need /usr/bin/chromium (or METRICSENDER_CHROMIUM; install:
// apt-get install -y --no-install-recommends chromium), RabbitMQ on
// 127.0.0.1:5672 (AMQP_URI overrides) and `go` to build the binary once
// (with -race when the tests run with it). Each test publishes on an
// exchange of its own, so other tests on the broker do not disturb its
// counts. Assertions are on what the page shows and what the wire
// carried, never on durations; the time limits only catch hangs.
package pagetest
