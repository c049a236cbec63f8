// Command loadgen puts a campaign day's mix of requests on a running daisuso
// with its demo province (`daisuso demo`) and reports what the server held:
// requests per second, p50/p95/p99 latency and errors, for the mix and for
// each endpoint alone, beside Fiber's own ceiling for a trivial handler on
// the same machine. `make load` starts the server and runs it; see
// docs/RELIABILITY.md.
//
// Before measuring it sets up its own actors inside the demo province:
// volunteers who sign in, households with the app who ask for help and
// confirm the sessions their mentor held, through the API like the apps.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "the server")
	commune := flag.String("commune", "03127", "demo commune code whose admin and staff set up the actors")
	clients := flag.Int("clients", 50, "concurrent clients")
	mixFor := flag.Duration("mix", 5*time.Minute, "how long the mix runs")
	soloFor := flag.Duration("solo", 20*time.Second, "how long each endpoint runs alone")
	volunteers := flag.Int("volunteers", 40, "volunteers to set up")
	out := flag.String("out", "bench/results/load.md", "where the report goes (also printed)")
	stores := flag.String("stores", "embedded FerretDB on SQLite, a real redis-server", "what the server runs on, for the report")
	flag.Parse()
	l := &loader{base: *base, client: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 4 * *clients, MaxConnsPerHost: 4 * *clients}}}
	start := time.Now()
	if err := l.setup(*commune, *volunteers); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: setup:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "set up %d volunteers, %d households, %d held sessions in %s\n",
		len(l.vols), len(l.hhs), len(l.held), time.Since(start).Round(time.Second))

	var report strings.Builder
	fmt.Fprintf(&report, "Load on %s: daisuso with the demo province (%s), %d clients, %d cores\n\n",
		time.Now().UTC().Format("2006-01-02"), *stores, *clients, runtime.NumCPU())
	mix := l.run(*clients, *mixFor, l.ops())
	fmt.Fprintf(&report, "Campaign-day mix for %s:\n\n", *mixFor)
	writeTable(&report, mix, 0)

	// Each endpoint alone, and Fiber's ceiling.
	ceiling, stopFiber := trivialFiber()
	defer stopFiber()
	fiberRes := l.run(*clients, *soloFor, []op{{name: "fiber trivial handler", weight: 1, do: func(c *clientState) (int, error) {
		return l.do("GET", ceiling+"/", "", "", "")
	}}})
	var solo []result
	for _, o := range l.ops() {
		r := l.run(*clients, *soloFor, []op{o})
		solo = append(solo, r...)
	}
	fmt.Fprintf(&report, "\nEach endpoint alone for %s, beside a trivial Fiber handler (%.0f req/s here):\n\n", *soloFor, fiberRes[0].rps)
	writeTable(&report, append(fiberRes, solo...), fiberRes[0].rps)
	fmt.Print("\n" + report.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
		}
	}
	errs := 0
	for _, r := range append(mix, solo...) {
		errs += r.errors
	}
	if errs > 0 {
		os.Exit(2)
	}
}

// actor is a signed-in user; a household user's id is their household's.
type actor struct {
	id, token string
	at        [2]float64 // lng, lat
}

type loader struct {
	base     string
	client   *http.Client
	branch   string // where volunteers register
	commune  string
	vols     []actor
	hhs      []actor
	everyone []actor             // vols and hhs
	mentors  []actor             // the vols with mentees
	mentees  map[string][]string // volunteer id -> households matched to them
	held     []heldSession       // sessions waiting for their household's confirmation
	n        atomic.Int64
}

type heldSession struct {
	id        string
	household actor
}

// do sends one request and returns its status; a body is read and dropped.
func (l *loader) do(method, url, body, token, idemKey string) (int, error) {
	st, _, err := l.call(method, url, body, token, idemKey)
	return st, err
}

func (l *loader) call(method, url, body, token, idemKey string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	res, err := l.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// must calls and decodes a 2xx answer.
func (l *loader) must(method, path, body, token string, out any) error {
	st, b, err := l.call(method, l.base+path, body, token, "")
	if err != nil {
		return err
	}
	if st/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, path, st, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (l *loader) token(user, role, branch string) (string, error) {
	var t struct{ Token string }
	err := l.must("POST", "/v1/dev/token", fmt.Sprintf(`{"user_id":%q,"role":%q,"branch_id":%q}`, user, role, branch), "", &t)
	return t.Token, err
}

// setup signs in as the demo commune's admin, finds where its households
// live, and registers volunteers there and households with the app beside
// them, who ask for help; each mentor then holds a session with each of
// their households, which waits for the household's confirmation.
func (l *loader) setup(communeCode string, nVols int) error {
	admin, err := l.token("demo-commune-"+communeCode, "", "")
	if err != nil {
		return err
	}
	var me struct {
		BranchID string `json:"branch_id"`
	}
	if err := l.must("GET", "/v1/me", "", admin, &me); err != nil {
		return fmt.Errorf("%w (run the server with `daisuso demo`)", err)
	}
	l.commune = me.BranchID
	var kids struct {
		Items []struct{ ID, Kind string }
	}
	if err := l.must("GET", "/v1/branches/"+l.commune+"/children?limit=100", "", admin, &kids); err != nil {
		return err
	}
	for _, k := range kids.Items {
		if k.Kind == "branch" {
			l.branch = k.ID
			break
		}
	}
	var cov struct {
		Features []struct {
			Geometry struct {
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties struct {
				Households int `json:"households"`
			} `json:"properties"`
		} `json:"features"`
	}
	if err := l.must("GET", "/v1/coverage?res=8&commune_id="+l.commune, "", admin, &cov); err != nil {
		return err
	}
	var spots [][2]float64 // lng, lat of cells with households
	for _, f := range cov.Features {
		if f.Properties.Households > 0 && len(f.Geometry.Coordinates) > 0 {
			var lat, lng float64
			ring := f.Geometry.Coordinates[0]
			for _, p := range ring {
				lng += p[0] / float64(len(ring))
				lat += p[1] / float64(len(ring))
			}
			spots = append(spots, [2]float64{lng, lat})
		}
	}
	if len(spots) == 0 || l.branch == "" {
		return fmt.Errorf("the demo commune has no households or no branch")
	}
	l.mentees = map[string][]string{}
	loadVol := map[string]bool{}
	run := time.Now().Unix()
	for i := range nVols {
		p := spots[i%len(spots)]
		id := fmt.Sprintf("load-vol-%d-%d", run, i)
		tok, err := l.token(id, "", "")
		if err != nil {
			return err
		}
		body := fmt.Sprintf(`{"name":"Tình Nguyện","phone":"097%07d","branch_id":%q,"location":{"lat":%v,"lng":%v},
			"languages":["vi"],"topics":["vneid","scam_safety"],"capacity":10,"radius_km":3,"consents":["matching","reminders","public_ranking"]}`,
			(run%1000)*10000+int64(i), l.branch, p[1], p[0])
		if err := l.must("POST", "/v1/volunteers", body, tok, nil); err != nil {
			return err
		}
		l.vols = append(l.vols, actor{id: id, token: tok})
		loadVol[id] = true
		for j := range 4 {
			hid := fmt.Sprintf("load-hh-%d-%d-%d", run, i, j)
			htok, err := l.token(hid, "", "")
			if err != nil {
				return err
			}
			body := fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":[{"name":"Lý Thị Hoa","birth_year":1960,"needs":["vneid"],"self_consent":true,"has_smartphone":true}],"consents":["matching","reminders"]}`,
				l.commune, p[1]+0.0003*float64(j), p[0])
			if err := l.must("POST", "/v1/households", body, htok, nil); err != nil {
				return err
			}
			hh := actor{id: hid, token: htok, at: [2]float64{p[0], p[1] + 0.0003*float64(j)}}
			l.hhs = append(l.hhs, hh)
			var out struct {
				Assignment *struct {
					Mentor struct{ ID string } `json:"mentor"`
				} `json:"assignment"`
			}
			if err := l.must("POST", "/v1/help-requests", fmt.Sprintf(`{"household_id":%q}`, hid), htok, &out); err != nil {
				return err
			}
			if out.Assignment != nil && loadVol[out.Assignment.Mentor.ID] {
				l.mentees[out.Assignment.Mentor.ID] = append(l.mentees[out.Assignment.Mentor.ID], hid)
			}
		}
	}
	// Each mentor held a session with each of their households over the
	// past days; the households confirm them during the load.
	byID := map[string]actor{}
	for _, h := range l.hhs {
		byID[h.id] = h
	}
	for _, v := range l.vols {
		if len(l.mentees[v.id]) > 0 {
			l.mentors = append(l.mentors, v)
		}
		for k, hid := range l.mentees[v.id] {
			sid := uuid.NewString()
			at := time.Now().Add(-time.Duration(26*k+3) * time.Hour).Truncate(time.Second)
			body := fmt.Sprintf(`{"id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":60,"topics":["vneid"]}`,
				sid, hid, at.Format(time.RFC3339))
			if err := l.must("POST", "/v1/sessions", body, v.token, nil); err != nil {
				return err
			}
			p := byID[hid].at
			body = fmt.Sprintf(`{"at":%q,"location":{"lat":%v,"lng":%v},"topics_covered":["vneid"]}`, at.Add(5*time.Minute).Format(time.RFC3339), p[1], p[0])
			if err := l.must("POST", "/v1/sessions/"+sid+"/check-in", body, v.token, nil); err != nil {
				return err
			}
			l.held = append(l.held, heldSession{id: sid, household: byID[hid]})
		}
	}
	if len(l.held) == 0 {
		return fmt.Errorf("no household was matched to a load volunteer")
	}
	l.everyone = append(slices.Clone(l.vols), l.hhs...)
	return nil
}

// clientState is one client's random source.
type clientState struct{ r *rand.Rand }

type op struct {
	name   string
	weight int
	do     func(c *clientState) (int, error)
}

// ops is the campaign-day mix: mostly leaderboard reads, then pushes
// registered, ranks looked up, help asked, offline logs synced and
// sessions confirmed.
func (l *loader) ops() []op {
	pick := func(c *clientState, as []actor) actor { return as[c.r.IntN(len(as))] }
	return []op{
		{"GET /v1/leaderboards/:campaign (top 10)", 35, func(c *clientState) (int, error) {
			return l.do("GET", l.base+"/v1/leaderboards/all?board=volunteers&scope=national&period=week&limit=10", "", pick(c, l.hhs).token, "")
		}},
		{"GET /v1/leaderboards/:campaign/me", 15, func(c *clientState) (int, error) {
			return l.do("GET", l.base+"/v1/leaderboards/all/me?board=volunteers&scope=national&period=month", "", pick(c, l.vols).token, "")
		}},
		{"POST /v1/devices", 20, func(c *clientState) (int, error) {
			a := pick(c, l.everyone)
			return l.do("POST", l.base+"/v1/devices", fmt.Sprintf(`{"token":"fcm-%s-%d","platform":"android"}`, a.id, c.r.IntN(3)), a.token, "")
		}},
		{"POST /v1/help-requests", 10, func(c *clientState) (int, error) {
			h := pick(c, l.hhs)
			return l.do("POST", l.base+"/v1/help-requests", fmt.Sprintf(`{"household_id":%q}`, h.id), h.token, uuid.NewString())
		}},
		{"POST /v1/sessions/sync (3 items)", 10, func(c *clientState) (int, error) {
			v := pick(c, l.mentors)
			hs := l.mentees[v.id]
			var items []string
			for range 3 {
				n := l.n.Add(1)
				at := time.Now().Add(24*time.Hour + time.Duration(n)*97*time.Minute).Truncate(time.Minute)
				items = append(items, fmt.Sprintf(`{"item_id":%q,"op":"schedule","session_id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":45}`,
					uuid.NewString(), uuid.NewString(), hs[c.r.IntN(len(hs))], at.Format(time.RFC3339)))
			}
			return l.do("POST", l.base+"/v1/sessions/sync", `{"items":[`+strings.Join(items, ",")+`]}`, v.token, "")
		}},
		{"POST /v1/sessions/:id/confirm", 10, func(c *clientState) (int, error) {
			s := l.held[c.r.IntN(len(l.held))]
			return l.do("POST", l.base+"/v1/sessions/"+s.id+"/confirm", `{}`, s.household.token, "")
		}},
	}
}

type result struct {
	name          string
	n, errors     int
	statuses      map[int]int
	rps           float64
	p50, p95, p99 time.Duration
	share         float64
}

// run has clients call the ops (by weight) for d and returns one result
// per op, and a total when there are several.
func (l *loader) run(clients int, d time.Duration, ops []op) []result {
	total := 0
	for _, o := range ops {
		total += o.weight
	}
	type sample struct {
		op     int
		took   time.Duration
		status int
		err    bool
	}
	var mu sync.Mutex
	var all []sample
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := &clientState{r: rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))}
			var mine []sample
			for time.Now().Before(deadline) {
				x, i := cs.r.IntN(total), 0
				for x >= ops[i].weight {
					x -= ops[i].weight
					i++
				}
				start := time.Now()
				st, err := ops[i].do(cs)
				mine = append(mine, sample{op: i, took: time.Since(start), status: st, err: err != nil || st >= 500 || st == 0})
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	summarize := func(name string, ss []sample) result {
		r := result{name: name, n: len(ss), statuses: map[int]int{}, rps: float64(len(ss)) / d.Seconds(), share: float64(len(ss)) / float64(max(1, len(all)))}
		lat := make([]time.Duration, len(ss))
		for i, s := range ss {
			lat[i] = s.took
			r.statuses[s.status]++
			if s.err {
				r.errors++
			}
		}
		slices.Sort(lat)
		q := func(p float64) time.Duration {
			if len(lat) == 0 {
				return 0
			}
			return lat[min(len(lat)-1, int(p*float64(len(lat))))]
		}
		r.p50, r.p95, r.p99 = q(0.50), q(0.95), q(0.99)
		return r
	}
	var out []result
	for i, o := range ops {
		var ss []sample
		for _, s := range all {
			if s.op == i {
				ss = append(ss, s)
			}
		}
		out = append(out, summarize(o.name, ss))
	}
	if len(ops) > 1 {
		out = append(out, summarize("all", all))
	}
	return out
}

func writeTable(w io.Writer, rs []result, ceiling float64) {
	fmt.Fprintln(w, "| endpoint | requests | share | req/s | p50 | p95 | p99 | errors (5xx, none) | answers | of Fiber's ceiling |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rs {
		var codes []string
		for _, c := range slices.Sorted(maps.Keys(r.statuses)) {
			codes = append(codes, fmt.Sprintf("%d×%d", c, r.statuses[c]))
		}
		ratio := "-"
		if ceiling > 0 {
			ratio = fmt.Sprintf("%.1f%%", 100*r.rps/ceiling)
		}
		fmt.Fprintf(w, "| %s | %d | %.0f%% | %.0f | %s | %s | %s | %d | %s | %s |\n", r.name, r.n, 100*r.share, r.rps,
			ms(r.p50), ms(r.p95), ms(r.p99), r.errors, strings.Join(codes, " "), ratio)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// trivialFiber serves "ok" from a bare Fiber app on a loopback port.
func trivialFiber() (string, func()) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() { _ = app.Listener(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = app.Shutdown() }
}
