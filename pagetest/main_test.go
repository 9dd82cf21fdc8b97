package pagetest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/labsea/metricsender/internal/brokertest"
	"github.com/labsea/metricsender/internal/browsertest"
	"github.com/labsea/metricsender/internal/proctest"
)

// binary is the metricsender TestMain built, when the gate is on.
var binary string

// how says how to run this package's tests.
const how = browsertest.GateEnv + "=1 go test -count=1 -p 1 ./pagetest/"

func TestMain(m *testing.M) {
	if os.Getenv(browsertest.GateEnv) != "1" {
		fmt.Fprintln(os.Stderr, "pagetest: SKIPPED: the live page's tests run in a real Chromium; run them with: "+how)
		os.Exit(m.Run())
	}
	bin, remove, err := proctest.BuildLikeTest("metricsender-pagetest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "pagetest:", err)
		os.Exit(1)
	}
	binary = bin
	code := m.Run()
	remove()
	os.Exit(code)
}

// hang is the limit of every wait: it only catches a hang.
const hang = 90 * time.Second

// writeConfig writes a metricsender.yaml into t's temp dir.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "metricsender.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// sender is one `metricsender send` with its live page's address.
type sender struct {
	*proctest.Proc
	addr string
}

// startSend runs `metricsender send --http-addr addr args...` (addr ""
// takes a free port) and waits until its HTTP server answers.
func startSend(t *testing.T, addr string, args ...string) *sender {
	t.Helper()
	browsertest.Chromium(t) // skip (or fail) before building anything
	if addr == "" {
		addr = brokertest.FreeAddr(t)
	}
	s := &sender{addr: addr, Proc: proctest.Start(t, binary, "send", append([]string{"send", "--http-addr", addr}, args...)...)}
	s.waitHTTP(t, "/healthz")
	return s
}

// waitHTTP waits until path answers 200.
func (s *sender) waitHTTP(t *testing.T, path string) {
	t.Helper()
	s.WaitOutput(t, path+" answering 200", hang, true, func(string) bool {
		code, _ := s.get(path)
		return code == http.StatusOK
	})
}

// get returns path's status and body (0 and the error when unreachable).
func (s *sender) get(path string) (int, string) {
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// pageURL is the live page following names.
func pageURL(addr string, names ...string) string {
	q := url.Values{}
	for _, n := range names {
		q.Add("select", n)
	}
	u := "http://" + addr + "/"
	if len(names) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

// openPage opens the live page of s in a fresh browser, following names,
// and waits until it says it is connected to its stream.
func openPage(t *testing.T, s *sender, names ...string) *browsertest.Browser {
	t.Helper()
	b := browsertest.Start(t)
	b.Navigate(t, pageURL(s.addr, names...))
	waitConn(t, b, "connected")
	return b
}

// waitConn waits until the page's connection indicator says state.
func waitConn(t *testing.T, b *browsertest.Browser, state string) {
	t.Helper()
	b.WaitTrue(t, "the connection state "+state, fmt.Sprintf(`document.querySelector('[data-testid="conn"]')?.dataset.state === %s`, js(state)), hang)
}

// js quotes v as a JavaScript literal.
func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// sel is the CSS selector of the element with data-testid id, inside the
// elements outer selects (none: the document).
func sel(id string, outer ...string) string {
	s := fmt.Sprintf(`[data-testid=%q]`, id)
	if len(outer) > 0 {
		s = strings.Join(outer, " ") + " " + s
	}
	return s
}

// chart selects the chart of deployment name.
func chart(name string) string { return fmt.Sprintf(`[data-testid="chart"][data-name=%q]`, name) }

// metricSVG selects a chart's SVG of metric.
func metricSVG(name, metric string) string {
	return chart(name) + fmt.Sprintf(` [data-testid="chart-metric"][data-metric=%q]`, metric)
}

// text returns the text of the first element css selects ("" and false
// when there is none).
func text(t *testing.T, b *browsertest.Browser, css string) (string, bool) {
	t.Helper()
	v := browsertest.Eval[*string](t, b, fmt.Sprintf(`document.querySelector(%s)?.textContent.trim() ?? null`, js(css)))
	if v == nil {
		return "", false
	}
	return *v, true
}

// mustText is text, failing t when nothing matches.
func mustText(t *testing.T, b *browsertest.Browser, css string) string {
	t.Helper()
	s, ok := text(t, b, css)
	if !ok {
		t.Fatalf("the page has no %s", css)
	}
	return s
}

// count returns how many elements css selects.
func count(t *testing.T, b *browsertest.Browser, css string) int {
	t.Helper()
	return browsertest.Eval[int](t, b, fmt.Sprintf(`document.querySelectorAll(%s).length`, js(css)))
}

// dataset returns the data-* attributes of every element css selects.
func dataset(t *testing.T, b *browsertest.Browser, css string) []map[string]string {
	t.Helper()
	return browsertest.Eval[[]map[string]string](t, b, fmt.Sprintf(`Array.from(document.querySelectorAll(%s), e => ({...e.dataset}))`, js(css)))
}

// waitCount waits until css selects at least n elements.
func waitCount(t *testing.T, b *browsertest.Browser, what, css string, n int) {
	t.Helper()
	b.WaitTrue(t, what, fmt.Sprintf(`document.querySelectorAll(%s).length >= %d`, js(css), n), hang)
}

// waitText waits until the first element css selects has text want.
func waitText(t *testing.T, b *browsertest.Browser, what, css, want string) {
	t.Helper()
	if err := b.Poll(fmt.Sprintf(`document.querySelector(%s)?.textContent.trim() === %s`, js(css), js(want)), hang); err != nil {
		got, ok := text(t, b, css)
		if !ok {
			got = "(no such element)"
		}
		t.Fatalf("the page never showed %s (%s: %q) in %s: %v; it shows %q\nconsole errors: %v", what, css, want, hang, err, got, b.Errors())
	}
}

// containsAny reports whether s contains any of subs.
func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
