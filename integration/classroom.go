package integration

// The classroom in tests: `klassik ui` as a process, like the brokers, and its page in a real
// headless Chromium driven by chromedp, with any console error or exception failing the test.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ClassroomBrokers gives every broker an HTTP listener (metrics.listener on a free port, which
// the broker registers as jmx_port) and turns on the fault endpoints, as the compose cluster
// does, so the classroom sees offsets and events and scenarios can inject faults.
func ClassroomBrokers() Option {
	return func(o *options) {
		BrokerConfig("metrics.listener", "127.0.0.1:0")(o)
		BrokerConfig("klassik.faults.enable", true)(o)
	}
}

// UI is a running `klassik ui`.
type UI struct {
	URL  string
	proc *process
	log  string
}

// StartUI starts `klassik ui` against the cluster's ZooKeeper ensemble and brokers, and waits
// until it answers GET /api/cluster.
func (c *Cluster) StartUI(t testing.TB) *UI {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", c.port())
	u := &UI{URL: "http://" + addr, log: filepath.Join(c.dir, "ui.log")}
	p, err := startProcess("ui", u.log, c.dir, brokerEnv(), klassikBin, "ui",
		"--zookeeper", c.ZKConnect(), "--bootstrap-server", c.BootstrapServers(), "--listen", addr)
	if err != nil {
		t.Fatal(err)
	}
	u.proc = p
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("klassik ui log (last lines):\n%s", tailFile(u.log, 40))
		}
	})
	eventually(t, 20*time.Second, func() error {
		if p.exited() {
			t.Fatalf("klassik ui exited:\n%s", tailFile(u.log, 40))
		}
		resp, err := http.Get(u.URL + "/api/cluster")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /api/cluster: %s", resp.Status)
		}
		return nil
	})
	return u
}

// Page is the classroom page in a headless Chromium.
type Page struct {
	t   testing.TB
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

// chromiumPath is Debian's chromium, or $CHROMIUM.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// OpenPage loads url in a new headless Chromium. The test fails, at its end, for every
// JavaScript console error or uncaught exception the page produced.
func OpenPage(t testing.TB, url string) *Page {
	t.Helper()
	if _, err := os.Stat(chromiumPath()); err != nil {
		t.Skipf("no Chromium at %s (apt-get install chromium): %v", chromiumPath(), err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath()), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1600, 1200), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	p := &Page{t: t, ctx: ctx}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError {
				var args []string
				for _, a := range ev.Args {
					args = append(args, strings.Trim(string(a.Value), `"`)+a.Description)
				}
				p.addError("console.error: " + strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			p.addError(fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		}
	})
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, e := range p.errors {
			t.Errorf("the page's JavaScript: %s", e)
		}
	})
	// The first Run starts the browser, which lives as long as that Run's context: no timeout
	// on it, only on the actions after it.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	if err := chromedp.Run(tctx, chromedp.Navigate(url), chromedp.WaitVisible("#brokers", chromedp.ByID)); err != nil {
		t.Fatalf("open %s in Chromium: %v", url, err)
	}
	return p
}

func (p *Page) addError(s string) {
	p.mu.Lock()
	p.errors = append(p.errors, s)
	p.mu.Unlock()
}

// Eval evaluates a JavaScript expression in the page into out.
func (p *Page) Eval(js string, out any) error {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate(js, out))
}

// Run runs chromedp actions with a timeout.
func (p *Page) Run(timeout time.Duration, actions ...chromedp.Action) error {
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	return chromedp.Run(ctx, actions...)
}

// WaitFor polls f every 20 ms until it returns nil, and returns when it first did; the test
// fails with f's last error after timeout.
func (p *Page) WaitFor(timeout time.Duration, f func() error) time.Time {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return time.Now()
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the page still does not show it after %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond) // polling the page, with a deadline
	}
}

// ArtifactsDir is $KLASSIK_ARTIFACTS, or integration/artifacts.
func ArtifactsDir() string {
	if d := os.Getenv("KLASSIK_ARTIFACTS"); d != "" {
		return d
	}
	return "artifacts"
}

// Screenshot writes the whole page as a PNG into ArtifactsDir and returns its path.
func (p *Page) Screenshot(name string) string {
	p.t.Helper()
	var buf []byte
	if err := p.Run(20*time.Second, chromedp.FullScreenshot(&buf, 100)); err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	dir := ArtifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
	abs, _ := filepath.Abs(path)
	p.t.Logf("screenshot: %s", abs)
	return abs
}
