package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"daisuso/gamify"
	"daisuso/people"
	"daisuso/programme"
)

// dashWorld is a commune with the figures a dashboard shows: Mai with five
// learners, one session of hers confirmed this week (a learner certified, a
// Gia đình số), Lan with none, a household far south that nobody reaches,
// and Hoa, who earned many points forty days ago.
type dashWorld struct {
	*mentoring
	far     string // the waiting household
	started time.Time
}

func newDashWorld(t *testing.T) *dashWorld {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, oneAdult)
	for i := range 4 {
		m.matchedHousehold(0.2+float64(i)*0.1, oneAdult)
	}
	m.mentorAt("lan", 0.5, -0.5, `["vi"]`, 5, 5)
	d := &dashWorld{mentoring: m, far: m.householdAt(0, -30, oneAdult)}
	if out := m.ask(d.far, m.staffA); mentorOf(out) != "" {
		t.Fatalf("the far household was matched: %v", out)
	}
	d.started = time.Now().Add(-2 * time.Minute).Truncate(time.Second)
	m.certified(hh, d.started)
	who := gamify.Who{VolunteerID: "hoa", Name: "Hoa", BranchID: m.branchA, BranchName: "Chi đoàn thôn Séo Pả",
		CommuneID: m.communeA, CommuneName: "Xã Mường Hum", ProvinceCode: "15", CommuneCode: "02728"}
	for i := range 5 {
		_, _, err := m.deps.Gamify.Award(context.Background(), gamify.Award{Key: fmt.Sprintf("test:hoa:%d", i),
			Reason: gamify.ReasonQuotaReached, Source: "test", Who: who, At: time.Now().AddDate(0, 0, -40)})
		if err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// thisWeek is how many of the two certifying sessions (held at started
// and 26 hours before) count in the current week.
func (d *dashWorld) thisWeek() float64 {
	n := 0.0
	for _, at := range []time.Time{d.started, d.started.Add(-26 * time.Hour)} {
		if !at.Before(programme.WeekStart(time.Now())) {
			n++
		}
	}
	return n
}

func TestDashboardIndicators(t *testing.T) {
	d := newDashWorld(t)
	body := fmt.Sprintf(`{"name":"Tháng cao điểm","scope":"commune:02728","starts_at":%q,"ends_at":%q,"targets":{"sessions":10,"mentors_at_five":4}}`,
		time.Now().Add(-time.Hour).Format(time.RFC3339), time.Now().Add(240*time.Hour).Format(time.RFC3339))
	camp := d.mustCreate("/v1/campaigns", body, d.adminA)["id"].(string)

	r := d.get("/v1/dashboard/indicators", d.adminA...)
	if r.Status != http.StatusOK {
		t.Fatalf("indicators: %d %s", r.Status, r.Body)
	}
	got := r.json(t)
	if got["board_scope"] != "commune:02728" || got["unit"].(map[string]any)["id"] != d.communeA {
		t.Fatalf("unit and scope: %s", r.Body)
	}
	// The OpenAPI document describes the keys sent, the report's own
	// among them (programme.Indicators, embedded in the answer).
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Schema struct {
						Properties map[string]any `json:"properties"`
						Required   []string       `json:"required"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(d.get("/openapi.json").Body, &doc); err != nil {
		t.Fatal(err)
	}
	schema := doc.Paths["/v1/dashboard/indicators"]["get"].Responses["200"].Content["application/json"].Schema
	for k := range got {
		if schema.Properties[k] == nil {
			t.Errorf("OpenAPI: %q sent but not described", k)
		}
	}
	for _, k := range schema.Required {
		if _, ok := got[k]; !ok {
			t.Errorf("OpenAPI: %q required but not sent", k)
		}
	}
	if len(schema.Required) < 10 {
		t.Errorf("OpenAPI: required %v", schema.Required)
	}
	total := got["total"].(map[string]any)
	want := map[string]float64{"mentors": 2, "mentors_at_five": 1, "mentors_at_five_share": 0.5, "households": 6,
		"digital_families": 1, "certified_learners": 1, "requests_waiting": 1, "learners_waiting": 1, "sessions_this_week": d.thisWeek()}
	for k, v := range want {
		if total[k] != v {
			t.Errorf("total %s = %v, want %v", k, total[k], v)
		}
	}
	if h, ok := total["oldest_wait_hours"].(float64); !ok || h < 0 || h > 1 {
		t.Errorf("oldest wait: %v", total["oldest_wait_hours"])
	}
	trend := total["trend"].(map[string]any)
	if s := trend["sessions"].([]any); len(s) != 8 || s[7] != d.thisWeek() || len(got["weeks"].([]any)) != 8 {
		t.Errorf("trend: %v weeks %v", trend, got["weeks"])
	}
	communes, branches := got["communes"].([]any), got["branches"].([]any)
	if len(communes) != 1 || len(branches) != 1 {
		t.Fatalf("rows: %s", r.Body)
	}
	br := branches[0].(map[string]any)
	if br["id"] != d.branchA || br["mentors"] != 2.0 || br["sessions_this_week"] != d.thisWeek() || br["households"] != nil {
		t.Errorf("branch row: %v", br)
	}
	// The commune's active campaign is chosen, with its targets.
	c := got["campaign"].(map[string]any)
	if c["id"] != camp {
		t.Fatalf("campaign: %v", c)
	}
	targets := map[string]float64{}
	for _, x := range c["targets"].([]any) {
		targets[x.(map[string]any)["kind"].(string)] = x.(map[string]any)["value"].(float64)
	}
	if targets["sessions"] != 1 || targets["mentors_at_five"] != 1 || len(targets) != 2 {
		t.Errorf("targets: %v", c["targets"])
	}
	// Staff of the commune see it; another commune's admin does not even
	// learn that it exists; bad input is a 400.
	if r := d.get("/v1/dashboard/indicators?branch_id="+d.communeA, d.staffA...); r.Status != http.StatusOK {
		t.Errorf("staff: %d %s", r.Status, r.Body)
	}
	if r := d.get("/v1/dashboard/indicators?branch_id="+d.communeA, d.adminB...); r.Status != http.StatusNotFound {
		t.Errorf("another commune's admin: %d %s", r.Status, r.Body)
	}
	if r := d.get("/v1/dashboard/indicators?weeks=0", d.adminA...); r.Status != http.StatusBadRequest {
		t.Errorf("weeks=0: %d %s", r.Status, r.Body)
	}
	if r := d.get("/v1/dashboard/indicators", d.admin...); r.Status != http.StatusBadRequest || r.errorCode(t) != "invalid_input" {
		t.Errorf("a national admin without a unit: %d %s", r.Status, r.Body)
	}
	// A province's indicators list its communes.
	prov := d.get("/v1/dashboard/indicators?branch_id="+d.province, d.admin...)
	if prov.Status != http.StatusOK || len(prov.json(t)["communes"].([]any)) != 2 || prov.json(t)["board_scope"] != "province:15" {
		t.Errorf("province: %d %s", prov.Status, prov.Body)
	}
	if r := d.get("/v1/dashboard/indicators", d.mai...); r.Status != http.StatusForbidden {
		t.Errorf("a volunteer: %d %s", r.Status, r.Body)
	}
}

func TestDashboardIndicatorsCSV(t *testing.T) {
	d := newDashWorld(t)
	r := d.get("/v1/dashboard/indicators.csv", d.adminA...)
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", r.Status, r.Body)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, `filename="chi-so-02728-`) {
		t.Errorf("Content-Disposition: %q", cd)
	}
	body := string(r.Body)
	if !strings.HasPrefix(body, "\ufeffCấp,Mã,Mã đơn vị hành chính,Tên,") {
		t.Fatalf("no BOM or header: %.80q", body)
	}
	lines := strings.Split(strings.TrimSuffix(body, "\r\n"), "\r\n")
	if len(lines) != 4 { // header, total, commune, branch
		t.Fatalf("lines: %q", lines)
	}
	if !strings.HasPrefix(lines[2], "Xã,"+d.communeA+",02728,Xã Mường Hum,2,1,50.0,") {
		t.Errorf("commune line: %q", lines[2])
	}
	if !strings.HasPrefix(lines[3], "Chi đoàn,"+d.branchA+",,Chi đoàn thôn Séo Pả,2,1,50.0,") || !strings.Contains(lines[3], ",,,,") {
		t.Errorf("branch line (household columns empty): %q", lines[3])
	}
	semi := d.get("/v1/dashboard/indicators.csv?sep=semicolon", d.adminA...)
	if !strings.HasPrefix(string(semi.Body), "\ufeffCấp;Mã;Mã đơn vị hành chính;Tên;") {
		t.Errorf("semicolons: %.60q", semi.Body)
	}
	if r := d.get("/v1/dashboard/indicators.csv?sep=tab", d.adminA...); r.Status != http.StatusBadRequest {
		t.Errorf("sep=tab: %d", r.Status)
	}
}

func TestDashboardFiles(t *testing.T) {
	ta := newTestAPI(t)
	r := ta.get("/dashboard")
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "/dashboard/app.js") ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("page: %d %s", r.Status, r.Body)
	}
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP: %q", csp)
	}
	for _, f := range []string{"app.js", "common.js", "report.js", "app.css", "report.html"} {
		if r := ta.get("/dashboard/" + f); r.Status != http.StatusOK || len(r.Body) < 100 {
			t.Errorf("%s: %d", f, r.Status)
		}
	}
	// Nothing outside the embedded files is served.
	for _, p := range []string{"/dashboard/..%2fapi.go", "/dashboard/nope.js", "/dashboard/dashboard.go"} {
		if r := ta.get(p); r.Status != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.Status)
		}
	}
	etag := ta.get("/dashboard/app.js").Header.Get("ETag")
	if r := ta.get("/dashboard/app.js", "If-None-Match", etag); etag == "" || r.Status != http.StatusNotModified {
		t.Errorf("ETag %q: %d", etag, r.Status)
	}
	cfg := ta.get("/dashboard/config.json").json(t)
	if cfg["dev_mode"] != true {
		t.Errorf("config: %v", cfg)
	}
}

// TestBranchSeesItsOwnFigures: a branch admin's dashboard is the branch's
// own volunteers, learners, households and sessions, with its commune named
// as context; no batch matching (a commune's action), and no board a
// branch scope cannot rank.
func TestBranchSeesItsOwnFigures(t *testing.T) {
	d := newDashWorld(t)
	other := d.mustCreate("/v1/branches", fmt.Sprintf(`{"kind":"branch","name":"Chi đoàn thôn Lếch","parent_id":%q}`, d.communeA), d.adminA)["id"].(string)
	lat, lng := at(0.3, 0.3)
	d.mustCreate("/v1/volunteers", fmt.Sprintf(`{"name":"Hà Văn Tú","phone":"0966000222","branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":["vi"],"topics":["vneid"],"capacity":5,"radius_km":2,"consents":["matching"]}`, other, lat, lng), d.tokenIn("tu", "", ""))
	branchAdmin := d.tokenIn("chief-a", people.RoleBranchAdmin, d.branchA)

	commune := d.get("/v1/dashboard/indicators", d.adminA...).json(t)
	if commune["total"].(map[string]any)["mentors"] != 3.0 || commune["actions"].(map[string]any)["batch_matching"] != true || commune["context"] != nil {
		t.Fatalf("the commune's dashboard: total %v actions %v", commune["total"], commune["actions"])
	}
	r := d.get("/v1/dashboard/indicators", branchAdmin...)
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	got := r.json(t)
	total := got["total"].(map[string]any)
	// Mai and Lan are the branch's; Mai serves five households, one of
	// whose learners was certified in two sessions.
	if total["mentors"] != 2.0 || total["learners"] != 5.0 || total["households_served"] != 5.0 || total["name"] != "Chi đoàn thôn Séo Pả" ||
		total["households"] != nil || total["sessions_this_week"] != d.thisWeek() {
		t.Fatalf("the branch's total: %v", total)
	}
	if c := got["context"].(map[string]any); c["id"] != d.communeA || c["name"] != "Xã Mường Hum" {
		t.Fatalf("context: %v", got["context"])
	}
	if len(got["communes"].([]any)) != 0 || got["actions"].(map[string]any)["batch_matching"] != false {
		t.Fatalf("communes %v actions %v", got["communes"], got["actions"])
	}
	scopes := got["board_scopes"].([]any)
	first := scopes[0].(map[string]any)
	if len(scopes) != 4 || first["scope"] != "branch:"+d.branchA || fmt.Sprint(first["boards"]) != "[volunteers]" {
		t.Fatalf("board scopes: %v", scopes)
	}
	// Every scope offered ranks every board it lists.
	for _, s := range scopes {
		sc := s.(map[string]any)
		for _, b := range sc["boards"].([]any) {
			if r := d.get(fmt.Sprintf("/v1/leaderboards/all?board=%s&scope=%s", b, sc["scope"]), branchAdmin...); r.Status != http.StatusOK {
				t.Errorf("board %s in %s: %d %s", b, sc["scope"], r.Status, r.Body)
			}
		}
	}
}

// TestTechTeamTargets: a commune's technology team is given targets (at
// creation or later, by its commune's admins, not a branch's), and the
// dashboard and CSV show their progress from the confirmed sessions of the
// month, with the outcomes the plan monitors per commune and branch.
func TestTechTeamTargets(t *testing.T) {
	d := newDashWorld(t)
	// The world's team has none yet; the commune union's admin sets some.
	if r := d.do(http.MethodPut, "/v1/branches/"+d.teamA+"/targets", strings.NewReader(`{"values":{"sessions":4,"vneid_activated":10,"people_supported":2,"flying":1}}`), d.adminA...); r.Status != http.StatusBadRequest {
		t.Fatalf("an unknown kind: %d %s", r.Status, r.Body)
	}
	branchAdmin := d.tokenIn("chief-a", people.RoleBranchAdmin, d.branchA)
	body := `{"values":{"sessions":4,"vneid_activated":10,"people_supported":2,"problems_solved":8}}`
	if r := d.do(http.MethodPut, "/v1/branches/"+d.teamA+"/targets", strings.NewReader(body), branchAdmin...); r.Status != http.StatusNotFound && r.Status != http.StatusForbidden {
		t.Fatalf("a branch's admin set the commune team's targets: %d %s", r.Status, r.Body)
	}
	if r := d.do(http.MethodPut, "/v1/branches/"+d.teamA+"/targets", strings.NewReader(body), d.adminA...); r.Status != http.StatusOK || r.json(t)["period"] != "month" {
		t.Fatalf("set: %d %s", r.Status, r.Body)
	}
	// A team created with targets in commune B.
	if r := d.post("/v1/branches", fmt.Sprintf(`{"kind":"tech_team","name":"Tổ công nghệ số xã Bản Xèo","parent_id":%q,"targets":{"values":{"sessions":30}}}`, d.communeB), d.adminB...); r.Status != http.StatusCreated {
		t.Fatalf("a team created with targets: %d %s", r.Status, r.Body)
	}

	got := d.get("/v1/dashboard/indicators", d.adminA...).json(t)
	teams := got["teams"].([]any)
	if len(teams) != 1 {
		t.Fatalf("teams: %v", teams)
	}
	// The two certifying sessions: held 2 minutes and 26 hours ago (both
	// this month unless the month began in between), one learner, four
	// outcomes of which one VNeID activation.
	want := map[string]float64{"sessions": 2, "vneid_activated": 1, "people_supported": 1, "problems_solved": 4}
	monthStart := time.Date(time.Now().In(vnZone).Year(), time.Now().In(vnZone).Month(), 1, 0, 0, 0, 0, vnZone)
	if d.started.Add(-26 * time.Hour).Before(monthStart) {
		want = map[string]float64{"sessions": 1, "vneid_activated": 0, "people_supported": 1, "problems_solved": 0}
	}
	for _, x := range teams[0].(map[string]any)["targets"].([]any) {
		tg := x.(map[string]any)
		if tg["value"] != want[tg["kind"].(string)] {
			t.Errorf("target %v: value %v, want %v", tg["kind"], tg["value"], want[tg["kind"].(string)])
		}
	}
	if o := got["communes"].([]any)[0].(map[string]any)["outcomes"].(map[string]any); o["vneid_activated"] != 1.0 || o["scam_lesson"] != 1.0 {
		t.Errorf("the commune's outcomes: %v", o)
	}
	if o := got["branches"].([]any)[0].(map[string]any)["outcomes"].(map[string]any); o["epayment_setup"] != 1.0 {
		t.Errorf("the branch's outcomes: %v", o)
	}
	csv := string(d.get("/v1/dashboard/indicators.csv", d.adminA...).Body)
	if !strings.Contains(csv, "Đã kích hoạt tài khoản VNeID") || !strings.Contains(csv, "Tổ công nghệ số,Mã,Kỳ") ||
		!strings.Contains(csv, ",Tháng,") || !strings.Contains(csv, "Tài khoản VNeID được kích hoạt,10,") {
		t.Errorf("csv: %s", csv)
	}
}

var vnZone = time.FixedZone("ICT", 7*3600)
