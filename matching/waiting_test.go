package matching

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"daisuso/store/storetest"
)

// clock is a test's injected now, moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestWaitingRequestsAreServedWhenCapacityAppears: a request waiting in
// the queue is matched when a mentor in reach registers, resumes or raises
// their capacity, oldest first; nobody has to run a batch.
func TestWaitingRequestsAreServedWhenCapacityAppears(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	s := New(Config{DB: storetest.Mongo(t), Now: c.now})
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(15, 16))
	home := cellNear(r, 0)
	var ids []string
	for i := range 7 {
		c.t = c.t.Add(time.Minute)
		out, err := s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: fmt.Sprintf("hh%d", i), Cell: cellNear(r, 1), Learners: 1, Language: "vi", RadiusKm: 2})
		if err != nil || out.State != StateWaiting {
			t.Fatalf("request %d: %+v %v", i, out, err)
		}
		ids = append(ids, out.Request.ID)
	}
	served := func() []string {
		as, err := s.Mentees(ctx, "mai")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, id := range ids {
			for _, a := range as {
				if a.RequestID == id {
					out = append(out, id)
				}
			}
		}
		return out
	}
	// Registers paused: nobody is served.
	mai := Mentor{ID: "mai", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 5, Languages: []string{"vi"}, Paused: true, PausedAt: c.t}
	if err := s.SaveMentor(ctx, mai); err != nil {
		t.Fatal(err)
	}
	if got := served(); len(got) != 0 {
		t.Fatalf("a paused mentor was given %v", got)
	}
	// Resumes: the five oldest.
	mai.Paused, mai.PausedAt = false, time.Time{}
	if err := s.SaveMentor(ctx, mai); err != nil {
		t.Fatal(err)
	}
	if got := served(); len(got) != 5 || got[0] != ids[0] || got[4] != ids[4] {
		t.Fatalf("after resuming: %v, want the five oldest of %v", got, ids)
	}
	// Raises her capacity: the rest.
	mai.Capacity = 7
	if err := s.SaveMentor(ctx, mai); err != nil {
		t.Fatal(err)
	}
	if got := served(); len(got) != 7 {
		t.Fatalf("after raising capacity: %v", got)
	}
	q, err := s.Queue(ctx, []string{"cm_x"})
	if err != nil || len(q) != 0 {
		t.Fatalf("queue %v (%v), want empty", q, err)
	}
}

// TestOverdueRequestsGoUpOnce and the release of a long-paused mentor's
// learners, both driven by the injected clock.
func TestOverdueRequestsGoUpOnceAndPausesRelease(t *testing.T) {
	ctx := context.Background()
	c := &clock{time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	s := New(Config{DB: storetest.Mongo(t), Now: c.now})
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(17, 18))
	home := cellNear(r, 0)
	waiting, err := s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: "far", Cell: cellNear(r, 1), Learners: 1, Language: "hmn", LanguageRequired: true, RadiusKm: 2})
	if err != nil || waiting.State != StateWaiting {
		t.Fatalf("%+v %v", waiting, err)
	}
	if err := s.SaveMentor(ctx, Mentor{ID: "mai", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 5, Languages: []string{"vi"}}); err != nil {
		t.Fatal(err)
	}
	served, err := s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: "near", Cell: cellNear(r, 1), Learners: 1, Language: "vi", RadiusKm: 2})
	if err != nil || served.State != StateMatched {
		t.Fatalf("%+v %v", served, err)
	}

	c.t = c.t.Add(6 * 24 * time.Hour)
	if up, err := s.Overdue(ctx); err != nil || len(up) != 0 {
		t.Fatalf("after 6 days: %v %v", up, err)
	}
	c.t = c.t.Add(2 * 24 * time.Hour)
	up, err := s.Overdue(ctx)
	if err != nil || len(up) != 1 || up[0].ID != waiting.Request.ID {
		t.Fatalf("after 8 days: %v %v, want only the waiting request", up, err)
	}
	if again, err := s.Overdue(ctx); err != nil || len(again) != 0 {
		t.Fatalf("a second time: %v %v", again, err)
	}

	// Mai pauses; 14 days on her learner is still hers, past that released.
	if err := s.SaveMentor(ctx, Mentor{ID: "mai", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 5, Languages: []string{"vi"}, Paused: true, PausedAt: c.t}); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(PauseRelease - time.Hour)
	if n, err := s.ReleasePaused(ctx); err != nil || n != 0 {
		t.Fatalf("before the pause lasted long enough: %d %v", n, err)
	}
	c.t = c.t.Add(2 * time.Hour)
	if n, err := s.ReleasePaused(ctx); err != nil || n != 1 {
		t.Fatalf("after: %d %v", n, err)
	}
	if out, err := s.Outcome(ctx, served.Request.ID); err != nil || out.State != StateWaiting {
		t.Fatalf("the released learner: %+v %v", out, err)
	}
}
