package live_test

import (
	"io"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/labsea/metricsender/live"
)

// get fetches url, wants 200 and a Content-Type starting with ctype, and
// returns the body.
func get(t *testing.T, url, ctype string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
		t.Fatalf("GET %s: %d %s, want 200 %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), ctype)
	}
	return string(b)
}

// The page works offline: every file it loads is embedded and served
// from /assets/, and no embedded file names a URL on another host. The
// only absolute URLs allowed are XML namespace names, which a browser
// never fetches.
func TestPageIsOffline(t *testing.T) {
	_, srv := newHub(t, live.Config{})
	page := get(t, srv.URL+"/", "text/html")
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("the page loads %d files, want its script and style", len(refs))
	}
	for _, r := range refs {
		if strings.HasPrefix(r[1], "data:") {
			continue // inline (an empty icon): nothing is fetched
		}
		if !strings.HasPrefix(r[1], "/assets/") {
			t.Errorf("the page loads %q, want a file under /assets/", r[1])
			continue
		}
		get(t, srv.URL+r[1], "")
	}
	for _, id := range []string{`data-testid="conn"`, `data-testid="judge-line"`, `data-testid="filter"`, `data-testid="run-published"`} {
		if !strings.Contains(page, id) {
			t.Errorf("the page has no %s (docs/live.md lists it)", id)
		}
	}

	url := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s"'<>)]*`)
	namespace := regexp.MustCompile(`^http://www\.w3\.org/\d{4}/(svg|xhtml)$`)
	err := fs.WalkDir(live.Assets(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(live.Assets(), path)
		if err != nil {
			return err
		}
		for _, u := range url.FindAllString(string(b), -1) {
			if !namespace.MatchString(u) {
				t.Errorf("%s names %q: the page must not load anything from another host", path, u)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(srv.URL + "/nope"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /nope: %v %v, want 404 (only / is the page)", resp.StatusCode, err)
	}
}
