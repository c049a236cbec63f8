package api

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// rebuilt starts a rebuild of the boards and waits until it is done.
func (w *world) rebuilt() map[string]any {
	w.t.Helper()
	r := w.post("/v1/leaderboards/rebuild", `{"confirm":true}`, w.admin...)
	if r.Status != http.StatusAccepted || r.json(w.t)["state"] != "running" {
		w.t.Fatalf("rebuild: %d %s", r.Status, r.Body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := w.get("/v1/leaderboards/rebuild", w.admin...).json(w.t)
		switch st["state"] {
		case "done":
			return st
		case "failed":
			w.t.Fatalf("rebuild failed: %v", st)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("rebuild still %v after a minute", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRebuildAnswersAtOnce: the rebuild runs past the request's deadline
// (its grace for awards in flight alone is the store timeout), so it
// answers 202 at once and its status tells when it finished and how many
// entries it read; a second start while it runs is a 409.
func TestRebuildAnswersAtOnce(t *testing.T) {
	m := newMentoring(t)
	hh := m.matchedHousehold(0.1, oneAdult)
	m.certified(hh, time.Now().Add(-3*time.Hour).Truncate(time.Second))
	if st := m.get("/v1/leaderboards/rebuild", m.admin...).json(t); st["state"] != "never" {
		t.Fatalf("before any rebuild: %v", st)
	}
	before := m.points("volunteers", "national", "campaign")
	started := time.Now()
	r := m.post("/v1/leaderboards/rebuild", `{"confirm":true}`, m.admin...)
	if r.Status != http.StatusAccepted || r.json(t)["state"] != "running" {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	if again := m.post("/v1/leaderboards/rebuild", `{"confirm":true}`, m.admin...); again.Status != http.StatusConflict {
		t.Fatalf("a second start while one runs: %d %s", again.Status, again.Body)
	}
	var st map[string]any
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		st = m.get("/v1/leaderboards/rebuild", m.admin...).json(t)
		if st["state"] != "running" || time.Now().After(deadline) {
			break
		}
	}
	// 2 sessions, 4 outcomes, a certification, a Gia đình số; the fifth
	// learner's award is not made (one learner).
	if st["state"] != "done" || st["entries"] != 8.0 || st["finished_at"] == nil || st["error"] != nil ||
		!strings.Contains(st["message"].(string), "từ 8 mục") {
		t.Fatalf("status: %v", st)
	}
	if fin, err := time.Parse(time.RFC3339, st["finished_at"].(string)); err != nil || fin.Before(started.Truncate(time.Second)) {
		t.Fatalf("finished_at %v (%v)", st["finished_at"], err)
	}
	if after := m.points("volunteers", "national", "campaign"); after["mai"] != before["mai"] || after["mai"] != 90 {
		t.Fatalf("boards before %v, after %v", before, after)
	}
}
