// Package browsertest starts headless Chromium for the tests of the demo
// page. Without a browser a test is skipped on a developer's machine and
// fails under CI (CI set), where .ci/run installs Debian's chromium.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// EnvChromium names a variable that overrides where the browser is.
const EnvChromium = "YANZHEN_CHROMIUM"

// Browser is one headless Chromium with one tab, closed when the test ends.
type Browser struct {
	// Ctx is the chromedp context of the tab: pass it to chromedp.Run.
	Ctx context.Context

	mu       sync.Mutex
	problems []string
}

// Find returns the path of the browser: $YANZHEN_CHROMIUM, /usr/bin/chromium,
// or chromium, chromium-browser or google-chrome on the PATH; "" when none is there.
func Find() string {
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless Chromium with a new empty profile and a window of
// width × height, with no network of its own beyond what the page asks for.
// It skips t when there is no browser, or fails it when CI is set.
func New(t testing.TB, width, height int) *Browser {
	t.Helper()
	path := Find()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("browsertest: Chromium not found and CI is set: install it (apt-get install -y chromium) or set " + EnvChromium)
		}
		t.Skip("browsertest: Chromium not found; install it (apt-get install -y chromium) or set " + EnvChromium + " to run the browser test")
	}
	profile, err := os.MkdirTemp("", "yanzhen-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// /dev/shm is small in containers, and Chromium crashes when it fills.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.WindowSize(width, height),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	b := &Browser{Ctx: ctx}
	// The first Run starts the browser; it must not carry a deadline.
	if _, err := chromedp.Run(ctx, chromedp.Title()); err != nil {
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(profile)
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	consoleCtx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(consoleCtx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
				b.mu.Lock()
				b.problems = append(b.problems, string(m.Type)+": "+m.Text)
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		stopConsole()
		<-done
		_ = chromedp.Cancel(ctx)
		cancel()
		cancelAlloc()
		removeProfile(profile)
	})
	return b
}

// Problems returns the uncaught exceptions and console errors of the page so far.
func (b *Browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Drive returns step, which does steps in the tab (what names them in a
// failure, followed by what more returns, if not nil), and eval, which
// returns the string of a JavaScript expression; both fail t after timeout.
func (b *Browser) Drive(t testing.TB, timeout time.Duration, more func() string) (step func(what string, steps ...chromedp.Action[chromedp.Void]), eval func(expr string) string) {
	ctx, cancel := context.WithTimeout(b.Ctx, timeout)
	t.Cleanup(cancel)
	step = func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			if more != nil {
				t.Fatalf("%s: %v\n%s", what, err, more())
			}
			t.Fatalf("%s: %v", what, err)
		}
	}
	eval = func(expr string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return v
	}
	return step, eval
}

// Screenshot saves a PNG of the window at path, creating its folder.
func (b *Browser) Screenshot(t testing.TB, path string) {
	t.Helper()
	png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("browsertest: screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// removeProfile removes the profile folder; Chromium's helpers may still
// write in it for a moment after the browser stopped.
func removeProfile(dir string) {
	for range 50 {
		if err := os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
