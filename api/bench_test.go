package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/gamify"
	"daisuso/people"
	"daisuso/people/seed"
	"daisuso/store/storetest"
)

// BenchmarkOnlineMatchingHTTP posts help requests through the HTTP API with
// real stores (FerretDB on SQLite in-process, or MONGODB_URI; a real
// redis-server) from 50 concurrent clients, on a commune of 3,000
// households and 150 volunteers seeded through the registry. It prints
// p50/p95/p99 latency, requests per second and errors, also written to
// bench/results/online-http.md. The store is named in the output: FerretDB
// scans whole collections, so its figures are the store's, not the
// matcher's (BenchmarkOnlineMatcherCPU in matching has those).
func BenchmarkOnlineMatchingHTTP(b *testing.B) {
	ta := newTestAPI(b, func(d *Deps) {
		d.RateLimits = RateLimits{}
		d.RequestTimeout = 30 * time.Second
		d.UserCacheTTL = 10 * time.Second // as in production (USER_CACHE_TTL)
	})
	ctx := context.Background()
	plan := seed.Generate(seed.Config{Seed: 5, Households: 3000, Communes: 1})
	if _, err := seed.Write(ctx, ta.deps.People, plan, nil); err != nil {
		b.Fatal(err)
	}
	cur, err := ta.db.Collection("households").Find(ctx, bson.D{})
	if err != nil {
		b.Fatal(err)
	}
	var ids []string
	for cur.Next(ctx) {
		ids = append(ids, cur.Current.Lookup("_id").StringValue())
	}
	households := len(ids)
	// As the service does at start (make run): FerretDB's {_id: x}
	// lookups on SQLite use an index only with this.
	indexed := storetest.IndexFerretIDs(b)
	// How many of the households ask (DAISUSO_BENCH_REQUESTS, default 500):
	// on FerretDB every query but {_id} scans its collection, and all 3,000
	// took over 15 minutes here.
	n := 500
	if v := os.Getenv("DAISUSO_BENCH_REQUESTS"); v != "" {
		fmt.Sscan(v, &n)
	}
	ids = ids[:min(n, len(ids))]
	staff := ta.tokenIn("demo-staff-"+plan.Communes[0].Code, "", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go ta.App().Listener(ln)
	defer ta.App().ShutdownWithTimeout(5 * time.Second)
	url := "http://" + ln.Addr().String() + "/v1/help-requests"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second}

	const clients = 50
	var mu sync.Mutex
	var lat []time.Duration
	states := map[string]int{}
	errs := 0
	work := make(chan string)
	storetest.ResetCommands()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				t0 := time.Now()
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(fmt.Sprintf(`{"household_id":%q}`, id)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(staff[0], staff[1])
				res, err := client.Do(req)
				d := time.Since(t0)
				var out struct{ State string }
				if err == nil {
					decodeBody(res, &out)
				}
				mu.Lock()
				if err != nil || res.StatusCode != http.StatusCreated {
					errs++
				} else {
					lat = append(lat, d)
					states[out.State]++
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	took := time.Since(start)
	b.StopTimer()
	pct := percentiles(lat, time.Millisecond)
	store := storetest.MongoKind()
	var t strings.Builder
	fmt.Fprintf(&t, "Online matching through HTTP: %d help requests from %d clients, commune of %d households and %d volunteers;\n",
		len(ids), clients, households, len(plan.Volunteers))
	fmt.Fprintf(&t, "store: %s with ferret.Server.IndexIDs applied (%d indexes), and a real redis-server; users cached for 10 s as in production; %d cores, load generator on the same machine\n\n", store, indexed, runtime.NumCPU())
	fmt.Fprintln(&t, "| requests | errors | matched | waiting | req/s | p50 | p95 | p99 | max |")
	fmt.Fprintln(&t, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	fmt.Fprintf(&t, "| %d | %d | %d | %d | %.0f | %v | %v | %v | %v |\n", len(ids), errs, states["matched"], states["waiting"],
		float64(len(lat))/took.Seconds(), pct(.5), pct(.95),
		pct(.99), pct(1))
	fmt.Fprintf(&t, "\nMongoDB commands the service sent while the requests ran (mean time from when the command left the driver, so the wait for one of its connections is not included, and the wait inside FerretDB is):\n\n%s",
		storetest.CommandTable(len(ids)))
	storetest.WriteResult("online-http.md", t.String())
}

// BenchmarkLeaderboardHTTP reads boards of DAISUSO_BENCH_VOLUNTEERS
// volunteers (default 1,000,000, put on the boards with LoadBoards) through
// the HTTP API from 50 clients: DAISUSO_BENCH_READS requests (default
// 100,000), half top-10 of the national volunteers board, half `me`. It
// prints p50/p95/p99 and requests per second, also written to
// bench/results/leaderboard-http.md. The users cache is on (10 s), as in
// production, so a read touches Redis only.
//
// By default the 50 clients are 50 volunteers, each reading as itself, so
// the users and their neighbours' names come from the instance's caches.
// DAISUSO_BENCH_READERS=N (more than 50) makes the readers N volunteers,
// registered as users first, whose reads go round them in turn (the pair
// top-10 and `me` by one reader, as an app opening the board does): with N
// half the reads, every pair is a reader the instance has not seen, whose
// user is read from the store (by whichever of the two reads comes first)
// and whose neighbours' names from Redis. Its report is
// leaderboard-http-readers-N.md, without wrk.
func BenchmarkLeaderboardHTTP(b *testing.B) {
	ta := newTestAPI(b, func(d *Deps) {
		d.RateLimits = RateLimits{}
		d.UserCacheTTL = 10 * time.Second
		// As in production: requests are not logged one by one at info.
		d.Logger = slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	ctx := context.Background()
	n := 1_000_000
	if v := os.Getenv("DAISUSO_BENCH_VOLUNTEERS"); v != "" {
		fmt.Sscan(v, &n)
	}
	reads := 100_000
	if v := os.Getenv("DAISUSO_BENCH_READS"); v != "" {
		fmt.Sscan(v, &reads)
	}
	loadStart := time.Now()
	const chunk = 100_000
	now := time.Now()
	for from := 0; from < n; from += chunk {
		entries := make([]gamify.Entry, 0, chunk)
		for i := from; i < min(n, from+chunk); i++ {
			commune := i % 3300
			entries = append(entries, gamify.Entry{ID: fmt.Sprint(i), Points: 10 + i%997, At: now,
				Who: gamify.Who{VolunteerID: fmt.Sprintf("v%07d", i), Name: "Lan", BranchID: fmt.Sprintf("b%05d", commune),
					BranchName: "Chi đoàn", CommuneID: fmt.Sprintf("c%05d", commune), CommuneName: "Xã",
					ProvinceCode: fmt.Sprintf("%02d", 10+commune%34), CommuneCode: fmt.Sprintf("%05d", commune)},
				Credits: []gamify.Credit{{Campaign: gamify.AllTime, Points: 10 + i%997}}})
		}
		if err := ta.deps.Gamify.LoadBoards(ctx, entries); err != nil {
			b.Fatal(err)
		}
	}
	loaded := time.Since(loadStart)
	const clients = 50
	readers := clients
	if v := os.Getenv("DAISUSO_BENCH_READERS"); v != "" {
		fmt.Sscan(v, &readers)
	}
	readers = min(max(readers, clients), n)
	var tokens [][]string
	indexed := 0
	if readers > clients {
		tokens = benchReaders(b, ta, readers, n)
		indexed = storetest.IndexFerretIDs(b)
	} else {
		tokens = make([][]string, clients)
		for i := range tokens {
			tokens[i] = ta.tokenIn(fmt.Sprintf("v%07d", i*(n/clients)), people.RoleVolunteer, "")
		}
	}
	runtime.GC() // the garbage of loading is not the reads' to collect
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go ta.App().Listener(ln)
	defer ta.App().ShutdownWithTimeout(5 * time.Second)
	base := "http://" + ln.Addr().String()
	clientName, get := readClient(base, clients)
	var mu sync.Mutex
	lat := map[string][]time.Duration{}
	errs := 0
	var next atomic.Int64
	b.ResetTimer()
	stopProfile := storetest.ProfileCPU(b, "DAISUSO_BENCH_CPUPROFILE")
	cmds := storetest.RedisCommandsNow(ctx, ta.deps.Redis)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= reads {
					return
				}
				kind, path := "top-10", "/v1/leaderboards/all?period=week&limit=10"
				if i%2 == 1 {
					kind, path = "me", "/v1/leaderboards/all/me?period=week"
				}
				tok := tokens[w]
				if readers > clients {
					tok = tokens[(i/2)%readers]
				}
				t0 := time.Now()
				ok := get(path, tok[0], tok[1])
				d := time.Since(t0)
				mu.Lock()
				if ok {
					lat[kind] = append(lat[kind], d)
				} else {
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	stopProfile()
	b.StopTimer()
	var t strings.Builder
	fmt.Fprintf(&t, "Leaderboard reads through HTTP: %d requests from %d clients on boards of %d volunteers (loaded in %.1f s);\n",
		reads, clients, n, loaded.Seconds())
	users := fmt.Sprintf("the %d clients are %d volunteers reading as themselves, users cached in memory (FerretDB is not read)", clients, clients)
	if readers > clients {
		users = fmt.Sprintf("the reads go round %d volunteers, a top-10 and a `me` each in turn; users read from %s (ferret.Server.IndexIDs applied, %d indexes) the first time and cached for 10 s", readers, storetest.MongoKind(), indexed)
	}
	fmt.Fprintf(&t, "boards: a real redis-server; %s; top rows and names cached for 1 s per instance; %d cores, load generator (%s client) in the same process; GOGC %s\n\n", users, runtime.NumCPU(), clientName, storetest.GCPercent())
	fmt.Fprintln(&t, "| read | requests | p50 | p95 | p99 | max |")
	fmt.Fprintln(&t, "| --- | --- | --- | --- | --- | --- |")
	for _, kind := range []string{"top-10", "me"} {
		pct := percentiles(lat[kind], 10*time.Microsecond)
		fmt.Fprintf(&t, "| %s | %d | %v | %v | %v | %v |\n", kind, len(lat[kind]), pct(.5), pct(.95), pct(.99), pct(1))
	}
	fmt.Fprintf(&t, "\n%.0f requests/s in all, %d errors; redis-server's commands (INFO commandstats): %s\n",
		float64(reads)/took.Seconds(), errs, cmds.Since(ctx, ta.deps.Redis, 3))
	if readers > clients {
		storetest.WriteResult(fmt.Sprintf("leaderboard-http-readers-%d.md", readers), t.String())
		return
	}
	wrkReads(b, &t, base, tokens)
	storetest.WriteResult("leaderboard-http.md", t.String())
}

// benchReaders registers readers volunteers spread over the n on the
// boards, from 4 goroutines straight through the people service (not a
// request each to the dev token endpoint), and returns a dev token of each.
func benchReaders(b *testing.B, ta *testAPI, readers, n int) [][]string {
	ctx := context.Background()
	tokens := make([][]string, readers)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				r := int(next.Add(1)) - 1
				if r >= readers {
					return
				}
				id := fmt.Sprintf("v%07d", r*(n/readers))
				if _, _, err := ta.deps.People.EnsureUser(ctx, people.User{ID: id, Role: people.RoleVolunteer}); err != nil {
					failed.Store(&err)
					return
				}
				tok, _ := ta.deps.DevTokens.Issue(id)
				tokens[r] = bearer(tok)
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		b.Fatalf("register readers: %v", *err)
	}
	return tokens
}

// wrkReads measures the same two reads with wrk, the load generator
// ../shared/FACTS.md's ceilings were measured with, from its own process
// (50 connections, 10 s each, the same 50 volunteers' tokens): the
// in-process clients share the server's Go scheduler, and every wait of a
// request on Redis or the network queues it behind them. It runs wrk with
// 2 threads, as FACTS.md did, and with 1: on two cores, two threads of
// wrk take a core from the server, and the one the scheduler starves
// makes the tail (top-10 on 2026-12-04, 1,000,000 volunteers: p99 33.1 ms
// at 30,275 req/s with 2 threads, 5.8 ms at 38,852 with 1; 100,000: 31.6
// ms at 27,438 and 8.5 ms at 33,042). Without wrk on the PATH it says how
// to install it.
func wrkReads(b *testing.B, t *strings.Builder, base string, tokens [][]string) {
	if _, err := exec.LookPath("wrk"); err != nil {
		fmt.Fprintln(t, "\nwrk: not installed (apt-get install -y wrk), not measured")
		return
	}
	var vals []string
	for _, tok := range tokens {
		vals = append(vals, fmt.Sprintf("%q", tok[1]))
	}
	script := filepath.Join(b.TempDir(), "tokens.lua")
	lua := fmt.Sprintf(`local tokens = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", nil, {["%s"] = tokens[n %% #tokens + 1]})
end
`, strings.Join(vals, ","), tokens[0][0])
	if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintln(t, "\nThe same reads from wrk in its own process (-c50 -d10s, one read at a time, 2 threads as in FACTS.md and 1):")
	fmt.Fprintln(t, "\n| read | wrk threads | requests/s | p50 | p90 | p99 |")
	fmt.Fprintln(t, "| --- | --- | --- | --- | --- | --- |")
	for _, r := range []struct{ kind, path, threads string }{
		{"top-10", "/v1/leaderboards/all?period=week&limit=10", "2"},
		{"me", "/v1/leaderboards/all/me?period=week", "2"},
		{"top-10", "/v1/leaderboards/all?period=week&limit=10", "1"},
		{"me", "/v1/leaderboards/all/me?period=week", "1"},
	} {
		out, err := exec.Command("wrk", "-t"+r.threads, "-c50", "-d10s", "--latency", "-s", script, base+r.path).CombinedOutput()
		if err != nil {
			b.Fatalf("wrk: %v\n%s", err, out)
		}
		if bytes.Contains(out, []byte("Non-2xx")) || bytes.Contains(out, []byte("Socket errors")) {
			b.Fatalf("wrk %s: errors\n%s", r.kind, out)
		}
		field := func(prefix string) string {
			for line := range strings.SplitSeq(string(out), "\n") {
				if f := strings.Fields(line); len(f) >= 2 && strings.Join(f[:len(f)-1], " ") == prefix {
					return f[len(f)-1]
				}
			}
			return "?"
		}
		fmt.Fprintf(t, "| %s | %s | %s | %s | %s | %s |\n", r.kind, r.threads, field("Requests/sec:"), field("50%"), field("90%"), field("99%"))
	}
}

// readClient returns the benchmark's GET of a path with one header, true
// on a 200 with its body read. DAISUSO_BENCH_CLIENT picks the client: fasthttp
// (the default) spends less of the two cores it shares with the server than
// net/http, whose figures the earlier reports have; "nethttp" gives those.
func readClient(base string, conns int) (name string, get func(path, header, value string) bool) {
	if os.Getenv("DAISUSO_BENCH_CLIENT") == "nethttp" {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns + 14}, Timeout: 30 * time.Second}
		return "net/http", func(path, header, value string) bool {
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			req.Header.Set(header, value)
			res, err := client.Do(req)
			if err != nil {
				return false
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			return res.StatusCode == http.StatusOK
		}
	}
	client := &fasthttp.HostClient{Addr: strings.TrimPrefix(base, "http://"), MaxConns: conns + 14, ReadTimeout: 30 * time.Second}
	return "fasthttp", func(path, header, value string) bool {
		req, res := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(res)
		req.SetRequestURI(base + path)
		req.Header.Set(header, value)
		return client.Do(req, res) == nil && res.StatusCode() == http.StatusOK
	}
}

// percentiles sorts lat and returns its p-quantile (0 to 1) rounded to r.
func percentiles(lat []time.Duration, r time.Duration) func(p float64) time.Duration {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(r)
	}
}
