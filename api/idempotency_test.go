package api

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.mongodb.org/mongo-driver/v2/bson"

	"daisuso/people"
	"daisuso/store"
)

// echoRoute adds a retried POST to ta whose handler counts its runs. A body
// of "block" waits for release; "fail" returns an internal error.
func echoRoute(ta *testAPI, release <-chan struct{}, entered chan<- struct{}) *atomic.Int32 {
	var runs atomic.Int32
	ta.App().Post("/test/echo", markRoute("/test/echo"), ta.authenticate, authorize(signedIn), ta.idempotent,
		func(c *fiber.Ctx) error {
			n := runs.Add(1)
			switch string(c.Body()) {
			case `"block"`:
				entered <- struct{}{}
				<-release
			case `"fail"`:
				return errors.New("boom")
			}
			return c.Status(http.StatusCreated).JSON(map[string]any{"run": n, "body": string(c.Body())})
		})
	return &runs
}

func TestIdempotencyKey(t *testing.T) {
	ta := newTestAPI(t)
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	runs := echoRoute(ta, release, entered)
	auth := bearer(ta.token("vol-1", people.RoleVolunteer))
	withKey := func(k string) []string { return append([]string{"Idempotency-Key", k}, auth...) }

	t.Run("replay returns the first response", func(t *testing.T) {
		first := ta.post("/test/echo", `"a"`, withKey("k1")...)
		second := ta.post("/test/echo", `"a"`, withKey("k1")...)
		if first.Status != 201 || second.Status != 201 || string(first.Body) != string(second.Body) {
			t.Fatalf("first %d %s, second %d %s", first.Status, first.Body, second.Status, second.Body)
		}
		if second.Header.Get("Idempotent-Replayed") != "true" || runs.Load() != 1 {
			t.Fatalf("replayed=%q runs=%d, want true and 1", second.Header.Get("Idempotent-Replayed"), runs.Load())
		}
	})
	t.Run("same key, other body", func(t *testing.T) {
		r := ta.post("/test/echo", `"b"`, withKey("k1")...)
		if r.Status != http.StatusUnprocessableEntity || r.errorCode(t) != "idempotency_key_reused" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("same key, other body, other spelling of the path", func(t *testing.T) {
		for _, path := range []string{"/test/echo/", "/TEST/Echo", "/test//echo"} {
			r := ta.post(path, `"c"`, withKey("k1")...)
			if r.Status == http.StatusNotFound {
				continue // a spelling the router does not take reaches no handler
			}
			if r.Status != http.StatusUnprocessableEntity || r.errorCode(t) != "idempotency_key_reused" {
				t.Fatalf("%s: %d %s", path, r.Status, r.Body)
			}
		}
	})
	t.Run("same key, other user", func(t *testing.T) {
		other := bearer(ta.token("vol-2", people.RoleVolunteer))
		r := ta.post("/test/echo", `"a"`, append([]string{"Idempotency-Key", "k1"}, other...)...)
		if r.Status != 201 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("another user's key collided: %d %s", r.Status, r.Body)
		}
	})
	t.Run("still running", func(t *testing.T) {
		done := make(chan response)
		go func() { done <- ta.post("/test/echo", `"block"`, withKey("k2")...) }()
		<-entered
		r := ta.post("/test/echo", `"block"`, withKey("k2")...)
		if r.Status != http.StatusConflict || r.errorCode(t) != "request_in_progress" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		close(release)
		if first := <-done; first.Status != 201 {
			t.Fatalf("blocked request: %d %s", first.Status, first.Body)
		}
	})
	t.Run("a server error frees the key", func(t *testing.T) {
		before := runs.Load()
		for range 2 {
			if r := ta.post("/test/echo", `"fail"`, withKey("k3")...); r.Status != 500 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		}
		if runs.Load()-before != 2 {
			t.Fatalf("runs %d, want 2: a failed request must run again on retry", runs.Load()-before)
		}
	})
	t.Run("20 concurrent retries run once", func(t *testing.T) {
		before := runs.Load()
		var wg sync.WaitGroup
		var created, conflicts atomic.Int32
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				switch ta.post("/test/echo", `"c"`, withKey("k4")...).Status {
				case 201:
					created.Add(1)
				case 409:
					conflicts.Add(1)
				}
			}()
		}
		wg.Wait()
		if runs.Load()-before != 1 || created.Load()+conflicts.Load() != 20 {
			t.Fatalf("runs=%d created=%d conflicts=%d, want 1 run and 20 answers", runs.Load()-before, created.Load(), conflicts.Load())
		}
	})
	t.Run("bad keys", func(t *testing.T) {
		for _, k := range []string{strings.Repeat("k", 129), "có dấu", "a b"} {
			if r := ta.post("/test/echo", `"a"`, withKey(k)...); r.Status != 400 {
				t.Errorf("key %q: %d", k, r.Status)
			}
		}
	})
	t.Run("a crashed request's key is taken over when stale", func(t *testing.T) {
		ta.idem.now = func() time.Time { return time.Now().Add(-time.Hour) }
		id := hashHex("vol-1", "POST", "/test/echo", "k5")
		if ok, _, err := ta.idem.claim(t.Context(), id, "vol-1", hashHex(`"d"`)); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		ta.idem.now = time.Now
		before := runs.Load()
		if r := ta.post("/test/echo", `"d"`, withKey("k5")...); r.Status != 201 || runs.Load()-before != 1 {
			t.Fatalf("%d %s runs=%d", r.Status, r.Body, runs.Load()-before)
		}
	})
	t.Run("records expire", func(t *testing.T) {
		var doc idemDoc
		if err := ta.idem.coll.FindOne(t.Context(), bson.D{}).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		if !doc.ExpiresAt.Equal(doc.CreatedAt.Add(idempotencyKeep)) {
			t.Fatalf("created %v, expires %v", doc.CreatedAt, doc.ExpiresAt)
		}
		if store.BackendOf(ta.idem.coll.Database()).TTL {
			// The server deletes them: a TTL index on expires_at.
			var idx []bson.M
			cur, err := ta.idem.coll.Indexes().List(t.Context())
			if err == nil {
				err = cur.All(t.Context(), &idx)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, ix := range idx {
				if key, _ := ix["key"].(bson.M); key["expires_at"] != nil && ix["expireAfterSeconds"] != nil {
					return
				}
			}
			t.Fatalf("no TTL index on expires_at: %v", idx)
		}
		ta.idem.now = func() time.Time { return time.Now().Add(48 * time.Hour) }
		defer func() { ta.idem.now = time.Now }()
		n, err := ta.idem.sweep(t.Context())
		if err != nil || n == 0 {
			t.Fatalf("swept %d, err %v", n, err)
		}
		left, _ := ta.idem.coll.CountDocuments(t.Context(), map[string]any{})
		if left != 0 {
			t.Fatalf("%d records left", left)
		}
	})
}
