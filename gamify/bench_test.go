package gamify

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"daisuso/store/storetest"
)

// benchWho spreads volunteers over 34 provinces, 3,300 communes and 3
// branches a commune.
func benchWho(i int) Who {
	commune := i % 3300
	return Who{VolunteerID: fmt.Sprintf("v%07d", i), Name: "Lan", BranchID: fmt.Sprintf("b%05d-%d", commune, i%3),
		BranchName: "Chi đoàn", CommuneID: fmt.Sprintf("c%05d", commune), CommuneName: "Xã",
		ProvinceCode: fmt.Sprintf("%02d", 10+commune%34), CommuneCode: fmt.Sprintf("%05d", commune)}
}

// BenchmarkAwards makes DAISUSO_BENCH_AWARDS awards (default 20,000) from
// DAISUSO_BENCH_AWARDERS goroutines (default 50) end to end (the awards
// made at the same time go as a group: one ledger insert, then every board
// in one pipeline), with a national campaign running besides the all-time
// one, and then the boards' share alone: the same number of entries
// applied to Redis without the ledger, one pipeline per award.
//
// The boards first hold DAISUSO_BENCH_BOARD_VOLUNTEERS volunteers (default
// 1,000,000, as issue 5 asks; put there with LoadBoards, in both campaigns
// and the awards' week and month), and each award goes to a different one
// of them, so that every increment moves a member of a board that size.
// With 0 the boards start empty and the awards go round 100,000 volunteers,
// as before 2026-12-04 (the national boards then end at 40,000 members).
//
// With DAISUSO_BENCH_REDIS=cluster the boards are on a Redis Cluster of
// three masters started for the benchmark on this machine, instead of the
// redis-server of the tests.
func BenchmarkAwards(b *testing.B) {
	cluster := os.Getenv("DAISUSO_BENCH_REDIS") == "cluster"
	var f *fixture
	if cluster {
		f = newFixtureOn(b, storetest.RedisCluster(b), storetest.Name("bench")+":")
	} else {
		f = newFixture(b)
	}
	ctx := context.Background()
	if _, err := f.CreateCampaign(ctx, NewCampaign{Name: "Chiến dịch", Scope: ScopeNational, StartsAt: f.now.Add(-time.Hour),
		EndsAt: f.now.Add(24 * time.Hour)}, "admin", nil); err != nil {
		b.Fatal(err)
	}
	n := storetest.EnvInt("DAISUSO_BENCH_AWARDS", 20_000)
	workers := storetest.EnvInt("DAISUSO_BENCH_AWARDERS", 50)
	volunteers := storetest.EnvInt("DAISUSO_BENCH_BOARD_VOLUNTEERS", 1_000_000)
	list, err := f.campaigns.all(ctx, f.now)
	if err != nil {
		b.Fatal(err)
	}
	loaded := loadBenchBoards(b, f, list, volunteers)
	awardee := func(i int) Who { return benchWho(i % 100_000) }
	if volunteers > 0 {
		// 7,919 is prime and divides no power of ten: the first awards
		// (fewer than volunteers) go to different volunteers, spread out.
		awardee = func(i int) Who { return benchWho(i * 7919 % volunteers) }
	}
	run := func(do func(i int) error) (time.Duration, int64) {
		var next, errs atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1)) - 1
					if i >= n {
						return
					}
					if err := do(i); err != nil {
						errs.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start), errs.Load()
	}
	b.ResetTimer()
	cpu, cmds := storetest.CPUNow(ctx, f.rdb), storetest.RedisCommandsNow(ctx, f.rdb)
	stopProfile := storetest.ProfileCPU(b, "DAISUSO_BENCH_CPUPROFILE")
	endToEnd, errs1 := run(func(i int) error {
		_, _, err := f.Award(ctx, Award{Key: fmt.Sprintf("bench:%d", i), Reason: ReasonSession, Who: awardee(i), At: f.now})
		return err
	})
	stopProfile()
	endToEndCPU, endToEndCmds := cpu.Since(ctx, f.rdb), cmds.Since(ctx, f.rdb, 3)
	boardsOnly, errs2 := run(func(i int) error {
		e := Entry{ID: fmt.Sprintf("boards:%d", i), Reason: ReasonSession, Points: 10, At: f.now, Who: awardee(i)}
		e.Credits = credits(list, e)
		return f.boards.apply(ctx, []Entry{e})
	})
	b.StopTimer()
	var out strings.Builder
	fmt.Fprintf(&out, "Point awards, %d from %d goroutines; two campaigns (all-time and a national one), 27 board increments per campaign;\n", n, workers)
	if volunteers > 0 {
		fmt.Fprintf(&out, "boards of %d volunteers before the awards (loaded in %.1f s), each award to a different one of them;\n", volunteers, loaded.Seconds())
	} else {
		fmt.Fprintln(&out, "boards empty before the awards, which go round 100,000 volunteers;")
	}
	redisKind := "a real redis-server"
	if cluster {
		redisKind = "a Redis Cluster of 3 masters (redis-server, no replicas) on the same machine; Redis figures below are its masters' sums"
	}
	fmt.Fprintf(&out, "ledger: %s; boards: %s; %d cores; GOGC %s\n\n", storetest.MongoKind(), redisKind, runtime.NumCPU(), storetest.GCPercent())
	fmt.Fprintln(&out, "| path | awards | errors | seconds | awards/s |")
	fmt.Fprintln(&out, "| --- | --- | --- | --- | --- |")
	fmt.Fprintf(&out, "| end to end (ledger insert + boards) | %d | %d | %.2f | %.0f |\n", n, errs1, endToEnd.Seconds(), float64(n)/endToEnd.Seconds())
	fmt.Fprintf(&out, "| boards only (Redis pipeline) | %d | %d | %.2f | %.0f |\n\n", n, errs2, boardsOnly.Seconds(), float64(n)/boardsOnly.Seconds())
	fmt.Fprintf(&out, "CPU end to end: %s, of %d; %.0f µs of CPU an award in all\n", endToEndCPU.Cores(endToEnd), runtime.NumCPU(),
		float64((endToEndCPU.Process+endToEndCPU.Redis).Microseconds())/float64(n))
	fmt.Fprintf(&out, "redis-server's commands end to end (INFO commandstats): %s\n", endToEndCmds)
	name := "gamify-awards"
	if workers != 50 {
		name += fmt.Sprintf("-%d", workers)
	}
	if volunteers == 0 {
		name += "-empty"
	}
	if cluster {
		name += "-cluster"
	}
	name += ".md"
	storetest.WriteResult(name, out.String())
}

// loadBenchBoards puts volunteers benchWho(0) to benchWho(volunteers-1)
// on the boards of f's campaigns at f.now, with scores that differ, and
// returns how long it took.
func loadBenchBoards(b *testing.B, f *fixture, list []Campaign, volunteers int) time.Duration {
	start := time.Now()
	es := make([]Entry, volunteers)
	for i := range es {
		es[i] = Entry{ID: fmt.Sprintf("load:%d", i), Reason: ReasonSession, Points: 10 + i%997, At: f.now, Who: benchWho(i)}
		es[i].Credits = credits(list, es[i])
	}
	if err := f.LoadBoards(context.Background(), es); err != nil {
		b.Fatal(err)
	}
	runtime.GC() // the garbage of loading is not the awards' to collect
	return time.Since(start)
}

// BenchmarkRebuild writes DAISUSO_BENCH_LEDGER ledger entries (default
// 100,000) straight into the ledger and times a rebuild of every board
// from them. The entries' volunteers come in no order, as in a real
// ledger; with DAISUSO_BENCH_LEDGER_IN_ORDER=1 in the order of their ids,
// as before 2026-12-04, which makes a board's members arrive in the order
// Redis keeps them.
func BenchmarkRebuild(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	n := storetest.EnvInt("DAISUSO_BENCH_LEDGER", 100_000)
	inOrder := os.Getenv("DAISUSO_BENCH_LEDGER_IN_ORDER") == "1"
	order := rand.New(rand.NewPCG(1, 2)).Perm(n)
	if inOrder {
		for i := range order {
			order[i] = i
		}
	}
	start := time.Now()
	batch := make([]any, 0, 1000)
	for i := range n {
		e := Entry{ID: fmt.Sprintf("rb:%d", i), Reason: ReasonSession, Points: 10,
			At: f.now.Add(-time.Duration(i%60) * 24 * time.Hour), Who: benchWho(order[i])}
		e.Credits = []Credit{{Campaign: AllTime, Points: 10}}
		batch = append(batch, toEntryDoc(e))
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := f.ledger.coll.InsertMany(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	insert := time.Since(start)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	stopProfile := storetest.ProfileCPU(b, "DAISUSO_BENCH_CPUPROFILE")
	cpu, cmds := storetest.CPUNow(ctx, f.rdb), storetest.RedisCommandsNow(ctx, f.rdb)
	st, err := f.Rebuild(ctx)
	used, usedCmds := cpu.Since(ctx, f.rdb), cmds.Since(ctx, f.rdb, 3)
	stopProfile()
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	var out strings.Builder
	shape := "in no order"
	if inOrder {
		shape = "in the order of their ids"
	}
	fmt.Fprintf(&out, "Rebuild of every board from %d ledger entries (one volunteer each, %s, over 60 days, 3,300 communes);\n", n, shape)
	fmt.Fprintf(&out, "ledger: %s; boards: a real redis-server; %d cores; GOGC %s\n\n", storetest.MongoKind(), runtime.NumCPU(), storetest.GCPercent())
	fmt.Fprintln(&out, "| entries | boards written | rebuild | of which reading and adding up | writing the boards | waiting for awards in flight | allocated | writing the ledger first |")
	fmt.Fprintln(&out, "| --- | --- | --- | --- | --- | --- | --- | --- |")
	fmt.Fprintf(&out, "| %d | %d | %.1f s | %.1f s | %.1f s | %.1f s | %d MB | %.1f s |\n", st.Entries, st.Keys, st.Took.Seconds(), st.Read.Seconds(), st.Write.Seconds(), 2*f.boards.grace.Seconds(),
		(after.TotalAlloc-before.TotalAlloc)>>20, insert.Seconds())
	fmt.Fprintf(&out, "\nCPU of the rebuild: %s, of %d; %.0f µs an entry in all\n", used.Cores(st.Took), runtime.NumCPU(),
		float64((used.Process+used.Redis).Microseconds())/float64(st.Entries))
	fmt.Fprintf(&out, "redis-server's commands (INFO commandstats): %s\n", usedCmds)
	name := fmt.Sprintf("gamify-rebuild-%d", n)
	if inOrder {
		name += "-in-order"
	}
	storetest.WriteResult(name+".md", out.String())
}

// BenchmarkAggregate times the rebuild's adding up alone, in this process
// and without stores: DAISUSO_BENCH_AGGREGATE entries (default 1,000,000)
// shaped like BenchmarkRebuild's, added up and handed over for writing
// every streamAt changes as the rebuild does, to pipelines that are built
// and dropped.
func BenchmarkAggregate(b *testing.B) {
	n := storetest.EnvInt("DAISUSO_BENCH_AGGREGATE", 1_000_000)
	now := time.Date(2026, 10, 20, 9, 0, 0, 0, Vietnam)
	es := make([]Entry, n)
	for i := range es {
		es[i] = Entry{ID: fmt.Sprintf("rb:%d", i), Reason: ReasonSession, Points: 10,
			At: now.Add(-time.Duration(i%60) * 24 * time.Hour), Who: benchWho(i), Credits: []Credit{{Campaign: AllTime, Points: 10}}}
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled: the pipelines are dropped
	defer rdb.Close()
	bs := &boards{rdb: rdb, prefix: "bench:"}
	ctx := context.Background()
	drop := func(redis.Pipeliner) error { return nil }
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		agg := newAggregate()
		start := time.Now()
		for _, e := range es {
			agg.add(e)
			if agg.changed >= streamAt {
				if err := agg.writeChanged(ctx, bs, "1", drop); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := agg.writeChanged(ctx, bs, "1", drop); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(n), "ns/entry")
		sums := 0
		for _, bs := range agg.boards {
			sums += len(bs.sums)
		}
		b.ReportMetric(float64(sums), "sums")
		b.ReportMetric(float64(agg.written)/float64(sums), "writes/sum")
	}
}
