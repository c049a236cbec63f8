package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// at is a point dx km east and dy km north of the test point in Bát Xát.
func at(dx, dy float64) (float64, float64) {
	return testLat + dy/110.57, testLng + dx/(111.32*math.Cos(testLat*math.Pi/180))
}

var phoneSeq atomic.Int64

// mentorAt registers a volunteer (as herself) dx, dy km from the test point.
func (w *world) mentorAt(id string, dx, dy float64, langs string, capacity int, radius float64) []string {
	w.t.Helper()
	auth := w.tokenIn(id, "", "")
	lat, lng := at(dx, dy)
	body := fmt.Sprintf(`{"name":"Lò Thị Mai","phone":"09%08d","branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":%s,"topics":["vneid","scam_safety"],"capacity":%d,"radius_km":%v,"consents":["matching","public_ranking"]}`,
		phoneSeq.Add(1), w.branchA, lat, lng, langs, capacity, radius)
	w.mustCreate("/v1/volunteers", body, auth)
	return auth
}

// batchOnlyMentor registers a volunteer paused and then marks her active
// in the mentor index alone, as a bulk import would leave it: registering
// or resuming through the API serves the requests waiting near her at once
// (matching.ServeWaiting), and a batch run is what the caller tests.
func (w *world) batchOnlyMentor(id string, dx, dy float64, langs string, capacity int, radius float64) []string {
	w.t.Helper()
	auth := w.tokenIn(id, "", "")
	lat, lng := at(dx, dy)
	body := fmt.Sprintf(`{"name":"Lò Văn Tuấn","phone":"09%08d","branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":%s,"topics":["vneid","scam_safety"],"capacity":%d,"radius_km":%v,"paused":true,"consents":["matching","public_ranking"]}`,
		phoneSeq.Add(1), w.branchA, lat, lng, langs, capacity, radius)
	w.mustCreate("/v1/volunteers", body, auth)
	if _, err := w.db.Collection("mentors").UpdateOne(context.Background(), bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "paused", Value: false}}}}); err != nil {
		w.t.Fatal(err)
	}
	return auth
}

// householdAt registers (as commune staff) a household dx, dy km away.
func (w *world) householdAt(dx, dy float64, members string) string {
	w.t.Helper()
	lat, lng := at(dx, dy)
	body := fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`, w.communeA, lat, lng, members)
	return w.mustCreate("/v1/households", body, w.staffA)["id"].(string)
}

const (
	hmongElder = `[{"name":"Giàng A Páo","birth_year":1950,"needs":["vneid"],"accessibility":["elderly"],"language":"hmn","self_consent":true}]`
	oneAdult   = `[{"name":"Lý Thị Hoa","birth_year":1985,"needs":["vneid","ecommerce"],"self_consent":true}]`
)

func (w *world) ask(household string, auth []string) map[string]any {
	w.t.Helper()
	r := w.post("/v1/help-requests", fmt.Sprintf(`{"household_id":%q}`, household), auth...)
	if r.Status != http.StatusCreated {
		w.t.Fatalf("help request: %d %s", r.Status, r.Body)
	}
	return r.json(w.t)
}

func mentorOf(out map[string]any) string {
	a, ok := out["assignment"].(map[string]any)
	if !ok {
		return ""
	}
	return a["mentor"].(map[string]any)["id"].(string)
}

func TestHelpRequestMatchedAndExplained(t *testing.T) {
	w := newWorld(t)
	mai := w.mentorAt("mai", 0.4, 0, `["vi","hmn"]`, 10, 2)
	w.mentorAt("lan", 0.2, 0, `["vi"]`, 10, 2) // nearer, but no H'Mông
	hh := w.householdAt(0, 0, hmongElder)
	out := w.ask(hh, w.staffA)
	if out["state"] != "matched" || mentorOf(out) != "mai" {
		t.Fatalf("%v", out)
	}
	a := out["assignment"].(map[string]any)
	e := a["explanation"].(map[string]any)
	if a["mentor"].(map[string]any)["first_name"] != "Mai" || a["mentor"].(map[string]any)["phone_masked"] == "" ||
		e["shared_language"] != "hmn" || e["language_required"] != true || e["mentor_needed_learners"] != 5.0 ||
		e["distance_km"].(float64) < 0.2 || e["distance_km"].(float64) > 0.7 || !strings.Contains(e["summary"].(string), "Mai") {
		t.Fatalf("assignment %v", a)
	}
	// The matched mentor now sees the household, with its phone; the
	// request is readable to her and listed among her mentees.
	if r := w.get("/v1/households/"+hh, mai...); r.Status != 200 {
		t.Fatalf("mentor reading her household: %d", r.Status)
	}
	if r := w.get("/v1/help-requests/"+out["id"].(string), mai...); r.Status != 200 {
		t.Fatalf("mentor reading the request: %d", r.Status)
	}
	ms := w.get("/v1/volunteers/mai/mentees", mai...).json(t)
	if ms["learners"] != 1.0 || len(ms["items"].([]any)) != 1 {
		t.Fatalf("mentees %v", ms)
	}
	if r := w.get("/v1/help-requests/"+out["id"].(string), w.staffB...); r.Status != 404 {
		t.Fatalf("staff of another commune read the request: %d", r.Status)
	}

	t.Run("the matched mentor sees the phone, others a mask or nothing", func(t *testing.T) {
		lat, lng := at(0.1, 0)
		withPhone := w.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},
			"contact_phone":"0977 111 222","members":%s,"consents":["matching"]}`, w.communeA, lat, lng, hmongElder), w.staffA)["id"].(string)
		if before := w.get("/v1/households/"+withPhone, mai...); before.Status != 404 {
			t.Fatalf("a mentor saw a household before being matched: %d", before.Status)
		}
		if m := mentorOf(w.ask(withPhone, w.staffA)); m != "mai" {
			t.Fatalf("matched to %q", m)
		}
		h := w.get("/v1/households/"+withPhone, mai...).json(t)
		if h["contact_phone"] != "+84977111222" || h["phone_masked"] != false {
			t.Fatalf("matched mentor sees %v (masked %v)", h["contact_phone"], h["phone_masked"])
		}
		if r := w.get("/v1/households/"+withPhone, w.tokenIn("lan", "", "")...); r.Status != 403 && r.Status != 404 {
			t.Fatalf("an unmatched person read it: %d", r.Status)
		}
		if h := w.get("/v1/households/"+withPhone, w.adminA...).json(t); h["phone_masked"] != true {
			t.Fatalf("branch admin sees the phone: %v", h["contact_phone"])
		}
	})
}

func TestHelpRequestUnserved(t *testing.T) {
	w := newWorld(t)
	w.mentorAt("far", 30, 0, `["vi","hmn"]`, 10, 15)
	w.mentorAt("vi-only", 0.3, 0, `["vi"]`, 10, 2)
	full := w.mentorAt("full", 0, 8, `["vi"]`, 5, 15)
	_ = full
	cases := []struct {
		name, members string
		dx, dy        float64
		reason        string
	}{
		{"no one speaks the language", hmongElder, 0, 0, "no_mentor_speaks_language"},
		{"nobody within reach", oneAdult, -40, -20, "no_mentor_in_reach"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := w.ask(w.householdAt(c.dx, c.dy, c.members), w.staffA)
			u, _ := out["unserved"].(map[string]any)
			if out["state"] != "waiting" || u["reason"] != c.reason || u["next_step"] != "waiting_in_commune_queue" {
				t.Fatalf("%v", out)
			}
			if tried := u["tried_radii_km"].([]any); len(tried) != 4 || tried[3] != 15.0 {
				t.Fatalf("radii tried %v, want 2 5 10 15", tried)
			}
			if !strings.Contains(u["message"].(string), "Tổ công nghệ số") {
				t.Fatalf("message %q", u["message"])
			}
		})
	}
	t.Run("the queue, oldest first, paged", func(t *testing.T) {
		seen := []string{}
		cursor := ""
		for range 5 {
			page := w.get("/v1/help-requests?limit=1&commune_id="+w.communeA+"&cursor="+cursor, w.staffA...).json(t)
			for _, it := range page["items"].([]any) {
				seen = append(seen, it.(map[string]any)["reason"].(string))
			}
			if cursor, _ = page["next_cursor"].(string); cursor == "" {
				break
			}
		}
		if fmt.Sprint(seen) != "[no_mentor_speaks_language no_mentor_in_reach]" {
			t.Fatalf("queue %v", seen)
		}
		if r := w.get("/v1/help-requests?commune_id="+w.communeA, w.staffB...); r.Status != 404 {
			t.Fatalf("another commune's staff read the queue: %d", r.Status)
		}
	})
	t.Run("all full", func(t *testing.T) {
		// Five learners fill "full" (8 km north, the only one in reach there).
		for range 5 {
			if out := w.ask(w.householdAt(0, 9, oneAdult), w.staffA); mentorOf(out) != "full" {
				t.Fatalf("%v", out)
			}
		}
		out := w.ask(w.householdAt(0, 9, oneAdult), w.staffA)
		if u, _ := out["unserved"].(map[string]any); out["state"] != "waiting" || u["reason"] != "all_mentors_full" {
			t.Fatalf("%v", out)
		}
	})
}

func TestHelpRequestRule(t *testing.T) {
	w := newWorld(t)
	t.Run("the radius widens until someone is in reach", func(t *testing.T) {
		w.mentorAt("wide", 3.5, 0, `["vi"]`, 10, 5)
		out := w.ask(w.householdAt(0, 0, oneAdult), w.staffA)
		e := out["assignment"].(map[string]any)["explanation"].(map[string]any)
		if mentorOf(out) != "wide" || e["search_radius_km"] != 5.0 {
			t.Fatalf("%v", out)
		}
	})
	t.Run("a mentor below five comes before a nearer one", func(t *testing.T) {
		// near is 0.3 km from the learners' village and far 1.2 km: near
		// gets the first five (both lack learners; near is nearer), then
		// the sixth goes to far, who still lacks five.
		w.mentorAt("near", 10.3, -10, `["vi"]`, 10, 2)
		w.mentorAt("far2", 11.2, -10, `["vi"]`, 10, 2)
		var got []string
		for range 6 {
			got = append(got, mentorOf(w.ask(w.householdAt(10, -10, oneAdult), w.staffA)))
		}
		want := []string{"near", "near", "near", "near", "near", "far2"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("a paused mentor takes no one new", func(t *testing.T) {
		p := w.mentorAt("paused", -10, -10, `["vi"]`, 10, 2)
		if r := w.do(http.MethodPatch, "/v1/volunteers/paused", strings.NewReader(`{"paused":true}`), p...); r.Status != 200 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if out := w.ask(w.householdAt(-10, -10, oneAdult), w.staffA); out["state"] != "waiting" {
			t.Fatalf("%v", out)
		}
	})
	t.Run("a deleted mentor's learners are matched again", func(t *testing.T) {
		gone := w.mentorAt("gone", -5, -20, `["vi"]`, 10, 2)
		hh := w.householdAt(-5, -20, oneAdult)
		out := w.ask(hh, w.staffA)
		if mentorOf(out) != "gone" {
			t.Fatalf("%v", out)
		}
		w.mentorAt("next", -5.5, -20, `["vi"]`, 10, 2)
		if r := w.do(http.MethodDelete, "/v1/volunteers/gone", nil, gone...); r.Status != 204 {
			t.Fatalf("%d", r.Status)
		}
		again := w.get("/v1/help-requests/"+out["id"].(string), w.staffA...).json(t)
		if mentorOf(again) != "next" {
			t.Fatalf("after the mentor left: %v", again)
		}
	})
}

// TestNoOverAssignmentAcrossInstances: 100 requests at once, through two
// server instances sharing the stores, for a mentor with 7 free places:
// exactly 7 are matched.
func TestNoOverAssignmentAcrossInstances(t *testing.T) {
	w := newWorld(t)
	w.mentorAt("last", 0, 0, `["vi"]`, 10, 15)
	// Three places are taken already.
	for range 3 {
		if out := w.ask(w.householdAt(0.1, 0, oneAdult), w.staffA); mentorOf(out) != "last" {
			t.Fatalf("%v", out)
		}
	}
	households := make([]string, 100)
	for i := range households {
		households[i] = w.householdAt(float64(i%10)*0.1, float64(i/10)*0.1, oneAdult)
	}
	// A hundred requests at once on FerretDB under the race detector can
	// take seconds; this test is about counts, so deadlines are long.
	w.deps.RequestTimeout = time.Minute
	second, err := New(Deps{Logger: w.log, Programme: w.deps.Programme, Mongo: w.db,
		Redis: w.rdb, RedisPrefix: w.deps.RedisPrefix, DevTokens: w.deps.DevTokens, RateLimits: w.deps.RateLimits,
		RequestTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	var matched, waiting atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, hh := range households {
		wg.Add(1)
		go func() {
			defer wg.Done()
			app := w.App()
			if i%2 == 1 {
				app = second.App()
			}
			// A store too busy to answer is a 503 (SQLite under the race
			// detector and 100 writers); the app then sends the request
			// again under the same key, which does it once. If the busy
			// store also kept the key from being freed, the retry hears
			// 409 request_in_progress until the key goes stale.
			key := fmt.Sprint("over-", i)
			<-start
			var res *http.Response
			retryUntil := time.Now().Add(3 * time.Minute)
			for {
				req, _ := http.NewRequest(http.MethodPost, "/v1/help-requests", strings.NewReader(fmt.Sprintf(`{"household_id":%q}`, hh)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(w.staffA[0], w.staffA[1])
				req.Header.Set("Idempotency-Key", key)
				var err error
				res, err = app.Test(req, 120_000)
				if err == nil && (res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusConflict) && time.Now().Before(retryUntil) {
					res.Body.Close()
					time.Sleep(500 * time.Millisecond)
					continue
				}
				if err != nil || res.StatusCode != http.StatusCreated {
					t.Errorf("request %d: %v %v", i, err, res)
					return
				}
				break
			}
			var out struct{ State string }
			decodeBody(res, &out)
			switch out.State {
			case "matched":
				matched.Add(1)
			case "waiting":
				waiting.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if matched.Load() != 7 || waiting.Load() != 93 {
		t.Logf("logs: %s", grepLines(w.logs.String(), `"level":"ERROR"`, 5))
		t.Fatalf("matched %d, waiting %d; want 7 and 93", matched.Load(), waiting.Load())
	}
	ctx := context.Background()
	slots, _ := w.db.Collection("slots").CountDocuments(ctx, bson.D{{Key: "mentor_id", Value: "last"}})
	assigned, _ := w.db.Collection("assignments").CountDocuments(ctx, bson.D{{Key: "mentor_id", Value: "last"}})
	if slots != 10 || assigned != 10 {
		t.Fatalf("slots %d, assignments %d; want 10 and 10", slots, assigned)
	}
}

// grepLines returns up to n lines of s that contain sub.
func grepLines(s, sub string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && len(out) < n {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestOneOpenRequestPerLearnerThroughHTTP: a one-member household asking
// six times holds one request and one place of its mentor; asking for a
// member with no needs is refused; the queue counts a waiting household
// once however often it asks.
func TestOneOpenRequestPerLearnerThroughHTTP(t *testing.T) {
	w := newWorld(t)
	w.mentorAt("mai", 0.4, 0, `["vi"]`, 5, 2)
	hh := w.householdAt(0, 0, oneAdult)
	first := w.ask(hh, w.staffA)
	for range 5 {
		r := w.post("/v1/help-requests", fmt.Sprintf(`{"household_id":%q}`, hh), w.staffA...)
		if r.Status != http.StatusOK || r.json(t)["id"] != first["id"] || mentorOf(r.json(t)) != "mai" {
			t.Fatalf("asking again: %d %s", r.Status, r.Body)
		}
	}
	mentees := w.get("/v1/volunteers/mai/mentees", w.tokenIn("mai", "", "")...)
	if mentees.Status != http.StatusOK || mentees.json(t)["learners"] != 1.0 {
		t.Fatalf("mentees: %d %s", mentees.Status, mentees.Body)
	}

	// A member listed with no needs.
	two := w.householdAt(5, 5, `[{"name":"Lý Thị Hoa","birth_year":1985,"needs":["vneid"],"self_consent":true},{"name":"Lý Văn Nam","birth_year":1980,"self_consent":true}]`)
	if r := w.post("/v1/help-requests", fmt.Sprintf(`{"household_id":%q,"members":[1]}`, two), w.staffA...); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(string(r.Body), "member_has_no_needs") {
		t.Fatalf("a member with no needs: %d %s", r.Status, r.Body)
	}
	// Far from every mentor: it waits, once in the queue however often asked.
	waiting := w.ask(two, w.staffA)
	if waiting["state"] != "waiting" {
		t.Fatalf("%v", waiting)
	}
	for range 3 {
		if r := w.post("/v1/help-requests", fmt.Sprintf(`{"household_id":%q,"members":[0]}`, two), w.staffA...); r.Status != http.StatusOK || r.json(t)["id"] != waiting["id"] {
			t.Fatalf("asking again while waiting: %d %s", r.Status, r.Body)
		}
	}
	q := w.get("/v1/help-requests?commune_id="+w.communeA, w.staffA...)
	if q.Status != http.StatusOK || q.json(t)["total"] != 1.0 {
		t.Fatalf("queue: %d %s", q.Status, q.Body)
	}
}

// TestMentorChangesReleaseWithNotice: a mentor who lowers her capacity
// below her learners keeps the oldest and the newest goes back to
// matching; the household hears why and that a new mentor is sought.
func TestMentorChangesReleaseWithNotice(t *testing.T) {
	w := newWorld(t)
	mai := w.mentorAt("mai", 0.4, 0, `["vi"]`, 6, 2)
	first := w.ask(w.householdAt(0.1, 0, oneAdult), w.staffA)
	for i := range 4 {
		w.ask(w.householdAt(0.1, 0.1*float64(i+1), oneAdult), w.staffA)
	}
	self := w.tokenIn("hh-self", "", "")
	lat, lng := at(0.2, 0)
	w.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching","reminders"]}`,
		w.communeA, lat, lng, oneAdult), self)
	self = w.tokenIn("hh-self", "household", "")
	second := w.ask("hh-self", self)
	if mentorOf(first) != "mai" || mentorOf(second) != "mai" {
		t.Fatalf("not matched to mai: %v %v", first, second)
	}
	if r := w.do(http.MethodPatch, "/v1/volunteers/mai", strings.NewReader(`{"capacity":5}`), mai...); r.Status != http.StatusOK {
		t.Fatalf("lower capacity: %d %s", r.Status, r.Body)
	}
	if got := w.get("/v1/help-requests/"+first["id"].(string), w.staffA...).json(t); mentorOf(got) != "mai" {
		t.Fatalf("the oldest learner was not kept: %v", got)
	}
	if got := w.get("/v1/help-requests/"+second["id"].(string), self...).json(t); got["state"] != "waiting" {
		t.Fatalf("the newest learner: %v", got)
	}
	found := false
	for _, it := range w.get("/v1/notifications", self...).json(t)["items"].([]any) {
		n := it.(map[string]any)
		if n["kind"] == "match_ended" && strings.Contains(n["body"].(string), "giảm số người nhận kèm") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no notice to the household: %s", w.get("/v1/notifications", self...).Body)
	}
}
