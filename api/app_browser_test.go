package api

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/people"
	"daisuso/store/storetest"
)

// switchProxy stands between the browser and the server: down, it refuses
// every connection and cuts those open, as when a phone loses its signal;
// the service worker's requests are cut too, which page-level network
// emulation would not do.
type switchProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newSwitchProxy(t *testing.T, target string) *switchProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &switchProxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *switchProxy) serve(c net.Conn) {
	p.mu.Lock()
	if p.down {
		p.mu.Unlock()
		c.Close()
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		p.mu.Unlock()
		c.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

func (p *switchProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for c := range p.conns {
			c.Close()
		}
	}
}

// appBrowser is Chromium at a cheap phone's 360×640, with what the pages
// report as errors collected.
type appBrowser struct {
	t     *testing.T
	base  string
	alloc context.Context
	errs  *consoleErrors
	shots string
	// offline: network errors are expected while the proxy is down.
	offline bool
	mu      sync.Mutex
}

// appServer serves the API on a real listener behind a switchProxy and
// returns the proxy's URL.
func appServer(t *testing.T, app *API) (string, *switchProxy) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.App().Listener(ln)
	t.Cleanup(func() { _ = app.App().ShutdownWithTimeout(5 * time.Second) })
	proxy := newSwitchProxy(t, ln.Addr().String())
	return "http://" + proxy.ln.Addr().String(), proxy
}

// newPhone starts a Chromium of its own (its own profile: storage, service
// worker) for one person's phone. Its first tab stays open, so that closing
// the app's tab leaves the browser running, as on a phone.
func newPhone(t *testing.T, base string) *appBrowser {
	chrome := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.Flag("headless", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("lang", "vi-VN"), chromedp.WindowSize(360, 640))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	bctx, cancelB := chromedp.NewContext(actx)
	t.Cleanup(cancelB)
	if err := chromedp.Run(bctx); err != nil { // starts the browser
		t.Fatal(err)
	}
	return &appBrowser{t: t, base: base, alloc: bctx, errs: &consoleErrors{}, shots: screenshotDir(t)}
}

// tab opens a tab at 360×640 with the phone's location set.
func (b *appBrowser) tab(at [2]float64) (context.Context, context.CancelFunc) {
	ctx, cancelTab := chromedp.NewContext(b.alloc)
	// No step may wait for ever: a tab lives at most two minutes.
	ctx, cancelTime := context.WithTimeout(ctx, 2*time.Minute)
	cancel := func() { cancelTime(); cancelTab() }
	b.errs.listen(ctx, func(msg string) bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.offline && strings.Contains(msg, "net::ERR_")
	})
	if err := chromedp.Run(ctx, log.Enable(), emulation.SetDeviceMetricsOverride(360, 640, 2, true),
		browser.GrantPermissions([]browser.PermissionType{browser.PermissionTypeGeolocation}).WithOrigin(b.base),
		emulation.SetGeolocationOverride().WithLatitude(at[0]).WithLongitude(at[1]).WithAccuracy(20)); err != nil {
		b.t.Fatal(err)
	}
	return ctx, cancel
}

func (b *appBrowser) setOffline(off bool) {
	b.mu.Lock()
	b.offline = off
	b.mu.Unlock()
}

func (b *appBrowser) shot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := chromedp.CaptureScreenshot(&buf).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(b.shots, "app-"+name+".png"), buf, 0o644)
	})
}

// waitFor polls a JavaScript condition, failing with what the page showed.
func (b *appBrowser) waitFor(what, js string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		wctx, cancel := context.WithTimeout(ctx, 25*time.Second)
		defer cancel()
		var ok bool
		if err := chromedp.Poll(js, &ok, chromedp.WithPollingInterval(100*time.Millisecond)).Do(wctx); err != nil {
			var shown string
			_ = chromedp.Evaluate(`document.body.innerText.slice(0, 1500)`, &shown).Do(ctx)
			return fmt.Errorf("%s: %w; the page shows:\n%s\nerrors: %v", what, err, shown, b.errs.all())
		}
		return nil
	})
}

// checkScreen: Vietnamese by default, every control named for a screen
// reader, nothing wider than the phone.
func (b *appBrowser) checkScreen(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var unnamed, overflow, htmlLang string
		if err := chromedp.Evaluate(`[...document.querySelectorAll('button, input, select, textarea, a')].filter((e) => e.offsetParent !== null &&
			!((e.labels && e.labels.length && e.labels[0].textContent.trim()) || e.getAttribute('aria-label') || e.textContent.trim() || e.title))
			.map((e) => e.outerHTML.slice(0, 80)).join(' | ')`, &unnamed).Do(ctx); err != nil {
			return err
		}
		if err := chromedp.Evaluate(phoneOverflow, &overflow).Do(ctx); err != nil {
			return err
		}
		if err := chromedp.Evaluate(`document.documentElement.lang`, &htmlLang).Do(ctx); err != nil {
			return err
		}
		var leak string
		if err := chromedp.Evaluate(`(document.querySelector('main').innerText.match(/\b(null|undefined|NaN|\[object Object\])\b/) || [''])[0]`, &leak).Do(ctx); err != nil {
			return err
		}
		if leak != "" {
			b.t.Errorf("%s: the page shows %q", name, leak)
		}
		if unnamed != "" {
			b.t.Errorf("%s: controls without a name: %s", name, unnamed)
		}
		if overflow != "" {
			b.t.Errorf("%s: wider than 360 px: %s", name, overflow)
		}
		if htmlLang != "vi" {
			b.t.Errorf("%s: lang %q, want vi", name, htmlLang)
		}
		return b.shot(name).Do(ctx)
	})
}

func (b *appBrowser) signIn(user string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.Navigate(b.base + "/app/"),
		chromedp.WaitVisible(`#signin-dev`),
		chromedp.SetValue(`#dev-user`, user),
		chromedp.Click(`#signin-dev button[type="submit"]`),
	}
}

// selfHousehold registers a household that signs in for itself, matched
// to Mai, and returns its user id.
func selfHousehold(m *mentoring, user string, dx float64) []string {
	m.t.Helper()
	self := m.tokenIn(user, "", "")
	lat, lng := at(dx, 0)
	m.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
		m.communeA, lat, lng, oneAdult), self)
	self = m.tokenIn(user, people.RoleHousehold, "")
	if out := m.ask(user, self); mentorOf(out) != "mai" {
		m.t.Fatalf("not matched: %v", out)
	}
	return self
}

// TestAppVolunteersDay: Mai signs in on her phone, sees her learner,
// schedules a session, checks in and shows the code; the family confirms
// on theirs; Mai's points and rank appear.
func TestAppVolunteersDay(t *testing.T) {
	storetest.Long(t)
	m := newMentoring(t)
	selfHousehold(m, "hh-day", 0.1)
	base, _ := appServer(t, m.API)
	b := newPhone(t, base)
	lat, lng := at(0.4, 0)
	mai, closeMai := b.tab([2]float64{lat, lng})
	defer closeMai()
	hourAgo := time.Now().Add(-time.Hour).In(time.FixedZone("ICT", 7*3600)).Format("2006-01-02T15:04")
	var code, points, rank string
	err := chromedp.Run(mai,
		b.signIn("mai"),
		b.waitFor("Mai's learners", `document.querySelectorAll('#learners li').length === 1`),
		b.checkScreen("volunteer-home"),
		chromedp.Click(`//button[text()="Lên lịch buổi học"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#session-form`),
		chromedp.SetValue(`#session-at`, hourAgo),
		b.checkScreen("schedule"),
		chromedp.Click(`#session-form button[type="submit"]`),
		b.waitFor("the session scheduled", `document.querySelector('#sessions li[data-state="scheduled"]') !== null`),
		chromedp.Click(`//button[text()="Điểm danh buổi này"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#checkin-form`),
		chromedp.Click(`#checkin-form input[value="vneid_activated"]`),
		b.checkScreen("check-in"),
		chromedp.Click(`#checkin-form button[type="submit"]`),
		b.waitFor("the code", `/^[0-9]{6}$/.test((document.querySelector('#confirmation-code') || {}).textContent || '')`),
		chromedp.Text(`#confirmation-code`, &code),
		b.checkScreen("code"),
	)
	if err != nil {
		t.Fatal(err)
	}

	// The family, on another phone.
	fb := newPhone(t, base)
	family, closeFamily := fb.tab([2]float64{lat, lng})
	defer closeFamily()
	if err := chromedp.Run(family,
		fb.signIn("hh-day"),
		fb.waitFor("the session to confirm", `document.querySelectorAll('#to-confirm li').length === 1`),
		fb.checkScreen("household-home"),
		chromedp.Click(`#to-confirm button`),
		fb.waitFor("sent", `document.querySelector('#unsent').dataset.pending === '0' && !document.querySelector('#to-confirm')`),
	); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Run(mai,
		chromedp.Navigate(b.base+"/app/"),
		b.waitFor("Mai's points", `document.querySelector('#my-points') && document.querySelector('#my-points').textContent !== '0'`),
		chromedp.Text(`#my-points`, &points),
		chromedp.Text(`#my-rank`, &rank),
		b.waitFor("the session confirmed", `document.querySelector('#sessions li[data-state="confirmed"]') !== null`),
		b.checkScreen("volunteer-after"),
	); err != nil {
		t.Fatal(err)
	}
	if rank != "1" || points == "" {
		t.Errorf("Mai's standing: %s points, rank %s", points, rank)
	}
	if errs := append(b.errs.all(), fb.errs.all()...); len(errs) > 0 {
		t.Errorf("the pages reported errors: %v", errs)
	}
}

// TestAppOffline: with the network gone, Mai logs three sessions and
// registers a family; the app reloads from its service worker, and is
// closed; the network comes back; opened again, it sends each item, and the
// server has each exactly once.
func TestAppOffline(t *testing.T) {
	storetest.Long(t)
	m := newMentoring(t)
	selfHousehold(m, "hh-off", 0.1)
	base, proxy := appServer(t, m.API)
	b := newPhone(t, base)
	lat, lng := at(0.4, 0)
	tab, closeTab := b.tab([2]float64{lat, lng})
	logOne := chromedp.Tasks{
		chromedp.Click(`//button[text()="Ghi buổi đã học"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#session-form`),
		chromedp.Click(`#session-outcomes input[value="vneid_activated"]`),
		chromedp.Click(`#session-form button[type="submit"]`),
		b.waitFor("home again", `document.querySelector('#learners') !== null`),
	}
	var pendingAfterReload string
	err := chromedp.Run(tab,
		b.signIn("mai"),
		b.waitFor("Mai's learners", `document.querySelectorAll('#learners li').length === 1`),
		b.waitFor("the service worker in control", `navigator.serviceWorker.controller !== null`),
		// The network goes.
		chromedp.ActionFunc(func(context.Context) error { b.setOffline(true); proxy.setDown(true); return nil }),
		logOne, logOne, logOne,
		b.waitFor("three sessions kept", `document.querySelectorAll('#sessions li[data-state="unsent"]').length === 3`),
		b.checkScreen("offline-home"),
		chromedp.Click(`//button[text()="Đăng ký hộ cho người khác"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#household-form`),
		chromedp.Click(`#household-form button.secondary`), // the phone's location
		b.waitFor("the location", `document.querySelector('#household-form [data-lat]') !== null`),
		chromedp.SetValue(`#household-form input[name="m-name"]`, "Vàng Thị Dợ"),
		chromedp.SetValue(`#household-form input[name="m-year"]`, "1962"),
		b.checkScreen("household-form"),
		chromedp.Click(`#household-form button[type="submit"]`),
		b.waitFor("seven items waiting", `document.querySelector('#unsent').dataset.pending === '7'`),
		chromedp.Reload(),
		b.waitFor("the app again, from the phone", `document.querySelector('#unsent') && document.querySelector('#unsent').dataset.pending === '7'`),
		chromedp.AttributeValue(`#unsent`, "data-pending", &pendingAfterReload, nil),
		b.checkScreen("offline-reloaded"),
		chromedp.Click(`#unsent`),
		b.waitFor("the outbox", `document.querySelectorAll('#view li[data-state="pending"]').length === 7`),
		b.checkScreen("outbox"),
	)
	if err != nil {
		t.Fatal(err)
	}
	closeTab()
	if got := m.get("/v1/sessions", m.mai...).json(t)["items"].([]any); len(got) != 0 {
		t.Fatalf("the server has %d sessions while the phone was offline", len(got))
	}

	// The network comes back; the app is opened again.
	proxy.setDown(false)
	b.setOffline(false)
	again, closeAgain := b.tab([2]float64{lat, lng})
	defer closeAgain()
	if err := chromedp.Run(again,
		chromedp.Navigate(b.base+"/app/"),
		b.waitFor("everything sent", `document.querySelector('#unsent') && document.querySelector('#unsent').dataset.pending === '0' && document.querySelectorAll('#sessions li[data-state="held"]').length === 3`),
		b.checkScreen("back-online"),
		// Sent twice: nothing more is made.
		chromedp.Evaluate(`window.daisusoApp.flush()`, nil, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	); err != nil {
		t.Fatal(err)
	}
	if pendingAfterReload != "7" {
		t.Errorf("after the reload offline the app counted %q items", pendingAfterReload)
	}
	if got := m.get("/v1/sessions", m.mai...).json(t)["items"].([]any); len(got) != 3 {
		t.Errorf("the server has %d sessions, want the 3 logged offline", len(got))
	}
	n, err := m.db.Collection("households").CountDocuments(context.Background(), bson.D{{Key: "registered_by", Value: "mai"}})
	if err != nil || n != 1 {
		t.Errorf("households Mai registered: %d (%v), want 1", n, err)
	}
	if errs := b.errs.all(); len(errs) > 0 {
		t.Errorf("the pages reported errors: %v", errs)
	}
}
