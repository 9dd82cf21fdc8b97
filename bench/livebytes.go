package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

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
