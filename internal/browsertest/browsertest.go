package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/labsea/metricsender/internal/chromium"
)

// GateEnv turns the browser tests on when set to 1.
const GateEnv = "METRICSENDER_BROWSER_TESTS"

// How says how to run the gated tests.
const How = GateEnv + "=1 go test -count=1 -p 1 ./internal/browsertest/ ./pagetest/ (the browser: " + chromium.Install + ")"

// Chromium returns the browser's path, or skips (or fails) t as the package
// doc says.
func Chromium(t testing.TB) string {
	t.Helper()
	if os.Getenv(GateEnv) != "1" {
		t.Skip("tests in a real Chromium are off; run them with: " + How)
	}
	p, err := chromium.Find()
	if err != nil {
		msg := fmt.Sprintf("%s=1 but %v", GateEnv, err)
		if os.Getenv("METRICSENDER_REQUIRE_BROKER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// Browser is one headless Chromium with one tab, owned by one test.
// Its methods fail the test on error and may be called only from the
// test's goroutine; Console and Errors are safe for concurrent use.
type Browser struct {
	ctx context.Context // the tab's

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// Start starts a headless Chromium for t with a fresh profile in
// t.TempDir() and a blank tab, collects its console from now on, and
// closes it when t ends (before the profile is removed).
func Start(t *testing.T) *Browser {
	t.Helper()
	path := Chromium(t)
	profile := filepath.Join(t.TempDir(), "profile")
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900)}
	for _, s := range chromium.Switches() {
		opts = append(opts, chromedp.Flag(s, true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(format string, args ...any) {
		t.Logf("chromedp: "+format, args...)
	}))
	b := &Browser{ctx: ctx}

	// Console subscribes (and starts the browser) before it returns, so
	// nothing the first page writes is lost.
	messages := chromedp.Console(ctx)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for m, err := range messages {
			if err != nil {
				return // the tab closed: the test is over
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		// A graceful close first (the profile is flushed), then the
		// allocator's cancel, which waits for the process to exit.
		if err := chromedp.Cancel(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("close chromium: %v", err)
		}
		cancelTab()
		cancelAlloc()
		<-collected
	})
	// Start the browser now, so a missing library or a refused flag fails
	// here with the browser's own words, not in the test's first step.
	start, cancel := b.limit(time.Minute)
	defer cancel()
	if err := chromedp.Do(start, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium %s: %v", path, err)
	}
	return b
}

// Context is the tab's context, for chromedp actions a test runs itself.
func (b *Browser) Context() context.Context { return b.ctx }

// limit bounds one step so a hang fails the test instead of the suite's
// timeout. It is not an assertion on speed.
func (b *Browser) limit(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, d)
}

// Console returns every message the tab's pages wrote to the console so
// far, in order.
func (b *Browser) Console() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}

// Errors returns the console's errors so far: calls of console.error,
// uncaught exceptions and unhandled rejections, and the browser's
// error-level log (a resource that failed to load, a refused connection).
func (b *Browser) Errors() []chromedp.ConsoleMessage {
	var errs []chromedp.ConsoleMessage
	for _, m := range b.Console() {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			errs = append(errs, m)
		}
	}
	return errs
}

// NoErrors fails t when the console holds an error: what a person with the
// developer tools open would see in red.
func (b *Browser) NoErrors(t testing.TB) {
	t.Helper()
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("the page wrote %d error(s) to the console:\n%s", len(errs), describe(errs))
	}
}

func describe(ms []chromedp.ConsoleMessage) string {
	var sb strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&sb, "  %s", m)
		if m.URL != "" {
			fmt.Fprintf(&sb, " (%s:%d:%d)", m.URL, m.Line+1, m.Column+1)
		}
		if m.Source != "" {
			fmt.Fprintf(&sb, " [%s]", m.Source)
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Navigate opens url and waits for its load event.
func (b *Browser) Navigate(t testing.TB, url string) {
	t.Helper()
	ctx, cancel := b.limit(time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

// Do runs chromedp actions (a click, keys typed into a field) on the tab.
// what names them in the failure.
func (b *Browser) Do(t testing.TB, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := b.limit(time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// Eval evaluates the JavaScript expression js in the tab's page and
// decodes its value (JSON) into T. A call that reaches the page just as a load
// replaces its JavaScript context is tried again in the new one.
func Eval[T any](t testing.TB, b *Browser, js string) T {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ctx, cancel := b.limit(time.Until(deadline))
		v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
		cancel()
		switch {
		case err == nil:
			return v
		case !contextGone(err) || time.Now().After(deadline):
			t.Fatalf("evaluate %s: %v", js, err)
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitTrue waits until the JavaScript expression js is truthy in the page,
// checking every 50 ms; limit only catches a hang, and then the test fails
// naming what it waited for, with the console's errors.
func (b *Browser) WaitTrue(t testing.TB, what, js string, limit time.Duration) {
	t.Helper()
	if err := b.Poll(js, limit); err != nil {
		t.Fatalf("the page never showed %s (%s) in %s: %v\nconsole errors:\n%s", what, js, limit, err, describe(b.Errors()))
	}
}

// Poll is WaitTrue returning the failure, for a caller that says more
// about it (what the page shows instead).
func (b *Browser) Poll(js string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := b.limit(time.Until(deadline) + 10*time.Second)
		poll := chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(time.Until(deadline)))
		_, err := chromedp.Run(ctx, poll)
		cancel()
		if err == nil || !contextGone(err) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// contextGone reports whether err says the page's JavaScript context the
// call was sent to went away: a navigation or a load replaced it just
// then. The call is then tried again in the new one.
func contextGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Cannot find context with specified id") ||
		strings.Contains(msg, "Execution context was destroyed") ||
		strings.Contains(msg, "Inspected target navigated or closed")
}

// Screenshot writes a PNG of the tab's viewport to path.
func (b *Browser) Screenshot(t testing.TB, path string) {
	t.Helper()
	ctx, cancel := b.limit(time.Minute)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
}
