package app

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
)

// The unknown-command error lists the commands the app has, read from the
// app itself: compared here with newApp's commands, not with a list
// written out again.
func TestUnknownCommandListsTheCommands(t *testing.T) {
	var want []string
	for _, cmd := range newApp(io.Discard, io.Discard).Commands {
		if !cmd.Hidden {
			want = append(want, cmd.Name)
		}
	}
	var stderr strings.Builder
	code := RunContext(context.Background(), []string{"metricsender", "nosuch"}, io.Discard, &stderr)
	if code != exitUsage {
		t.Fatalf("exit %d, want %d: %s", code, exitUsage, stderr.String())
	}
	_, rest, ok := strings.Cut(stderr.String(), `unknown command "nosuch" (commands: `)
	list, _, closed := strings.Cut(rest, ")")
	if !ok || !closed {
		t.Fatalf("no command list in %q", stderr.String())
	}
	got := strings.Split(list, ", ")
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want the app's commands %v", got, want)
	}
	// The command the list once left out.
	if !slices.Contains(got, "operator") {
		t.Errorf("listed %v: operator missing", got)
	}
	if slices.Contains(got, "help") {
		t.Errorf("listed %v: help is hidden, not a command to suggest", got)
	}
}
