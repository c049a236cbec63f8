package api

import (
	"reflect"
	"regexp"
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
