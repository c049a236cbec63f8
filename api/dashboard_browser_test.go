package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"daisuso/store/storetest"

	"github.com/chromedp/cdproto/log"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium. Without it the browser test skips,
// saying how to install it, unless DAISUSO_REQUIRE_CHROMIUM is set (CI
// installs it and sets it, so that a skip cannot pass for a success there).
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("DAISUSO_REQUIRE_CHROMIUM") != "" {
		t.Fatal("Chromium is required (DAISUSO_REQUIRE_CHROMIUM) but not installed")
	}
	t.Skip("Chromium is not installed, so the dashboard is not tested in a browser; install it with: apt-get install -y chromium")
	return ""
}

// screenshotDir is where the browser test leaves its screenshots for
// review: DAISUSO_SCREENSHOTS, or a folder under the system's temp dir.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("DAISUSO_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "daisuso-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// consoleErrors collects what the page reports as errors: uncaught
// exceptions, console.error, and the browser's own log (failed loads, CSP
// violations).
type consoleErrors struct {
	mu   sync.Mutex
	list []string
}

func (c *consoleErrors) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, s)
}

// listen collects the errors of the tab ctx: uncaught exceptions,
// console.error and the browser's own error log; expected, when set, leaves
// out those the test expects (failed loads while the network is cut).
func (c *consoleErrors) listen(ctx context.Context, expected func(msg string) bool) {
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Error()
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				msg = "console.error: " + strings.Join(parts, " ")
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError {
				msg = "log: " + e.Entry.Text + " " + e.Entry.URL
			}
		}
		if msg != "" && (expected == nil || !expected(msg)) {
			c.add(msg)
		}
	})
}

func (c *consoleErrors) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.list...)
}

// phoneOverflow names the elements wider than the window that are not
// inside a box that scrolls them ("" when there are none).
const phoneOverflow = `(() => {
  const w = document.documentElement.clientWidth, out = [];
  if (document.documentElement.scrollWidth <= w) return '';
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.right > w + 1 && !e.closest('.scroll') && e.offsetParent !== null) out.push(e.tagName + (e.id ? '#' + e.id : '') + '.' + e.className + ' ' + Math.round(r.right));
  }
  return document.documentElement.scrollWidth + ' > ' + w + ': ' + out.slice(0, 12).join(', ');
})()`

func TestDashboardInBrowser(t *testing.T) {
	storetest.Long(t)
	chrome := chromiumPath(t)
	d := newDashWorld(t)
	// A mentor the far household's request has not met: only a batch run
	// brings them together.
	d.batchOnlyMentor("tuan", 0, -30.4, `["vi"]`, 5, 5)
	cov := d.get("/v1/coverage?branch_id="+d.communeA+"&res=8", d.adminA...)
	if cov.Status != http.StatusOK {
		t.Fatalf("coverage: %d %s", cov.Status, cov.Body)
	}
	wantHexes := len(cov.json(t)["features"].([]any))
	token := strings.TrimPrefix(d.adminA[1], "Bearer ")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go d.App().Listener(ln)
	t.Cleanup(func() { _ = d.App().ShutdownWithTimeout(5 * time.Second) })
	base := "http://" + ln.Addr().String()

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("lang", "vi-VN"), chromedp.WindowSize(1280, 1600))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	errs := &consoleErrors{}
	errs.listen(ctx, nil)
	shots := screenshotDir(t)
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name), buf, 0o644)
		})
	}
	// waitFor polls a JavaScript condition, failing with what the page
	// showed when it does not come true.
	waitFor := func(what, js string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			var ok bool
			if err := chromedp.Poll(js, &ok, chromedp.WithPollingInterval(100*time.Millisecond)).Do(wctx); err != nil {
				var shown string
				_ = chromedp.Evaluate(`document.body.innerText.slice(0, 1500)`, &shown).Do(ctx)
				return fmt.Errorf("%s: %w; the page shows:\n%s\nerrors: %v", what, err, shown, errs.all())
			}
			return nil
		})
	}
	firstRow := `(document.querySelector('#board tbody tr .who') || {}).textContent`

	var hexes, outlines, cellTitle, heading, bcRecipients, overflow string
	err = chromedp.Run(ctx,
		log.Enable(),
		chromedp.Navigate(base+"/dashboard"),
		chromedp.WaitVisible(`#signin-token`),
		shot("01-sign-in.png"),
		chromedp.SetValue(`#token`, token),
		chromedp.Click(`#token-go`),
		chromedp.WaitVisible(`#app`),
		// The leaderboard: this week Mai leads; over the whole campaign Hoa.
		waitFor("the week's top volunteer", firstRow+` === 'Mai'`),
		waitFor("the indicators", `document.querySelectorAll('#indicators tbody tr').length === 3`),
		waitFor("the map", `document.querySelector('#map').dataset.hexes !== undefined`),
		shot("02-dashboard-week.png"),
		chromedp.Click(`#board-period button[data-period="campaign"]`),
		waitFor("the campaign's top volunteer", firstRow+` === 'Hoa'`),
		chromedp.Click(`#board-kind button[data-board="branches"]`),
		waitFor("the branch board with the admin's branch highlighted", `document.querySelector('#board tbody tr.mine') !== null`),
		// The map: one hexagon per cell of the coverage; a click lists the cell.
		chromedp.AttributeValue(`#map`, "data-hexes", &hexes, nil),
		chromedp.Evaluate(`String(document.querySelectorAll('#map path.commune[data-commune="02728"]').length)`, &outlines),
		chromedp.Click(`#map path.hex`),
		chromedp.Text(`#cell h3`, &cellTitle),
		shot("03-dashboard-campaign-map.png"),
		// Batch matching: run, see the proposal, apply it.
		chromedp.Click(`#run-start`),
		waitFor("a proposal", `document.querySelector('#run-status').dataset.status === 'proposed' && !document.querySelector('#run-apply').disabled`),
		shot("04-matching-proposal.png"),
		chromedp.Click(`#run-apply`),
		waitFor("the proposal applied", `document.querySelector('#run-status').dataset.status === 'applied'`),
		shot("05-matching-applied.png"),
		// On a phone held upright nothing is wider than the screen.
		chromedp.EmulateViewport(390, 844),
		chromedp.Sleep(300*time.Millisecond),
		chromedp.Evaluate(phoneOverflow, &overflow),
		shot("08-phone-390.png"),
		chromedp.EmulateViewport(1280, 1600),
		// A campaign message to everyone in the commune (the volunteers here
		// have not agreed to reminders; its officers get it).
		chromedp.SetValue(`#bc-audience`, "everyone"),
		chromedp.SetValue(`#bc-title`, "Ngày hội số"),
		chromedp.SetValue(`#bc-body`, "Sáng thứ Bảy tập trung tại nhà văn hoá thôn."),
		chromedp.Click(`#bc-send`),
		waitFor("the message sent", `document.querySelector('#bc-result').dataset.recipients !== undefined`),
		chromedp.AttributeValue(`#bc-result`, "data-recipients", &bcRecipients, nil),
		// English on request.
		chromedp.Click(`#lang`),
		chromedp.Text(`#board-card h2`, &heading),
		shot("06-dashboard-english.png"),
		chromedp.Click(`#lang`),
		// The printable monthly report of the commune, also as a PDF.
		chromedp.Navigate(base+"/dashboard/report.html?commune="+d.communeA),
		waitFor("the report", `document.body.dataset.ready === 'true'`),
		shot("07-commune-report.png"),
		chromedp.ActionFunc(func(ctx context.Context) error {
			pdf, _, err := cdppage.PrintToPDF().WithPrintBackground(true).WithPaperWidth(8.27).WithPaperHeight(11.69).Do(ctx)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, "07-commune-report.pdf"), pdf, 0o644)
		}),
	)
	if err != nil {
		t.Fatal(err)
	}
	if hexes != fmt.Sprint(wantHexes) || wantHexes < 2 {
		t.Errorf("the map drew %s hexagons; the coverage has %d", hexes, wantHexes)
	}
	// A cell is named by the commune it lies in, over the commune's
	// official outline.
	if !strings.HasPrefix(cellTitle, "Ô ") || !strings.Contains(cellTitle, "Xã ") {
		t.Errorf("clicking a hexagon: %q", cellTitle)
	}
	if outlines != "1" {
		t.Errorf("the map drew %s outlines of Mường Hum, want 1", outlines)
	}
	if overflow != "" {
		t.Errorf("at 390 px the page is wider than the screen: %s", overflow)
	}
	if heading != "Leaderboard" {
		t.Errorf("English heading: %q", heading)
	}
	if bcRecipients == "" || bcRecipients == "0" {
		t.Errorf("broadcast recipients: %q", bcRecipients)
	}
	var reportHexes string
	if err := chromedp.Run(ctx, chromedp.AttributeValue(`#map`, "data-hexes", &reportHexes, nil)); err != nil || reportHexes == "0" {
		t.Errorf("report map: %q %v", reportHexes, err)
	}
	// Applying really matched the far household to Tuấn.
	q := d.get("/v1/help-requests?commune_id="+d.communeA, d.adminA...)
	if q.Status != http.StatusOK || q.json(t)["total"] != 0.0 {
		t.Errorf("the queue after applying: %d %s", q.Status, q.Body)
	}
	if e := errs.all(); len(e) > 0 {
		t.Errorf("the page reported errors:\n%s", strings.Join(e, "\n"))
	}
	t.Logf("screenshots and the report's PDF are in %s", shots)
}
