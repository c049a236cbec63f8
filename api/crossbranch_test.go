package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/people"
)

// crossProbe is one route called with another commune's ids (OWASP API1,
// broken object-level authorization; API5, function level): every signed-in
// role of commune A tries it on commune B's objects and must get 403 or 404,
// never an answer. The same call by B's own side (owner) must succeed, which
// proves the probe names real objects in a valid body: a probe that failed
// for a wrong body would otherwise pass.
type crossProbe struct {
	route       string // as in accessTable
	path, body  string
	owner       []string // B's caller for the control call; nil: none (see why)
	why         string   // why there is no control, or why the route has no other-branch id
	noOtherID   bool     // the route names nothing of another branch
	crossBranch bool     // readable across branches by design (why says so)
	check       func(t *testing.T, role people.Role, r response)
}

func TestCrossBranchAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()

	// Commune B, 30 km south of A: a branch, a volunteer, a household she
	// is matched to, a session, a batch run, a campaign and a push token.
	branchB := w.mustCreate("/v1/branches", fmt.Sprintf(`{"kind":"branch","name":"Chi đoàn thôn Nậm Pung","parent_id":%q}`, w.communeB), w.adminB)["id"].(string)
	volB := w.tokenIn("vol-b", "", "")
	lat, lng := at(0, -30)
	w.mustCreate("/v1/volunteers", fmt.Sprintf(`{"name":"Vàng Thị Sua","phone":"0977000111","branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":["vi"],"topics":["vneid"],"capacity":10,"radius_km":2,"consents":["matching"]}`, branchB, lat, lng), volB)
	lat, lng = at(0.1, -30)
	hhB := w.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
		w.communeB, lat, lng, oneAdult), w.staffB)["id"].(string)
	reqB := w.ask(hhB, w.staffB)
	if mentorOf(reqB) != "vol-b" {
		t.Fatalf("B's household not matched in B: %v", reqB)
	}
	sessB := uuid.NewString()
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	w.mustCreate("/v1/sessions", fmt.Sprintf(`{"id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":60,"topics":["vneid"]}`,
		sessB, hhB, start.Format(time.RFC3339)), volB)
	// One waiting request in B for a batch run to propose.
	lat, lng = at(0, -45)
	far := w.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
		w.communeB, lat, lng, oneAdult), w.staffB)["id"].(string)
	w.ask(far, w.staffB)
	runRes := w.post("/v1/matching/runs", fmt.Sprintf(`{"commune_id":%q}`, w.communeB), w.adminB...)
	if runRes.Status != http.StatusCreated {
		t.Fatalf("run in B: %d %s", runRes.Status, runRes.Body)
	}
	runB := runRes.json(t)["id"].(string)
	campBody := fmt.Sprintf(`{"name":"Tháng ở Bản Xèo","scope":"commune:02725","starts_at":%q,"ends_at":%q}`,
		time.Now().Add(-time.Hour).Format(time.RFC3339), time.Now().Add(240*time.Hour).Format(time.RFC3339))
	campB := w.mustCreate("/v1/campaigns", campBody, w.adminB)["id"].(string)
	teamB := w.mustCreate("/v1/branches", fmt.Sprintf(`{"kind":"tech_team","name":"Tổ công nghệ số xã Bản Xèo","parent_id":%q}`, w.communeB), w.adminB)["id"].(string)
	if r := w.post("/v1/devices", `{"token":"device-token-of-vol-b","platform":"android"}`, volB...); r.Status/100 != 2 {
		t.Fatalf("device of B: %d %s", r.Status, r.Body)
	}

	// Commune A's signed-in people.
	volA := w.mentorAt("vol-a", 0.4, 0, `["vi"]`, 10, 2)
	hhA := w.tokenIn("hh-a", "", "")
	lat, lng = at(0.2, 0)
	w.mustCreate("/v1/households", fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
		w.communeA, lat, lng, oneAdult), hhA)
	actorsA := []struct {
		role people.Role
		auth []string
	}{{people.RoleVolunteer, volA}, {people.RoleHousehold, hhA}, {people.RoleCommuneStaff, w.staffA}, {people.RoleBranchAdmin, w.adminA}}
	for _, a := range actorsA {
		if got := w.get("/v1/me", a.auth...).json(t)["role"]; got != string(a.role) {
			t.Fatalf("actor %s has role %v", a.role, got)
		}
	}

	checkIn := fmt.Sprintf(`{"at":%q,"location":{"lat":%v,"lng":%v},"topics_covered":["vneid"]}`, start.Format(time.RFC3339), lat, lng)
	syncItem := fmt.Sprintf(`{"items":[{"item_id":%q,"op":"schedule","session_id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":45}]}`,
		uuid.NewString(), uuid.NewString(), hhB, start.Add(24*time.Hour).Format(time.RFC3339))
	probes := []crossProbe{
		{route: "GET /healthz", noOtherID: true}, {route: "GET /readyz", noOtherID: true}, {route: "GET /metrics", noOtherID: true},
		{route: "GET /openapi.json", noOtherID: true}, {route: "POST /v1/dev/token", noOtherID: true, why: "dev mode only; the role and branch come from the users collection"},
		{route: "GET /v1/me", noOtherID: true},
		{route: "GET /public/coverage", noOtherID: true, why: "aggregates only, for everyone"},
		{route: "GET /public/rankings", noOtherID: true, why: "aggregates only, for everyone"},
		{route: "GET /v1/sessions", noOtherID: true, why: "the caller's own sessions only (TestMySessions)"},
		{route: "GET /public/units", noOtherID: true, why: "the official list of units, public data"},
		{route: "GET /public/units/:code/communes", noOtherID: true, why: "as above"},
		{route: "GET /public/units/outlines", noOtherID: true, why: "the official outlines, public data"},
		{route: "GET /dashboard", noOtherID: true}, {route: "GET /dashboard/config.json", noOtherID: true}, {route: "GET /dashboard/:file", noOtherID: true},
		{route: "GET /app", noOtherID: true}, {route: "GET /app/:file", noOtherID: true},
		{route: "GET /v1/units/communes/:code/union", noOtherID: true, why: "the union tree is known to signed-in users"},
		{route: "GET /v1/campaigns", noOtherID: true, why: "campaigns are announced to everyone"},
		{route: "POST /v1/leaderboards/rebuild", noOtherID: true, why: "national admins only"},
		{route: "GET /v1/leaderboards/rebuild", noOtherID: true, why: "national admins only"},
		{route: "GET /v1/notifications", noOtherID: true, why: "the caller's own list"},
		{route: "POST /v1/devices", noOtherID: true, why: "the caller's own tokens"},

		{route: "GET /v1/branches/:id", path: "/v1/branches/" + w.communeB, crossBranch: true, why: "the union's tree is known to its members"},
		{route: "GET /v1/branches/:id/children", path: "/v1/branches/" + w.communeB + "/children", crossBranch: true, why: "as above"},
		{route: "GET /v1/leaderboards/:campaign", path: "/v1/leaderboards/" + campB + "?board=communes&scope=national", crossBranch: true, why: "boards are meant to be compared"},
		{route: "GET /v1/leaderboards/:campaign/me", path: "/v1/leaderboards/" + campB + "/me", crossBranch: true, why: "the caller's own rank"},
		{route: "GET /v1/volunteers/:id/badges", path: "/v1/volunteers/vol-b/badges", crossBranch: true, why: "badges are public recognition, with no personal data"},

		{route: "POST /v1/branches", body: fmt.Sprintf(`{"kind":"branch","name":"Chi đoàn lạ","parent_id":%q}`, w.communeB), owner: w.adminB},
		{route: "PUT /v1/branches/:id/targets", path: "/v1/branches/" + teamB + "/targets", body: `{"values":{"sessions":10}}`, owner: w.adminB},
		{route: "PUT /v1/branches/:id/population", path: "/v1/branches/" + w.communeB + "/population", body: `{"residents":900,"households":200,"year":2025}`, owner: w.adminB},
		{route: "POST /v1/volunteers", body: fmt.Sprintf(`{"name":"Lò Văn Lả","phone":"0977000222","branch_id":%q,"location":{"lat":%v,"lng":%v},
			"languages":["vi"],"topics":["vneid"],"consents":["matching"]}`, branchB, lat, lng), why: "a second registration by B would clash on the phone; registering in another's subtree is also TestVolunteerRegistration"},
		{route: "GET /v1/volunteers/:id", path: "/v1/volunteers/vol-b", owner: volB},
		{route: "PATCH /v1/volunteers/:id", path: "/v1/volunteers/vol-b", body: `{"capacity":6}`, owner: volB},
		{route: "GET /v1/volunteers/:id/export", path: "/v1/volunteers/vol-b/export", owner: volB},
		{route: "GET /v1/volunteers/:id/mentees", path: "/v1/volunteers/vol-b/mentees", owner: volB},
		{route: "DELETE /v1/volunteers/:id", path: "/v1/volunteers/vol-b", why: "the owner's delete would end the fixture; checked: vol-b is still there"},
		{route: "POST /v1/help-requests", body: fmt.Sprintf(`{"household_id":%q}`, hhB), why: "B's household already has its request"},
		{route: "GET /v1/help-requests", path: "/v1/help-requests?commune_id=" + w.communeB, owner: w.staffB},
		{route: "GET /v1/help-requests/:id", path: "/v1/help-requests/" + reqB["id"].(string), owner: w.staffB},
		{route: "POST /v1/matching/runs", body: fmt.Sprintf(`{"commune_id":%q}`, w.communeB), owner: w.adminB},
		{route: "GET /v1/coverage", path: "/v1/coverage?commune_id=" + w.communeB, owner: w.adminB},
		{route: "GET /v1/matching/runs/:id", path: "/v1/matching/runs/" + runB, owner: w.adminB},
		{route: "POST /v1/matching/runs/:id/discard", path: "/v1/matching/runs/" + runB + "/discard", why: "the owner applies the run instead (below)"},
		{route: "POST /v1/matching/runs/:id/apply", path: "/v1/matching/runs/" + runB + "/apply", owner: w.adminB},
		{route: "POST /v1/households", body: fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"members":%s,"consents":["matching"]}`,
			w.communeB, lat, lng, oneAdult), owner: w.staffB, check: func(t *testing.T, role people.Role, r response) {
			// A volunteer may register a household anywhere (they meet
			// families where they are; people.RegisterHousehold) and then
			// sees it as its registrar only; staff only inside their commune.
			if role != people.RoleVolunteer || r.json(t)["registered_by"] != "vol-a" {
				t.Errorf("POST /v1/households into commune B as %s of A: %d %s", role, r.Status, r.Body)
			}
		}},
		{route: "GET /v1/households/:id", path: "/v1/households/" + hhB, owner: w.staffB},
		{route: "PATCH /v1/households/:id", path: "/v1/households/" + hhB, body: `{"contact_phone":"0912345678"}`, owner: w.staffB},
		{route: "GET /v1/households/:id/export", path: "/v1/households/" + hhB + "/export", owner: w.staffB},
		{route: "GET /v1/households/:id/progress", path: "/v1/households/" + hhB + "/progress", owner: w.staffB},
		{route: "GET /v1/households/:id/help-requests", path: "/v1/households/" + hhB + "/help-requests", owner: w.staffB},
		{route: "DELETE /v1/households/:id", path: "/v1/households/" + hhB, why: "the owner's delete would end the fixture; checked: the household is still there"},
		{route: "POST /v1/sessions", body: fmt.Sprintf(`{"id":%q,"learners":[{"household_id":%q,"member":0}],"starts_at":%q,"minutes":60,"topics":["vneid"]}`,
			uuid.NewString(), hhB, start.Add(48*time.Hour).Format(time.RFC3339)), why: "only B's mentor may schedule with B's learners; her own schedule is above"},
		{route: "POST /v1/sessions/sync", body: syncItem, check: func(t *testing.T, _ people.Role, r response) {
			// A sync answers 200 with a result per item; the item must be
			// refused, not applied.
			if r.Status == http.StatusOK {
				for _, it := range r.json(t)["results"].([]any) {
					if st := it.(map[string]any)["status"]; st != "rejected" {
						t.Errorf("sync of a session with B's household: item %v", st)
					}
				}
			}
		}, why: "answers per item"},
		{route: "GET /v1/sessions/:id", path: "/v1/sessions/" + sessB, owner: volB},
		{route: "POST /v1/sessions/:id/check-in", path: "/v1/sessions/" + sessB + "/check-in", body: checkIn, owner: volB},
		{route: "POST /v1/sessions/:id/confirm", path: "/v1/sessions/" + sessB + "/confirm", body: `{"code":"123456"}`, why: "B's confirmation needs the code the mentor reads out"},
		{route: "POST /v1/sessions/:id/cancel", path: "/v1/sessions/" + sessB + "/cancel", why: "the owner's cancel would end the fixture"},
		{route: "POST /v1/sessions/:id/review", path: "/v1/sessions/" + sessB + "/review", body: `{"decision":"approve"}`, why: "the session is not waiting for review"},
		{route: "POST /v1/campaigns", body: campBody, owner: w.adminB},
		{route: "DELETE /v1/devices/:token", path: "/v1/devices/device-token-of-vol-b", why: "the owner's drop would end the fixture; checked: the token is still there"},
		{route: "POST /v1/notifications/broadcasts", body: fmt.Sprintf(`{"title":"Chiến dịch","body":"Nội dung","branch_id":%q}`, w.communeB), owner: w.adminB},
		{route: "GET /v1/dashboard/indicators", path: "/v1/dashboard/indicators?branch_id=" + w.communeB, owner: w.adminB},
		{route: "GET /v1/dashboard/indicators.csv", path: "/v1/dashboard/indicators.csv?branch_id=" + w.communeB, owner: w.adminB},
	}

	covered := map[string]bool{}
	calls, allowed := 0, 0
	for _, p := range probes {
		if _, ok := accessTable[p.route]; !ok {
			t.Errorf("probe of %s, which the access table does not know", p.route)
		}
		covered[p.route] = true
		if p.noOtherID {
			continue
		}
		for _, a := range actorsA {
			r := p.call(w.testAPI, a.auth)
			calls++
			switch {
			case p.check != nil && r.Status/100 == 2:
				p.check(t, a.role, r)
			case r.Status/100 == 2:
				allowed++
				if !p.crossBranch {
					t.Errorf("%s as %s of commune A on commune B's ids: %d %s", p.route, a.role, r.Status, r.Body)
				}
			case !refused(t, r):
				t.Errorf("%s as %s of commune A: %d %s, want a refusal", p.route, a.role, r.Status, r.Body)
			}
		}
	}
	for route := range accessTable {
		if !covered[route] {
			t.Errorf("no cross-branch probe for %s", route)
		}
	}

	// The controls: the same calls by B's own side succeed.
	for _, p := range probes {
		if p.owner == nil {
			if !p.noOtherID && !p.crossBranch && p.why == "" {
				t.Errorf("probe of %s has neither a control nor a reason", p.route)
			}
			continue
		}
		if r := p.call(w.testAPI, p.owner); r.Status/100 != 2 {
			t.Errorf("control: %s by commune B's own side: %d %s", p.route, r.Status, r.Body)
		}
	}
	// What the refused deletes would have removed is still there.
	for coll, id := range map[string]string{"volunteers": "vol-b", "households": hhB, "devices": "device-token-of-vol-b"} {
		if n, err := w.db.Collection(coll).CountDocuments(ctx, bson.D{{Key: "_id", Value: id}}); err != nil || n != 1 {
			t.Errorf("%s %s after refused deletes: %d (%v)", coll, id, n, err)
		}
	}
	t.Logf("%d cross-branch calls over %d routes, %d allowed by design (%s), 0 unexpected allows if no error above",
		calls, len(probes), allowed, "branch tree, boards, badges, own rank")
}

// call makes the probe's request as auth, under a fresh Idempotency-Key.
func (p crossProbe) call(ta *testAPI, auth []string) response {
	method, path, _ := strings.Cut(p.route, " ")
	if p.path != "" {
		path = p.path
	}
	body := p.body
	if body == "" {
		body = "{}"
	}
	return ta.do(method, path, strings.NewReader(body), append(slices.Clone(auth), "Idempotency-Key", uuid.NewString())...)
}

// refused tells whether an answer refuses a cross-branch call: 403 or 404
// (which does not even say the object exists), 422 naming the field whose
// id is outside the caller's scope, or 409 for a caller who is already
// registered and so may not register again, in any branch.
func refused(t *testing.T, r response) bool {
	switch r.Status {
	case http.StatusForbidden, http.StatusNotFound:
		return true
	case http.StatusUnprocessableEntity:
		return slices.Contains([]string{"branch_outside_your_scope", "commune_outside_your_scope", "scope_outside_your_unit", "not_your_learner"}, r.errorCode(t))
	case http.StatusConflict:
		return r.errorCode(t) == "already_registered"
	}
	return false
}
