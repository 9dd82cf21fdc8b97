package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// cliRun is one finished run of the metricsender binary.
type cliRun struct {
	wall   time.Duration // process start to exit
	cpu    time.Duration // user+system CPU of the process
	maxRSS int64         // peak resident set (VmHWM), bytes
	logs   []logLine
	stderr []byte
}

// logLine is one JSON log line of metricsender (--log-format json). slog
// writes durations as nanoseconds and the time with milliseconds.
type logLine struct {
	Time     time.Time     `json:"time"`
	Msg      string        `json:"msg"`
	At       time.Duration `json:"at"`
	Messages int           `json:"messages"`
	Lag      time.Duration `json:"lag"`
	Took     time.Duration `json:"took"`
	Sent     int           `json:"sent"`
	Received int           `json:"received"`
}

// runCLI runs bin (the binary and any leading arguments) with args, stdout to out (nil: discarded), and parses
// its stderr as JSON log lines. env is added to the environment. It fails
// when the process exits non-zero.
func runCLI(ctx context.Context, bin []string, args []string, out io.Writer, env ...string) (cliRun, error) {
	cmd := exec.CommandContext(ctx, bin[0], append(bin[1:len(bin):len(bin)], args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out == nil {
		devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return cliRun{}, fmt.Errorf("open %s: %w", os.DevNull, err)
		}
		defer devnull.Close()
		out = devnull // an *os.File: the child writes to it directly
	}
	cmd.Stdout = out
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return cliRun{}, fmt.Errorf("start %s: %w", bin[0], err)
	}
	// The child's rusage Maxrss is no good here: Go starts children with
	// vfork semantics, so it counts this process's RSS before the exec.
	// VmHWM is the child's own high-water mark; poll it until it exits.
	stopPoll := make(chan struct{})
	peak := make(chan int64, 1)
	go func() { peak <- pollHWM(cmd.Process.Pid, stopPoll) }()
	err := cmd.Wait()
	close(stopPoll)
	r := cliRun{wall: time.Since(start), stderr: stderr.Bytes(), maxRSS: <-peak}
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	sc := bufio.NewScanner(bytes.NewReader(r.stderr))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg != "" {
			r.logs = append(r.logs, l)
		}
	}
	if err != nil {
		return r, fmt.Errorf("%s %v: %w\n%s", bin, args, err, tail(r.stderr, 2000))
	}
	return r, nil
}

// ticks returns the tick log lines.
func (r cliRun) ticks() []logLine {
	var t []logLine
	for _, l := range r.logs {
		if l.Msg == "tick" {
			t = append(t, l)
		}
	}
	return t
}

// line returns the first log line with msg, or false.
func (r cliRun) line(msg string) (logLine, bool) {
	for _, l := range r.logs {
		if l.Msg == msg {
			return l, true
		}
	}
	return logLine{}, false
}

// tickSpan is the start of the first tick (its log time minus its took),
// the time from there to the end of the last, and the messages sent in
// between: the send rate without process start-up and broker connection.
func (r cliRun) tickSpan() (time.Time, time.Duration, int) {
	t := r.ticks()
	if len(t) == 0 {
		return time.Time{}, 0, 0
	}
	n := 0
	for _, l := range t {
		n += l.Messages
	}
	start := t[0].Time.Add(-t[0].Took)
	return start, t[len(t)-1].Time.Sub(start), n
}

// pollHWM returns the largest VmHWM of pid read every 10 ms until stop.
func pollHWM(pid int, stop <-chan struct{}) int64 {
	path := fmt.Sprintf("/proc/%d/status", pid)
	var peak int64
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if raw, err := os.ReadFile(path); err == nil {
			for line := range strings.Lines(string(raw)) {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kib, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
					peak = max(peak, kib*1024)
				}
			}
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
