package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labsea/metricsender/internal/chromium"
)

// Issue 25's cost of the live page.
const (
	liveFollowed    = "app-1" // the deployment the page follows
	liveDeployments = 10_000  // the bytes-per-tick run's size
	liveTicks       = 12      // its ticks, 1 s apart
)

// The sides of the live row: nobody on the page, its event stream read
// by a plain HTTP client (the sender's own cost), a headless Chromium on
// the page (the case: what the sender pays, plus the browser's
// share of this machine's two cores).
var liveSides = []string{"none", "stream", "browser"}

// liveResult is the live row: the send row's CLI run per side, and what
// the page's stream costs per tick.
type liveResult struct {
	browser      error // why there is no browser side, nil when there is
	none, stream series
	with         series          // the browser side
	chromiumCPU  []time.Duration // the browser's CPU during each timed run
	perTick      float64
	perTick16    float64
	pageBytes    int
	streamTicks  int
}

// liveRow measures `send --count 100` of the send row (confirms on) per
// side, the sides' order rotating each round, the page's stream connected
// before the first tick (the sender dials the broker through a proxy held
// until then); then the event stream's bytes per tick at 10,000
// deployments. Without a browser its side is left out and says why.
func (b *bench) liveRow(ctx context.Context) (liveResult, error) {
	var res liveResult
	sides := liveSides
	if _, err := chromium.Find(); err != nil {
		res.browser, sides = err, sides[:2]
	}
	queue := "bench.live." + strconv.Itoa(os.Getpid())
	if err := b.br.declareQueue(queue, []string{"Metrics.*"}, nil); err != nil {
		return res, err
	}
	defer func() { _ = b.br.deleteQueue(queue) }()
	for r := range b.opts.rounds {
		for i := range sides {
			side := sides[(i+r)%len(sides)]
			s, browserCPU, err := b.liveSend(ctx, side)
			if err != nil {
				return res, fmt.Errorf("live round %d %s: %w", r+1, side, err)
			}
			n, err := b.br.settle(queue, len(b.msgs))
			if err != nil {
				return res, err
			}
			if err := b.br.purge(queue); err != nil {
				return res, err
			}
			b.log.Info("live", "round", r+1, "side", side, "rate", fmtRate(s.rate()), "took", s.dur.Round(time.Millisecond),
				"in_queue", n, "chromium_cpu", browserCPU)
			if n != len(b.msgs) {
				return res, fmt.Errorf("live round %d %s: queue holds %d messages, want exactly %d", r+1, side, n, len(b.msgs))
			}
			switch side {
			case "none":
				res.none = append(res.none, s)
			case "stream":
				res.stream = append(res.stream, s)
			case "browser":
				res.with = append(res.with, s)
				res.chromiumCPU = append(res.chromiumCPU, browserCPU)
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
// --http-addr, through a held proxy, with side's client on the page
// following liveFollowed: the proxy lets the sender reach the broker only
// once that client's stream is connected (and a browser has settled). It
// returns the sample and the browser's CPU during the run.
func (b *bench) liveSend(ctx context.Context, side string) (sample, time.Duration, error) {
	u, err := url.Parse(b.opts.uri)
	if err != nil {
		return sample{}, 0, fmt.Errorf("-uri: %w", err)
	}
	port := u.Port()
	if port == "" {
		port = "5672"
	}
	proxy, err := newHeldProxy(net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return sample{}, 0, err
	}
	defer proxy.close()
	u.Host = proxy.addr()
	addr, err := freeAddr()
	if err != nil {
		return sample{}, 0, err
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
		return sample{}, 0, err
	}
	page := "http://" + addr + "/?select=" + liveFollowed
	browserCPU := func() time.Duration { return 0 }
	switch side {
	case "stream":
		go readStream(ctx, "http://"+addr+"/v1/events?select="+liveFollowed)
	case "browser":
		pid, stop, err := openBrowser(ctx, b.dir, page)
		if err != nil {
			return sample{}, 0, err
		}
		defer stop()
		browserCPU = func() time.Duration { return treeCPU(pid) }
	}
	if side != "none" {
		if err := waitMetric(ctx, addr, "metricsender_live_streams 1", done); err != nil {
			return sample{}, 0, fmt.Errorf("the page's stream never connected: %w", err)
		}
	}
	if side == "browser" {
		settle(browserCPU)
	}
	cpu0 := browserCPU()
	proxy.release()
	r := <-done
	if r.err != nil {
		return sample{}, 0, r.err
	}
	start, span, n := r.r.tickSpan()
	return sample{msgs: n, start: start, dur: span, wall: r.r.wall, cpu: r.r.cpu, broker: b.br.cpu() - br0, rss: r.r.maxRSS},
		browserCPU() - cpu0, nil
}

// settle waits, up to 15 s, until a browser uses less than a tenth of a
// core over half a second: the page loaded and drawn, the steady state of
// a person watching, not the browser's start.
func settle(cpu func() time.Duration) {
	const window = 500 * time.Millisecond
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		before := cpu()
		time.Sleep(window)
		if cpu()-before < window/10 {
			return
		}
	}
}

// readStream reads an event stream to nowhere until ctx ends: a client
// of the page's data that draws nothing.
func readStream(ctx context.Context, u string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
}

// openBrowser starts a headless Chromium on pageURL with a fresh profile
// under dir; stop kills it and removes the profile.
func openBrowser(ctx context.Context, dir, pageURL string) (pid int, stop func(), err error) {
	profile, err := os.MkdirTemp(dir, "chromium-")
	if err != nil {
		return 0, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd, err := chromium.Command(ctx, profile, pageURL)
	if err != nil {
		cancel()
		return 0, nil, err
	}
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		cancel()
		return 0, nil, fmt.Errorf("start chromium: %w", err)
	}
	return cmd.Process.Pid, func() {
		cancel()
		_ = cmd.Wait()
		_ = os.RemoveAll(profile)
	}, nil
}

// treeCPU is the CPU time so far of pid and every process below it (a
// browser's renderer, GPU and utility processes), 0 for what cannot be
// read.
func treeCPU(pid int) time.Duration {
	parent := map[int]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(raw), ')')
		fields := strings.Fields(string(raw[i+1:]))
		if i < 0 || len(fields) < 2 {
			continue
		}
		p, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f, "/proc/"), "/stat"))
		parent[p], _ = strconv.Atoi(fields[1])
	}
	var total time.Duration
	for p := range parent {
		for q := p; q > 1; q = parent[q] {
			if q == pid {
				d, _ := procCPU(p)
				total += d
				break
			}
		}
	}
	return total
}

// waitMetric polls addr's /metrics until a line equals want ("": until it
// answers at all), or the process behind it ends (done).
func waitMetric[T any](ctx context.Context, addr, want string, done <-chan T) error {
	what := want
	if what == "" {
		what = "answer"
	}
	for deadline := time.Now().Add(2 * time.Minute); ; {
		if body, err := get(ctx, "http://"+addr+"/metrics"); err == nil && (want == "" || slices.Contains(strings.Split(body, "\n"), want)) {
			return nil
		}
		select {
		case r := <-done:
			return fmt.Errorf("send ended before its /metrics showed %s: %v", what, r)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no %s on http://%s/metrics after 2 min", what, addr)
		}
	}
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
