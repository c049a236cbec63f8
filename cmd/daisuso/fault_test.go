package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/notify/fcmtest"
	"daisuso/store"
	"daisuso/store/storetest"
)

// childEnv makes the test binary serve as the daisuso binary does, so that
// a test can start, SIGKILL and SIGTERM a real server process.
const childEnv = "DAISUSO_TEST_SERVE"

// childArgs holds the command-line arguments of such a server ("demo").
const childArgs = "DAISUSO_TEST_ARGS"

func serveAsChild() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, strings.Fields(os.Getenv(childArgs)), os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "daisuso:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// child is a server process on shared stores.
type child struct {
	t      *testing.T
	base   string
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // once exited
}

// startChild starts a server process with env on a free port and waits
// until it is ready.
func startChild(t *testing.T, env map[string]string) *child {
	t.Helper()
	port, err := store.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), out: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), childEnv+"=1", fmt.Sprintf("PORT=%d", port))
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() { _ = c.cmd.Process.Kill(); <-c.exited })
	deadline := time.Now().Add(60 * time.Second)
	for {
		if res, err := http.Get(c.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return c
			}
		}
		select {
		case <-c.exited:
			t.Fatalf("server process ended before it was ready (%v):\n%s", c.err, c.out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("server process not ready:\n%s", c.out.String())
		}
	}
}

// sharedStores are the environment of server processes that share the
// test's MongoDB and Redis and push to fcm.
func sharedStores(t *testing.T, fcm *fcmtest.Server) map[string]string {
	return map[string]string{
		"MONGODB_URI": storetest.MongoURI(t), "MONGODB_DATABASE": storetest.Name("f_"),
		"REDIS_URL": storetest.RedisURL(t), "REDIS_PREFIX": storetest.Name("f") + ":",
		"DEV_MODE": "true", "DATA_DIR": t.TempDir(), "LOG_LEVEL": "warn",
		"FIREBASE_PROJECT_ID": fcmtest.ProjectID, "FCM_ENDPOINT": fcm.URL,
		// A killed instance's claims come back after 10 s, not a minute;
		// reminders go at any hour, whenever the test runs. (Before the
		// worker renewed its leases, a 3 s lease let another worker take a
		// batch of 200 still being sent under the race detector in a loaded
		// make test, and pushes arrived three times.)
		"PUSH_LEASE": "10s", "QUIET_HOURS": "off",
		"RATE_LIMIT_USER": "0", "RATE_LIMIT_IP": "0",
		// Under the race detector FerretDB is slow; this test is about
		// counts, not speed.
		"REQUEST_TIMEOUT": "30s", "STORE_TIMEOUT": "5s",
	}
}

// post sends a JSON body with a bearer token; err is a transport error.
func post(base, path, body, token string) (int, map[string]any, error) {
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m, nil
}

// must is post that fails the test unless the answer is 2xx.
func (c *child) must(path, body, token string) map[string]any {
	c.t.Helper()
	st, m, err := post(c.base, path, body, token)
	if err != nil || st/100 != 2 {
		c.t.Fatalf("POST %s: %d %v %v", path, st, m, err)
	}
	return m
}

func (c *child) token(user, role, branch string) string {
	return c.must("/v1/dev/token", fmt.Sprintf(`{"user_id":%q,"role":%q,"branch_id":%q}`, user, role, branch), "")["token"].(string)
}

// TestKilledServerLosesNothing kills the server process with SIGKILL while
// a mentor's phone syncs 100 sessions logged offline and 400 broadcast
// pushes are being sent, then starts another process on the same stores.
// The phone resends what it had no answer for, and then everything once
// more. Every item is applied exactly once; every push arrives, none more
// than twice, and the repeats (only the batch in flight at the kill) carry
// the message id the app drops duplicates by.
func TestKilledServerLosesNothing(t *testing.T) {
	storetest.Long(t)
	fcm := fcmtest.New()
	defer fcm.Close()
	fcm.SetAll(fcmtest.Behaviour{Delay: 50 * time.Millisecond})
	env := sharedStores(t, fcm)
	a := startChild(t, env)

	admin := a.token("root", "admin", "")
	prov := a.must("/v1/branches", `{"kind":"province","name":"Tỉnh đoàn Lào Cai","province_code":"15"}`, admin)["id"].(string)
	commune := a.must("/v1/branches", fmt.Sprintf(`{"kind":"commune","name":"Đoàn xã Mường Hum","parent_id":%q,"commune_code":"02728"}`, prov), admin)["id"].(string)
	staff := a.token("staff", "commune_staff", commune)
	branchAdmin := a.token("chief", "branch_admin", commune)
	mentor := a.token("mai", "", "")
	a.must("/v1/volunteers", fmt.Sprintf(`{"name":"Lò Thị Mai","phone":"0981111111","branch_id":%q,"location":{"lat":22.5379,"lng":103.7625},
		"languages":["vi"],"topics":["vneid"],"capacity":20,"radius_km":3,"consents":["matching"]}`, commune), mentor)
	var households []string
	for i := range 10 {
		h := a.must("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":103.7625},"members":[{"name":"Lý Thị Hoa","birth_year":1985,"needs":["vneid"],"self_consent":true}],"consents":["matching"]}`,
			commune, 22.5379+float64(i)*0.001), staff)["id"].(string)
		a.must("/v1/help-requests", fmt.Sprintf(`{"household_id":%q}`, h), staff)
		households = append(households, h)
	}
	// 200 volunteers of the commune with a phone each, for the broadcasts.
	for i := range 200 {
		tok := a.token(fmt.Sprintf("v%03d", i), "volunteer", commune)
		a.must("/v1/devices", fmt.Sprintf(`{"token":"device-%03d","platform":"android"}`, i), tok)
	}

	// The phone's offline log: 5 batches of 20 sessions.
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour)
	var batches []string
	var sessionIDs []string
	for b := range 5 {
		var items []string
		for k := range 20 {
			n := b*20 + k
			sid := uuid.NewString()
			sessionIDs = append(sessionIDs, sid)
			items = append(items, fmt.Sprintf(`{"item_id":%q,"op":"schedule","session_id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":45}`,
				uuid.NewString(), sid, households[n%10], start.Add(time.Duration(n)*3*time.Hour).Format(time.RFC3339)))
		}
		batches = append(batches, `{"items":[`+strings.Join(items, ",")+`]}`)
	}
	var base atomic.Pointer[string]
	base.Store(&a.base)
	// final[pass][item] is the last status an item got in a pass: the phone
	// sends a batch again while it has no answer or items to retry (a store
	// too slow answers "retry" for an item).
	final := [2]map[string]string{{}, {}}
	var rejections []string
	var mu sync.Mutex
	// The first pass waits after two batches until the kill, so that the
	// kill always finds the sync under way (a fast machine synced all five
	// before the pushes were far enough along).
	hold := make(chan struct{})
	syncAll := func(pass int, sent *atomic.Int32) {
		for i, b := range batches {
			if sent != nil && i == 2 {
				select {
				case <-hold:
				case <-time.After(60 * time.Second):
				}
			}
			for {
				st, m, err := post(*base.Load(), "/v1/sessions/sync", b, mentor)
				if err != nil || st != http.StatusOK {
					time.Sleep(100 * time.Millisecond) // no answer: send again
					continue
				}
				again := false
				mu.Lock()
				for _, r := range m["results"].([]any) {
					r := r.(map[string]any)
					if r["status"] == "retry" {
						again = true
						continue
					}
					final[pass][r["item_id"].(string)] = r["status"].(string)
					if r["status"] == "rejected" && len(rejections) < 3 {
						rejections = append(rejections, fmt.Sprint(r["error"]))
					}
				}
				mu.Unlock()
				if !again {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			if sent != nil {
				sent.Add(1)
			}
		}
	}
	var synced atomic.Int32
	syncDone := make(chan struct{})
	go func() { syncAll(0, &synced); close(syncDone) }()
	// The pushes start once the sync is under way, so that the kill finds
	// both at work however fast either goes.
	for synced.Load() < 1 {
		time.Sleep(5 * time.Millisecond)
	}
	for _, title := range []string{"Chiến dịch 10/10", "Tuần cao điểm"} {
		if st, m, err := post(a.base, "/v1/notifications/broadcasts", fmt.Sprintf(`{"title":%q,"body":"Cùng giúp bà con cài VNeID!"}`, title), branchAdmin); err != nil || st != http.StatusAccepted {
			t.Fatalf("broadcast: %d %v %v", st, m, err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for fcm.Accepted() < 50 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing under way to kill: %d pushes, %d batches", fcm.Accepted(), synced.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.exited
	killedAt := struct{ pushes, batches int }{fcm.Accepted(), int(synced.Load())}
	close(hold)
	if killedAt.pushes >= 400 || killedAt.batches >= len(batches) {
		t.Fatalf("the kill came after the work: %+v", killedAt)
	}

	b := startChild(t, env)
	base.Store(&b.base)
	<-syncDone
	syncAll(1, nil) // the phone sends its whole log once more

	// Every session once, with one schedule event.
	db := storetest.MongoAt(t, env["MONGODB_URI"]).Client().Database(env["MONGODB_DATABASE"])
	ctx := context.Background()
	if n, err := db.Collection("sessions").CountDocuments(ctx, bson.D{{Key: "mentor_id", Value: "mai"}}); err != nil || n != int64(len(sessionIDs)) {
		t.Errorf("%d sessions (%v), want %d", n, err, len(sessionIDs))
	}
	if n, err := db.Collection("session_events").CountDocuments(ctx, bson.D{{Key: "session_id", Value: bson.D{{Key: "$in", Value: sessionIDs}}}}); err != nil || n != int64(len(sessionIDs)) {
		t.Errorf("%d session events (%v), want one per session: %d", n, err, len(sessionIDs))
	}
	// Items of the batch cut off by the kill were applied without an
	// answer: the resend says already_applied for them. The second send
	// finds every item applied.
	statuses := map[string]int{}
	for pass, want := range [][]string{{"applied", "already_applied"}, {"already_applied"}} {
		if len(final[pass]) != len(sessionIDs) {
			t.Errorf("pass %d: %d items answered, want %d", pass+1, len(final[pass]), len(sessionIDs))
		}
		for _, st := range final[pass] {
			statuses[fmt.Sprint(pass+1, ":", st)]++
		}
		for st, n := range statuses {
			if p, s, _ := strings.Cut(st, ":"); p == fmt.Sprint(pass+1) && !slices.Contains(want, s) {
				t.Errorf("pass %d: %d items %s, want one of %v; first rejections: %v", pass+1, n, s, want, rejections)
			}
		}
	}

	// Every push arrives; only the batch in flight may arrive twice.
	deadline = time.Now().Add(90 * time.Second)
	for fcm.Distinct() < 400 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 400 pushes arrived", fcm.Distinct())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // anything more would come now
	twice := 0
	for id, n := range fcm.PerID() {
		switch {
		case n == 2:
			twice++
		case n > 2:
			t.Errorf("%s arrived %d times", id, n)
		}
	}
	if fcm.Distinct() != 400 || twice > 400 {
		t.Errorf("%d distinct pushes (want 400), %d twice (at most the batch in flight)", fcm.Distinct(), twice)
	}
	t.Logf("killed at %d pushes and %d of %d sync batches; after the restart: sync %v, %d distinct pushes, %d arrived twice",
		killedAt.pushes, killedAt.batches, len(batches), statuses, fcm.Distinct(), twice)
}

// TestSIGTERMUnderLoad sends SIGTERM to a server process while 50 clients
// keep calling it through a stand-in for a load balancer, which polls
// /readyz every 100 ms and sends nothing new to a server that is not
// ready, as Kubernetes or any balancer does. Every request sent is
// answered, and the process exits cleanly. (Without the balancer, clients
// that keep opening connections while the listener closes meet resets from
// its accept queue, which no server can answer.)
func TestSIGTERMUnderLoad(t *testing.T) {
	storetest.Long(t)
	fcm := fcmtest.New()
	defer fcm.Close()
	env := sharedStores(t, fcm)
	env["SHUTDOWN_TIMEOUT"] = "20s"
	c := startChild(t, env)
	tok := c.token("vol-1", "volunteer", "")
	var answered, refused atomic.Int64
	var dropped []string
	var mu sync.Mutex
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var out atomic.Bool // the balancer took the server out
	go func() {
		for !out.Load() {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if res, err := http.Get(c.base + "/readyz"); err != nil || res.StatusCode != 200 {
				out.Store(true)
			} else {
				res.Body.Close()
			}
		}
	}()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 100}}
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if out.Load() {
					time.Sleep(10 * time.Millisecond)
					continue
				}
				req, _ := http.NewRequest(http.MethodGet, c.base+"/v1/leaderboards/all?board=volunteers&scope=national&period=week", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := client.Do(req)
				switch {
				case err == nil:
					res.Body.Close()
					if res.StatusCode != 200 {
						mu.Lock()
						dropped = append(dropped, fmt.Sprint("status ", res.StatusCode))
						mu.Unlock()
					}
					answered.Add(1)
				case errors.Is(err, syscall.ECONNREFUSED) || isDial(err):
					// Never accepted: refused, or reset from the backlog of
					// the closed listener. Not in flight.
					refused.Add(1)
					time.Sleep(10 * time.Millisecond)
				default:
					mu.Lock()
					dropped = append(dropped, err.Error())
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(time.Second)
	before := answered.Load()
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-c.exited
	close(stop)
	wg.Wait()
	if c.err != nil {
		t.Errorf("the process ended with %v:\n%s", c.err, c.out.String())
	}
	t.Logf("%d answered (%d before SIGTERM), %d refused at the door after it, %d dropped", answered.Load(), before, refused.Load(), len(dropped))
	if before == 0 {
		t.Fatal("no load before the signal")
	}
	for i, d := range dropped {
		if i == 10 {
			break
		}
		t.Errorf("dropped: %s", d)
	}
}

func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
