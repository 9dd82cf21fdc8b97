// Package browsertest drives a real headless Chromium from Go tests over
// the DevTools protocol (chromedp), for the tests of the live page
// (pagetest). It is for tests only.
//
// The tests are gated like the fault and kube tests:
// METRICSENDER_BROWSER_TESTS=1 turns them on, and the browser is Debian's
// chromium at /usr/bin/chromium unless METRICSENDER_CHROMIUM names another
// (internal/chromium). Without the gate a test skips, saying how to run
// it; with the gate but no browser it skips too, loudly, or fails when
// METRICSENDER_REQUIRE_BROKER=1 (CI) asks for every integration test.
//
// Start gives each test its own browser with a fresh profile in
// t.TempDir(), collects what the page writes to its console (calls of
// console.error, uncaught exceptions, the browser's own error log, such as
// a failed load) so a test can assert that a person would see no error,
// and closes the browser when the test ends. Waits take a limit that only
// catches a hang; a test asserts what the page shows, never how fast.
package browsertest
