package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/people"
)

// world is a small union hierarchy with people in it, built through the API.
type world struct {
	*testAPI
	admin                       []string // bearer headers
	province, communeA, branchA string
	teamA, communeB             string
	adminA, staffA, adminB      []string
	staffB                      []string
}

func (ta *testAPI) tokenIn(userID string, role people.Role, branch string) []string {
	ta.t.Helper()
	r := ta.post("/v1/dev/token", fmt.Sprintf(`{"user_id":%q,"role":%q,"branch_id":%q}`, userID, role, branch))
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		ta.t.Fatalf("dev token: %d %s", r.Status, r.Body)
	}
	return bearer(r.json(ta.t)["token"].(string))
}

func (ta *testAPI) mustCreate(path, body string, auth []string) map[string]any {
	ta.t.Helper()
	r := ta.post(path, body, auth...)
	if r.Status != http.StatusCreated {
		ta.t.Fatalf("POST %s: %d %s", path, r.Status, r.Body)
	}
	return r.json(ta.t)
}

func newWorld(t *testing.T) *world { return newWorldOn(newTestAPI(t)) }

// newWorldOn builds the world through the given API.
func newWorldOn(ta *testAPI) *world {
	w := &world{testAPI: ta, admin: ta.tokenIn("root", people.RoleAdmin, "")}
	w.province = ta.mustCreate("/v1/branches", `{"kind":"province","name":"Tỉnh đoàn Lào Cai","province_code":"15"}`, w.admin)["id"].(string)
	w.communeA = ta.mustCreate("/v1/branches", fmt.Sprintf(`{"kind":"commune","name":"Đoàn xã Mường Hum","parent_id":%q,"commune_code":"02728"}`, w.province), w.admin)["id"].(string)
	w.communeB = ta.mustCreate("/v1/branches", fmt.Sprintf(`{"kind":"commune","name":"Đoàn xã Bản Xèo","parent_id":%q,"commune_code":"02725"}`, w.province), w.admin)["id"].(string)
	w.adminA = ta.tokenIn("admin-a", people.RoleBranchAdmin, w.communeA)
	w.adminB = ta.tokenIn("admin-b", people.RoleBranchAdmin, w.communeB)
	w.branchA = ta.mustCreate("/v1/branches", fmt.Sprintf(`{"kind":"branch","name":"Chi đoàn thôn Séo Pả","parent_id":%q}`, w.communeA), w.adminA)["id"].(string)
	w.teamA = ta.mustCreate("/v1/branches", fmt.Sprintf(`{"kind":"tech_team","name":"Tổ công nghệ số cộng đồng xã Mường Hum","parent_id":%q}`, w.communeA), w.adminA)["id"].(string)
	w.staffA = ta.tokenIn("staff-a", people.RoleCommuneStaff, w.teamA)
	w.staffB = ta.tokenIn("staff-b", people.RoleCommuneStaff, w.communeB)
	return w
}

// A point in Bát Xát, Lào Cai, with digits that are easy to search for.
const (
	testLat = 22.537913
	testLng = 103.762547
)

func volunteerBody(branch, phone string) string {
	return fmt.Sprintf(`{"name":"Lò Thị Mai","phone":%q,"branch_id":%q,"location":{"lat":%v,"lng":%v},
		"languages":["vi","hmn"],"topics":["vneid","scam_safety"],"consents":["matching","reminders"]}`, phone, branch, testLat, testLng)
}

func householdBody(commune string, members string) string {
	return fmt.Sprintf(`{"commune_id":%q,"location":{"lat":%v,"lng":%v},"contact_phone":"0987 654 321",
		"members":%s,"consents":["matching"]}`, commune, testLat+0.01, testLng+0.01, members)
}

const grandparents = `[{"name":"Giàng A Páo","birth_year":1950,"needs":["vneid"],"accessibility":["elderly","low_literacy"],"language":"hmn","self_consent":true},
	{"name":"Giàng Thị Dợ","birth_year":2015,"needs":["scam_safety"],"language":"hmn","self_consent":true,"guardian_name":"Giàng A Páo"}]`

func TestUnionHierarchy(t *testing.T) {
	w := newWorld(t)
	cases := []struct {
		name   string
		body   string
		auth   []string
		status int
		code   string
	}{
		{"branch admin cannot create a province", `{"kind":"province","name":"Tỉnh đoàn Hà Giang","province_code":"02"}`, w.adminA, 403, "forbidden"},
		{"branch admin cannot act in another commune", fmt.Sprintf(`{"kind":"branch","name":"Chi đoàn Bản Xèo","parent_id":%q}`, w.communeB), w.adminA, 403, "forbidden"},
		{"commune code taken", fmt.Sprintf(`{"kind":"commune","name":"Đoàn xã khác","parent_id":%q,"commune_code":"02728"}`, w.province), w.admin, 409, "code_taken"},
		{"province code taken", `{"kind":"province","name":"Tỉnh đoàn trùng","province_code":"15"}`, w.admin, 409, "code_taken"},
		{"second technology team", fmt.Sprintf(`{"kind":"tech_team","name":"Tổ thứ hai","parent_id":%q}`, w.communeA), w.adminA, 409, "already_exists"},
		{"branch under a province", fmt.Sprintf(`{"kind":"branch","name":"Chi đoàn lạc","parent_id":%q}`, w.province), w.admin, 422, "wrong_parent_kind"},
		{"unknown parent", `{"kind":"branch","name":"Chi đoàn lạc","parent_id":"nope"}`, w.admin, 422, "unknown_parent"},
		{"bad commune code", fmt.Sprintf(`{"kind":"commune","name":"Đoàn xã X","parent_id":%q,"commune_code":"12"}`, w.province), w.admin, 400, "invalid_input"},
		{"unknown kind", `{"kind":"village","name":"Thôn"}`, w.admin, 400, "invalid_input"},
		{"markup in name", fmt.Sprintf(`{"kind":"branch","name":"<b>x</b>","parent_id":%q}`, w.communeA), w.adminA, 400, "invalid_input"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := w.post("/v1/branches", c.body, c.auth...)
			if r.Status != c.status || r.errorCode(t) != c.code {
				t.Fatalf("%d %s, want %d %s", r.Status, r.Body, c.status, c.code)
			}
		})
	}
	t.Run("nodes carry their codes and ancestors", func(t *testing.T) {
		b := w.get("/v1/branches/"+w.branchA, w.staffB...).json(t)
		anc := b["ancestors"].([]any)
		if b["province_code"] != "15" || b["commune_code"] != "02728" || len(anc) != 2 || anc[0] != w.province || anc[1] != w.communeA {
			t.Fatalf("%v", b)
		}
	})
	t.Run("children, paged", func(t *testing.T) {
		seen := map[string]bool{}
		cursor := ""
		for range 3 {
			r := w.get("/v1/branches/"+w.communeA+"/children?limit=1&cursor="+cursor, w.adminA...)
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			page := r.json(t)
			for _, it := range page["items"].([]any) {
				seen[it.(map[string]any)["id"].(string)] = true
			}
			next, _ := page["next_cursor"].(string)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(seen) != 2 || !seen[w.branchA] || !seen[w.teamA] {
			t.Fatalf("children %v, want the branch and the team", seen)
		}
	})
}

func TestVolunteerRegistration(t *testing.T) {
	w := newWorld(t)
	self := w.tokenIn("firebase-uid-mai", "", "")
	r := w.post("/v1/volunteers", volunteerBody(w.branchA, "+84 912 345 678"), self...)
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	v := r.json(t)
	if v["id"] != "firebase-uid-mai" || v["phone"] != "+84912345678" || v["radius_km"] != 2.0 || v["capacity"] != 10.0 ||
		v["commune_id"] != w.communeA || v["phone_masked"] != false {
		t.Fatalf("%s", r.Body)
	}
	if cell, _ := v["cell"].(string); len(cell) != 15 {
		t.Fatalf("cell %q", cell)
	}
	if me := w.get("/v1/me", self...).json(t); me["role"] != "volunteer" || me["branch_id"] != w.branchA {
		t.Fatalf("registered user: %v", me)
	}

	t.Run("rules", func(t *testing.T) {
		other := w.tokenIn("uid-2", "", "")
		cases := []struct {
			name, body string
			status     int
			code       string
		}{
			{"landline", volunteerBody(w.branchA, "02143123456"), 400, "invalid_input"},
			{"outside Vietnam", strings.Replace(volunteerBody(w.branchA, "0912000001"), fmt.Sprint(testLat), "17.9757", 1), 422, "outside_vietnam"},
			{"unknown branch", volunteerBody("br_nope", "0912000002"), 422, "unknown_branch"},
			{"province as branch", volunteerBody(w.province, "0912000003"), 422, "branch_below_province"},
			{"capacity under five", strings.Replace(volunteerBody(w.branchA, "0912000004"), `"consents"`, `"capacity":3,"consents"`, 1), 400, "invalid_input"},
			{"radius over 15 km", strings.Replace(volunteerBody(w.branchA, "0912000005"), `"consents"`, `"radius_km":40,"consents"`, 1), 400, "invalid_input"},
			{"unknown topic", strings.Replace(volunteerBody(w.branchA, "0912000006"), `"vneid"`, `"astrology"`, 1), 400, "invalid_input"},
			{"unknown language", strings.Replace(volunteerBody(w.branchA, "0912000007"), `"hmn"`, `"xx"`, 1), 400, "invalid_input"},
			{"no matching consent", strings.Replace(volunteerBody(w.branchA, "0912000008"), `["matching","reminders"]`, `["reminders"]`, 1), 422, "matching_consent_required"},
			{"name with digits", strings.Replace(volunteerBody(w.branchA, "0912000009"), "Lò Thị Mai", "Mai 123", 1), 400, "invalid_input"},
			{"missing location", strings.Replace(volunteerBody(w.branchA, "0912000010"), fmt.Sprintf(`"location":{"lat":%v,"lng":%v},`, testLat, testLng), "", 1), 400, "invalid_input"},
			{"bad slot", strings.Replace(volunteerBody(w.branchA, "0912000011"), `"consents"`, `"availability":[{"day":8,"from":"19:00","to":"21:00"}],"consents"`, 1), 400, "invalid_input"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := w.post("/v1/volunteers", c.body, other...)
				if r.Status != c.status || r.errorCode(t) != c.code {
					t.Fatalf("%d %s, want %d %s", r.Status, r.Body, c.status, c.code)
				}
			})
		}
		if n, _ := w.db.Collection("volunteers").CountDocuments(context.Background(), bson.D{}); n != 1 {
			t.Fatalf("%d volunteers after refused registrations, want 1", n)
		}
		// Another person's number is no answer: the registration is taken
		// (a phone is a way to reach someone, not who they are).
		if r := w.post("/v1/volunteers", volunteerBody(w.branchA, "0912345678"), other...); r.Status != http.StatusCreated {
			t.Fatalf("a number on another volunteer's record: %d %s", r.Status, r.Body)
		}
	})

	t.Run("who sees what", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			auth   []string
			status int
			masked bool
		}{
			{"herself", self, 200, false},
			{"branch admin above", w.adminA, 200, true},
			{"commune staff of the commune", w.staffA, 200, false},
			{"admin", w.admin, 200, false},
			{"branch admin elsewhere", w.adminB, 404, false},
			{"commune staff elsewhere", w.staffB, 404, false},
			{"another volunteer", w.tokenIn("vol-x", people.RoleVolunteer, w.branchA), 404, false},
		} {
			r := w.get("/v1/volunteers/firebase-uid-mai", c.auth...)
			if r.Status != c.status {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
				continue
			}
			if c.status == 200 {
				v := r.json(t)
				if v["phone_masked"] != c.masked || (c.masked && v["phone"] != "091****678") {
					t.Errorf("%s: phone %v masked %v", c.name, v["phone"], v["phone_masked"])
				}
			}
		}
	})

	t.Run("update", func(t *testing.T) {
		r := w.do(http.MethodPatch, "/v1/volunteers/firebase-uid-mai", strings.NewReader(`{"capacity":15,"paused":true}`), self...)
		v := r.json(t)
		if r.Status != 200 || v["capacity"] != 15.0 || v["paused"] != true || v["paused_at"] == nil || v["name"] != "Lò Thị Mai" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := w.do(http.MethodPatch, "/v1/volunteers/firebase-uid-mai", strings.NewReader(`{"capacity":15}`), w.adminB...); r.Status != 404 {
			t.Fatalf("branch admin elsewhere patched: %d", r.Status)
		}
	})

	t.Run("an admin registers someone inside their subtree only", func(t *testing.T) {
		r := w.post("/v1/volunteers", volunteerBody(w.branchA, "0987000001"), w.adminA...)
		if r.Status != http.StatusCreated || !strings.HasPrefix(r.json(t)["id"].(string), "vo_") {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		r = w.post("/v1/volunteers", volunteerBody(w.branchA, "0987000002"), w.adminB...)
		if r.Status != 422 || r.errorCode(t) != "branch_outside_your_scope" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

func TestHouseholdRegistration(t *testing.T) {
	w := newWorld(t)
	vol := w.tokenIn("vol-door", people.RoleVolunteer, w.branchA)
	r := w.post("/v1/households", householdBody(w.communeA, grandparents), vol...)
	if r.Status != http.StatusCreated {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	h := r.json(t)
	id := h["id"].(string)
	if h["registered_by"] != "vol-door" || h["registered_by_role"] != "volunteer" || h["phone_masked"] != true ||
		h["contact_phone"] != "098****321" || len(h["members"].([]any)) != 2 {
		t.Fatalf("%s", r.Body)
	}

	t.Run("consent by age", func(t *testing.T) {
		cases := []struct{ name, members, code string }{
			{"child of 10 without guardian", `[{"name":"Giàng Thị Dợ","birth_year":2016,"self_consent":true}]`, "guardian_consent_required"},
			{"child of 10 without own consent", `[{"name":"Giàng Thị Dợ","birth_year":2016,"guardian_name":"Giàng A Páo"}]`, "member_consent_required"},
			{"adult without own consent", `[{"name":"Giàng A Páo","birth_year":1970}]`, "member_consent_required"},
			{"child of 4 without guardian", `[{"name":"Giàng Thị Mỷ","birth_year":2022}]`, "guardian_consent_required"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := w.post("/v1/households", householdBody(w.communeA, c.members), vol...)
				if r.Status != 422 || r.errorCode(t) != c.code {
					t.Fatalf("%d %s, want 422 %s", r.Status, r.Body, c.code)
				}
			})
		}
		ok := `[{"name":"Giàng Thị Mỷ","birth_year":2022,"guardian_name":"Giàng A Páo"},{"name":"Giàng A Sử","birth_year":1980,"self_consent":true}]`
		body := strings.Replace(householdBody(w.communeA, ok), "0987 654 321", "0987654322", 1)
		if r := w.post("/v1/households", body, vol...); r.Status != 201 {
			t.Fatalf("child of 4 with guardian: %d %s", r.Status, r.Body)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for name, members := range map[string]string{
			"no members":         `[]`,
			"future birth":       `[{"name":"Giàng A Páo","birth_year":2099,"self_consent":true}]`,
			"unknown need":       `[{"name":"Giàng A Páo","birth_year":1970,"needs":["fishing"],"self_consent":true}]`,
			"unknown access":     `[{"name":"Giàng A Páo","birth_year":1970,"accessibility":["tall"],"self_consent":true}]`,
			"unknown language":   `[{"name":"Giàng A Páo","birth_year":1970,"language":"klingon","self_consent":true}]`,
			"name with operator": `[{"name":"$where","birth_year":1970,"self_consent":true}]`,
		} {
			if r := w.post("/v1/households", householdBody(w.communeA, members), vol...); r.Status != 400 {
				t.Errorf("%s: %d %s", name, r.Status, r.Body)
			}
		}
		if r := w.post("/v1/households", householdBody(w.teamA, grandparents), vol...); r.Status != 422 {
			t.Errorf("a team as commune: %d", r.Status)
		}
	})

	t.Run("who sees what", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			auth   []string
			status int
			masked bool
		}{
			{"the registering volunteer", vol, 200, true},
			{"commune staff", w.staffA, 200, false},
			{"branch admin above", w.adminA, 200, true},
			{"admin", w.admin, 200, false},
			{"another volunteer", w.tokenIn("vol-other", people.RoleVolunteer, w.branchA), 404, false},
			{"commune staff elsewhere", w.staffB, 404, false},
			{"another household", w.tokenIn("hh-other", people.RoleHousehold, w.communeA), 404, false},
		} {
			r := w.get("/v1/households/"+id, c.auth...)
			if r.Status != c.status {
				t.Errorf("%s: %d", c.name, r.Status)
				continue
			}
			if c.status == 200 && r.json(t)["phone_masked"] != c.masked {
				t.Errorf("%s: masked %v", c.name, r.json(t)["phone_masked"])
			}
		}
		if r := w.do(http.MethodPatch, "/v1/households/"+id, strings.NewReader(`{"contact_phone":""}`), vol...); r.Status != 403 {
			t.Errorf("the registering volunteer rewrote the household: %d", r.Status)
		}
	})

	t.Run("self-registration", func(t *testing.T) {
		me := w.tokenIn("uid-family", "", "")
		body := strings.Replace(householdBody(w.communeA, `[{"name":"Lý Thị Hoa","birth_year":1985,"self_consent":true,"has_smartphone":true}]`), "0987 654 321", "0356789012", 1)
		r := w.post("/v1/households", body, me...)
		if r.Status != 201 || r.json(t)["id"] != "uid-family" || r.json(t)["phone_masked"] != false {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if role := w.get("/v1/me", me...).json(t)["role"]; role != "household" {
			t.Fatalf("role %v", role)
		}
		if r := w.post("/v1/households", body, me...); r.Status != 409 {
			t.Fatalf("second self-registration: %d %s", r.Status, r.Body)
		}
	})
}

// TestExportAndErase: a person takes their data away, then has it deleted
// from MongoDB and Redis; the phone is free again.
func TestExportAndErase(t *testing.T) {
	w := newWorld(t)
	self := w.tokenIn("uid-erase", "", "")
	key := []string{"Idempotency-Key", "reg-1"}
	if r := w.post("/v1/volunteers", volunteerBody(w.branchA, "0912345678"), append(key, self...)...); r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	exp := w.get("/v1/volunteers/uid-erase/export", self...)
	if exp.Status != 200 || !strings.Contains(exp.String(), "+84912345678") || !strings.Contains(exp.String(), `"purpose":"matching"`) {
		t.Fatalf("export: %d %s", exp.Status, exp.Body)
	}
	if r := w.get("/v1/volunteers/uid-erase/export", w.adminA...); r.Status != 403 {
		t.Fatalf("branch admin exported someone's data: %d", r.Status)
	}
	vol := w.tokenIn("vol-door", people.RoleVolunteer, w.branchA)
	hh := w.post("/v1/households", householdBody(w.communeA, grandparents), append([]string{"Idempotency-Key", "hh-1"}, vol...)...).json(t)["id"].(string)
	if r := w.get("/v1/households/"+hh+"/export", w.staffA...); r.Status != 200 || !strings.Contains(r.String(), "Giàng A Páo") {
		t.Fatalf("staff export for a household without phone: %d", r.Status)
	}

	ctx := context.Background()
	if r := w.do(http.MethodDelete, "/v1/volunteers/uid-erase", nil, self...); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if r := w.do(http.MethodDelete, "/v1/households/"+hh, nil, w.staffA...); r.Status != http.StatusNoContent {
		t.Fatalf("delete household: %d %s", r.Status, r.Body)
	}
	if r := w.get("/v1/volunteers/uid-erase", w.admin...); r.Status != 404 {
		t.Fatalf("after delete: %d", r.Status)
	}
	for coll, filter := range map[string]bson.D{
		"volunteers":  {{Key: "_id", Value: "uid-erase"}},
		"users":       {{Key: "_id", Value: "uid-erase"}},
		"claims":      {{Key: "owner", Value: "uid-erase"}},
		"households":  {{Key: "_id", Value: hh}},
		"idempotency": {{Key: "$or", Value: bson.A{bson.D{{Key: "user", Value: "uid-erase"}}, bson.D{{Key: "subject", Value: hh}}}}},
	} {
		if n, err := w.db.Collection(coll).CountDocuments(ctx, filter); err != nil || n != 0 {
			t.Errorf("%s still holds %d documents of the erased people (err %v)", coll, n, err)
		}
	}
	keys, _ := w.rdb.Keys(ctx, w.deps.RedisPrefix+"*uid-erase*").Result()
	if len(keys) != 0 {
		t.Errorf("redis keys left: %v", keys)
	}
	again := w.tokenIn("uid-new", "", "")
	if r := w.post("/v1/volunteers", volunteerBody(w.branchA, "0912345678"), again...); r.Status != 201 {
		t.Fatalf("the erased phone is not free: %d %s", r.Status, r.Body)
	}
}

// TestCoordinatesAreNeverKept reads every raw document of the database,
// every Redis key and value, and the log, and finds no trace of the exact
// coordinates given at registration.
func TestCoordinatesAreNeverKept(t *testing.T) {
	w := newWorld(t)
	self := w.tokenIn("uid-geo", "", "")
	w.post("/v1/volunteers", volunteerBody(w.branchA, "0912345678"), append([]string{"Idempotency-Key", "k"}, self...)...)
	vol := w.tokenIn("vol-door", people.RoleVolunteer, w.branchA)
	if r := w.post("/v1/households", householdBody(w.communeA, grandparents), vol...); r.Status != 201 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	coords := []float64{testLat, testLng, testLat + 0.01, testLng + 0.01}
	// Four decimals (about 10 m): specific to these points, and longer than
	// the three decimals of a log line's duration, which once read 22.54.
	traces := []string{"22.5379", "103.7625", "22.5479", "103.7725"}
	ctx := context.Background()
	names, err := w.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	docs := 0
	for _, name := range names {
		cur, err := w.db.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			docs++
			var m bson.M
			if err := bson.Unmarshal(cur.Current, &m); err != nil {
				t.Fatal(err)
			}
			if where := findCoordinate(m, coords, traces); where != "" {
				t.Errorf("collection %s: coordinate at %s", name, where)
			}
			if body, ok := m["body"].(bson.Binary); ok {
				for _, tr := range traces {
					if strings.Contains(string(body.Data), tr) {
						t.Errorf("collection %s: saved response holds %s", name, tr)
					}
				}
			}
		}
	}
	if docs < 8 {
		t.Fatalf("read only %d documents; the test did not look at the data", docs)
	}
	keys, _ := w.rdb.Keys(ctx, w.deps.RedisPrefix+"*").Result()
	for _, k := range keys {
		v, _ := w.rdb.Dump(ctx, k).Result()
		for _, tr := range traces {
			if strings.Contains(k, tr) || strings.Contains(v, tr) {
				t.Errorf("redis key %s holds %s", k, tr)
			}
		}
	}
	for _, tr := range traces {
		if strings.Contains(w.logs.String(), tr) {
			t.Errorf("the log holds %s", tr)
		}
	}
}

// findCoordinate walks a document for a number equal to one of coords (to
// 1e-4°, about 10 m) or a string containing one of traces.
func findCoordinate(v any, coords []float64, traces []string) string {
	switch x := v.(type) {
	case bson.M:
		for k, e := range x {
			if w := findCoordinate(e, coords, traces); w != "" {
				return k + "." + w
			}
		}
	case bson.D:
		for _, e := range x {
			if w := findCoordinate(e.Value, coords, traces); w != "" {
				return e.Key + "." + w
			}
		}
	case bson.A:
		for i, e := range x {
			if w := findCoordinate(e, coords, traces); w != "" {
				return fmt.Sprint(i) + "." + w
			}
		}
	case float64:
		for _, c := range coords {
			if math.Abs(x-c) < 1e-4 {
				return fmt.Sprint(x)
			}
		}
	case string:
		for _, tr := range traces {
			if strings.Contains(x, tr) {
				return x
			}
		}
	}
	return ""
}
