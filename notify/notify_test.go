package notify

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"daisuso/notify/fcmtest"
	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// clock is a test clock shared by the services of a fixture. It stands
// still unless started, then runs at the wall clock's pace from where it is.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	since time.Time // when it was started; zero while it stands still
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.since.IsZero() {
		return c.t
	}
	return c.t.Add(time.Since(c.since))
}

// Start makes the clock run (benchmarks: retries and leases fall due).
func (c *clock) Start() { c.mu.Lock(); c.since = time.Now(); c.mu.Unlock() }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type fixture struct {
	*Service
	db     *mongo.Database
	rdb    *redis.Client
	prefix string
	fcm    *fcmtest.Server
	clock  *clock
	still  map[Kind]Still
}

// morning is a Tuesday 09:00 in Vietnam.
var morning = time.Date(2026, 11, 24, 9, 0, 0, 0, Vietnam)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{db: storetest.Mongo(t), fcm: fcmtest.New(), clock: &clock{t: morning}, still: map[Kind]Still{}}
	f.rdb, f.prefix = storetest.Redis(t)
	t.Cleanup(f.fcm.Close)
	f.Service = f.instance(t, nil)
	ctx := context.Background()
	if err := f.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// instance is one more server instance on the fixture's stores, sending
// through wrap(the real Firebase client) when wrap is given.
func (f *fixture) instance(t testing.TB, wrap func(Sender) Sender) *Service {
	t.Helper()
	client, err := f.fcm.Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var sender Sender = FCMSender{Client: client}
	if wrap != nil {
		sender = wrap(sender)
	}
	// Each instance has its own Redis connections, as a server process
	// does; kill closes them.
	rdb := redis.NewClient(f.rdb.Options())
	t.Cleanup(func() { _ = rdb.Close() })
	return New(Config{DB: f.db, Redis: rdb, RedisPrefix: f.prefix, Sender: sender, Now: f.clock.Now,
		Still: f.still, Lease: time.Minute, SendTimeout: 20 * time.Second, RetryBase: 30 * time.Second, Poll: 20 * time.Millisecond})
}

func (f *fixture) device(t testing.TB, user, token, locale string) {
	t.Helper()
	if _, err := f.RegisterDevice(context.Background(), user, Device{Token: token, Platform: "android", Locale: locale}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) enqueue(t testing.TB, ns ...Notification) {
	t.Helper()
	if err := f.Enqueue(context.Background(), ns...); err != nil {
		t.Fatal(err)
	}
}

// drain runs the worker until a pass claims nothing.
func (f *fixture) drain(t testing.TB) {
	t.Helper()
	for range 1000 {
		n, err := f.SendDue(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the queue never emptied")
}

func (f *fixture) states(t testing.TB, user string) map[string]State {
	t.Helper()
	items, err := f.List(context.Background(), user, "vi", Cursor{}, 200)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]State{}
	for _, it := range items {
		out[it.ID] = it.State
	}
	return out
}

func match(key, user, name string) Notification {
	return Notification{Key: key, UserID: user, Kind: KindNewMatch, Ref: "r1", Params: map[string]string{"name": name}}
}

func TestSendRecordAndDedupe(t *testing.T) {
	f := newFixture(t)
	f.device(t, "u1", "tok-u1-a", "vi")
	f.device(t, "u1", "tok-u1-b", "en")
	n := match("new_match:r1:u1", "u1", "Lan")
	f.enqueue(t, n)
	f.enqueue(t, n) // a retried producer
	f.drain(t)
	f.enqueue(t, n) // after it was sent
	f.drain(t)
	got := f.fcm.Deliveries()
	if len(got) != 2 {
		t.Fatalf("got %d deliveries, want one per device: %+v", len(got), got)
	}
	byToken := map[string]fcmtest.Delivery{}
	for _, d := range got {
		byToken[d.Token] = d
		if d.ID != n.ID() || d.Kind != "new_match" || d.Ref != "r1" {
			t.Errorf("data = %v, want the message id %s, kind and ref", d.Data, n.ID())
		}
		if d.CollapseKey != "new_match-r1" || d.APNSCollapseID != "new_match-r1" {
			t.Errorf("collapse keys %q/%q", d.CollapseKey, d.APNSCollapseID)
		}
		if d.TTL != "259200s" {
			t.Errorf("ttl = %q, want 72 h", d.TTL)
		}
		if len(d.Data) != 3 {
			t.Errorf("data carries more than id, kind and ref: %v", d.Data)
		}
	}
	if b := byToken["tok-u1-a"].Body; !strings.Contains(b, "Lan sẽ giúp gia đình bạn") {
		t.Errorf("vi body = %q", b)
	}
	if b := byToken["tok-u1-b"].Body; !strings.Contains(b, "Lan will help your family") {
		t.Errorf("en body = %q", b)
	}
	if st := f.states(t, "u1")[n.ID()]; st != StateSent {
		t.Errorf("state = %s, want sent", st)
	}
}

func TestQuietHours(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 24, h, m, 0, 0, Vietnam) }
	next7 := time.Date(2026, 11, 25, 7, 0, 0, 0, Vietnam)
	for _, tc := range []struct {
		name        string
		due, starts time.Time
		want        time.Time
	}{
		{"day", at(9, 0), time.Time{}, at(9, 0)},
		{"20:59", at(20, 59), time.Time{}, at(20, 59)},
		{"21:00 waits for morning", at(21, 0), time.Time{}, next7},
		{"after midnight waits for 07:00", at(3, 0), time.Time{}, at(7, 0)},
		{"07:00", at(7, 0), time.Time{}, at(7, 0)},
		{"session before morning goes at night", at(22, 0), at(23, 0), at(22, 0)},
		{"session after morning waits", at(22, 0), next7.Add(2 * time.Hour), next7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := deliverAt(tc.due, tc.starts); !got.Equal(tc.want) {
				t.Errorf("deliverAt(%v) = %v, want %v", tc.due, got, tc.want)
			}
		})
	}

	f := newFixture(t)
	f.device(t, "u1", "tok-1", "vi")
	f.clock.Set(at(22, 0))
	late := match("new_match:r2:u1", "u1", "Lan")
	soon := Notification{Key: "session_soon:s1:u1", UserID: "u1", Kind: KindSessionSoon, Ref: "s1",
		Params: map[string]string{"name": "Lan", "time": "23:00"}, StartsAt: at(23, 0), ExpiresAt: at(23, 0)}
	f.enqueue(t, late, soon)
	f.drain(t)
	if got := f.fcm.PerID(); len(got) != 1 || got[soon.ID()] != 1 {
		t.Fatalf("at 22:00 sent %v, want only the session starting at 23:00", got)
	}
	f.clock.Set(next7.Add(-time.Minute))
	f.drain(t)
	if f.fcm.PerID()[late.ID()] != 0 {
		t.Fatal("sent during quiet hours")
	}
	f.clock.Set(next7)
	f.drain(t)
	if f.fcm.PerID()[late.ID()] != 1 {
		t.Fatal("not sent at 07:00")
	}
}

func TestDailyCapDigest(t *testing.T) {
	f := newFixture(t)
	f.device(t, "u1", "tok-1", "vi")
	var ns []Notification
	for i := range 5 {
		ns = append(ns, match(fmt.Sprintf("new_match:r%d:u1", i), "u1", "Lan"))
	}
	urgent := Notification{Key: "session_soon:s9:u1", UserID: "u1", Kind: KindSessionSoon, Ref: "s9",
		Params: map[string]string{"name": "Lan", "time": "10:00"}, StartsAt: morning.Add(time.Hour)}
	f.enqueue(t, append(ns, urgent)...)
	f.drain(t)
	states := f.states(t, "u1")
	count := map[State]int{}
	for _, n := range ns {
		count[states[n.ID()]]++
	}
	if count[StateSent] != DefaultDailyCap || count[StateDigested] != 5-DefaultDailyCap {
		t.Fatalf("states %v, want %d sent and the rest digested", count, DefaultDailyCap)
	}
	if states[urgent.ID()] != StateSent {
		t.Errorf("the session reminder was held by the cap: %s", states[urgent.ID()])
	}
	digest := IDOf("digest:u1:20261124")
	if states[digest] != StatePending {
		t.Fatalf("digest state %q, want pending", states[digest])
	}
	f.clock.Set(time.Date(2026, 11, 24, 20, 0, 0, 0, Vietnam))
	f.drain(t)
	if f.fcm.PerID()[digest] != 1 {
		t.Fatal("the digest was not sent at 20:00")
	}
	// A new day starts a new count.
	f.clock.Set(morning.AddDate(0, 0, 1))
	next := match("new_match:r9:u1", "u1", "Lan")
	f.enqueue(t, next)
	f.drain(t)
	if f.fcm.PerID()[next.ID()] != 1 {
		t.Error("the cap did not reset the next day")
	}
}

func TestFCMErrors(t *testing.T) {
	f := newFixture(t)
	f.cfg.SendTimeout = 2 * time.Second // "tok-hang" is answered never
	ctx := context.Background()
	cases := map[string]fcmtest.Behaviour{
		"tok-unregistered": {Error: fcmtest.Unregistered},
		"tok-invalid":      {Error: fcmtest.InvalidToken},
		"tok-mismatch":     {Error: fcmtest.SenderIDMismatch},
		"tok-payload":      {Error: fcmtest.InvalidPayload},
		"tok-internal":     {Error: fcmtest.Internal, Times: 2},
		"tok-unavail-once": {Error: fcmtest.Unavailable, Times: 1}, // the SDK retries this one itself
		"tok-quota":        {Error: fcmtest.QuotaExceeded, Times: 1, RetryAfter: 120},
		"tok-quota-short":  {Error: fcmtest.QuotaExceeded, Times: 1, RetryAfter: 1},
		"tok-slow":         {Delay: 300 * time.Millisecond},
		"tok-hang":         {Hang: true},
	}
	users := map[string]string{}
	var ns []Notification
	for token, b := range cases {
		user := "u-" + strings.TrimPrefix(token, "tok-")
		users[token] = user
		f.fcm.Set(token, b)
		f.device(t, user, token, "vi")
		ns = append(ns, match("new_match:x:"+user, user, "Lan"))
	}
	f.enqueue(t, ns...)
	f.drain(t)
	id := func(token string) string { return IDOf("new_match:x:" + users[token]) }
	state := func(token string) State { return f.states(t, users[token])[id(token)] }
	delivered := f.fcm.PerID()

	for _, token := range []string{"tok-unregistered", "tok-invalid", "tok-mismatch"} {
		if st := state(token); st != StateNoDevice {
			t.Errorf("%s: state %s, want no_device (its only token is dead)", token, st)
		}
		if ds, _ := f.Devices(ctx, users[token]); len(ds) != 0 {
			t.Errorf("%s: token kept", token)
		}
	}
	if st := state("tok-payload"); st != StateFailed {
		t.Errorf("payload error: state %s, want failed without retry", st)
	}
	if ds, _ := f.Devices(ctx, users["tok-payload"]); len(ds) != 1 {
		t.Error("payload error dropped the token")
	}
	for _, token := range []string{"tok-unavail-once", "tok-slow"} {
		if delivered[id(token)] != 1 {
			t.Errorf("%s: delivered %d times, want 1", token, delivered[id(token)])
		}
	}
	for _, token := range []string{"tok-internal", "tok-quota", "tok-quota-short", "tok-hang"} {
		if st := state(token); st != StatePending || delivered[id(token)] != 0 {
			t.Errorf("%s: state %s delivered %d, want pending for a retry", token, st, delivered[id(token)])
		}
	}

	// 429 waits at least a minute even when Retry-After says 1 s, and
	// Retry-After when it says longer.
	f.clock.Add(59 * time.Second)
	f.drain(t)
	if n := f.fcm.PerID()[id("tok-quota-short")]; n != 0 {
		t.Error("a 429 was retried within a minute")
	}
	f.clock.Add(2 * time.Second)
	f.drain(t)
	if n := f.fcm.PerID()[id("tok-quota-short")]; n != 1 {
		t.Errorf("429 with a short Retry-After: delivered %d after a minute, want 1", n)
	}
	if n := f.fcm.PerID()[id("tok-quota")]; n != 0 {
		t.Error("a 429 with Retry-After 120 was retried after 61 s")
	}
	f.clock.Add(60 * time.Second)
	f.drain(t)
	if n := f.fcm.PerID()[id("tok-quota")]; n != 1 {
		t.Errorf("429 with Retry-After 120: delivered %d after 121 s, want 1", n)
	}

	// 500: backoff with jitter, 15-45 s after the first attempt, doubling.
	f.fcm.Set("tok-hang", fcmtest.Behaviour{})
	f.clock.Add(2 * time.Hour)
	for range 4 {
		f.drain(t)
		f.clock.Add(2 * time.Hour)
	}
	if n := f.fcm.PerID()[id("tok-internal")]; n != 1 {
		t.Errorf("500 twice then OK: delivered %d, want 1", n)
	}
	if n := f.fcm.PerID()[id("tok-hang")]; n != 1 {
		t.Errorf("a server that did not answer, then did: delivered %d (state %s), want 1", n, state("tok-hang"))
	}
	if st := f.Stats(); st.TokensDropped != 3 || st.Outcomes[StateFailed] != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBackoffSchedule(t *testing.T) {
	f := newFixture(t)
	for claims, bounds := range map[int][2]time.Duration{1: {15 * time.Second, 45 * time.Second}, 2: {30 * time.Second, 90 * time.Second},
		7: {16 * time.Minute, 48 * time.Minute}} {
		seen := map[time.Duration]bool{}
		for range 50 {
			j := &job{n: Notification{ExpiresAt: morning.Add(48 * time.Hour)}, claims: claims, transient: true}
			f.judge(context.Background(), j, morning)
			d := j.retryAt.Sub(morning)
			if j.state != "" || d < bounds[0] || d >= bounds[1] {
				t.Fatalf("claim %d: retry after %v (state %q), want in [%v, %v)", claims, d, j.state, bounds[0], bounds[1])
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("claim %d: only %d distinct delays in 50: no jitter", claims, len(seen))
		}
	}
	j := &job{n: Notification{ExpiresAt: morning.Add(48 * time.Hour)}, claims: MaxAttempts, transient: true}
	f.judge(context.Background(), j, morning)
	if j.state != StateFailed {
		t.Errorf("after %d attempts: state %q, want failed", MaxAttempts, j.state)
	}
	j = &job{n: Notification{ExpiresAt: morning.Add(10 * time.Second)}, claims: 1, transient: true}
	f.judge(context.Background(), j, morning)
	if j.state != StateExpired {
		t.Errorf("retry after expiry: state %q, want expired", j.state)
	}
}

func TestNoTokenGoesToFallback(t *testing.T) {
	f := newFixture(t)
	f.device(t, "mentor", "tok-mentor", "vi")
	n := Notification{Key: "session_unconfirmed:s1:hh", UserID: "hh", Kind: KindUnconfirmed, Ref: "s1",
		Params: map[string]string{"name": "Minh"}, Fallback: []string{"mentor", "nobody"}, RecipientName: "Bà Lan"}
	f.enqueue(t, n)
	f.drain(t)
	got := f.fcm.Deliveries()
	if len(got) != 1 || got[0].Token != "tok-mentor" {
		t.Fatalf("deliveries %+v, want one to the fallback's phone", got)
	}
	if !strings.HasPrefix(got[0].Body, "Nhắc giúp Bà Lan: ") {
		t.Errorf("body %q does not say whom to remind", got[0].Body)
	}
	if st := f.states(t, "hh")[n.ID()]; st != StateRedirected {
		t.Errorf("recipient's state %s, want redirected", st)
	}
	if st := f.states(t, "nobody"); len(st) != 1 {
		t.Errorf("the second fallback without a phone has %v, want its copy in the list", st)
	}
	// No fallback: kept in the list only.
	alone := match("new_match:r1:alone", "alone", "Lan")
	f.enqueue(t, alone)
	f.drain(t)
	if st := f.states(t, "alone")[alone.ID()]; st != StateNoDevice {
		t.Errorf("state %s, want no_device", st)
	}
}

func TestCancelAndStill(t *testing.T) {
	f := newFixture(t)
	f.device(t, "u1", "tok-1", "vi")
	remind := Notification{Key: "session_tomorrow:s1:u1", UserID: "u1", Kind: KindSessionDayLeft, Ref: "s1",
		Params: map[string]string{"name": "Lan", "time": "09:00"}, DueAt: morning.Add(time.Hour)}
	f.enqueue(t, remind)
	if err := f.Cancel(context.Background(), remind.Key); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Hour)
	inactive := Notification{Key: "learner_inactive:h1:u1", UserID: "u1", Kind: KindInactive, Params: map[string]string{"name": "Lan"}}
	f.still[KindInactive] = func(_ context.Context, n Notification) (bool, error) { return n.Key != inactive.Key, nil }
	f.enqueue(t, inactive)
	f.drain(t)
	if n := len(f.fcm.Deliveries()); n != 0 {
		t.Fatalf("%d sent, want none", n)
	}
	st := f.states(t, "u1")
	if st[remind.ID()] != StateCancelled || st[inactive.ID()] != StateSkipped {
		t.Errorf("states %v, want cancelled and skipped", st)
	}
}

func TestExpiredIsNotSent(t *testing.T) {
	f := newFixture(t)
	f.device(t, "u1", "tok-1", "vi")
	n := Notification{Key: "session_soon:s1:u1", UserID: "u1", Kind: KindSessionSoon, Ref: "s1",
		Params: map[string]string{"name": "Lan", "time": "10:00"}, ExpiresAt: morning.Add(time.Minute)}
	f.enqueue(t, n)
	f.clock.Add(2 * time.Minute) // the worker was behind
	f.drain(t)
	if len(f.fcm.Deliveries()) != 0 || f.states(t, "u1")[n.ID()] != StateExpired {
		t.Error("a stale reminder was sent")
	}
}

func manyMatches(users, per int) []Notification {
	var ns []Notification
	for u := range users {
		for i := range per {
			user := fmt.Sprintf("u%04d", u)
			ns = append(ns, Notification{Key: fmt.Sprintf("session_soon:s%d:%s", i, user), UserID: user,
				Kind: KindSessionSoon, Ref: fmt.Sprintf("s%d", i), Params: map[string]string{"name": "Lan", "time": "10:00"}})
		}
	}
	return ns
}

func (f *fixture) devices(t testing.TB, users int) {
	t.Helper()
	for u := range users {
		f.device(t, fmt.Sprintf("u%04d", u), fmt.Sprintf("tok-%04d", u), "vi")
	}
}

func TestInstancesSendEachOnce(t *testing.T) {
	storetest.Long(t)
	f := newFixture(t)
	f.devices(t, 300)
	ns := manyMatches(300, 4)
	f.enqueue(t, ns...)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var one *Service
	for range 3 {
		s := f.instance(t, nil)
		one = s
		wg.Go(func() { s.Run(ctx) })
	}
	settled(t, one, len(ns), f)
	cancel()
	wg.Wait() // a send under way ends before Run returns: a double is counted now
	checkOnce(t, f.fcm.PerID(), ns)
}

// settled waits for the known end of a sending test: every notification
// accepted by FCM and none left in the queue (each recorded and cleared,
// so none can be claimed again). The caller then stops the workers and
// waits for them, which waits for any send still under way.
func settled(t testing.TB, s *Service, n int, f *fixture) {
	t.Helper()
	waitFor(t, func() bool {
		left, err := s.Pending(context.Background())
		return err == nil && left == 0 && f.fcm.Accepted() >= n
	})
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // FerretDB under the race detector is slow
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func checkOnce(t testing.TB, got map[string]int, ns []Notification) {
	t.Helper()
	for _, n := range ns {
		if got[n.ID()] != 1 {
			t.Errorf("%s delivered %d times, want 1", n.Key, got[n.ID()])
		}
	}
	if len(got) != len(ns) {
		t.Errorf("%d ids delivered, want %d", len(got), len(ns))
	}
}

// dying forwards batches to the real sender until it is told to die; then
// it lets one more batch reach FCM and never returns from it, like a
// process killed between sending and recording. Its instance's Redis
// connections close then, as a killed process's do, so that its leases
// are no longer renewed.
type dying struct {
	Sender
	die   chan struct{}
	dead  chan struct{}
	once  sync.Once
	redis *redis.Client
}

func (d *dying) Send(ctx context.Context, msgs []Message) ([]Result, error) {
	select {
	case <-d.die:
		res, err := d.Sender.Send(ctx, msgs)
		d.once.Do(func() {
			_ = d.redis.Close()
			close(d.dead)
		})
		<-make(chan struct{}) // never returns: this instance is gone
		return res, err
	default:
		return d.Sender.Send(ctx, msgs)
	}
}

func TestKilledWorkerLosesNothing(t *testing.T) {
	storetest.Long(t)
	f := newFixture(t)
	f.devices(t, 500)
	ns := manyMatches(500, 4)
	f.enqueue(t, ns...)
	d := &dying{die: make(chan struct{}), dead: make(chan struct{})}
	a := f.instance(t, func(s Sender) Sender { d.Sender = s; return d })
	d.redis = a.cfg.Redis.(*redis.Client)
	a.cfg.Workers, a.cfg.Batch = 1, 200
	go a.Run(context.Background()) // never stopped: it dies inside a send
	waitFor(t, func() bool { return f.fcm.Accepted() >= 600 })
	close(d.die)
	<-d.dead
	sentByA := f.fcm.Accepted()

	// The restarted instance takes the dead one's claims once their lease
	// runs out.
	f.clock.Add(2 * time.Minute)
	b := f.instance(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	waitFor(t, func() bool { return f.fcm.Distinct() >= len(ns) })
	cancel()
	<-done

	got := f.fcm.PerID()
	twice := 0
	for _, n := range ns {
		switch c := got[n.ID()]; {
		case c == 0:
			t.Errorf("%s lost", n.Key)
		case c == 2:
			twice++
		case c > 2:
			t.Errorf("%s sent %d times", n.Key, c)
		}
	}
	// Only the batch in flight when the instance died may arrive twice, and
	// with the same message id, which the app drops.
	if twice > 200 {
		t.Errorf("%d sent twice, more than the one batch in flight", twice)
	}
	t.Logf("instance A delivered %d before dying; %d of %d arrived twice (the batch in flight), all with their message id",
		sentByA, twice, len(ns))
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = n.ID()
	}
	outs, err := f.st.outcomesOf(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if st := outs[n.ID()].State; st != string(StateSent) {
			t.Fatalf("%s: state %s, want sent", n.Key, st)
		}
	}
}

// TestSlowSendKeepsItsLease: a batch whose send outlasts the lease is not
// taken by another worker, because its worker renews the lease while it
// sends.
func TestSlowSendKeepsItsLease(t *testing.T) {
	storetest.Long(t)
	f := newFixture(t)
	f.devices(t, 20)
	ns := manyMatches(20, 1)
	f.enqueue(t, ns...)
	f.fcm.SetAll(fcmtest.Behaviour{Delay: 1500 * time.Millisecond})
	f.clock.Start() // leases run out in real time
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var one *Service
	for range 2 {
		s := f.instance(t, nil)
		s.cfg.Workers, s.cfg.Lease = 1, 300*time.Millisecond
		one = s
		wg.Go(func() { s.Run(ctx) })
	}
	settled(t, one, len(ns), f)
	cancel()
	wg.Wait() // a second send of a batch taken again ends before Run returns
	checkOnce(t, f.fcm.PerID(), ns)
}

func TestGracefulStopSendsNothingTwice(t *testing.T) {
	storetest.Long(t)
	f := newFixture(t)
	f.devices(t, 300)
	ns := manyMatches(300, 4)
	f.enqueue(t, ns...)
	a := f.instance(t, nil)
	a.cfg.Batch = 100
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	waitFor(t, func() bool { return f.fcm.Accepted() >= 300 })
	cancel()
	<-done
	if f.fcm.Accepted() >= len(ns) {
		t.Fatal("everything went before the stop; the test proves nothing")
	}
	f.clock.Add(2 * time.Minute) // a claim left behind would come back now
	b := f.instance(t, nil)
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	settled(t, b, len(ns), f)
	cancel()
	<-done
	checkOnce(t, f.fcm.PerID(), ns)
}

func TestRedisLossIsRebuilt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.device(t, "u1", "tok-1", "vi")
	sent := match("new_match:r0:u1", "u1", "Lan")
	f.enqueue(t, sent)
	f.drain(t)
	later := match("new_match:r1:u1", "u1", "Lan")
	later.DueAt = morning.Add(time.Hour)
	f.enqueue(t, later)
	// Redis restarts empty.
	keys, err := f.rdb.Keys(ctx, f.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := f.rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Hour)
	if n, err := f.SendDue(ctx); err != nil || n != 0 {
		t.Fatalf("SendDue on an empty Redis: %d, %v; want it to wait for the reload", n, err)
	}
	if err := f.maintain(ctx); err != nil {
		t.Fatal(err)
	}
	f.drain(t)
	got := f.fcm.PerID()
	if got[sent.ID()] != 1 || got[later.ID()] != 1 {
		t.Errorf("after the reload: %v, want each once", got)
	}
}

func TestPruneAndErase(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.device(t, "old", "tok-old", "vi")
	f.clock.Add(TokenMaxAge + time.Hour)
	f.device(t, "u1", "tok-1", "vi")
	if n, err := f.PruneDevices(ctx); err != nil || n != 1 {
		t.Fatalf("pruned %d, %v; want 1", n, err)
	}
	if ds, _ := f.Devices(ctx, "old"); len(ds) != 0 {
		t.Error("a token not seen for 270 days is kept")
	}
	for i := range MaxDevicesPerUser + 2 {
		f.clock.Add(time.Second)
		f.device(t, "u2", fmt.Sprintf("tok-u2-%d", i), "vi")
	}
	if ds, _ := f.Devices(ctx, "u2"); len(ds) != MaxDevicesPerUser {
		t.Errorf("%d devices kept, want %d", len(ds), MaxDevicesPerUser)
	}
	n := match("new_match:r1:u1", "u1", "Lan")
	n.DueAt = f.clock.Now().Add(time.Hour)
	f.enqueue(t, n)
	if err := f.ErasePerson(ctx, "household", "h1", "u1"); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Hour)
	f.drain(t)
	if len(f.fcm.Deliveries()) != 0 {
		t.Error("an erased person's notification was sent")
	}
	if st := f.states(t, "u1"); len(st) != 0 {
		t.Errorf("erased person still has %v", st)
	}
	if ds, _ := f.Devices(ctx, "u1"); len(ds) != 0 {
		t.Error("erased person's token kept")
	}
}

func TestEnqueueRefusesBadInput(t *testing.T) {
	f := newFixture(t)
	for name, n := range map[string]Notification{
		"no key":       {UserID: "u", Kind: KindNewMatch},
		"no user":      {Key: "k", Kind: KindNewMatch},
		"unknown kind": {Key: "k", UserID: "u", Kind: "spam"},
		"bad key":      {Key: "k k", UserID: "u", Kind: KindNewMatch},
	} {
		if err := f.Enqueue(context.Background(), n); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, tok := range []string{"", "a b", strings.Repeat("x", 4097), "tok\n"} {
		if _, err := f.RegisterDevice(context.Background(), "u", Device{Token: tok}); err == nil {
			t.Errorf("token %q accepted", tok)
		}
	}
}

// TestTokenMovesToTheNewestUser: a phone's token registered by a second
// user (a shared phone, signed in by someone else) is theirs from then on:
// it leaves the first user's devices at once, and what is meant for the
// first user is not sent to it; what is meant for the second is.
func TestTokenMovesToTheNewestUser(t *testing.T) {
	f := newFixture(t)
	f.device(t, "lan", "tok-shared", "vi")
	f.device(t, "minh", "tok-shared", "vi")
	svc := f.instance(t, nil)
	if ds, err := svc.Devices(context.Background(), "lan"); err != nil || len(ds) != 0 {
		t.Fatalf("lan's devices after the move: %v %v", ds, err)
	}
	forLan, forMinh := match("new_match:r1:lan", "lan", "Lan"), match("new_match:r2:minh", "minh", "Minh")
	f.enqueue(t, forLan, forMinh)
	f.drain(t)
	got := f.fcm.Deliveries()
	if len(got) != 1 || got[0].Token != "tok-shared" || !strings.Contains(got[0].Body, "Minh") {
		t.Fatalf("deliveries %+v, want only Minh's to the shared phone", got)
	}
	if st := f.states(t, "lan")[forLan.ID()]; st != StateNoDevice {
		t.Errorf("lan's notification: %s, want no_device (kept in her list)", st)
	}
}
