package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	firebase "firebase.google.com/go/v4"
	"github.com/google/uuid"
	"google.golang.org/api/option"

	"daisuso/people"
)

// TestMassAssignmentRefused: fields a client must not set (points, role,
// branch, someone else's capacity, the mentor of a request, a session's
// state) are refused, and nothing changed afterwards.
func TestMassAssignmentRefused(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, oneAdult)
	sid := uuid.NewString()
	if r := m.schedule(sid, hh, time.Now().Add(-time.Hour).Truncate(time.Second), m.mai); r.Status != http.StatusCreated {
		t.Fatalf("schedule: %d %s", r.Status, r.Body)
	}
	family := m.tokenIn("hh-family", people.RoleHousehold, m.communeA)
	before := m.get("/v1/volunteers/mai", m.mai...).json(t)
	lat, lng := at(0.3, 0)
	cases := []struct {
		name, method, path, body string
		auth                     []string
		status                   int
		code                     string
	}{
		{"points on registration", "POST", "/v1/volunteers", fmt.Sprintf(`{"name":"Lò Văn Páo","phone":"0977123456","branch_id":%q,"location":{"lat":%v,"lng":%v},
			"topics":["vneid"],"consents":["matching"],"points":1000}`, m.branchA, lat, lng), m.tokenIn("newcomer", "", ""), 400, "unknown_field"},
		{"role on registration", "POST", "/v1/volunteers", fmt.Sprintf(`{"name":"Lò Văn Páo","phone":"0977123457","branch_id":%q,"location":{"lat":%v,"lng":%v},
			"topics":["vneid"],"consents":["matching"],"role":"admin"}`, m.branchA, lat, lng), m.tokenIn("newcomer2", "", ""), 400, "unknown_field"},
		{"own role", "PATCH", "/v1/volunteers/mai", `{"role":"admin"}`, m.mai, 400, "unknown_field"},
		{"own points", "PATCH", "/v1/volunteers/mai", `{"points":5000}`, m.mai, 400, "unknown_field"},
		{"own level and badges", "PATCH", "/v1/volunteers/mai", `{"level":9,"badges":["one_plus_five"]}`, m.mai, 400, "unknown_field"},
		{"own branch", "PATCH", "/v1/volunteers/mai", fmt.Sprintf(`{"branch_id":%q}`, m.communeB), m.mai, 422, "branch_change_by_admin"},
		{"own capacity beyond the limit", "PATCH", "/v1/volunteers/mai", `{"capacity":1000}`, m.mai, 400, "invalid_input"},
		{"a mentor's capacity by a household", "PATCH", "/v1/volunteers/mai", `{"capacity":50}`, family, 403, "forbidden"},
		{"a mentor's capacity by another volunteer", "PATCH", "/v1/volunteers/mai", `{"capacity":50}`,
			m.mentorAt("lan", 3, 3, `["vi"]`, 10, 2), 404, "not_found"},
		{"the mentor of a help request", "POST", "/v1/help-requests", fmt.Sprintf(`{"household_id":%q,"mentor_id":"mai"}`, hh), m.staffA, 400, "unknown_field"},
		{"points on a check-in", "POST", "/v1/sessions/" + sid + "/check-in", `{"at":"2026-01-01T00:00:00Z","location":{"lat":1,"lng":1},"topics_covered":["vneid"],"points":100}`, m.mai, 400, "unknown_field"},
		{"the state of a session", "POST", "/v1/sessions/" + sid + "/confirm", `{"state":"confirmed"}`, family, 400, "unknown_field"},
		{"the role of a household", "PATCH", "/v1/households/" + hh, `{"role":"commune_staff"}`, m.staffA, 400, "unknown_field"},
	}
	for _, c := range cases {
		r := m.do(c.method, c.path, strings.NewReader(c.body), append(c.auth, "Idempotency-Key", uuid.NewString())...)
		if r.Status != c.status || r.errorCode(t) != c.code {
			t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	if me := m.get("/v1/me", m.mai...).json(t); me["role"] != "volunteer" || me["branch_id"] != m.branchA {
		t.Errorf("after the attempts: %v", me)
	}
	after := m.get("/v1/volunteers/mai", m.mai...).json(t)
	for _, f := range []string{"capacity", "branch_id", "updated_at"} {
		if fmt.Sprint(after[f]) != fmt.Sprint(before[f]) {
			t.Errorf("%s changed: %v -> %v", f, before[f], after[f])
		}
	}
	if s := m.get("/v1/sessions/"+sid, m.mai...).json(t); s["state"] != "scheduled" {
		t.Errorf("session state %v", s["state"])
	}
	if pts := m.points("volunteers", "national", "week"); pts["mai"] != 0 {
		t.Errorf("points %v", pts)
	}
	// An admin of the new branch moves a volunteer; the move is refused to
	// an admin of neither.
	if r := m.do("PATCH", "/v1/volunteers/mai", strings.NewReader(fmt.Sprintf(`{"branch_id":%q}`, m.communeB)), m.adminB...); r.Status != 404 {
		t.Errorf("move by an admin who does not see the volunteer: %d %s", r.Status, r.Body)
	}
	if r := m.do("PATCH", "/v1/volunteers/mai", strings.NewReader(fmt.Sprintf(`{"branch_id":%q}`, m.teamA)), m.adminA...); r.Status != 200 {
		t.Errorf("move by the commune's admin: %d %s", r.Status, r.Body)
	}
}

// TestNoSQLOperatorInjectionRefused: MongoDB operators where the API takes
// an id, in bodies, paths and queries, are refused or match nothing; none
// reaches a query as an operator.
func TestNoSQLOperatorInjectionRefused(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, oneAdult)
	ops := []string{`{"$ne":null}`, `{"$gt":""}`, `{"$regex":".*"}`, `{"$where":"1"}`, `{"$in":["mai"]}`}
	for _, op := range ops {
		bodies := []struct{ path, body string }{
			{"/v1/help-requests", `{"household_id":` + op + `}`},
			{"/v1/sessions", `{"id":"` + uuid.NewString() + `","learners":[{"household_id":` + op + `,"member":0}],"starts_at":"2026-12-01T08:00:00Z","minutes":60}`},
			{"/v1/matching/runs", `{"commune_id":` + op + `}`},
			{"/v1/devices", `{"token":` + op + `,"platform":"android"}`},
		}
		for _, b := range bodies {
			r := m.post(b.path, b.body, append(m.staffA, "Idempotency-Key", uuid.NewString())...)
			if r.Status != http.StatusBadRequest && r.Status != http.StatusForbidden {
				t.Errorf("POST %s with %s: %d %s", b.path, op, r.Status, r.Body)
			}
		}
		for _, p := range []string{"/v1/households/", "/v1/volunteers/", "/v1/help-requests/", "/v1/sessions/", "/v1/matching/runs/"} {
			r := m.get(p+url.PathEscape(op), m.admin...)
			if r.Status != http.StatusNotFound && r.Status != http.StatusBadRequest {
				t.Errorf("GET %s%s: %d %s", p, op, r.Status, r.Body)
			}
		}
		for _, q := range []string{"commune_id=" + url.QueryEscape(op), "commune_id[$ne]=x", "branch_id[$regex]=.*"} {
			r := m.get("/v1/help-requests?"+q, m.staffA...)
			if r.Status/100 == 2 || r.Status >= 500 {
				t.Errorf("GET /v1/help-requests?%s: %d %s", q, r.Status, r.Body)
			}
		}
	}
	// Names are text, and an operator-looking one is refused as such.
	r := m.do("PATCH", "/v1/households/"+hh, strings.NewReader(`{"members":[{"name":"$where","birth_year":1980,"self_consent":true}]}`), m.staffA...)
	if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "members[0].name") {
		t.Errorf("a member named $where: %d %s", r.Status, r.Body)
	}
}

// forgedJWT is a token with the given header and claims and no valid
// signature.
func forgedJWT(header, claims map[string]any, sig string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "." + sig
}

// TestForgedTokensRefused: alg:none, HS256 under a guessed key and expired
// tokens are refused, by the API in dev mode and by the Firebase verifier
// production uses (before it would fetch Google's keys, so offline).
func TestForgedTokensRefused(t *testing.T) {
	ta := newTestAPI(t)
	const project = "daisuso-test"
	now := time.Now().Unix()
	claims := map[string]any{"iss": "https://securetoken.google.com/" + project, "aud": project, "sub": "root", "user_id": "root",
		"iat": now - 60, "exp": now + 3600, "auth_time": now - 60, "firebase": map[string]any{"sign_in_provider": "phone"}}
	expired := map[string]any{}
	for k, v := range claims {
		expired[k] = v
	}
	expired["iat"], expired["exp"] = now-7200, now-3600
	tokens := map[string]string{
		"alg none":            forgedJWT(map[string]any{"alg": "none", "typ": "JWT", "kid": "k1"}, claims, ""),
		"alg none, no kid":    forgedJWT(map[string]any{"alg": "none", "typ": "JWT"}, claims, ""),
		"HS256 guessed key":   forgedJWT(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims, base64.RawURLEncoding.EncodeToString([]byte("guess"))),
		"RS256 expired":       forgedJWT(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "k1"}, expired, base64.RawURLEncoding.EncodeToString([]byte("sig"))),
		"dev token, alg none": "dev." + base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none"}`)) + ".",
	}
	app, err := firebase.NewApp(context.Background(), &firebase.Config{ProjectID: project}, option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	client, err := app.Auth(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fv := FirebaseVerifier{Client: client}
	for name, tok := range tokens {
		if r := ta.get("/v1/me", bearer(tok)...); r.Status != http.StatusUnauthorized {
			t.Errorf("%s through the API: %d %s", name, r.Status, r.Body)
		}
		if strings.HasPrefix(tok, devTokenPrefix) {
			continue
		}
		if uid, err := fv.Verify(context.Background(), tok); !errors.Is(err, ErrBadToken) {
			t.Errorf("%s through the Firebase verifier: uid %q, err %v; want ErrBadToken", name, uid, err)
		}
	}
}
