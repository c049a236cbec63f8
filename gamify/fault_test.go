package gamify

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/store"
	"daisuso/store/storetest"
)

// TestRedisKilledDuringAwards kills Redis a third of the way through
// 10,000 awards (DAISUSO_FAULT_AWARDS sets another number) and starts it
// again, empty, at two thirds. Every award is sent twice, and retried while
// it fails, as the sessions service would. At the end the ledger holds each
// award exactly once, and the boards the service rebuilt by itself
// (Maintain) equal a quiet rebuild of the ledger and sum to its points.
func TestRedisKilledDuringAwards(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 2_000
	}
	if v := os.Getenv("DAISUSO_FAULT_AWARDS"); v != "" {
		fmt.Sscan(v, &n)
	}
	srv := storetest.OwnRedis(t)
	rdb, err := store.OpenRedis(context.Background(), store.RedisConfig{URL: srv.URL, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	f := newFixtureOn(t, rdb, storetest.Name("k")+":")
	ctx, cancel := context.WithCancel(context.Background())
	maintained := make(chan struct{})
	go func() { store.Every(ctx, 100*time.Millisecond, false, f.Maintain); close(maintained) }()

	var made, dup, failures, done atomic.Int64
	work := make(chan int)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				a := Award{Key: fmt.Sprintf("award:%d", i), Reason: ReasonSession, Source: "fault-test", Who: who(i % 40), At: f.now}
				for {
					_, ok, err := f.Award(context.Background(), a)
					if err != nil {
						failures.Add(1)
						time.Sleep(10 * time.Millisecond)
						continue
					}
					if ok {
						made.Add(1)
					} else {
						dup.Add(1)
					}
					break
				}
				done.Add(1)
			}
		}()
	}
	var stopped, restarted time.Time
	for i := range n {
		for _, k := range []int{i, i} { // each award twice
			work <- k
		}
		switch i {
		case n / 3:
			srv.Stop()
			stopped = time.Now()
		case 2 * n / 3:
			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
			restarted = time.Now()
		}
	}
	close(work)
	wg.Wait()
	t.Logf("%d awards sent twice; Redis down for %s; %d made, %d refused as duplicates, %d retried errors",
		n, restarted.Sub(stopped).Round(time.Millisecond), made.Load(), dup.Load(), failures.Load())
	if made.Load() != int64(n) || dup.Load() != int64(n) {
		t.Fatalf("made %d and duplicates %d, want %d each", made.Load(), dup.Load(), n)
	}
	// The checks scan the whole ledger, which on FerretDB under the race
	// detector outlasts the store client's default timeout.
	long, cancelLong := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancelLong()
	coll := f.ledger.coll
	if c, err := coll.CountDocuments(long, bson.D{{Key: "source", Value: "fault-test"}}); err != nil || c != int64(n) {
		t.Fatalf("ledger holds %d entries (%v), want %d", c, err, n)
	}

	// The service rebuilds by itself once Redis is back.
	deadline := time.Now().Add(3 * time.Minute)
	for f.boards.dirty.Load() || !f.hasBoards(t) {
		if time.Now().After(deadline) {
			gen, next, err := f.boards.state(context.Background())
			t.Fatalf("boards not rebuilt within 3 minutes of Redis's return: dirty %v gen %q next %q err %v; ensure: %v", f.boards.dirty.Load(), gen, next, err, f.EnsureBoards(context.Background()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-maintained
	healed := f.boardSnapshot(t)
	if _, err := f.Rebuild(long); err != nil {
		t.Fatal(err)
	}
	quiet := f.boardSnapshot(t)
	if !equalBoards(healed, quiet) {
		t.Fatalf("boards after the outage differ from a rebuild of the ledger: %s", diffBoards(healed, quiet))
	}
	sum := 0.0
	for _, p := range healed["all:volunteers:national:campaign"] {
		sum += p
	}
	if want := float64(n * BasePoints[ReasonSession]); sum != want {
		t.Fatalf("the national board sums to %v points, the ledger to %v", sum, want)
	}
}

// hasBoards tells whether Redis holds a generation of boards and no
// rebuild is under way.
func (f *fixture) hasBoards(t *testing.T) bool {
	gen, next, err := f.boards.state(context.Background())
	return err == nil && gen != "" && next == ""
}
