package gamify

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// The rebuild's adding up (units looked up once, periods numbered by day,
// national boards found by dense slices) comes to the same sums and names
// as adding each entry to each of its boards one by one: volunteers who
// move between units, entries of two campaigns, erased volunteers, units
// without a province or commune code, names that change, and enough
// volunteers that the national boards turn dense.
func TestAggregateMatchesPlainSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 0))
	start := time.Date(2026, 9, 1, 0, 0, 0, 0, Vietnam)
	unitOf := func(u int) Who {
		w := Who{BranchID: fmt.Sprintf("b%d", u), BranchName: fmt.Sprintf("Chi đoàn %d", u), CommuneID: fmt.Sprintf("c%d", u/3),
			CommuneName: "Xã", ProvinceCode: fmt.Sprintf("%02d", u%4), CommuneCode: fmt.Sprintf("%05d", u/3)}
		switch u % 7 {
		case 5:
			w.ProvinceCode = ""
		case 6:
			w.CommuneCode, w.CommuneID = "", ""
		}
		return w
	}
	const volunteers, entries = 6000, 20_000
	want := map[boardID]map[string]int64{}
	type named struct {
		name string
		at   time.Time
	}
	wantNames := map[string]map[string]named{}
	agg := newAggregate()
	for i := range entries {
		v := rng.IntN(volunteers)
		w := unitOf(v % 40)
		switch rng.IntN(20) {
		case 0, 1: // moved
			w = unitOf(rng.IntN(40))
		case 2: // the same branch and commune under another province code
			w.ProvinceCode = "99"
		}
		w.VolunteerID, w.Name = fmt.Sprintf("v%d", v), fmt.Sprintf("Tên %d", rng.IntN(3))
		if rng.IntN(50) == 0 {
			w.VolunteerID, w.Name = "", ""
		}
		e := Entry{ID: fmt.Sprint(i), At: start.Add(time.Duration(rng.IntN(90*24)) * time.Hour), Who: w,
			Credits: []Credit{{Campaign: AllTime, Points: 1 + rng.IntN(20)}}}
		if rng.IntN(3) == 0 {
			e.Credits = append(e.Credits, Credit{Campaign: "c2", Points: 5})
		}
		agg.add(e)
		for _, tg := range targets(e.Who) {
			if name := tg.name(e.Who); name != "" {
				if wantNames[tg.board] == nil {
					wantNames[tg.board] = map[string]named{}
				}
				if old, ok := wantNames[tg.board][tg.member]; !ok || !e.At.Before(old.at) {
					wantNames[tg.board][tg.member] = named{name, e.At}
				}
			}
			for _, c := range e.Credits {
				for _, scope := range tg.scopes {
					for _, per := range periodsOf(e.At) {
						id := boardID{c.Campaign, tg.board, scope, per}
						if want[id] == nil {
							want[id] = map[string]int64{}
						}
						want[id][tg.member] += int64(c.Points)
					}
				}
			}
		}
	}
	if len(agg.boards) != len(want) {
		t.Fatalf("%d boards, want %d", len(agg.boards), len(want))
	}
	dense := 0
	for id, bs := range agg.boards {
		if bs.dense != nil {
			dense++
		}
		got := map[string]int64{}
		for _, s := range bs.sums {
			got[agg.members[s.member].(string)] += s.points
		}
		if len(got) != len(bs.sums) || len(got) != len(want[id]) {
			t.Fatalf("%v: %d sums for %d members, want %d", id, len(bs.sums), len(got), len(want[id]))
		}
		for m, p := range want[id] {
			if got[m] != p {
				t.Fatalf("%v %s: %d, want %d", id, m, got[m], p)
			}
		}
	}
	if dense == 0 {
		t.Fatal("no board turned dense: the test does not cover it")
	}
	for board, ns := range wantNames {
		bn := agg.names[board]
		if bn == nil || len(bn.names) != len(ns) {
			t.Fatalf("%s: names %v, want %d", board, bn, len(ns))
		}
		for id, n := range bn.names {
			if w := ns[agg.members[id].(string)]; w.name != n.name {
				t.Fatalf("%s %v: name %q, want %q", board, agg.members[id], n.name, w.name)
			}
		}
	}
}
