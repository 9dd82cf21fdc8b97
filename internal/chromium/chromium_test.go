package chromium_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/labsea/metricsender/internal/chromium"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "chromium")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		wantErr    []string // "" for none
	}{
		{"an executable file", exe, nil},
		{"missing: the error names the path, the variable and the install", filepath.Join(dir, "nope"), []string{"nope", chromium.PathEnv, chromium.Install}},
		{"not executable", plain, []string{"plain", "not an executable file"}},
		{"a directory", dir, []string{"not an executable file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(chromium.PathEnv, tt.path)
			got, err := chromium.Find()
			if tt.wantErr == nil {
				if err != nil || got != tt.path {
					t.Fatalf("Find() = %q, %v; want %q", got, err, tt.path)
				}
				return
			}
			if err == nil {
				t.Fatalf("Find() = %q, want an error", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

func TestArgs(t *testing.T) {
	args := chromium.Args("/tmp/profile")
	if got := args[len(args)-1]; got != "--user-data-dir=/tmp/profile" {
		t.Errorf("last argument %q, want the profile", got)
	}
	for _, want := range []string{"--headless", "--no-sandbox", "--disable-background-networking"} {
		if !strings.Contains(strings.Join(args, " "), want) {
			t.Errorf("args %q lack %s", args, want)
		}
	}
	if s := chromium.Switches(); &s[0] == &chromium.Switches()[0] {
		t.Error("Switches returns the same slice twice: a caller could change another's")
	}
}
