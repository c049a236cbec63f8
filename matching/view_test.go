package matching

import (
	"context"
	"slices"
	"testing"
	"time"

	"daisuso/geo"
	"daisuso/store/storetest"
)

// twoInstances returns two services on one fresh database; b's view
// trusts what it read for an hour.
func twoInstances(t *testing.T) (a, b *Service) {
	db := storetest.Mongo(t)
	a, b = New(Config{DB: db}), New(Config{DB: db})
	b.st.view.ttl, b.st.view.slotsTTL = time.Hour, time.Hour
	if err := a.EnsureIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// TestViewSeesOtherInstances: an instance whose view of the mentors and
// slots is old (its ttl is an hour here, so nothing it read expires)
// still never gives a learner to a mentor another instance paused, and
// still finds the capacity another instance added or freed and the
// mentor it added, before it would call a request unserved.
func TestViewSeesOtherInstances(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstances(t)
	home := geo.Point{Lat: 21.0, Lng: 105.8}
	at := func(km float64) geo.Cell {
		return geo.CellAt(geo.Point{Lat: home.Lat + km/110.57, Lng: home.Lng}, geo.HomeResolution)
	}
	m1 := Mentor{ID: "m1", CommuneID: "cm_x", Cell: at(0.3), RadiusKm: 5, Capacity: 2, Languages: []string{"vi"}}
	m2 := Mentor{ID: "m2", CommuneID: "cm_x", Cell: at(1), RadiusKm: 5, Capacity: 2, Languages: []string{"vi"}}
	for _, m := range []Mentor{m1, m2} {
		if err := a.SaveMentor(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	submit := func(household, want string) {
		t.Helper()
		out, err := b.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: household, Cell: at(0), Learners: 1, Language: "vi", RadiusKm: 2})
		if err != nil {
			t.Fatalf("%s: %v", household, err)
		}
		got := ""
		if out.Assignment != nil {
			got = out.Assignment.MentorID
		}
		if got != want {
			t.Fatalf("%s went to %q (%s), want %q", household, got, out.State, want)
		}
	}
	submit("hh1", "m1") // the nearest; b now holds both mentors and their slots

	m1.Paused = true
	if err := a.SaveMentor(ctx, m1); err != nil {
		t.Fatal(err)
	}
	submit("hh2", "m2") // b's view still has m1 active, with a free slot
	submit("hh3", "m2") // m2 is full now

	m2.Capacity = 3
	if err := a.SaveMentor(ctx, m2); err != nil {
		t.Fatal(err)
	}
	submit("hh4", "m2") // b's view has m2 full at two
	if err := a.ErasePerson(ctx, "household", "hh3", ""); err != nil {
		t.Fatal(err)
	}
	submit("hh5", "m2") // b's view has m2's three slots in use
	if err := a.SaveMentor(ctx, Mentor{ID: "m3", CommuneID: "cm_x", Cell: at(1.5), RadiusKm: 5, Capacity: 2, Languages: []string{"vi"}}); err != nil {
		t.Fatal(err)
	}
	submit("hh6", "m3") // b's view has no m3
	used, err := a.st.usedSlots(ctx, []string{"m1", "m2", "m3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(used["m1"]) != 1 || len(used["m2"]) != 3 || len(used["m3"]) != 1 {
		t.Fatalf("slots in use: %v", used)
	}
}

// TestViewHoldsSlotsBeingTaken: a slot one request here is taking counts
// as in use for the others until it is settled, and a settled take is
// in use for good.
func TestViewHoldsSlotsBeingTaken(t *testing.T) {
	v := newView(time.Hour, time.Hour)
	now := time.Now()
	used := map[string][]int{"m1": {0}}
	v.putUsed([]string{"m1"}, used, 0, now)
	if !v.hold("m1", 1) || v.hold("m1", 1) {
		t.Fatal("slot 1 held twice")
	}
	got := map[string][]int{}
	if missing := v.usedOf([]string{"m1", "m2"}, got, now); !slices.Equal(missing, []string{"m2"}) {
		t.Fatalf("missing %v", missing)
	}
	if !slices.Equal(got["m1"], []int{0, 1}) {
		t.Fatalf("m1 in use while slot 1 is held: %v", got["m1"])
	}
	v.settle("m1", 1, false) // lost to nobody: free again
	v.usedOf([]string{"m1"}, got, now)
	if !slices.Equal(got["m1"], []int{0}) {
		t.Fatalf("m1 in use after a failed take: %v", got["m1"])
	}
	v.hold("m1", 2)
	v.settle("m1", 2, true)
	v.usedOf([]string{"m1"}, got, now)
	if !slices.Equal(got["m1"], []int{0, 2}) {
		t.Fatalf("m1 in use after a take: %v", got["m1"])
	}
	v.forgetSlots()
	if missing := v.usedOf([]string{"m1"}, got, now); len(missing) != 1 {
		t.Fatal("a release here did not empty the view of slots")
	}
}

// TestReserveTakesTheNextFreeSlots: a household's learners go in one
// insert; the slots of it another instance got first are refused one by
// one and the next free ones taken, and nothing is over-assigned.
func TestReserveTakesTheNextFreeSlots(t *testing.T) {
	ctx := context.Background()
	a, b := twoInstances(t)
	home := geo.CellAt(geo.Point{Lat: 21.0, Lng: 105.8}, geo.HomeResolution)
	if err := a.SaveMentor(ctx, Mentor{ID: "m1", CommuneID: "cm_x", Cell: home, RadiusKm: 5, Capacity: 5, Languages: []string{"vi"}}); err != nil {
		t.Fatal(err)
	}
	ask := func(s *Service, household string, learners int) Outcome {
		t.Helper()
		out, err := s.Submit(ctx, Request{CommuneID: "cm_x", HouseholdID: household, Cell: home, Learners: learners, Language: "vi", RadiusKm: 2})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := ask(b, "hh0", 1); out.Assignment == nil { // b now holds m1 with four slots free
		t.Fatalf("hh0: %s", out.State)
	}
	if out := ask(a, "hh1", 2); out.Assignment == nil || !slices.Equal(out.Assignment.Slots, []int{1, 2}) {
		t.Fatalf("hh1: %+v", out.Assignment)
	}
	out := ask(b, "hh2", 2) // b tries slots 1 and 2, both refused, then 3 and 4
	if out.Assignment == nil || !slices.Equal(out.Assignment.Slots, []int{3, 4}) {
		t.Fatalf("hh2: %s %+v", out.State, out.Assignment)
	}
	if out := ask(b, "hh3", 1); out.State != StateWaiting {
		t.Fatalf("hh3 on a full mentor: %s %+v", out.State, out.Assignment)
	}
	used, err := a.st.usedSlots(ctx, []string{"m1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(used["m1"]) != 5 {
		t.Fatalf("slots in use: %v", used)
	}
}
