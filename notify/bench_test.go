package notify

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"daisuso/store/storetest"
)

// heapPeak samples the heap in use until stop is closed and returns the
// highest figure seen.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var m runtime.MemStats
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// BenchmarkReminders is a campaign day's reminders: DAISUSO_BENCH_REMINDERS
// of them (default 50,000; the figure is 1,000,000), two for each
// of half as many users with one phone each, scheduled into MongoDB and
// the Redis queue, then sent through the real Firebase client to the local
// FCM stand-in by one instance with 4 workers. Midway the instance is
// killed inside a send (after FCM took the batch, before the outcomes were
// recorded) and a second instance takes over when the dead one's claims
// expire. It reports scheduling and sending rates, the worker's peak heap,
// the share of the worker's time spent in the stores, and what was lost or
// arrived twice.
func BenchmarkReminders(b *testing.B) {
	n := storetest.EnvInt("DAISUSO_BENCH_REMINDERS", 50_000)
	users := n / 2
	f := newFixture(b)
	f.fcm.KeepDeliveries = false
	ctx := context.Background()

	// Phones: written straight to MongoDB, then loaded into the directory
	// as at start (registering them one by one through the API is not
	// what is measured here).
	start := time.Now()
	docs := make([]deviceDoc, 0, 1000)
	for u := range users {
		docs = append(docs, deviceDoc{Token: fmt.Sprintf("tok-%07d", u), User: fmt.Sprintf("u%07d", u), Platform: "android",
			Locale: "vi", LastSeen: morning, Created: morning})
		if len(docs) == cap(docs) || u == users-1 {
			if _, err := f.st.devices.InsertMany(ctx, docs); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
	}
	if err := f.rdb.Del(ctx, f.q.devReadyKey()).Err(); err != nil {
		b.Fatal(err)
	}
	if err := f.Reconcile(ctx); err != nil {
		b.Fatal(err)
	}
	devices := time.Since(start)

	b.ResetTimer()
	start = time.Now()
	batch := make([]Notification, 0, 1000)
	for i := range n {
		u := i % users
		batch = append(batch, Notification{Key: fmt.Sprintf("new_match:b%d:u%07d", i, u), UserID: fmt.Sprintf("u%07d", u),
			Kind: KindNewMatch, Ref: fmt.Sprintf("b%d", i), Params: map[string]string{"name": "Lan"}})
		if len(batch) == cap(batch) || i == n-1 {
			if err := f.Enqueue(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	scheduling := time.Since(start)
	// As the service does at start and every minute (cmd/daisuso):
	// FerretDB's {_id: x} lookups use an index, here applied now and again
	// once the outcomes' collection exists, before the second instance
	// looks up the outcomes of what it reclaims.
	// DAISUSO_BENCH_FERRET_ID_INDEX=0 leaves it out, as before 2026-12-03.
	withIDIndex := storetest.EnvInt("DAISUSO_BENCH_FERRET_ID_INDEX", 1) != 0
	indexed := 0
	if withIDIndex {
		indexed += storetest.IndexFerretIDs(b)
	}

	runtime.GC()
	f.clock.Start() // retries and leases fall due in real time from here
	stopSampling := make(chan struct{})
	peak := heapPeak(stopSampling)
	d := &dying{die: make(chan struct{}), dead: make(chan struct{})}
	a := f.instance(b, func(s Sender) Sender { d.Sender = s; return d })
	d.redis = a.cfg.Redis.(*redis.Client)
	a.cfg.SendTimeout = 30 * time.Second // the default, as in production
	a.cfg.Workers = storetest.EnvInt("DAISUSO_BENCH_PUSH_WORKERS", 4)
	start = time.Now()
	cpu := storetest.CPUNow(ctx, f.rdb)
	stopProfile := storetest.ProfileCPU(b, "DAISUSO_BENCH_CPUPROFILE")
	go a.Run(context.Background()) // killed inside a send: never returns
	progress(b, "first instance", func() (bool, int) { return f.fcm.Accepted() >= n/2, f.fcm.Accepted() })
	stopProfile()
	close(d.die)
	<-d.dead
	firstPart := time.Since(start)
	firstCPU := cpu.Since(ctx, f.rdb)
	byA := f.fcm.Accepted()
	f.clock.Add(2 * time.Minute) // the dead instance's claims expire
	idIndex := "not applied"
	if withIDIndex {
		indexed += storetest.IndexFerretIDs(b)
		idIndex = fmt.Sprintf("applied (%d tables)", indexed)
	}
	second := f.instance(b, nil)
	second.cfg.SendTimeout = 30 * time.Second
	ctx2, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	start = time.Now()
	go func() { second.Run(ctx2); close(done) }()
	progress(b, "second instance", func() (bool, int) {
		pending, err := second.Pending(ctx)
		if err != nil {
			return false, -1
		}
		// progress: ids delivered, and the queue emptying (retries and
		// batches whose outcomes must be recorded again drain after all
		// ids have arrived)
		return pending == 0, f.fcm.Distinct() + n - int(pending)
	})
	secondPart := time.Since(start)
	cancel()
	<-done
	close(stopSampling)
	b.StopTimer()

	got := f.fcm.PerID()
	lost, twice := 0, 0
	for i := range n {
		if c := got[IDOf(fmt.Sprintf("new_match:b%d:u%07d", i, i%users))]; c == 0 {
			lost++
		} else {
			twice += c - 1
		}
	}
	ids, err := f.st.recordedIDs(ctx)
	if err != nil {
		b.Fatal(err)
	}
	recorded := int64(len(ids))
	sa, sb := a.Stats(), second.Stats()
	storeTime, sendTime := sa.StoreTime+sb.StoreTime, sa.SendTime+sb.SendTime
	sending := firstPart + secondPart
	var out strings.Builder
	fmt.Fprintf(&out, "Reminders: %d to %d users with one phone each; store: %s and a real redis-server; FCM: the real Firebase client\n", n, users, storetest.MongoKind())
	fmt.Fprintf(&out, "to notify/fcmtest on loopback, in the same process; one instance, %d workers, batches of 500; %d cores; GOGC %s;\n", a.cfg.Workers, runtime.NumCPU(), storetest.GCPercent())
	fmt.Fprintf(&out, "FerretDB's _id index (ferret.Server.IndexIDs, as the service applies at start and every minute): %s\n\n", idIndex)
	fmt.Fprintln(&out, "| step | count | seconds | per second |")
	fmt.Fprintln(&out, "| --- | --- | --- | --- |")
	fmt.Fprintf(&out, "| phones loaded into the Redis directory (from MongoDB) | %d | %.2f | %.0f |\n", users, devices.Seconds(), float64(users)/devices.Seconds())
	fmt.Fprintf(&out, "| scheduled (MongoDB insert + Redis queue) | %d | %.2f | %.0f |\n", n, scheduling.Seconds(), float64(n)/scheduling.Seconds())
	fmt.Fprintf(&out, "| sent by the first instance until killed | %d | %.2f | %.0f |\n", byA, firstPart.Seconds(), float64(byA)/firstPart.Seconds())
	fmt.Fprintf(&out, "| sent in all (both instances, waits excluded) | %d | %.2f | %.0f |\n\n", len(got), sending.Seconds(), float64(n)/sending.Seconds())
	fmt.Fprintf(&out, "- worker time in the stores (MongoDB outcome inserts, Redis claims/directory): %.0f%% (%.1f s store, %.1f s sending, summed over workers)\n",
		100*storeTime.Seconds()/(storeTime+sendTime).Seconds(), storeTime.Seconds(), sendTime.Seconds())
	fmt.Fprintf(&out, "- CPU while the first instance sent: %s, of %d; %.0f µs of CPU a message in all\n",
		firstCPU.Cores(firstPart), runtime.NumCPU(), float64((firstCPU.Process+firstCPU.Redis).Microseconds())/float64(byA))
	fmt.Fprintf(&out, "- peak heap while sending: %.0f MB (the FCM stand-in's record of %d ids is in the same heap)\n", float64(<-peak)/(1<<20), n)
	fmt.Fprintf(&out, "- retried after an error or timeout: %d; failed: %d\n", sa.Retried+sb.Retried, sa.Outcomes[StateFailed]+sb.Outcomes[StateFailed])
	fmt.Fprintf(&out, "- lost: %d; outcomes recorded: %d of %d; arrived twice: %d (the batches in flight, one per worker, when the instance was killed; same message id, dropped by the app)\n",
		lost, recorded, n, twice)
	storetest.WriteResult(fmt.Sprintf("notify-reminders-%d.md", n), out.String())
	if lost != 0 || recorded != int64(n) {
		b.Errorf("lost %d, recorded %d of %d", lost, recorded, n)
	}
}

// progress waits until done says so, failing the benchmark when the count
// it reports stops moving for five minutes (retries back off for up to 90 s
// by their second attempt).
func progress(b *testing.B, what string, done func() (bool, int)) {
	b.Helper()
	last, since := -1, time.Now()
	for {
		ok, count := done()
		if ok {
			return
		}
		if count != last {
			last, since = count, time.Now()
		} else if time.Since(since) > 5*time.Minute {
			b.Fatalf("%s: stuck at %d for five minutes", what, count)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
