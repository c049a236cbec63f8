package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// The fuzz tests of what clients send. `go test` runs their seeds (here and
// in testdata/fuzz); `make fuzz` searches for new inputs for a while. The
// property is the one API.md promises: bad input is a 4xx with a code,
// never a panic and never a 500.

// bodyRoutes is every route of the table that takes a JSON body.
func bodyRoutes() []route {
	a := &API{deps: Deps{Registry: prometheus.NewRegistry()}}
	var out []route
	for _, r := range a.routes() {
		if r.body != nil {
			out = append(out, r)
		}
	}
	return out
}

// clientError fails the test unless err is nil or a 4xx with a code.
func clientError(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	e := toAPIError(err)
	if e.Status < 400 || e.Status >= 500 || e.Code == "" {
		t.Fatalf("%s: status %d code %q for %v", what, e.Status, e.Code, err)
	}
	if _, ok := messages[e.Code]; !ok {
		t.Fatalf("%s: code %q has no message", what, e.Code)
	}
}

func FuzzRequestBodies(f *testing.F) {
	routes := bodyRoutes()
	if len(routes) < 10 {
		f.Fatalf("only %d routes with a body", len(routes))
	}
	for i := range routes {
		for _, seed := range []string{`{}`, `[]`, `null`, `{"a":1}`, `{"id":{"$gt":""}}`, `{"name":"Lò Thị Mai"}`,
			`{"household_id":"hh_1","learners":[{"household_id":"hh_1","member":0}]}`,
			`{"items":[{"kind":"schedule","id":"x"}]}`, `{"location":{"lat":22.5,"lng":103.7}}`, "{\"name\":\"\xff\"}"} {
			f.Add(uint8(i), []byte(seed))
		}
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		r := routes[int(which)%len(routes)]
		c := app.AcquireCtx(&fasthttp.RequestCtx{})
		defer app.ReleaseCtx(c)
		c.Request().Header.SetContentType(fiber.MIMEApplicationJSON)
		c.Request().SetBody(body)
		dst := reflect.New(reflect.TypeOf(r.body)).Interface()
		clientError(t, r.method+" "+r.path, decodeJSON(c, dst))
	})
}

func FuzzPageParamsAndCursors(f *testing.F) {
	for _, seed := range []string{"", "limit=20", "limit=0", "limit=-1", "limit=201", "limit=1e3", "cursor=",
		"cursor=eyJ0IjoiMjAyNi0xMS0yM1QwMDowMDowMFoiLCJpIjoibjEifQ", "cursor=%%%", "cursor=aGhfMQ", "limit=5&cursor=e30",
		"cursor=" + strings.Repeat("A", 600)} {
		f.Add(seed)
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, query string) {
		c := app.AcquireCtx(&fasthttp.RequestCtx{})
		defer app.ReleaseCtx(c)
		c.Request().URI().SetQueryString(query)
		p, err := pageParams(c)
		clientError(t, "page params", err)
		if err != nil {
			return
		}
		if p.Limit < 1 || p.Limit > maxLimit {
			t.Fatalf("limit %d accepted", p.Limit)
		}
		if p.Cursor != nil {
			_, err := decodeNotificationCursor(p.Cursor)
			clientError(t, "notification cursor", err)
		}
	})
}

var printableASCII = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

func FuzzIdempotencyKey(f *testing.F) {
	for _, seed := range []string{"", "a", "550e8400-e29b-41d4-a716-446655440000", "key with space", "khóa", strings.Repeat("k", 256), "\x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, k string) {
		if got, want := validIdempotencyKey(k), printableASCII.MatchString(k) && len(k) <= maxIdempotencyKey; got != want {
			t.Fatalf("validIdempotencyKey(%q) = %v, want %v", k, got, want)
		}
	})
}

// FuzzSessionSync sends whatever the fuzzer makes as an offline sync batch
// of a mentor with a matched household, through the whole API on real
// stores: never a 500, and a 200 has a known status for every item, with a
// worded error for every rejected one.
func FuzzSessionSync(f *testing.F) {
	w := newWorldOn(newTestAPI(f))
	mai := w.mentorAt("mai", 0.4, 0, `["vi"]`, 20, 5)
	hh := w.householdAt(0.1, 0, oneAdult)
	w.ask(hh, w.staffA)
	sid := "4f9d3c1e-8a2b-4c5d-9e6f-1a2b3c4d5e6f"
	for _, seed := range []string{
		`{"items":[{"item_id":"0b1e6a52-6f3c-4f1e-9a55-1f3d2c4b5a69","op":"schedule","session_id":"` + sid + `","learners":[{"household_id":"` + hh + `","member":0}],"starts_at":"2026-12-02T08:00:00Z","minutes":45}]}`,
		`{"items":[{"item_id":"1b1e6a52-6f3c-4f1e-9a55-1f3d2c4b5a69","op":"check_in","session_id":"` + sid + `","at":"2026-12-02T08:05:00Z","location":{"lat":22.53,"lng":103.76},"topics_covered":["vneid"],"results":[{"household_id":"` + hh + `","member":0,"outcomes":["vneid_activated"]}]}]}`,
		`{"items":[{"item_id":"2b1e6a52-6f3c-4f1e-9a55-1f3d2c4b5a69","op":"cancel","session_id":"` + sid + `"}]}`,
		`{"items":[{"item_id":"x","op":"teleport"}]}`, `{"items":[]}`, `{"items":null}`, `{}`,
		`{"items":[{"item_id":"3b1e6a52-6f3c-4f1e-9a55-1f3d2c4b5a69","op":"schedule","session_id":"` + sid + `","learners":[{"household_id":{"$ne":""},"member":-1}],"minutes":100000}]}`,
	} {
		f.Add([]byte(seed))
	}
	statuses := []string{"applied", "already_applied", "rejected", "retry"}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/sessions/sync", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(mai[0], mai[1])
		res, err := w.App().Test(req, 10_000)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			Results []struct {
				Status string `json:"status"`
				Error  *struct {
					Code, Message string
				} `json:"error"`
			} `json:"results"`
			Error *struct{ Code string } `json:"error"`
		}
		_ = json.NewDecoder(res.Body).Decode(&out)
		switch {
		case res.StatusCode >= 500:
			t.Fatalf("%d for %q", res.StatusCode, body)
		case res.StatusCode == http.StatusOK:
			for _, r := range out.Results {
				if !slices.Contains(statuses, r.Status) || (r.Status == "rejected" && (r.Error == nil || r.Error.Message == "")) {
					t.Fatalf("item result %+v for %q", r, body)
				}
			}
		case out.Error == nil || out.Error.Code == "":
			t.Fatalf("%d without an error code for %q", res.StatusCode, body)
		}
	})
}
