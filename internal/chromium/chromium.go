// Package chromium names the headless Chromium that the browser tests
// (internal/browsertest) and the bench drive, and the flags it needs on a
// machine with a closed network, as root: Debian's chromium package at
// /usr/bin/chromium unless METRICSENDER_CHROMIUM names another. It starts
// nothing through the DevTools protocol, so the bench can use it without
// chromedp in its build graph.
package chromium

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
)

// PathEnv names the environment variable that overrides DefaultPath.
const PathEnv = "METRICSENDER_CHROMIUM"

// DefaultPath is where Debian's chromium package installs the browser.
const DefaultPath = "/usr/bin/chromium"

// Install is the command that installs DefaultPath (as root).
const Install = "apt-get install -y --no-install-recommends chromium"

// Path returns the browser's path: $METRICSENDER_CHROMIUM or DefaultPath.
// It does not check that a file is there; Find does.
func Path() string { return cmp.Or(os.Getenv(PathEnv), DefaultPath) }

// Find returns Path when an executable file is there, or an error that
// names the path and how to install it.
func Find() (string, error) {
	p := Path()
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return "", fmt.Errorf("chromium at %s (set %s, or install it: %s): %w", p, PathEnv, Install, err)
	case fi.IsDir() || fi.Mode()&0o111 == 0:
		return "", fmt.Errorf("chromium at %s (set %s, or install it: %s): not an executable file", p, PathEnv, Install)
	}
	return p, nil
}

// Switches returns the bare switches, without their leading "--", that a
// headless Chromium needs here beyond its profile directory: no sandbox
// (it refuses to start as root with one, and CI runs as root), no GPU,
// /tmp rather than a small /dev/shm, and none of the background
// connections (updates, sync, QUIC, first-run pings) that a closed network
// refuses many times a second. Each call returns a new slice.
func Switches() []string {
	return []string{
		"headless",
		"no-sandbox",
		"disable-gpu",
		"disable-quic",
		"no-first-run",
		"disable-background-networking",
		"disable-component-update",
		"disable-sync",
		"disable-dev-shm-usage",
	}
}

// Args returns Switches as command-line arguments, then
// --user-data-dir=userDataDir, which must be a fresh directory: Chromium
// refuses a profile another instance holds.
func Args(userDataDir string) []string {
	var args []string
	for _, s := range Switches() {
		args = append(args, "--"+s)
	}
	return append(args, "--user-data-dir="+userDataDir)
}

// Command returns a headless Chromium that opens url with a fresh profile
// in userDataDir, killed when ctx ends. It is for a program that only
// needs a page open (the bench's connected browser); tests drive one with
// internal/browsertest.
func Command(ctx context.Context, userDataDir, url string) (*exec.Cmd, error) {
	p, err := Find()
	if err != nil {
		return nil, err
	}
	return exec.CommandContext(ctx, p, append(Args(userDataDir), url)...), nil
}
