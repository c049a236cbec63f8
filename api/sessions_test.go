package api

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/people"
)

// mentoring is a world with one mentor, Mai, and households matched to her.
type mentoring struct {
	*world
	mai []string
}

func newMentoring(t *testing.T) *mentoring {
	w := newWorld(t)
	m := &mentoring{world: w, mai: w.mentorAt("mai", 0.4, 0, `["vi","hmn"]`, 20, 5)}
	return m
}

// matchedHousehold registers a household (by staff) and has it matched to
// Mai.
func (m *mentoring) matchedHousehold(dx float64, members string) string {
	m.t.Helper()
	hh := m.householdAt(dx, 0, members)
	if out := m.ask(hh, m.staffA); mentorOf(out) != "mai" {
		m.t.Fatalf("household not matched to mai: %v", out)
	}
	return hh
}

func (m *mentoring) schedule(id, hh string, startsAt time.Time, auth []string) response {
	m.t.Helper()
	body := fmt.Sprintf(`{"id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":60,"topics":["vneid"]}`,
		id, hh, startsAt.Format(time.RFC3339))
	return m.post("/v1/sessions", body, auth...)
}

func (m *mentoring) checkIn(id string, at time.Time, dy float64, topics string) map[string]any {
	m.t.Helper()
	lat, lng := at0(dy)
	r := m.post("/v1/sessions/"+id+"/check-in", fmt.Sprintf(`{"at":%q,"location":{"lat":%v,"lng":%v},"topics_covered":%s}`,
		at.Format(time.RFC3339), lat, lng, topics), m.mai...)
	if r.Status != http.StatusOK {
		m.t.Fatalf("check-in %s: %d %s", id, r.Status, r.Body)
	}
	return r.json(m.t)
}

// at0 is a point dy km north of the test point.
func at0(dy float64) (float64, float64) { return at(0, dy) }

func (m *mentoring) points(board, scope, period string) map[string]float64 {
	m.t.Helper()
	r := m.get(fmt.Sprintf("/v1/leaderboards/all?board=%s&scope=%s&period=%s", board, scope, period), m.admin...)
	if r.Status != http.StatusOK {
		m.t.Fatalf("leaderboard: %d %s", r.Status, r.Body)
	}
	out := map[string]float64{}
	for _, it := range r.json(m.t)["items"].([]any) {
		row := it.(map[string]any)
		out[row["id"].(string)] = row["points"].(float64)
	}
	return out
}

const (
	allCore     = `["smartphone_basics","vneid","public_services","cashless_payment","scam_safety"]`
	allOutcomes = `["vneid_activated","epayment_setup","first_online_service","scam_lesson"]`
)

// fullSession has Mai hold a session at `at` for member 0 of hh covering
// every core topic, with the given outcomes recorded for the learner; it
// returns the session's id and confirmation code.
func (m *mentoring) fullSession(hh string, at time.Time, outcomes string) (string, string) {
	m.t.Helper()
	id := uuid.NewString()
	if r := m.schedule(id, hh, at, m.mai); r.Status != http.StatusCreated {
		m.t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	lat, lng := at0(0)
	r := m.post("/v1/sessions/"+id+"/check-in", fmt.Sprintf(`{"at":%q,"location":{"lat":%v,"lng":%v},"topics_covered":%s,
		"results":[{"household_id":%q,"member":0,"outcomes":%s}]}`, at.Format(time.RFC3339), lat, lng, allCore, hh, outcomes), m.mai...)
	if r.Status != http.StatusOK {
		m.t.Fatalf("check-in: %d %s", r.Status, r.Body)
	}
	return id, r.json(m.t)["confirmation_code"].(string)
}

// certified has Mai certify member 0 of hh: two sessions on different
// days (26 hours apart, the second at `at`), every core topic and outcome,
// each confirmed by commune staff with its code. 90 points: 2 x 10 for the
// sessions, 4 x 5 for the outcomes, 30 for the learner, 20 for the family.
func (m *mentoring) certified(hh string, at time.Time) {
	m.t.Helper()
	for _, when := range []time.Time{at.Add(-26 * time.Hour), at} {
		id, code := m.fullSession(hh, when, allOutcomes)
		if r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+code+`"}`, m.staffA...); r.Status != http.StatusOK {
			m.t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
	}
}

func TestSessionScoresOnlyOnceConfirmedByTheOtherSide(t *testing.T) {
	m := newMentoring(t)
	// A household that signs in for itself, matched to Mai.
	self := m.tokenIn("hh-self", "", "")
	lat, lng := at(0.1, 0)
	m.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
		m.communeA, lat, lng, oneAdult), self)
	self = m.tokenIn("hh-self", people.RoleHousehold, "")
	if out := m.ask("hh-self", self); mentorOf(out) != "mai" {
		t.Fatalf("not matched: %v", out)
	}
	id := uuid.NewString()
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	if r := m.schedule(id, "hh-self", start, m.mai); r.Status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	if r := m.schedule(id, "hh-self", start, m.mai); r.Status != http.StatusOK {
		t.Fatalf("schedule again: %d %s", r.Status, r.Body)
	}
	if r := m.post("/v1/sessions/"+id+"/confirm", `{}`, self...); r.Status != http.StatusConflict || r.errorCode(t) != "invalid_transition" {
		t.Fatalf("confirming before check-in: %d %s", r.Status, r.Body)
	}
	lat, lng = at0(0)
	r := m.post("/v1/sessions/"+id+"/check-in", fmt.Sprintf(`{"at":%q,"location":{"lat":%v,"lng":%v},"topics_covered":%s,
		"results":[{"household_id":"hh-self","member":0,"outcomes":["vneid_activated"]}]}`, start.Format(time.RFC3339), lat, lng, allCore), m.mai...)
	if r.Status != http.StatusOK {
		t.Fatalf("check-in: %d %s", r.Status, r.Body)
	}
	held := r.json(t)
	if held["state"] != "held" || len(held["confirmation_code"].(string)) != 6 {
		t.Fatalf("held: %v", held)
	}
	// The household sees the session but not the code.
	if got := m.get("/v1/sessions/"+id, self...).json(t); got["confirmation_code"] != nil || got["state"] != "held" {
		t.Fatalf("household's view: %v", got)
	}
	if pts := m.points("volunteers", "national", "week"); len(pts) != 0 {
		t.Fatalf("points before confirmation: %v", pts)
	}
	// Mai cannot confirm her own session; another volunteer cannot see it.
	if r := m.post("/v1/sessions/"+id+"/confirm", `{}`, m.mai...); r.Status != http.StatusUnprocessableEntity || r.errorCode(t) != "self_confirmation" {
		t.Fatalf("self-confirmation: %d %s", r.Status, r.Body)
	}
	other := m.mentorAt("lan", 5, 5, `["vi"]`, 10, 2)
	if r := m.post("/v1/sessions/"+id+"/confirm", `{}`, other...); r.Status != http.StatusNotFound {
		t.Fatalf("another volunteer confirming: %d %s", r.Status, r.Body)
	}
	for range 2 { // confirming twice scores once
		r = m.post("/v1/sessions/"+id+"/confirm", `{}`, self...)
		if r.Status != http.StatusOK || r.json(t)["state"] != "confirmed" || r.json(t)["confirmed_by"] != "household_app" {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
	}
	// 10 for the session, 5 for the VNeID activation. One session listing
	// every core topic does not certify (sessions.Evidence).
	if pts := m.points("volunteers", "national", "week"); pts["mai"] != 15 {
		t.Fatalf("points after confirmation: %v, want mai 15", pts)
	}
	prog := m.get("/v1/households/hh-self/progress", self...).json(t)
	if l := prog["learners"].([]any)[0].(map[string]any); prog["digital_family"] != false || l["certified"] != false ||
		!strings.HasPrefix(l["missing_text"].(string), "Còn thiếu: tự làm được trên điện thoại: Đã cài đặt thanh toán điện tử") ||
		!strings.Contains(l["missing_text"].(string), "một buổi học vào ngày khác") {
		t.Fatalf("progress after one session: %v", prog)
	}
	// A second session, held the day before, with the other outcomes: 10,
	// 3 x 5 for the outcomes, 30 for the certified learner, 20 for the
	// household that became a Gia đình số.
	earlier, code := m.fullSession("hh-self", start.Add(-26*time.Hour), allOutcomes)
	_ = code
	if r := m.post("/v1/sessions/"+earlier+"/confirm", `{}`, self...); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	if pts := m.points("volunteers", "national", "campaign"); pts["mai"] != 90 {
		t.Fatalf("points after certification: %v, want mai 90", pts)
	}
	if pts := m.points("communes", "province:15", "campaign"); pts[m.communeA] != 90 {
		t.Fatalf("commune board: %v", pts)
	}
	prog = m.get("/v1/households/hh-self/progress", self...).json(t)
	if l := prog["learners"].([]any)[0].(map[string]any); prog["digital_family"] != true || l["certified"] != true || len(l["missing"].([]any)) != 0 {
		t.Fatalf("progress: %v", prog)
	}
	badges := m.get("/v1/volunteers/mai/badges", self...).json(t)
	if badges["points"] != 90.0 || len(badges["items"].([]any)) == 0 || badges["items"].([]any)[0].(map[string]any)["code"] != "first_session" {
		t.Fatalf("badges: %v", badges)
	}
	me := m.get("/v1/leaderboards/all/me?period=campaign", m.mai...).json(t)
	if me["rank"] != 1.0 || me["points"] != 90.0 {
		t.Fatalf("me: %v", me)
	}
	// The coverage map counts the Gia đình số in its cell.
	certified, households := 0.0, 0.0
	for _, f := range m.get("/v1/coverage?commune_id="+m.communeA, m.adminA...).json(t)["features"].([]any) {
		p := f.(map[string]any)["properties"].(map[string]any)
		certified += p["certified_households"].(float64)
		households += p["households"].(float64)
	}
	if certified != 1 || households < 1 {
		t.Errorf("coverage: %v certified of %v households, want 1", certified, households)
	}
}

func TestStaffConfirmWithTheMentorsCode(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, hmongElder) // nobody in it has a phone
	id := uuid.NewString()
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	if r := m.schedule(id, hh, start, m.mai); r.Status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	code := m.checkIn(id, start, 0, `["vneid"]`)["confirmation_code"].(string)
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	if r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+wrong+`"}`, m.staffA...); r.Status != http.StatusUnprocessableEntity || r.errorCode(t) != "wrong_confirmation_code" {
		t.Fatalf("wrong code: %d %s", r.Status, r.Body)
	}
	// Staff of another commune do not see the session at all.
	if r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+code+`"}`, m.staffB...); r.Status != http.StatusNotFound {
		t.Fatalf("staff of another commune: %d %s", r.Status, r.Body)
	}
	r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+code+`"}`, m.staffA...)
	if r.Status != http.StatusOK || r.json(t)["confirmed_by"] != "staff_code" {
		t.Fatalf("right code: %d %s", r.Status, r.Body)
	}
	if pts := m.points("volunteers", "national", "week"); pts["mai"] != 10 {
		t.Fatalf("points: %v", pts)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestCodeGuessingIsLimited(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, oneAdult)
	id := uuid.NewString()
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	m.schedule(id, hh, start, m.mai)
	code := m.checkIn(id, start, 0, `["vneid"]`)["confirmation_code"].(string)
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1_000_000)
	// A missing code is bad input, not a try.
	for range 3 {
		if r := m.post("/v1/sessions/"+id+"/confirm", `{}`, m.staffA...); r.Status != http.StatusBadRequest {
			t.Fatalf("no code: %d %s", r.Status, r.Body)
		}
	}
	// Of 30 wrong codes sent at once, exactly 5 are judged.
	var mu sync.Mutex
	statuses := map[int]int{}
	var retryAfter string
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+wrong+`"}`, m.staffA...)
			mu.Lock()
			defer mu.Unlock()
			statuses[r.Status]++
			if r.Status == http.StatusTooManyRequests {
				retryAfter = r.Header.Get("Retry-After")
			}
		})
	}
	wg.Wait()
	if statuses[http.StatusUnprocessableEntity] != 5 || statuses[http.StatusTooManyRequests] != 25 {
		t.Fatalf("30 wrong codes at once: %v, want 5 judged (422) and 25 refused (429)", statuses)
	}
	if n := atoi(retryAfter); n < 1 || n > 3600 {
		t.Fatalf("Retry-After %q", retryAfter)
	}
	if r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+code+`"}`, m.staffA...); r.Status != http.StatusTooManyRequests {
		t.Fatalf("right code after 5 wrong ones: %d %s", r.Status, r.Body)
	}
}

func TestMentorCannotTeachOwnHousehold(t *testing.T) {
	m := newMentoring(t)
	// Mai's own family, registered with her phone number.
	mai := m.get("/v1/volunteers/mai", m.mai...).json(t)
	lat, lng := at(0.1, 0)
	hh := m.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"contact_phone":%q,"members":%s,"consents":["matching"]}`,
		m.communeA, lat, lng, mai["phone"], oneAdult), m.staffA)["id"].(string)
	m.ask(hh, m.staffA)
	r := m.schedule(uuid.NewString(), hh, time.Now().Add(time.Hour), m.mai)
	if r.Status != http.StatusUnprocessableEntity || r.errorCode(t) != "own_household" {
		t.Fatalf("own household: %d %s", r.Status, r.Body)
	}
	// Nor someone not matched to her.
	stranger := m.householdAt(9, -9, oneAdult)
	r = m.schedule(uuid.NewString(), stranger, time.Now().Add(time.Hour), m.mai)
	if r.Status != http.StatusUnprocessableEntity || r.errorCode(t) != "not_your_learner" {
		t.Fatalf("unmatched learner: %d %s", r.Status, r.Body)
	}
}

// heldFor schedules and checks in a session for hh at start, dy km north.
func (m *mentoring) heldFor(hh string, start time.Time, dy float64) (string, map[string]any) {
	m.t.Helper()
	id := uuid.NewString()
	if r := m.schedule(id, hh, start, m.mai); r.Status != http.StatusCreated {
		m.t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	return id, m.checkIn(id, start, dy, `["vneid"]`)
}

func flagsOf(s map[string]any) []string {
	var out []string
	for _, f := range s["review_flags"].([]any) {
		out = append(out, f.(string))
	}
	return out
}

func TestSuspiciousSessionsWaitForReview(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, oneAdult)
	base := time.Now().Add(-20 * time.Hour).Truncate(time.Hour)

	t.Run("overlap", func(t *testing.T) {
		_, first := m.heldFor(hh, base, 0)
		if len(flagsOf(first)) != 0 {
			t.Fatalf("first session flagged: %v", first)
		}
		id, second := m.heldFor(hh, base.Add(30*time.Minute), 0)
		if f := flagsOf(second); len(f) != 1 || f[0] != "overlaps_another_session" {
			t.Fatalf("overlapping session flags: %v", f)
		}
		r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+second["confirmation_code"].(string)+`"}`, m.staffA...)
		if r.Status != http.StatusOK || r.json(t)["state"] != "pending_review" {
			t.Fatalf("confirming a flagged session: %d %s", r.Status, r.Body)
		}
		if pts := m.points("volunteers", "national", "campaign"); pts["mai"] != 0 {
			t.Fatalf("a session waiting for review scored: %v", pts)
		}
		if r := m.post("/v1/sessions/"+id+"/review", `{"decision":"approve"}`, m.adminB...); r.Status != http.StatusNotFound {
			t.Fatalf("review by another commune's admin: %d %s", r.Status, r.Body)
		}
		r = m.post("/v1/sessions/"+id+"/review", `{"decision":"approve"}`, m.adminA...)
		if r.Status != http.StatusOK || r.json(t)["state"] != "confirmed" {
			t.Fatalf("approve: %d %s", r.Status, r.Body)
		}
		if pts := m.points("volunteers", "national", "campaign"); pts["mai"] != 10 {
			t.Fatalf("after approval: %v", pts)
		}
	})
	t.Run("impossible travel", func(t *testing.T) {
		// 40 km south (north is China) half an hour after the first
		// session ended.
		_, s := m.heldFor(hh, base.Add(90*time.Minute), -40)
		if f := flagsOf(s); len(f) != 1 || f[0] != "check_ins_too_far_apart" {
			t.Fatalf("impossible trip flags: %v", f)
		}
	})
	t.Run("too many in a day", func(t *testing.T) {
		// Seven sessions 90 minutes apart from 07:00 of a local day two
		// days back, so that all seven fall on that day in Vietnam (from
		// base itself the seventh crossed midnight when the tests ran in
		// the afternoon there, and was rightly not counted).
		vn := time.FixedZone("ICT", 7*3600)
		y, mo, d := base.In(vn).Date()
		day := time.Date(y, mo, d-2, 7, 0, 0, 0, vn)
		var last map[string]any
		for i := range 7 {
			_, last = m.heldFor(hh, day.Add(time.Duration(i)*90*time.Minute), 0)
			if i < 6 && len(flagsOf(last)) != 0 {
				t.Fatalf("session %d flagged: %v", i+1, flagsOf(last))
			}
		}
		if f := flagsOf(last); len(f) != 1 || f[0] != "too_many_sessions_that_day" {
			t.Fatalf("seventh session flags: %v", f)
		}
	})
}

func TestOfflineSyncAppliesEachItemOnce(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, oneAdult)
	sid := uuid.NewString()
	start := time.Now().Add(-5 * time.Hour).Truncate(time.Second)
	lat, lng := at0(0)
	// The check-in comes first in the batch; it is applied after the
	// schedule all the same.
	batch := fmt.Sprintf(`{"items":[
		{"item_id":%q,"op":"check_in","session_id":%q,"at":%q,"location":{"lat":%v,"lng":%v},"topics_covered":["vneid"]},
		{"item_id":%q,"op":"schedule","session_id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":45},
		{"item_id":%q,"op":"cancel","session_id":%q},
		{"item_id":%q,"op":"schedule","session_id":"not-a-uuid","learners":[],"starts_at":%q,"minutes":45}]}`,
		uuid.NewString(), sid, start.Format(time.RFC3339), lat, lng,
		uuid.NewString(), sid, hh, start.Format(time.RFC3339),
		uuid.NewString(), sid,
		uuid.NewString(), start.Format(time.RFC3339))
	want := [][]string{
		{"applied", "applied", "rejected", "rejected"},
		{"already_applied", "already_applied", "rejected", "rejected"},
		{"already_applied", "already_applied", "rejected", "rejected"},
	}
	for round, w := range want {
		r := m.post("/v1/sessions/sync", batch, m.mai...)
		if r.Status != http.StatusOK {
			t.Fatalf("sync: %d %s", r.Status, r.Body)
		}
		for i, res := range r.json(t)["results"].([]any) {
			got := res.(map[string]any)
			if got["status"] != w[i] {
				t.Fatalf("round %d item %d: %v, want %s", round, i, got, w[i])
			}
			if w[i] == "rejected" && got["error"].(map[string]any)["message"] == "" {
				t.Fatalf("rejected item without a message: %v", got)
			}
		}
	}
	s := m.get("/v1/sessions/"+sid, m.mai...).json(t)
	if s["state"] != "held" || s["version"] != 2.0 {
		t.Fatalf("after three syncs: %v", s)
	}
	n, err := m.db.Collection("session_events").CountDocuments(t.Context(), map[string]any{"session_id": sid})
	if err != nil || n != 2 {
		t.Fatalf("events of the session: %d, %v; want 2", n, err)
	}
	tooMany := `{"items":[` + repeatItems(201) + `]}`
	if r := m.post("/v1/sessions/sync", tooMany, m.mai...); r.Status != http.StatusBadRequest {
		t.Fatalf("201 items: %d %s", r.Status, r.Body)
	}
}

func repeatItems(n int) string {
	out := ""
	for i := range n {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf(`{"item_id":%q,"op":"cancel","session_id":%q}`, uuid.NewString(), uuid.NewString())
	}
	return out
}

func TestCampaignsAndPublicRankings(t *testing.T) {
	m := newMentoring(t)
	// A commune union admin may launch a campaign for its commune only.
	now := time.Now()
	body := fmt.Sprintf(`{"name":"Ngày hội toàn dân học tập số 2026","scope":"commune:02728","starts_at":%q,"ends_at":%q,
		"multipliers":[{"date":%q,"factor":2}],"targets":{"sessions":100}}`,
		now.Add(-24*time.Hour).Format(time.RFC3339), now.Add(240*time.Hour).Format(time.RFC3339), now.Add(-3*time.Hour).In(time.FixedZone("ICT", 7*3600)).Format(time.DateOnly))
	camp := m.mustCreate("/v1/campaigns", body, m.adminA)
	if r := m.post("/v1/campaigns", body, m.adminB...); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a campaign for another commune: %d %s", r.Status, r.Body)
	}
	hh := m.matchedHousehold(0.1, oneAdult)
	for i := range 4 {
		m.matchedHousehold(0.2+float64(i)*0.1, oneAdult)
	}
	m.certified(hh, now.Add(-3*time.Hour).Truncate(time.Second))
	// The first session, 26 hours earlier, is before the campaign; the
	// second earns 60 (10, 30 and 20), doubled on its day.
	r := m.get("/v1/leaderboards/"+camp["id"].(string)+"?scope=commune:02728&period=campaign", m.mai...)
	if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["points"] != 120.0 {
		t.Fatalf("campaign board (60 points doubled): %s", r.Body)
	}
	rk := m.get("/public/rankings?level=commune")
	if rk.Status != http.StatusOK {
		t.Fatalf("rankings: %d %s", rk.Status, rk.Body)
	}
	items := rk.json(t)["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("rankings: %s", rk.Body)
	}
	row := items[0].(map[string]any)
	// No population figure yet: no per-resident rate, and the row says so
	// (registered members are not the residents).
	if row["id"] != m.communeA || row["name"] != "Xã Mường Hum" || row["province_name"] != "Tỉnh Lào Cai" || row["commune_code"] != "02728" ||
		row["households"] != 5.0 || row["digital_families"] != 1.0 || row["digital_family_share"] != 0.2 ||
		row["certified_per_1000_residents"] != nil || row["has_residents_figure"] != false || row["sessions_in_period"] != 2.0 {
		t.Fatalf("commune A's row: %v", row)
	}
	// The commune's admins give its population; the rate divides by it.
	if r := m.put("/v1/branches/"+m.communeA+"/population", `{"residents":2000,"households":480,"year":2025}`, m.adminB...); r.Status != http.StatusNotFound {
		t.Fatalf("another commune's admin sets the population: %d %s", r.Status, r.Body)
	}
	if r := m.put("/v1/branches/"+m.communeA+"/population", `{"residents":2000,"households":4800,"year":2025}`, m.adminA...); r.errorCode(t) != "invalid_input" {
		t.Fatalf("more households than residents: %d %s", r.Status, r.Body)
	}
	pop := m.put("/v1/branches/"+m.communeA+"/population", `{"residents":2000,"households":480,"year":2025}`, m.adminA...)
	if pop.Status != http.StatusOK || pop.json(t)["commune_name"] != "Xã Mường Hum" {
		t.Fatalf("population: %d %s", pop.Status, pop.Body)
	}
	for _, q := range []string{"level=commune&period=week", "level=province&period=week"} {
		row = m.get("/public/rankings?" + q).json(t)["items"].([]any)[0].(map[string]any)
		if row["certified_per_1000_residents"] != 0.5 || row["residents"] != 2000.0 || row["residents_year"] != 2025.0 {
			t.Fatalf("%s: %v", q, row)
		}
	}
	if row["name"] != "Tỉnh Lào Cai" || row["id"] != "15" || row["communes_without_figure"] != nil {
		t.Fatalf("province row %v", row)
	}
	if r := m.get("/public/rankings?level=district"); r.Status != http.StatusBadRequest {
		t.Fatalf("unknown level: %d", r.Status)
	}
}

func TestErasureReachesSessionsLedgerAndBoards(t *testing.T) {
	m := newMentoring(t)
	self := m.tokenIn("hh-self", "", "")
	lat, lng := at(0.1, 0)
	m.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
		m.communeA, lat, lng, oneAdult), self)
	self = m.tokenIn("hh-self", people.RoleHousehold, "")
	m.ask("hh-self", self)
	var id string
	for _, start := range []time.Time{time.Now().Add(-28 * time.Hour), time.Now().Add(-2 * time.Hour)} {
		id, _ = m.fullSession("hh-self", start.Truncate(time.Second), allOutcomes)
		if r := m.post("/v1/sessions/"+id+"/confirm", `{}`, self...); r.Status != http.StatusOK {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
	}
	export := m.get("/v1/households/hh-self/export", self...)
	if export.Status != http.StatusOK || !strings.Contains(string(export.Body), id) {
		t.Fatalf("the household's export lacks its session: %d %.300s", export.Status, export.Body)
	}
	if r := m.do(http.MethodDelete, "/v1/households/hh-self", nil, self...); r.Status != http.StatusNoContent {
		t.Fatalf("erase household: %d %s", r.Status, r.Body)
	}
	if r := m.get("/v1/sessions/"+id, m.mai...); r.Status != http.StatusNotFound {
		t.Fatalf("the erased household's session: %d", r.Status)
	}
	for coll, filter := range map[string]bson.D{"progress": {{Key: "household_id", Value: "hh-self"}},
		"session_events": {{Key: "session_id", Value: id}}, "ledger": {{Key: "source", Value: "hh-self"}}} {
		if n, err := m.db.Collection(coll).CountDocuments(t.Context(), filter); err != nil || n != 0 {
			t.Fatalf("%s still holds the household: %d, %v", coll, n, err)
		}
	}
	// The points stay (the entries only forget their source): 2 x 10 for
	// the sessions, 4 x 5 for the outcomes, 30 for the certified learner,
	// 20 for the Gia đình số.
	if pts := m.points("volunteers", "national", "campaign"); pts["mai"] != 90 {
		t.Fatalf("the mentor's points after the household left: %v", pts)
	}
	if r := m.do(http.MethodDelete, "/v1/volunteers/mai", nil, m.mai...); r.Status != http.StatusNoContent {
		t.Fatalf("erase volunteer: %d %s", r.Status, r.Body)
	}
	if pts := m.points("volunteers", "national", "campaign"); len(pts) != 0 {
		t.Fatalf("the erased volunteer is still ranked: %v", pts)
	}
	if pts := m.points("communes", "national", "campaign"); pts[m.communeA] != 90 {
		t.Fatalf("the commune lost the erased volunteer's points: %v", pts)
	}
	// The rebuilt boards agree.
	m.rebuilt()
	if pts := m.points("volunteers", "national", "campaign"); len(pts) != 0 {
		t.Fatalf("after a rebuild: %v", pts)
	}
	if pts := m.points("communes", "national", "campaign"); pts[m.communeA] != 90 {
		t.Fatalf("communes after a rebuild: %v", pts)
	}
}

// A scoring cut off after the certification was recorded but before its
// award makes the award when the confirmation is retried.
func TestCertificationAwardSurvivesACutOffScoring(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, oneAdult)
	// What the cut-off scoring left: the certification, without its award.
	if _, err := m.db.Collection("certifications").InsertOne(t.Context(), bson.D{{Key: "_id", Value: hh + "#0"},
		{Key: "household_id", Value: hh}, {Key: "member", Value: 0}, {Key: "commune_id", Value: m.communeA}, {Key: "mentor_id", Value: "mai"}}); err != nil {
		t.Fatal(err)
	}
	m.certified(hh, time.Now().Add(-3*time.Hour).Truncate(time.Second))
	if pts := m.points("volunteers", "national", "campaign"); pts["mai"] != 90 {
		t.Fatalf("points: %v, want 90", pts)
	}
}

// TestPointsAreDatedByTheHeldTime: what a session earns is dated by the
// check-in time the phone recorded, not by its confirmation: a session
// held in a campaign's window and on its multiplier day earns there though
// confirmed after the window closed; one reported later than MaxHeldAge,
// or with a held time ahead of the server's clock, waits for review, and
// once approved is still dated by its held time.
func TestPointsAreDatedByTheHeldTime(t *testing.T) {
	m := newMentoring(t)
	vn := time.FixedZone("ICT", 7*3600)
	now := time.Now()
	held := now.Add(-3 * 24 * time.Hour).Truncate(time.Second)
	body := fmt.Sprintf(`{"name":"Tuần cao điểm","scope":"commune:02728","starts_at":%q,"ends_at":%q,"multipliers":[{"date":%q,"factor":2}]}`,
		held.Add(-24*time.Hour).Format(time.RFC3339), held.Add(24*time.Hour).Format(time.RFC3339), held.In(vn).Format(time.DateOnly))
	camp := m.mustCreate("/v1/campaigns", body, m.adminA)["id"].(string)
	hh := m.matchedHousehold(0.1, oneAdult)

	id, s := m.heldFor(hh, held, 0)
	if len(flagsOf(s)) != 0 {
		t.Fatalf("a session reported 3 days after it was held is flagged: %v", flagsOf(s))
	}
	if r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+s["confirmation_code"].(string)+`"}`, m.staffA...); r.Status != http.StatusOK ||
		r.json(t)["state"] != "confirmed" {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}
	r := m.get("/v1/leaderboards/"+camp+"?scope=commune:02728&period=campaign", m.mai...)
	if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["points"] != 20.0 {
		t.Fatalf("the closed campaign's board (10 points doubled on the held day): %s", r.Body)
	}
	var e struct {
		At time.Time `bson:"at"`
	}
	if err := m.db.Collection("ledger").FindOne(t.Context(), bson.D{{Key: "_id", Value: "session:" + id}}).Decode(&e); err != nil || !e.At.Equal(held) {
		t.Fatalf("the award is dated %v (%v), want the held time %v", e.At, err, held)
	}

	late := now.Add(-10 * 24 * time.Hour).Truncate(time.Second)
	id, s = m.heldFor(hh, late, 0)
	if f := flagsOf(s); len(f) != 1 || f[0] != "reported_late" {
		t.Fatalf("a session reported 10 days after it was held: flags %v", f)
	}
	if r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+s["confirmation_code"].(string)+`"}`, m.staffA...); r.Status != http.StatusOK ||
		r.json(t)["state"] != "pending_review" {
		t.Fatalf("confirming a late session: %d %s", r.Status, r.Body)
	}
	if r := m.post("/v1/sessions/"+id+"/review", `{"decision":"approve"}`, m.adminA...); r.Status != http.StatusOK {
		t.Fatalf("approve: %d %s", r.Status, r.Body)
	}
	if err := m.db.Collection("ledger").FindOne(t.Context(), bson.D{{Key: "_id", Value: "session:" + id}}).Decode(&e); err != nil || !e.At.Equal(late) {
		t.Fatalf("the approved late award is dated %v (%v), want %v", e.At, err, late)
	}

	// A phone whose clock is a day ahead.
	ahead := uuid.NewString()
	if r := m.schedule(ahead, hh, now.Add(20*time.Hour), m.mai); r.Status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	if f := flagsOf(m.checkIn(ahead, now.Add(24*time.Hour), 0, `["vneid"]`)); len(f) != 1 || f[0] != "held_time_in_future" {
		t.Fatalf("a held time a day ahead: flags %v", f)
	}
}

// TestCertificationNeedsEvidenceForTheLearner: a child who only took the
// scam-safety part of two full sessions is not certified with the adult
// who did everything; one session listing every topic certifies nobody.
func TestCertificationNeedsEvidenceForTheLearner(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, `[{"name":"Lý Thị Hoa","birth_year":1985,"needs":["vneid"],"self_consent":true},
		{"name":"Lý Văn Tú","birth_year":2014,"needs":["scam_safety"],"self_consent":true,"guardian_name":"Lý Thị Hoa"}]`)
	lat, lng := at0(0)
	now := time.Now().Truncate(time.Second)
	for i, when := range []time.Time{now.Add(-50 * time.Hour), now.Add(-2 * time.Hour)} {
		id := uuid.NewString()
		body := fmt.Sprintf(`{"id":%q,"learners":[{"household_id":%q,"member":0},{"household_id":%q,"member":1}],"starts_at":%q,"minutes":60}`,
			id, hh, hh, when.Format(time.RFC3339))
		if r := m.post("/v1/sessions", body, m.mai...); r.Status != http.StatusCreated {
			t.Fatalf("schedule: %d %s", r.Status, r.Body)
		}
		outcomes := `[]`
		if i == 0 {
			outcomes = allOutcomes
		}
		r := m.post("/v1/sessions/"+id+"/check-in", fmt.Sprintf(`{"at":%q,"location":{"lat":%v,"lng":%v},"topics_covered":%s,
			"results":[{"household_id":%q,"member":0,"outcomes":%s},{"household_id":%q,"member":1,"topics":["scam_safety"],"outcomes":["scam_lesson"]}]}`,
			when.Format(time.RFC3339), lat, lng, allCore, hh, outcomes, hh), m.mai...)
		if r.Status != http.StatusOK {
			t.Fatalf("check-in: %d %s", r.Status, r.Body)
		}
		if r := m.post("/v1/sessions/"+id+"/confirm", `{"code":"`+r.json(t)["confirmation_code"].(string)+`"}`, m.staffA...); r.Status != http.StatusOK {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
		prog := m.get("/v1/households/"+hh+"/progress", m.staffA...).json(t)
		learners := prog["learners"].([]any)
		adult, child := learners[0].(map[string]any), learners[1].(map[string]any)
		if child["certified"] != false || !strings.Contains(child["missing_text"].(string), "Định danh điện tử VNeID") {
			t.Fatalf("the child after session %d: %v", i+1, child)
		}
		if want := i == 1; adult["certified"] != want || prog["digital_family"] != want {
			t.Fatalf("the adult after session %d: %v (family %v)", i+1, adult, prog["digital_family"])
		}
	}
	// A topic for a learner that the session did not cover is refused.
	id := uuid.NewString()
	m.schedule(id, hh, now.Add(-time.Hour), m.mai)
	r := m.post("/v1/sessions/"+id+"/check-in", fmt.Sprintf(`{"at":%q,"location":{"lat":%v,"lng":%v},"topics_covered":["vneid"],
		"results":[{"household_id":%q,"member":0,"topics":["ai_tools"],"outcomes":[]}]}`, now.Add(-time.Hour).Format(time.RFC3339), lat, lng, hh), m.mai...)
	if r.Status != http.StatusUnprocessableEntity || r.errorCode(t) != "topic_not_covered_in_session" {
		t.Fatalf("a learner's topic outside the session: %d %s", r.Status, r.Body)
	}
}

// TestPauseHistoryAndStreakOnTheProfile: resuming closes the pause instead
// of forgetting it, and the profile shows the current streak.
func TestPauseHistoryAndStreakOnTheProfile(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, oneAdult)
	m.certified(hh, time.Now().Add(-3*time.Hour).Truncate(time.Second))
	for _, paused := range []string{"true", "false"} {
		if r := m.do(http.MethodPatch, "/v1/volunteers/mai", strings.NewReader(`{"paused":`+paused+`}`), m.mai...); r.Status != http.StatusOK {
			t.Fatalf("paused %s: %d %s", paused, r.Status, r.Body)
		}
	}
	v := m.get("/v1/volunteers/mai", m.mai...).json(t)
	pauses := v["pauses"].([]any)
	if len(pauses) != 1 || pauses[0].(map[string]any)["to"] == nil || v["paused"] != false {
		t.Fatalf("pause history: %v", v["pauses"])
	}
	// The two sessions were held 3 and 29 hours ago: this week, and this
	// week or the last.
	if s, ok := v["streak_weeks"].(float64); !ok || s < 1 || s > 2 {
		t.Fatalf("streak on the profile: %v", v["streak_weeks"])
	}
}

// TestMySessions: a volunteer lists the sessions she mentors (with the code
// of one held and waiting), a household those it learns in; nobody sees
// another's.
func TestMySessions(t *testing.T) {
	m := newMentoring(t)
	self := m.tokenIn("hh-mine", "", "")
	lat, lng := at(0.1, 0)
	m.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
		m.communeA, lat, lng, oneAdult), self)
	self = m.tokenIn("hh-mine", people.RoleHousehold, "")
	if out := m.ask("hh-mine", self); mentorOf(out) != "mai" {
		t.Fatalf("not matched: %v", out)
	}
	other := m.matchedHousehold(0.2, oneAdult)
	held, later := uuid.NewString(), uuid.NewString()
	m.schedule(held, "hh-mine", time.Now().Add(-2*time.Hour).Truncate(time.Second), m.mai)
	m.schedule(later, other, time.Now().Add(48*time.Hour).Truncate(time.Second), m.mai)
	code := m.checkIn(held, time.Now().Add(-time.Hour), 0, `["vneid"]`)["confirmation_code"]
	ids := func(r response) []string {
		t.Helper()
		if r.Status != http.StatusOK {
			t.Fatalf("GET /v1/sessions: %d %s", r.Status, r.Body)
		}
		var out []string
		for _, it := range r.json(t)["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		return out
	}
	if got := ids(m.get("/v1/sessions", m.mai...)); len(got) != 2 || got[0] != later || got[1] != held {
		t.Fatalf("Mai's sessions, newest first: %v", got)
	}
	items := m.get("/v1/sessions", m.mai...).json(t)["items"].([]any)
	if c := items[1].(map[string]any)["confirmation_code"]; c != code || c == nil {
		t.Fatalf("the held session's code %v, want %v", c, code)
	}
	mine := m.get("/v1/sessions", self...)
	if got := ids(mine); len(got) != 1 || got[0] != held || mine.json(t)["items"].([]any)[0].(map[string]any)["confirmation_code"] != nil {
		t.Fatalf("the household's sessions (no code): %s", mine.Body)
	}
	if got := ids(m.get("/v1/sessions?limit=1", m.mai...)); len(got) != 1 {
		t.Fatalf("limit 1: %v", got)
	}
	if r := m.get("/v1/sessions?limit=51", m.mai...); r.Status != http.StatusBadRequest {
		t.Fatalf("limit 51: %d", r.Status)
	}
	// The desk of the commune sees the held session waiting for its code,
	// the other commune's desk nothing.
	if got := ids(m.get("/v1/sessions", m.staffA...)); len(got) != 1 || got[0] != held {
		t.Fatalf("commune A's desk: %v", got)
	}
	if got := ids(m.get("/v1/sessions", m.staffB...)); len(got) != 0 {
		t.Fatalf("commune B's desk: %v", got)
	}
	if r := m.get("/v1/sessions", m.tokenIn("tuan", "", "")...); r.Status != http.StatusForbidden {
		t.Fatalf("a user who has not registered: %d %s", r.Status, r.Body)
	}
	if got := ids(m.get("/v1/sessions", m.mentorAt("tuan2", 0.3, 0, `["vi"]`, 10, 3)...)); len(got) != 0 {
		t.Fatalf("another volunteer sees %v", got)
	}
}
