package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"daisuso/people"
)

// accessTable is who may call each route, written out here on purpose apart
// from routes.go: a route added without a line here fails the test, and a
// rule changed by mistake there disagrees with this one. "public" needs no
// token, "signed_in" any valid token, otherwise the listed roles.
var accessTable = map[string]string{
	"GET /healthz":       "public",
	"GET /readyz":        "public",
	"GET /metrics":       "public",
	"GET /openapi.json":  "public",
	"POST /v1/dev/token": "public",
	"GET /v1/me":         "signed_in",

	"POST /v1/branches":             "admin,branch_admin",
	"GET /v1/branches/:id":          "signed_in",
	"GET /v1/branches/:id/children": "signed_in",
	"PUT /v1/branches/:id/targets":  "branch_admin,admin",

	"POST /v1/volunteers":                "unregistered,volunteer,branch_admin,admin",
	"GET /v1/volunteers/:id":             "volunteer,branch_admin,commune_staff,admin",
	"PATCH /v1/volunteers/:id":           "volunteer,branch_admin,admin",
	"DELETE /v1/volunteers/:id":          "volunteer,branch_admin,admin",
	"GET /v1/volunteers/:id/export":      "volunteer,admin",
	"GET /v1/volunteers/:id/mentees":     "volunteer,branch_admin,commune_staff,admin",
	"POST /v1/help-requests":             "household,volunteer,commune_staff,admin",
	"GET /v1/help-requests":              "commune_staff,branch_admin,admin",
	"POST /v1/matching/runs":             "branch_admin,admin",
	"GET /v1/coverage":                   "branch_admin,commune_staff,admin",
	"GET /public/coverage":               "public",
	"GET /v1/matching/runs/:id":          "branch_admin,admin",
	"POST /v1/matching/runs/:id/apply":   "branch_admin,admin",
	"POST /v1/matching/runs/:id/discard": "branch_admin,admin",
	"GET /v1/help-requests/:id":          "household,volunteer,commune_staff,branch_admin,admin",

	"POST /v1/households":           "unregistered,household,volunteer,commune_staff,branch_admin,admin",
	"GET /v1/households/:id":        "household,volunteer,commune_staff,branch_admin,admin",
	"PATCH /v1/households/:id":      "household,commune_staff,admin",
	"DELETE /v1/households/:id":     "household,commune_staff,admin",
	"GET /v1/households/:id/export": "household,commune_staff,admin",

	"POST /v1/sessions":                    "volunteer",
	"POST /v1/sessions/sync":               "volunteer",
	"GET /v1/sessions/:id":                 "volunteer,household,commune_staff,branch_admin,admin",
	"POST /v1/sessions/:id/check-in":       "volunteer",
	"GET /v1/sessions":                     "volunteer,household,commune_staff",
	"POST /v1/sessions/:id/confirm":        "household,volunteer,commune_staff,admin",
	"POST /v1/sessions/:id/cancel":         "volunteer",
	"POST /v1/sessions/:id/review":         "branch_admin,admin",
	"GET /v1/households/:id/help-requests": "household,volunteer,commune_staff,branch_admin,admin",
	"GET /v1/households/:id/progress":      "household,volunteer,commune_staff,branch_admin,admin",
	"GET /v1/campaigns":                    "signed_in",
	"POST /v1/campaigns":                   "branch_admin,admin",
	"GET /v1/leaderboards/:campaign":       "signed_in",
	"GET /v1/leaderboards/:campaign/me":    "volunteer",
	"POST /v1/leaderboards/rebuild":        "admin",
	"GET /v1/leaderboards/rebuild":         "admin",
	"GET /v1/volunteers/:id/badges":        "signed_in",
	"GET /public/rankings":                 "public",
	"GET /public/units":                    "public",
	"GET /public/units/:code/communes":     "public",
	"GET /public/units/outlines":           "public",
	"PUT /v1/branches/:id/population":      "branch_admin,admin",

	"POST /v1/devices":                  "signed_in",
	"DELETE /v1/devices/:token":         "signed_in",
	"GET /v1/notifications":             "signed_in",
	"POST /v1/notifications/broadcasts": "branch_admin,admin",

	"GET /v1/dashboard/indicators":       "branch_admin,commune_staff,admin",
	"GET /v1/dashboard/indicators.csv":   "branch_admin,commune_staff,admin",
	"GET /dashboard":                     "public",
	"GET /dashboard/config.json":         "public",
	"GET /dashboard/:file":               "public",
	"GET /app":                           "public",
	"GET /app/:file":                     "public",
	"GET /v1/units/communes/:code/union": "signed_in",
}

// appRoutes lists the routes Fiber really serves (not the table), without
// the HEAD twins of GET routes and without middleware.
func appRoutes(ta *testAPI) [][2]string {
	var out [][2]string
	for _, r := range ta.App().GetRoutes(true) {
		if r.Method == http.MethodHead {
			continue
		}
		out = append(out, [2]string{r.Method, r.Path})
	}
	return out
}

var pathParam = regexp.MustCompile(`:[A-Za-z_]+\??`)

func TestEveryRouteWithEveryRole(t *testing.T) {
	ta := newTestAPI(t)
	type caller struct {
		name  string
		role  people.Role
		token string
	}
	callers := []caller{{name: "anonymous"}, {name: "unregistered", token: (&DevTokens{Secret: testSecret, TTL: time.Hour, Now: time.Now}).issueFor("nobody-yet")}}
	for _, r := range allRoles {
		callers = append(callers, caller{name: string(r), role: r, token: ta.token("u-"+string(r), r)})
	}
	seen := map[string]bool{}
	for _, rt := range appRoutes(ta) {
		key := rt[0] + " " + rt[1]
		seen[key] = true
		rule, ok := accessTable[key]
		if !ok {
			t.Errorf("route %s is not in the access table of this test", key)
			continue
		}
		path := pathParam.ReplaceAllString(rt[1], "x1")
		for _, c := range callers {
			want := allowedBy(rule, c.role, c.token != "")
			var headers []string
			if c.token != "" {
				headers = bearer(c.token)
			}
			res := ta.do(rt[0], path, strings.NewReader("{}"), headers...)
			denied := res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden
			switch {
			case want && denied:
				t.Errorf("%s as %s: %d, want allowed", key, c.name, res.Status)
			case !want && !denied:
				t.Errorf("%s as %s: %d, want refused", key, c.name, res.Status)
			case !want && c.token == "" && res.Status != http.StatusUnauthorized:
				t.Errorf("%s as %s: %d, want 401", key, c.name, res.Status)
			case !want && c.token != "" && res.Status != http.StatusForbidden:
				t.Errorf("%s as %s: %d, want 403", key, c.name, res.Status)
			}
		}
	}
	for key := range accessTable {
		if !seen[key] {
			t.Errorf("access table names %s, which is not served", key)
		}
	}
}

func allowedBy(rule string, role people.Role, hasToken bool) bool {
	switch rule {
	case "public":
		return true
	case "signed_in":
		return hasToken
	}
	for _, r := range strings.Split(rule, ",") {
		if (role != "" && people.Role(r) == role) || (r == "unregistered" && role == "" && hasToken) {
			return true
		}
	}
	return false
}

// issueFor makes a token for a user who has never registered.
func (d *DevTokens) issueFor(uid string) string {
	tok, _ := d.Issue(uid)
	return tok
}

func TestAccessRuleZeroValueDeniesEveryone(t *testing.T) {
	var closed access
	for _, r := range allRoles {
		if closed.allows(principal{ID: "x", Role: r}) {
			t.Errorf("zero access rule allows %s", r)
		}
	}
	ta := newTestAPI(t)
	err := ta.register([]route{{method: http.MethodGet, path: "/v1/forgotten", handler: ta.healthz}})
	if err == nil || !strings.Contains(err.Error(), "no access rule") {
		t.Fatalf("registering a route without a rule: err=%v, want refusal", err)
	}
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	ta := newTestAPI(t)
	res := ta.get("/openapi.json")
	if res.Status != http.StatusOK {
		t.Fatalf("status %d", res.Status)
	}
	var doc struct {
		OpenAPI string                            `json:"openapi"`
		Paths   map[string]map[string]interface{} `json:"paths"`
	}
	if err := json.Unmarshal(res.Body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	for _, rt := range appRoutes(ta) {
		p, _ := openAPIPath(rt[1])
		if _, ok := doc.Paths[p][strings.ToLower(rt[0])]; !ok {
			t.Errorf("%s %s is served but missing from /openapi.json", rt[0], rt[1])
		}
	}
	// Each operation names who may call it, as the access table has it.
	for route, want := range accessTable {
		method, path, _ := strings.Cut(route, " ")
		p, _ := openAPIPath(path)
		op, ok := doc.Paths[p][strings.ToLower(method)].(map[string]any)
		if !ok {
			continue
		}
		var got []string
		for _, r := range op["x-roles"].([]any) {
			got = append(got, r.(string))
		}
		wantSet := strings.Split(want, ",")
		slices.Sort(got)
		slices.Sort(wantSet)
		if !slices.Equal(got, wantSet) || !strings.HasPrefix(op["description"].(string), "Who may call it: ") {
			t.Errorf("%s: the OpenAPI says %v, the access table %v", route, got, wantSet)
		}
	}
	// A route served outside the table is caught too.
	ta.App().Get("/v1/sneaky", func(c *fiber.Ctx) error { return nil })
	missing := 0
	for _, rt := range appRoutes(ta) {
		p, _ := openAPIPath(rt[1])
		if _, ok := doc.Paths[p][strings.ToLower(rt[0])]; !ok {
			missing++
		}
	}
	if missing != 1 {
		t.Errorf("a route added outside the table: %d missing, want 1", missing)
	}
}

func TestDevTokens(t *testing.T) {
	ta := newTestAPI(t)
	tok := ta.token("lan-01", people.RoleVolunteer)

	t.Run("role comes from the users collection", func(t *testing.T) {
		again := ta.post("/v1/dev/token", `{"user_id":"lan-01","role":"admin"}`)
		if again.Status != http.StatusOK || again.json(t)["created"] != false {
			t.Fatalf("second dev token: %d %s", again.Status, again.Body)
		}
		me := ta.get("/v1/me", bearer(again.json(t)["token"].(string))...).json(t)
		if me["role"] != "volunteer" {
			t.Fatalf("role %v, want volunteer (the stored one)", me["role"])
		}
	})
	t.Run("tampered token", func(t *testing.T) {
		bad := tok[:len(tok)-2] + "xx"
		if r := ta.get("/v1/me", bearer(bad)...); r.Status != 401 || r.errorCode(t) != "invalid_token" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		old := DevTokens{Secret: testSecret, TTL: time.Hour, Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }}
		if r := ta.get("/v1/me", bearer(old.issueFor("lan-01"))...); r.Status != 401 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("token signed with another secret", func(t *testing.T) {
		other := DevTokens{Secret: []byte("another-secret-another-secret-xx"), TTL: time.Hour, Now: time.Now}
		if r := ta.get("/v1/me", bearer(other.issueFor("lan-01"))...); r.Status != 401 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("unsigned JWT", func(t *testing.T) {
		none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1aWQiOiJsYW4tMDEiLCJzdWIiOiJsYW4tMDEifQ."
		if r := ta.get("/v1/me", bearer(none)...); r.Status != 401 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("absent outside dev mode", func(t *testing.T) {
		prod := newTestAPI(t, func(d *Deps) { d.DevTokens = nil })
		r := prod.post("/v1/dev/token", `{"user_id":"x","role":"admin"}`)
		if r.Status != 404 || r.errorCode(t) != "route_not_found" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if r := prod.get("/v1/me", bearer(tok)...); r.Status != 401 {
			t.Fatalf("dev token outside dev mode: %d %s", r.Status, r.Body)
		}
	})
}
