package matching

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"daisuso/geo"
)

// mustSolve is Solve, failing the test on an error.
func mustSolve(t testing.TB, reqs []Request, ms []Mentor, used map[string]int) ([]Pair, Summary) {
	t.Helper()
	pairs, sum, err := Solve(reqs, ms, used)
	if err != nil {
		t.Fatal(err)
	}
	return pairs, sum
}

// solved is the summary of SolveWithin, failing the benchmark or test on
// an error.
func solved(t testing.TB, reqs []Request, ms []Mentor, used map[string]int, tol float64) Summary {
	t.Helper()
	_, sum, err := SolveWithin(reqs, ms, used, tol)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func cellNear(r *rand.Rand, spreadKm float64) geo.Cell {
	p := geo.Point{Lat: 21.0 + (r.Float64()-0.5)*spreadKm/110.57, Lng: 105.8 + (r.Float64()-0.5)*spreadKm/103.9}
	c, err := geo.CellOf(p)
	if err != nil {
		panic(err)
	}
	return c
}

// objective is the rule as a comparable triple: learners served (more is
// better), missing slots (fewer), metres (fewer).
type objective struct{ served, missing, metres int }

func (a objective) better(b objective) bool {
	if a.served != b.served {
		return a.served > b.served
	}
	if a.missing != b.missing {
		return a.missing < b.missing
	}
	return a.metres < b.metres
}

func evaluate(reqs []Request, ms []Mentor, used map[string]int, pick []int) (objective, bool) {
	load := map[int]int{}
	var o objective
	for i, j := range pick {
		if j < 0 {
			continue
		}
		d := reqs[i].Cell.DistanceKm(ms[j].Cell)
		if d > ms[j].RadiusKm || ms[j].Paused {
			return o, false
		}
		load[j] += reqs[i].Learners
		o.served += reqs[i].Learners
		o.metres += int(math.Round(d*1000)) * reqs[i].Learners
	}
	for j, m := range ms {
		if used[m.ID]+load[j] > m.Capacity {
			return o, false
		}
		if !m.Paused {
			o.missing += max(0, Quota-used[m.ID]-load[j])
		}
	}
	return o, true
}

// TestSolveIsOptimal compares Solve with an exhaustive search of every
// assignment on 600 small random instances of single-learner requests:
// half spread over 6 km, half within 400 m, where requests and mentors
// share cells and go to the solver as groups (in reach of each other or
// not, by the radii).
func TestSolveIsOptimal(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	grouped := 0
	for n := range 600 {
		spread := []float64{6, 0.4}[n%2]
		nReq, nM := 2+r.IntN(6), 1+r.IntN(3)
		var reqs []Request
		for i := range nReq {
			reqs = append(reqs, Request{ID: fmt.Sprint("r", i), Cell: cellNear(r, spread), Learners: 1})
		}
		var ms []Mentor
		used := map[string]int{}
		for j := range nM {
			m := Mentor{ID: fmt.Sprint("m", j), Cell: cellNear(r, spread), RadiusKm: []float64{0.2, 1, 2, 3, 5}[r.IntN(5)], Capacity: 5 + r.IntN(3)}
			if j > 0 && r.IntN(2) == 0 {
				m.Cell, m.RadiusKm = ms[0].Cell, ms[0].RadiusKm // with other room in use
			}
			used[m.ID] = r.IntN(m.Capacity + 1)
			ms = append(ms, m)
		}
		// Exhaustive: each request to no one or to one of the mentors.
		best, found := objective{}, false
		pick := make([]int, nReq)
		var walk func(i int)
		walk = func(i int) {
			if i == nReq {
				if o, ok := evaluate(reqs, ms, used, pick); ok && (!found || o.better(best)) {
					best, found = o, true
				}
				return
			}
			for j := -1; j < nM; j++ {
				pick[i] = j
				walk(i + 1)
			}
		}
		walk(0)
		if p := group(reqs, ms, used); len(p.rg) < len(reqs) || len(p.mg) < len(ms) {
			grouped++
		}
		pairs, sum := mustSolve(t, reqs, ms, used)
		idx := map[string]int{}
		for j, m := range ms {
			idx[m.ID] = j
		}
		got := make([]int, nReq)
		for i := range got {
			got[i] = -1
		}
		for _, p := range pairs {
			for i, rq := range reqs {
				if rq.ID == p.RequestID {
					got[i] = idx[p.MentorID]
				}
			}
		}
		o, ok := evaluate(reqs, ms, used, got)
		if !ok {
			t.Fatalf("instance %d: Solve gave an infeasible assignment %v", n, got)
		}
		if o != best {
			t.Fatalf("instance %d: Solve %+v, exhaustive optimum %+v", n, o, best)
		}
		if sum.ServedLearners != o.served || sum.MissingSlots != o.missing {
			t.Fatalf("instance %d: summary %+v disagrees with %+v", n, sum, o)
		}
	}
	if grouped < 100 {
		t.Fatalf("only %d of 600 instances had requests or mentors grouped", grouped)
	}
}

func TestSolveRules(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	home := cellNear(r, 0)
	t.Run("language required", func(t *testing.T) {
		reqs := []Request{{ID: "a", Cell: home, Learners: 1, Language: "hmn", LanguageRequired: true}}
		ms := []Mentor{{ID: "vi", Cell: home, RadiusKm: 2, Capacity: 10, Languages: []string{"vi"}}}
		pairs, sum := mustSolve(t, reqs, ms, nil)
		if len(pairs) != 0 || sum.UnservedLearners[ReasonNoLanguage] != 1 {
			t.Fatalf("%v %+v", pairs, sum)
		}
	})
	t.Run("a household goes whole to one mentor", func(t *testing.T) {
		reqs := []Request{{ID: "family", Cell: home, Learners: 4}}
		ms := []Mentor{{ID: "a", Cell: home, RadiusKm: 2, Capacity: 5}, {ID: "b", Cell: home, RadiusKm: 2, Capacity: 5}}
		pairs, _ := mustSolve(t, reqs, ms, map[string]int{"a": 3, "b": 0})
		if len(pairs) != 1 || pairs[0].MentorID != "b" || pairs[0].Learners != 4 {
			t.Fatalf("%+v", pairs)
		}
	})
	t.Run("a group's mentors share out households whole", func(t *testing.T) {
		reqs := []Request{{ID: "h1", Cell: home, Learners: 3}, {ID: "h2", Cell: home, Learners: 3}}
		ms := []Mentor{{ID: "a", Cell: home, RadiusKm: 2, Capacity: 4}, {ID: "b", Cell: home, RadiusKm: 2, Capacity: 4}}
		pairs, sum := mustSolve(t, reqs, ms, nil)
		if len(pairs) != 2 || pairs[0].MentorID == pairs[1].MentorID || sum.ServedLearners != 6 || sum.MissingSlots != 4 {
			t.Fatalf("%+v %+v", pairs, sum)
		}
	})
	t.Run("a household no mentor of the group has room for", func(t *testing.T) {
		reqs := []Request{{ID: "h", Cell: home, Learners: 4}}
		ms := []Mentor{{ID: "a", Cell: home, RadiusKm: 2, Capacity: 3}, {ID: "b", Cell: home, RadiusKm: 2, Capacity: 3}}
		pairs, sum := mustSolve(t, reqs, ms, nil)
		if len(pairs) != 0 || sum.UnservedLearners[ReasonAllFull] != 4 || sum.MissingSlots != 10 {
			t.Fatalf("%+v %+v", pairs, sum)
		}
	})
	t.Run("paused mentors take no one", func(t *testing.T) {
		reqs := []Request{{ID: "a", Cell: home, Learners: 1}}
		ms := []Mentor{{ID: "p", Cell: home, RadiusKm: 2, Capacity: 10, Paused: true}}
		if pairs, sum := mustSolve(t, reqs, ms, nil); len(pairs) != 0 || sum.Mentors != 0 {
			t.Fatalf("%v %+v", pairs, sum)
		}
	})
}

// TestSolveMatchesReference compares Solve with the successive shortest
// paths solver on random instances large enough that the network starts
// without most pairs in reach (so pricing has to bring them in): the same
// learners served, slots missing and metres; and SolveWithin at 5% with
// the same learners and slots, within the bound it reports.
func TestSolveMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	early := 0
	for n := range 40 {
		var in instance
		switch n % 4 {
		case 0, 1:
			in = uniform(uint64(n), 40+r.IntN(60), 200+r.IntN(400), 3+r.Float64()*6)
		default:
			in = clustered(uint64(n), 40+r.IntN(60), 200+r.IntN(400), 4+r.Float64()*6)
		}
		used := map[string]int{}
		for j := range in.mentors {
			m := &in.mentors[j]
			m.Capacity = 3 + r.IntN(10)
			used[m.ID] = r.IntN(m.Capacity + 1)
			m.Paused = r.IntN(20) == 0
			if r.IntN(10) == 0 {
				m.Languages = append(m.Languages, "hmn")
			}
		}
		for i := range in.reqs {
			if r.IntN(15) == 0 {
				in.reqs[i].Language, in.reqs[i].LanguageRequired = "hmn", true
			}
		}
		metres := func(pairs []Pair) (m int) {
			for _, p := range pairs {
				m += int(math.Round(p.DistanceKm*1000)) * p.Learners
			}
			return m
		}
		gotPairs, got := mustSolve(t, in.reqs, in.mentors, used)
		wantPairs, want := solveSSP(in.reqs, in.mentors, used)
		if got.ServedLearners != want.ServedLearners || got.MissingSlots != want.MissingSlots || metres(gotPairs) != metres(wantPairs) {
			t.Fatalf("instance %d (%s, %d requests, %d mentors): served %d, missing %d, %d m; reference %d, %d, %d m",
				n, in.name, len(in.reqs), len(in.mentors), got.ServedLearners, got.MissingSlots, metres(gotPairs),
				want.ServedLearners, want.MissingSlots, metres(wantPairs))
		}
		// Stopped early at 5%: the same served and missing, and no farther
		// from the optimum than the bound it reports, nor than 5%.
		const tol = 0.05
		nearPairs, near, err := SolveWithin(in.reqs, in.mentors, used, tol)
		if err != nil {
			t.Fatal(err)
		}
		over := metres(nearPairs) - metres(wantPairs)
		if near.ServedLearners != want.ServedLearners || near.MissingSlots != want.MissingSlots ||
			over < 0 || float64(over) > near.GapBoundKm*1000+0.5 || float64(over) > tol*float64(metres(nearPairs)) {
			t.Fatalf("instance %d (%s) within %.0f%%: served %d, missing %d, %d m over the optimum, bound %.0f m; reference %d, %d",
				n, in.name, 100*tol, near.ServedLearners, near.MissingSlots, over, near.GapBoundKm*1000, want.ServedLearners, want.MissingSlots)
		}
		if near.GapBoundKm > 0 {
			early++
		}
	}
	if early == 0 {
		t.Fatal("no instance stopped early: SolveWithin's early stop was not tried")
	}
	t.Logf("%d of 40 instances stopped early within 5%%", early)
}
