package matching

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"daisuso/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestProposeInTheBackground: a run is stored as computing at once, solved
// in the background, and cannot be applied before it is ready.
func TestProposeInTheBackground(t *testing.T) {
	ctx := context.Background()
	s := NewService(storetest.Mongo(t), nil)
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	home := cellNear(r, 0)
	for i := range 3 {
		out, err := s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: "hh", Cell: cellNear(r, 1), Learners: 1, Language: "vi", RadiusKm: 2})
		if err != nil || out.State != StateWaiting {
			t.Fatalf("request %d: %v %v", i, out.State, err)
		}
	}
	if err := s.SaveMentor(ctx, Mentor{ID: "m1", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 10, Languages: []string{"vi"}}); err != nil {
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
