package matching

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"daisuso/geo"
	"daisuso/store/storetest"
)

// TestOneOpenRequestPerLearner: a member in an open request is in no other.
// Asking again for the same learners answers the open request and writes
// nothing; asking for some of them and others is refused naming it; other
// members of the household can ask; erasure frees them.
func TestOneOpenRequestPerLearner(t *testing.T) {
	ctx := context.Background()
	s := New(Config{DB: storetest.Mongo(t)})
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	home := cellNear(r, 0)
	if err := s.SaveMentor(ctx, Mentor{ID: "m1", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 5, Languages: []string{"vi"}}); err != nil {
		t.Fatal(err)
	}
	ask := func(members ...int) (Outcome, error) {
		return s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: "hh1", Cell: home, Members: members, Language: "vi", RadiusKm: 2})
	}
	first, err := ask(0)
	if err != nil || first.State != StateMatched || first.Existing {
		t.Fatalf("first request: %+v %v", first, err)
	}
	for range 5 {
		again, err := ask(0)
		if err != nil || !again.Existing || again.Request.ID != first.Request.ID || again.State != StateMatched {
			t.Fatalf("asking again: %+v %v", again, err)
		}
	}
	_, err = ask(0, 1)
	var open *OpenRequestError
	if !errors.As(err, &open) || open.RequestID != first.Request.ID || !slices.Equal(open.Members, []int{0}) {
		t.Fatalf("overlapping request: %v", err)
	}
	second, err := ask(1)
	if err != nil || second.Existing || second.Request.ID == first.Request.ID {
		t.Fatalf("another member: %+v %v", second, err)
	}
	used, err := s.st.usedSlots(ctx, []string{"m1"})
	if err != nil || len(used["m1"]) != 2 {
		t.Fatalf("the mentor holds %v slots (%v), want 2: one per learner", used["m1"], err)
	}
	reqs, err := s.st.findRequests(ctx, where{Households: []string{"hh1"}})
	if err != nil || len(reqs) != 2 {
		t.Fatalf("%d requests stored (%v), want 2", len(reqs), err)
	}
	if err := s.ErasePerson(ctx, "household", "hh1", ""); err != nil {
		t.Fatal(err)
	}
	if out, err := ask(0, 1); err != nil || out.Existing {
		t.Fatalf("after erasure: %+v %v", out, err)
	}
}

// TestConcurrentRequestsForOneLearner: of 20 requests for the same member
// sent at once, one is written; every other answers it or names it.
func TestConcurrentRequestsForOneLearner(t *testing.T) {
	ctx := context.Background()
	s := New(Config{DB: storetest.Mongo(t)})
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	home := cellNear(rand.New(rand.NewPCG(9, 10)), 0)
	if err := s.SaveMentor(ctx, Mentor{ID: "m1", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 20, Languages: []string{"vi"}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ids := make([]string, 20)
	errs := make([]error, 20)
	for i := range 20 {
		wg.Go(func() {
			// Half ask for member 0 alone, half for 0 and 1.
			members := []int{0}
			if i%2 == 1 {
				members = []int{0, 1}
			}
			out, err := s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: "hh1", Cell: home, Members: members, Language: "vi", RadiusKm: 2})
			ids[i], errs[i] = out.Request.ID, err
		})
	}
	wg.Wait()
	reqs, err := s.st.findRequests(ctx, where{Households: []string{"hh1"}})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("%d requests stored (%v), want 1", len(reqs), err)
	}
	for i := range 20 {
		var open *OpenRequestError
		switch {
		case errs[i] == nil && ids[i] == reqs[0].ID:
		case errors.As(errs[i], &open) && open.RequestID == reqs[0].ID:
		default:
			t.Errorf("request %d: id %q, %v; the open request is %s", i, ids[i], errs[i], reqs[0].ID)
		}
	}
	used, err := s.st.usedSlots(ctx, []string{"m1"})
	if err != nil || len(used["m1"]) != reqs[0].Learners {
		t.Fatalf("the mentor holds %v slots (%v), want %d", used["m1"], err, reqs[0].Learners)
	}
}

// TestClaimOfADeadTryIsTakenOver: a claim whose request was never written
// (the try died between the two writes) holds its member only for a while.
func TestClaimOfADeadTryIsTakenOver(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	s := New(Config{DB: storetest.Mongo(t), Now: func() time.Time { return now }})
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	home := cellNear(rand.New(rand.NewPCG(11, 12)), 0)
	if _, err := s.st.claimMember(ctx, "hh1", 0, "rq_dead", now); err != nil {
		t.Fatal(err)
	}
	req := Request{CommuneID: "cm_x", HouseholdID: "hh1", Cell: home, Members: []int{0}, Language: "vi", RadiusKm: 2}
	_, err := s.Submit(ctx, req)
	var open *OpenRequestError
	if !errors.As(err, &open) || open.RequestID != "rq_dead" {
		t.Fatalf("while the dead try may still be writing: %v", err)
	}
	now = now.Add(2 * claimGrace)
	out, err := s.Submit(ctx, req)
	if err != nil || out.Existing || out.Request.ID == "rq_dead" {
		t.Fatalf("after the grace: %+v %v", out, err)
	}
}

// TestMentorChangesKeepPromises: lowering capacity below the learners
// releases the newest assignments until the rest fit; a move out of reach
// releases every learner now beyond the mentor's radius; each release is
// told with its reason and its request is matched again (to another
// mentor in reach, or the queue).
func TestMentorChangesKeepPromises(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	s := New(Config{DB: storetest.Mongo(t), Now: func() time.Time { now = now.Add(time.Second); return now }})
	if err := s.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	var told []string
	s.OnReleased(func(_ context.Context, a Assignment, reason string) { told = append(told, a.RequestID+":"+reason) })
	r := rand.New(rand.NewPCG(13, 14))
	home := cellNear(r, 0)
	mai := Mentor{ID: "mai", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 10, Languages: []string{"vi"}}
	if err := s.SaveMentor(ctx, mai); err != nil {
		t.Fatal(err)
	}
	var reqs []string
	for i := range 7 {
		out, err := s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: fmt.Sprintf("hh%d", i), Cell: cellNear(r, 1), Learners: 1, Language: "vi", RadiusKm: 2})
		if err != nil || out.State != StateMatched {
			t.Fatalf("request %d: %+v %v", i, out, err)
		}
		reqs = append(reqs, out.Request.ID)
	}
	// Lan lives nearby with room for one.
	if err := s.SaveMentor(ctx, Mentor{ID: "lan", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 1, Languages: []string{"vi"}}); err != nil {
		t.Fatal(err)
	}
	mai.Capacity = 5
	if err := s.SaveMentor(ctx, mai); err != nil {
		t.Fatal(err)
	}
	kept, err := s.Mentees(ctx, "mai")
	if err != nil || len(kept) != 5 {
		t.Fatalf("mai keeps %d (%v), want 5", len(kept), err)
	}
	for _, a := range kept {
		if a.RequestID == reqs[5] || a.RequestID == reqs[6] {
			t.Fatalf("a newest assignment was kept: %v", a.RequestID)
		}
	}
	if !slices.Equal(told, []string{reqs[5] + ":" + ReleasedOverCapacity, reqs[6] + ":" + ReleasedOverCapacity}) {
		t.Fatalf("told %v", told)
	}
	states := map[string]int{}
	for _, id := range reqs[5:] {
		out, err := s.Outcome(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if out.Assignment != nil {
			states[out.Assignment.MentorID]++
		} else {
			states[out.State]++
		}
	}
	if states["lan"] != 1 || states[StateWaiting] != 1 {
		t.Fatalf("the released requests went to %v, want one to lan and one waiting", states)
	}

	// Mai moves 300 km south: none of hers is in reach.
	told = nil
	p := home.Center()
	far, err := geo.CellOf(geo.Point{Lat: p.Lat - 2.7, Lng: p.Lng})
	if err != nil {
		t.Fatal(err)
	}
	mai.Cell = far
	if err := s.SaveMentor(ctx, mai); err != nil {
		t.Fatal(err)
	}
	if left, err := s.Mentees(ctx, "mai"); err != nil || len(left) != 0 || len(told) != 5 {
		t.Fatalf("after the move mai keeps %d (%v), told %v", len(left), err, told)
	}
	for _, e := range told {
		if !strings.HasSuffix(e, ":"+ReleasedOutOfReach) {
			t.Fatalf("told %v", told)
		}
	}
}
