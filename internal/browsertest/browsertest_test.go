package browsertest_test

import (
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/labsea/metricsender/internal/browsertest"
)

// serve answers each path with its page.
func serve(t *testing.T, pages map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		page, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const head = `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>t</title></head><body>`

func TestConsoleErrorsAreCollected(t *testing.T) {
	b := browsertest.Start(t)
	url := serve(t, map[string]string{
		"/clean": head + `<p id="done"></p><script>console.log("hello"); setTimeout(() => { document.getElementById("done").textContent = "yes"; }, 100);</script>`,
		"/noisy": head + `<script>console.error("it broke", 42); setTimeout(() => { throw new Error("uncaught boom"); }, 0); Promise.reject(new Error("nobody caught me"));</script><img src="/missing.png">`,
	})

	b.Navigate(t, url+"/clean")
	b.WaitTrue(t, "the timer's text", `document.getElementById("done").textContent === "yes"`, 30*time.Second)
	if errs := b.Errors(); len(errs) != 0 {
		t.Fatalf("a clean page: got console errors %v", errs)
	}
	var sawLog bool
	for _, m := range b.Console() {
		sawLog = sawLog || (m.Type == chromedp.ConsoleLog && m.Text == "hello")
	}
	if !sawLog {
		t.Errorf("console.log(\"hello\") not collected: %v", b.Console())
	}

	b.Navigate(t, url+"/noisy")
	want := []string{"it broke 42", "uncaught boom", "nobody caught me", "404"}
	b.WaitTrue(t, "the failed image", `document.images[0].complete`, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second) // only catches a hang
	for {
		var all []string
		for _, m := range b.Errors() {
			all = append(all, m.String())
		}
		joined := strings.Join(all, "\n")
		missing := 0
		for _, w := range want {
			if !strings.Contains(joined, w) {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("console errors lack some of %q:\n%s", want, joined)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestEvalAndScreenshot(t *testing.T) {
	b := browsertest.Start(t)
	url := serve(t, map[string]string{"/": head + `<input id="q"><ul id="out"></ul><script>
document.getElementById("q").addEventListener("input", e => { document.getElementById("out").textContent = e.target.value.toUpperCase(); });
</script>`})
	b.Navigate(t, url+"/")
	b.Do(t, "type into #q", chromedp.SendKeys(chromedp.ID("q"), "app-7"))
	if got := browsertest.Eval[string](t, b, `document.getElementById("out").textContent`); got != "APP-7" {
		t.Errorf("the page shows %q after typing app-7, want APP-7", got)
	}
	path := t.TempDir() + "/shot.png"
	b.Screenshot(t, path)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is no PNG: %v", err)
	}
	if got := img.Bounds().Dx(); got != 1280 {
		t.Errorf("the screenshot is %d px wide, want the window's 1280", got)
	}
	b.NoErrors(t)
}
