package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labsea/metricsender/internal/chromium"
)

// Issue 25's cost of the live page.
const (
	liveFollowed    = "app-1" // the deployment the browser follows
	liveDeployments = 10_000  // the bytes-per-tick run's size
	liveTicks       = 12      // its ticks, 1 s apart
	liveStreamsGone = "metricsender_live_streams 0"
)

// liveResult is the live row: the send row's CLI run with one browser on
// its page against none, and what the page's stream costs per tick.
type liveResult struct {
	browser     error  // why there is no browser side, nil when there is
	with, none  series // CLI send --count 100, 100,000 msgs
	perTick     float64
	perTick16   float64
	pageBytes   int
	streamTicks int
}

// liveRow measures, in alternating order each round, `send --count 100`
// of the send row (confirms on) with a headless Chromium on its live page
// following one deployment and with none, the browser connected before
// the first tick (the sender dials the broker through a proxy held until
// then); then the event stream's bytes per tick at 10,000 deployments.
// Without a browser the first part is left out and says why.
func (b *bench) liveRow(ctx context.Context) (liveResult, error) {
	var res liveResult
	if _, err := chromium.Find(); err != nil {
		res.browser = err
	} else {
		queue := "bench.live." + strconv.Itoa(os.Getpid())
		if err := b.br.declareQueue(queue, []string{"Metrics.*"}, nil); err != nil {
			return res, err
		}
		defer func() { _ = b.br.deleteQueue(queue) }()
		for r := range b.opts.rounds {
			for i := range 2 {
				withBrowser := (i == 0) == (r%2 == 0)
				s, err := b.liveSend(ctx, withBrowser)
				if err != nil {
					return res, fmt.Errorf("live round %d (browser %t): %w", r+1, withBrowser, err)
				}
				n, err := b.br.settle(queue, len(b.msgs))
				if err != nil {
					return res, err
				}
				if err := b.br.purge(queue); err != nil {
					return res, err
				}
				b.log.Info("live", "round", r+1, "browser", withBrowser, "rate", fmtRate(s.rate()), "took", s.dur.Round(time.Millisecond), "in_queue", n)
				if n != len(b.msgs) {
					return res, fmt.Errorf("live round %d (browser %t): queue holds %d messages, want exactly %d", r+1, withBrowser, n, len(b.msgs))
				}
				if withBrowser {
					res.with = append(res.with, s)
				} else {
					res.none = append(res.none, s)
				}
			}
		}
	}
	var err error
	if res.perTick, res.streamTicks, res.pageBytes, err = b.liveBytes(ctx, 1); err != nil {
		return res, err
	}
	res.perTick16, _, _, err = b.liveBytes(ctx, 16)
	return res, err
}

// liveSend runs the send row's CLI side once (confirms on) with
// --http-addr, through a held proxy, and with a browser on the page
// following liveFollowed when withBrowser: the proxy lets the sender reach
// the broker only once the page's stream is connected.
func (b *bench) liveSend(ctx context.Context, withBrowser bool) (sample, error) {
	u, err := url.Parse(b.opts.uri)
	if err != nil {
		return sample{}, fmt.Errorf("-uri: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = "5672"
	}
	proxy, err := newHeldProxy(net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return sample{}, err
	}
	defer proxy.close()
	u.Host = proxy.addr()
	addr, err := freeAddr()
	if err != nil {
		return sample{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		r   cliRun
		err error
	}
	done := make(chan result, 1)
	br0 := b.br.cpu()
	go func() {
		r, err := runCLI(ctx, []string{b.opts.bin}, []string{"send", "--config", b.cfgPath, "--interval", "1ms",
			"--count", strconv.Itoa(sendTicks), "--confirm=true", "--http-addr", addr,
			"--uri", u.String(), "--exchange", b.opts.exchange, "--seed", "1", "--log-format", "json"}, nil, b.opts.cliEnv...)
		done <- result{r, err}
	}()
	if err := waitMetric(ctx, addr, "", done); err != nil {
		return sample{}, err
	}
	if withBrowser {
		stop, err := openBrowser(ctx, b.dir, "http://"+addr+"/?select="+liveFollowed)
		if err != nil {
			return sample{}, err
		}
		defer stop()
		if err := waitMetric(ctx, addr, "metricsender_live_streams 1", done); err != nil {
			return sample{}, fmt.Errorf("the browser's page never connected its stream: %w", err)
		}
	}
	proxy.release()
	r := <-done
	if r.err != nil {
		return sample{}, r.err
	}
	start, span, n := r.r.tickSpan()
	return sample{msgs: n, start: start, dur: span, wall: r.r.wall, cpu: r.r.cpu, broker: b.br.cpu() - br0, rss: r.r.maxRSS}, nil
}

// openBrowser starts a headless Chromium on pageURL with a fresh profile
// under dir; stop kills it and removes the profile.
func openBrowser(ctx context.Context, dir, pageURL string) (stop func(), err error) {
	profile, err := os.MkdirTemp(dir, "chromium-")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd, err := chromium.Command(ctx, profile, pageURL)
	if err != nil {
		cancel()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	return func() {
		cancel()
		_ = cmd.Wait()
		_ = os.RemoveAll(profile)
	}, nil
}

// waitMetric polls addr's /metrics until a line equals want ("" : until it
// answers at all), or the process behind it ends (done).
func waitMetric[T any](ctx context.Context, addr, want string, done <-chan T) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if body, err := get(ctx, "http://"+addr+"/metrics"); err == nil && (want == "" || slices.Contains(strings.Split(body, "\n"), want)) {
			return nil
		}
		select {
		case r := <-done:
			return fmt.Errorf("send ended before %s: %v", cmpText(want, "/metrics answered"), r)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s on http://%s/metrics after 2 min", cmpText(want, "answer"), addr)
		}
	}
}

func cmpText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func get(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return string(body), err
}

// freeAddr is a free loopback port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// liveBytes runs `send` with liveDeployments deployments, one tick a
// second, and reads its event stream as a page following the first
// follow deployments would, counting bytes; it returns the bytes per tick
// between the second run event and the last before the end (the first
// points document replays the ring), how many ticks that covered, and
// what the page itself costs to load once (HTML, script, style, the list).
func (b *bench) liveBytes(ctx context.Context, follow int) (perTick float64, ticks, page int, err error) {
	path, err := writeConfig(b.dir, liveDeployments)
	if err != nil {
		return 0, 0, 0, err
	}
	cleanup, err := b.scaleQueue()
	if err != nil {
		return 0, 0, 0, err
	}
	defer cleanup()
	addr, err := freeAddr()
	if err != nil {
		return 0, 0, 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := runCLI(ctx, []string{b.opts.bin}, []string{"send", "--config", path, "--interval", "1s",
			"--count", strconv.Itoa(liveTicks), "--http-addr", addr, "--uri", b.opts.uri, "--exchange", b.opts.exchange,
			"--seed", "1", "--log-format", "json"}, nil, b.opts.cliEnv...)
		done <- err
	}()
	if err := waitMetric(ctx, addr, "", done); err != nil {
		return 0, 0, 0, err
	}
	q := url.Values{}
	for i := range follow {
		q.Add("select", appName(i+1))
	}
	if page, err = pageBytes(ctx, addr); err != nil {
		return 0, 0, 0, err
	}
	perTick, ticks, err = streamBytes(ctx, "http://"+addr+"/v1/events?"+q.Encode())
	if err != nil {
		return 0, 0, 0, err
	}
	if err := <-done; err != nil {
		return 0, 0, 0, err
	}
	return perTick, ticks, page, nil
}

// pageBytes is what a browser fetches once to show the page: the HTML,
// every /assets/ file it names, and the list's first 200 names.
func pageBytes(ctx context.Context, addr string) (int, error) {
	html, err := get(ctx, "http://"+addr+"/")
	if err != nil {
		return 0, err
	}
	n := len(html)
	for _, part := range strings.Split(html, `"/assets/`)[1:] {
		name, _, _ := strings.Cut(part, `"`)
		body, err := get(ctx, "http://"+addr+"/assets/"+name)
		if err != nil {
			return 0, err
		}
		n += len(body)
	}
	list, err := get(ctx, "http://"+addr+"/v1/live/deployments")
	if err != nil {
		return 0, err
	}
	return n + len(list), nil
}

// streamBytes reads an event stream until its end event and returns the
// bytes per tick between its second run event and its last one before
// the end, and the ticks between them.
func streamBytes(ctx context.Context, u string) (float64, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	var runs []runMark
	total := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		total += len(line) + 1
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var doc struct {
			Type  string `json:"type"`
			Ticks int    `json:"ticks"`
			Ended bool   `json:"ended"`
		}
		if err := json.Unmarshal([]byte(data), &doc); err != nil {
			return 0, 0, fmt.Errorf("event stream: %w: %s", err, data)
		}
		switch {
		case doc.Type == "end":
			return bytesPerTick(runs)
		case doc.Type == "run" && !doc.Ended:
			runs = append(runs, runMark{total, doc.Ticks})
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return 0, 0, fmt.Errorf("event stream: %w", err)
	}
	return 0, 0, errors.New("event stream: ended without an end event")
}

// runMark is where a run event ended in a stream: the bytes read so far
// and the ticks it reported.
type runMark struct{ bytes, ticks int }

// bytesPerTick is the bytes per tick from the second run event to the
// last: the first one's share holds the hello and the rings' replay.
func bytesPerTick(runs []runMark) (float64, int, error) {
	if len(runs) < 3 {
		return 0, 0, fmt.Errorf("event stream: %d run events, want at least 3", len(runs))
	}
	first, last := runs[1], runs[len(runs)-1]
	ticks := last.ticks - first.ticks
	if ticks <= 0 {
		return 0, 0, fmt.Errorf("event stream: no tick between the run events %d and %d", 2, len(runs))
	}
	return float64(last.bytes-first.bytes) / float64(ticks), ticks, nil
}

// addLive: the live page's cost. The first row is the send row's CLI
// side with a browser on the page against none (target: within 5%); the
// second what the page's stream sends per tick at 10,000 deployments.
func (t *table) addLive(r liveResult) {
	what := "live page: CLI `send --count 100`, confirms on, one headless Chromium following " + liveFollowed + " vs none (the ratio's baseline)"
	if r.browser != nil {
		t.rows = append(t.rows, fmt.Sprintf("| %s | >= 0.95x | not measured: no browser (%v) | - | - | - |", what, r.browser))
	} else {
		t.compare(what, 0.95, r.with, r.none, "")
		t.cpuRow("send confirm: CLI, browser on the live page", r.with)
		t.cpuRow("send confirm: CLI, no browser", r.none)
	}
	perDeployment := (r.perTick16 - r.perTick) / 15
	t.rows = append(t.rows, fmt.Sprintf("| live page at %d deployments, 1 s ticks: bytes per tick of its event stream | bounded by the selection, not the deployments | %.0f B/tick following 1, %.0f B/tick following 16 (the most; about %.0f B per followed deployment), over %d ticks; the page itself %d B once | - | - | %s |",
		liveDeployments, r.perTick, r.perTick16, perDeployment, r.streamTicks, r.pageBytes, verdict(r.perTick16 < 64<<10)))
}
