package matching

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestProposeInTheBackground: a run is stored as computing at once, solved
// in the background, and cannot be applied before it is ready.
func TestProposeInTheBackground(t *testing.T) {
	ctx := context.Background()
	s := New(Config{DB: storetest.Mongo(t)})
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	home := cellNear(r, 0)
	for i := range 3 {
		out, err := s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: fmt.Sprintf("hh%d", i), Cell: cellNear(r, 1), Learners: 1, Language: "vi", RadiusKm: 2})
		if err != nil || out.State != StateWaiting {
			t.Fatalf("request %d: %v %v", i, out.State, err)
		}
	}
	// Into the index without SaveMentor, which would serve the waiting
	// requests at once (ServeWaiting): the batch has them to solve.
	if err := s.st.upsertMentor(ctx, Mentor{ID: "m1", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 10, Languages: []string{"vi"}}); err != nil {
		t.Fatal(err)
	}
	run, err := s.Propose(ctx, Area{CommuneIDs: []string{"cm_x"}}, "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for run.Status == RunComputing && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		if run, err = s.Run(ctx, run.ID); err != nil {
			t.Fatal(err)
		}
	}
	if run.Status != RunProposed || run.Summary.ServedLearners != 3 || len(run.Pairs) != 3 {
		t.Fatalf("run %+v", run)
	}
	// A run still computing cannot be applied.
	pending := Run{ID: "run_pending", Area: Area{CommuneIDs: []string{"cm_x"}}, Status: RunComputing, CreatedAt: time.Now()}
	if err := s.st.insertRun(ctx, pending); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx, "run_pending", "admin"); !errors.Is(err, ErrNotReady) {
		t.Fatalf("apply of a computing run: %v", err)
	}
	applied, err := s.Apply(ctx, run.ID, "admin")
	if err != nil || applied.Applied != 3 {
		t.Fatalf("apply: %+v %v", applied, err)
	}
}

// TestSweepSlots: slots a reservation took and never wrote an assignment
// for are freed once older than the grace; slots of an assignment, and
// young ones, stay.
func TestSweepSlots(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := New(Config{DB: storetest.Mongo(t), Now: func() time.Time { return now }})
	ctx := context.Background()
	take := func(mentor string, i int, req string, at time.Time) {
		if ok, err := s.st.takeSlots(ctx, mentor, []int{i}, req, at); err != nil || !ok[0] {
			t.Fatalf("take %s:%d: %v %v", mentor, i, ok, err)
		}
	}
	take("m1", 0, "rq_kept", now.Add(-time.Hour))
	take("m1", 1, "rq_kept", now.Add(-time.Hour))
	if err := s.st.insertAssignment(ctx, Assignment{RequestID: "rq_kept", MentorID: "m1", Learners: 2, Slots: []int{0, 1}, CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	take("m1", 2, "rq_dead", now.Add(-time.Hour))    // died before its assignment
	take("m2", 0, "rq_kept", now.Add(-time.Hour))    // a slot of another mentor than the assignment's
	take("m1", 3, "rq_young", now.Add(-time.Minute)) // may still be writing its assignment
	n, err := s.SweepSlots(ctx, 10*time.Minute)
	if err != nil || n != 2 {
		t.Fatalf("swept %d (%v), want 2", n, err)
	}
	used, err := s.st.usedSlots(ctx, []string{"m1", "m2"})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(used["m1"])
	if !slices.Equal(used["m1"], []int{0, 1, 3}) || len(used["m2"]) != 0 {
		t.Fatalf("slots in use after the sweep: %v", used)
	}
}

// TestRunSummaryCountsTheAreasMentors: mentors of a neighbouring commune
// may serve the area's requests, but the summary's mentor figures (under
// five, slots missing) are about the area's own.
func TestRunSummaryCountsTheAreasMentors(t *testing.T) {
	ctx := context.Background()
	s := New(Config{DB: storetest.Mongo(t)})
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(19, 20))
	for i, commune := range []string{"cm_x", "cm_y", "cm_y", "cm_y"} {
		if err := s.SaveMentor(ctx, Mentor{ID: fmt.Sprintf("m%d", i), CommuneID: commune, Cell: cellNear(r, 1), RadiusKm: 5, Capacity: 10, Languages: []string{"vi", "hmn"}}); err != nil {
			t.Fatal(err)
		}
	}
	// Requests nobody speaks to wait, with every mentor in reach.
	for i := range 2 {
		out, err := s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: fmt.Sprintf("hh%d", i), Cell: cellNear(r, 1), Learners: 1, Language: "khm", LanguageRequired: true, RadiusKm: 2})
		if err != nil || out.State != StateWaiting {
			t.Fatalf("%+v %v", out, err)
		}
	}
	run, err := s.Propose(ctx, Area{CommuneIDs: []string{"cm_x"}}, "admin", 0)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); run.Status == RunComputing && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if run, err = s.Run(ctx, run.ID); err != nil {
			t.Fatal(err)
		}
	}
	if run.Summary.Mentors != 1 || run.Summary.MentorsUnderQuota != 1 {
		t.Fatalf("summary over cm_x: %+v, want its one mentor", run.Summary)
	}
}
